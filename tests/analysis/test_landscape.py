"""ReducedLandscape: norm-constrained clones over an α × N grid (Omnigrok eq. 1, 3), each trained
until its train loss has converged or its step budget is spent."""

from __future__ import annotations

import math
import re
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from grokkit import GrokMLPClassifier, GrokMLPRegressor
from grokkit.analysis.landscape import CONVERGENCE_CALLBACK, LANDSCAPE_COLUMNS, ReducedLandscape
from grokkit.callbacks import StopWhenConverged
from grokkit.datasets.teacher_student import make_teacher_student
from grokkit.models.init import parameter_norm

# Most tests train on budgets too small to converge on purpose; the warning is tested where it matters.
pytestmark = [pytest.mark.usefixtures("one_torch_thread"),
              pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")]

#: A budget that keeps the module fast: some points converge within it, some do not.
BUDGET = {"max_steps": 60, "window": 20}


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
    return ReducedLandscape(student(), alphas=[0.5, 1.0, 2.0], train_sizes=[20, 40], random_state=0,
                            **BUDGET).fit(X, y, eval_set=(X_test, y_test))


def test_table_is_tidy(fitted):
    table = fitted.landscape_
    assert list(table.columns) == list(LANDSCAPE_COLUMNS)
    assert len(table) == 6
    assert sorted(zip(table["n_train"], table["alpha"], strict=True)) == [
        (n, a) for n in (20, 40) for a in (0.5, 1.0, 2.0)]
    assert table[["train_loss", "test_loss", "train_acc", "test_acc"]].notna().all().all()
    assert table["converged"].dtype == bool and table["steps"].dtype == np.int64
    assert table["steps"].between(BUDGET["window"] + 1, BUDGET["max_steps"]).all()
    # a point stops early exactly when it converged
    assert ((table["steps"] < BUDGET["max_steps"]) == table["converged"]).all()
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


#: float32 training: the reduced values of a point and of the same run made by hand agree to a few ulps.
RTOL32 = float(10 * np.finfo(np.float32).eps)


def _independent_run(teacher, seed, alpha, lr, max_epochs, window=BUDGET["window"], **rule):
    """The point's run made by hand: constrained norm at α, the convergence rule, the budget."""
    X, y, X_test, y_test = teacher
    stop = StopWhenConverged(window=window, **{"rtol": 1e-3, "atol": 1e-6, **rule})
    return student(alpha=alpha, lr=lr, constrain_norm=True, weight_decay=0.0, random_state=seed,
                   measures=None, max_epochs=max_epochs, callbacks=[(CONVERGENCE_CALLBACK, stop)]
                   ).fit(X, y, eval_set=(X_test, y_test))


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_reduced_values_are_best_of_an_independent_constrained_run(teacher, fitted, alpha):
    """The default scale_lr=True trains the point at α with lr·α (full batch: one step per epoch)."""
    row = fitted.landscape_.query(f"n_train == 40 and alpha == {alpha}").iloc[0]
    est = _independent_run(teacher, fitted.seed_, alpha, 1e-2 * alpha, BUDGET["max_steps"])
    assert row["train_loss"] == pytest.approx(est.progress_["train_loss"].min(), rel=RTOL32)
    assert row["test_loss"] == pytest.approx(est.progress_["test_loss"].min(), rel=RTOL32)
    assert row["test_acc"] == pytest.approx(est.progress_["test_acc"].max())
    assert row["weight_norm"] == pytest.approx(float(parameter_norm(est.module_)), rel=RTOL32)
    assert row["steps"] == est.n_steps_
    assert row["converged"] == (est.stopped_by_ == CONVERGENCE_CALLBACK)


def test_scale_lr_false_trains_every_point_at_the_estimators_lr(teacher):
    X, y, X_test, y_test = teacher
    plain = ReducedLandscape(student(), alphas=[2.0], scale_lr=False, random_state=0, **BUDGET).fit(
        X, y, eval_set=(X_test, y_test))
    row = plain.landscape_.iloc[0]
    est = _independent_run(teacher, plain.seed_, 2.0, 1e-2, BUDGET["max_steps"])
    assert row["train_loss"] == pytest.approx(est.progress_["train_loss"].min(), rel=RTOL32)
    assert row["steps"] == est.n_steps_
    scaled = _independent_run(teacher, plain.seed_, 2.0, 2e-2, BUDGET["max_steps"])
    assert row["train_loss"] != pytest.approx(scaled.progress_["train_loss"].min(), rel=RTOL32)


def test_a_point_with_a_loss_floor_converges_early_and_one_still_falling_is_named(teacher):
    """At α = 0.5 the small norm caps the fit (train loss ≈ 0.03, flat within ~150 steps); at α = 2
    the student keeps fitting the teacher, its loss still falling by more than 0.1 % per window."""
    X, y, X_test, y_test = teacher
    landscape = ReducedLandscape(student(), alphas=[0.5, 2.0], random_state=0, max_steps=300, window=50)
    with pytest.warns(ConvergenceWarning, match=r"ReducedLandscape: 1 of 2 points did not converge within "
                      r"max_steps=300 .*window=50 steps\): n_train=40, alpha=2\.0\. Their train_loss is an "
                      r"upper bound"):
        table = landscape.fit(X, y, eval_set=(X_test, y_test)).landscape_
    assert table["converged"].tolist() == [True, False]
    assert table["steps"].iloc[0] < 300 and table["steps"].iloc[1] == 300
    assert table["train_loss"].iloc[0] > 5 * table["train_loss"].iloc[1]


def test_budget_and_window_count_steps_rounded_up_to_whole_epochs(teacher):
    """40 rows in batches of 15: 3 steps per epoch, so 20 steps are 7 epochs (21 steps) and a
    window of 10 steps is 4 epochs."""
    X, y, X_test, y_test = teacher
    table = ReducedLandscape(student(batch_size=15), alphas=[1.0], random_state=0, max_steps=20,
                             window=10, rtol=0.0, atol=0.0).fit(X, y).landscape_
    assert table["steps"].tolist() == [3 * math.ceil(20 / 3)] and not table["converged"].iloc[0]
    loose = ReducedLandscape(student(batch_size=15), alphas=[1.0], random_state=0, max_steps=60, window=10,
                             rtol=1.0).fit(X, y).landscape_  # converged as soon as a window has passed
    assert loose["steps"].tolist() == [3 * (math.ceil(10 / 3) + 1)] and loose["converged"].iloc[0]


def test_max_steps_none_keeps_the_estimators_max_epochs(teacher):
    X, y, *_ = teacher
    with pytest.warns(ConvergenceWarning, match="within the estimator's max_epochs"):
        table = ReducedLandscape(student(max_epochs=25), alphas=[1.0], random_state=0, max_steps=None,
                                 window=20, rtol=0.0, atol=0.0).fit(X, y).landscape_
    assert table["steps"].tolist() == [25]


def test_subsets_are_nested_and_seeded(teacher):
    X, y, X_test, y_test = teacher
    a = ReducedLandscape(student(), alphas=[1.0], train_sizes=[10], random_state=5, max_steps=2, window=1)
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
    clf = GrokMLPClassifier(hidden_layer_sizes=(6,), batch_size=None, random_state=0)
    table = ReducedLandscape(clf, alphas=[0.3, 3.0], random_state=0, max_steps=3, window=3).fit_transform(
        X, y, eval_set=(X, y))
    assert table["n_train"].tolist() == [90, 90]
    assert table["test_acc"].between(0, 1).all()


def test_sklearn_params_and_clone():
    rl = ReducedLandscape(student(), alphas=[1, 2], n_jobs=2, random_state=0)
    params = rl.get_params(deep=False)
    assert set(params) == {"estimator", "alphas", "train_sizes", "n_jobs", "random_state", "verbose",
                           "scale_lr", "rtol", "atol", "window", "max_steps", "memory"}
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
    ({"rtol": -1e-3}, ValueError, "rtol"),
    ({"rtol": float("inf")}, ValueError, "rtol must be finite"),
    ({"atol": "tiny"}, TypeError, "atol"),
    ({"atol": float("nan")}, ValueError, "atol"),
    ({"window": 0}, ValueError, "window"),
    ({"window": 2.5}, TypeError, "window"),
    ({"max_steps": 0}, ValueError, "max_steps"),
    ({"max_steps": 1e4}, TypeError, "max_steps"),
    ({"max_steps": 5, "window": 6}, ValueError, r"max_steps \(5\) must be at least window \(6\)"),
])
def test_bad_inputs(teacher, params, error, match):
    X, y, *_ = teacher
    base = {"estimator": student(max_epochs=1), "alphas": [1.0], "max_steps": 1, "window": 1}
    with pytest.raises(error, match=match):
        ReducedLandscape(**{**base, **params}).fit(X, y)


def test_bad_data(teacher):
    X, y, *_ = teacher
    with pytest.raises(ValueError, match="same number of rows"):
        ReducedLandscape(student(), alphas=[1.0], max_steps=1, window=1).fit(X, y[:-1])


@pytest.mark.parametrize("part", ["X", "y", "eval_set X_test"])
def test_sparse_input_needs_dense(teacher, part):
    """Issue 16 #14: csr_matrix X raised 'sparse array length is ambiguous'."""
    import scipy.sparse

    X, y, X_test, y_test = teacher
    data = {"X": X, "y": y.reshape(-1, 1), "eval_set X_test": X_test}
    data[part] = scipy.sparse.csr_matrix(data[part])
    with pytest.raises(TypeError, match=f"ReducedLandscape needs dense input: {part} is a scipy.sparse"):
        ReducedLandscape(student(), alphas=[1.0], max_steps=1, window=1).fit(
            data["X"], data["y"], eval_set=(data["eval_set X_test"], y_test))


def test_train_size_missing_classes_is_named(blobs):
    """Issue 16 #17: the error spoke of eval_set labels, not of the train size too small for the classes."""
    X, y = blobs
    clf = GrokMLPClassifier(hidden_layer_sizes=(4,), batch_size=None, measures=None)
    sizes = [2, 60]  # two rows cannot hold the three classes
    with pytest.raises(ValueError, match=r"train size 2 hold [12] of the 3 classes of y and eval_set"):
        ReducedLandscape(clf, alphas=[1.0], train_sizes=sizes, random_state=0, max_steps=1, window=1).fit(
            X, y, eval_set=(X, y))


def test_diverged_points_are_a_column_and_a_warning(teacher):
    """A diverged point has converged=False but is named only in the divergence warning."""
    X, y, X_test, y_test = teacher
    landscape = ReducedLandscape(student(), alphas=[1.0, 1e30], random_state=0, max_steps=3, window=1,
                                 rtol=1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = landscape.fit(X, y, eval_set=(X_test, y_test)).landscape_
    messages = [str(w.message) for w in caught if w.category is RuntimeWarning]
    assert any(re.search(r"ReducedLandscape: 1 of 2 runs diverged.*alpha=1e\+30", m) for m in messages)
    assert not [w for w in caught if w.category is ConvergenceWarning]
    assert table["diverged"].tolist() == [False, True]
    assert table["converged"].tolist() == [True, False]
