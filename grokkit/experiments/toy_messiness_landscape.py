r"""Omnigrok §5.1, Fig. 6a, b, e: the toy decoder's reduced landscape over weight norm w and messiness m.

Addition of symbols 0 ≤ i ≤ j < p = 10 on a fixed representation: a decoder
MLP maps E_i + E_j to a random 30-d target vector of the sum
(:func:`~grokkit.analysis.messiness.make_messy_addition`). The representation
interpolates between a structured and a random one,

.. math:: \mathbf R = m\,\mathbf R_{\rm random} + (1 - m)\,\mathbf R_{\rm linear}
   \qquad \text{(eq. 4)},

and for every (w, m) only the decoder's direction is trained, at fixed norm
w = α·w₀ (:class:`~grokkit.analysis.messiness.MessinessLandscape`), with Adam
at lr 10⁻³ (App. D), giving the reduced train and test losses of eq. 5.

Data layout. App. D's text (scalar E_k = k, N(0, 1) noise, 2p − 1 targets) does
not fit: its train loss stays ≥ 0.43 for every α in 3 000–15 000 steps (see
:mod:`grokkit.analysis.messiness`), so no train-loss contour exists. This
experiment uses the representation of the public notebook that drew Fig. 6
(``layout="code"``: a 2-d latent, linear part ``linspace(−1, 1, p)``,
U(−1, 1) random part, p targets by (i + j) mod p), with the optimiser of App. D:
Adam lr 10⁻³ (betas 0.9, 0.99 as in the notebook), no learning-rate decay, each
point until its train loss converges or 10⁴ steps. The grid is the notebook's
(m ∈ [0, 0.2], α up to 9; its α = 0 column, a zero network, is left out).

What is read off (:func:`toy_headline`), at the training size of Fig. 6a–b
(N = 45 of the 55 pairs):

* **train vs test dependence on m at large w**: at the α where every m has
  fitted (train loss ≤ 0.05, Fig. 6a's dashed line: "region II"), the range over m,
  :math:`\max_m \ell - \min_m \ell`, of the train loss and of the test loss
  (median over those α), and the same in decades. The paper: the train loss
  depends weakly on m, the test loss strongly.
* **the generalizing solution** (Fig. 6b's green star): the grid point of
  lowest reduced test loss.
* **Fig. 6e**: for N = 25, 35, 45 and 54 (the paper's 55 is every pair, which
  leaves no test set; the notebook's largest run used 54), the train-loss = 0.02
  contour, given as the smallest α that reaches it at each m, and whether it
  *reaches the star*: whether, in the 3 × 3 block of grid points around the
  star, the train loss lies on both sides of 0.02 (the contour passes through
  the star's cell). The paper: the contours of 45 and 55 connect to the star,
  those of 25 and 35 do not.

Fig. 6c, d and f (a path drawn on the landscape, a zoom with gradients, a
sketch) are drawings, not runs, and are not reproduced; the notebook's finer
Fig. 6e grid (m ≤ 0.1, α 2.5–4) is not run separately: the contours are drawn on
the main grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from grokkit._validation import check_number, check_options
from grokkit.analysis.messiness import MessinessLandscape, default_decoder
from grokkit.experiments import SIZES, Experiment, ExperimentResult
from grokkit.experiments._common import (
    current_checkpoints,
    landscape_runs,
    pyplot,
    run_summary,
    spread_decades,
)
from grokkit.experiments._verdict import Verdict, fmt, fraction, judge, mean, node
from grokkit.plotting import plot_landscape_heatmap

#: Fig. 6e's train-loss level.
CONTOUR_LEVEL = 0.02
#: Fig. 6a's dashed line: the train-loss level that splits region I (small w) from region II (large w).
REGION_LEVEL = 0.05
#: The training size of Fig. 6a–b (of the p(p + 1)/2 = 55 pairs).
MAIN_N = 45

MESSINESS = {"smoke": (0.0, 0.2), "quick": (0.0, 0.05, 0.1, 0.15, 0.2),
             "full": tuple(np.linspace(0.0, 0.2, 21).round(4))}
ALPHAS = {"smoke": (2.0, 6.0), "quick": (1.0, 2.0, 3.0, 4.5, 6.0, 9.0),
          "full": tuple(np.linspace(0.45, 9.0, 20).round(4))}
TRAIN_SIZES = {"smoke": (25, MAIN_N), "quick": (25, 35, MAIN_N, 54), "full": (25, 35, MAIN_N, 54)}
MAX_STEPS = {"smoke": 40, "quick": 2_500, "full": 10_000}
WINDOW = {"smoke": 20, "quick": 500, "full": 500}

SETTINGS = {
    "smoke": "p 10, notebook layout, 2-16-16-30 LeakyReLU decoder, Adam lr 1e-3, m 0 / 0.2, α 2 / 6, "
             "N 25 / 45, at most 40 steps per point",
    "quick": "p 10, notebook layout (2-d latent), 2-200-200-30 LeakyReLU decoder at fixed norm, Adam lr "
             "1e-3, full batch, m 0 / 0.05 / 0.1 / 0.15 / 0.2, α 1 / 2 / 3 / 4.5 / 6 / 9, "
             "N 25 / 35 / 45 / 54, "
             "each point until its train loss converges (rtol 1e-3 over 500 steps) or 2 500 steps",
    "full": "as quick, on the notebook's grid: 21 m in [0, 0.2] × 20 α in [0.45, 9], N 25 / 35 / 45 / 54, "
            "each point until converged or 10⁴ steps (App. D)",
}


def toy_landscape(size: str, seed: int, device: str, verbose: int) -> pd.DataFrame:
    """The (N, m, α) table of this experiment's setting: one :class:`MessinessLandscape` per N."""
    decoder = default_decoder("code").set_params(lr=1e-3, callbacks=None, device=device,
                                                 measure_every=1 if size == "smoke" else 10)
    if size == "smoke":
        decoder.set_params(hidden_layer_sizes=(16, 16))
    tables = []
    for n in TRAIN_SIZES[size]:
        landscape = MessinessLandscape(decoder, messiness=MESSINESS[size], alphas=ALPHAS[size], train_size=n,
                                       layout="code", random_state=seed, verbose=verbose, window=WINDOW[size],
                                       max_steps=MAX_STEPS[size], memory=current_checkpoints())
        tables.append(landscape.fit().landscape_)
    return pd.concat(tables, ignore_index=True)


def _grid(table: pd.DataFrame, value: str) -> pd.DataFrame:
    """``value`` as a (messiness × alpha) grid, both sorted."""
    grid = table.pivot_table(index="messiness", columns="alpha", values=value, aggfunc="mean")
    return grid.sort_index()[sorted(grid.columns)]


def best_test_point(table: pd.DataFrame) -> dict[str, Any]:
    """The generalizing solution (Fig. 6b's star): the row of lowest reduced test loss."""
    row = table.loc[table["test_loss"].idxmin()]
    point = {key: float(row[key]) for key in ("alpha", "messiness", "weight_norm", "test_loss", "train_loss")}
    if "converged" in row:
        point["converged"] = bool(row["converged"])
    return point


def contour_reaches(table: pd.DataFrame, star: Mapping[str, float], level: float = CONTOUR_LEVEL) -> bool:
    """Whether the ``train_loss = level`` contour of ``table`` passes through the star's grid cell.

    True when, among the grid points in the 3 × 3 block around ``star``
    (``alpha``, ``messiness``; clipped at the grid's edges), some have train
    loss ≤ ``level`` and some above it.
    """
    check_number("level", level, low=0, low_inclusive=False)
    grid = _grid(table, "train_loss")
    if star["alpha"] not in grid.columns or star["messiness"] not in grid.index:
        raise ValueError(f"star must be a point of the grid; got alpha={star['alpha']!r}, "
                         f"messiness={star['messiness']!r}.")
    row, col = grid.index.get_loc(star["messiness"]), grid.columns.get_loc(star["alpha"])
    block = grid.to_numpy(dtype=float)[max(row - 1, 0):row + 2, max(col - 1, 0):col + 2]
    block = block[np.isfinite(block)]
    return bool(block.size and block.min() <= level < block.max())


def boundary_alphas(table: pd.DataFrame, level: float = CONTOUR_LEVEL) -> dict[str, float | None]:
    """For each m, the smallest α whose train loss is ≤ ``level`` (``None`` if none): the contour."""
    grid = _grid(table, "train_loss")
    out = {}
    for m, losses in grid.iterrows():
        below = losses[losses <= level]
        out[f"{m:g}"] = float(below.index.min()) if len(below) else None
    return out


def toy_headline(table: pd.DataFrame, level: float = CONTOUR_LEVEL, region_level: float = REGION_LEVEL
                 ) -> dict[str, Any]:
    """The numbers Fig. 6a, b, e are read for (see the module docstring): region II is where the
    train loss is ≤ ``region_level`` at every m, the Fig. 6e contours are at ``level``."""
    main = table[table["n_train"] == MAIN_N]
    train_grid = _grid(main, "train_loss")
    fitted = [a for a in train_grid.columns if (train_grid[a] <= region_level).all()]
    large = fitted or [max(train_grid.columns)]
    at_large = main[main["alpha"].isin(large)]

    def range_over_m(value: str) -> float:
        return float(np.median(np.ptp(_grid(at_large, value).to_numpy(dtype=float), axis=0)))

    train_range, test_range = range_over_m("train_loss"), range_over_m("test_loss")
    star = best_test_point(main)
    contours = {}
    for n, rows in table.groupby("n_train"):
        star_row = rows[(rows["alpha"] == star["alpha"]) & (rows["messiness"] == star["messiness"])]
        contours[f"N={n}"] = {"reaches_star": contour_reaches(rows, star, level),
                              "train_loss_at_star": float(star_row["train_loss"].iloc[0]),
                              "boundary_alpha_by_m": boundary_alphas(rows, level)}
    return {
        "contour_level": level,
        "region_level": region_level,
        "large_w_alphas": [float(a) for a in large],
        "large_w_is_region_ii": bool(fitted),
        "train_loss_range_over_m_at_large_w": train_range,
        "test_loss_range_over_m_at_large_w": test_range,
        "test_to_train_range_ratio": test_range / train_range if train_range > 0 else None,
        "train_loss_decades_over_m_at_large_w": spread_decades(at_large, "train_loss", "messiness", "alpha"),
        "test_loss_decades_over_m_at_large_w": spread_decades(at_large, "test_loss", "messiness", "alpha"),
        "best_test_point": star,
        "contour_by_n": contours,
        "sizes_whose_contour_reaches_star": [int(n) for n, rows in table.groupby("n_train")
                                             if contours[f"N={n}"]["reaches_star"]],
        "points_converged": f"{int(table['converged'].sum())} of {len(table)}",
    }


def _mark(ax: Any, star: Mapping[str, float]) -> None:
    ax.plot(star["alpha"], star["messiness"], marker="*", markersize=16, color="limegreen",
            markeredgecolor="black", linestyle="none", label="generalizing solution")


def _contour(ax: Any, table: pd.DataFrame, level: float, **style: Any) -> bool:
    """Draw the ``train_loss = level`` line of ``table``; False (nothing drawn) when no cell crosses it."""
    grid = _grid(table, "train_loss")
    values = grid.to_numpy(dtype=float)
    if min(values.shape) < 2 or not np.nanmin(values) <= level <= np.nanmax(values):
        return False
    ax.contour(grid.columns.to_numpy(dtype=float), grid.index.to_numpy(dtype=float), values, levels=[level],
               **style)
    return True


def heat_maps(table: pd.DataFrame, star: Mapping[str, float], level: float = REGION_LEVEL
              ) -> dict[str, Any]:
    """Fig. 6a (train loss, the ``level`` contour dashed: regions I and II) and 6b (test loss), star
    marked."""
    main = table[table["n_train"] == MAIN_N]
    figures = {}
    for key, value, title in (("fig6a_train_loss", "train_loss", "Omnigrok Fig. 6a: reduced train loss"),
                              ("fig6b_test_loss", "test_loss", "Omnigrok Fig. 6b: reduced test loss")):
        fig = plot_landscape_heatmap(main, value, y="messiness", title=f"{title} (w, m), N = {MAIN_N}")
        ax = fig.axes[0]
        if value == "train_loss":
            _contour(ax, main, level, colors="yellow", linestyles="dashed")
        _mark(ax, star)
        figures[key] = fig
    return figures


def contour_figure(table: pd.DataFrame, star: Mapping[str, float], level: float = CONTOUR_LEVEL) -> Any:
    """Fig. 6e: the ``train_loss = level`` contour of every training size, unconverged points crossed."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.4), layout="constrained")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    handles, n_late = [], 0
    from matplotlib.lines import Line2D

    for (n, rows), color in zip(table.groupby("n_train"), colors, strict=False):
        drawn = _contour(ax, rows, level, colors=[color])
        late = rows[~rows["converged"].astype(bool)]
        n_late += len(late)
        ax.plot(late["alpha"], late["messiness"], "x", color=color, markersize=7)
        handles.append(Line2D([], [], color=color, label=f"N = {n}" + ("" if drawn else " (no crossing)")))
    _mark(ax, star)
    handles.append(Line2D([], [], marker="*", color="limegreen", markeredgecolor="black", markersize=12,
                          linestyle="none", label="generalizing solution (N = 45)"))
    if n_late:
        handles.append(Line2D([], [], marker="x", color="gray", linestyle="none",
                              label=f"not converged ({n_late} points)"))
    ax.set_xscale("log")
    alphas = np.unique(table["alpha"].to_numpy(dtype=float))
    shown = alphas[::-(-len(alphas) // 6)]
    ax.set_xticks(shown, labels=[f"{a:.3g}" for a in shown])
    ax.minorticks_off()
    ax.set_xlim(alphas.min(), alphas.max())
    ax.set_ylim(table["messiness"].min(), table["messiness"].max())
    ax.set_xlabel("α = w/w₀")
    ax.set_ylabel("messiness m")
    ax.legend(handles=handles, fontsize=8, loc="best")
    ax.set_title(f"Omnigrok Fig. 6e: train loss = {level:g} contours by training size")
    return fig


def run(size: str, seed: int, device: str, verbose: int) -> ExperimentResult:
    check_options("size", size, SIZES)
    table = toy_landscape(size, seed, device, verbose)
    headline = toy_headline(table)
    runs = landscape_runs(table, (("n_train", "N"), ("messiness", "m")))
    summary = {"dataset": "p = 10 addition pairs on the public notebook's 2-d representation (layout='code')",
               "headline": headline,
               "runs": {label: run_summary(frame) for label, frame in runs.items()}}
    figures = {**heat_maps(table, headline["best_test_point"]),
               "fig6e_contours": contour_figure(table, headline["best_test_point"])}
    return ExperimentResult(runs=runs, summary=summary, figures=figures,
                            tables={"landscape": table.set_index(["n_train", "messiness", "alpha"])})


def verdict(headline: Mapping[str, Any]) -> Verdict:
    """Fig. 6: at large w the test loss depends on m far more than the train loss (here: a range over m
    at least twice as wide), the generalizing solution lies at small m (≤ 0.05), and the train-loss
    contours of the larger training sizes (45, 54) reach it while those of 25 and 35 do not."""
    train = mean(headline.get("train_loss_range_over_m_at_large_w"))
    test = mean(headline.get("test_loss_range_over_m_at_large_w"))
    star_m = mean(node(headline, "best_test_point.messiness"))
    reaches = {n: fraction(node(headline, f"contour_by_n.N={n}.reaches_star")) for n in (25, 35, 45, 54)}
    checks = [test >= 2 * train, star_m <= 0.05,
              reaches[45] == 1 and reaches[54] == 1 and reaches[25] == 0 and reaches[35] == 0]
    star = ", ".join(f"{symbol} {fmt(node(headline, f'best_test_point.{key}'))}"
                     for symbol, key in (("m", "messiness"), ("α", "alpha")))
    contours = " / ".join(fmt(node(headline, f"contour_by_n.N={n}.reaches_star")) for n in (25, 35, 45, 54))
    why = (f"range over m at large w: train loss {fmt(headline.get('train_loss_range_over_m_at_large_w'))}, "
           f"test loss {fmt(headline.get('test_loss_range_over_m_at_large_w'))}; best test point at {star}; "
           f"contour reaches it for N = 25 / 35 / 45 / 54: {contours} (paper: 45 and 55 only); points "
           f"converged: {fmt(headline.get('points_converged'))}")
    return judge("reproduced" if all(checks) else "partly" if any(checks) else "not reproduced", why)


EXPERIMENT = Experiment(
    name="toy_messiness_landscape",
    title="Toy (w, m) landscape: train loss weakly, test loss strongly dependent on representation messiness",
    paper="Liu, Michaud & Tegmark, Omnigrok (ICLR 2023), §5.1 and App. D",
    figure="Fig. 6a, 6b, 6e",
    reference={
        "n_train": MAIN_N,
        "contour_level": CONTOUR_LEVEL,
        "sizes_whose_contour_reaches_star": [45, 55],
        "note": "Reduced train and test loss over (w, m), R = m·R_random + (1 − m)·R_linear, decoder "
                "1-200-200-30 ReLU trained by Adam lr 1e-3 for 1e4 steps at each (w, m). The train loss "
                "depends weakly on m, the test loss strongly; region I (high train loss, small w) and II "
                "(train loss ≈ 0, large w) split by the train-loss 0.05 contour; the generalizing solution "
                "(green star) lies at small m. Fig. 6e: the train loss = 0.02 contours of N = 45 and 55 "
                "connect to the star (θ55 < θ45, faster grokking), those of N = 25 and 35 do not. Heat maps "
                "only, no numbers.",
    },
    run=run,
    settings=SETTINGS,
    verdict=verdict,
    kinds={"*_level": "nonnegative", "*_loss_range_over_m_*": "nonnegative",
           "test_to_train_range_ratio": "ratio", "*_loss_decades_over_m_*": "nonnegative",
           "best_test_point.messiness": "fraction", "best_test_point.*": "nonnegative",
           "contour_by_n.*": "nonnegative"},
)

