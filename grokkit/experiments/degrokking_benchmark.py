"""Every grokking control side by side on one task: Clauw et al.'s modular MLP, p = 97, 40 % of pairs.

One task, one network and one seed set for all controls: modular addition
with the one-hot MLP of Clauw et al. (250 ReLU units without biases,
full-batch AdamW lr 0.03, betas (0.9, 0.98)). Each control changes only what
it names, with its published or documented default:

- plain AdamW, weight decay 0.1 (Clauw et al.), and weight decay 2 (Clauw et al.);
- α = 8 with the last layer at zero and no weight decay (Clauw et al., after Omnigrok);
- constrained norm: α = 0.8, ‖θ‖ held at its initial value, no weight decay (Omnigrok);
- Tan & Huang's adaptive input noise (λ₁, λ₂) = (0.2, 0.01), their abelian
  test as a loss (weight 1) and MI-regularised training (weight 0.1; the
  paper gives no weight, 0.1 was fixed before any run, not tuned);
- Grokfast-EMA (α 0.98, λ 2) and Grokfast-MA (window 100, λ 5), the public
  modular-arithmetic settings (Lee et al. 2024);
- StableMax cross-entropy, ⊥AdamW, and both, all without weight decay
  (Prieto et al. 2025).

Every control runs from the same initial weights for a given seed (only α
rescales them and ``zero_last`` zeroes the last layer), on the same split.
Per control the table gives the steps to train accuracy ≥ 0.99 and to test
accuracy ≥ 0.95 (mean over seeds and a Student-t 95 % interval), the delay
between them, the speed-up against plain training (the geometric mean over
seeds of plain's steps to test ≥ 0.95 over the control's, same initial
weights; only when every seed of both generalised) and how many seeds
generalised within the budget. A run stops (``StopWhenGrokked``) once both
levels have held for 3 recorded epochs, so the budget is a cap.

Measured with ``--quick`` (seeds 0–2, at most 2 500 steps), mean steps to
test ≥ 0.95 and the speed-up: plain 2 050; ⊥AdamW (wd 0) 110, 18.7×;
StableMax + ⊥AdamW 167, 12.3×; wd 2 287, 7.2×; input noise 683, 3.0×; abelian
penalty 800, 2.6×; Grokfast-MA 2 363, 0.87×. Not within the budget:
Grokfast-EMA (final test 0.76; with 4 000 steps, seed 0: 3 370 against plain's
2 020, 0.60×), α = 8 at wd 0 (test stays at 0), the constrained norm (its 0.8×
initial norm is about one AdamW step at lr 0.03, and it never fits the training
set), the MI penalty (test 0.37) and StableMax alone at wd 0 (test 0.009). The
softmax collapse of each run's own loss stays 0 for plain, StableMax and ⊥AdamW;
it reaches 0.62 for α = 8 and 0.67 / 0.91 for Grokfast-EMA / -MA, whose weights
overshoot (seed 0, EMA: peak weight norm 397 against plain's 177).

Why Grokfast is slower here: in full-batch training the gradient past
memorisation is already slow (plain run, seed 0: cosine between g and its
EMA(0.98) h 0.96–0.97 from step 300 on, ‖g + 2h − 3g‖/‖3g‖ = 0.18 from step
1 000), so ``g + λh`` is nearly ``(1 + λ) g``, a rescaling AdamW's
normalisation undoes. What is left is the filter's 1/(1 − α) = 50-step memory,
which right after memorisation (‖h‖ ≈ 3‖g‖) keeps pushing along the memorising
gradient. Shorter memory is closer to plain: (0.9, 2) 2 110 steps, 0.96×;
(0.98, 0.5) 2 640, 0.77×. At wd 0 Grokfast-EMA does not generalise within
4 000 steps either. Lee et al.'s ~44× used minibatches of 512 on a transformer
at Adam lr 1e-3, and their baseline ran at wd 0 while their Grokfast run used
wd 0.005.

The quick size is about 57 000 full-batch run-steps. On the shared 2-core
machine (load 5–14 from other jobs) it took 37 min wall, 19.4 CPU-minutes:
19:51 until a stacked-input-noise bug stopped it, then 17:18 with ``--resume``.
Stacking the seeds does not make them faster here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from grokkit import ModularMLPClassifier
from grokkit._threads import torch_threads
from grokkit.callbacks import StopWhenGrokked
from grokkit.datasets import make_modular
from grokkit.experiments import Experiment, ExperimentResult
from grokkit.experiments._common import current_checkpoints, fit_run, over_seeds, run_summary, seed_executors
from grokkit.experiments._verdict import Verdict, fmt, judge, mean, node
from grokkit.plotting import plot_seed_bands
from grokkit.sweep import seed_interval

TRAIN_LEVEL, TEST_LEVEL = 0.99, 0.95

#: control -> (family, display name, parameters changed from Clauw et al.'s defaults).
CONTROLS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "plain": ("weight decay and initialisation", "plain AdamW, wd 0.1", {}),
    "wd_2": ("weight decay and initialisation", "wd 2", {"weight_decay": 2.0}),
    "alpha8_zero_last": ("weight decay and initialisation", "α 8, last layer 0, wd 0",
                         {"alpha": 8.0, "zero_last": True, "weight_decay": 0.0}),
    "constrained_norm": ("weight decay and initialisation", "constrained norm (α 0.8), wd 0",
                         {"alpha": 0.8, "constrain_norm": True, "weight_decay": 0.0}),
    "input_noise": ("Tan & Huang", "input noise (0.2, 0.01)", {"input_noise": (0.2, 0.01)}),
    "abelian_penalty": ("Tan & Huang", "abelian penalty 1", {"abelian_penalty": 1.0}),
    "mi_penalty": ("Tan & Huang", "MI penalty 0.1", {"mi_penalty": 0.1}),
    "grokfast_ema": ("Grokfast (Lee et al.)", "Grokfast-EMA (0.98, 2)", {"grokfast": ("ema", 0.98, 2.0)}),
    "grokfast_ma": ("Grokfast (Lee et al.)", "Grokfast-MA (100, 5)", {"grokfast": ("ma", 100, 5.0)}),
    "stablemax": ("numerical stability (Prieto et al.)", "StableMax, wd 0",
                  {"loss": "stablemax", "weight_decay": 0.0}),
    "orthoadamw": ("numerical stability (Prieto et al.)", "⊥AdamW, wd 0",
                   {"optimizer": "orthoadamw", "weight_decay": 0.0}),
    "stablemax_orthoadamw": ("numerical stability (Prieto et al.)", "StableMax + ⊥AdamW, wd 0",
                             {"loss": "stablemax", "optimizer": "orthoadamw", "weight_decay": 0.0}),
}

#: size -> (p, hidden width, step budget, recorded every k steps, seeds per control). Quick
#: keeps the task and the network (with 128 units at p 59 or p 97 plain training did not reach
#: test 0.95 within 4 000 steps: best 0.666 and 0.942) and cuts Clauw et al.'s 4 000 steps, which
#: the four controls that never generalise (α 8, constrained norm, MI penalty, StableMax alone)
#: run in full, to 2 500: plain training needs ~2 050. Stacking the seeds saves no time here (3
#: stacked runs trained at 11.4 run-steps/s, one alone at 12.7-15.3 steps/s, shared 2-core box).
BUDGETS = {"smoke": (23, 64, 40, 10, 3), "quick": (97, 250, 2500, 10, 3), "full": (97, 250, 10_000, 10, 5)}

SETTINGS = {
    size: (f"p {p}, 40 % of pairs, one-hot MLP {hidden} hidden (no bias), AdamW lr 0.03 betas (0.9, 0.98), "
           f"full batch, float32; {len(CONTROLS)} controls x {n_seeds} seeds (initialisations; one data "
           f"split), at most {budget:,} steps each (stopped once train acc >= {TRAIN_LEVEL} and test acc "
           f">= {TEST_LEVEL} held for 3 records), recorded every {every} steps")
    for size, (p, hidden, budget, every, n_seeds) in BUDGETS.items()
}

#: Recorded per run: the weight norm and the float32 softmax collapse of Prieto et al.
MEASURES = ("weight_norm", "softmax_collapse")


def fit_seeds(estimator: Any, data: Sequence[np.ndarray], seeds: Iterable[int], label: str,
              verbose: int) -> dict[int, pd.DataFrame]:
    """``progress_`` of ``clone(estimator).set_params(random_state=s)`` fitted on ``data``, per seed.

    Inside :func:`~grokkit.experiments._common.over_seeds` (as :func:`run` calls
    it) the first seed's :func:`~grokkit.experiments._common.fit_run` trains
    every seed in one :class:`grokkit.Sweep`: stacked where the control allows
    it, else joblib processes; the sweep's memory lets ``--resume`` skip
    finished runs.
    """
    return {seed: fit_run(clone(estimator).set_params(random_state=seed), data, f"{label}/seed={seed}",
                          verbose).progress_
            for seed in seeds}


def interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)`` of :func:`grokkit.sweep.seed_interval` (NaN bounds for fewer than 2 seeds)."""
    stat = seed_interval(values, level)
    return stat["mean"], stat["low"], stat["high"]


def control_table(summaries: Mapping[str, Mapping[int, Mapping[str, Any]]], budget: int) -> pd.DataFrame:
    """One row per control from its seeds' run summaries (see the module docstring for the columns)."""
    rows = []
    plain = summaries["plain"]
    for control, by_seed in summaries.items():
        family, name, _ = CONTROLS[control]
        memorised = [s["memorization_step"] for s in by_seed.values()]
        generalised = [s["generalization_step"] for s in by_seed.values()]
        delays = [g - m for m, g in zip(memorised, generalised, strict=True)
                  if m is not None and g is not None]
        train_mean, train_low, train_high = interval(memorised)
        test_mean, test_low, test_high = interval(generalised)
        delay_mean, delay_low, delay_high = interval(delays)
        reached = sum(g is not None for g in generalised)
        # paired by seed (same initial weights): plain's steps over the control's
        ratios = [plain[seed]["generalization_step"] / s["generalization_step"]
                  for seed, s in by_seed.items()
                  if s["generalization_step"] and plain[seed]["generalization_step"]]
        speedup = float(np.exp(np.mean(np.log(ratios)))) if len(ratios) == len(by_seed) else math.nan
        rows.append({
            "control": control, "family": family, "setting": name,
            "train_0.99_steps_mean": train_mean, "train_0.99_steps_ci_low": train_low,
            "train_0.99_steps_ci_high": train_high,
            "train_0.99_steps_n": sum(m is not None for m in memorised),
            "test_0.95_steps_mean": test_mean, "test_0.95_steps_ci_low": test_low,
            "test_0.95_steps_ci_high": test_high, "test_0.95_steps_n": reached,
            "delay_steps_mean": delay_mean, "delay_steps_ci_low": delay_low,
            "delay_steps_ci_high": delay_high, "delay_steps_n": len(delays),
            "speedup_vs_plain": speedup,
            "generalised_within_budget": f"{reached}/{len(by_seed)}",
            "final_test_acc_mean": float(np.mean([s["final_test_acc"] for s in by_seed.values()])),
            "max_softmax_collapse": float(max(s["max_softmax_collapse"] for s in by_seed.values())),
            "budget_steps": budget,
        })
    return pd.DataFrame(rows).set_index("control")


def _number(value: float, digits: int = 0) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:,.{digits}f}"


def _with_interval(row: pd.Series, key: str, n_seeds: int) -> str:
    """``mean [low, high]``, with ``(k of n seeds)`` when only some seeds reached the level."""
    mean, low, high, n = (row[f"{key}_{part}"] for part in ("mean", "ci_low", "ci_high", "n"))
    if not math.isfinite(mean):
        return "—"
    text = _number(mean) if not math.isfinite(low) else f"{_number(mean)} [{_number(low)}, {_number(high)}]"
    return text if n == n_seeds else f"{text} ({n} of {n_seeds} seeds)"


def markdown_table(table: pd.DataFrame) -> str:
    """The table as GitHub Markdown: steps as mean [95 % interval]."""
    header = ["control", "train ≥ 0.99 (steps)", "test ≥ 0.95 (steps)", "delay (steps)", "speed-up vs plain",
              "generalised", "final test acc", "max softmax collapse"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in table.iterrows():
        speedup, n = row["speedup_vs_plain"], int(row["generalised_within_budget"].split("/")[1])
        cells = [row["setting"], *(_with_interval(row, key, n) for key in
                                   ("train_0.99_steps", "test_0.95_steps", "delay_steps")),
                 "—" if not math.isfinite(speedup) else f"{speedup:.2f}×",
                 row["generalised_within_budget"], f"{row['final_test_acc_mean']:.3f}",
                 f"{row['max_softmax_collapse']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(size: str, seed: int, device: str, verbose: int, seeds: Sequence[int] | None = None,
        vectorize: Any = "auto") -> ExperimentResult:
    """Every control at ``seeds`` (default: the size's count from ``seed`` on) on ``seed``'s data split."""
    p, hidden, budget, every, n_seeds = BUDGETS[size]
    data = make_modular(p=p, train_fraction=0.4, random_state=seed)
    seeds = [seed + k for k in range(n_seeds)] if seeds is None else [int(s) for s in seeds]
    checkpoints = current_checkpoints()
    memory = None if checkpoints is None else checkpoints / "sweep"
    base = ModularMLPClassifier(p=p, hidden_layer_sizes=(hidden,), max_epochs=budget, measure_every=every,
                                measures=MEASURES, device=device, verbose=verbose,
                                callbacks=[StopWhenGrokked(TRAIN_LEVEL, TEST_LEVEL, patience=3)])
    by_control: dict[str, dict[int, pd.DataFrame]] = {}
    executors: dict[str, list[str]] = {}
    # tiny full-batch steps: one torch thread per run is faster than two on a busy CPU
    with torch_threads(1 if device == "cpu" else None):
        with over_seeds(seeds, vectorize=vectorize, memory=memory):
            for control, (_, _, params) in CONTROLS.items():
                by_control[control] = fit_seeds(clone(base).set_params(**params), data, seeds, control,
                                                verbose)
                executors[control] = seed_executors().get(f"{control}/seed={seeds[0]}", [])
    summaries = {control: {s: {**run_summary(frame, TRAIN_LEVEL, TEST_LEVEL),
                               "max_softmax_collapse": float(frame["softmax_collapse"].max())}
                           for s, frame in frames.items()}
                 for control, frames in by_control.items()}
    table = control_table(summaries, budget)
    families: dict[str, list[str]] = {}
    for control, (family, _, _) in CONTROLS.items():
        families.setdefault(family, []).append(control)
    labels = {control: name for control, (_, name, _) in CONTROLS.items()}
    figure = plot_seed_bands(by_control, families, reference="plain", labels=labels,
                             title=f"Grokking controls on modular addition, p = {p}: test accuracy, "
                                   f"mean and range over {n_seeds} seeds")
    headline = {
        "levels": {"train_acc": TRAIN_LEVEL, "test_acc": TEST_LEVEL},
        "seeds": seeds,
        "budget_steps": budget,
        "test_0.95_steps_mean": table["test_0.95_steps_mean"].to_dict(),
        "speedup_vs_plain": table["speedup_vs_plain"].to_dict(),
        "generalised_within_budget": table["generalised_within_budget"].to_dict(),
    }
    headline["executors"] = executors
    summary = {
        "dataset": f"modular addition, p = {p}, 40 % of {p * p} pairs",
        "headline": headline,
        "table_markdown": markdown_table(table),
        "controls": {control: {"family": family, "setting": name, "params": params}
                     for control, (family, name, params) in CONTROLS.items()},
        "runs": {f"{control}/seed={s}": one for control, by_seed in summaries.items()
                 for s, one in by_seed.items()},
    }
    runs = {f"{control}/seed={s}": frame for control, frames in by_control.items()
            for s, frame in frames.items()}
    return ExperimentResult(runs=runs, summary=summary, figures={"test_acc_by_control": figure},
                            tables={"controls": table})



#: What each control's paper claims against plain AdamW (wd 0.1): generalises sooner, or later / not at all.
CLAIMS = {"wd_2": "sooner", "alpha8_zero_last": "later", "constrained_norm": "sooner",
          "input_noise": "sooner",
          "abelian_penalty": "sooner", "mi_penalty": "sooner", "grokfast_ema": "sooner",
          "grokfast_ma": "sooner", "stablemax": "sooner", "orthoadamw": "sooner",
          "stablemax_orthoadamw": "sooner"}


def verdict(headline: dict) -> Verdict:
    """Each control against its paper's claim (sooner or later than plain AdamW); the share that hold."""
    speedups = node(headline, "speedup_vs_plain") or {}
    held, failed = [], []
    for control, claim in CLAIMS.items():
        if control not in speedups:
            continue
        speedup = mean(speedups[control])
        holds = speedup > 1 if claim == "sooner" else not speedup >= 1
        (held if holds else failed).append(f"{control} {fmt(speedups[control])}×")
    total = len(held) + len(failed)
    why = (f"{len(held)} of {total} controls as their papers claim ({', '.join(held) or 'none'}); "
           f"not: {', '.join(failed) or 'none'} (speed-up against plain, '—' when never within the budget)")
    why = why.replace("never×", "—")
    label = "reproduced" if total and not failed else "partly" if 2 * len(held) >= total else "not reproduced"
    return judge(label, why)


EXPERIMENT = Experiment(
    verdict=verdict,
    sweeps_seeds=True,
    kinds={"levels.*": "accuracy", "budget_steps": "step", "test_0.95_steps_mean.*": "step",
           "speedup_vs_plain.*": "ratio"},
    name="degrokking_benchmark",
    title="every grokking control (weight decay, α, norm, noise, penalties, Grokfast, StableMax, ⊥AdamW) "
          "on one modular-addition task, over seeds",
    paper="Clauw et al. (task); Liu, Michaud & Tegmark (Omnigrok); Tan & Huang; Lee, Kang, Kim & Lee "
          "(Grokfast, 2024); Prieto, Barsbey, Mediano & Birdal (Grokking at the edge of numerical "
          "stability, 2025)",
    figure="a side-by-side benchmark (no single paper figure)",
    reference={
        "grokfast": "Lee et al. report generalisation up to ~50x sooner on modular arithmetic (their "
                    "transformer, lr 1e-3, α 0.98 λ 2 for EMA; w 100 λ 5 for MA).",
        "stablemax_orthoadamw": "Prieto et al.: StableMax or ⊥AdamW let the network generalise without "
                                "weight decay, where softmax CE in float32 stalls in softmax collapse.",
        "omnigrok": "A constrained weight norm removes the grokking delay; α 8 with weight decay "
                    "lengthens it.",
        "tan_huang": "Input noise and the abelian penalty make the network generalise sooner (curves "
                     "only, no numbers).",
    },
    run=run,
    settings=SETTINGS,
)
