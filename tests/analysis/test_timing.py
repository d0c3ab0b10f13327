"""TimeToGeneralize and loglog_slope: steps to an accuracy level against weight decay (Omnigrok Fig. 2c)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from grokkit import GrokMLPClassifier
from grokkit.analysis.timing import TIMES_COLUMNS, TimeToGeneralize, loglog_slope
from grokkit.progress import grokking_summary


@pytest.mark.parametrize("power", [-1.0, -0.5, 0.0, 2.0])
def test_loglog_slope_closed_form(power):
    gamma = np.geomspace(0.03, 1.0, 6)
    slope, intercept = loglog_slope(gamma, 7.0 * gamma**power)
    assert slope == pytest.approx(power)
    assert intercept == pytest.approx(np.log10(7.0))


def test_loglog_slope_skips_missing_and_zero():
    slope, _ = loglog_slope([0.0, 0.1, 0.2, 0.4, 0.8], [5.0, 100.0, None, 25.0, np.nan])
    assert slope == pytest.approx(-1.0)
    assert np.isnan(loglog_slope([0.1, 0.2], [None, 3.0])[0])
    with pytest.raises(ValueError, match="same length"):
        loglog_slope([0.1, 0.2], [1.0])


def make_clf(**kwargs):
    params = dict(hidden_layer_sizes=(6,), max_epochs=15, batch_size=None, lr=1e-2, measures=None,
                  measure_every=1, random_state=0)
    params.update(kwargs)
    return GrokMLPClassifier(**params)


@pytest.fixture(scope="module")
def sweep(blobs):
    X, y = blobs
    return TimeToGeneralize(make_clf(), weight_decays=[0.0, 0.1, 1.0], train_threshold=0.9,
                            test_threshold=0.9, random_state=0).fit(X, y, eval_set=(X, y))


def test_times_match_each_runs_progress(blobs, sweep):
    X, y = blobs
    assert list(sweep.times_.columns) == list(TIMES_COLUMNS)
    assert list(sweep.times_["weight_decay"]) == [0.0, 0.1, 1.0]
    for gamma, row in zip([0.0, 0.1, 1.0], sweep.times_.itertuples(), strict=True):
        run = make_clf(weight_decay=gamma, random_state=sweep.seed_).fit(X, y, eval_set=(X, y))
        pd.testing.assert_frame_equal(run.progress_, sweep.progress_[gamma])
        summary = grokking_summary(run.progress_, 0.9, 0.9)
        assert row.train_step == summary["memorization_step"]
        assert row.test_step == summary["generalization_step"]
    expected, _ = loglog_slope(sweep.times_["weight_decay"], sweep.times_["test_step"])
    assert sweep.test_slope_ == pytest.approx(expected, nan_ok=True)
    pd.testing.assert_frame_equal(sweep.transform(), sweep.times_)


def test_sklearn_clone(sweep):
    twin = clone(sweep)
    assert twin.get_params(deep=False)["weight_decays"] == [0.0, 0.1, 1.0]
    assert not hasattr(twin, "times_")


@pytest.mark.parametrize(("params", "error", "match"), [
    ({"weight_decays": None}, ValueError, "weight_decays"),
    ({"weight_decays": [-0.1]}, ValueError, "weight_decays"),
    ({"train_threshold": 1.5}, ValueError, "train_threshold"),
    ({"test_threshold": "high"}, TypeError, "test_threshold"),
    ({"n_jobs": 1.5}, ValueError, "n_jobs"),
    ({"estimator": "mlp"}, TypeError, "estimator"),
])
def test_bad_inputs(blobs, params, error, match):
    X, y = blobs
    base = {"estimator": make_clf(max_epochs=1), "weight_decays": [0.1]}
    with pytest.raises(error, match=match):
        TimeToGeneralize(**{**base, **params}).fit(X, y, eval_set=(X, y))


def test_eval_set_required(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="eval_set"):
        TimeToGeneralize(make_clf(max_epochs=1), weight_decays=[0.1]).fit(X, y)


def test_diverged_runs_are_a_column_and_a_warning():
    """Issue 16 #8: diverged runs looked like ordinary non-generalising runs, the warning suppressed."""
    from grokkit import GrokMLPRegressor
    from grokkit.datasets import make_teacher_student

    X, y, X_test, y_test = make_teacher_student(n_train=30, n_test=20, widths=(4,), random_state=0)
    huge = GrokMLPRegressor(hidden_layer_sizes=(4,), alpha=1e30, max_epochs=5, batch_size=None,
                            measures=None)
    with pytest.warns(RuntimeWarning) as record:
        sweep = TimeToGeneralize(huge, weight_decays=[0.1, 1.0], random_state=0).fit(
            X, y, eval_set=(X_test, y_test))
    assert sweep.times_["diverged"].tolist() == [True, True]
    messages = [str(w.message) for w in record]
    assert any(m.startswith("Training diverged") for m in messages)  # the estimator's own, not hidden
    assert any("TimeToGeneralize: 2 of 2 runs diverged" in m and "weight_decay=0.1" in m for m in messages)


def test_healthy_runs_are_not_marked_diverged(sweep):
    assert sweep.times_["diverged"].dtype == bool and not sweep.times_["diverged"].any()


def test_transformer_contract(blobs, sweep):
    """Issue 16 #9: transform without TransformerMixin; scikit-learn's check generator raised."""
    from sklearn.base import TransformerMixin
    from sklearn.pipeline import make_pipeline
    from sklearn.utils.estimator_checks import estimator_checks_generator

    X, y = blobs
    assert isinstance(sweep, TransformerMixin)
    assert list(sweep.get_feature_names_out()) == list(TIMES_COLUMNS)
    again = clone(sweep).fit_transform(X, y, eval_set=(X, y))
    pd.testing.assert_frame_equal(again, sweep.times_)
    pipe = make_pipeline(clone(sweep))
    pd.testing.assert_frame_equal(pipe.fit_transform(X, y, timetogeneralize__eval_set=(X, y)), sweep.times_)
    names = {getattr(check, "func", check).__name__ for _, check in estimator_checks_generator(clone(sweep))}
    assert {"check_transformer_general", "check_transformers_unfitted"} <= names


def test_sparse_input_needs_dense(blobs):
    import scipy.sparse

    X, y = blobs
    with pytest.raises(TypeError, match="TimeToGeneralize needs dense input: X is a scipy.sparse"):
        TimeToGeneralize(make_clf(max_epochs=1), weight_decays=[0.1]).fit(
            scipy.sparse.csr_matrix(X), y, eval_set=(X, y))
