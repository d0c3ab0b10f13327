"""Issue 14, point 3: a sweep SIGKILLed halfway and re-run with memory= trains only the missing runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

SCRIPT = textwrap.dedent("""
    import sys, torch
    torch.set_num_threads(1)
    from grokkit import GrokMLPClassifier, Sweep
    from grokkit.datasets import load_digits_split
    X, y, Xt, yt = load_digits_split(120, random_state=0)
    base = GrokMLPClassifier(hidden_layer_sizes=(32,), batch_size=40, max_epochs=int(sys.argv[2]),
                             measures=None)
    sweep = Sweep(base, {"weight_decay": [0.0, 0.1, 1.0]}, seeds=2, max_stacked=1, memory=sys.argv[1])
    sweep.fit(X, y, eval_set=(Xt, yt))
    print("trained", sweep.n_trained_)
    sweep.results_.drop(columns=["executor", "note"]).to_csv(sys.argv[1] + "/results.csv")
""")


def _cached(folder) -> int:
    path = folder / "grokkit-sweep"
    return len(list(path.glob("*.pkl"))) if path.exists() else 0


@pytest.mark.slow
def test_killed_sweep_resumes_from_memory(tmp_path):
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    killed.mkdir(), whole.mkdir()
    epochs = "60"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(killed), epochs],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while _cached(killed) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep finished before it could be killed: " + proc.stderr.read()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = _cached(killed)
    assert 3 <= done < 6
    rerun = subprocess.run([sys.executable, "-c", SCRIPT, str(killed), epochs], capture_output=True,
                           text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.split() == ["trained", str(6 - done)]
    print(f"killed with {done} of 6 runs cached; the re-run trained {6 - done}")
    fresh = subprocess.run([sys.executable, "-c", SCRIPT, str(whole), epochs], capture_output=True,
                           text=True, timeout=600)
    assert fresh.stdout.split() == ["trained", "6"], fresh.stderr
    pd.testing.assert_frame_equal(pd.read_csv(killed / "results.csv"), pd.read_csv(whole / "results.csv"))
