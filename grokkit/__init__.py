"""grokkit: the scikit-learn of delayed generalization.

Estimators that grok (Omnigrok's α and weight decay, norm-constrained and
degrokking runs), progress measures recorded into ``progress_``, and analyses
that fit over trained models.
"""

from grokkit.estimators import (
    GrokGCNRegressor,
    GrokLSTMClassifier,
    GrokMLPClassifier,
    GrokMLPRegressor,
    ModularMLPClassifier,
    ModularTransformer,
    TrainingDiverged,
)

__version__ = "0.1.0"

__all__ = [
    "GrokGCNRegressor",
    "GrokLSTMClassifier",
    "GrokMLPClassifier",
    "GrokMLPRegressor",
    "ModularMLPClassifier",
    "ModularTransformer",
    "TrainingDiverged",
    "__version__",
]
