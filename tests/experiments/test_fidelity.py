"""``grokkit fidelity``: every experiment's headline numbers over seeds beside the paper's reference."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from grokkit.cli import main
from grokkit.experiments._fidelity import flatten, markdown, rows_of
from grokkit.sweep import seed_interval

SUMMARY = {
    "experiment": "toy", "paper": "A & B", "figure": "Fig. 1", "size": "quick", "seeds": [0, 1, 2],
    "seconds": 12.5, "setting": "tiny", "dataset": "made up", "reference": {"slope": -1},
    "headline": {"slope": seed_interval([-0.9, -1.0, -1.1]), "never": seed_interval([None, None, None]),
                 "levels": {"test": 0.9, "label": "same"}, "count": 3},
}


def test_headline_leaves_become_one_row_each_with_the_interval():
    assert [k for k, _ in flatten(SUMMARY["headline"])] == ["slope", "never", "levels.test", "levels.label",
                                                           "count"]
    rows = {r["quantity"]: r for r in rows_of(SUMMARY)}
    slope = rows["slope"]
    assert slope["mean"] == pytest.approx(-1.0) and slope["n"] == 3 and slope["seeds"] == 3
    assert slope["low"] < -1.0 < slope["high"]
    assert rows["never"]["n"] == 0 and rows["never"]["n_missing"] == 3
    assert rows["levels.test"]["mean"] == 0.9 and math.isnan(rows["levels.test"]["low"])
    assert rows["levels.label"]["value"] == '"same"'
    text = markdown([SUMMARY])
    assert "## toy: Fig. 1" in text and "| never | never (3 of 3 seeds) |" in text
    assert "| slope | -1 [" in text and 'Paper: {"slope": -1}' in text


@pytest.mark.slow
def test_the_command_reproduces_then_reads_finished_runs_without_training(tmp_path, capsys, monkeypatch):
    out = tmp_path / "fidelity"
    names = ["dropout_removes_grokking", "abelian_test"]
    assert main(["fidelity", *names, "--size", "smoke", "--seeds", "2", "--out", str(out), "--quiet"]) == 0
    table = pd.read_csv(out / "fidelity.csv")
    assert set(table["experiment"]) == set(names) and set(table["seeds"]) == {2}
    assert (out / "fidelity.md").read_text().count("\n## ") == 2
    import grokkit.experiments

    def no_training(*args, **kwargs):
        raise AssertionError("a finished reproduction was trained again")

    monkeypatch.setattr(grokkit.experiments, "reproduce", no_training)
    assert main(["fidelity", *names, "--size", "smoke", "--seeds", "2", "--out", str(out), "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "fidelity.csv"), table)
    assert "2 experiments" in capsys.readouterr().out


@pytest.mark.parametrize("argv, match", [(["--seeds", "0"], "--seeds"), (["no_such_experiment"], "unknown")])
def test_bad_fidelity_flags_exit_2_with_one_line(argv, match, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fidelity", *argv, "--out", str(tmp_path / "t")])
    assert exit_.value.code == 2 and match in capsys.readouterr().err


@pytest.mark.slow
def test_the_docs_page_has_a_row_and_a_verdict_per_finished_reproduction(tmp_path):
    docutils = pytest.importorskip("docutils.core")
    out, page = tmp_path / "fidelity", tmp_path / "fidelity.rst"
    assert main(["fidelity", "abelian_test", "--size", "smoke", "--seeds", "2", "--out", str(out),
                 "--quiet"]) == 0
    # A second size in the same folder: the table shows both, each naming its size.
    assert main(["fidelity", "dropout_removes_grokking", "--size", "smoke", "--seeds", "1", "--out",
                 str(out), "--quiet"]) == 0
    assert main(["fidelity", "--no-run", "--out", str(out), "--docs", str(page)]) == 0
    table = pd.read_csv(out / "fidelity.csv")
    assert set(table["experiment"]) == {"abelian_test", "dropout_removes_grokking"}
    assert set(table["verdict"]) <= {"reproduced", "partly", "not reproduced"}
    text = page.read_text()
    assert "``abelian_test``" in text and "**smoke**, 2 seeds" in text and "**smoke**, 1 seed:" in text
    assert text.count("   * - ") == 3  # the header and one row per reproduction
    assert "Not yet reproduced into this table:" in text and "``time_to_generalize``" in text
    # The page is valid reStructuredText (errors raise at level 2).
    docutils.publish_doctree(text, settings_overrides={"halt_level": 2, "report_level": 2})


def test_bad_docs_path_exits_2_before_training(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fidelity", "--no-run", "--out", str(tmp_path / "t"), "--docs", str(tmp_path / "no" / "x.rst")])
    assert exit_.value.code == 2 and "--docs" in capsys.readouterr().err


def test_rows_carry_the_declared_kind_and_stored_intervals_are_clipped_to_it(tmp_path):
    import json

    from grokkit.experiments._fidelity import _finished

    stored = seed_interval([0.9, 1.0, 1.0])  # written unclipped: high > 1
    assert stored["high"] > 1.0
    summary = {**SUMMARY, "experiment": "abelian_test",
               "headline": {"final_commutativity": 0.5, "abelian_penalty_final_test_acc": stored,
                            "undeclared_number": 2.0}}
    rows = {r["quantity"]: r for r in rows_of(summary)}
    assert rows["final_commutativity"]["kind"] == "fraction"
    assert rows["abelian_penalty_final_test_acc"]["kind"] == "accuracy"
    assert rows["undeclared_number"]["kind"] == ""
    (tmp_path / "abelian_test").mkdir()
    (tmp_path / "abelian_test" / "summary.json").write_text(json.dumps(summary))
    assert _finished(tmp_path, "abelian_test")["headline"]["abelian_penalty_final_test_acc"]["high"] == 1.0
    assert "| final_commutativity | 0.5 | fraction |" in markdown([summary])
