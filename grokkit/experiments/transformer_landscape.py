r"""Omnigrok App. B, Fig. 9: the transformer's reduced landscape on modular addition; critical f ≈ 0.25.

Nanda et al.'s one-layer transformer (p = 113, d_model 128, 4 heads, d_mlp
512, ReLU, no LayerNorm; AdamW lr 10⁻³, betas (0.9, 0.98), full batch,
cross-entropy) trained at fixed weight norm w = α·w₀ (norm constrained, no
weight decay) by :class:`~grokkit.analysis.ReducedLandscape` for a grid of α
and of train fractions f (N = f·p² training pairs, nested random subsets of
one pool; every point is tested on the same held-out pairs). The paper:
"The LU shape holds for α ∈ [0.1, 4] (some optimization issue may be
responsible for the rise in train loss for α > 4). We see the critical train
set size is approximately 0.25."

The critical fraction is read as in Power et al.: the smallest f at which
some norm generalises, i.e. whose best reduced test accuracy over α reaches
``GENERALISED`` (0.9); the headline gives it with the largest f that does
not (:func:`critical_fraction`), and, per f, the α of the reduced test-loss
minimum (the bottom of the "U") and the largest rise of the reduced train
loss over α ≤ 4 relative to its range there (an "L" has none).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grokkit import ModularTransformer
from grokkit.analysis import ReducedLandscape
from grokkit.datasets import make_modular
from grokkit.experiments import Experiment, ExperimentResult
from grokkit.experiments._common import current_checkpoints, data_seed, landscape_runs, run_summary
from grokkit.experiments._verdict import Verdict, fmt, judge, mean, node, reached
from grokkit.plotting import plot_landscape_heatmap, plot_lu

#: Best reduced test accuracy at which a train fraction counts as generalising.
GENERALISED = 0.9
#: The pool every train fraction draws from (the rest of the p² pairs is the test set).
POOL_FRACTION = 0.8
LU_ALPHA_MAX = 4.0

MODEL = {
    "smoke": {"p": 11, "d_model": 8, "n_heads": 2, "d_mlp": 16},
    "quick": {"p": 31, "d_model": 64, "n_heads": 4, "d_mlp": 256},
    "full": {"p": 113, "d_model": 128, "n_heads": 4, "d_mlp": 512},
}
FRACTIONS = {"smoke": (0.3, 0.6), "quick": (0.1, 0.2, 0.3, 0.5, 0.8),
             "full": (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8)}
ALPHAS = {"smoke": (0.5, 2.0), "quick": (0.1, 0.3, 1.0, 3.0, 10.0),
          "full": tuple(np.logspace(-1, 1, 9).round(4))}
MAX_STEPS = {"smoke": 30, "quick": 3_000, "full": 10_000}

SETTINGS = {
    "smoke": "p 11, transformer d_model 8, 2 heads, d_mlp 16, f 0.3 / 0.6, α 0.5 / 2, at most 30 steps",
    "quick": "p 31 (pool 80 % of the 961 pairs, 20 % test), transformer d_model 64, 4 heads, d_mlp 256, "
             "AdamW lr 1e-3·α (scale_lr), full batch, CE, f 0.1 / 0.2 / 0.3 / 0.5 / 0.8, α 0.1 / 0.3 / 1 / "
             "3 / 10, each point until its train loss converges (rtol 1e-3 over 500 steps) or 3 000 steps",
    "full": "p 113 (pool 80 % of 12 769 pairs, 20 % test), transformer d_model 128, 4 heads, d_mlp 512, "
            "AdamW lr 1e-3·α, betas (0.9, 0.98), full batch, CE, f 0.1 … 0.8 (9 values), 9 α log-spaced in "
            "[0.1, 10], each point until converged or 10 000 steps (Omnigrok's grid: 10⁴ per point)",
}


def critical_fraction(table: pd.DataFrame, level: float = GENERALISED) -> dict[str, float | None]:
    """The smallest train fraction whose best reduced test accuracy over α reaches ``level``, and the
    largest one that does not (None when no fraction is in that group).

    Parameters
    ----------
    table : DataFrame
        A landscape with ``train_fraction`` and ``test_acc`` columns.
    level : float in [0, 1], default=0.9
    """
    if not 0 <= level <= 1:
        raise ValueError(f"level must be in [0, 1]; got {level!r}.")
    best = table.groupby("train_fraction")["test_acc"].max()
    reached = best[best >= level]
    missed = best[best < level]
    return {"critical_fraction": float(reached.index.min()) if len(reached) else None,
            "largest_fraction_not_generalising": float(missed.index.max()) if len(missed) else None}


def lu_shape(table: pd.DataFrame, alpha_max: float = LU_ALPHA_MAX) -> dict[str, dict[str, float]]:
    """Per train fraction: the α of the reduced test-loss minimum, and the largest rise of the reduced
    train loss between neighbouring α ≤ ``alpha_max`` as a fraction of its range there (0 for an "L")."""
    bottom, rise = {}, {}
    for f, rows in table.groupby("train_fraction"):
        rows = rows.sort_values("alpha")
        bottom[f"{f:g}"] = float(rows.loc[rows["test_loss"].idxmin(), "alpha"])
        train = rows[rows["alpha"] <= alpha_max]["train_loss"].to_numpy(dtype=float)
        span = np.ptp(train) if len(train) > 1 else 0.0
        rise[f"{f:g}"] = float(np.maximum(np.diff(train), 0).max() / span) if span > 0 else 0.0
    return {"test_loss_minimum_alpha": bottom, "train_loss_largest_rise": rise}


def run(size: str, seed: int, device: str, verbose: int) -> ExperimentResult:
    model = MODEL[size]
    p = model["p"]
    X, y, X_test, y_test = make_modular(p=p, train_fraction=POOL_FRACTION, random_state=data_seed(seed))
    # f·p² pairs, capped by the pool (at p 31, round(0.8·961) = 769 > the pool's 768)
    sizes = [min(round(f * p * p), len(X)) for f in FRACTIONS[size]]
    estimator = ModularTransformer(**model, lr=1e-3, measure_every=1 if size == "smoke" else 10,
                                   device=device)
    landscape = ReducedLandscape(estimator, alphas=ALPHAS[size], train_sizes=sizes, random_state=seed,
                                 max_steps=MAX_STEPS[size], window=15 if size == "smoke" else 500,
                                 verbose=verbose, memory=current_checkpoints())
    table = landscape.fit(X, y, eval_set=(X_test, y_test)).landscape_
    table.insert(0, "train_fraction", table["n_train"].map(dict(zip(sizes, FRACTIONS[size], strict=True))))
    critical = critical_fraction(table)
    headline = {
        "critical_fraction": critical["critical_fraction"],
        "largest_fraction_not_generalising": critical["largest_fraction_not_generalising"],
        "generalised_at_test_acc": GENERALISED,
        "best_test_acc_by_fraction": {f"{f:g}": float(g["test_acc"].max())
                                      for f, g in table.groupby("train_fraction")},
        **lu_shape(table),
        "points_converged": f"{int(table['converged'].sum())} of {len(table)}",
    }
    runs = landscape_runs(table, (("train_fraction", "f"),))
    summary = {"dataset": f"modular addition, p = {p}, pool {POOL_FRACTION:.0%} of {p * p} pairs, "
                          f"{len(X_test)} test pairs",
               "headline": headline, "runs": {label: run_summary(frame) for label, frame in runs.items()}}
    figures = {
        "fig9_train_loss": plot_landscape_heatmap(table, "train_loss", y="train_fraction",
                                                  title="Omnigrok Fig. 9: reduced train loss"),
        "fig9_test_loss": plot_landscape_heatmap(table, "test_loss", y="train_fraction",
                                                 title="Omnigrok Fig. 9: reduced test loss"),
        "fig9_test_error": plot_landscape_heatmap(table, "test_acc", y="train_fraction", log_value=False,
                                                  title="reduced test error"),
        "lu_by_train_fraction": plot_lu(table, by="train_fraction", symbol="f",
                                        title="transformer: reduced losses against α per train fraction"),
    }
    return ExperimentResult(runs=runs, summary=summary, figures=figures,
                            tables={"landscape": table.set_index(["train_fraction", "alpha"])})



def verdict(headline: dict) -> Verdict:
    """Omnigrok Fig. 9: a critical training fraction ≈ 0.25 and an "L" train loss over α."""
    critical = headline.get("critical_fraction")
    rises = node(headline, "train_loss_largest_rise") or {}
    flat = all(mean(v) <= 0.01 for v in rises.values())
    why = (f"critical fraction {fmt(critical, against=0.35)} (paper ≈ 0.25), the largest fraction that "
           "does not generalise "
           f"{fmt(headline.get('largest_fraction_not_generalising'))}; train loss an L at every fraction: "
           f"{flat}; "
           f"converged {fmt(headline.get('points_converged'))}")
    if mean(critical) <= 0.35 and flat:
        return judge("reproduced", why)
    return judge("partly" if reached(critical)[0] else "not reproduced", why)


EXPERIMENT = Experiment(
    verdict=verdict,
    kinds={"best_test_acc_by_fraction.*": "accuracy", "*_fraction*": "fraction",
           "generalised_at_test_acc": "accuracy", "test_loss_minimum_alpha.*": "nonnegative",
           "train_loss_largest_rise.*": "nonnegative"},
    name="transformer_landscape",
    title="modular-addition transformer's reduced landscape: LU for α in [0.1, 4], critical fraction ≈ 0.25",
    paper="Liu, Michaud & Tegmark, Omnigrok (ICLR 2023), App. B",
    figure="Fig. 9",
    reference={
        "critical_fraction": 0.25,
        "lu_alpha_range": [0.1, 4.0],
        "note": "1-layer transformer, p = 113, d_model 128, 4 heads, d_mlp 512, lr 1e-3, constrained norm, "
                "a grid of α and train fractions: LU holds for α in [0.1, 4] (train loss rises for α > 4, "
                "an optimisation issue), critical train fraction ≈ 0.25.",
    },
    run=run,
    settings=SETTINGS,
)
