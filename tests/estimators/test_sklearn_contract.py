"""scikit-learn's estimator checks and the everyday contract: clone, search, pipelines, pickling."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from grokkit import GrokMLPClassifier

SMALL = dict(hidden_layer_sizes=(16,), max_epochs=40, lr=1e-2, batch_size=-1, random_state=0,
             measures=None, measure_every=40)


def test_constructor_stores_parameters_unchanged():
    est = GrokMLPClassifier(alpha=-3, measures=["nope"], hidden_layer_sizes="bad")
    assert est.alpha == -3 and est.measures == ["nope"] and est.hidden_layer_sizes == "bad"
    assert repr(GrokMLPClassifier(alpha=8.0)) == "GrokMLPClassifier(alpha=8.0)"


def test_clone_and_params_round_trip_including_prefixed_arguments():
    est = GrokMLPClassifier(alpha=8.0, weight_decay=0.1, optimizer__eps=1e-6)
    params = est.get_params()
    assert params["alpha"] == 8.0 and params["optimizer__eps"] == 1e-6
    twin = clone(est)
    assert twin.get_params() == params and twin is not est
    twin.set_params(weight_decay=1.0, lr=0.5)
    assert (twin.weight_decay, twin.lr, est.weight_decay) == (1.0, 0.5, 0.1)


def test_prefixed_optimizer_arguments_reach_the_optimizer(blobs):
    X, y = blobs
    est = GrokMLPClassifier(hidden_layer_sizes=(4,), max_epochs=1, optimizer__eps=1e-6,
                            betas=(0.9, 0.98), weight_decay=0.3).fit(X, y)
    group = est.optimizer_.param_groups[0]
    assert group["eps"] == 1e-6 and group["betas"] == (0.9, 0.98) and group["weight_decay"] == 0.3


@pytest.mark.parametrize("prefixed, plain", [("optimizer__betas", "betas"), ("optimizer__lr", "lr"),
                                             ("optimizer__weight_decay", "weight_decay")])
def test_betas_lr_and_weight_decay_are_settable_one_way_only(blobs, prefixed, plain):
    X, y = blobs
    est = GrokMLPClassifier(hidden_layer_sizes=(4,), max_epochs=1, **{prefixed: 0.5})
    with pytest.raises(ValueError, match=f"{prefixed} sets {plain} a second way"):
        est.fit(X, y)


@pytest.mark.slow
def test_grid_search_over_weight_decay_in_parallel(blobs):
    X, y = blobs
    search = GridSearchCV(GrokMLPClassifier(**{**SMALL, "measures": ["weight_norm"]}),
                          param_grid={"weight_decay": [0.0, 0.1, 1.0]}, cv=3, n_jobs=2)
    search.fit(X, y)
    assert len(search.cv_results_["mean_test_score"]) == 3
    assert search.best_score_ > 0.8
    best = search.best_estimator_
    assert "weight_norm" in best.progress_.columns and len(best.progress_) >= 2


def test_pipeline_and_cross_validate(blobs):
    X, y = blobs
    pipe = make_pipeline(StandardScaler(), GrokMLPClassifier(**SMALL))
    scores = cross_validate(pipe, X, y, cv=3)
    assert np.all(scores["test_score"] > 0.8)
    pipe.fit(X, y)
    assert pipe[-1].progress_.train_acc.iloc[-1] > 0.8


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_pickling_keeps_progress_and_predictions(blobs, tmp_path, dump):
    X, y = blobs
    est = GrokMLPClassifier(**{**SMALL, "measures": ["weight_entropy"]}).fit(X, y)
    if dump == "pickle":
        again = pickle.loads(pickle.dumps(est))
    else:
        joblib.dump(est, tmp_path / "model.joblib")
        again = joblib.load(tmp_path / "model.joblib")
    assert again.progress_.equals(est.progress_)
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    np.testing.assert_allclose(again.predict_proba(X), est.predict_proba(X))
    assert again.grokking_summary() == est.grokking_summary()


def test_string_labels_and_dataframes(blobs):
    import pandas as pd

    X, y = blobs
    labels = np.array(["cat", "dog", "eel"])[y]
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = GrokMLPClassifier(**SMALL).fit(frame, labels)
    assert set(est.predict(frame)) <= set(labels)
    assert list(est.feature_names_in_) == list(frame.columns)
