"""Multi-layer perceptron used by the MLP estimators (Omnigrok §4, Golechha §3)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from grokkit.models._inputs import add_input_noise

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
}


def make_activation(name: str) -> nn.Module:
    """Return a fresh activation module for ``name`` (see ``ACTIVATIONS``)."""
    if name not in ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {', '.join(map(repr, ACTIVATIONS))}; got {name!r}."
        )
    return ACTIVATIONS[name]()


class MLP(nn.Sequential):
    r"""Fully connected network ``in -> hidden... -> out``.

    Layers are named so that per-layer measures read well: the linear maps
    are ``fc1 … fcK`` and the hidden nonlinearities ``act1 … act(K-1)``
    (the modules whose outputs are the hidden activations).

    Parameters
    ----------
    in_features, out_features : int
        Input and output widths.
    hidden_layer_sizes : sequence of int, default=(200, 200)
        Widths of the hidden layers; ``()`` gives a linear model.
    activation : {"relu", "tanh", "leaky_relu", "gelu"}, default="relu"
    dropout : float, default=0.0
        Dropout probability after every hidden activation (Golechha App. C
        shows that dropout removes the grokking delay).
    bias : bool, default=True
        Clauw et al. use hidden layers without biases.
    zero_last : bool, default=False
        Initialise the last layer at zero (Clauw et al. do this for α = 8), so
        that the network starts from a constant output.

    Attributes
    ----------
    input_noise_std : float
        σ of Gaussian noise :math:`\mathcal N(0, \sigma^2)` added to the inputs
        in training mode only (0: none). Every grokkit model has this attribute:
        it is how Tan & Huang's adaptive input noise (§3.2) reaches a model,
        set between epochs by :class:`grokkit.callbacks.InputNoise`.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden_layer_sizes: Sequence[int] = (200, 200),
        activation: str = "relu",
        dropout: float = 0.0,
        bias: bool = True,
        zero_last: bool = False,
    ) -> None:
        widths = [int(in_features), *map(int, hidden_layer_sizes), int(out_features)]
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        n_linear = len(widths) - 1
        for i in range(n_linear):
            layers[f"fc{i + 1}"] = nn.Linear(widths[i], widths[i + 1], bias=bias)
            if i < n_linear - 1:
                layers[f"act{i + 1}"] = make_activation(activation)
                if dropout > 0:
                    layers[f"dropout{i + 1}"] = nn.Dropout(dropout)
        super().__init__(layers)
        self.input_noise_std = 0.0
        if zero_last:
            last = layers[f"fc{n_linear}"]
            with torch.no_grad():
                last.weight.zero_()
                if last.bias is not None:
                    last.bias.zero_()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return super().forward(add_input_noise(X, self.input_noise_std, self.training))

    def hidden_modules(self) -> dict[str, nn.Module]:
        """The modules whose outputs are the hidden activations, by name."""
        return {name: m for name, m in self.named_children() if name.startswith("act")}
