"""What a first ``fit`` says about a setting that silently gives less than the user likely wants.

- no ``eval_set``: no test curve is recorded (one UserWarning per fit, not one per epoch);
- ``constrain_norm`` with a non-zero ``weight_decay`` (the docs say wd = 0);
- a pandas ``X`` (read-only under copy-on-write) converts without PyTorch's
  "NumPy array is not writable" warning.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from grokkit import GrokMLPClassifier, GrokMLPRegressor
from grokkit.measures._capture import numpy_tensor


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    return X, y


def _fit_catching(estimator, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(*args, **kwargs)
    return [w for w in caught if issubclass(w.category, UserWarning)]


def _small(cls=GrokMLPClassifier, **params):
    return cls(hidden_layer_sizes=(4,), max_epochs=7, measure_every=1, measures=None, random_state=0,
               **params)


def test_fit_without_eval_set_warns_once_naming_eval_set(blobs):
    X, y = blobs
    caught = [w for w in _fit_catching(_small(), X, y) if "eval_set" in str(w.message)]
    assert len(caught) == 1  # 7 recorded epochs, one warning
    message = str(caught[0].message)
    assert "no test curve" in message and "eval_set=(X_test, y_test)" in message
    assert caught[0].filename == __file__  # points at the user's fit call


def test_fit_with_eval_set_does_not_warn_about_it(blobs):
    X, y = blobs
    caught = _fit_catching(_small(), X, y, eval_set=(X, y))
    assert not [w for w in caught if "eval_set" in str(w.message)]


def test_regressor_fit_without_eval_set_warns_too(blobs):
    X, y = blobs
    caught = _fit_catching(_small(GrokMLPRegressor), X, y.astype(np.float32))
    assert sum("no test curve" in str(w.message) for w in caught) == 1


def test_constrain_norm_with_weight_decay_warns_naming_both(blobs):
    X, y = blobs
    caught = _fit_catching(_small(constrain_norm=True), X, y, eval_set=(X, y))  # default weight_decay 0.01
    messages = [str(w.message) for w in caught if "constrain_norm" in str(w.message)]
    assert len(messages) == 1
    assert "constrain_norm=True" in messages[0] and "weight_decay=0.01" in messages[0]


@pytest.mark.parametrize("params", [{"constrain_norm": True, "weight_decay": 0.0},
                                    {"constrain_norm": False, "weight_decay": 0.01}])
def test_no_norm_warning_without_the_conflict(blobs, params):
    X, y = blobs
    caught = _fit_catching(_small(**params), X, y, eval_set=(X, y))
    assert not [w for w in caught if "constrain_norm" in str(w.message)]


def test_pandas_input_trains_and_predicts_without_the_not_writable_warning(blobs):
    X, y = blobs
    frame, series = pd.DataFrame(X, columns=["a", "b", "c"]), pd.Series(y)
    clf = GrokMLPClassifier(hidden_layer_sizes=(4,), max_epochs=3, random_state=0)  # default measures
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(frame, series, eval_set=(frame, series))
        clf.predict(frame)
        clf.predict_proba(frame)
    assert not [w for w in caught if "not writable" in str(w.message)]


def test_numpy_tensor_copies_a_read_only_array_and_shares_a_writable_one():
    read_only = np.arange(4.0)
    read_only.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        copied = numpy_tensor(read_only)
    copied[0] = 10.0
    assert read_only[0] == 0.0  # a copy: writing to the tensor leaves the array alone
    writable = np.arange(4.0)
    numpy_tensor(writable)[0] = 10.0
    assert writable[0] == 10.0  # shared memory, no copy
