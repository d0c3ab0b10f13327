"""Plain PyTorch modules. Nothing here knows about skorch or scikit-learn."""

from grokkit.models.init import parameter_norm, scale_parameters_
from grokkit.models.mlp import MLP

__all__ = ["MLP", "parameter_norm", "scale_parameters_"]
