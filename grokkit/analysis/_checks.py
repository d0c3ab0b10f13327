"""Input checks shared by the analyzers that train a grid of runs (ReducedLandscape, TimeToGeneralize,
MessinessLandscape): the estimator, the grids, ``n_jobs``, the training pool, and the one warning that
lists diverged grid points."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from grokkit._interrupts import shown
from grokkit._validation import check_dense


def check_grok_estimator(name: str, estimator: Any) -> None:
    """A grokkit estimator: one with the shared ``alpha``/``constrain_norm``/``weight_decay`` params."""
    needed = {"alpha", "constrain_norm", "weight_decay", "random_state", "measures"}
    is_instance = hasattr(estimator, "get_params") and not isinstance(estimator, type)
    params = estimator.get_params(deep=False) if is_instance else {}
    if not needed <= set(params):
        raise TypeError(
            f"{name} must be an (unfitted) grokkit estimator instance, e.g. GrokMLPClassifier(...), with "
            f"the parameters {sorted(needed)}; got {estimator!r}."
        )


def check_positive_grid(name: str, values: Any, allow_zero: bool = False) -> np.ndarray:
    """A non-empty 1-d array of positive (or ``allow_zero``: non-negative), finite, distinct floats."""
    try:
        grid = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a sequence of positive floats; got {values!r}.") from exc
    grid = np.atleast_1d(grid)
    bad = grid < 0 if allow_zero else grid <= 0
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(bad):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a non-empty 1-d sequence of {kind} finite floats; "
                         f"got {values!r}.")
    if len(np.unique(grid)) != len(grid):
        raise ValueError(f"{name} must not repeat values; got {values!r}.")
    return grid


def check_n_jobs(n_jobs: Any) -> None:
    if n_jobs is None:
        return
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be None or a non-zero int (-1 = all cores); got {n_jobs!r}.")


def check_training_pool(owner: str, X: Any, y: Any, eval_set: Any) -> int:
    """The checks an analyzer runs on its training pool before any grid point trains; returns
    ``len(X)``. Everything else about ``X`` and ``y`` is checked by the estimator's own ``fit``."""
    if X is None or y is None:
        raise ValueError(f"{owner}.fit needs X and y (the training pool); got None.")
    check_dense("X", X, owner)
    check_dense("y", y, owner)
    if eval_set is not None:
        if not isinstance(eval_set, (tuple, list)) or len(eval_set) != 2:
            raise ValueError(f"eval_set must be a pair (X_test, y_test); got {eval_set!r}.")
        check_dense("eval_set X_test", eval_set[0], owner)
        check_dense("eval_set y_test", eval_set[1], owner)
    n_samples, n_targets = _n_rows("X", X), _n_rows("y", y)
    if n_targets != n_samples:
        raise ValueError(f"X and y must have the same number of rows; got {n_samples} and {n_targets}.")
    if n_samples == 0:
        raise ValueError(f"X holds no samples; {owner} needs a training pool.")
    return n_samples


def _n_rows(name: str, data: Any) -> int:
    """Rows of a sequence, an array or an object with ``__array__`` (as sklearn accepts)."""
    if hasattr(data, "__len__"):
        return len(data)
    shape = np.asarray(data).shape if hasattr(data, "__array__") else ()
    if not shape:
        raise TypeError(f"{name} must be an array-like with one row per sample; got "
                        f"{type(data).__name__}.")
    return int(shape[0])


def n_features_of(X: Any) -> int:
    """Columns of a 2-d training pool (1 for 1-d data and for ragged inputs such as graph lists)."""
    try:
        shape = np.asarray(X).shape
    except (TypeError, ValueError):
        return 1
    return int(shape[1]) if len(shape) > 1 else 1


def warn_diverged(owner: str, table: pd.DataFrame, keys: Sequence[str]) -> None:
    """One warning, in the calling process, listing the grid points whose run diverged.

    The estimators' own warnings are raised where the point trained, which for a
    process-based joblib backend is a worker whose warnings never reach the user;
    the ``diverged`` column holds the same fact as data.
    """
    diverged = table[table["diverged"].astype(bool)]
    if diverged.empty:
        return
    points = "; ".join(", ".join(f"{k}={row[k]!r}" for k in keys) for _, row in diverged.iterrows())
    warnings.warn(f"{owner}: {len(diverged)} of {len(table)} runs diverged (non-finite loss; their rows "
                  f"have diverged=True and read as failed runs, not as non-generalising ones): {points}.",
                  RuntimeWarning, stacklevel=3)


def interrupt_hint(owner: str, finished: Any, total: int, memory: Any) -> Any:
    """What an analyzer interrupted by Ctrl-C prints: the points done, and how to resume."""
    def hint() -> str:
        done = (f"{owner} interrupted before its {total} runs had finished" if finished is None
                else f"{owner} interrupted: {finished()} of {total} points had been tabulated")
        if memory is None:
            return (f"{done}; they are not kept (memory=None). Pass memory='a/folder' to make it "
                    "resumable: fitting it again then trains only the missing points.")
        return (f"{done}; the finished runs are kept in memory={shown(memory)}. Fit it again with that "
                "memory to train only the missing ones.")
    return hint
