"""Omnigrok Figs. 4a–c and 5a–c (text_and_molecule_landscapes): the headline helpers on landscapes with
known answers, and a smoke run whose headline must agree with its own table."""

import json

import numpy as np
import pandas as pd
import pytest

from grokkit.experiments import get_experiment, reproduce
from grokkit.experiments.text_and_molecule_landscapes import (
    ALPHAS,
    CONFIG,
    L_ALPHA_MAX,
    L_TOLERANCE,
    MODELS,
    landscape_shape,
    largest_relative_rise,
    molecule_data,
    text_data,
)

EPS64 = float(np.finfo(np.float64).eps)
GRID = (0.1, 0.3, 1.0, 3.0, 10.0)


# ---------------------------------------------------------------- largest_relative_rise
def test_a_non_increasing_curve_has_no_rise():
    assert largest_relative_rise(GRID, [5.0, 2.0, 1.0, 1.0, 1.0]) == 0.0
    assert largest_relative_rise(GRID, [1.0] * 5) == 0.0  # flat: no range, no rise
    assert largest_relative_rise([1.0], [3.0]) == 0.0


def test_rise_is_relative_to_the_range_over_small_alpha_only():
    # α ≤ 4: train loss 1, 0.5, 0.2, 0.26 → one rise of 0.06 over a range of 0.8; α = 10 (99) is ignored
    loss = [1.0, 0.5, 0.2, 0.26, 99.0]
    assert largest_relative_rise(GRID, loss) == pytest.approx(0.06 / 0.8, rel=10 * EPS64)
    # with every α the rise 0.26 → 99 spans almost the whole range 0.2 … 99
    assert largest_relative_rise(GRID, loss, alpha_max=None) == pytest.approx(98.74 / 98.8, rel=10 * EPS64)


def test_rise_sorts_by_alpha_and_skips_nan():
    alpha = [3.0, 0.1, 1.0, 0.3, 10.0]
    loss = [0.26, 1.0, 0.2, np.nan, 99.0]  # sorted: 1.0, (nan), 0.2, 0.26
    assert largest_relative_rise(alpha, loss) == pytest.approx(0.06 / 0.8, rel=10 * EPS64)


def test_rise_rejects_bad_input():
    with pytest.raises(ValueError, match="alpha and loss"):
        largest_relative_rise([0.1, 1.0], [1.0])
    with pytest.raises(ValueError, match="alpha_max"):
        largest_relative_rise(GRID, [1.0] * 5, alpha_max=0.0)


# ---------------------------------------------------------------- landscape_shape
def _landscape():
    """Two training sizes with known shapes.

    N = 100: the train loss is an "L" (1/α, then flat at 0.1) and the test loss a "U" with its bottom
    at α = 1. N = 3 000: the train loss rises by 0.05 of its range between α = 1 and 3 (not an "L" at
    1 %, one at 10 %) and the test loss falls all the way to α = 10 (its minimum on the edge: no "U").
    Two points of N = 3 000 did not converge.
    """
    rows = []
    for a in GRID:
        rows.append({"n_train": 100, "alpha": a, "train_loss": max(1.0 / a, 0.1),
                     "test_loss": 0.5 + np.log10(a) ** 2, "converged": True})
    big_train = {0.1: 2.0, 0.3: 1.0, 1.0: 0.0, 3.0: 0.1, 10.0: 0.1}
    for a in GRID:
        rows.append({"n_train": 3000, "alpha": a, "train_loss": big_train[a], "test_loss": 1.0 / a,
                     "converged": a < 3.0})
    return pd.DataFrame(rows)


def test_landscape_shape_reads_u_bottoms_l_rises_and_unconverged_points():
    shape = landscape_shape(_landscape())
    assert shape["test_loss_minimum_alpha"] == {"100": 1.0, "3000": 10.0}
    assert shape["test_loss_is_u"] == {"100": True, "3000": False}
    assert shape["train_loss_largest_rise"]["100"] == 0.0
    assert shape["train_loss_largest_rise"]["3000"] == pytest.approx(0.1 / 2.0, rel=10 * EPS64)
    assert shape["train_loss_is_l"] == {"100": True, "3000": False}
    assert (shape["unconverged_points"], shape["n_points"]) == (2, 10)
    assert landscape_shape(_landscape(), tolerance=0.1)["train_loss_is_l"] == {"100": True, "3000": True}


def test_a_test_minimum_at_the_smallest_alpha_is_not_a_u():
    table = _landscape()
    small = table["n_train"] == 100
    table.loc[small, "test_loss"] = table.loc[small, "alpha"]  # rising: minimum at α = 0.1
    shape = landscape_shape(table)
    assert shape["test_loss_minimum_alpha"]["100"] == 0.1
    assert shape["test_loss_is_u"]["100"] is False


def test_a_flat_test_loss_with_an_interior_minimum_by_noise_is_not_a_u():
    """A model at chance at every α (test loss ≈ log 2 ± noise) has an interior minimum but no "U"."""
    table = _landscape()
    small = table["n_train"] == 100
    table.loc[small, "test_loss"] = [0.70, 0.69, 0.68, 0.69, 0.71]
    shape = landscape_shape(table)
    assert shape["test_loss_minimum_alpha"]["100"] == 1.0
    assert shape["test_loss_u_depth"]["100"] == pytest.approx(1 - 0.68 / 0.70, rel=10 * EPS64)
    assert shape["test_loss_is_u"]["100"] is False
    assert landscape_shape(table, u_depth=0.02)["test_loss_is_u"]["100"] is True
    with pytest.raises(ValueError, match="u_depth"):
        landscape_shape(table, u_depth=1.0)


def test_landscape_shape_without_test_losses_and_bad_input():
    table = _landscape().assign(test_loss=np.nan)
    shape = landscape_shape(table)
    assert shape["test_loss_minimum_alpha"] == {"100": None, "3000": None}
    assert shape["test_loss_is_u"] == {"100": None, "3000": None}
    with pytest.raises(ValueError, match="converged"):
        landscape_shape(_landscape().drop(columns="converged"))
    with pytest.raises(ValueError, match="tolerance"):
        landscape_shape(_landscape(), tolerance=1.5)


# ---------------------------------------------------------------- data
def test_stand_in_data_splits_and_standardises():
    (X, y, X_test, y_test), name = text_data("smoke", 0)
    config = CONFIG["smoke"]["lstm"]
    assert len(X) + len(X_test) == config["n"] and len(X_test) == round(config["n"] * config["test_fraction"])
    assert X.shape[1] == config["maxlen"] and set(np.unique(y)) <= {0, 1}
    assert "make_sentiment_corpus" in name and "stand-in for IMDb" in name
    (graphs, t, graphs_test, t_test), name = molecule_data("smoke", 0)
    assert len(graphs) == len(graphs_test) == CONFIG["smoke"]["gcn"]["n"] // 2
    assert abs(t.mean()) < 100 * EPS64 and t.std() == pytest.approx(1.0, rel=100 * EPS64)
    assert "make_molecular_graphs" in name and "stand-in for QM9" in name


# ---------------------------------------------------------------- smoke run
@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("text_molecule") / "run"
    return reproduce("text_and_molecule_landscapes", size="smoke", out=out, verbose=0), out


def test_smoke_headline_agrees_with_its_landscape(smoke):
    summary, out = smoke
    assert json.loads((out / "summary.json").read_text()) == summary
    table = pd.read_csv(out / "landscape.csv")
    alphas = ALPHAS["smoke"]
    headline = summary["headline"]
    assert (headline["l_alpha_max"], headline["l_tolerance"]) == (L_ALPHA_MAX, L_TOLERANCE)
    for model in MODELS:
        rows = table[table["model"] == model]
        sizes = CONFIG["smoke"][model]["sizes"]
        assert len(rows) == len(sizes) * len(alphas)
        assert sorted(rows["n_train"].unique()) == sorted(sizes)
        expected = landscape_shape(rows)
        assert set(headline[model]) == set(expected)
        for key in ("test_loss_minimum_alpha", "test_loss_is_u", "train_loss_is_l", "unconverged_points",
                    "n_points"):
            assert headline[model][key] == expected[key]
        assert headline[model]["train_loss_largest_rise"] == pytest.approx(
            expected["train_loss_largest_rise"], rel=10 * EPS64)
        assert headline[model]["unconverged_points"] == int((~rows["converged"].astype(bool)).sum())
    assert set(pd.read_csv(out / "progress.csv")["run"]) == {
        f"{m}/N={n}/alpha={a:g}" for m in MODELS for n in CONFIG["smoke"][m]["sizes"] for a in alphas}
    assert {f"fig{f}{p}" for f in (4, 5) for p in ("a_train_loss.png", "b_test_loss.png", "c_lu.png")} \
        <= set(summary["files"])
    assert "stand-in for IMDb" in summary["dataset"] and "stand-in for QM9" in summary["dataset"]


def test_registered_with_the_papers_sizes():
    experiment = get_experiment("text_and_molecule_landscapes")
    assert experiment.figure == "Figs. 4a–c, 5a–c"
    assert experiment.reference["lstm_train_sizes"] == [1000, 50000]
    assert experiment.reference["gcn_train_sizes"] == [100, 3000] == list(CONFIG["full"]["gcn"]["sizes"])
