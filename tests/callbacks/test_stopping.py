"""Stop rules: StopWhenGrokked ends a fit within `patience` recorded epochs of generalisation,
StopWhenConverged one window after the best loss stopped improving."""

import warnings

import numpy as np
import pytest

from grokkit import GrokMLPClassifier, GrokMLPRegressor, ModularMLPClassifier
from grokkit.callbacks import StopWhenConverged, StopWhenGrokked
from grokkit.datasets import make_modular, make_teacher_student


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


# ----------------------------------------------------------------------------- StopWhenConverged
class _Net:
    """What the rule reads of a net: a skorch History."""

    def __init__(self):
        from skorch.history import History

        self.history = History()


def _drive(rule, losses):
    """Feed ``losses`` (epochs 1, 2, ...) to ``rule``; return the epoch it stopped at, or None."""
    net = _Net()
    rule.initialize()
    rule.on_train_begin(net)
    for epoch, loss in enumerate(losses, start=1):
        net.history.new_epoch()
        net.history.record("epoch", epoch)
        net.history.record("train_loss", float(loss))
        try:
            rule.on_epoch_end(net)
        except KeyboardInterrupt:
            return epoch
    return None


def test_stops_one_window_after_the_best_loss_last_moved():
    """Drops of 10 % end at epoch 5; from epoch 5 + window the best has not moved within rtol.
    A spike upwards in between changes nothing: the rule reads the best loss, not the last."""
    losses = [1.0, 0.9, 0.8, 0.7, 0.6, 0.6, 5.0, 0.6, 0.6, 0.6, 0.6, 0.6]
    rule = StopWhenConverged(rtol=0.01, window=5)
    assert _drive(rule, losses) == 10
    assert rule.converged_epoch_ == 10 and rule.best_ == 0.6


def test_a_loss_that_keeps_falling_by_more_than_rtol_never_stops():
    rtol, window = 1e-3, 20
    factor = (1 - 2 * rtol) ** (1 / window)  # the best falls by 2·rtol of itself every window
    rule = StopWhenConverged(rtol=rtol, window=window)
    assert _drive(rule, factor ** np.arange(1, 2001)) is None
    assert rule.converged_epoch_ is None
    # falling by half of rtol per window instead: stops as soon as a whole window has passed
    slower = (1 - rtol / 2) ** (1 / window)
    assert _drive(StopWhenConverged(rtol=rtol, window=window), slower ** np.arange(1, 2001)) == window + 1


def test_atol_ends_a_geometric_fall_towards_zero():
    """2^-t halves every epoch: relative change 1/2 for ever, absolute change 2^-t < 1e-3 from t = 10."""
    halving = 0.5 ** np.arange(1, 61)
    assert _drive(StopWhenConverged(rtol=0.0, atol=0.0, window=1), halving) is None
    assert _drive(StopWhenConverged(rtol=0.0, atol=1e-3, window=1), halving) == 10


@pytest.fixture(scope="module")
def noisy_teacher():
    """Teacher-student targets plus noise that 8 tanh units cannot fit: the loss has a floor."""
    X, y, _, _ = make_teacher_student(n_train=40, n_test=10, widths=(8,), random_state=0)
    return X, y + 0.3 * np.random.RandomState(1).normal(size=y.shape).astype(np.float32)


def test_stops_a_real_fit_before_max_epochs_where_the_rule_first_holds(noisy_teacher, one_torch_thread):
    X, y = noisy_teacher
    rtol, window = 1e-2, 20
    rule = StopWhenConverged(rtol=rtol, window=window)
    est = GrokMLPRegressor(hidden_layer_sizes=(8,), activation="tanh", lr=3e-2, batch_size=None,
                           max_epochs=3000, measures=None, random_state=0, callbacks=[rule])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=".*without eval_set records no test curve")
        est.fit(X, y)
    stopped = len(est.history)
    assert est.stopped_by_ == "StopWhenConverged" and rule.converged_epoch_ == stopped < 3000
    assert est.progress_["epoch"].iloc[-1] == stopped  # the last epoch is recorded
    # the same rule, recomputed from the history: the first epoch where it holds is the last epoch
    best = np.minimum.accumulate(np.asarray(est.history[:, "train_loss"]))
    then, now = best[:-window], best[window:]
    holds = then - now <= rtol * np.abs(then)
    assert holds[-1] and not holds[:-1].any()


def test_a_fit_still_improving_at_max_epochs_trains_to_the_end(noisy_teacher, one_torch_thread):
    X, y = noisy_teacher
    rtol, window = 1e-3, 5
    est = GrokMLPRegressor(hidden_layer_sizes=(8,), activation="tanh", lr=3e-2, batch_size=None,
                           max_epochs=60, measures=None, random_state=0,
                           callbacks=[StopWhenConverged(rtol=rtol, window=window)]).fit(X, y)
    assert len(est.history) == 60 and est.stopped_by_ is None
    best = np.minimum.accumulate(np.asarray(est.history[:, "train_loss"]))
    assert np.all(best[:-window] - best[window:] > rtol * best[:-window])  # it was still improving


def test_works_in_a_plain_skorch_net():
    """skorch's own loop stops on the same KeyboardInterrupt (``NeuralNet.partial_fit`` catches it)."""
    import torch
    from skorch import NeuralNetRegressor

    rng = np.random.RandomState(0)
    X = rng.normal(size=(64, 3)).astype(np.float32)
    y = (X @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32))
    net = NeuralNetRegressor(torch.nn.Linear(3, 1), max_epochs=500, lr=0.1, train_split=None, verbose=0,
                             callbacks=[StopWhenConverged(rtol=1e-3, window=10, atol=1e-8)])
    net.fit(X, y)
    assert len(net.history) < 500
    assert net.history[-1, "train_loss"] < 1e-4


def test_each_fit_starts_a_new_window(blobs):
    """Like skorch's EarlyStopping, a continued fit (partial_fit) trains at least a window again."""
    X, y = blobs
    rule = StopWhenConverged(rtol=0.5, window=3)  # loose: stops as soon as a window has passed
    est = GrokMLPClassifier(hidden_layer_sizes=(4,), max_epochs=50, measures=None, random_state=0,
                            callbacks=[rule]).fit(X, y)
    first = len(est.history)
    assert est.stopped_by_ == "StopWhenConverged" and first == 4
    est.partial_fit(X, y)
    assert len(est.history) == first + 4 and rule.converged_epoch_ == first + 4


@pytest.mark.parametrize("params, error, match", [
    ({"rtol": -1e-3}, ValueError, "rtol"), ({"rtol": float("inf")}, ValueError, "rtol"),
    ({"atol": "small"}, TypeError, "atol"), ({"window": 0}, ValueError, "window"),
    ({"window": 2.5}, TypeError, "window"), ({"monitor": 3}, TypeError, "monitor"),
])
def test_bad_converged_settings_are_named(blobs, params, error, match):
    X, y = blobs
    est = GrokMLPClassifier(max_epochs=2, measures=None, callbacks=[StopWhenConverged(**params)])
    with pytest.raises(error, match=match):
        est.fit(X, y)


def test_a_monitor_the_history_lacks_is_named(blobs):
    X, y = blobs
    est = GrokMLPClassifier(max_epochs=2, measures=None, callbacks=[StopWhenConverged(monitor="valid_loss")])
    with pytest.raises(ValueError, match=r"monitor='valid_loss' is not in .*train_loss"):
        est.fit(X, y)  # no eval_set: no valid_loss


def test_default_rule_stops_on_a_plateau_that_grokking_summary_reads_as_generalised():
    from grokkit.progress import grokking_summary

    X, y, Xt, yt = make_modular(p=31, train_fraction=0.6, random_state=0)
    stop = StopWhenGrokked(patience=3)
    est = ModularMLPClassifier(p=31, hidden_layer_sizes=(128,), max_epochs=1500, measure_every=20,
                               measures=None, weight_decay=1.0, random_state=0, callbacks=[stop])
    est.fit(X, y, eval_set=(Xt, yt))
    progress = est.progress_
    assert est.stopped_by_ == "StopWhenGrokked" and progress.epoch.iloc[-1] < 1500
    last3 = progress.iloc[-3:]
    best = progress.test_acc.max()
    # the last three recorded epochs are memorised and within 5 % of the best so far
    assert (last3.train_acc >= 0.99).all() and (last3.test_acc >= 0.95 * best).all()
    summary = grokking_summary(progress)
    assert summary["generalization_epoch"] is not None
    assert summary["generalization_epoch"] <= stop.grokked_epoch_
