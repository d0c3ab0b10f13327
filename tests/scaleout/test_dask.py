"""Sweeps scale out on an existing engine: GridSearchCV over a Dask cluster (the `dask` extra)."""

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV

from grokkit import GrokMLPClassifier, GrokMLPRegressor
from grokkit.analysis import ReducedLandscape
from grokkit.datasets import make_teacher_student

#: Long end-to-end runs: CI's second step (python -m pytest -m slow) runs them.
pytestmark = pytest.mark.slow

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def dask_client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


def _search():
    return GridSearchCV(
        GrokMLPClassifier(hidden_layer_sizes=(16,), max_epochs=30, batch_size=-1, lr=1e-2,
                          measures=["weight_norm"], random_state=0),
        param_grid={"weight_decay": [0.0, 0.5, 2.0]}, cv=3, n_jobs=-1,
    )


def test_dask_cluster_grid_search_matches_local_joblib(blobs, dask_client):
    X, y = blobs
    local = _search().fit(X, y)
    with parallel_backend("dask"):
        remote = _search().fit(X, y)
    for key in ("mean_test_score", "split0_test_score", "split1_test_score", "split2_test_score"):
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    assert remote.best_params_ == local.best_params_
    assert remote.best_estimator_.progress_.equals(local.best_estimator_.progress_)


def test_dask_cluster_reduced_landscape_matches_local(dask_client):
    X, y, X_test, y_test = make_teacher_student(n_train=30, n_test=30, widths=(16,), random_state=0)
    student = GrokMLPRegressor(hidden_layer_sizes=(16,), activation="tanh", batch_size=None, max_epochs=40,
                               measure_every=10)
    grid = {"alphas": [0.3, 1.0, 3.0], "train_sizes": [15, 30], "random_state": 0, "max_steps": 40,
            "window": 10}
    local = ReducedLandscape(student, n_jobs=1, **grid).fit(X, y, eval_set=(X_test, y_test))
    with parallel_backend("dask"):
        remote = ReducedLandscape(student, n_jobs=-1, **grid).fit(X, y, eval_set=(X_test, y_test))
    assert len(remote.landscape_) == 6
    pd.testing.assert_frame_equal(remote.landscape_, local.landscape_)
