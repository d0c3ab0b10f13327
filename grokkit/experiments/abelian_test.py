"""Tan & Huang Figs 9–10: the network does not learn commutativity before it groks.

Modular addition (p = 97, 40 % of pairs, Clauw et al.'s one-hot MLP setting):
the "abelian test" ``commutativity`` (fraction of pairs with
argmax f(a, b) = argmax f(b, a), no labels needed) is recorded over training.
It stays low while the network has memorised the training pairs and rises
only with test accuracy (Fig. 9). A second run adds the abelian test as a loss
(``abelian_penalty``, Fig. 10, "abelian degrok").
"""

from __future__ import annotations

import numpy as np

from grokkit import ModularMLPClassifier
from grokkit.datasets import make_modular
from grokkit.experiments import Experiment, ExperimentResult
from grokkit.experiments._common import compare_runs, data_seed, fit_run, run_summary
from grokkit.experiments._verdict import Verdict, fmt, judge, mean, node
from grokkit.plotting import plot_progress

MEASURES = ("weight_norm", "commutativity", "commutativity_distance")
ABELIAN_PENALTY = 1.0

SETTINGS = {
    "smoke": "p 23, 40 % of pairs, one-hot MLP 64 hidden, AdamW lr 0.03, wd 0.1, 40 full-batch steps",
    "quick": "p 97, 40 % of pairs, one-hot MLP 250 hidden (no bias), AdamW lr 0.03 betas (0.9, 0.98), "
             "wd 0.1, 2 500 full-batch steps; abelian_penalty 0 and 1",
    "full": "p 97, 40 % of pairs, one-hot MLP 250 hidden (no bias), AdamW lr 0.03 betas (0.9, 0.98), "
            "wd 0.1, 4 000 full-batch steps; abelian_penalty 0 and 1",
}


def run(size: str, seed: int, device: str, verbose: int) -> ExperimentResult:
    p = 23 if size == "smoke" else 97
    data = make_modular(p=p, train_fraction=0.4, random_state=data_seed(seed))
    epochs = {"smoke": 40, "quick": 2500, "full": 4000}[size]
    hidden = (64,) if size == "smoke" else (250,)
    runs = {}
    for label, penalty in (("standard", 0.0), ("abelian_penalty", ABELIAN_PENALTY)):
        clf = ModularMLPClassifier(p=p, hidden_layer_sizes=hidden, max_epochs=epochs,
                                   abelian_penalty=penalty, measures=MEASURES, random_state=seed,
                                   device=device, verbose=verbose)
        runs[label] = fit_run(clf, data, label, verbose).progress_
    summaries = {label: run_summary(frame) for label, frame in runs.items()}
    standard = runs["standard"]
    memorised = standard[(standard["train_acc"] >= 0.99) & (standard["test_acc"] < 0.1)]
    reached = standard.index[standard["commutativity"] >= 0.9]
    summary = {
        "dataset": f"modular addition, p = {p}, 40 % of {p * p} pairs",
        "headline": {
            "commutativity_while_memorised_not_generalised": (
                float(memorised["commutativity"].mean()) if len(memorised) else None),
            "final_commutativity": float(standard["commutativity"].iloc[-1]),
            "commutativity_0.9_step": int(standard.loc[reached[0], "step"]) if len(reached) else None,
            "memorization_step": summaries["standard"]["memorization_step"],
            "generalization_step": summaries["standard"]["generalization_step"],
            "spearman_commutativity_test_acc": float(
                standard["commutativity"].corr(standard["test_acc"], method="spearman")),
            "abelian_penalty_generalization_step": summaries["abelian_penalty"]["generalization_step"],
            "abelian_penalty_final_test_acc": summaries["abelian_penalty"]["final_test_acc"],
        },
        "runs": summaries,
    }
    figures = {
        "fig9_abelian_test": plot_progress(standard, measures=list(MEASURES),
                                           title=f"Tan & Huang Fig. 9: abelian test, p = {p}"),
        "fig10_abelian_penalty": compare_runs(runs, "Tan & Huang Fig. 10: abelian test as a loss",
                                              measures=("commutativity",)),
    }
    return ExperimentResult(runs=runs, summary=summary, figures=figures)


def verdict(headline: dict) -> Verdict:
    """Read the headline against the claim (see the module docstring).

    Claim: Fig. 9: commutativity low while memorised, ≥ 0.9 with generalisation; Fig. 10: the loss speeds
    it up.
    """
    low = node(headline, "commutativity_while_memorised_not_generalised")
    crossing, generalised = headline.get("commutativity_0.9_step"), headline.get("generalization_step")
    penalty = headline.get("abelian_penalty_generalization_step")
    follows = (mean(low) < 0.5 and mean(generalised) > 0
               and abs(mean(crossing) - mean(generalised)) <= 0.25 * mean(generalised))
    faster = mean(penalty) < mean(generalised)
    why = (f"commutativity {fmt(low)} while memorised, ≥ 0.9 at step {fmt(crossing)} against "
           f"generalisation at {fmt(generalised)}; with the abelian loss generalised at {fmt(penalty)}")
    label = "reproduced" if follows and faster else "partly" if follows or faster else "not reproduced"
    return judge(label, why)


EXPERIMENT = Experiment(
    verdict=verdict,
    kinds={"spearman_*": "correlation", "*_step": "step", "*commutativity*": "fraction", "*_acc": "accuracy"},
    name="abelian_test",
    title="commutativity stays low until the network groks modular addition",
    paper="Tan & Huang, Understanding Grokking Through A Robustness Viewpoint, §5",
    figure="Figs 9–10",
    reference={
        "note": "Fig. 9: the abelian test stays low (the model fails the commutative law) during "
                "memorisation and rises with test accuracy; Fig. 10: adding it as a loss speeds up "
                "generalisation, less than input noise does. Curves only, no numbers.",
        "chance_commutativity": float(np.round(1 / 97, 4)),
    },
    run=run,
    settings=SETTINGS,
)
