"""What every grokkit classifier shares: labels, targets, accuracy and predictions."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from grokkit.callbacks import SplitData
from grokkit.estimators.base import GrokNet
from grokkit.losses import stablemax


def check_eval_set(eval_set: Any) -> tuple[Any, Any]:
    """Unpack ``eval_set=(X_test, y_test)`` or raise a ``TypeError`` naming it."""
    if not isinstance(eval_set, (tuple, list)) or len(eval_set) != 2:
        raise TypeError(f"eval_set must be a pair (X_test, y_test); got {type(eval_set).__name__}.")
    for name, part in zip(("X_test", "y_test"), eval_set, strict=True):
        if part is None:
            raise TypeError(f"eval_set must be a pair (X_test, y_test) of arrays; its {name} is None.")
    return eval_set[0], eval_set[1]


class GrokClassifier(ClassifierMixin, GrokNet):
    """Base of the classifiers: encodes labels, builds loss targets, predicts.

    Subclasses may change how inputs are validated (:meth:`_validate_inputs`)
    and which classes exist (:meth:`_classes_from`): modular arithmetic has
    all ``p`` residues as classes whatever the training split holds.
    """

    _losses = ("cross_entropy", "mse", "stablemax")

    def _validate_inputs(self, X: Any, y: Any = None, reset: bool = True) -> Any:
        if y is None:
            return validate_data(self, X, reset=reset, dtype=self._input_dtype)
        return validate_data(self, X, y, reset=reset, dtype=self._input_dtype)

    def _classes_from(self, y: np.ndarray) -> np.ndarray:
        return np.unique(y)

    def _encode_train(self, X: Any, y: Any, reset: bool = True) -> SplitData:
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        X, y = self._validate_inputs(X, y, reset=reset)
        check_classification_targets(y)
        if reset:
            self.classes_ = self._classes_from(y)
            if len(self.classes_) < 2:
                raise ValueError(
                    f"y must hold at least 2 classes to train a classifier; got 1 class "
                    f"({self.classes_[0]!r})."
                )
            self.n_outputs_ = len(self.classes_)
        return self._split(X, self._encode_labels(y, "y"))

    def _encode_eval(self, eval_set: Any) -> SplitData | None:
        if eval_set is None:
            return None
        X, y = check_eval_set(eval_set)
        X = self._validate_inputs(X, reset=False)
        y = np.asarray(y)
        if y.ndim > 2 or (y.ndim == 2 and y.shape[1] != 1):
            raise ValueError(f"eval_set y_test must hold one label per row of X_test (shape ({len(X)},)); "
                             f"got shape {y.shape}.")
        y = y.ravel()
        if len(y) != len(X):
            raise ValueError(f"eval_set has {len(X)} samples in X_test but {len(y)} in y_test.")
        return self._split(X, self._encode_labels(y, "eval_set y_test"))

    def _encode_labels(self, y: np.ndarray, name: str) -> np.ndarray:
        known = np.isin(y, self.classes_)
        if not known.all():
            unseen = sorted(set(y[~known].tolist()))[:10]
            raise ValueError(f"{name} holds labels not among the classes {self._classes_text()}: "
                             f"{unseen}.")
        return np.searchsorted(self.classes_, y)

    def _classes_text(self) -> str:
        return "seen in the first fit"

    def _split(self, X: np.ndarray, encoded: np.ndarray) -> SplitData:
        y = torch.tensor(encoded, dtype=torch.long)
        target = F.one_hot(y, self.n_outputs_).float() if self.loss == "mse" else y
        return SplitData(torch.tensor(X), target, y)

    def _user_labels(self, split: SplitData) -> np.ndarray:
        return self.classes_[split.y.detach().cpu().numpy()]

    def accuracy(self, outputs: torch.Tensor, split: SplitData) -> float:
        """Fraction of samples whose largest output is the true class."""
        return float((outputs.argmax(dim=1) == split.y).float().mean())

    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax of the outputs, StableMax for ``loss="stablemax"`` (the distribution it trains).

        For ``loss="mse"`` a normalised score, not a calibrated probability.
        """
        outputs = self._predict_outputs(X).double()
        if self.loss == "stablemax":
            return stablemax(outputs, dim=1).cpu().numpy()
        return torch.softmax(outputs, dim=1).cpu().numpy()

    def predict(self, X: Any) -> np.ndarray:
        index = self._predict_outputs(X).argmax(dim=1).cpu().numpy()
        return self.classes_[index]
