"""skorch's stock callbacks, each with skorch's own class, on grokkit estimators: each does its job."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from skorch.callbacks import (
    Checkpoint,
    EarlyStopping,
    EpochTimer,
    GradientNormClipping,
    LoadInitState,
    PrintLog,
    ProgressBar,
    TensorBoard,
    TrainEndCheckpoint,
    WandbLogger,
)

from grokkit import GrokMLPClassifier, GrokMLPRegressor, ModularMLPClassifier
from grokkit.datasets import make_modular


@pytest.fixture(scope="module")
def split(blobs):
    X, y = blobs
    return X[:60], y[:60], X[60:], y[60:]


def _clf(**params):
    base = dict(hidden_layer_sizes=(8,), lr=1e-2, batch_size=20, measures=("weight_norm",),
                random_state=0, max_epochs=12)
    return GrokMLPClassifier(**{**base, **params})


def test_history_has_skorchs_keys_on_every_epoch_and_valid_loss_on_recorded_ones(split):
    X, y, Xt, yt = split
    clf = _clf(measure_every=3).fit(X, y, eval_set=(Xt, yt))
    assert len(clf.history) == 12 and clf.history[:, "epoch"] == list(range(1, 13))
    train_loss = clf.history[:, "train_loss"]
    assert all(math.isfinite(v) for v in train_loss)
    # train_loss is the mean of the epoch's minibatch objectives (one summary row per epoch)
    assert clf.history[:, "batches", :, "train_loss"] == [[v] for v in train_loss]
    assert clf.history[:, "train_batch_count"] == [3] * 12 and clf.history[-1, "step"] == 36
    # train_loss_best as skorch computes it: strictly below every earlier epoch
    running = np.minimum.accumulate(train_loss)
    expected = [True] + [bool(v < b) for v, b in zip(train_loss[1:], running[:-1], strict=False)]
    assert clf.history[:, "train_loss_best"] == expected
    recorded = [row for row in clf.history if "valid_loss" in row]
    assert [row["epoch"] for row in recorded] == [3, 6, 9, 12]
    assert [row["valid_loss"] for row in recorded] == list(clf.progress_.test_loss.iloc[1:])
    # progress_ keeps its columns: train_loss there is the recorded full-set loss, epoch 0 included
    assert list(clf.progress_.columns[:7]) == ["epoch", "step", "train_loss", "train_acc", "test_loss",
                                               "test_acc", "weight_norm"]
    assert not set(clf.progress_.columns) & {"valid_loss", "valid_loss_best", "train_loss_best", "dur",
                                              "batches", "full_train_loss", "train_batch_count"}
    assert list(clf.progress_.epoch) == [0, 3, 6, 9, 12]


def test_checkpoint_writes_files_that_load_init_state_resumes_from(split, tmp_path):
    X, y, Xt, yt = split
    checkpoint = Checkpoint(dirname=str(tmp_path / "cp"))
    first = _clf(callbacks=[checkpoint]).fit(X, y, eval_set=(Xt, yt))
    assert {p.name for p in (tmp_path / "cp").iterdir()} >= {"params.pt", "optimizer.pt", "history.json"}
    best = int(np.argmin(first.history[:, "valid_loss"])) + 1  # every epoch is recorded here
    again = _clf(max_epochs=3, callbacks=[LoadInitState(Checkpoint(dirname=str(tmp_path / "cp")))])
    again.fit(X, y, eval_set=(Xt, yt))
    # the new fit continued the checkpointed history (the best-valid-loss epoch) for 3 more epochs
    assert again.history[:, "epoch"] == list(range(1, best + 4))
    assert again.progress_.epoch.iloc[0] == 0 and again.n_steps_ == (best + 3) * 3


def test_checkpoint_without_monitor_saves_every_epoch(split, tmp_path):
    X, y, Xt, yt = split
    clf = _clf(max_epochs=4, callbacks=[Checkpoint(monitor=None, dirname=str(tmp_path),
                                                   f_params="params_{last_epoch[epoch]}.pt")])
    clf.fit(X, y)
    assert sorted(p.name for p in tmp_path.glob("params_*.pt")) == [f"params_{e}.pt" for e in range(1, 5)]


@pytest.mark.parametrize("make", [
    lambda: _clf(),
    lambda: GrokMLPRegressor(hidden_layer_sizes=(8,), max_epochs=5, random_state=0, measures=None),
    lambda: ModularMLPClassifier(p=11, hidden_layer_sizes=(16,), max_epochs=5, random_state=0,
                                 measures=("weight_norm",)),
])
def test_train_end_checkpoint_loads_into_a_fresh_unfitted_estimator(split, tmp_path, make):
    X, y, Xt, yt = split
    if isinstance(make(), GrokMLPRegressor):
        y, yt = X[:, 0] * 0.5, Xt[:, 0] * 0.5
    elif isinstance(make(), ModularMLPClassifier):
        X, y, Xt, yt = make_modular(p=11, train_fraction=0.5, random_state=0)
    else:
        y, yt = np.array(["ant", "bee", "cat"])[y], np.array(["ant", "bee", "cat"])[yt]  # string labels
    end = TrainEndCheckpoint(dirname=str(tmp_path))
    fitted = make().set_params(callbacks=[end]).fit(X, y, eval_set=(Xt, yt))
    fresh = make()
    fresh.load_params(checkpoint=TrainEndCheckpoint(dirname=str(tmp_path)))
    np.testing.assert_array_equal(fresh.predict(Xt), fitted.predict(Xt))
    assert fresh.n_steps_ == fitted.n_steps_
    pd.testing.assert_frame_equal(fresh.progress_, fitted.progress_)


def test_save_params_load_params_into_a_fresh_estimator(split, tmp_path):
    X, y, Xt, yt = split
    fitted = _clf().fit(X, y, eval_set=(Xt, yt))
    fitted.save_params(f_params=tmp_path / "p.pt", f_optimizer=tmp_path / "o.pt",
                       f_history=tmp_path / "h.json")
    fresh = _clf()
    fresh.load_params(f_params=tmp_path / "p.pt", f_optimizer=tmp_path / "o.pt",
                      f_history=tmp_path / "h.json")
    np.testing.assert_array_equal(fresh.predict_proba(Xt), fitted.predict_proba(Xt))
    assert fresh.progress_.equals(fitted.progress_) and fresh.n_steps_ == fitted.n_steps_
    # the params file is also readable with torch.load(weights_only=True)
    state = torch.load(tmp_path / "p.pt", weights_only=True)
    assert state["grokkit.fit"]["classes_"] == [0, 1, 2]
    with pytest.raises(ValueError, match="not fitted: load_params needs f_params"):
        _clf().load_params(f_history=tmp_path / "h.json")


def test_early_stopping_on_train_loss_stops_quietly_with_the_last_epoch_recorded(split):
    X, y, Xt, yt = split
    stopper = EarlyStopping(monitor="train_loss", patience=3, threshold=0.5)  # 50 % better each epoch
    clf = _clf(max_epochs=200, measure_every=50, callbacks=[stopper])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Training interrupted" warning
        clf.fit(X, y, eval_set=(Xt, yt))
    stopped = len(clf.history)
    assert stopped < 200 and clf.stopped_by_ == "EarlyStopping"
    assert clf.progress_.epoch.iloc[-1] == stopped and not clf.interrupted_


def test_early_stopping_on_a_recorded_key_counts_recorded_epochs_only(split):
    X, y, Xt, yt = split
    stopper = EarlyStopping(monitor="valid_loss", patience=2, threshold=10.0)  # never improves enough
    clf = _clf(max_epochs=100, measure_every=5, callbacks=[stopper]).fit(X, y, eval_set=(Xt, yt))
    # epoch 5 sets the threshold, 10 and 15 are the two misses: unrecorded epochs were skipped
    assert len(clf.history) == 15 and list(clf.progress_.epoch) == [0, 5, 10, 15]


def test_progress_bar_epoch_timer_and_print_log(split, monkeypatch):
    import tqdm

    updates = []
    monkeypatch.setattr(tqdm.tqdm, "update", lambda self, n=1: updates.append(n))
    X, y, Xt, yt = split
    lines = []
    bar = ProgressBar()
    clf = _clf(max_epochs=3, callbacks=[bar, EpochTimer(), PrintLog(sink=lines.append)])
    clf.fit(X, y, eval_set=(Xt, yt))
    assert len(updates) == 9  # the bar advanced at each of the 3 x 3 minibatches
    assert all(row["dur"] > 0 for row in clf.history)
    log = "\n".join(lines)
    assert "train_loss" in log and "valid_loss" in log and len(log.splitlines()) >= 3 + 2  # header, rule
    assert all(len(row["batches"]) == 4 for row in clf.history)  # 3 train batches + the valid summary


def test_gradient_norm_clipping_bounds_each_step(split):
    X, y, _, _ = split
    clip = 1e-3
    clf = _clf(optimizer="sgd", lr=1.0, weight_decay=0.0, batch_size=-1, max_epochs=1, measures=None,
               keep_checkpoints=True, callbacks=[GradientNormClipping(gradient_clip_value=clip)])
    clf.fit(X, y)
    before, after = clf.module_at(0), clf.module_
    pairs = zip(after.parameters(), before.parameters(), strict=True)
    step = torch.sqrt(sum(((a - b) ** 2).sum() for a, b in pairs))
    eps = torch.finfo(torch.float32).eps
    assert float(step) <= clip * (1 + 100 * eps)
    unclipped = _clf(optimizer="sgd", lr=1.0, weight_decay=0.0, batch_size=-1, max_epochs=1,
                     measures=None, keep_checkpoints=True).fit(X, y)
    free = torch.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(unclipped.module_.parameters(),
                                                               unclipped.module_at(0).parameters(),
                                                               strict=True)))
    assert float(free) > 10 * clip  # the clip did something


def test_tensorboard_logs_the_recorded_scalars(split, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard import SummaryWriter

    X, y, Xt, yt = split
    writer = SummaryWriter(log_dir=str(tmp_path))
    clf = _clf(max_epochs=6, measure_every=2, callbacks=[TensorBoard(writer)]).fit(X, y, eval_set=(Xt, yt))
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"Loss/train_loss", "Loss/valid_loss", "Loss/train_acc", "weight_norm"} <= tags
    assert [e.step for e in events.Scalars("Loss/train_loss")] == list(range(1, 7))
    assert [e.step for e in events.Scalars("Loss/valid_loss")] == [2, 4, 6]
    accs = [e.value for e in events.Scalars("Loss/train_acc")]
    assert accs == pytest.approx(list(clf.progress_.train_acc.iloc[1:]), rel=1e-6)


def test_wandb_logger_with_its_defaults_offline(split, tmp_path, monkeypatch):
    wandb = pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    X, y, Xt, yt = split
    run = wandb.init(mode="offline", dir=str(tmp_path), project="grokkit-test")
    try:
        clf = _clf(max_epochs=4, measure_every=2, callbacks=[WandbLogger(run)])
        clf.fit(X, y, eval_set=(Xt, yt))
        saved = list(tmp_path.rglob("best_model.pth"))  # save_model=True: the best valid_loss params
        assert len(saved) == 1
        state = torch.load(saved[0], weights_only=True)
        assert set(clf.module_.state_dict()) <= set(state)
        assert run.summary["train_loss"] == pytest.approx(clf.history[-1, "train_loss"])
    finally:
        run.finish()
