"""``memory=``: finished runs of a sweep kept on disk, keyed by everything that determines them."""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import joblib

#: Parameters that do not change what a run computes.
_FREE = frozenset({"verbose"})


def run_key(estimator: Any, data_key: str) -> str:
    """A digest of the estimator's class, its parameters and the data (``data_key``).

    Parameters are described as the resumable checkpoints describe them
    (:func:`grokkit.estimators.resume.describe_param`), so callbacks and
    callables count by class and parameters, not by identity.
    """
    from grokkit.estimators.resume import describe_param

    params = {k: describe_param(v) for k, v in sorted(estimator.get_params(deep=False).items())
              if k not in _FREE}
    return joblib.hash((type(estimator).__module__, type(estimator).__qualname__, params, data_key))


def data_key(X: Any, y: Any, eval_set: Any) -> str:
    """A digest of the training data and the eval set."""
    return joblib.hash((X, y, eval_set))


class RunCache:
    """Fitted runs pickled under ``<location>/grokkit-sweep/<key>.pkl``, written atomically.

    ``memory`` is a folder path or a :class:`joblib.Memory` (its ``location``
    is used), as scikit-learn's ``Pipeline(memory=...)`` takes it; ``None``
    keeps nothing.
    """

    def __init__(self, memory: Any) -> None:
        if memory is None:
            self.folder = None
            return
        location = memory.location if isinstance(memory, joblib.Memory) else memory
        if location is None:  # joblib.Memory(None) caches nothing
            self.folder = None
            return
        if not isinstance(location, (str, os.PathLike)):
            raise TypeError(f"memory must be None, a folder path or a joblib.Memory; got {memory!r} of "
                            f"type {type(memory).__name__}.")
        from grokkit._validation import check_output_dir

        self.folder = check_output_dir("memory", location) / "grokkit-sweep"
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / f"{key}.pkl"

    def load(self, key: str) -> Any | None:
        """The fitted run stored under ``key``, or ``None`` (an unreadable file is removed)."""
        if self.folder is None or not self._path(key).exists():
            return None
        try:
            with open(self._path(key), "rb") as f:
                return pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError):
            self._path(key).unlink(missing_ok=True)
            return None

    def save(self, key: str, estimator: Any) -> None:
        if self.folder is None:
            return
        handle, tmp = tempfile.mkstemp(prefix=f".{key}.", dir=self.folder)
        try:
            with os.fdopen(handle, "wb") as f:
                pickle.dump(estimator, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._path(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
