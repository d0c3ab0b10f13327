import pytest

from grokkit.progress import LOG_POINTS_PER_DECADE, recorded_epochs


def test_log_schedule_is_log_spaced_and_keeps_the_last_epoch():
    epochs = sorted(recorded_epochs(1, 100_000, "log"))
    assert epochs[:10] == list(range(1, 11)) and epochs[-1] == 100_000
    assert len(epochs) < 5 * LOG_POINTS_PER_DECADE + 10
    assert sum(1000 <= e < 10_000 for e in epochs) == LOG_POINTS_PER_DECADE


def test_every_k_and_windows_of_a_continued_run():
    assert sorted(recorded_epochs(1, 20, 5)) == [5, 10, 15, 20]
    assert sorted(recorded_epochs(11, 23, 5)) == [15, 20, 23]
    assert sorted(recorded_epochs(11, 12, "log")) == [11, 12]
    assert recorded_epochs(5, 4, 1) == set()


@pytest.mark.parametrize("bad", [0, -3, "lin", 1.5])
def test_bad_schedule(bad):
    with pytest.raises((ValueError, TypeError), match="measure_every"):
        recorded_epochs(1, 10, bad)


# --- the one definition of "generalised" -------------------------------------------------------

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from grokkit.progress import GENERALISED, format_against, generalisation_level, grokking_summary  # noqa: E402


def _run(test_acc, train_acc=None):
    n = len(test_acc)
    train = train_acc if train_acc is not None else [0.1] + [1.0] * (n - 1)
    return pd.DataFrame({"epoch": range(n), "step": [10 * e for e in range(n)],
                         "train_acc": train, "test_acc": test_acc})


def test_level_is_95_percent_of_the_best_when_the_best_is_halfway_to_one():
    # MNIST-like: starts at chance 0.1, ends at 0.8998 -> level 0.95 * 0.8998
    assert generalisation_level([0.1, 0.2, 0.5, 0.8998]) == pytest.approx(0.95 * 0.8998)
    # a run whose best (0.54) is short of halfway from 0.1 to 1 (0.55) never generalises
    assert generalisation_level([0.1, 0.3, 0.54]) is None
    assert generalisation_level([0.1, 0.3, 0.55]) == pytest.approx(0.95 * 0.55)
    assert generalisation_level([np.nan, np.nan]) is None and generalisation_level([]) is None


def test_a_faithful_run_at_the_papers_final_accuracy_generalises_on_any_dataset():
    # the same curve shape, ending at 1.0 (modular) and at 0.89 (Omnigrok's MNIST): both generalise,
    # at the same recorded step, and both grokked
    shape = np.array([0.0, 0.05, 0.1, 0.3, 0.7, 0.97, 1.0])
    steps = set()
    for final in (1.0, 0.89):
        accs = 0.1 + (final - 0.1) * shape
        summary = grokking_summary(_run(list(accs)))
        assert summary["grokked"] and summary["generalisation_rule"] == "relative"
        assert summary["test_threshold"] == pytest.approx(0.95 * final)
        steps.add(summary["generalization_step"])
    assert steps == {50}


def test_an_absolute_level_is_still_available_and_named():
    summary = grokking_summary(_run([0.1, 0.5, 0.8998]), test_threshold=0.9)
    assert summary["generalization_step"] is None and summary["generalisation_rule"] == "absolute"
    # the reason never rounds 0.8998 across 0.9
    assert summary["missing"]["generalization_step"] == "test accuracy never reached 0.9 (best 0.8998)"


def test_summary_says_why_a_field_is_missing():
    no_test = grokking_summary(_run([0.1, 0.2, 0.3]).drop(columns="test_acc"))
    assert "eval_set" in no_test["missing"]["generalization_step"]
    assert no_test["generalization_step"] is None and "delay" in no_test["missing"]
    never = grokking_summary(_run([0.1, 0.3, 0.54]))
    assert "short of 0.55" in never["missing"]["generalization_step"]
    unfit = grokking_summary(_run([0.1, 0.9, 0.95], train_acc=[0.1, 0.5, 0.98]))
    assert unfit["missing"]["memorization_step"] == "train accuracy never reached 0.99 (best 0.98)"
    assert grokking_summary(_run([0.1, 0.95, 0.96]))["missing"] == {}


@pytest.mark.parametrize(("value", "against", "text"), [
    (0.8998, 0.9, "0.8998"), (0.90004, 0.9, "0.90004"), (0.95, 0.95, "0.95"), (0.123, 0.9, "0.123"),
    (12345.6, 12346, "12345.6"),
])
def test_numbers_are_never_rounded_across_their_threshold(value, against, text):
    assert format_against(value, against) == text
    assert (float(text) < against) == (value < against)


def test_the_definition_is_one_sentence_in_the_docs():
    from pathlib import Path

    docs = Path(__file__).resolve().parents[1] / "docs"
    pages = " ".join(p.read_text(encoding="utf-8") for p in docs.rglob("*.rst"))
    assert " ".join(GENERALISED.split()) in " ".join(pages.split())
