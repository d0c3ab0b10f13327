"""``reproduce(..., seeds=N)`` / ``--seeds N`` (issue 14): headline numbers over seeds, seed column, bands."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from grokkit import experiments
from grokkit.experiments import ExperimentResult, reproduce
from grokkit.experiments._kinds import bounds_of, check_kinds, kind_of
from grokkit.experiments._seeds import aggregate_headline, reaggregate


def _fake_run(size, seed, device, verbose):
    """A run whose numbers are known functions of the seed (no training)."""
    steps = np.arange(0, 50, 10)
    frame = pd.DataFrame({"epoch": steps, "step": steps, "train_acc": np.linspace(0, 1, 5),
                          "test_acc": np.linspace(0, 1, 5) * (0.5 + 0.1 * seed)})
    return ExperimentResult(runs={"plain": frame},
                            summary={"headline": {"slope": -1.0 + 0.1 * seed, "label": "same",
                                                  "nested": {"step": 100 * (seed + 1), "never": None}}})


@pytest.fixture
def fake(monkeypatch):
    registry = experiments._registry()
    monkeypatch.setitem(registry, "abelian_test",
                        dataclasses.replace(registry["abelian_test"], run=_fake_run))


def test_headline_numbers_become_mean_interval_and_values(fake, tmp_path):
    summary = reproduce("abelian_test", size="smoke", out=tmp_path, seed=3, seeds=3, verbose=0)
    slope = summary["headline"]["slope"]
    values = [-0.7, -0.6, -0.5]
    np.testing.assert_allclose(slope["values"], values)
    assert slope["mean"] == pytest.approx(-0.6) and slope["n"] == 3
    # t-quantile with 2 degrees of freedom in closed form: (2q − 1) / sqrt(2q(1 − q))
    half = 0.95 / np.sqrt(2 * 0.975 * 0.025) * np.std(values, ddof=1) / np.sqrt(3)
    assert slope["high"] - slope["mean"] == pytest.approx(half)
    assert summary["headline"]["label"] == "same"
    assert summary["headline"]["nested"]["step"]["values"] == [400, 500, 600]
    assert summary["headline"]["nested"]["never"] is None  # no seed reached it: nothing to average
    assert summary["seeds"] == [3, 4, 5] and set(summary["per_seed"]) == {"3", "4", "5"}
    progress = pd.read_csv(tmp_path / "progress.csv")
    assert sorted(progress["seed"].unique()) == [3, 4, 5] and len(progress) == 15
    assert (tmp_path / "seed_bands.png").exists()
    assert json.loads((tmp_path / "summary.json").read_text())["headline"]["slope"]["n"] == 3


KINDS = {"*spearman*": "correlation", "*_acc": "accuracy", "*_acc_at_*": "accuracy", "*step*": "step",
         "test_step_by_wd.*": "step", "*.final": "accuracy", "*_bits": "real", "*": "nonnegative"}


@pytest.mark.parametrize("path, expected", [
    (("alpha6_spearman_with_test_acc", "weight_norm"), (-1.0, 1.0)),  # the first matching pattern wins
    (("standard", "final_test_acc"), (0.0, 1.0)),
    (("standard", "test_acc_at_1000_steps"), (0.0, 1.0)),
    (("fig14", "nearest_neighbour_accuracy/logits", "final"), (0.0, 1.0)),
    (("wd=2", "synergy_peak_step"), (0.0, math.inf)),
    (("test_step_by_wd", "0.03"), (0.0, math.inf)),
    (("wd=0.1", "synergy_peak_bits"), None),
    (("alpha=3", "final_train_loss"), (0.0, math.inf)),
])
def test_the_declared_kind_gives_the_range(path, expected):
    assert bounds_of(KINDS, path) == expected
    assert bounds_of({}, path) is None  # an undeclared number is not clipped


def test_kinds_are_checked_by_name():
    assert kind_of(KINDS, "wd=0.1.synergy_peak_bits") == "real" and kind_of({"x": "step"}, "y") is None
    with pytest.raises(ValueError, match=r"kinds\['\*_acc'\] must be one of 'accuracy'"):
        check_kinds({"*_acc": "acc"})
    with pytest.raises(TypeError, match="kinds must be a mapping"):
        check_kinds(["*_acc"])
    with pytest.raises(ValueError, match="kinds"):
        dataclasses.replace(experiments.get_experiment("abelian_test"), kinds={"*": "probability"})


def test_aggregate_clips_to_the_declared_kind_and_reaggregate_updates_stored_ones():
    per_seed = [{"final_test_acc": a, "steps_from_jump": d} for a, d in [(1.0, -50), (1.0, 0), (0.9, 40)]]
    kinds = {"final_test_acc": "accuracy", "steps_from_jump": "real"}
    headline = aggregate_headline(per_seed, kinds)
    assert headline["final_test_acc"]["high"] == 1.0
    assert headline["steps_from_jump"]["low"] < -50  # a signed quantity keeps its whole interval
    assert aggregate_headline(per_seed)["final_test_acc"]["high"] > 1.0  # undeclared: not clipped
    stored = {"final_test_acc": {**headline["final_test_acc"], "high": 1.04}, "label": "x"}
    assert reaggregate(stored, kinds) == {"final_test_acc": headline["final_test_acc"], "label": "x"}


def test_aggregate_keeps_text_that_differs_per_seed():
    assert aggregate_headline(["a", "b"]) == ["a", "b"]
    assert aggregate_headline([True, True]) is True


def test_bad_seeds_are_named(tmp_path):
    with pytest.raises(ValueError, match="seeds must be in"):
        reproduce("abelian_test", size="smoke", out=tmp_path, seeds=0)


@pytest.mark.slow
def test_time_to_generalize_trains_its_seeds_stacked(tmp_path):
    """The experiment takes ``seeds``: every γ × seed in one grokkit.Sweep, stacked."""
    summary = reproduce("time_to_generalize", size="smoke", out=tmp_path, seeds=2, verbose=0)
    assert summary["executor"] == ["stacked"]
    slope = summary["headline"]["test_slope"]
    assert slope["n"] == 2 and len(slope["values"]) == 2 and slope["low"] <= slope["mean"] <= slope["high"]
    progress = pd.read_csv(tmp_path / "progress.csv")
    assert sorted(progress["seed"].unique()) == [0, 1]


@pytest.mark.slow
def test_teacher_student_seeds_run_as_one_sweep_and_resume_from_its_memory(tmp_path):
    first = reproduce("teacher_student_weight_decay", size="smoke", out=tmp_path, seeds=2, verbose=0)
    assert first["executor"] == ["stacked"]
    assert first["headline"]["large_wd_generalization_step"]["n"] == 2
    assert sorted(pd.read_csv(tmp_path / "progress.csv")["seed"].unique()) == [0, 1]
    again = reproduce("teacher_student_weight_decay", size="smoke", out=tmp_path, seeds=2, verbose=0,
                      resume=True)
    assert again["executor"] == ["memory"]  # every run came from the checkpoints' sweep memory
    assert again["headline"] == first["headline"]


# ------------------------------------------------------------------ experiments through the sweep engine
def _clf(seed):
    from grokkit import GrokMLPClassifier

    return GrokMLPClassifier(hidden_layer_sizes=(16,), alpha=2.0, max_epochs=12, batch_size=50,
                             random_state=seed, verbose=0)


def test_fit_run_over_seeds_trains_every_seed_in_one_sweep_equal_to_separate_fits(monkeypatch):
    from grokkit.datasets import load_digits_split
    from grokkit.experiments._common import data_seed, fit_run, over_seeds, seed_executors
    from grokkit.sweep import Sweep

    data = load_digits_split(n_train=150, random_state=0)
    fits = []
    original = Sweep.fit
    monkeypatch.setattr(Sweep, "fit",
                        lambda self, *a, **k: fits.append(self.seeds) or original(self, *a, **k))
    with over_seeds([0, 1, 2]) as context:
        assert data_seed(7) == 0  # every seed draws the first seed's data
        context.current = 1
        second = fit_run(_clf(1), data, "run", 0)
        context.current = 2
        third = fit_run(_clf(2), data, "run", 0)
        assert seed_executors() == {"run": ["stacked"]}
    assert fits == [[0, 1, 2]]  # one sweep, at the first call; the second call trained nothing
    assert data_seed(7) == 7
    eps = 1e3 * float(np.finfo(np.float32).eps)  # batched matmuls round differently from one run's
    for seed, fitted in ((1, second), (2, third)):
        alone = _clf(seed).fit(data[0], data[1], eval_set=(data[2], data[3]))
        assert fitted.random_state == seed
        pd.testing.assert_frame_equal(fitted.progress_, alone.progress_, check_exact=False, rtol=eps,
                                      atol=eps)


def test_an_offset_seed_keeps_its_offset_over_seeds():
    """A run seeded ``seed + 10`` by its experiment gets seeds 10, 11: the sweep shifts the seed list."""
    from grokkit.datasets import load_digits_split
    from grokkit.experiments._common import fit_run, over_seeds

    data = load_digits_split(n_train=100, random_state=0)
    with over_seeds([0, 1], vectorize=False, n_jobs=1) as context:
        context.current = 1
        fitted = fit_run(_clf(11), data, "offset", 0)
        assert fitted.random_state == 11 and len(context.trained) == 2


@pytest.mark.slow
def test_an_experiment_over_seeds_runs_through_the_engine_and_resumes_from_its_memory(tmp_path):
    first = reproduce("dropout_removes_grokking", size="smoke", out=tmp_path, seeds=2, verbose=0)
    assert first["executors"] == {"no_dropout": ["stacked"], "dropout=0.3": ["stacked"]}
    assert first["data_seed"] == 0 and first["headline"]["no_dropout_final_test_acc"]["n"] == 2
    progress = pd.read_csv(tmp_path / "progress.csv")
    assert sorted(progress["seed"].unique()) == [0, 1]
    assert not progress.groupby("seed")["test_acc"].apply(tuple).duplicated().any()  # the seeds differ
    again = reproduce("dropout_removes_grokking", size="smoke", out=tmp_path, seeds=2, verbose=0, resume=True)
    assert again["executors"] == {"no_dropout": ["memory"], "dropout=0.3": ["memory"]}
    assert again["headline"] == first["headline"]
