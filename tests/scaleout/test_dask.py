"""Sweeps scale out on an existing engine: GridSearchCV over a Dask cluster (the `dask` extra)."""

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV

from grokkit import GrokMLPClassifier

distributed = pytest.importorskip("dask.distributed")


def _search():
    return GridSearchCV(
        GrokMLPClassifier(hidden_layer_sizes=(16,), max_epochs=30, batch_size=-1, lr=1e-2,
                          measures=["weight_norm"], random_state=0),
        param_grid={"weight_decay": [0.0, 0.5, 2.0]}, cv=3, n_jobs=-1,
    )


def test_dask_cluster_grid_search_matches_local_joblib(blobs):
    X, y = blobs
    local = _search().fit(X, y)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster), parallel_backend("dask"):
        remote = _search().fit(X, y)
    for key in ("mean_test_score", "split0_test_score", "split1_test_score", "split2_test_score"):
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    assert remote.best_params_ == local.best_params_
    assert remote.best_estimator_.progress_.equals(local.best_estimator_.progress_)
