"""The ``grokkit`` command line: list, reproduce, and its errors."""

import json
import re
import subprocess
import sys

import pytest
import torch

from grokkit.cli import main
from grokkit.experiments import available_experiments


def test_list_shows_every_experiment(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in available_experiments():
        assert name in out


def test_list_starts_with_the_quick_start_experiment(capsys):
    from grokkit.cli import QUICK_START

    assert main(["list"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("Start here") and f"grokkit reproduce {QUICK_START} --quick" in first
    assert QUICK_START in available_experiments()


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
    printed = capsys.readouterr().out
    assert "constrained_final_test_acc" in printed
    # summary.json stores the verdict its experiment's rule reads on the headline, and the CLI prints it
    from grokkit.experiments import get_experiment

    label, why = get_experiment("norm_constraint_removes_grokking").verdict(summary["headline"])
    assert summary["verdict"] == {"label": label, "why": why}
    assert f"verdict: {label}: {why}" in printed


def test_python_dash_m_grokkit_lists():
    result = subprocess.run([sys.executable, "-m", "grokkit", "list"], capture_output=True, text=True,
                            check=True)
    assert "synergy_redundancy_phases" in result.stdout


@pytest.fixture
def no_training(monkeypatch):
    """Replace abelian_test's run by one that fails the test if any training starts."""
    import dataclasses

    from grokkit import experiments

    def run(**kwargs):
        raise AssertionError("training started before the flags were checked")

    registry = experiments._registry()
    monkeypatch.setitem(registry, "abelian_test", dataclasses.replace(registry["abelian_test"], run=run))


def _bad_out(kind, tmp_path):
    existing = tmp_path / "existing.txt"
    existing.write_text("not a folder")
    return {"file": str(existing), "under_file": str(existing / "sub"),
            # /proc refuses new entries even to root, so this is unwritable whoever runs the test.
            "unwritable": "/proc/grokkit-test-out"}[kind]


@pytest.mark.parametrize("kind, match", [
    ("file", "is an existing file"),
    ("under_file", "lies under .*existing.txt.*which is a file"),
    ("unwritable", "cannot be written"),
])
def test_bad_out_exits_2_with_one_line_before_training(kind, match, tmp_path, capsys, no_training):
    """Issue 16 #6: the experiment ran (hours at full size), then mkdir failed and nothing was saved."""
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "abelian_test", "--out", _bad_out(kind, tmp_path)])
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grokkit: error: --out=")
    assert re.search(match, lines[0])


@pytest.mark.parametrize("kind", ["file", "under_file", "unwritable"])
def test_bad_out_fails_before_torch_is_imported(kind, tmp_path):
    """Issue 16, point 3: the command exits before it pays seconds of torch/skorch imports.

    Checked in a fresh interpreter: after ``main`` exits with status 2, neither
    torch nor grokkit's experiments have been imported.
    """
    script = (
        "import sys\n"
        "from grokkit.cli import main\n"
        "try:\n"
        f"    main(['reproduce', 'abelian_test', '--out', {_bad_out(kind, tmp_path)!r}])\n"
        "except SystemExit as exc:\n"
        "    print(exc.code, 'torch' in sys.modules, 'grokkit.experiments' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["2", "False", "False"], result.stderr
    assert result.stderr.startswith("grokkit: error: --out=")


@pytest.mark.parametrize("flags, match", [
    (["--device", "bogus"], "--device must be 'cpu', 'cuda'"),
    (["--seed", "-5"], r"--seed must be in \[0, "),
    pytest.param(["--device", "cuda"], "CUDA is not available",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")),
])
def test_bad_flag_exits_2_with_one_line(flags, match, tmp_path, capsys, no_training):
    """Issue 16 #7: a 33-line traceback and exit 1 for --device bogus, cuda without CUDA, --seed -5."""
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "abelian_test", "--out", str(tmp_path / "run"), *flags])
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and re.search(match, lines[0])
    assert not (tmp_path / "run").exists()


def test_results_survive_an_output_error(tmp_path, monkeypatch):
    """A finished run whose files cannot be moved into --out stays in the staging folder it names."""
    import types

    from grokkit import experiments

    out = tmp_path / "run"

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied", str(dst))

    # Only the final move fails: the module's own os (training may use os.replace for checkpoints).
    monkeypatch.setattr(experiments, "os", types.SimpleNamespace(replace=refuse))
    with pytest.raises(experiments.ResultsNotMoved) as info:
        experiments.reproduce("norm_constraint_removes_grokking", size="smoke", out=out, verbose=0)
    staging = info.value.staging
    assert str(staging) in str(info.value) and staging.parent == tmp_path
    summary = json.loads((staging / "summary.json").read_text())
    assert all((staging / f).exists() for f in summary["files"])
    assert not (out / "summary.json").exists()  # out may hold the runs' checkpoints, not the results


def test_reproduce_into_an_existing_folder_replaces_its_files(tmp_path):
    from grokkit import experiments

    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    (out / "notes.txt").write_text("kept")
    summary = experiments.reproduce("norm_constraint_removes_grokking", size="smoke", out=out, verbose=0)
    assert json.loads((out / "summary.json").read_text()) == summary
    assert (out / "notes.txt").read_text() == "kept"
    names = {p.name for p in out.iterdir()}
    expected = {*summary["files"], "notes.txt"}
    assert expected <= names and names - expected <= {"checkpoints"}
    assert not [p for p in out.iterdir() if ".partial-" in p.name] and not list(tmp_path.glob(".*partial-*"))


def test_python_api_checks_out_before_training(tmp_path, no_training):
    from grokkit import experiments

    (tmp_path / "f").write_text("")
    with pytest.raises(ValueError, match="out=.*is an existing file"):
        experiments.reproduce("abelian_test", size="smoke", out=tmp_path / "f")
    with pytest.raises(ValueError, match="seed"):
        experiments.reproduce("abelian_test", size="smoke", out=tmp_path / "r", seed=-1)


def test_an_interrupted_reproduction_says_how_to_continue_it_with_the_same_flags(tmp_path, capsys,
                                                                                  monkeypatch):
    import grokkit.experiments

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(grokkit.experiments, "reproduce", interrupted)
    out = str(tmp_path / "run")
    code = main(["reproduce", "abelian_test", "--quick", "--seeds", "3", "--vectorize", "off", "--out", out])
    assert code == 130
    message = capsys.readouterr().err
    assert (f"grokkit reproduce abelian_test --quick --seeds 3 --vectorize off --out {out} --seed 0 --resume"
            in message)


def test_list_into_a_pipe_that_closes_early_ends_quietly():
    """``grokkit list | head``: a reader that leaves before the listing is written gets no traceback."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-m", "grokkit", "list"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    child.stdout.close()  # before the child has imported anything, so every write meets a closed pipe
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0 and "Traceback" not in err, err
