r"""Omnigrok §4, Fig. 3e: the time to generalise on MNIST grows fast as N nears a critical data size.

The α = 8 MSE MLP of Fig. 3d (AdamW lr 10⁻³, weight decay, batch 200) is
trained once per training size N, on nested, class-balanced subsets of one
pool (every N holds the smaller ones, and each prefix of 10 k images holds k
of every digit), all tested on the same held-out images. For each N the
steps until test accuracy first reaches a level are read from ``progress_``;
"generalisation time increases rapidly once one approaches a certain critical
data set size" (§4, after Power et al. 2022). Below the critical size the
level is never reached.

The critical size is estimated two ways, at every level:

* **bracket**: the largest N that did not reach the level within the step
  budget and the smallest N that did (no model assumed);
* **fit**: the divergence :math:`t(N) = C / \ln(N / N_c)`, i.e. :math:`1/t`
  linear in :math:`\ln N`, vanishing at :math:`N_c` (least squares of
  :math:`1/t` on :math:`\ln N` over the sizes that reached the level;
  :func:`critical_data_size`). The paper gives no functional form, only the
  curve. Measured on digits (α 8, wd 0.1, seed 0, 20 000-step budget), the
  steps to test accuracy 0.8 at N = 50 / 100 / 200 / 400 / 800 were 19 953 /
  11 220 / 10 000 / 7 096 / 5 652; the fit (N_c = 16) reproduces them within
  ±10 %, about the log-spaced recording's resolution (≈ 12 %).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from grokkit import GrokMLPClassifier
from grokkit.callbacks import StopWhenGrokked
from grokkit.experiments import Experiment, ExperimentResult
from grokkit.experiments._common import (
    compare_runs,
    count,
    data_seed,
    fit_run,
    image_data,
    pyplot,
    run_summary,
)
from grokkit.experiments._verdict import Verdict, fmt, judge, mean, node, reached
from grokkit.progress import grokking_summary

TRAIN_LEVEL = 0.99
#: Test-accuracy levels whose times are reported; HEADLINE_LEVEL is the one of the headline fit.
TEST_LEVELS = (0.5, 0.6, 0.7, 0.8)
HEADLINE_LEVEL = 0.8

#: Training sizes N on MNIST (sizes beyond the training images the files hold are left out) ...
SIZES_N = {
    "smoke": (20, 40, 80),
    "quick": (100, 200, 400, 1_000, 2_000),
    "full": (100, 200, 400, 1_000, 2_000, 4_000, 8_000),
}
#: ... and on the digits stand-in (1 797 images in all).
DIGITS_SIZES_N = {"smoke": (20, 40, 80), "quick": (30, 60, 120, 240, 480),
                  "full": (30, 60, 120, 240, 480, 800)}

SETTINGS = {
    "smoke": "MNIST (digits offline), N 20 / 40 / 80 (class-balanced nested subsets), 32-32 MLP, α 8, MSE, "
             "AdamW lr 1e-3, wd 0.1, batch 200, 50 steps per N",
    "quick": "MNIST, N 100 / 200 / 400 / 1 000 / 2 000 of the training images, all test images, "
             "784-200-200-10 MLP, α 8, MSE, AdamW lr 1e-3, wd 1 (t ∝ 1/γ: a hundred times sooner than the "
             "paper's 0.01), batch 200, at most 4 000 steps per N (a run stops once test acc >= 0.8 has held "
             "for 3 recorded epochs); offline: digits pool of 480 (1 317 test), N 30 / 60 / 120 / 240 / 480",
    "full": "MNIST, N 100 / 200 / 400 / 1 000 / 2 000 / 4 000 / 8 000 of the training images (those the "
            "files hold), all test images, 784-200-200-10 MLP, α 8, MSE, AdamW lr 1e-3, wd 0.01, batch 200, "
            "at most 100 000 steps per N (offline: digits, N 30 / 60 / 120 / 240 / 480 / 800, wd 0.1, at "
            "most 60 000 steps)",
}


def balanced_order(y: Any, random_state: int) -> np.ndarray:
    """A permutation of ``range(len(y))`` whose every prefix is as class-balanced as possible.

    Each class's samples are ranked in a random order; samples are then taken
    rank by rank (all classes' first samples, in a random class order, then
    all second samples, ...), so a prefix of ``k·n_classes`` rows holds ``k``
    of every class with at least ``k`` samples.
    """
    y = np.asarray(y)
    rng = np.random.RandomState(random_state)
    rank = np.empty(len(y), dtype=np.int64)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        rank[members] = rng.permutation(len(members))
    return np.lexsort((rng.permutation(len(y)), rank))


def critical_data_size(n_train: Any, steps: Any) -> dict[str, float | None]:
    r"""The critical training size :math:`N_c` from the steps each size took to generalise.

    Fits :math:`1/t = a\,(\ln N - \ln N_c)` by least squares over the sizes
    with a time (``steps`` None or NaN: never reached; those sizes only enter
    the bracket), the divergence :math:`t = 1/(a \ln(N/N_c))` of the time to
    generalise at :math:`N_c` (Omnigrok Fig. 3e).

    Parameters
    ----------
    n_train : sequence of int
        Training sizes N (positive).
    steps : sequence of float or None
        Steps until the level was first reached, one per N.

    Returns
    -------
    dict
        ``critical_n_fit`` (the fitted :math:`N_c`; None with fewer than two
        sizes reaching the level or a fit whose 1/t does not grow with N),
        ``slope`` (a), ``largest_n_not_reached`` and ``smallest_n_reached``
        (None when no size is in that group), ``fit_within_bracket`` (whether
        the fitted N_c lies between those two; None without a fit or without a
        size that never reached the level), and ``critical_n``: the fitted N_c
        only when it lies inside that bracket, the data's own evidence of a
        critical size; else None, with ``critical_n_reason`` saying why (no
        fit, no size that failed, or a fit outside the bracket: an
        extrapolation, not a measurement; a fit below a size that never reached
        the level says the divergence is sharper than the assumed form).

    Examples
    --------
    >>> n = [40, 100, 200, 400]
    >>> t = [None] + [1 / (1e-4 * np.log(k / 50)) for k in n[1:]]
    >>> round(critical_data_size(n, t)["critical_n"], 6)
    50.0
    >>> critical_data_size(n[1:], t[1:])["critical_n_reason"]
    'every size reached the level, so N_c = 50 would be an extrapolation below the data'
    """
    n = np.asarray(n_train, dtype=np.float64)
    t = np.asarray(pd.to_numeric(pd.Series(list(steps), dtype=object), errors="coerce"), dtype=np.float64)
    if n.ndim != 1 or n.shape != t.shape:
        raise ValueError(f"n_train and steps must be 1-d and of the same length; got {n.shape} and "
                         f"{t.shape}.")
    if np.any(~np.isfinite(n)) or np.any(n <= 0):
        raise ValueError(f"n_train must hold positive finite sizes; got {list(n_train)!r}.")
    reached = np.isfinite(t) & (t > 0)
    low = float(n[~reached].max()) if (~reached).any() else None
    high = float(n[reached].min()) if reached.any() else None
    result: dict[str, Any] = {
        "critical_n": None,
        "critical_n_reason": None,
        "critical_n_fit": None,
        "slope": None,
        "largest_n_not_reached": low,
        "smallest_n_reached": high,
        "fit_within_bracket": None,
    }
    if len(np.unique(n[reached])) < 2:
        result["critical_n_reason"] = "fewer than two sizes reached the level: nothing to fit"
        return result
    slope, intercept = np.polyfit(np.log(n[reached]), 1.0 / t[reached], 1)
    result["slope"] = float(slope)
    if slope <= 0:
        result["critical_n_reason"] = "1/t does not grow with N: no divergence to fit"
        return result
    critical = float(np.exp(-intercept / slope))
    result["critical_n_fit"] = critical
    if low is None:
        result["critical_n_reason"] = (f"every size reached the level, so N_c = {critical:.3g} would be an "
                                       "extrapolation below the data")
        return result
    within = bool(low <= critical <= high)
    result["fit_within_bracket"] = within
    if within:
        result["critical_n"] = critical
    else:
        result["critical_n_reason"] = (f"the fitted N_c = {critical:.3g} lies outside the bracket "
                                       f"[{low:g}, {high:g}] between the sizes that failed and reached: "
                                       "an extrapolation, not a measurement")
    return result


def _data(size: str, seed: int) -> tuple[tuple[np.ndarray, ...], tuple[int, ...], str, bool]:
    """The training pool (balanced order), test set, the N grid and the data's description: MNIST
    (:func:`image_data`) at every size when it is found, sklearn's digits otherwise."""
    (X, y, X_test, y_test), dataset = image_data(size, seed, n_train=max(SIZES_N[size]),
                                                 n_digits=max(DIGITS_SIZES_N[size]))
    mnist = dataset.startswith("MNIST")
    sizes = tuple(n for n in (SIZES_N if mnist else DIGITS_SIZES_N)[size] if n <= len(X))
    order = balanced_order(y, data_seed(seed))
    dataset += f"; N = {' / '.join(map(count, sizes))} in class-balanced nested training subsets"
    return (X[order], y[order], X_test, y_test), sizes, dataset, mnist


def run(size: str, seed: int, device: str, verbose: int) -> ExperimentResult:
    (X, y, X_test, y_test), sizes, dataset, mnist = _data(size, seed)
    max_steps = {"smoke": 50, "quick": 4_000, "full": 100_000 if mnist else 60_000}[size]
    weight_decay = {"quick": 1.0, "full": 0.01 if mnist else 0.1}.get(size, 0.1)
    runs = {}
    for n in sizes:
        per_epoch = -(-n // 200)
        clf = GrokMLPClassifier(hidden_layer_sizes=(32, 32) if size == "smoke" else (200, 200), alpha=8.0,
                                loss="mse", weight_decay=weight_decay, lr=1e-3, batch_size=200,
                                max_epochs=max_steps // per_epoch, measures=("weight_norm",),
                                callbacks=[StopWhenGrokked(TRAIN_LEVEL, max(TEST_LEVELS), patience=3)],
                                random_state=seed, device=device, verbose=verbose)
        label = f"N={n}"
        runs[label] = fit_run(clf, (X[:n], y[:n], X_test, y_test), label, verbose).progress_
    times = time_table(runs, sizes)
    estimates = {f"{level:g}": critical_data_size(times["n_train"], times[f"steps_to_test_{level:g}"])
                 for level in TEST_LEVELS}
    head = estimates[f"{HEADLINE_LEVEL:g}"]
    summary = {
        "dataset": dataset,
        "headline": {
            "levels": {"train_acc": TRAIN_LEVEL, "test_acc": HEADLINE_LEVEL},
            "critical_n": head["critical_n"],
            "critical_n_reason": head["critical_n_reason"],
            "largest_n_not_reached": head["largest_n_not_reached"],
            "smallest_n_reached": head["smallest_n_reached"],
            "fit_within_bracket": head["fit_within_bracket"],
            "critical_n_at_other_levels": {k: v["critical_n"] for k, v in estimates.items()},
            "steps_to_test_level_by_n": {str(n): s for n, s in
                                         zip(sizes, times[f"steps_to_test_{HEADLINE_LEVEL:g}"], strict=True)},
            "memorization_step_by_n": {str(n): s for n, s in zip(sizes, times["memorization_step"],
                                                                 strict=True)},
            "final_test_acc_by_n": {str(n): a for n, a in zip(sizes, times["final_test_acc"], strict=True)},
        },
        "critical_n_estimates": estimates,
        "max_steps": max_steps,
        "runs": {label: run_summary(frame, TRAIN_LEVEL, HEADLINE_LEVEL) for label, frame in runs.items()},
    }
    figures = {
        "fig3e_time_vs_train_size": plot_time_vs_size(times, estimates, max_steps),
        "test_curves_by_n": compare_runs(runs, "Omnigrok Fig. 3e runs: α = 8, one run per training size N"),
    }
    return ExperimentResult(runs=runs, summary=summary, figures=figures,
                            tables={"times": times.set_index("n_train")})


def time_table(runs: dict[str, pd.DataFrame], sizes: Sequence[int]) -> pd.DataFrame:
    """One row per N: the memorisation step, the steps to each test level (None: not reached), the
    final and best test accuracy."""
    rows = []
    for n, frame in zip(sizes, runs.values(), strict=True):
        base = grokking_summary(frame, TRAIN_LEVEL, HEADLINE_LEVEL)
        row: dict[str, Any] = {"n_train": int(n), "memorization_step": base["memorization_step"]}
        for level in TEST_LEVELS:
            reached = grokking_summary(frame, TRAIN_LEVEL, level)["generalization_step"]
            row[f"steps_to_test_{level:g}"] = reached
        row.update(final_test_acc=base["final_test_acc"], best_test_acc=base["best_test_acc"],
                   final_step=int(frame["step"].iloc[-1]))
        rows.append(row)
    return pd.DataFrame(rows)


def plot_time_vs_size(times: pd.DataFrame, estimates: dict[str, dict[str, Any]], max_steps: int) -> Any:
    """Fig. 3e: steps to each test level against N (log–log); sizes that never reached a level sit at
    the budget as open markers; the fitted divergence and N_c at the headline level are drawn."""
    from matplotlib.ticker import NullLocator

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.8, 4.2), layout="constrained")
    n = times["n_train"].to_numpy(dtype=float)
    for level in TEST_LEVELS:
        steps = pd.to_numeric(times[f"steps_to_test_{level:g}"], errors="coerce").to_numpy(dtype=float)
        reached = np.isfinite(steps)
        line, = ax.plot(n[reached], steps[reached], "o-", label=f"test acc {level:g}")
        if (~reached).any():
            ax.scatter(n[~reached], np.full((~reached).sum(), max_steps), marker="^", facecolors="none",
                       edgecolors=line.get_color(), s=60)
        fit = estimates[f"{level:g}"]
        if level == HEADLINE_LEVEL and fit["critical_n_fit"] is not None:
            nc, a = fit["critical_n_fit"], fit["slope"]
            grid = np.geomspace(max(nc * 1.05, n.min() * 0.8), n.max(), 100)
            note = "" if fit["fit_within_bracket"] else " (extrapolated, outside the bracket)"
            ax.plot(grid, 1.0 / (a * np.log(grid / nc)), ":", color=line.get_color(),
                    label=f"fit t = 1/(a ln(N/N_c)), N_c = {nc:.3g}{note}")
            if nc >= n.min() / 2:
                ax.axvline(nc, color=line.get_color(), ls="--", lw=0.8)
        if level == HEADLINE_LEVEL and fit["largest_n_not_reached"] is not None:
            ax.axvspan(fit["largest_n_not_reached"], fit["smallest_n_reached"] or n.max(),
                       color=line.get_color(), alpha=0.08, label=f"N_c bracket at test acc {level:g}")
    ax.axhline(max_steps, color="0.6", lw=0.8)
    ax.text(n.max(), max_steps, "budget (▵ = not reached)", ha="right", va="bottom", fontsize=7, color="0.4")
    ax.set_xscale("log")
    ax.set_yscale("log")
    # one plain label per trained N: log-axis minor labels (2×10¹, 3×10¹, ...) collide over < 2 decades
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(n, labels=[f"{v:g}" for v in n])
    ax.set_xlabel("training set size N")
    ax.set_ylabel("steps to reach test accuracy level")
    ax.set_title("Omnigrok Fig. 3e: time to generalise vs N (α = 8, MSE)")
    ax.legend(fontsize=7)
    return fig



def verdict(headline: dict) -> Verdict:
    """Fig. 3e: steps to the test level grow as N falls, and below a critical N it is never reached."""
    steps = {int(float(n)): v for n, v in (node(headline, "steps_to_test_level_by_n") or {}).items()}
    everywhere = [n for n in sorted(steps) if reached(steps[n])[0] == reached(steps[n])[1]]
    never = [n for n in sorted(steps) if reached(steps[n])[0] == 0]
    bracket = bool(never and everywhere) and max(never) < min(everywhere)
    slower = len(everywhere) >= 2 and mean(steps[min(everywhere)]) > mean(steps[max(everywhere)])
    level = mean(node(headline, "levels.test_acc"))
    why = f"steps to test {level:g}: " + "; ".join(f"N {n}: {fmt(steps[n])}" for n in sorted(steps))
    label = "reproduced" if bracket and slower else "partly" if bracket or slower else "not reproduced"
    return judge(label, why)


EXPERIMENT = Experiment(
    verdict=verdict,
    kinds={"levels.*": "accuracy", "fit_within_bracket": "flag", "*_n": "count",
           "largest_n_not_reached": "count", "smallest_n_reached": "count",
           "critical_n_at_other_levels.*": "count", "final_test_acc_by_n.*": "accuracy", "*_by_n.*": "step"},
    name="critical_data_size",
    title="time to generalise against training size N diverges at a critical data size (MNIST, α = 8)",
    paper="Liu, Michaud & Tegmark, Omnigrok (ICLR 2023), §4",
    figure="Fig. 3e",
    reference={
        "note": "Generalisation time increases rapidly as N approaches a critical data set size (as Power "
                "et al. 2022 found for algorithmic data); below it generalisation does not happen. The "
                "paper gives the curve only, no critical N.",
        "alpha": 8.0,
        "mnist_train_size_of_fig3d": 1000,
    },
    run=run,
    settings=SETTINGS,
)
