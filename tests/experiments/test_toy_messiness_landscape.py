"""Omnigrok Fig. 6a, b, e (toy_messiness_landscape): the contour helpers on grids with known answers, a
smoke run whose headline must agree with its own table, and the heat map's log-axis tick labels."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from grokkit.analysis.messiness import MessinessLandscape, default_decoder
from grokkit.experiments import available_experiments, reproduce
from grokkit.experiments.toy_messiness_landscape import (
    CONTOUR_LEVEL,
    EXPERIMENT,
    MAIN_N,
    REGION_LEVEL,
    boundary_alphas,
    contour_reaches,
    run,
    verdict,
)

EPS64 = float(np.finfo(np.float64).eps)
ALPHAS = (1.0, 2.0, 4.0, 8.0)
MS = (0.0, 0.1, 0.2)


def _grid(n_train, train_loss):
    """A (m, α) landscape with ``train_loss(alpha, m)``."""
    return pd.DataFrame([{"n_train": n_train, "alpha": a, "messiness": m, "train_loss": train_loss(a, m)}
                         for m in MS for a in ALPHAS])


# ---------------------------------------------------------------- contour helpers
def test_boundary_is_the_smallest_alpha_below_the_level_at_each_m():
    # 0.04/α² + m: at m = 0 below 0.02 from α = 2 (0.01); at m = 0.1 never (≥ 0.1)
    table = _grid(45, lambda a, m: 0.04 / a**2 + m)
    assert boundary_alphas(table, 0.02) == {"0": 2.0, "0.1": None, "0.2": None}
    assert boundary_alphas(table, 0.5) == {"0": 1.0, "0.1": 1.0, "0.2": 1.0}


def test_contour_reaches_a_star_on_the_boundary_and_not_one_deep_inside_a_region():
    table = _grid(45, lambda a, m: 0.04 / a**2 + m)
    # α = 2, m = 0: 0.01 ≤ 0.02 there, 0.04 at α = 1 next to it, so the 0.02 line passes its cell
    assert contour_reaches(table, {"alpha": 2.0, "messiness": 0.0}, 0.02)
    # α = 8, m = 0.2: its neighbours are all ≥ 0.1, so no contour of 0.02 nearby
    assert not contour_reaches(table, {"alpha": 8.0, "messiness": 0.2}, 0.02)
    # everywhere below the level (a small training set that fits at every (w, m)): no contour at all
    assert not contour_reaches(_grid(25, lambda a, m: 1e-4), {"alpha": 2.0, "messiness": 0.0}, 0.02)


def test_contour_helpers_reject_bad_input():
    table = _grid(45, lambda a, m: 0.04 / a**2 + m)
    with pytest.raises(ValueError, match="level"):
        contour_reaches(table, {"alpha": 2.0, "messiness": 0.0}, 0.0)
    with pytest.raises(ValueError, match="star must be a point of the grid"):
        contour_reaches(table, {"alpha": 3.0, "messiness": 0.0})


# ---------------------------------------------------------------- verdict
def _headline(train_range, test_range, star_m, reaching):
    return {"train_loss_range_over_m_at_large_w": train_range,
            "test_loss_range_over_m_at_large_w": test_range,
            "best_test_point": {"alpha": 3.0, "messiness": star_m},
            "contour_by_n": {f"N={n}": {"reaches_star": n in reaching} for n in (25, 35, 45, 54)},
            "points_converged": "120 of 120"}


@pytest.mark.parametrize(("headline", "label"), [
    (_headline(0.01, 0.25, 0.0, {45, 54}), "reproduced"),
    (_headline(0.01, 0.25, 0.0, {35, 45, 54}), "partly"),  # N = 35's contour reaches the star too
    (_headline(0.2, 0.25, 0.15, {25}), "not reproduced"),  # test no more m-dependent; star at messy m
])
def test_verdict_reads_the_three_claims(headline, label):
    ruling = verdict(headline)
    assert ruling.label == label
    assert "train loss 0.01" in ruling.why or "train loss 0.2" in ruling.why


# ---------------------------------------------------------------- MessinessLandscape's convergence rule
def test_landscape_with_a_window_flags_points_and_counts_steps():
    decoder = default_decoder("code").set_params(hidden_layer_sizes=(8,), lr=1e-3, callbacks=None,
                                                 measure_every=1)
    ml = MessinessLandscape(decoder, messiness=[0.0], alphas=[1.0, 3.0], layout="code", random_state=0,
                            window=5, max_steps=12)
    with pytest.warns(ConvergenceWarning, match="MessinessLandscape: .* not converge within max_steps=12"):
        table = ml.fit().landscape_
    assert table["converged"].dtype == bool and not table["converged"].any()
    assert (table["steps"] == 12).all()  # full batch: one step per epoch, the whole budget spent
    plain = MessinessLandscape(decoder.set_params(max_epochs=3), messiness=[0.0], alphas=[1.0],
                               layout="code", random_state=0).fit().landscape_
    assert "converged" not in plain  # no window: the decoder's fixed schedule, as before


@pytest.mark.parametrize(("params", "match"), [
    ({"window": 0}, "window"),
    ({"window": 10, "max_steps": 5}, "max_steps"),
    ({"window": 10, "rtol": -1.0}, "rtol"),
])
def test_landscape_rejects_a_bad_convergence_rule(params, match):
    with pytest.raises(ValueError, match=match):
        MessinessLandscape(messiness=[0.0], alphas=[1.0], **params).fit()


# ---------------------------------------------------------------- smoke run
@pytest.fixture(scope="module")
def smoke():
    with pytest.warns(ConvergenceWarning):  # 40 steps: no point converges, and the run says so
        return run(size="smoke", seed=0, device="cpu", verbose=0)


def test_registered_with_its_settings():
    assert "toy_messiness_landscape" in available_experiments()
    assert set(EXPERIMENT.settings) == {"smoke", "quick", "full"}
    assert EXPERIMENT.reference["sizes_whose_contour_reaches_star"] == [45, 55]


def test_smoke_headline_keys_types_and_figures(smoke):
    headline = smoke.summary["headline"]
    for key in ("train_loss_range_over_m_at_large_w", "test_loss_range_over_m_at_large_w",
                "train_loss_decades_over_m_at_large_w", "test_loss_decades_over_m_at_large_w"):
        assert isinstance(headline[key], float) and headline[key] >= 0
    assert (headline["contour_level"], headline["region_level"]) == (CONTOUR_LEVEL, REGION_LEVEL)
    assert isinstance(headline["large_w_is_region_ii"], bool)
    assert set(headline["best_test_point"]) == {"alpha", "messiness", "weight_norm", "test_loss",
                                                "train_loss", "converged"}
    assert set(headline["contour_by_n"]) == {"N=25", f"N={MAIN_N}"}
    for contour in headline["contour_by_n"].values():
        assert isinstance(contour["reaches_star"], bool)
        assert set(contour["boundary_alpha_by_m"]) == {"0", "0.2"}
    assert headline["sizes_whose_contour_reaches_star"] == [
        int(key[2:]) for key, c in headline["contour_by_n"].items() if c["reaches_star"]]
    assert headline["points_converged"] == "0 of 8"
    assert set(smoke.figures) == {"fig6a_train_loss", "fig6b_test_loss", "fig6e_contours"}
    assert set(smoke.runs) == {f"N={n}/m={m:g}/alpha={a:g}" for n in (25, 45) for m in (0, 0.2)
                               for a in (2, 6)}


def test_smoke_flags_every_unconverged_point_in_the_figures(smoke):
    assert "hatched: 4 points not converged" in smoke.figures["fig6a_train_loss"].axes[0].get_title()
    assert "hatched: 4 points not converged" in smoke.figures["fig6b_test_loss"].axes[0].get_title()
    legend = [t.get_text() for t in smoke.figures["fig6e_contours"].axes[0].get_legend().get_texts()]
    assert "not converged (8 points)" in legend


def test_smoke_headline_agrees_with_its_own_table(smoke):
    table = smoke.tables["landscape"].reset_index()
    main = table[table["n_train"] == MAIN_N]
    best = main.loc[main["test_loss"].idxmin()]
    star = smoke.summary["headline"]["best_test_point"]
    assert (star["alpha"], star["messiness"]) == (best["alpha"], best["messiness"])
    assert star["test_loss"] == pytest.approx(float(main["test_loss"].min()), rel=4 * EPS64)
    # the range over m at the largest-w α's, recomputed by hand: max − min over m, median over α
    headline = smoke.summary["headline"]
    at_large = main[main["alpha"].isin(headline["large_w_alphas"])]
    for value in ("train_loss", "test_loss"):
        ranges = [np.ptp(rows[value].to_numpy(dtype=np.float64)) for _, rows in at_large.groupby("alpha")]
        assert headline[f"{value}_range_over_m_at_large_w"] == pytest.approx(float(np.median(ranges)),
                                                                             rel=4 * EPS64)
    if headline["large_w_is_region_ii"]:
        assert (at_large["train_loss"] <= REGION_LEVEL).all()
    else:
        assert headline["large_w_alphas"] == [float(main["alpha"].max())]


def test_reproduce_writes_the_files_and_its_verdict_reads_one_seed_and_over_seeds(tmp_path):
    from grokkit.experiments._seeds import aggregate_headline
    from grokkit.experiments._verdict import LABELS

    with pytest.warns(ConvergenceWarning):
        summary = reproduce("toy_messiness_landscape", size="smoke", out=tmp_path, verbose=0)
    assert set(summary["files"]) == {"progress.csv", "summary.json", "landscape.csv", "fig6a_train_loss.png",
                                     "fig6b_test_loss.png", "fig6e_contours.png"}
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    progress = pd.read_csv(tmp_path / "progress.csv")
    assert set(progress["run"]) == set(summary["runs"]) and not progress["converged"].any()
    assert (progress["step"] == 40).all()  # every smoke point spent its whole 40-step budget
    ruling = verdict(summary["headline"])
    assert ruling.label in LABELS and "points converged: 0 of 8" in ruling.why
    assert verdict(aggregate_headline([summary["headline"]] * 3)).label == ruling.label


def test_run_rejects_an_unknown_size():
    with pytest.raises(ValueError, match="size must be one of 'smoke', 'quick', 'full'; got 'huge'"):
        run(size="huge", seed=0, device="cpu", verbose=0)


# ---------------------------------------------------------------- heat map tick labels
@pytest.mark.parametrize("alphas", [np.logspace(-1, 1, 21), np.array([1.0, 2.0, 3.0, 4.5, 6.0, 9.0]),
                                    np.array([2.0, 6.0]), np.linspace(2.5, 4.0, 21)])
def test_heatmap_log_axis_tick_labels_do_not_overlap(alphas):
    from grokkit.plotting import plot_landscape_heatmap

    table = pd.DataFrame([{"alpha": a, "n_train": n, "test_loss": a * n} for a in alphas
                          for n in (75, 300, 3000)])
    fig = plot_landscape_heatmap(table, "test_loss")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    for axis in (ax.xaxis, ax.yaxis):
        low, high = sorted(axis.get_view_interval())
        # major and minor labels: matplotlib's own log ticks label the minor ticks of a narrow range
        ticks = [*axis.get_major_ticks(), *axis.get_minor_ticks()]
        labels = [t.label1 for t in ticks if low <= t.get_loc() <= high and t.label1.get_visible()
                  and t.label1.get_text()]
        assert 2 <= len(labels) <= 6
        assert all("10^" not in t.get_text() and "e+" not in t.get_text() for t in labels)
        boxes = [t.get_window_extent(renderer) for t in labels]
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert [t.get_text() for t in ax.yaxis.get_ticklabels()] == ["75", "300", "3000"]
