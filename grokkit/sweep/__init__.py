"""One sweep engine: runs over parameters × seeds, stacked into one batched model or through joblib.

>>> from grokkit import GrokMLPClassifier, Sweep
>>> sweep = Sweep(GrokMLPClassifier(alpha=8), {"weight_decay": [0.01, 0.1]}, seeds=3)  # doctest: +SKIP
>>> sweep.fit(X, y, eval_set=(X_test, y_test)).summary()                             # doctest: +SKIP
"""

from grokkit.stats import format_interval, seed_interval
from grokkit.sweep.engine import Sweep

__all__ = ["Sweep", "format_interval", "seed_interval"]
