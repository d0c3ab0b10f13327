"""grokkit: the scikit-learn of delayed generalization.

Estimators that grok (Omnigrok's α and weight decay, norm-constrained and
degrokking runs), progress measures recorded into ``progress_``, and analyses
that fit over trained models.

The estimators are imported on first use (PEP 562), so ``import grokkit`` and
the ``grokkit`` command's flag checks do not pay for importing torch and
skorch: a bad flag fails in milliseconds, not after seconds of imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_LAZY = {
    "GrokGCNRegressor": "grokkit.estimators",
    "GrokLSTMClassifier": "grokkit.estimators",
    "GrokMLPClassifier": "grokkit.estimators",
    "GrokMLPRegressor": "grokkit.estimators",
    "ModularMLPClassifier": "grokkit.estimators",
    "ModularTransformer": "grokkit.estimators",
    "TrainingDiverged": "grokkit.estimators",
    "Sweep": "grokkit.sweep",
}

__all__ = [
    "GrokGCNRegressor",
    "GrokLSTMClassifier",
    "GrokMLPClassifier",
    "GrokMLPRegressor",
    "ModularMLPClassifier",
    "ModularTransformer",
    "Sweep",
    "TrainingDiverged",
    "__version__",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from grokkit.estimators import (
        GrokGCNRegressor,
        GrokLSTMClassifier,
        GrokMLPClassifier,
        GrokMLPRegressor,
        ModularMLPClassifier,
        ModularTransformer,
        TrainingDiverged,
    )
    from grokkit.sweep import Sweep


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'grokkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
