"""The ``grokkit`` command line: list, reproduce, and its errors."""

import json
import subprocess
import sys

import pytest

from grokkit.cli import main
from grokkit.experiments import available_experiments


def test_list_shows_every_experiment(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in available_experiments():
        assert name in out


def test_unknown_experiment_lists_valid_names(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "mnist_grokking_typo", "--quick"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "mnist_grokking_typo" in err and "mnist_alpha_grokking" in err


def test_quick_and_size_are_exclusive(capsys):
    with pytest.raises(SystemExit):
        main(["reproduce", "abelian_test", "--quick", "--size", "smoke"])


def test_reproduce_writes_csv_json_and_pngs(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["reproduce", "norm_constraint_removes_grokking", "--size", "smoke", "--out", str(out),
                 "--seed", "1", "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 1 and summary["size"] == "smoke"
    assert (out / "progress.csv").stat().st_size > 0
    assert all((out / f).exists() for f in summary["files"])
    assert "constrained_final_test_acc" in capsys.readouterr().out


def test_python_dash_m_grokkit_lists():
    result = subprocess.run([sys.executable, "-m", "grokkit", "list"], capture_output=True, text=True,
                            check=True)
    assert "synergy_redundancy_phases" in result.stdout
