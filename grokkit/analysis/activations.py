"""Hidden activations of a trained grokkit estimator, at the end or at any kept checkpoint."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from grokkit._validation import check_not_text, check_number, input_named
from grokkit.measures._capture import as_module_tensor, capture


def validate_estimator_input(estimator: Any, X: Any) -> Any:
    """``X`` checked and converted exactly as ``estimator.predict`` does (its width against
    ``n_features_in_``, NaN/inf, dtype, sparse input), so an analysis accepts what ``predict``
    accepts and rejects the rest with the same message naming ``X``."""
    if not hasattr(estimator, "_validate_predict_inputs"):
        raise TypeError(f"estimator must be a fitted grokkit estimator (GrokMLPClassifier, ...); got "
                        f"{estimator!r}.")
    check_is_fitted(estimator, "module_")
    check_not_text("X", X)
    with input_named("X"):
        return estimator._validate_predict_inputs(X)


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
    X = validate_estimator_input(estimator, X)
    if epoch is not None:
        check_number("epoch", epoch, low=0, integer=True)
    module = estimator.module_ if epoch is None else estimator.module_at(epoch)
    _, acts = capture(module, as_module_tensor(X, module))
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

    def __sklearn_clone__(self) -> HiddenActivations:
        # The wrapped estimator is already trained and only read here: a clone keeps that same
        # fitted estimator (as sklearn.frozen.FrozenEstimator does) rather than an unfitted copy,
        # so a Pipeline holding this transformer survives cross_val_score and GridSearchCV.
        params = self.get_params(deep=False)
        return type(self)(**{name: value if name == "estimator" else clone(value, safe=False)
                             for name, value in params.items()})

    def fit(self, X: Any, y: Any = None) -> HiddenActivations:
        if self.layer is not None and not isinstance(self.layer, str):
            raise TypeError(f"layer must be a hidden layer's name (str) or None; got {self.layer!r}.")
        layers = hidden_activations(self.estimator, X, self.epoch)
        if self.layer is None and len(layers) != 1:
            raise ValueError(f"layer must name one of {', '.join(map(repr, layers))}; got None.")
        if self.layer is not None and self.layer not in layers:
            raise ValueError(f"layer must be one of {', '.join(map(repr, layers))}; got {self.layer!r}.")
        self.layer_ = self.layer if self.layer is not None else next(iter(layers))
        self.n_features_out_ = layers[self.layer_].shape[1]
        if hasattr(self.estimator, "n_features_in_"):
            self.n_features_in_ = self.estimator.n_features_in_
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "layer_")
        return hidden_activations(self.estimator, X, self.epoch)[self.layer_]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "layer_")
        return np.array([f"{self.layer_}_{i}" for i in range(self.n_features_out_)], dtype=object)
