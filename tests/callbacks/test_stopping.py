"""StopWhenGrokked: a fit ends within `patience` recorded epochs of generalisation."""

import warnings

import pytest

from grokkit import GrokMLPClassifier, ModularMLPClassifier
from grokkit.callbacks import StopWhenGrokked
from grokkit.datasets import make_modular


def test_stops_patience_recorded_epochs_after_generalising():
    X, y, Xt, yt = make_modular(p=31, train_fraction=0.6, random_state=0)
    stop = StopWhenGrokked(train_threshold=0.99, test_threshold=0.9, patience=3)
    est = ModularMLPClassifier(p=31, hidden_layer_sizes=(128,), max_epochs=1500, measure_every=20,
                               measures=None, weight_decay=1.0, random_state=0, callbacks=[stop])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.fit(X, y, eval_set=(Xt, yt))
    progress = est.progress_
    passing = (progress.train_acc >= 0.99) & (progress.test_acc >= 0.9)
    first = int(progress.epoch[passing].iloc[0])
    # the run stopped at the third consecutive passing recorded epoch, and that epoch is recorded
    assert list(passing.iloc[-3:]) == [True, True, True] and not passing.iloc[-4]
    assert progress.epoch.iloc[-1] == len(est.history) == first + 2 * 20 < 1500
    assert stop.grokked_epoch_ == first and est.stopped_by_ == "StopWhenGrokked"


def test_a_run_that_never_generalises_trains_to_the_end(blobs):
    X, y = blobs
    est = GrokMLPClassifier(hidden_layer_sizes=(8,), max_epochs=10, measures=None, random_state=0,
                            callbacks=[StopWhenGrokked(test_threshold=1.0, train_threshold=1.0, patience=50)])
    est.fit(X[:60], y[:60], eval_set=(X[60:], y[60:]))
    assert len(est.history) == 10 and est.stopped_by_ is None


@pytest.mark.parametrize("params, match", [({"patience": 0}, "patience"),
                                           ({"test_threshold": 2}, "test_threshold"),
                                           ({"train_threshold": "high"}, "train_threshold")])
def test_bad_settings_are_named(blobs, params, match):
    X, y = blobs
    est = GrokMLPClassifier(max_epochs=2, callbacks=[StopWhenGrokked(**params)])
    with pytest.raises((ValueError, TypeError), match=match):
        est.fit(X, y, eval_set=(X, y))


def test_needs_an_eval_set(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="eval_set"):
        GrokMLPClassifier(max_epochs=2, callbacks=[StopWhenGrokked()]).fit(X, y)
