"""The fidelity verdict's readers: one seed's headline and the --seeds intervals read alike."""

from __future__ import annotations

import math

import pytest

from grokkit.experiments._seeds import aggregate_headline
from grokkit.experiments._verdict import (
    LABELS,
    everywhere,
    fmt,
    fraction,
    judge,
    mean,
    node,
    per_seed,
    reached,
)

ONE = {"wd=0.1": {"step": 2000, "grokked": True, "never": None}, "slope": -0.8, "text": "3/3"}
SEEDS = aggregate_headline([
    {"wd=0.1": {"step": 1800, "grokked": True, "never": None}, "slope": -0.7, "text": "3/3"},
    {"wd=0.1": {"step": 2000, "grokked": False, "never": None}, "slope": -0.8, "text": "3/3"},
    {"wd=0.1": {"step": None, "grokked": True, "never": None}, "slope": -0.9, "text": "3/3"},
])


def test_node_follows_dotted_keys_whose_parts_hold_dots():
    assert node(ONE, "wd=0.1.step") == 2000
    assert node(ONE, "wd=0.1.missing") is None and node(ONE, "slope.deeper") is None
    assert node(SEEDS, "wd=0.1.step")["values"] == [1800.0, 2000.0, None]


def test_mean_reached_and_fmt_on_both_shapes():
    assert mean(node(ONE, "wd=0.1.step")) == 2000 and mean(node(SEEDS, "wd=0.1.step")) == 1900
    assert math.isnan(mean(node(ONE, "wd=0.1.never"))) and math.isnan(mean("text"))
    assert reached(node(ONE, "wd=0.1.never")) == (0, 1) and reached(node(SEEDS, "wd=0.1.step")) == (2, 3)
    assert fmt(node(ONE, "wd=0.1.step")) == "2 000" and fmt(None) == "never"
    # mean ± t(0.975, 1)·s/√2 with s = 141.42…: [629.4, 3170.6]
    assert fmt(node(SEEDS, "wd=0.1.step")) == "1 900 [629, 3 171] (never in 1 of 3 seeds)"
    assert fmt(node(SEEDS, "wd=0.1.never")) == "never"
    assert fmt(SEEDS["text"]) == "3/3"


def test_fraction_and_per_seed_of_yes_no_values():
    assert fraction(node(ONE, "wd=0.1.grokked")) == 1.0
    assert fraction(node(SEEDS, "wd=0.1.grokked")) == pytest.approx(2 / 3)
    assert fmt(node(SEEDS, "wd=0.1.grokked")) == "2/3 seeds"
    assert math.isnan(fraction(2000))
    # Seeds that agree keep one value: it reads as all seeds (or none), not as one seed of one.
    assert fmt(True) == "all seeds" and fmt(False) == "no seed"
    assert everywhere(node(ONE, "wd=0.1.step")) and not everywhere(node(SEEDS, "wd=0.1.step"))
    assert not everywhere(node(SEEDS, "wd=0.1.never"))
    assert fmt({"mean": 0.03, "low": 0.03, "high": 0.03, "n": 5, "n_missing": 0}) == "0.03"
    assert per_seed(SEEDS["slope"]) == pytest.approx([-0.7, -0.8, -0.9]) and per_seed(-0.8) == [-0.8]


def test_judge_names_the_allowed_labels():
    assert judge("partly", "why").label == "partly" and LABELS[0] == "reproduced"
    with pytest.raises(ValueError, match="label must be one of"):
        judge("maybe", "why")


def test_reasons_never_round_a_number_across_the_threshold_they_compare_it_with():
    from grokkit.experiments._verdict import fmt
    from grokkit.experiments.dropout_removes_grokking import verdict

    assert fmt(0.8998) == "0.9" and fmt(0.8998, against=0.9) == "0.8998"
    interval = {"mean": 0.8998, "low": 0.89, "high": 0.91, "n": 5}
    assert fmt(interval, against=0.9).startswith("0.8998 [")
    # the dropout rule needs a ratio >= 2 without dropout: 1.9996 must not read "2"
    label, why = verdict({"no_dropout_ratio": 1.9996,
                          "dropout_ratio": 1.0})
    assert "1.9996" in why and label != "reproduced"
