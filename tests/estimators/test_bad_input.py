"""Every bad input gets a ValueError/TypeError that names the parameter."""

import numpy as np
import pytest

from grokkit import GrokMLPClassifier, GrokMLPRegressor


@pytest.mark.parametrize("params, error, match", [
    ({"alpha": 0}, ValueError, "alpha"),
    ({"alpha": -1.0}, ValueError, "alpha"),
    ({"alpha": float("inf")}, ValueError, "alpha"),
    ({"alpha": "big"}, TypeError, "alpha"),
    ({"weight_decay": -0.1}, ValueError, "weight_decay"),
    ({"lr": 0}, ValueError, "lr"),
    ({"optimizer": "adagrad"}, ValueError, "optimizer"),
    ({"optimizer": dict}, TypeError, "optimizer"),
    ({"loss": "hinge"}, ValueError, "loss"),
    ({"max_epochs": 0}, ValueError, "max_epochs"),
    ({"max_epochs": 2.5}, TypeError, "max_epochs"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"constrain_norm": -2.0}, ValueError, "constrain_norm"),
    ({"measures": ["weight_entropi"]}, ValueError, "Unknown measure 'weight_entropi'"),
    ({"measure_every": "linear"}, ValueError, "measure_every"),
    ({"measure_every": 0}, ValueError, "measure_every"),
    ({"device": "tpu"}, ValueError, "device"),
    ({"on_divergence": "ignore"}, ValueError, "on_divergence"),
    ({"hidden_layer_sizes": (10, -1)}, ValueError, "hidden_layer_sizes"),
    ({"activation": "swish"}, ValueError, "activation"),
    ({"dropout": 1.0}, ValueError, "dropout"),
])
def test_bad_parameters_are_named(blobs, params, error, match):
    X, y = blobs
    with pytest.raises(error, match=match):
        GrokMLPClassifier(**{"max_epochs": 1, **params}).fit(X, y)


def test_regressor_only_accepts_mse_and_a_positive_threshold():
    rng = np.random.default_rng(0)
    X, y = rng.random((10, 2)), rng.random(10)
    with pytest.raises(ValueError, match="loss"):
        GrokMLPRegressor(loss="cross_entropy", max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="accuracy_threshold"):
        GrokMLPRegressor(accuracy_threshold=0, max_epochs=1).fit(X, y)


def test_cuda_without_cuda_is_a_clear_error(blobs):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    X, y = blobs
    with pytest.raises(ValueError, match="CUDA is not available"):
        GrokMLPClassifier(device="cuda", max_epochs=1).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_inputs(blobs, bad):
    X, y = blobs
    X = X.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        GrokMLPClassifier(max_epochs=1).fit(X, y)


def test_wrong_shapes(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        GrokMLPClassifier(max_epochs=1).fit(X, y[:-1])
    with pytest.raises(ValueError, match="2D array"):
        GrokMLPClassifier(max_epochs=1).fit(X[:, 0], y)
    fitted = GrokMLPClassifier(max_epochs=1, measures=None).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :3])


def test_single_class(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="at least 2 classes"):
        GrokMLPClassifier(max_epochs=1).fit(X, np.zeros(len(X)))


@pytest.mark.parametrize("eval_set, error, match", [
    ("test", TypeError, "eval_set"),
    (("a", "b", "c"), TypeError, "eval_set"),
])
def test_eval_set_structure(blobs, eval_set, error, match):
    X, y = blobs
    with pytest.raises(error, match=match):
        GrokMLPClassifier(max_epochs=1).fit(X, y, eval_set=eval_set)


def test_eval_set_contents(blobs):
    X, y = blobs
    est = GrokMLPClassifier(max_epochs=1)
    with pytest.raises(ValueError, match="features"):
        est.fit(X, y, eval_set=(X[:, :2], y))
    with pytest.raises(ValueError, match="eval_set"):
        est.fit(X, y, eval_set=(X, y[:-3]))
    with pytest.raises(ValueError, match="eval_set y_test holds labels not among the classes"):
        est.fit(X, y, eval_set=(X, y + 7))
    with pytest.raises(ValueError, match="eval_set"):
        GrokMLPRegressor(max_epochs=1).fit(X, y.astype(float), eval_set=(X, np.ones((len(X), 3))))
