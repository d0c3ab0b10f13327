"""ModularMLPClassifier and ModularTransformer on small moduli."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from grokkit import ModularMLPClassifier, ModularTransformer
from grokkit.datasets import make_modular

TINY_TRANSFORMER = dict(d_model=16, n_heads=2, d_mlp=32)


@pytest.fixture(scope="module")
def mod23():
    return make_modular(p=23, operation="add", train_fraction=0.5, random_state=0)


def test_modular_mlp_memorises_and_records_group_laws(mod23):
    X, y, Xt, yt = mod23
    clf = ModularMLPClassifier(p=23, max_epochs=60, random_state=0, measure_every=20,
                               measures=["weight_norm", "commutativity", "identity_law"])
    clf.fit(X, y, eval_set=(Xt, yt))
    p = clf.progress_
    assert p.train_acc.iloc[-1] == 1.0
    assert {"commutativity", "identity_law"} <= set(p.columns)
    assert 0.0 <= p.commutativity.iloc[-1] <= 1.0
    np.testing.assert_array_equal(clf.classes_, np.arange(23))
    assert clf.predict(Xt).shape == (len(Xt),) and clf.predict_proba(Xt).shape == (len(Xt), 23)
    assert clf.n_features_in_ == 2


def test_first_layer_is_the_one_hot_matmul(mod23):
    import torch

    from grokkit.models import onehot_pairs

    X, y, _, _ = mod23
    clf = ModularMLPClassifier(p=23, max_epochs=5, random_state=0, measures=None).fit(X, y)
    net = clf.module_
    onehot = torch.as_tensor(onehot_pairs(X, 23), dtype=torch.float32)
    with torch.no_grad():
        via_gather = net(torch.as_tensor(X))
        hidden = torch.relu(onehot @ net.fc1.weight.T)
        via_matmul = net.fc2(hidden)
    torch.testing.assert_close(via_gather, via_matmul, rtol=1e-5, atol=1e-5)


def test_abelian_penalty_makes_the_model_more_commutative(mod23):
    X, y, _, _ = mod23
    common = dict(p=23, max_epochs=80, random_state=0, measures=["commutativity_distance"],
                  measure_every=80)
    plain = ModularMLPClassifier(**common).fit(X, y).progress_.commutativity_distance.iloc[-1]
    penalised = ModularMLPClassifier(abelian_penalty=1.0, **common).fit(X, y)
    assert penalised.progress_.commutativity_distance.iloc[-1] < 0.5 * plain


def test_transformer_trains_and_pickles(mod23):
    X, y, Xt, yt = mod23
    clf = ModularTransformer(p=23, max_epochs=30, lr=3e-3, random_state=0, measure_every=10,
                             **TINY_TRANSFORMER)
    clf.fit(X, y, eval_set=(Xt, yt))
    p = clf.progress_
    assert p.train_acc.iloc[-1] > p.train_acc.iloc[0]
    assert {"weight_norm/embed", "activation_sparsity", "commutativity"} <= set(p.columns)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict(Xt), clf.predict(Xt))


def test_transformer_norm_constraint_and_noise(mod23):
    X, y, _, _ = mod23
    clf = ModularTransformer(p=23, alpha=0.8, weight_decay=0.0, constrain_norm=True,
                             input_noise=(0.5, 0.05), max_epochs=10, measure_every=1,
                             measures=["weight_norm"], random_state=0, **TINY_TRANSFORMER)
    clf.fit(X, y)
    norms = clf.progress_.weight_norm.to_numpy()
    assert np.abs(norms / norms[0] - 1).max() < 1e-4
    assert (clf.progress_.input_noise_std.dropna() >= 0.05).all()
    assert clf.module_.input_noise_std == 0.0


def test_grid_search_and_clone(mod23):
    X, y, _, _ = mod23
    est = ModularMLPClassifier(p=23, max_epochs=20, measures=None, random_state=0)
    assert clone(est).get_params() == est.get_params()
    search = GridSearchCV(est, {"weight_decay": [0.1, 1.0]}, cv=2).fit(X, y)
    assert len(search.cv_results_["mean_test_score"]) == 2


@pytest.mark.parametrize("X, error, match", [
    (np.array([[1, 2, 3]]), ValueError, "shape"),
    (np.array([[1, 23]]), ValueError, r"\[0, 23\)"),
    (np.array([[-1, 2]]), ValueError, r"\[0, 23\)"),
    (np.array([[1.5, 2.0]]), ValueError, "integer"),
])
def test_bad_pairs(X, error, match):
    with pytest.raises(error, match=match):
        ModularMLPClassifier(p=23, max_epochs=1).fit(np.vstack([X] * 2), [0, 1])


def test_float_pairs_with_integer_values_are_accepted(mod23):
    X, y, _, _ = mod23
    clf = ModularMLPClassifier(p=23, max_epochs=2, measures=None).fit(X.astype(float), y)
    assert clf.predict(X.astype(float)).shape == (len(X),)


@pytest.mark.parametrize("params, match", [
    ({"p": 1}, "p"),
    ({"operation": "power"}, "operation"),
    ({"abelian_penalty": -1.0}, "abelian_penalty"),
    ({"betas": (0.9,)}, "betas"),
    ({"betas": (0.9, 1.0)}, "betas"),
])
def test_bad_parameters(mod23, params, match):
    X, y, _, _ = mod23
    with pytest.raises(ValueError, match=match):
        ModularMLPClassifier(**{"p": 23, "max_epochs": 1, **params}).fit(X, y)


def test_labels_outside_the_residues(mod23):
    X, y, _, _ = mod23
    with pytest.raises(ValueError, match="0..22"):
        ModularMLPClassifier(p=23, max_epochs=1).fit(X, y + 30)


def test_group_law_measure_for_an_operation_without_the_law():
    X, y, _, _ = make_modular(p=11, operation="subtract", train_fraction=0.5, random_state=0)
    with pytest.raises(ValueError, match="operation"):
        ModularMLPClassifier(p=11, operation="subtract", max_epochs=1,
                             measures=["commutativity"]).fit(X, y)


@pytest.mark.parametrize("make", [lambda **kw: ModularTransformer(**TINY_TRANSFORMER, **kw),
                                  lambda **kw: ModularMLPClassifier(hidden_layer_sizes=(16,), **kw)])
def test_p_none_is_inferred_from_the_data_and_p_itself_is_left_alone(mod23, make):
    X, y, Xt, yt = mod23
    clf = make(max_epochs=2, measures=("commutativity",), random_state=0).fit(X, y, eval_set=(Xt, yt))
    assert clf.p is None and clf.get_params()["p"] is None  # scikit-learn: parameters are not changed
    assert clf.p_ == 23 == int(max(X.max(), y.max())) + 1
    np.testing.assert_array_equal(clf.classes_, np.arange(23))
    assert clf.predict_proba(Xt).shape == (len(Xt), 23) and clf.task_info()["p"] == 23
    with pytest.raises(ValueError, match=r"X must hold integers in \[0, p\) = \[0, 23\)"):
        clf.predict(np.array([[0, 23]]))


def test_an_explicit_p_wins_over_the_data(mod23):
    X, y, Xt, yt = mod23
    clf = ModularTransformer(p=29, **TINY_TRANSFORMER, max_epochs=1, measures=None, random_state=0)
    clf.fit(X, y, eval_set=(Xt, yt))
    assert clf.p_ == 29 and clf.predict_proba(Xt).shape == (len(Xt), 29)


def test_p_none_on_data_without_a_residue_above_zero_asks_for_p():
    X, y = np.zeros((4, 2), dtype=np.int64), np.zeros(4, dtype=np.int64)
    with pytest.raises(ValueError, match=r"pass p=\.\.\. \(the modulus\)"):
        ModularMLPClassifier(max_epochs=1).fit(X, y)


@pytest.mark.slow
def test_the_docstrings_small_transformer_groks():
    """The documented small setting: memorised long before test ≥ 0.95, within 1 200 steps."""
    X, y, X_test, y_test = make_modular(p=31, train_fraction=0.5, random_state=0)
    clf = ModularTransformer(d_model=64, d_mlp=256, lr=3e-3, max_epochs=1200, measures=None, random_state=0)
    summary = clf.fit(X, y, eval_set=(X_test, y_test)).grokking_summary(test_threshold=0.95)
    assert clf.p_ == 31
    assert summary["memorization_step"] is not None and summary["generalization_step"] is not None
    assert summary["generalization_step"] >= 5 * summary["memorization_step"]
