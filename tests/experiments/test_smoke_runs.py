"""Every experiment at its smoke size writes its files, and its summary holds sane numbers."""

import json

import numpy as np
import pandas as pd
import pytest

from grokkit.experiments import available_experiments, reproduce

#: Long end-to-end runs: CI's second step (python -m pytest -m slow) runs them.
pytestmark = pytest.mark.slow

EPS32 = float(np.finfo(np.float32).eps)


@pytest.fixture(scope="module")
def summaries(tmp_path_factory):
    root = tmp_path_factory.mktemp("experiments")
    return {name: (reproduce(name, size="smoke", out=root / name, verbose=0), root / name)
            for name in available_experiments()}


@pytest.mark.parametrize("name", available_experiments())
def test_files_and_common_fields(summaries, name):
    summary, out = summaries[name]
    assert json.loads((out / "summary.json").read_text()) == summary
    progress = pd.read_csv(out / "progress.csv")
    assert {"run", "epoch", "step", "train_acc", "test_acc"} <= set(progress.columns)
    assert set(progress["run"]) == set(summary["runs"])
    assert any(f.endswith(".png") for f in summary["files"])
    assert all((out / f).stat().st_size > 0 for f in summary["files"])
    assert summary["reference"] and summary["headline"] and summary["dataset"]
    for run in summary["runs"].values():
        assert 0.0 <= run["final_train_acc"] <= 1.0 and 0.0 <= run["final_test_acc"] <= 1.0


def test_norm_constraint_holds_the_norm(summaries):
    headline = summaries["norm_constraint_removes_grokking"][0]["headline"]
    assert headline["constrained_norm_relative_drift"] < 1e-4


def test_negative_norm_penalty_grows_the_norm(summaries):
    headline = summaries["progress_measures_norm_increasing"][0]["headline"]
    assert headline["norm_increasing_norm_grew"]
    start, end = headline["default_weight_norm_start_end"]
    assert end < start  # weight decay alone shrinks it


def test_digits_named_as_offline_stand_in(summaries):
    for name in ("mnist_alpha_grokking", "dropout_removes_grokking"):
        assert "digits" in summaries[name][0]["dataset"]


def test_abelian_test_is_a_fraction(summaries):
    headline = summaries["abelian_test"][0]["headline"]
    assert 0.0 <= headline["final_commutativity"] <= 1.0


def test_oinformation_table_per_checkpoint(summaries):
    summary, out = summaries["synergy_redundancy_phases"]
    table = pd.read_csv(out / "oinformation_wd=0.1.csv")
    assert {"epoch", "synergy", "redundancy"} <= set(table.columns)
    assert (table["synergy"] <= table["redundancy"]).all()
    assert summary["headline"]["wd=0.1"]["synergy_peak_bits"] <= 0


def test_teacher_student_needs_weight_decay_to_generalise(summaries):
    headline = summaries["teacher_student_weight_decay"][0]["headline"]
    assert headline["no_wd_generalization_step"] is None
    assert headline["no_wd_final_test_acc"] < headline["large_wd_final_test_acc"]
    assert headline["large_wd_generalization_step"] is not None
    assert all(acc == 1.0 for acc in headline["final_train_acc"].values())


def test_time_to_generalize_slopes(summaries):
    headline = summaries["time_to_generalize"][0]["headline"]
    assert -3.0 < headline["test_slope"] < 0.0
    assert abs(headline["train_slope"]) < 0.5
    times = [t for t in headline["test_step_by_wd"].values() if t is not None]
    assert times == sorted(times, reverse=True)  # larger γ generalises sooner


def test_lstm_alpha6_fits_training_set(summaries):
    summary, _ = summaries["lstm_text_grokking"]
    headline = summary["headline"]
    assert headline["alpha6_final_train_acc"] == 1.0
    start, end = headline["alpha6_weight_norm_start_end"]
    assert end < start  # weight decay shrinks the large initialisation
    assert 0.0 <= headline["alpha1_test_peak_acc"] <= 1.0


def test_fourier_progress_measures_records_the_fourier_columns(summaries):
    summary, out = summaries["fourier_progress_measures"]
    progress = pd.read_csv(out / "progress.csv")
    assert {"restricted_loss_final_keys", "excluded_loss_final_keys", "fourier_gini",
            "embedding_fourier_norms/0"} <= set(progress.columns)
    headline = summary["headline"]
    assert headline["n_key_frequencies"] == len(headline["key_frequencies"]) >= 1
    assert set(headline["key_frequencies"]) <= set(range(1, 13 // 2 + 1))
    assert {"synergy", "redundancy"} <= set(pd.read_csv(out / "oinfo.csv").columns)
    assert {"fig7_restricted_excluded_loss.png", "fourier_spectrum_over_training.png",
            "fig3a_final_spectrum.png"} <= set(summary["files"])


def test_degrokking_benchmark_tables_every_control_over_seeds(summaries):
    from grokkit.experiments.degrokking_benchmark import BUDGETS, CONTROLS

    summary, out = summaries["degrokking_benchmark"]
    n_seeds = BUDGETS["smoke"][-1]
    assert n_seeds >= 3
    table = pd.read_csv(out / "controls.csv", index_col="control")
    assert list(table.index) == list(CONTROLS)
    assert table["generalised_within_budget"].str.endswith(f"/{n_seeds}").all()
    assert len(summary["table_markdown"].splitlines()) == 2 + len(CONTROLS)
    progress = pd.read_csv(out / "progress.csv")
    assert progress["run"].nunique() == len(CONTROLS) * n_seeds
    start = progress[progress["epoch"] == 0].set_index("run")["weight_norm"]
    for seed in summary["headline"]["seeds"]:
        plain = start[f"plain/seed={seed}"]
        # one initial weight set per seed: only alpha rescales it
        for control in ("wd_2", "input_noise", "grokfast_ema", "stablemax", "orthoadamw"):
            assert start[f"{control}/seed={seed}"] == plain
        # α·θ rounds each entry once; the norm's float32 sum adds a few eps
        assert start[f"constrained_norm/seed={seed}"] == pytest.approx(0.8 * plain, rel=64 * EPS32)
    constrained = progress[progress["run"].str.startswith("constrained_norm/")]
    for _, frame in constrained.groupby("run"):
        # rescaled after every step: rounding of about eps per rescale, at most one per recorded step
        drift = (frame["weight_norm"] / frame["weight_norm"].iloc[0] - 1).abs().max()
        assert drift <= 64 * EPS32 * frame["step"].max()


@pytest.mark.parametrize("name", available_experiments())
def test_every_experiment_judges_its_headline_one_seed_and_over_seeds(summaries, name):
    from grokkit.experiments import get_experiment
    from grokkit.experiments._seeds import aggregate_headline
    from grokkit.experiments._verdict import LABELS

    rule = get_experiment(name).verdict
    assert rule is not None, f"{name} has no verdict for the fidelity table"
    headline = summaries[name][0]["headline"]
    single = rule(headline)
    assert single.label in LABELS and single.why
    # The same headline as three identical seeds: the --seeds shape reads to the same verdict.
    assert rule(aggregate_headline([headline] * 3)).label == single.label


def _numbers(headline, path=()):
    """``(dotted key, value)`` of every number (or None: a level never reached) in a nested headline."""
    for key, value in headline.items():
        if isinstance(value, dict):
            yield from _numbers(value, (*path, str(key)))
        elif value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            yield ".".join((*path, str(key))), value


@pytest.mark.parametrize("name", available_experiments())
def test_every_headline_number_declares_its_kind_and_lies_in_its_range(summaries, name):
    from grokkit.experiments import get_experiment
    from grokkit.experiments._kinds import KINDS, kind_of

    kinds = get_experiment(name).kinds
    undeclared = [key for key, _ in _numbers(summaries[name][0]["headline"]) if kind_of(kinds, key) is None]
    assert not undeclared, f"{name}: headline numbers with no declared kind: {undeclared}"
    for key, value in _numbers(summaries[name][0]["headline"]):
        bounds = KINDS[kind_of(kinds, key)]
        if value is not None and bounds is not None:
            assert bounds[0] <= value <= bounds[1], f"{name}: {key} = {value} is not a {kind_of(kinds, key)}"
