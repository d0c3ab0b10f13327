"""Tan & Huang Figs 2, 4–7 and 15–16: sharpness, matrix information and group laws over training.

One modular-addition run (Clauw et al.'s one-hot MLP: p = 97, 40 % of the
pairs, 250 ReLU units without biases, full-batch AdamW lr 0.03, betas
(0.9, 0.98), weight decay 0.1) records, every few steps:

* Fig. 2, **sharpness** :math:`S(W) = \\operatorname{Tr}\\nabla^2\\mathcal L(W)` on the
  training set (§2.1; Hutchinson's estimator, :func:`grokkit.measures.hessian_trace`).
  Tan & Huang find it falls steadily through training (§3.1).
* Figs 4–7, the robustness measures of Defs 4.1–4.4 (:mod:`grokkit.measures.matrix_info`)
  on the training inputs onehot(a) ‖ onehot(b) perturbed by Δ ~ N(0, σ²I), σ = 0.1:
  PMI = I(X + Δ; f(X + Δ)), PE = H(f(X + Δ)), MID = |PMI_σ − PMI_0| and
  ED = |PE_σ − PE_0| (matrix entropies of the Gram matrices of L2-normalised
  rows, order 1, nats). PMI and PE "change sharply exactly at the time of
  grokking" (§4.1); MID and ED are small or decreasing before the network
  generalises (§4.2).
* Figs 15–16, the group-law tests of App. A (:mod:`grokkit.measures.group_laws`): the
  cross-entropy of the doubling law x + x = 2x and of the zero identity
  (x + 0 = x and 0 + x = x), and the associativity test
  (x + x) + x = x + (x + x) with x + x decoded by argmax.

The network's inputs are integer pairs; the robustness measures perturb their
one-hot encoding, which :class:`~grokkit.models.OneHotPairMLP` also accepts.
"Sharp change" is read as the step that ends the largest change per step
between two recorded steps after memorisation (:func:`sharpest_change_step`),
compared with the same step of the test accuracy (the grokking jump).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from torch import nn

from grokkit import ModularMLPClassifier
from grokkit.analysis.curves import sharpest_change_step, value_at_step
from grokkit.datasets import make_modular
from grokkit.experiments import Experiment, ExperimentResult
from grokkit.experiments._common import data_seed, fit_run, log_x, mark_phases, pyplot, run_summary
from grokkit.experiments._verdict import Verdict, fmt, judge, mean, node
from grokkit.measures.matrix_info import (
    entropy_difference,
    mutual_information_difference,
    perturb_entropy,
    perturb_mutual_information,
)
from grokkit.measures.registry import Measure
from grokkit.models.onehot_mlp import onehot_inputs

#: σ of the input perturbation Δ ~ N(0, σ²I) of Defs 4.1–4.4 (the paper gives no value; the
#: measures' default). The one-hot input rows have norm √2; the noise adds about σ√(2p) ≈ 1.4.
SIGMA = 0.1

SETTINGS = {
    "smoke": "p 23, 40 % of pairs, one-hot MLP 64 hidden, AdamW lr 0.03, wd 0.1, 40 full-batch steps, "
             "measures every 10 steps (Hessian trace ≤ 4 probes)",
    "quick": "p 97, 40 % of pairs, one-hot MLP 250 hidden (no bias), AdamW lr 0.03 betas (0.9, 0.98), "
             "wd 0.1, 2 500 full-batch steps, measures every 50 steps (Hessian trace ≤ 20 probes, PMI/PE/"
             "MID/ED on 512 training pairs, σ 0.1)",
    "full": "p 97, 40 % of pairs, one-hot MLP 250 hidden (no bias), AdamW lr 0.03 betas (0.9, 0.98), "
            "wd 0.1, 4 000 full-batch steps, measures every 10 steps (Hessian trace ≤ 100 probes, PMI/PE/"
            "MID/ED on 512 training pairs, σ 0.1)",
}

INFORMATION = ("pmi", "pe", "mid", "ed")
GROUP_LAWS = ("doubling", "identity_law", "associativity")


def pmi(module: nn.Module, X: Any) -> float:
    """PMI (Tan & Huang Def. 4.1, Fig. 4): I(X + Δ; f(X + Δ)) on the one-hot training inputs, σ = SIGMA."""
    return perturb_mutual_information(module, onehot_inputs(module, X), sigma=SIGMA)


def pe(module: nn.Module, X: Any) -> float:
    """PE (Def. 4.2, Fig. 5): H(f(X + Δ)) of the logits on the one-hot training inputs, σ = SIGMA."""
    return perturb_entropy(module, onehot_inputs(module, X), sigma=SIGMA)


def mid(module: nn.Module, X: Any) -> float:
    """MID (Def. 4.3, Fig. 6): |PMI_σ − PMI_0| on the one-hot training inputs."""
    return mutual_information_difference(module, onehot_inputs(module, X), sigma=SIGMA)


def ed(module: nn.Module, X: Any) -> float:
    """ED (Def. 4.4, Fig. 7): |PE_σ − PE_0| on the one-hot training inputs."""
    return entropy_difference(module, onehot_inputs(module, X), sigma=SIGMA)


#: The four as recorder measures on the training inputs (module-level functions, so that a
#: :class:`grokkit.Sweep` can pickle the estimators under ``reproduce --seeds N``).
INFORMATION_MEASURES = tuple(Measure(func.__name__, func, needs=("X",)) for func in (pmi, pe, mid, ed))


def _argmin_step(progress: pd.DataFrame, column: str, start: int | None, end: int | None) -> int | None:
    """The recorded step of the smallest ``column`` with ``start <= step <= end`` (None if either is None).

    Tan & Huang §4.2: MID or ED small, or consistently decreasing, before the
    network generalises; a minimum shortly before the test-accuracy jump is
    that reading.
    """
    if start is None or end is None:
        return None
    rows = progress[(progress["step"] >= start) & (progress["step"] <= end)].dropna(subset=[column])
    return int(rows.loc[rows[column].idxmin(), "step"]) if len(rows) else None


def _measures(size: str) -> list:
    probes = {"smoke": 4, "quick": 20, "full": 100}[size]
    return ["weight_norm", ("hessian_trace", {"n_probes": probes, "tol": 0.02}), *INFORMATION_MEASURES,
            ("doubling", {"score": "cross_entropy"}), ("identity_law", {"score": "cross_entropy"}),
            "associativity", "commutativity"]


def run(size: str, seed: int, device: str, verbose: int) -> ExperimentResult:
    p = 23 if size == "smoke" else 97
    data = make_modular(p=p, train_fraction=0.4, random_state=data_seed(seed))
    epochs = {"smoke": 40, "quick": 2500, "full": 4000}[size]
    every = {"smoke": 10, "quick": 50, "full": 10}[size]
    clf = ModularMLPClassifier(p=p, hidden_layer_sizes=(64,) if size == "smoke" else (250,),
                               max_epochs=epochs, measures=_measures(size), measure_every=every,
                               random_state=seed, device=device, verbose=verbose)
    progress = fit_run(clf, data, "standard", verbose).progress_
    summary_run = run_summary(progress)
    memorised = summary_run["memorization_step"]
    generalised = summary_run["generalization_step"]
    jump = sharpest_change_step(progress, "test_acc", memorised)
    sharpness = progress["hessian_trace"]
    headline: dict[str, Any] = {
        "memorization_step": memorised,
        "generalization_step": generalised,
        "test_acc_sharpest_change_step": jump,
        "final_test_acc": summary_run["final_test_acc"],
        "sharpness": {
            "first": float(sharpness.iloc[0]),
            "at_memorization": value_at_step(progress, "hessian_trace", memorised),
            "final": float(sharpness.iloc[-1]),
            "spearman_with_step_after_memorization": (
                float(progress.loc[progress["step"] >= memorised, "hessian_trace"]
                      .corr(progress.loc[progress["step"] >= memorised, "step"], method="spearman"))
                if memorised is not None else None),
        },
    }
    for column in INFORMATION + GROUP_LAWS:
        step = sharpest_change_step(progress, column, memorised)
        headline[column] = {
            "sharpest_change_step_after_memorization": step,
            "steps_from_test_acc_jump": None if step is None or jump is None else int(step - jump),
            "min_step_between_memorization_and_test_acc_jump": _argmin_step(progress, column, memorised,
                                                                            jump),
            "at_memorization": value_at_step(progress, column, memorised),
            "at_generalization": value_at_step(progress, column, generalised),
            "final": float(progress[column].iloc[-1]),
        }
    summary = {
        "dataset": f"modular addition, p = {p}, 40 % of {p * p} pairs",
        "sigma": SIGMA,
        "headline": headline,
        "runs": {"standard": summary_run},
    }
    figures = {
        "fig2_sharpness": _figure(progress, ("hessian_trace", "weight_norm"),
                                  "Tan & Huang Fig. 2: sharpness Tr ∇²L on the training set", memorised,
                                  generalised),
        "fig4_7_matrix_information": _figure(progress, INFORMATION,
                                             f"Tan & Huang Figs 4–7: PMI, PE, MID, ED (σ = {SIGMA}, nats)",
                                             memorised, generalised),
        "fig15_16_group_laws": _figure(progress, GROUP_LAWS,
                                       "Tan & Huang Figs 15–16: doubling and identity (cross-entropy), "
                                       "associativity", memorised, generalised),
    }
    return ExperimentResult(runs={"standard": progress}, summary=summary, figures=figures)


_LABELS = {"hessian_trace": "sharpness Tr H", "weight_norm": "‖θ‖₂", "pmi": "PMI (nats)",
           "pe": "PE (nats)", "mid": "MID (nats)", "ed": "ED (nats)",
           "doubling": "x+x=2x cross-entropy", "identity_law": "x+0=x cross-entropy",
           "associativity": "(x+x)+x = x+(x+x)"}


def _figure(progress: pd.DataFrame, measures: tuple[str, ...], title: str, memorised: int | None,
            generalised: int | None) -> Any:
    plt = pyplot()
    rows = 1 + len(measures)
    fig, axes = plt.subplots(rows, 1, figsize=(7, 2.0 * rows + 0.8), sharex=True, layout="constrained")
    xs = log_x(progress, "step")
    axes[0].plot(xs, progress["train_acc"], ls="--", label="train")
    axes[0].plot(xs, progress["test_acc"], label="test")
    axes[0].set_ylabel("accuracy")
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].legend(fontsize=7, loc="best")
    for ax, measure in zip(axes[1:], measures, strict=True):
        ax.plot(xs, progress[measure], color="C2", marker=".", ms=3)
        if measure == "hessian_trace" and bool((progress[measure] > 0).all()):
            ax.set_yscale("log")  # it falls by orders of magnitude
        ax.set_ylabel(_LABELS.get(measure, measure), fontsize=8)
    mark_phases(axes, title, ((memorised, ":", "memorised"), (generalised, "-.", "generalised")))
    return fig


def verdict(headline: dict) -> Verdict:
    """Read the headline against the claim (see the module docstring).

    Claim: Sharpness falls; PMI/PE/MID/ED change fastest at the test jump; associativity is learned only
    at grokking.
    """
    generalised = mean(headline.get("generalization_step"))
    window = max(100.0, 0.1 * generalised) if generalised > 0 else 0.0
    near = [m for m in ("pmi", "pe", "mid", "ed") if generalised > 0
            and abs(mean(node(headline, f"{m}.steps_from_test_acc_jump"))) <= window]
    falls = mean(node(headline, "sharpness.final")) < mean(node(headline, "sharpness.at_memorization"))
    law = (mean(node(headline, "associativity.at_memorization")) < 0.5
           and mean(node(headline, "associativity.final")) > 0.9)
    checks = [falls, len(near) >= 3, law]
    why = (f"sharpness {fmt(node(headline, 'sharpness.at_memorization'))} at memorisation → "
           f"{fmt(node(headline, 'sharpness.final'))}; fastest change within {window:g} steps of the test "
           "jump: "
           f"{', '.join(near) or 'none'} of PMI, PE, MID, ED (steps from the jump: "
           + ", ".join(f"{m} {fmt(node(headline, m + '.steps_from_test_acc_jump'))}"
                       for m in ("pmi", "pe", "mid", "ed"))
           + f"); associativity {fmt(node(headline, 'associativity.at_memorization'), against=0.5)} → "
           f"{fmt(node(headline, 'associativity.final'), against=0.9)}")
    return judge("reproduced" if all(checks) else "partly" if sum(checks) >= 2 else "not reproduced", why)


EXPERIMENT = Experiment(
    verdict=verdict,
    kinds={"*spearman*": "correlation", "*.steps_from_test_acc_jump": "real", "*_step*": "step",
           "*_acc": "accuracy", "sharpness.*": "real", "pe.*": "nonnegative", "mid.*": "nonnegative",
           "ed.*": "nonnegative", "pmi.*": "real", "doubling.*": "real", "identity_law.*": "real",
           "associativity.*": "real"},
    name="robustness_measures_at_grokking",
    title="sharpness falls, and PMI/PE/MID/ED and the group-law tests change when the network groks",
    paper="Tan & Huang, Understanding Grokking Through A Robustness Viewpoint, §3.1, §4, App. A",
    figure="Figs 2, 4–7, 15–16",
    reference={
        "note": "Fig. 2: the sharpness on the training set decreases continuously during training. "
                "Figs 4–5: PMI and PE change sharply exactly at the time of grokking. Figs 6–7: before "
                "train accuracy reaches 100 %, MID or ED being small or consistently decreasing predicts "
                "generalisation. Figs 15–16: the doubling (x + x = 2x) and zero-identity cross-entropies "
                "and the associativity test (x + x) + x = x + (x + x) are not learned before grokking. "
                "Curves only, no numbers; σ, the model and the modulus are not stated.",
    },
    run=run,
    settings=SETTINGS,
)
