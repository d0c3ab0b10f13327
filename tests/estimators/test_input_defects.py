"""The estimator-side defects of the new-user report (issue 16), each reproduced and fixed."""

import copy
import pickle

import numpy as np
import pytest

from grokkit import GrokMLPClassifier, ModularMLPClassifier, ModularTransformer
from grokkit.analysis import ReducedLandscape
from grokkit.datasets import make_modular


@pytest.mark.parametrize("make, name", [
    (lambda: GrokMLPClassifier(zero_last="no"), "zero_last"),
    (lambda: ModularTransformer(p=7, d_model=8, n_heads=2, d_mlp=8, use_layernorm="no"), "use_layernorm"),
    (lambda: ModularMLPClassifier(p=7, bias="no"), "bias"),
    (lambda: GrokMLPClassifier(keep_checkpoints=1), "keep_checkpoints"),
    (lambda: GrokMLPClassifier(constrain_norm="yes"), "constrain_norm"),
])
def test_boolean_parameters_accept_only_bools(blobs, make, name):
    X, y = blobs
    est = make()
    if isinstance(est, (ModularMLPClassifier, ModularTransformer)):
        X, y, _, _ = make_modular(p=7, train_fraction=0.5, random_state=0)
    with pytest.raises((TypeError, ValueError), match=f"'{name}' parameter of {type(est).__name__} must be"):
        est.fit(X, y)


def test_numpy_bools_are_bools(blobs):
    X, y = blobs
    est = GrokMLPClassifier(hidden_layer_sizes=(4,), zero_last=np.bool_(True), max_epochs=1).fit(X, y)
    assert float(est.module_.fc2.weight.abs().sum()) > 0  # trained one step from the zeroed layer


@pytest.mark.parametrize("cls", [ModularMLPClassifier, ModularTransformer])
def test_modular_string_labels_are_named(cls):
    X, y, _, _ = make_modular(p=11, train_fraction=0.5, random_state=0)
    est = cls(p=11, max_epochs=1) if cls is ModularMLPClassifier else cls(p=11, d_model=8, n_heads=2,
                                                                          d_mlp=8, max_epochs=1)
    with pytest.raises(ValueError, match="y must hold the residues 0..10 as integers; got str"):
        est.fit(X, y.astype(str))


@pytest.mark.parametrize("callbacks", [[42], "abc", [None]])
def test_bad_callbacks_are_named(blobs, callbacks):
    X, y = blobs
    with pytest.raises((TypeError, ValueError), match="'callbacks' parameter .* must be None or a list of "
                                                      "skorch callbacks"):
        GrokMLPClassifier(max_epochs=1, callbacks=callbacks).fit(X, y)


def test_a_generator_of_measures_is_refused_not_consumed(blobs):
    X, y = blobs
    with pytest.raises((TypeError, ValueError), match="'measures' parameter .* Got <generator"):
        GrokMLPClassifier(max_epochs=1, measures=(m for m in ["weight_norm"])).fit(X, y)


@pytest.mark.parametrize("make", [lambda: GrokMLPClassifier(alpha=3.0),
                                  lambda: ReducedLandscape(GrokMLPClassifier(max_epochs=2), alphas=[1.0])])
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copying_an_unfitted_estimator_leaves_it_unfitted(make, how):
    est = make()
    before = vars(est).copy()
    twin = copy.deepcopy(est) if how == "deepcopy" else pickle.loads(pickle.dumps(est))
    inner = twin.estimator if isinstance(twin, ReducedLandscape) else twin
    assert not hasattr(inner, "device_") and set(vars(twin)) == set(before)


def test_eval_set_shapes_and_missing_parts_are_named(blobs):
    X, y = blobs
    est = GrokMLPClassifier(max_epochs=1)
    with pytest.raises(ValueError, match=r"eval_set y_test must hold one label per row .*\(25, 2\)"):
        est.fit(X, y, eval_set=(X[:25], y[:50].reshape(25, 2)))
    with pytest.raises(TypeError, match="eval_set must be a pair .* its X_test is None"):
        est.fit(X, y, eval_set=(None, None))


def test_module_at_lists_the_kept_epochs_once(blobs):
    X, y = blobs
    est = GrokMLPClassifier(hidden_layer_sizes=(4,), max_epochs=4, measure_every=2, measures=None,
                            keep_checkpoints=True).fit(X, y)
    with pytest.raises(ValueError) as info:
        est.module_at(3)
    message = str(info.value)
    assert "0, 2, 4" in message and message.count("0, 2, 4") == 1
    assert "recorded epochs only" in message and "keep_checkpoints=True" not in message


@pytest.mark.parametrize("cls", [ModularMLPClassifier, ModularTransformer])
def test_modular_predict_refuses_non_integer_or_out_of_range_pairs(cls):
    """predict checks its pairs as fit does, instead of truncating 2.5 to 2."""
    X, y, _, _ = make_modular(p=7, train_fraction=0.5, random_state=0)
    model = cls(p=7, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="integer pairs"):
        model.predict(X + 0.5)
    with pytest.raises(ValueError, match="X"):
        model.predict_proba(X + 7)
    np.testing.assert_array_equal(model.predict(X.astype(float)), model.predict(X))
