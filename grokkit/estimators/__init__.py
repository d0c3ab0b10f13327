"""skorch-based estimators with the scikit-learn API."""

from grokkit.estimators.base import GrokNet, TrainingDiverged
from grokkit.estimators.mlp import GrokMLPClassifier, GrokMLPRegressor
from grokkit.estimators.modular import ModularMLPClassifier, ModularTransformer

__all__ = ["GrokMLPClassifier", "GrokMLPRegressor", "GrokNet", "ModularMLPClassifier",
           "ModularTransformer", "TrainingDiverged"]
