"""skorch-based estimators with the scikit-learn API."""

from grokkit.estimators.base import GrokNet, TrainingDiverged
from grokkit.estimators.gcn import GrokGCNRegressor
from grokkit.estimators.lstm import GrokLSTMClassifier
from grokkit.estimators.mlp import GrokMLPClassifier, GrokMLPRegressor
from grokkit.estimators.modular import ModularMLPClassifier, ModularTransformer

__all__ = [
    "GrokGCNRegressor",
    "GrokLSTMClassifier",
    "GrokMLPClassifier",
    "GrokMLPRegressor",
    "GrokNet",
    "ModularMLPClassifier",
    "ModularTransformer",
    "TrainingDiverged",
]
