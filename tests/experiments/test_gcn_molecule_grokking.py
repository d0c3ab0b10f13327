"""Omnigrok Fig. 5d: the GCN α = 1 / α = 3 comparison, its read-out and its verdict."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grokkit.experiments import gcn_molecule_grokking, reproduce
from grokkit.experiments.gcn_molecule_grokking import describe, molecules, verdict


def _progress(test_losses, train_losses):
    steps = [0, 100, 1000, 10000][: len(test_losses)]
    return pd.DataFrame({"step": steps, "train_loss": train_losses, "test_loss": test_losses,
                         "weight_norm": [3.0] * len(steps)})


def test_late_drop_counts_the_test_fall_beyond_the_train_fall():
    # Grokking: after the fit at step 100 train loss is flat (0.04 -> 0.03) and test falls 0.6 -> 0.06.
    grok = describe(_progress([1.0, 0.6, 0.5, 0.06], [1.0, 0.04, 0.035, 0.03]))
    assert grok["fit_step"] == 100 and grok["test_loss_at_fit"] == 0.6
    assert grok["best_test_loss_step"] == 10000 and grok["best_test_loss"] == 0.06
    assert grok["late_drop"] == pytest.approx((0.6 / 0.06) / (0.04 / 0.03))
    # Test falling together with train (both 10x after the fit) is no late drop: the fit step itself scores 1.
    joint = describe(_progress([1.0, 0.6, 0.2, 0.06], [1.0, 0.04, 0.013, 0.004]))
    assert joint["late_drop"] == pytest.approx(1.0)
    never = describe(_progress([1.0, 0.9], [1.0, 0.5]))
    assert never["fit_step"] is None and never["late_drop"] is None
    # Raw targets: the fit threshold scales with them (here 100x the losses, 100x the threshold).
    scaled = describe(_progress([100.0, 60.0, 50.0, 6.0], [100.0, 4.0, 3.5, 3.0]), fit_loss=5.0)
    assert scaled["fit_step"] == 100 and scaled["late_drop"] == pytest.approx(grok["late_drop"])


def test_verdict_reads_the_drop_of_both_runs_and_the_level_alpha3_reaches():
    one = {"late_drop": 1.1, "best_test_loss": 0.1}
    assert verdict({"alpha=1": one, "alpha=3": {"late_drop": 5.0, "test_loss_at_drop": 0.15}}).label == \
        "reproduced"
    # A late drop that ends 30x above alpha 1's best test loss: the delay without the generalisation.
    far = verdict({"alpha=1": one, "alpha=3": {"late_drop": 5.0, "test_loss_at_drop": 3.0}})
    assert far.label == "partly" and "30× α 1's best test loss" in far.why
    small = verdict({"alpha=1": one, "alpha=3": {"late_drop": 1.6, "test_loss_at_drop": 0.1}})
    assert small.label == "partly"
    assert verdict({"alpha=1": {"late_drop": 1.2, "best_test_loss": 0.1},
                    "alpha=3": {"late_drop": 1.1, "test_loss_at_drop": 0.1}}).label == "not reproduced"


def test_smoke_run_names_the_stand_in(tmp_path):
    summary = reproduce("gcn_molecule_grokking", size="smoke", out=tmp_path / "gcn", verbose=0)
    assert "environment" in summary["dataset"] and "stand-in" in summary["dataset"]
    # The sentence is read from the arrays: 40 graphs of 4 one-hot features, split 20 / 20.
    assert "40 molecules, 4 node features, no edge features" in summary["dataset"]
    assert "20 train / 20 test" in summary["dataset"]
    assert set(summary["runs"]) == {"alpha=1", "alpha=3"}
    start_1, start_3 = (summary["headline"][k]["weight_norm_start_end"][0] for k in ("alpha=1", "alpha=3"))
    assert start_3 == pytest.approx(3 * start_1, rel=100 * float(np.finfo(np.float32).eps))  # α scales


def _qm9_rows_module():
    path = Path(__file__).parents[1] / "datasets" / "test_qm9.py"
    spec = importlib.util.spec_from_file_location("qm9_rows", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_real_qm9_is_read_with_raw_targets_and_described_from_the_arrays(tmp_path, monkeypatch):
    rows = _qm9_rows_module()
    rows.write_qm9pack(tmp_path / "qm9")
    monkeypatch.setenv("GROKKIT_DATA", str(tmp_path))
    monkeypatch.setitem(gcn_molecule_grokking.CONFIG, "quick",
                        {**gcn_molecule_grokking.CONFIG["quick"], "n_train": 3, "n_test": 2})
    (X, y, X_test, y_test), dataset, variance = molecules("quick", seed=0)
    assert len(X) == 3 and len(X_test) == 2
    assert sorted([*y, *y_test]) == sorted(rows.ALPHA)  # raw polarizability, all five molecules
    assert variance == pytest.approx(np.var(y))
    assert dataset.startswith(f"QM9 (real data, read from {tmp_path / 'qm9'}): 5 molecules, a random sample")
    assert "11 node features, 4 edge features, 3–10 atoms per graph" in dataset
    assert "3 train / 2 test" in dataset and "stand-in" not in dataset
