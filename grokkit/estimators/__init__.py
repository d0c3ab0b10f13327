"""skorch-based estimators with the scikit-learn API."""

from grokkit.estimators.base import GrokNet, TrainingDiverged
from grokkit.estimators.mlp import GrokMLPClassifier, GrokMLPRegressor

__all__ = ["GrokMLPClassifier", "GrokMLPRegressor", "GrokNet", "TrainingDiverged"]
