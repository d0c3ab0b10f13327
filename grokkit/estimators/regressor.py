"""What every grokkit regressor shares: targets, threshold accuracy and predictions."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import RegressorMixin

from grokkit.callbacks import SplitData
from grokkit.estimators.base import GrokNet
from grokkit.estimators.params import REGRESSION_MEASURES, SHARED, Param, positive


class GrokRegressor(RegressorMixin, GrokNet):
    """Base of the regressors (MSE loss, possibly several outputs).

    Regression has no accuracy of its own; as in Omnigrok §3, a sample counts as
    correct when its mean squared error over the outputs is below
    ``accuracy_threshold`` (a parameter of every subclass), and
    ``train_acc``/``test_acc`` are the fractions of correct samples.
    Subclasses set ``_y_is_1d`` and ``n_outputs_`` when encoding the training targets.
    """

    _losses = ("mse",)
    _params = {"accuracy_threshold": Param(1e-3, (positive(),), doc="""float
        Per-sample MSE below which a prediction counts as correct (the
        threshold that reproduces Omnigrok's teacher–student notebook).""", stacked=SHARED)}
    _defaults = {"measures": REGRESSION_MEASURES}

    @staticmethod
    def _split(X: np.ndarray, y: np.ndarray) -> SplitData:
        y_t = torch.tensor(y)
        return SplitData(torch.tensor(X), y_t, y_t)

    def _user_labels(self, split: SplitData) -> np.ndarray:
        y = split.y.detach().cpu().numpy()
        return y.ravel() if self._y_is_1d else y

    def accuracy(self, outputs: torch.Tensor, split: SplitData) -> float:
        """Fraction of samples with mean squared error below ``accuracy_threshold``."""
        per_sample = (outputs - split.target).pow(2).mean(dim=1)
        return float((per_sample < self.accuracy_threshold).float().mean())

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # teacher-student has 5 outputs
        return tags

    @property
    def predict_proba(self) -> Any:
        """Regressors have no ``predict_proba`` (skorch's NeuralNet does)."""
        raise AttributeError(f"{type(self).__name__} has no predict_proba; use predict.")

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, float64, shaped as ``y`` was in ``fit`` (1-d or (n, n_outputs))."""
        out = self._predict_outputs(X).cpu().numpy().astype(np.float64)
        return out.ravel() if self._y_is_1d else out
