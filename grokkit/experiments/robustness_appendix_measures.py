"""Tan & Huang App. A, Figs 11, 14, 17–22: more robustness measures over training.

The modular-addition runs use the setting of ``robustness_measures_at_grokking``
(Clauw et al.'s one-hot MLP: p = 97, 40 % of the pairs, 250 ReLU units without
biases, full-batch AdamW lr 0.03, betas (0.9, 0.98), weight decay 0.1). The
standard run records, every few steps:

* Fig. 11, the **abelian test on logits**: mean ‖f(a, b) − f(b, a)‖₂ over the
  pairs a < b (:func:`grokkit.measures.commutativity_distance`);
* Fig. 18, the same **on the embedding**, the hidden layer ``act1``
  (``commutativity_distance(layer="act1")``);
* Fig. 17, **PE on the input, embedding and logit layers**: the matrix entropy
  (order 1, nats) of the one-hot training inputs perturbed by Δ ~ N(0, σ²I),
  σ = 0.1, and of their hidden and logit representations
  (``perturb_entropy(layer=...)``). The input layer does not depend on the
  weights: its curve is a constant reference, the entropy the network starts from;
* Fig. 19, the **logit layer's entropy at Rényi orders** α ∈ :data:`ORDERS`
  (:func:`grokkit.measures.representation_entropy`, Gram of the L2-normalised
  rows, 512 training pairs) and its **sparsity**, the caption's quotient
  ‖z‖₁/‖z‖₂ of each logit vector, averaged over the training pairs
  (:func:`l1_l2_quotient`; 1 for one non-zero logit, √p for equal magnitudes);
* Fig. 20, the **parameters' entropy at the same orders**: the matrix entropy
  :func:`grokkit.measures.matrix_entropy` of each weight matrix, its rows (one
  per unit: ``fc1`` 250 × 2p, ``fc2`` p × 250) read as samples, and their
  sparsity ‖vec W‖₁/‖vec W‖₂ per matrix and over all weights;
* Fig. 21, the **covariance entropy** (``matrix_entropy(kernel="covariance")``:
  the entropy of Σ/tr Σ, Σ the covariance of the centred features) of the first
  layer's output ``fc1`` (before the ReLU), of the embedding ``act1`` and of the
  logits, on all training pairs.

Fig. 14 trains two more runs, each with one regulariser of App. A: the
commutative law as a loss (``abelian_penalty`` 1, as ``abelian_test``) and a
Barlow Twins loss between the views (a, b) and (b, a) of each pair
(``barlow_penalty``, on the hidden layer; :func:`grokkit.estimators.modular.barlow_twins_loss`).
Every run records the two readouts of Fig. 14: (a) the "test loss" of the
inverse law x + (−x) = 0, the mean distance of the embeddings of the p pairs
(x, −x mod p) to their mean embedding (:func:`inverse_embedding_spread`; all
share the answer 0, so a network that has learned the law maps them together),
and (b) the leave-one-out 1-nearest-neighbour accuracy of the embedding and
logit layers on 1 024 training pairs (:func:`grokkit.measures.nearest_neighbour_accuracy`):
the share of those pairs whose nearest other pair has the same answer. The
paper does not say which pairs its neighbours are searched among; here they are
the same seeded training subsample at every recorded step.

Fig. 22 repeats PMI, PE, MID and ED (Defs 4.1–4.4, σ = 0.1, as in
``robustness_measures_at_grokking``) on MNIST with Omnigrok's setting (MSE,
α = 8, 784-200-200-10 MLP, AdamW lr 1e-3, batch 200), trained on the first
1 000 images at every size when :func:`~grokkit.datasets.load_mnist` finds MNIST
(the quick size with ``mnist_alpha_grokking``'s quick weight decay and steps)
and on sklearn's digits (300 images) otherwise; ``summary["dataset"]`` names
which, with the counts loaded.

Figs 12–13 (CIFAR-10 with a ResNet-18) are left out on purpose: grokkit has
neither the data offline nor a ResNet, and a ResNet-18 run on CIFAR-10 is hours
on a CPU.

"Fastest change" is the sibling's :func:`sharpest_change_step` (the step that
ends the largest change per step after memorisation), compared with the test
accuracy's own (the grokking jump).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch
from torch import nn

from grokkit import GrokMLPClassifier, ModularMLPClassifier
from grokkit.analysis.curves import sharpest_change_step, value_at_step
from grokkit.datasets import make_modular
from grokkit.experiments import Experiment, ExperimentResult
from grokkit.experiments._common import (
    compare_runs,
    count,
    data_seed,
    fit_run,
    image_data,
    log_x,
    mark_phases,
    pyplot,
    run_summary,
)
from grokkit.experiments._verdict import Verdict, fmt, judge, mean, node
from grokkit.experiments.abelian_test import ABELIAN_PENALTY
from grokkit.experiments.mnist_alpha_grokking import QUICK_MNIST_STEPS, QUICK_MNIST_WEIGHT_DECAY
from grokkit.experiments.robustness_measures_at_grokking import (
    SIGMA,
    pe,
)
from grokkit.measures import (
    commutativity_distance,
    matrix_entropy,
    nearest_neighbour_accuracy,
    perturb_entropy,
    perturb_mutual_information,
    representation_entropy,
)
from grokkit.measures._capture import evaluation, hidden_modules, recording
from grokkit.measures.matrix_info import entropy_difference, mutual_information_difference
from grokkit.measures.registry import Measure
from grokkit.measures.weights import _weight_matrices
from grokkit.models.onehot_mlp import onehot_inputs

#: Rényi orders of Figs 19–20 (the paper does not list its orders).
ORDERS = (0.5, 1.0, 2.0, 3.0)
#: Weight of the Barlow Twins loss (Fig. 14). The paper gives none. Measured at the quick setting
#: (seed 0, test accuracy every 50 steps): 0.01 peaks at test 0.85 (step 750) and falls to 0.57 by
#: step 2 500; 0.001 reaches 0.96 at step 750 and falls to 0.78. Both generalise sooner than the
#: standard run (test ≥ 0.95 at step 2 050), then lose part of it.
BARLOW_PENALTY = 0.001
#: Training pairs read by the nearest-neighbour accuracy (Fig. 14b).
NEIGHBOUR_SAMPLES = 1024

SETTINGS = {
    "smoke": "p 23, 40 % of pairs, one-hot MLP 64 hidden, AdamW lr 0.03, wd 0.1, 40 full-batch steps, "
             "measures every 10 steps; abelian_penalty 1 and barlow_penalty 0.001 runs; MNIST first 1 000 "
             "images (digits 300 offline), 32-32 MLP, MSE, α 8, 20 steps",
    "quick": "p 97, 40 % of pairs, one-hot MLP 250 hidden (no bias), AdamW lr 0.03 betas (0.9, 0.98), "
             "wd 0.1, 2 500 full-batch steps, measures every 50 steps; the same with abelian_penalty 1 and "
             "with barlow_penalty 0.001; MNIST first 1 000 images, all test images, 784-200-200-10 MLP, MSE, "
             f"α 8, AdamW lr 1e-3, wd {QUICK_MNIST_WEIGHT_DECAY:g}, batch 200, {count(QUICK_MNIST_STEPS)} "
             "steps (offline: digits 300 train, wd 0.1, 10 000 steps), measures at log-spaced epochs",
    "full": "p 97, 40 % of pairs, one-hot MLP 250 hidden (no bias), AdamW lr 0.03 betas (0.9, 0.98), wd 0.1, "
            "4 000 full-batch steps, measures every 10 steps; the same with abelian_penalty 1 and with "
            "barlow_penalty 0.001; MNIST first 1 000 images (digits offline), 784-200-200-10 MLP, MSE, α 8, "
            "AdamW lr 1e-3, wd 0.01 on MNIST (0.1 on digits), batch 200, 100 000 steps (20 000 on digits), "
            "measures at log-spaced epochs",
}


def l1_l2_quotient(Z: torch.Tensor) -> torch.Tensor:
    r"""The sparsity quotient :math:`\|z\|_1/\|z\|_2` of each row of ``Z`` (Tan & Huang Figs 19–20).

    It is 1 for a row with one non-zero entry and :math:`\sqrt d` for a row of
    ``d`` entries of equal magnitude (a low quotient is a sparse row); an
    all-zero row gives NaN.
    """
    return torch.linalg.vector_norm(Z, ord=1, dim=-1) / torch.linalg.vector_norm(Z, ord=2, dim=-1)


def logit_sparsity(module: nn.Module, X: Any, logits: torch.Tensor | None = None) -> float:
    """Fig. 19: the mean over the training pairs of ‖f(x)‖₁/‖f(x)‖₂ of the logits (:func:`l1_l2_quotient`)."""
    if logits is None:
        with evaluation(module):
            logits = module(torch.as_tensor(X))
    return float(l1_l2_quotient(logits.detach().to(torch.float64)).mean())


def parameter_entropy(module: nn.Module) -> dict[str, float]:
    """Fig. 20: matrix entropy (nats) of each weight matrix at each order of :data:`ORDERS`.

    Keys ``<matrix>_order<α>`` (``fc1_order2``); each matrix's rows are the samples.
    """
    return {f"{name}_order{order:g}": matrix_entropy(weight, order=order)
            for name, weight in _weight_matrices(module).items() for order in ORDERS}


def parameter_sparsity(module: nn.Module) -> dict[str, float]:
    """Fig. 20: ‖vec W‖₁/‖vec W‖₂ of each weight matrix, and of all of them together (``total``)."""
    weights = {name: w.detach().to(torch.float64).reshape(-1) for name, w in _weight_matrices(module).items()}
    out = {"total": float(l1_l2_quotient(torch.cat(list(weights.values()))))}
    out.update({name: float(l1_l2_quotient(w)) for name, w in weights.items()})
    return out


def covariance_entropy(module: nn.Module, X: Any) -> dict[str, float]:
    """Fig. 21: covariance entropy (order 1, nats) of the first layer's output, the embedding and the logits.

    ``first`` is the output of ``fc1`` (before its activation), ``embedding`` the
    hidden layer ``act1`` and ``logits`` the output, all on the training pairs
    ``X``; see ``matrix_entropy(kernel="covariance")``.
    """
    pairs = torch.as_tensor(X, device=module.fc1.weight.device)
    layers = {"first": module.fc1, "embedding": hidden_modules(module)["act1"]}
    with evaluation(module), recording(module, layers) as store:
        logits = module(pairs)
    return {name: matrix_entropy(value, kernel="covariance")
            for name, value in {**store, "logits": logits}.items()}


def inverse_embedding_spread(module: nn.Module, p: int) -> dict[str, float]:
    r"""Fig. 14a: how far the embeddings of the pairs :math:`(x, -x)` lie from their mean.

    .. math:: D = \frac1p\sum_{x=0}^{p-1}\lVert e(x, -x \bmod p) - \bar e\rVert_2,
              \qquad \bar e = \frac1p\sum_x e(x, -x \bmod p)

    with :math:`e` the hidden layer ``act1``. The p pairs all have the answer 0
    (the inverse law x + (−x) = 0), so a network that computes it from a shared
    representation maps them together. ``distance`` is :math:`D` (in the units of
    the embedding, which weight decay shrinks) and ``relative`` is :math:`D` over
    the same mean distance for all :math:`p^2` pairs: 1 when the inverse pairs are
    no closer together than arbitrary pairs, 0 when they share one embedding.
    """
    device = module.fc1.weight.device
    x = torch.arange(int(p), device=device)
    inverse = torch.stack([x, (-x) % int(p)], dim=1)
    every = torch.cartesian_prod(x, x)
    layer = {"act1": hidden_modules(module)["act1"]}

    def spread(pairs: torch.Tensor) -> float:
        with evaluation(module), recording(module, layer) as store:
            module(pairs)
        embedding = store["act1"].to(torch.float64)
        return float(torch.linalg.vector_norm(embedding - embedding.mean(dim=0), dim=1).mean())

    distance, overall = spread(inverse), spread(every)
    return {"distance": distance, "relative": distance / overall if overall > 0 else float("nan")}


def pe_input(module: nn.Module, X: Any) -> float:
    """Fig. 17: PE of the input layer, H(X + Δ) of the perturbed one-hot training inputs, σ = SIGMA."""
    return perturb_entropy(module, onehot_inputs(module, X), sigma=SIGMA, layer="input")


def pe_embedding(module: nn.Module, X: Any) -> float:
    """Fig. 17: PE of the embedding, H(act1(X + Δ)) on the perturbed one-hot training inputs, σ = SIGMA."""
    return perturb_entropy(module, onehot_inputs(module, X), sigma=SIGMA, layer="act1")


#: Fig. 14's readouts, recorded on every modular run.
FIG14_MEASURES = (
    Measure("inverse_law", inverse_embedding_spread, task_keys=("p",)),
    Measure("nearest_neighbour_accuracy", nearest_neighbour_accuracy,
            needs=("X", "y", "activations", "logits"), params={"n_samples": NEIGHBOUR_SAMPLES}),
)
#: Figs 11 and 18: the abelian test on the logits and on the embedding.
ABELIAN_MEASURES = (
    "commutativity_distance",
    Measure("commutativity_distance_embedding", commutativity_distance, task_keys=("p", "operation"),
            params={"layer": "act1"}),
)
#: Figs 17, 19, 20, 21 (module-level functions, so that a grokkit.Sweep can pickle the estimators).
STANDARD_MEASURES = (
    Measure("pe_input", pe_input, needs=("X",)),
    Measure("pe_embedding", pe_embedding, needs=("X",)),
    Measure("pe_logits", pe, needs=("X",)),
    *(Measure(f"entropy_order{order:g}", representation_entropy, needs=("X", "activations", "logits"),
              params={"order": order}) for order in ORDERS),
    Measure("logit_sparsity", logit_sparsity, needs=("X", "logits")),
    Measure("parameter_entropy", parameter_entropy),
    Measure("parameter_sparsity", parameter_sparsity),
    Measure("covariance_entropy", covariance_entropy, needs=("X",)),
)
FIG17 = ("pe_input", "pe_embedding", "pe_logits")
FIG19 = (*(f"entropy_order{order:g}/logits" for order in ORDERS), "logit_sparsity")
FIG20 = (*(f"parameter_entropy/{name}_order{order:g}" for name in ("fc1", "fc2") for order in ORDERS),
         "parameter_sparsity", "parameter_sparsity/fc1", "parameter_sparsity/fc2")
FIG21 = ("covariance_entropy/first", "covariance_entropy/embedding", "covariance_entropy/logits")
FIG11_18 = ("commutativity_distance", "commutativity_distance_embedding")
FIG14 = ("inverse_law/distance", "inverse_law/relative", "nearest_neighbour_accuracy/act1",
         "nearest_neighbour_accuracy/logits")
FIG22 = ("pmi", "pe", "mid", "ed")


def _image_information(module: nn.Module, X: Any) -> dict[str, float]:
    """Fig. 22: PMI, PE, MID and ED (σ = SIGMA, nats) on the training images."""
    return {"pmi": perturb_mutual_information(module, X, sigma=SIGMA),
            "pe": perturb_entropy(module, X, sigma=SIGMA),
            "mid": mutual_information_difference(module, X, sigma=SIGMA),
            "ed": entropy_difference(module, X, sigma=SIGMA)}


def reading(progress: pd.DataFrame, column: str, memorised: int | None, generalised: int | None,
            jump: int | None) -> dict[str, Any]:
    """A measure's values at memorisation, generalisation and the end, and its fastest change after
    memorisation, in steps from the test accuracy's (``jump``); no fastest change for a constant column."""
    step = sharpest_change_step(progress, column, memorised)
    if progress[column].nunique(dropna=True) <= 1:
        step = None
    return {
        "at_memorization": value_at_step(progress, column, memorised),
        "at_generalization": value_at_step(progress, column, generalised),
        "final": float(progress[column].dropna().iloc[-1]),
        "sharpest_change_step_after_memorization": step,
        "steps_from_test_acc_jump": None if step is None or jump is None else int(step - jump),
    }


def _steps(summary_run: dict[str, Any], progress: pd.DataFrame) -> tuple[int | None, int | None, int | None]:
    memorised, generalised = summary_run["memorization_step"], summary_run["generalization_step"]
    return memorised, generalised, sharpest_change_step(progress, "test_acc", memorised)


def _modular_runs(size: str, seed: int, device: str, verbose: int) -> tuple[dict[str, pd.DataFrame], int]:
    p = 23 if size == "smoke" else 97
    data = make_modular(p=p, train_fraction=0.4, random_state=data_seed(seed))
    common = dict(p=p, hidden_layer_sizes=(64,) if size == "smoke" else (250,),
                  max_epochs={"smoke": 40, "quick": 2500, "full": 4000}[size],
                  measure_every={"smoke": 10, "quick": 50, "full": 10}[size],
                  random_state=seed, device=device, verbose=verbose)
    shared = ["weight_norm", "commutativity", *ABELIAN_MEASURES, *FIG14_MEASURES]
    settings = {"standard": ({}, [*shared, *STANDARD_MEASURES]),
                "abelian_penalty": ({"abelian_penalty": ABELIAN_PENALTY}, shared),
                "barlow_twins": ({"barlow_penalty": BARLOW_PENALTY}, shared)}
    runs = {}
    for label, (penalty, measures) in settings.items():
        clf = ModularMLPClassifier(measures=measures, **penalty, **common)
        runs[label] = fit_run(clf, data, label, verbose).progress_
    return runs, p


def _image_run(size: str, seed: int, device: str, verbose: int) -> tuple[pd.DataFrame, str]:
    data, dataset = image_data(size, seed)
    mnist = dataset.startswith("MNIST")
    steps_per_epoch = -(-len(data[0]) // 200)
    steps = {"smoke": 20, "quick": QUICK_MNIST_STEPS if mnist else 10_000,
             "full": 100_000 if mnist else 20_000}[size]
    weight_decay = {"quick": QUICK_MNIST_WEIGHT_DECAY, "full": 0.01}.get(size, 0.1) if mnist else 0.1
    information = Measure("information", _image_information, needs=("X",))
    clf = GrokMLPClassifier(hidden_layer_sizes=(32, 32) if size == "smoke" else (200, 200), alpha=8.0,
                            loss="mse", weight_decay=weight_decay, lr=1e-3, batch_size=200,
                            max_epochs=steps // steps_per_epoch, measures=["weight_norm", information],
                            measure_every=5 if size == "smoke" else "log", random_state=seed, device=device,
                            verbose=verbose)
    progress = fit_run(clf, data, "mnist", verbose).progress_
    return progress.rename(columns={f"information/{m}": m for m in FIG22}), dataset


def run(size: str, seed: int, device: str, verbose: int) -> ExperimentResult:
    runs, p = _modular_runs(size, seed, device, verbose)
    images, dataset = _image_run(size, seed, device, verbose)
    summaries = {label: run_summary(frame) for label, frame in runs.items()}
    summaries["mnist"] = run_summary(images)
    standard = runs["standard"]
    memorised, generalised, jump = _steps(summaries["standard"], standard)
    headline: dict[str, Any] = {
        "memorization_step": memorised,
        "generalization_step": generalised,
        "test_acc_sharpest_change_step": jump,
        "final_test_acc": summaries["standard"]["final_test_acc"],
    }
    for figure, columns in (("fig11_18", FIG11_18), ("fig17", FIG17), ("fig19", FIG19), ("fig20", FIG20),
                            ("fig21", FIG21)):
        headline[figure] = {column: reading(standard, column, memorised, generalised, jump)
                            for column in columns}
    headline["fig14"] = {}
    for label, frame in runs.items():
        run_memorised, run_generalised, run_jump = _steps(summaries[label], frame)
        headline["fig14"][label] = {
            "memorization_step": run_memorised,
            "generalization_step": run_generalised,
            "final_test_acc": summaries[label]["final_test_acc"],
            "max_test_acc": float(frame["test_acc"].max()),
            "max_test_acc_step": int(frame.loc[frame["test_acc"].idxmax(), "step"]),
            **{column: reading(frame, column, run_memorised, run_generalised, run_jump) for column in FIG14},
        }
    image_memorised, image_generalised, image_jump = _steps(summaries["mnist"], images)
    headline["fig22"] = {
        "memorization_step": image_memorised,
        "generalization_step": image_generalised,
        "test_acc_sharpest_change_step": image_jump,
        "final_test_acc": summaries["mnist"]["final_test_acc"],
        **{column: reading(images, column, image_memorised, image_generalised, image_jump)
           for column in FIG22},
    }
    summary = {
        "dataset": dataset,
        "modular_dataset": f"modular addition, p = {p}, 40 % of {p * p} pairs",
        "sigma": SIGMA,
        "orders": list(ORDERS),
        "barlow_penalty": BARLOW_PENALTY,
        "abelian_penalty": ABELIAN_PENALTY,
        "headline": headline,
        "runs": summaries,
    }
    steps = (memorised, generalised)
    figures = {
        "fig11_18_abelian_test_logits_embedding": _figure(
            standard, {"‖f(a,b) − f(b,a)‖ logits": ["commutativity_distance"],
                       "‖e(a,b) − e(b,a)‖ embedding": ["commutativity_distance_embedding"]},
            "Tan & Huang Figs 11, 18: abelian test on logits and embedding", *steps),
        "fig17_pe_layers": _figure(standard, {"PE (nats)": list(FIG17)},
                                   f"Tan & Huang Fig. 17: PE on input, embedding, logits (σ = {SIGMA})",
                                   *steps),
        "fig19_logit_entropy_sparsity": _figure(
            standard, {"logit entropy (nats)": list(FIG19[:-1]), "‖z‖₁/‖z‖₂ logits": ["logit_sparsity"]},
            "Tan & Huang Fig. 19: logit entropy at Rényi orders, and sparsity", *steps),
        "fig20_parameter_entropy_sparsity": _figure(
            standard, {"fc1 entropy (nats)": [c for c in FIG20 if "fc1_order" in c],
                       "fc2 entropy (nats)": [c for c in FIG20 if "fc2_order" in c],
                       "‖W‖₁/‖W‖₂": [c for c in FIG20 if c.startswith("parameter_sparsity")]},
            "Tan & Huang Fig. 20: parameter entropy at Rényi orders, and sparsity", *steps),
        "fig21_covariance_entropy": _figure(standard, {"covariance entropy (nats)": list(FIG21)},
                                            "Tan & Huang Fig. 21: covariance entropy of first, embedding, "
                                            "logit layers", *steps),
        "fig14_regularisers": compare_runs(
            runs, "Tan & Huang Fig. 14: commutative-law and Barlow Twins regularisers",
            measures=("inverse_law/relative", "nearest_neighbour_accuracy/act1",
                      "nearest_neighbour_accuracy/logits")),
        "fig22_information_mnist": _figure(images, {m.upper() + " (nats)": [m] for m in FIG22},
                                           "Tan & Huang Fig. 22: information quantities, "
                                           f"{dataset.split(',')[0]} (σ = {SIGMA})", image_memorised,
                                           image_generalised),
    }
    return ExperimentResult(runs={**runs, "mnist": images}, summary=summary, figures=figures)


def _figure(progress: pd.DataFrame, rows: dict[str, list[str]], title: str, memorised: int | None,
            generalised: int | None) -> Any:
    """Train/test accuracy, then one axis per entry of ``rows`` with its columns overlaid, over log step."""
    plt = pyplot()
    fig, axes = plt.subplots(1 + len(rows), 1, figsize=(7, 2.0 * (1 + len(rows)) + 0.8), sharex=True,
                             layout="constrained")
    xs = log_x(progress, "step")
    axes[0].plot(xs, progress["train_acc"], ls="--", label="train")
    axes[0].plot(xs, progress["test_acc"], label="test")
    axes[0].set_ylabel("accuracy")
    axes[0].set_ylim(-0.02, 1.02)
    for ax, (ylabel, columns) in zip(axes[1:], rows.items(), strict=True):
        parts = [column.split("/") for column in columns]
        # the part that tells the curves apart: "fc1_order2" of parameter_entropy/fc1_order2, but
        # "entropy_order2" of entropy_order2/logits
        distinct = -1 if len({part[-1] for part in parts}) == len(parts) else 0
        for column, part in zip(columns, parts, strict=True):
            ax.plot(xs, progress[column], marker=".", ms=3, label=part[distinct])
        ax.set_ylabel(ylabel, fontsize=8)
        if len(columns) > 1:
            ax.legend(fontsize=6, loc="best")
    mark_phases(axes, title, ((memorised, ":", "memorised"), (generalised, "-.", "generalised")))
    return fig


def verdict(headline: dict) -> Verdict:
    """Read the headline against the captions' claims (Figs 12–13 left out; 19–21 state none).

    Fig. 11: the logits of a + b and b + a stay apart after generalisation (final distance at least a
    tenth of its value at memorisation). Figs 17, 22: PE of the logits, and at least two of PMI, PE,
    MID, ED on the images, change fastest within max(100, 10 % of the generalisation step) of the
    test jump (the sibling's reading of Figs 4–7). Fig. 14: both regularised runs reach test ≥ 0.95
    sooner than the standard run and end there.
    """
    distance = "fig11_18.commutativity_distance"
    start, end = node(headline, f"{distance}.at_memorization"), node(headline, f"{distance}.final")
    apart = mean(end) >= 0.1 * mean(start)

    def window(generalised: Any) -> float:
        return max(100.0, 0.1 * mean(generalised)) if mean(generalised) > 0 else 0.0

    modular = window(headline.get("generalization_step"))
    pe_jump = node(headline, "fig17.pe_logits.steps_from_test_acc_jump")
    images = window(node(headline, "fig22.generalization_step"))
    near = [m for m in FIG22 if abs(mean(node(headline, f"fig22.{m}.steps_from_test_acc_jump"))) <= images]
    standard = node(headline, "fig14.standard.generalization_step")
    regularised = {r: node(headline, f"fig14.{r}.generalization_step")
                   for r in ("abelian_penalty", "barlow_twins")}
    # a never-generalising standard run (nan) is beaten by any regularised run that generalises
    sooner = all(mean(step) > 0 and not mean(step) >= mean(standard) for step in regularised.values())
    kept = all(mean(node(headline, f"fig14.{r}.final_test_acc")) >= 0.95 for r in regularised)
    checks = [apart, abs(mean(pe_jump)) <= modular, len(near) >= 2, sooner and kept]
    why = (f"logit distance of a+b, b+a {fmt(start)} at memorisation → {fmt(end)}; logit PE's fastest "
           f"change {fmt(pe_jump)} steps from the test jump; images: {', '.join(near) or 'none'} of PMI, PE, "
           f"MID, ED within {images:.0f} steps of it; generalised at step {fmt(standard)} standard, "
           + ", ".join(f"{r} {fmt(step)} (final {fmt(node(headline, f'fig14.{r}.final_test_acc'))})"
                       for r, step in regularised.items()))
    return judge("reproduced" if all(checks) else "partly" if sum(checks) >= 2 else "not reproduced", why)


EXPERIMENT = Experiment(
    verdict=verdict,
    kinds={"*_step_test_*": "step", "*.sharpest_change_step_after_memorization": "step",
           "*.steps_from_test_acc_jump": "real", "*_step": "step", "*nearest_neighbour_accuracy*": "accuracy",
           "*_acc": "accuracy", "*inverse_law/relative.*": "real", "*inverse_law/distance.*": "nonnegative",
           "fig11_18.*": "nonnegative", "fig17.*": "nonnegative", "fig19.entropy_*": "nonnegative",
           "fig19.logit_sparsity.*": "real", "fig20.parameter_entropy*": "nonnegative",
           "fig20.parameter_sparsity*": "real", "fig21.*": "nonnegative", "fig22.pe.*": "nonnegative",
           "fig22.mid.*": "nonnegative", "fig22.ed.*": "nonnegative", "fig22.pmi.*": "real"},
    name="robustness_appendix_measures",
    title="abelian tests, layer-wise PE, Rényi-order entropies, covariance entropy, Barlow Twins, MNIST "
          "information quantities",
    paper="Tan & Huang, Understanding Grokking Through A Robustness Viewpoint, §5.2, App. A",
    figure="Figs 11, 14, 17–22",
    reference={
        "note": "Fig. 11: the distance between the logits of a + b and b + a shows that the representations "
                "differ (standard and input-noise training). Fig. 14: training with the commutative law and "
                "with a Barlow Twins loss as regularisers, read by (a) the test loss of x + (−x) = 0 as the "
                "embeddings' distance to the mean embedding and (b) the nearest-neighbour accuracy of the "
                "embedding and logit layers. Fig. 17: PE on the input, embedding and logit layers. Fig. 18: "
                "the abelian test on the embedding. Fig. 19: logit-layer entropy at different Rényi orders, "
                "and sparsity ∝ ‖·‖₁/‖·‖₂. Fig. 20: parameter entropy and sparsity at different orders. "
                "Fig. 21: covariance entropy of the first, embedding and logit layers. Fig. 22: the "
                "information quantities on MNIST. Curves only, no numbers and no text beyond the captions; "
                "σ, the orders, the regulariser weights and the model are not stated.",
        "left_out": "Figs 12–13 (CIFAR-10, ResNet-18)",
    },
    run=run,
    settings=SETTINGS,
)
