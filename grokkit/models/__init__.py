"""Plain PyTorch modules. Nothing here knows about skorch or scikit-learn.

Every model has an ``input_noise_std`` attribute (noise on its inputs or token
embeddings in training mode) and a ``hidden_modules()`` method naming the
modules whose outputs are its hidden activations.
"""

from grokkit.models.gcn import GCNNet, NNConv, NNConvNet, pack_graphs
from grokkit.models.init import parameter_norm, scale_parameters_
from grokkit.models.lstm import LSTMTextNet
from grokkit.models.masking import MaskedActivation, mask_neurons
from grokkit.models.mlp import MLP
from grokkit.models.onehot_mlp import OneHotPairMLP, onehot_pairs
from grokkit.models.transformer import ModularTransformerNet

__all__ = [
    "GCNNet",
    "LSTMTextNet",
    "MLP",
    "MaskedActivation",
    "ModularTransformerNet",
    "NNConv",
    "NNConvNet",
    "OneHotPairMLP",
    "mask_neurons",
    "onehot_pairs",
    "pack_graphs",
    "parameter_norm",
    "scale_parameters_",
]
