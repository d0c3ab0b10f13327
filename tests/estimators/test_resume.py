"""Resumable runs: checkpoint_dir, a run killed and continued equals a run never interrupted."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from skorch.callbacks import Callback, LRScheduler
from torch.optim.lr_scheduler import StepLR

from grokkit import GrokMLPClassifier, ModularMLPClassifier
from grokkit.callbacks import StopWhenGrokked
from grokkit.datasets import make_modular


class Crash(Callback):
    """Raises at a given epoch while armed (a class attribute, so not part of the fingerprint)."""

    armed = False
    at = 0

    def on_epoch_end(self, net, **kwargs):
        if Crash.armed and net.history[-1, "epoch"] == Crash.at:
            raise RuntimeError("simulated crash")


class EpochCounter(Callback):
    """Counts the epochs this fit trained (no trailing underscore: not state a checkpoint restores)."""

    def initialize(self):
        self.trained = 0
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.trained += 1


@pytest.fixture(scope="module")
def modular():
    return make_modular(p=13, train_fraction=0.5, random_state=0)


def _cases(blobs, modular):
    X, y = blobs
    digits = dict(
        make=lambda **kw: GrokMLPClassifier(hidden_layer_sizes=(16,), batch_size=16, dropout=0.2,
                                            input_noise=(0.5, 0.05), max_epochs=20, measure_every=3,
                                            measures=("weight_norm", "circuit_complexity"),
                                            random_state=3, **kw),
        data=(X[:60], y[:60], (X[60:], y[60:])))
    Xm, ym, Xmt, ymt = modular
    constrained = dict(
        make=lambda **kw: ModularMLPClassifier(p=13, hidden_layer_sizes=(32,), alpha=2.0, weight_decay=0.0,
                                               constrain_norm=True, max_epochs=20, measure_every=4,
                                               random_state=1, **kw),
        data=(Xm, ym, (Xmt, ymt)))
    scheduled = dict(
        make=lambda **kw: GrokMLPClassifier(hidden_layer_sizes=(8,), batch_size=30, max_epochs=20,
                                            measure_every=5, measures=None, random_state=0, **kw),
        data=(X, y, None), callbacks=lambda: [LRScheduler(StepLR, step_size=3, gamma=0.5)])
    return {"minibatch_dropout_noise": digits, "constrained_modular": constrained, "lr_schedule": scheduled}


@pytest.mark.parametrize("case", ["minibatch_dropout_noise", "constrained_modular", "lr_schedule"])
def test_a_crashed_run_continues_to_the_uninterrupted_result(blobs, modular, tmp_path, case):
    spec = _cases(blobs, modular)[case]
    X, y, eval_set = spec["data"]
    extra = spec.get("callbacks", list)

    reference = spec["make"](callbacks=[Crash(), EpochCounter(), *extra()]).fit(X, y, eval_set=eval_set)
    Crash.armed, Crash.at = True, 11
    try:
        with pytest.raises(RuntimeError, match="simulated crash"):
            spec["make"](checkpoint_dir=tmp_path, callbacks=[Crash(), EpochCounter(), *extra()]).fit(
                X, y, eval_set=eval_set)
    finally:
        Crash.armed = False
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert saved["epoch"] < 11 and not saved["done"]
    assert pd.read_csv(tmp_path / "progress.csv").epoch.iloc[-1] == saved["epoch"]
    resumed = spec["make"](checkpoint_dir=tmp_path, callbacks=[Crash(), EpochCounter(), *extra()])
    resumed.fit(X, y, eval_set=eval_set)
    pd.testing.assert_frame_equal(resumed.progress_, reference.progress_)
    states = zip(resumed.module_.state_dict().items(), reference.module_.state_dict().items(), strict=True)
    for (name, a), (_, b) in states:
        assert torch.equal(a, b), name
    counter = dict(resumed.callbacks_)["EpochCounter"]
    assert counter.trained == 20 - saved["epoch"]  # only the remaining epochs were trained
    assert resumed.history[:, "epoch"] == list(range(1, 21))


def test_a_finished_run_is_returned_as_it_was(blobs, tmp_path):
    X, y = blobs
    make = lambda: GrokMLPClassifier(hidden_layer_sizes=(8,), max_epochs=6, measures=None,  # noqa: E731
                                     random_state=0, checkpoint_dir=tmp_path, callbacks=[EpochCounter()])
    first = make().fit(X, y)
    again = make().fit(X, y)
    assert dict(again.callbacks_)["EpochCounter"].trained == 0
    pd.testing.assert_frame_equal(again.progress_, first.progress_)
    np.testing.assert_array_equal(again.predict_proba(X), first.predict_proba(X))
    longer = make().set_params(max_epochs=9).fit(X, y)  # a larger budget extends the run
    assert dict(longer.callbacks_)["EpochCounter"].trained == 3 and len(longer.history) == 9


def test_a_run_stopped_by_a_rule_stays_stopped(tmp_path):
    X, y, Xt, yt = make_modular(p=31, train_fraction=0.6, random_state=0)
    make = lambda: ModularMLPClassifier(p=31, hidden_layer_sizes=(128,), max_epochs=1000,  # noqa: E731
                                        measure_every=20, measures=None, random_state=0,
                                        checkpoint_dir=tmp_path, weight_decay=1.0,
                                        callbacks=[StopWhenGrokked(test_threshold=0.9, patience=2)])
    first = make().fit(X, y, eval_set=(Xt, yt))
    assert first.stopped_by_ == "StopWhenGrokked" and len(first.history) < 1000
    again = make().fit(X, y, eval_set=(Xt, yt))
    assert len(again.history) == len(first.history)
    pd.testing.assert_frame_equal(again.progress_, first.progress_)


@pytest.mark.parametrize("change, named", [({"lr": 0.5}, "lr"), ({"alpha": 3.0}, "alpha"),
                                            ({"random_state": 9}, "random_state"), ("data", "data")])
def test_a_checkpoint_of_another_run_is_refused(blobs, tmp_path, change, named):
    X, y = blobs
    params = dict(hidden_layer_sizes=(8,), max_epochs=3, measures=None, random_state=0,
                  checkpoint_dir=tmp_path)
    GrokMLPClassifier(**params).fit(X, y)
    if change == "data":
        est, X = GrokMLPClassifier(**params), X + 1.0
    else:
        est = GrokMLPClassifier(**{**params, **change})
    with pytest.raises(ValueError, match=f"checkpoint of a different run: {named} is"):
        est.fit(X, y)


def test_an_unreadable_checkpoint_is_named(blobs, tmp_path):
    X, y = blobs
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="unreadable checkpoint .*checkpoint.pt.*delete it"):
        GrokMLPClassifier(max_epochs=2, checkpoint_dir=tmp_path).fit(X, y)


_SCRIPT = """
import pickle, sys, time
from pathlib import Path
import torch
from skorch.callbacks import Callback
from grokkit import ModularMLPClassifier
from grokkit.datasets import make_modular

class Slow(Callback):
    def on_epoch_end(self, net, **kwargs):
        time.sleep(0.004)

class EpochCounter(Callback):
    def initialize(self):
        self.trained = 0
        return self
    def on_epoch_begin(self, net, **kwargs):
        self.trained += 1

out, checkpoint_dir = Path(sys.argv[1]), sys.argv[2]
X, y, Xt, yt = make_modular(p=17, train_fraction=0.5, random_state=0)
est = ModularMLPClassifier(p=17, hidden_layer_sizes=(48,), max_epochs=EPOCHS, measure_every=10,
                           input_noise=(0.3, 0.02), measures=("weight_norm", "commutativity"),
                           random_state=5, callbacks=[Slow(), EpochCounter()],
                           checkpoint_dir=None if checkpoint_dir == "-" else checkpoint_dir)
est.fit(X, y, eval_set=(Xt, yt))
out.mkdir(exist_ok=True)
est.progress_.to_pickle(out / "progress.pkl")
torch.save(est.module_.state_dict(), out / "params.pt")
(out / "trained").write_text(str(dict(est.callbacks_)["EpochCounter"].trained))
"""


@pytest.mark.slow
def test_kill_minus_nine_and_resume_in_a_new_process(tmp_path):
    epochs = 450
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(_SCRIPT).replace("EPOCHS", str(epochs)))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    checkpoints = tmp_path / "ckpt"
    child = subprocess.Popen([sys.executable, str(script), str(tmp_path / "killed"), str(checkpoints)],
                             env=env)
    progress, deadline = checkpoints / "progress.csv", time.monotonic() + 120
    while time.monotonic() < deadline:
        if progress.exists() and pd.read_csv(progress).epoch.iloc[-1] >= epochs // 3:
            break
        if child.poll() is not None:
            pytest.fail("the child finished before it could be killed")
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    at_kill = torch.load(checkpoints / "checkpoint.pt", weights_only=False)["epoch"]
    assert epochs // 3 <= at_kill < epochs and not (tmp_path / "killed").exists()

    for out, directory in (("resumed", str(checkpoints)), ("reference", "-")):
        subprocess.run([sys.executable, str(script), str(tmp_path / out), directory], env=env, check=True)
    resumed = pd.read_pickle(tmp_path / "resumed" / "progress.pkl")
    reference = pd.read_pickle(tmp_path / "reference" / "progress.pkl")
    pd.testing.assert_frame_equal(resumed, reference)
    a = torch.load(tmp_path / "resumed" / "params.pt")
    b = torch.load(tmp_path / "reference" / "params.pt")
    assert all(torch.equal(a[k], b[k]) for k in b)
    assert int((tmp_path / "resumed" / "trained").read_text()) == epochs - at_kill
    assert int((tmp_path / "reference" / "trained").read_text()) == epochs
    print(f"killed after epoch {at_kill} of {epochs}; the new process trained {epochs - at_kill}")
    assert Path(checkpoints / "checkpoint.pt").exists()


def test_kept_checkpoints_are_written_once_and_resumed(blobs, tmp_path):
    X, y = blobs
    make = lambda **kw: GrokMLPClassifier(hidden_layer_sizes=(8,), max_epochs=12, measure_every=3,  # noqa: E731
                                          measures=None, random_state=0, keep_checkpoints=True, **kw)
    reference = make().fit(X, y)
    Crash.armed, Crash.at = True, 8
    try:
        with pytest.raises(RuntimeError):
            make(checkpoint_dir=tmp_path, callbacks=[Crash()]).fit(X, y)
    finally:
        Crash.armed = False
    assert sorted(int(p.stem) for p in (tmp_path / "kept").glob("*.pt")) == [0, 3, 6]
    resumed = make(checkpoint_dir=tmp_path, callbacks=[Crash()]).fit(X, y)
    assert sorted(resumed.checkpoints_) == sorted(reference.checkpoints_) == [0, 3, 6, 9, 12]
    for epoch in (3, 12):
        for key, value in reference.checkpoints_[epoch].items():
            assert torch.equal(resumed.checkpoints_[epoch][key], value)


@pytest.mark.parametrize("every", [4, "0.000001s"])
def test_checkpoint_every_checkpoints_between_recorded_epochs_and_resumes_bit_for_bit(blobs, modular,
                                                                                        tmp_path, every):
    """``checkpoint_every`` (4 steps = 1 epoch here, or any time at all) loses at most one epoch to a
    crash, where the recorded epochs alone (every 3rd) lose up to 3; the resumed run is unchanged."""
    spec = _cases(blobs, modular)["minibatch_dropout_noise"]
    X, y, eval_set = spec["data"]
    reference = spec["make"](callbacks=[Crash(), EpochCounter()]).fit(X, y, eval_set=eval_set)
    Crash.armed, Crash.at = True, 11
    try:
        with pytest.raises(RuntimeError, match="simulated crash"):
            spec["make"](checkpoint_dir=tmp_path, checkpoint_every=every,
                         callbacks=[Crash(), EpochCounter()]).fit(X, y, eval_set=eval_set)
    finally:
        Crash.armed = False
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert saved["epoch"] == 10 and saved["n_steps"] == 40  # the recorded epochs alone: 9
    assert pd.read_csv(tmp_path / "progress.csv").epoch.iloc[-1] == 9
    # the cadence may differ between the interrupted and the resuming fit
    resumed = spec["make"](checkpoint_dir=tmp_path, callbacks=[Crash(), EpochCounter()])
    resumed.fit(X, y, eval_set=eval_set)
    pd.testing.assert_frame_equal(resumed.progress_, reference.progress_)
    for (name, a), (_, b) in zip(resumed.module_.state_dict().items(), reference.module_.state_dict().items(),
                                 strict=True):
        assert torch.equal(a, b), name
    assert dict(resumed.callbacks_)["EpochCounter"].trained == 10


@pytest.mark.parametrize(("params", "match"), [
    ({"checkpoint_every": 5}, "checkpoint_every=5 needs checkpoint_dir"),
    ({"checkpoint_every": "3 days", "checkpoint_dir": "x"},
     "checkpoint_every' parameter .* must be None or a number of steps"),
    ({"checkpoint_every": 0, "checkpoint_dir": "x"}, "checkpoint_every"),
    ({"checkpoint_every": "-5s", "checkpoint_dir": "x"}, "checkpoint_every"),
])
def test_checkpoint_every_is_validated(blobs, params, match):
    X, y = blobs
    with pytest.raises(ValueError, match=match):
        GrokMLPClassifier(max_epochs=1, **params).fit(X, y)


def test_checkpoint_every_spellings():
    import datetime

    from grokkit.estimators.params import parse_checkpoint_every

    assert parse_checkpoint_every(None) is None
    assert parse_checkpoint_every(500) == ("steps", 500)
    assert parse_checkpoint_every("30s") == ("seconds", 30.0)
    assert parse_checkpoint_every("5min") == ("seconds", 300.0)
    assert parse_checkpoint_every(" 1.5h ") == ("seconds", 5400.0)
    assert parse_checkpoint_every(datetime.timedelta(minutes=2)) == ("seconds", 120.0)
    for bad in (True, 0, -3, 2.5, "30", "s", "1e3s", float("inf")):
        with pytest.raises(ValueError, match="checkpoint_every must be"):
            parse_checkpoint_every(bad)
