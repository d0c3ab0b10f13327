r"""Omnigrok §5.2, Fig. 8: on MNIST the reduced losses barely depend on representation messiness m.

The MNIST counterpart of the (w, m) landscape of Fig. 6. Images are the raw
representation :math:`\mathbf R_{\rm raw}`; a linearly separable one,
:math:`\mathbf R_{\rm linear}`, gives every pixel of an image the value of its
label ("an image of a 2 is represented by a matrix with all elements being
2"), and

.. math:: \mathbf R = m\,\mathbf R_{\rm raw} + (1 - m)\,\mathbf R_{\rm linear}
   \qquad \text{(eq. 7)}

interpolates between them (:func:`messy_images`). For every m the MLP of §4
(ReLU, MSE on one-hot targets, AdamW lr 10⁻³, batch 200) is trained on R at
fixed weight norm w = α·w₀ by :class:`~grokkit.analysis.ReducedLandscape`
(norm constrained, no weight decay, each point until its train loss has
converged), all m from one initialisation, giving
:math:`\tilde\ell_{\rm train}(w, m)` and :math:`\tilde\ell_{\rm test}(w, m)`
(eq. 5). The paper finds (full training set, N = 60 000) that train and test
losses behave alike and both depend very weakly on m, unlike the algorithmic
toy of Fig. 6, where the test loss depends strongly on m: raw images are
already close to an optimal representation, so MNIST needs no
representation learning and does not grok.

The headline measures each dependence in decades of loss: for a reduced loss
ℓ(α, m), its spread over m at fixed α, :math:`\log_{10}(\max_m \ell / \min_m
\ell)` (median over α), against its spread over α at fixed m (median over m);
and the train–test mismatch :math:`\log_{10}(\ell_{\rm test}/\ell_{\rm
train})` (median over the grid). The paper's Fig. 8c (an illustrative path
A → B → C) is a drawing on the landscape, not a run, and is not reproduced.

Every size reads MNIST when :func:`~grokkit.datasets.load_mnist` finds it (the
full size all of its training images, the quick size the first 1 000 on a
coarser grid) and sklearn's digits otherwise; ``summary["dataset"]`` states the
counts loaded.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from grokkit import GrokMLPClassifier
from grokkit.analysis import ReducedLandscape
from grokkit.experiments import Experiment, ExperimentResult
from grokkit.experiments._common import (
    current_checkpoints,
    image_data,
    landscape_runs,
    run_summary,
    spread_decades,
)
from grokkit.experiments._verdict import Verdict, fmt, judge, mean
from grokkit.plotting import plot_landscape_heatmap, plot_lu

MESSINESS = {"smoke": (0.0, 1.0), "quick": (0.0, 0.25, 0.5, 0.75, 1.0),
             "full": (0.0, 0.25, 0.5, 0.75, 1.0)}
ALPHAS = {"smoke": (0.5, 2.0), "quick": tuple(np.logspace(-1, 1, 5).round(4)),
          "full": tuple(np.logspace(-1, 1, 9).round(4))}
#: The quick size on MNIST: three m, 784-wide inputs and 2 000 steps per point keep it within minutes.
QUICK_MNIST_MESSINESS = (0.0, 0.5, 1.0)
QUICK_MNIST_MAX_STEPS = 2_000

SETTINGS = {
    "smoke": "MNIST first 100 train, all test (digits 100 train / 1 697 test offline), 16-16 MLP, MSE, "
             "m 0 / 1, α 0.5 / 2, at most 40 steps per point",
    "quick": "MNIST first 1 000 train, all test, 784-200-200-10 ReLU MLP, MSE, AdamW lr 1e-3·α (scale_lr), "
             "batch 200, m 0 / 0.5 / 1, 5 α log-spaced in [0.1, 10], each point until its train loss "
             "converges (rtol 1e-3 over 500 steps) or 2 000 steps (offline: digits 1 000 train / 797 test, "
             "m 0 / 0.25 / 0.5 / 0.75 / 1, 4 000 steps)",
    "full": "MNIST, all training images (paper: N = 60 000) and all test images, 784-200-200-10 ReLU MLP, "
            "MSE, AdamW lr 1e-3·α, batch 200, m 0 / 0.25 / 0.5 / 0.75 / 1, 9 α log-spaced in [0.1, 10], each "
            "point until converged or 20 000 steps (offline: digits 1 000 train / 797 test, 20 000 steps)",
}


def messy_images(X: Any, y: Any, messiness: float) -> np.ndarray:
    r"""Omnigrok eq. 7: :math:`m\,\mathbf R_{\rm raw} + (1 - m)\,\mathbf R_{\rm linear}`.

    ``R_linear`` sets every pixel of image i to its label ``y[i]`` (§5.2), so
    at m = 0 the input is a constant image whose value is the class.

    Parameters
    ----------
    X : array-like of shape (n, n_pixels)
        Raw images (grokkit's loaders scale pixels to [0, 1]).
    y : array-like of shape (n,)
        Integer labels.
    messiness : float in [0, 1]

    Returns
    -------
    ndarray of float32, shape (n, n_pixels)
    """
    from grokkit._validation import check_number

    check_number("messiness", messiness, low=0, high=1)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape != (len(X),):
        raise ValueError(f"X must be 2-d (n, n_pixels) and y 1-d of length n; got X of shape {X.shape} "
                         f"and y of shape {y.shape}.")
    linear = np.broadcast_to(y.astype(np.float64)[:, None], X.shape)
    return (messiness * X + (1.0 - messiness) * linear).astype(np.float32)


def _data(size: str, seed: int) -> tuple[tuple[np.ndarray, ...], str, bool]:
    n_train = 100 if size == "smoke" else 1000
    data, dataset = image_data(size, seed, n_train=None if size == "full" else n_train, n_digits=n_train)
    return data, dataset, dataset.startswith("MNIST")


def messiness_landscape(estimator: Any, data: tuple[np.ndarray, ...], messiness: Any, alphas: Any,
                        seed: int, max_steps: int, window: int, verbose: int) -> pd.DataFrame:
    """:class:`ReducedLandscape` on :func:`messy_images` at each m: its table with a ``messiness``
    column first. Every m starts from the same initial direction (one ``random_state``)."""
    X, y, X_test, y_test = data
    tables = []
    for m in messiness:
        landscape = ReducedLandscape(estimator, alphas=alphas, random_state=seed, max_steps=max_steps,
                                     window=window, verbose=verbose, memory=current_checkpoints())
        landscape.fit(messy_images(X, y, m), y, eval_set=(messy_images(X_test, y_test, m), y_test))
        tables.append(landscape.landscape_.assign(messiness=float(m)))
    table = pd.concat(tables, ignore_index=True)
    return table[["messiness", *[c for c in table.columns if c != "messiness"]]]


def landscape_headline(table: pd.DataFrame) -> dict[str, Any]:
    """The numbers Fig. 8 is read for: each loss's spread over m and over α, the train–test mismatch,
    and the best test loss and accuracy at each m."""
    ratio = table["test_loss"] / table["train_loss"]
    ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
    by_m = table.groupby("messiness")
    return {
        "train_loss_decades_over_m": spread_decades(table, "train_loss", "messiness", "alpha"),
        "train_loss_decades_over_alpha": spread_decades(table, "train_loss", "alpha", "messiness"),
        "test_loss_decades_over_m": spread_decades(table, "test_loss", "messiness", "alpha"),
        "test_loss_decades_over_alpha": spread_decades(table, "test_loss", "alpha", "messiness"),
        "test_over_train_loss_decades": float(np.median(np.log10(ratio))) if len(ratio) else None,
        "best_test_loss_by_m": {f"{m:g}": float(g["test_loss"].min()) for m, g in by_m},
        "best_test_acc_by_m": {f"{m:g}": float(g["test_acc"].max()) for m, g in by_m},
        "points_converged": f"{int(table['converged'].sum())} of {len(table)}",
    }


def run(size: str, seed: int, device: str, verbose: int) -> ExperimentResult:
    data, dataset, mnist = _data(size, seed)
    hidden = (16, 16) if size == "smoke" else (200, 200)
    clf = GrokMLPClassifier(hidden_layer_sizes=hidden, loss="mse", lr=1e-3, batch_size=200,
                            measure_every=1 if size == "smoke" else 10, device=device)
    quick_mnist = mnist and size == "quick"
    max_steps = {"smoke": 40, "quick": QUICK_MNIST_MAX_STEPS if quick_mnist else 4_000, "full": 20_000}[size]
    window = 20 if size == "smoke" else 500
    messiness = QUICK_MNIST_MESSINESS if quick_mnist else MESSINESS[size]
    table = messiness_landscape(clf, data, messiness, ALPHAS[size], seed, max_steps, window, verbose)
    runs = landscape_runs(table, (("messiness", "m"),))
    summary = {"dataset": dataset, "headline": landscape_headline(table),
               "runs": {label: run_summary(frame) for label, frame in runs.items()}}
    figures = {
        "fig8a_train_loss": plot_landscape_heatmap(table, "train_loss", y="messiness",
                                                   title="Omnigrok Fig. 8a: reduced train loss (w, m)"),
        "fig8b_test_loss": plot_landscape_heatmap(table, "test_loss", y="messiness",
                                                  title="Omnigrok Fig. 8b: reduced test loss (w, m)"),
        "lu_by_messiness": plot_lu(table, by="messiness", symbol="m",
                                   title="MNIST messiness: reduced losses against α for each m"),
    }
    return ExperimentResult(runs=runs, summary=summary, figures=figures,
                            tables={"landscape": table.set_index(["messiness", "alpha"])})


def verdict(headline: dict) -> Verdict:
    """Read the headline against the claim (see the module docstring).

    Claim: Fig. 8: on MNIST both reduced losses depend weakly on the messiness m (less than on the weight
    norm).
    """
    keys = ("train_loss_decades_over_m", "train_loss_decades_over_alpha", "test_loss_decades_over_m",
            "test_loss_decades_over_alpha")
    train_m, train_a, test_m, test_a = (headline.get(k) for k in keys)
    checks = [mean(train_m) < mean(train_a), mean(test_m) < mean(test_a)]
    why = (f"over m the train loss spans {fmt(train_m)} decades (over α {fmt(train_a)}), the test loss "
           f"{fmt(test_m)} (over α {fmt(test_a)}); points converged: {fmt(headline.get('points_converged'))}")
    return judge("reproduced" if all(checks) else "partly" if any(checks) else "not reproduced", why)


EXPERIMENT = Experiment(
    verdict=verdict,
    kinds={"*_loss_decades_over_*": "nonnegative", "test_over_train_loss_decades": "real",
           "best_test_loss_by_m.*": "nonnegative", "best_test_acc_by_m.*": "accuracy"},
    name="mnist_messiness_landscape",
    title="MNIST (w, m) landscape: train and test loss depend weakly on representation messiness",
    paper="Liu, Michaud & Tegmark, Omnigrok (ICLR 2023), §5.2",
    figure="Fig. 8a–b",
    reference={
        "n_train": 60_000,
        "note": "Reduced train and test losses over (w, m), R = m·R_raw + (1 − m)·R_linear, R_linear = an "
                "image with every pixel equal to its label: train and test losses behave similarly and both "
                "depend very weakly on m (in contrast to the algorithmic toy of Fig. 6, whose test loss "
                "depends strongly on m), so MNIST does not grok. Heat maps only, no numbers.",
    },
    run=run,
    settings=SETTINGS,
)
