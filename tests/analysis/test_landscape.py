"""ReducedLandscape: norm-constrained clones over an α × N grid (Omnigrok eq. 1, 3)."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from grokkit import GrokMLPClassifier, GrokMLPRegressor
from grokkit.analysis.landscape import LANDSCAPE_COLUMNS, ReducedLandscape
from grokkit.datasets.teacher_student import make_teacher_student
from grokkit.models.init import parameter_norm


@pytest.fixture(scope="module")
def teacher():
    return make_teacher_student(n_train=40, n_test=30, widths=(8,), random_state=0)


def student(**kwargs):
    params = dict(hidden_layer_sizes=(8,), activation="tanh", lr=1e-2, max_epochs=20, batch_size=None,
                  measure_every=5, random_state=3)
    params.update(kwargs)
    return GrokMLPRegressor(**params)


@pytest.fixture(scope="module")
def fitted(teacher):
    X, y, X_test, y_test = teacher
    return ReducedLandscape(student(), alphas=[0.5, 1.0, 2.0], train_sizes=[20, 40],
                            random_state=0).fit(X, y, eval_set=(X_test, y_test))


def test_table_is_tidy(fitted):
    table = fitted.landscape_
    assert list(table.columns) == list(LANDSCAPE_COLUMNS)
    assert len(table) == 6
    assert sorted(zip(table["n_train"], table["alpha"], strict=True)) == [
        (n, a) for n in (20, 40) for a in (0.5, 1.0, 2.0)]
    assert table[["train_loss", "test_loss", "train_acc", "test_acc"]].notna().all().all()
    pd.testing.assert_frame_equal(fitted.transform(), table)


def test_weight_norm_is_alpha_times_one_initial_norm(fitted):
    """Every point starts from the same w₀ direction: w / α is one number, w₀ = ‖θ₀‖ at α = 1."""
    table = fitted.landscape_
    ratio = table["weight_norm"] / table["alpha"]
    np.testing.assert_allclose(ratio, ratio.iloc[0], rtol=1e-5)
    est = student(random_state=fitted.seed_, alpha=1.0).set_params(max_epochs=1)
    X, y, *_ = make_teacher_student(n_train=40, n_test=30, widths=(8,), random_state=0)
    w0 = _initial_norm(est, X, y)
    assert ratio.iloc[0] == pytest.approx(w0, rel=1e-5)


def _initial_norm(est, X, y):
    import torch

    est.set_params(constrain_norm=False)
    est._check_params()
    est._encode_train(X, y)
    with torch.random.fork_rng():
        torch.manual_seed(est._seed())
        est.initialize()
    return float(parameter_norm(est.module_))


def test_reduced_values_are_best_of_an_independent_constrained_run(teacher, fitted):
    X, y, X_test, y_test = teacher
    row = fitted.landscape_.query("n_train == 40 and alpha == 2.0").iloc[0]
    est = student(alpha=2.0, constrain_norm=True, weight_decay=0.0, random_state=fitted.seed_,
                  measures=None).fit(X, y, eval_set=(X_test, y_test))
    assert row["train_loss"] == pytest.approx(est.progress_["train_loss"].min(), rel=1e-6)
    assert row["test_loss"] == pytest.approx(est.progress_["test_loss"].min(), rel=1e-6)
    assert row["test_acc"] == pytest.approx(est.progress_["test_acc"].max())
    assert row["weight_norm"] == pytest.approx(float(parameter_norm(est.module_)), rel=1e-6)


def test_scale_lr_trains_each_point_at_lr_times_alpha(teacher):
    X, y, X_test, y_test = teacher
    scaled = ReducedLandscape(student(), alphas=[0.5, 2.0], scale_lr=True, random_state=0).fit(
        X, y, eval_set=(X_test, y_test))
    for alpha in (0.5, 2.0):
        row = scaled.landscape_.query(f"alpha == {alpha}").iloc[0]
        est = student(alpha=alpha, lr=1e-2 * alpha, constrain_norm=True, weight_decay=0.0,
                      random_state=scaled.seed_, measures=None).fit(X, y, eval_set=(X_test, y_test))
        assert row["train_loss"] == pytest.approx(est.progress_["train_loss"].min(), rel=1e-6)
        assert row["test_loss"] == pytest.approx(est.progress_["test_loss"].min(), rel=1e-6)
    plain = ReducedLandscape(student(), alphas=[2.0], random_state=0).fit(X, y, eval_set=(X_test, y_test))
    at_two = scaled.landscape_.query("alpha == 2.0")["train_loss"].iloc[0]
    assert plain.landscape_["train_loss"].iloc[0] != at_two


def test_subsets_are_nested_and_seeded(teacher):
    X, y, X_test, y_test = teacher
    a = ReducedLandscape(student(max_epochs=2), alphas=[1.0], train_sizes=[10], random_state=5)
    b = clone(a)
    pd.testing.assert_frame_equal(a.fit(X, y).landscape_, b.fit(X, y).landscape_)
    assert a.landscape_["test_loss"].isna().all()


def test_n_jobs_and_backend_give_the_same_table(teacher, fitted):
    X, y, X_test, y_test = teacher
    two = clone(fitted).set_params(n_jobs=2)
    with joblib.parallel_backend("threading"):
        two.fit(X, y, eval_set=(X_test, y_test))
    pd.testing.assert_frame_equal(two.landscape_, fitted.landscape_)


def test_works_with_a_classifier(blobs):
    X, y = blobs
    clf = GrokMLPClassifier(hidden_layer_sizes=(6,), max_epochs=3, batch_size=None, random_state=0)
    table = ReducedLandscape(clf, alphas=[0.3, 3.0], random_state=0).fit_transform(X, y, eval_set=(X, y))
    assert table["n_train"].tolist() == [90, 90]
    assert table["test_acc"].between(0, 1).all()


def test_sklearn_params_and_clone():
    rl = ReducedLandscape(student(), alphas=[1, 2], n_jobs=2, random_state=0)
    params = rl.get_params(deep=False)
    assert set(params) == {"estimator", "alphas", "train_sizes", "n_jobs", "random_state", "verbose",
                           "scale_lr"}
    assert clone(rl).get_params(deep=False)["alphas"] == [1, 2]
    assert "estimator__alpha" in rl.get_params(deep=True)


def test_minimum_and_not_fitted(fitted):
    with pytest.raises(NotFittedError):
        ReducedLandscape(student()).transform()
    best = fitted.reduced_minimum("test_loss")
    assert len(best) == 2
    for _, row in best.iterrows():
        group = fitted.landscape_.query(f"n_train == {row['n_train']}")
        assert row["test_loss"] == group["test_loss"].min()
    with pytest.raises(ValueError, match="column"):
        fitted.reduced_minimum("nope")


@pytest.mark.parametrize(("params", "error", "match"), [
    ({"estimator": None}, TypeError, "estimator"),
    ({"estimator": GrokMLPRegressor}, TypeError, "estimator"),
    ({"alphas": [0.5, -1.0]}, ValueError, "alphas"),
    ({"alphas": []}, ValueError, "alphas"),
    ({"alphas": [1.0, 1.0]}, ValueError, "alphas"),
    ({"alphas": ["a"]}, TypeError, "alphas"),
    ({"train_sizes": [0]}, ValueError, "train_sizes"),
    ({"train_sizes": [41]}, ValueError, "train_sizes"),
    ({"train_sizes": [2.5]}, ValueError, "train_sizes"),
    ({"n_jobs": 0}, ValueError, "n_jobs"),
    ({"verbose": -1}, ValueError, "verbose"),
    ({"scale_lr": "yes"}, TypeError, "scale_lr must be True or False; got 'yes'"),
])
def test_bad_inputs(teacher, params, error, match):
    X, y, *_ = teacher
    base = {"estimator": student(max_epochs=1), "alphas": [1.0]}
    with pytest.raises(error, match=match):
        ReducedLandscape(**{**base, **params}).fit(X, y)


def test_bad_data(teacher):
    X, y, *_ = teacher
    with pytest.raises(ValueError, match="same number of rows"):
        ReducedLandscape(student(max_epochs=1), alphas=[1.0]).fit(X, y[:-1])


@pytest.mark.parametrize("part", ["X", "y", "eval_set X_test"])
def test_sparse_input_needs_dense(teacher, part):
    """Issue 16 #14: csr_matrix X raised 'sparse array length is ambiguous'."""
    import scipy.sparse

    X, y, X_test, y_test = teacher
    data = {"X": X, "y": y.reshape(-1, 1), "eval_set X_test": X_test}
    data[part] = scipy.sparse.csr_matrix(data[part])
    with pytest.raises(TypeError, match=f"ReducedLandscape needs dense input: {part} is a scipy.sparse"):
        ReducedLandscape(student(max_epochs=1), alphas=[1.0]).fit(
            data["X"], data["y"], eval_set=(data["eval_set X_test"], y_test))


def test_train_size_missing_classes_is_named(blobs):
    """Issue 16 #17: the error spoke of eval_set labels, not of the train size too small for the classes."""
    X, y = blobs
    clf = GrokMLPClassifier(hidden_layer_sizes=(4,), max_epochs=1, batch_size=None, measures=None)
    sizes = [2, 60]  # two rows cannot hold the three classes
    with pytest.raises(ValueError, match=r"train size 2 hold [12] of the 3 classes of y and eval_set"):
        ReducedLandscape(clf, alphas=[1.0], train_sizes=sizes, random_state=0).fit(X, y, eval_set=(X, y))


def test_diverged_points_are_a_column_and_a_warning(teacher):
    X, y, X_test, y_test = teacher
    with pytest.warns(RuntimeWarning, match=r"ReducedLandscape: 1 of 2 runs diverged.*alpha=1e\+30"):
        table = ReducedLandscape(student(max_epochs=3), alphas=[1.0, 1e30], random_state=0).fit(
            X, y, eval_set=(X_test, y_test)).landscape_
    assert table["diverged"].tolist() == [False, True]
