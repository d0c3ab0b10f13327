"""The Omnigrok panel experiments: what each computes, on frames with known answers, and their smoke runs."""

import json

import numpy as np
import pandas as pd
import pytest

from grokkit.experiments import reproduce
from grokkit.experiments._common import spread_decades
from grokkit.experiments.critical_data_size import (
    HEADLINE_LEVEL,
    SIZES_N,
    TEST_LEVELS,
    balanced_order,
    critical_data_size,
)
from grokkit.experiments.mnist_cross_entropy import LOSSES, fig12_numbers, goldilocks_width
from grokkit.experiments.mnist_messiness_landscape import (
    ALPHAS,
    MESSINESS,
    landscape_headline,
    messy_images,
)
from grokkit.experiments.transformer_landscape import ALPHAS as TRANSFORMER_ALPHAS
from grokkit.experiments.transformer_landscape import FRACTIONS, MODEL, critical_fraction, lu_shape
from grokkit.progress import grokking_summary

EPS32 = float(np.finfo(np.float32).eps)
EPS64 = float(np.finfo(np.float64).eps)


# ---------------------------------------------------------------- Fig. 3e: critical data size
@pytest.mark.parametrize("n_c", [12.5, 50.0, 300.0])
def test_critical_data_size_recovers_the_divergence(n_c):
    n = np.array([2, 4, 8, 16]) * n_c
    steps = 1.0 / (3e-4 * np.log(n / n_c))
    fit = critical_data_size(n, steps)
    assert fit["critical_n_fit"] == pytest.approx(n_c, rel=1e4 * EPS64)
    assert fit["slope"] == pytest.approx(3e-4, rel=1e4 * EPS64)
    assert fit["largest_n_not_reached"] is None
    assert fit["smallest_n_reached"] == n.min()
    # no size failed: the fit is an extrapolation below the data, not a headline N_c
    assert fit["critical_n"] is None and "extrapolation below the data" in fit["critical_n_reason"]


def test_critical_data_size_brackets_sizes_that_never_reached():
    n = [25, 50, 100, 200, 400]
    steps = [None, float("nan"), *(1.0 / (1e-4 * np.log(np.array([100, 200, 400]) / 60)))]
    fit = critical_data_size(n, steps)
    assert fit["largest_n_not_reached"] == 50 and fit["smallest_n_reached"] == 100
    assert fit["critical_n"] == fit["critical_n_fit"] == pytest.approx(60.0, rel=1e4 * EPS64)
    assert fit["largest_n_not_reached"] < fit["critical_n"] < fit["smallest_n_reached"]
    assert fit["fit_within_bracket"] is True and fit["critical_n_reason"] is None


def test_critical_data_size_flags_a_fit_below_a_size_that_never_reached():
    # flat times above N = 60 and a size (30) that never reached: N_c extrapolates far below 30
    fit = critical_data_size([30, 60, 120, 240, 480], [None, 1778, 1259, 1262, 1065])
    assert fit["critical_n_fit"] < 30 and fit["fit_within_bracket"] is False
    assert (fit["largest_n_not_reached"], fit["smallest_n_reached"]) == (30, 60)
    # an extrapolation outside the bracket is no headline number
    assert fit["critical_n"] is None and "outside the bracket [30, 60]" in fit["critical_n_reason"]


def test_critical_data_size_needs_two_sizes_and_a_rising_rate():
    one = critical_data_size([100, 200], [500, None])
    assert one["critical_n"] is None and "fewer than two sizes" in one["critical_n_reason"]
    slower_with_more_data = critical_data_size([100, 200, 400], [500, 1000, 2000])
    assert slower_with_more_data["critical_n"] is None and slower_with_more_data["slope"] < 0
    assert "no divergence" in slower_with_more_data["critical_n_reason"]


@pytest.mark.parametrize("n_train, steps", [([0, 10], [1, 2]), ([10, -5], [1, 2]), ([10, 20], [1])])
def test_critical_data_size_rejects_bad_input(n_train, steps):
    with pytest.raises(ValueError, match="n_train"):
        critical_data_size(n_train, steps)


def test_balanced_order_prefixes_hold_every_class_equally():
    y = np.random.RandomState(3).randint(0, 10, size=500)
    y[:40] = 0  # a skewed pool: balance comes from the ordering, not the data
    order = balanced_order(y, random_state=1)
    assert sorted(order.tolist()) == list(range(len(y)))
    smallest = np.bincount(y, minlength=10).min()
    for k in range(1, smallest + 1):
        assert np.array_equal(np.bincount(y[order[:10 * k]], minlength=10), np.full(10, k))


# ---------------------------------------------------------------- Fig. 8: MNIST messiness
def test_messy_images_interpolates_raw_and_label_images():
    rng = np.random.RandomState(0)
    X, y = rng.rand(6, 5).astype(np.float32), np.array([0, 1, 2, 3, 4, 9])
    assert np.array_equal(messy_images(X, y, 1.0), X)
    assert np.array_equal(messy_images(X, y, 0.0), np.repeat(y[:, None], 5, axis=1).astype(np.float32))
    half = 0.5 * X.astype(np.float64) + 0.5 * y[:, None]
    np.testing.assert_allclose(messy_images(X, y, 0.5), half, rtol=EPS32, atol=10 * EPS32)


@pytest.mark.parametrize("messiness", [-0.1, 1.5])
def test_messy_images_rejects_messiness_outside_unit_interval(messiness):
    with pytest.raises(ValueError, match="messiness"):
        messy_images(np.zeros((2, 3)), np.array([0, 1]), messiness)


def test_messy_images_rejects_mismatched_labels():
    with pytest.raises(ValueError, match="X must be 2-d"):
        messy_images(np.zeros((2, 3)), np.array([0, 1, 2]), 0.5)


def _grid(train, test):
    """A (messiness, alpha) landscape with the given loss functions of (m, α)."""
    rows = [{"messiness": m, "alpha": a, "train_loss": train(m, a), "test_loss": test(m, a),
             "test_acc": 1 - m / 10, "converged": True}
            for m in (0.0, 0.5, 1.0) for a in (0.1, 1.0, 10.0)]
    return pd.DataFrame(rows)


def test_spread_decades_separates_the_two_axes():
    # train loss ∝ α⁻² (two decades per decade of α, four over the grid) and 10^m (one decade over m)
    table = _grid(lambda m, a: 10.0 ** m / a ** 2, lambda m, a: 3.0 / a ** 2)
    assert spread_decades(table, "train_loss", "alpha", "messiness") == pytest.approx(4.0)
    assert spread_decades(table, "train_loss", "messiness", "alpha") == pytest.approx(1.0)
    headline = landscape_headline(table)
    assert headline["test_loss_decades_over_m"] == pytest.approx(0.0, abs=1e4 * EPS64)
    assert headline["test_over_train_loss_decades"] == pytest.approx(np.log10(3.0) - 0.5)
    assert headline["best_test_loss_by_m"] == {"0": 0.03, "0.5": 0.03, "1": 0.03}
    assert headline["best_test_acc_by_m"]["1"] == pytest.approx(0.9)
    assert headline["points_converged"] == "9 of 9"


# ---------------------------------------------------------------- Figs. 11–12: cross-entropy
def test_goldilocks_width_counts_decades_within_tolerance():
    acc = {0.1: 0.50, 1.0: 0.90, 10.0: 0.87, 100.0: 0.60}
    table = pd.DataFrame([{"n_train": n, "alpha": a, "test_acc": v - (0.2 if n == 300 else 0.0)}
                          for n in (100, 300) for a, v in acc.items()])
    table.loc[(table["n_train"] == 300) & (table["alpha"] == 100.0), "test_acc"] = 0.69
    widths = goldilocks_width(table)
    assert widths == {100: pytest.approx(1.0), 300: pytest.approx(2.0)}
    assert goldilocks_width(table, tolerance=0.0) == {100: 0.0, 300: 0.0}
    with pytest.raises(ValueError, match="tolerance"):
        goldilocks_width(table, tolerance=2.0)


def test_fig12_numbers_read_the_plateau_and_the_late_rise():
    steps = np.array([0, 10, 100, 1000, 2000, 5000, 10000])
    progress = pd.DataFrame({"epoch": steps, "step": steps,
                             "train_acc": [0.1, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0],
                             "test_acc": [0.1, 0.3, 0.35, 0.36, 0.40, 0.60, 0.75]})
    numbers = fig12_numbers(progress)
    assert numbers["memorization_step"] == 100
    assert numbers["test_acc_at_memorization"] == pytest.approx(0.35)
    assert numbers["best_test_acc"] == pytest.approx(0.75)
    assert numbers["late_rise_step"] == 5000  # first past (0.35 + 0.75) / 2 = 0.55
    never = progress.assign(train_acc=0.5)
    assert fig12_numbers(never)["test_acc_at_memorization"] is None


# ---------------------------------------------------------------- smoke runs: files agree with headlines
@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    root = tmp_path_factory.mktemp("omnigrok_panels")

    def run(name):
        out = root / name
        return reproduce(name, size="smoke", out=out, verbose=0), out

    return run


def test_critical_data_size_smoke_tables_agree_with_runs(smoke):
    summary, out = smoke("critical_data_size")
    assert json.loads((out / "summary.json").read_text()) == summary
    times = pd.read_csv(out / "times.csv")
    progress = pd.read_csv(out / "progress.csv")
    assert times["n_train"].tolist() == list(SIZES_N["smoke"])
    assert set(progress["run"]) == {f"N={n}" for n in SIZES_N["smoke"]}
    for n, row in times.set_index("n_train").iterrows():
        frame = progress[progress["run"] == f"N={n}"]
        for level in TEST_LEVELS:
            step = grokking_summary(frame, 0.99, level)["generalization_step"]
            recorded = row[f"steps_to_test_{level:g}"]
            assert (step is None and pd.isna(recorded)) or step == recorded
    headline = summary["headline"]
    assert headline["levels"]["test_acc"] == HEADLINE_LEVEL
    assert list(headline["steps_to_test_level_by_n"]) == [str(n) for n in SIZES_N["smoke"]]
    refit = critical_data_size(times["n_train"], times[f"steps_to_test_{HEADLINE_LEVEL:g}"])
    assert headline["critical_n"] == refit["critical_n"]
    assert headline["critical_n_reason"] == refit["critical_n_reason"]
    assert headline["fit_within_bracket"] == refit["fit_within_bracket"]
    assert "digits" in summary["dataset"]


def test_mnist_messiness_smoke_landscape_covers_the_grid(smoke):
    summary, out = smoke("mnist_messiness_landscape")
    table = pd.read_csv(out / "landscape.csv")
    assert len(table) == len(MESSINESS["smoke"]) * len(ALPHAS["smoke"])
    assert set(table["messiness"]) == set(MESSINESS["smoke"])
    # one initial direction for every (m, α): w / α is the same w₀ on every row
    w0 = table["weight_norm"] / table["alpha"]
    assert (w0 / w0.iloc[0] - 1).abs().max() < 64 * EPS32
    headline = summary["headline"]
    for m, rows in table.groupby("messiness"):
        assert headline["best_test_loss_by_m"][f"{m:g}"] == pytest.approx(rows["test_loss"].min(),
                                                                         rel=EPS64)
    assert headline["points_converged"] == f"{int(table['converged'].sum())} of {len(table)}"
    assert {"fig8a_train_loss.png", "fig8b_test_loss.png"} <= set(summary["files"])


@pytest.mark.slow
def test_mnist_cross_entropy_smoke_headline_matches_its_tables(smoke):
    summary, out = smoke("mnist_cross_entropy")
    table = pd.read_csv(out / "landscape.csv")
    assert set(table["loss"]) == set(LOSSES)
    headline = summary["headline"]
    for loss in LOSSES:
        widths = goldilocks_width(table[table["loss"] == loss])
        assert headline["fig11_goldilocks_width_decades"][loss] == {str(n): w for n, w in widths.items()}
    progress = pd.read_csv(out / "progress.csv")
    run = progress[progress["run"] == "alpha=100/cross_entropy"]
    assert headline["fig12_best_test_acc"] == pytest.approx(run["test_acc"].max(), rel=EPS32)
    assert headline["fig12_final_train_acc"] == pytest.approx(run["train_acc"].iloc[-1], rel=EPS32)
    start, _ = headline["fig12_weight_norm_start_end"]
    assert start == pytest.approx(run["weight_norm"].iloc[0], rel=EPS32)


# ---------------------------------------------------------------- Fig. 9: transformer landscape
def _fraction_grid(best_acc, train_loss):
    """A (train_fraction, alpha) landscape: test accuracy peaks at α = 1 with best_acc[f]."""
    rows = []
    for f, acc in best_acc.items():
        for a in (0.1, 1.0, 4.0, 10.0):
            rows.append({"train_fraction": f, "alpha": a, "test_acc": acc if a == 1.0 else acc / 2,
                         "test_loss": 1.0 / acc + abs(np.log10(a)), "train_loss": train_loss(a)})
    return pd.DataFrame(rows)


def test_critical_fraction_brackets_the_first_generalising_fraction():
    table = _fraction_grid({0.1: 0.2, 0.2: 0.5, 0.3: 0.95, 0.5: 1.0}, lambda a: 1.0 / a)
    assert critical_fraction(table) == {"critical_fraction": 0.3, "largest_fraction_not_generalising": 0.2}
    assert critical_fraction(table, level=0.1) == {"critical_fraction": 0.1,
                                                   "largest_fraction_not_generalising": None}
    assert critical_fraction(table, level=1.0)["largest_fraction_not_generalising"] == 0.3
    with pytest.raises(ValueError, match="level"):
        critical_fraction(table, level=1.5)


def test_lu_shape_reads_the_u_bottom_and_rises_of_the_l():
    falling = _fraction_grid({0.3: 0.9}, lambda a: 1.0 / a)
    shape = lu_shape(falling)
    assert shape["test_loss_minimum_alpha"] == {"0.3": 1.0}
    assert shape["train_loss_largest_rise"] == {"0.3": 0.0}
    # train loss 1, 0.5, 0.8 at α 0.1, 1, 4 (α 10 is past LU_ALPHA_MAX): a rise of 0.3 over a range 0.5
    bumpy = _fraction_grid({0.3: 0.9}, {0.1: 1.0, 1.0: 0.5, 4.0: 0.8, 10.0: 99.0}.get)
    assert lu_shape(bumpy)["train_loss_largest_rise"]["0.3"] == pytest.approx(0.6)


def test_transformer_landscape_smoke_rows_and_headline(smoke):
    summary, out = smoke("transformer_landscape")
    table = pd.read_csv(out / "landscape.csv")
    fractions, alphas = FRACTIONS["smoke"], TRANSFORMER_ALPHAS["smoke"]
    assert len(table) == len(fractions) * len(alphas)
    p = MODEL["smoke"]["p"]
    assert dict(zip(table["train_fraction"], table["n_train"], strict=True)) == {
        f: min(round(f * p * p), int(0.8 * p * p)) for f in fractions}
    headline = summary["headline"]
    assert {k: headline[k] for k in ("critical_fraction", "largest_fraction_not_generalising")} == \
        critical_fraction(table)
    assert headline["best_test_acc_by_fraction"] == pytest.approx(
        {f"{f:g}": rows["test_acc"].max() for f, rows in table.groupby("train_fraction")}, rel=EPS64)
    assert set(pd.read_csv(out / "progress.csv")["run"]) == {
        f"f={f:g}/alpha={a:g}" for f in fractions for a in alphas}
