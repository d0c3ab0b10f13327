"""`grokkit reproduce --resume`: an interrupted reproduction continues to the uninterrupted result."""

import json
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from grokkit.estimators.loop import TrainingLoop
from grokkit.experiments import reproduce

#: Long end-to-end runs: CI's second step (python -m pytest -m slow) runs them.
pytestmark = pytest.mark.slow


def _headline(out):
    return json.loads((out / "summary.json").read_text())["headline"]


def test_a_ctrl_c_midway_then_resume_ends_with_the_uninterrupted_headline(tmp_path, monkeypatch):
    whole = tmp_path / "whole"
    reproduce("abelian_test", size="smoke", out=whole, verbose=0)

    original = TrainingLoop._train_epoch
    calls = {"n": 0}

    def ctrl_c_in_the_second_run(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 40 + 25:  # the second run's 25th epoch: Ctrl-C mid-training
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    out = tmp_path / "interrupted"
    monkeypatch.setattr(TrainingLoop, "_train_epoch", ctrl_c_in_the_second_run)
    with pytest.warns(UserWarning, match="Training interrupted"), pytest.raises(KeyboardInterrupt):
        reproduce("abelian_test", size="smoke", out=out, verbose=0)
    monkeypatch.setattr(TrainingLoop, "_train_epoch", original)
    # written as it went: the finished run's rows, and the interrupted run's checkpoint
    assert set(pd.read_csv(out / "progress.csv").run) == {"standard"}
    partial = pd.read_csv(out / "checkpoints" / "abelian_penalty" / "progress.csv")
    assert 0 < partial.epoch.iloc[-1] < 40 and not (out / "summary.json").exists()

    counted = {"n": 0}

    def counting(self, *args, **kwargs):
        counted["n"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TrainingLoop, "_train_epoch", counting)
    reproduce("abelian_test", size="smoke", out=out, verbose=0, resume=True)
    assert counted["n"] == 40 - partial.epoch.iloc[-1]  # only the interrupted run's remaining epochs
    assert _headline(out) == _headline(whole)
    pd.testing.assert_frame_equal(pd.read_csv(out / "progress.csv"), pd.read_csv(whole / "progress.csv"))


def test_without_resume_old_checkpoints_are_cleared(tmp_path):
    out = tmp_path / "run"
    reproduce("abelian_test", size="smoke", out=out, verbose=0)
    stale = out / "checkpoints" / "stale"
    stale.mkdir()
    reproduce("abelian_test", size="smoke", out=out, verbose=0)
    assert not stale.exists() and (out / "checkpoints" / "standard" / "checkpoint.pt").exists()


def test_the_cli_says_how_to_resume_after_sigint(tmp_path):
    out = tmp_path / "cli"
    child = subprocess.Popen([sys.executable, "-m", "grokkit.cli", "reproduce", "abelian_test", "--quick",
                              "--quiet", "--out", str(out)], stderr=subprocess.PIPE, text=True,
                             # a shell's background job inherits SIGINT ignored; Ctrl-C needs it live
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    progress = out / "checkpoints" / "standard" / "progress.csv"
    deadline = time.monotonic() + 120
    while not progress.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130
    assert "--resume" in err and f"--out {out}" in err and "Traceback" not in err


def test_a_resumed_call_counts_the_seconds_of_the_interrupted_one(tmp_path, monkeypatch):
    import types

    import grokkit.experiments as experiments

    clock = iter([0.0, 1000.0, 0.0, 5.0])  # the interrupted call takes 1000 s, the resumed one 5 s
    monkeypatch.setattr(experiments, "time", types.SimpleNamespace(perf_counter=lambda: next(clock)))
    real = experiments._run_seeds

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    out = tmp_path / "run"
    monkeypatch.setattr(experiments, "_run_seeds", interrupted)
    with pytest.raises(KeyboardInterrupt):
        reproduce("abelian_test", size="smoke", out=out, verbose=0)
    monkeypatch.setattr(experiments, "_run_seeds", real)
    assert reproduce("abelian_test", size="smoke", out=out, verbose=0, resume=True)["seconds"] == 1005.0
    clock = iter([0.0, 7.0])
    # without resume, the earlier calls' time is not added
    assert reproduce("abelian_test", size="smoke", out=out, verbose=0)["seconds"] == 7.0
