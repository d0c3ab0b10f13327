"""Hidden activations of a trained grokkit estimator, at the end or at any kept checkpoint."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from grokkit.measures._capture import as_module_tensor, capture


def hidden_activations(estimator: Any, X: Any, epoch: int | None = None) -> dict[str, np.ndarray]:
    """Every hidden layer's activations on ``X``, as ``(n_samples, n_units)`` arrays.

    Parameters
    ----------
    estimator : fitted grokkit estimator
    X : array-like
        Inputs in the estimator's format (features, or integer pairs for the
        modular estimators).
    epoch : int, optional
        A kept checkpoint (``keep_checkpoints=True``); default: the final model.

    Returns
    -------
    dict
        Layer name (``act1``, ``blocks.0.mlp.act``, ...) -> float64 array.
    """
    check_is_fitted(estimator, "module_")
    module = estimator.module_ if epoch is None else estimator.module_at(epoch)
    _, acts = capture(module, as_module_tensor(np.asarray(X), module))
    return {name: value.double().cpu().numpy() for name, value in acts.items()}


class HiddenActivations(TransformerMixin, BaseEstimator):
    """A fitted estimator's hidden layer as a transformer: ``X -> activations``.

    It lets analyses compose in a :class:`~sklearn.pipeline.Pipeline`, e.g.
    ``make_pipeline(HiddenActivations(clf, layer="act1"), OInformationAnalyzer())``
    fitted on the training inputs. ``fit`` learns nothing (the estimator is
    already trained); it checks the estimator and the layer.

    Parameters
    ----------
    estimator : fitted grokkit estimator
    layer : str, optional
        Hidden layer name; may be omitted when the model has one hidden layer.
    epoch : int, optional
        Read a kept checkpoint instead of the final model.
    """

    def __init__(self, estimator: Any = None, layer: str | None = None, epoch: int | None = None):
        self.estimator = estimator
        self.layer = layer
        self.epoch = epoch

    def fit(self, X: Any, y: Any = None) -> HiddenActivations:
        if self.estimator is None or not hasattr(self.estimator, "module_"):
            raise ValueError("estimator must be a fitted grokkit estimator.")
        layers = hidden_activations(self.estimator, np.asarray(X)[:2], self.epoch)
        if self.layer is None and len(layers) != 1:
            raise ValueError(f"layer must name one of {', '.join(map(repr, layers))}; got None.")
        if self.layer is not None and self.layer not in layers:
            raise ValueError(f"layer must be one of {', '.join(map(repr, layers))}; got {self.layer!r}.")
        self.layer_ = self.layer if self.layer is not None else next(iter(layers))
        self.n_features_out_ = layers[self.layer_].shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "layer_")
        return hidden_activations(self.estimator, X, self.epoch)[self.layer_]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "layer_")
        return np.array([f"{self.layer_}_{i}" for i in range(self.n_features_out_)], dtype=object)
