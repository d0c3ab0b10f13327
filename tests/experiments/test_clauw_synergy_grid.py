"""examples/clauw_synergy_grid.py: the dense-checkpoint synergy grid behind Clauw et al.'s peak question."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "clauw_synergy_grid.py"


@pytest.fixture(scope="module")
def grid():
    spec = importlib.util.spec_from_file_location("clauw_synergy_grid", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_analysed_epochs_are_dense_until_the_cut_then_sparse(grid):
    kept = list(range(0, 200, 5))
    steps = {e: e for e in kept}
    chosen = grid.analysed_epochs(kept, steps, until=60, sparse_every=50)
    assert chosen == list(range(0, 65, 5)) + [100, 150]


def test_onsets_read_half_peak_synergy_and_the_middle_of_the_test_rise(grid):
    table = pd.DataFrame({"run": "wd=2", "seed": 0, "step": [0, 10, 20, 30, 40],
                          "test_acc": [0.0, 0.2, 0.6, 0.9, 1.0], "oinfo_min": [0.0, -0.1, -0.3, -0.8, -0.5]})
    summary = pd.DataFrame({"run": ["wd=2"], "seed": [0], "peak_step": [30]})
    out = grid.onsets(table, summary)
    # half of the -0.8 peak is -0.4: first reached at step 30; test passes 0.5 at step 20
    assert out.loc[0, "synergy_half_peak_step"] == 30 and out.loc[0, "test_0.5_step"] == 20
    assert not out.loc[0, "onset_before_test_0.5"]
    again = grid.onsets(table, out)  # re-summarising replaces the columns instead of adding copies
    assert list(again.columns) == list(out.columns)


@pytest.mark.slow
def test_the_script_trains_analyses_and_re_reads_its_csv(grid, tmp_path, monkeypatch):
    out = tmp_path / "grid"
    argv = ["clauw_synergy_grid.py", "--seeds", "1", "--steps", "30", "--margin", "5", "--runs", "wd=2",
            "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    grid.main()
    table = pd.read_csv(out / "synergy_grid.csv")
    summary = pd.read_csv(out / "synergy_grid_summary.csv")
    assert set(table["run"]) == {"wd=2"} and table["oinfo_min"].notna().all()
    assert summary.loc[0, "checkpoints_analysed"] == len(table)
    assert (out / "synergy_grid.png").stat().st_size > 0
    monkeypatch.setattr(sys, "argv", [*argv, "--from-csv"])
    grid.main()
    pd.testing.assert_frame_equal(pd.read_csv(out / "synergy_grid_summary.csv"), summary)
