r"""Omnigrok §4, Figs. 4a–c and 5a–c: reduced landscapes of an LSTM on IMDb and a GCN on QM9.

Omnigrok §4 ("Sentiment analysis of text", "Molecules") reduces the train and
test losses of two standard models to functions of the weight norm
:math:`w = \alpha w_0` and the training size N (eq. 3), as for MNIST in Fig. 3:

- **Fig. 4a–c**, a 2-layer LSTM classifying IMDb reviews (App. A: top 1 000
  words, padded to 500 tokens, embedding 64, hidden 128, Adam lr 10⁻³, binary
  cross-entropy, 25 % held back). Fig. 4c shows the reduced losses for
  N = 1k (top) and 50k (bottom).
- **Fig. 5a–c**, a GCN (2 graph convolutions with ReLU, a linear readout, Adam
  lr 10⁻³, MSE) predicting the isotropic polarizability of QM9 molecules,
  split 50/50. Fig. 5c shows N = 100 (top) and 3 000 (bottom).

The paper's reading is the same for both: at large N the train and test
losses have similar "U" shapes, so the "LU" mechanism cannot create grokking;
at small N they mismatch (train low where test is high, at α > 1), which makes
grokking from a large initialisation possible (Figs. 4d and 5d, the
experiments ``lstm_text_grokking`` and, for the GCN, the issue-5 note).
Footnote 5: the reduced train loss should be non-increasing ("L"), but
optimisation issues may appear at too large initialisations.

Both landscapes are built by :class:`~grokkit.analysis.ReducedLandscape`
(norm constrained, no weight decay, learning rate ``lr·α``, each point until
its train loss has converged or its step budget is spent; unconverged points
are flagged). The headline gives, per model and training size
(:func:`landscape_shape`): the α of the reduced test-loss minimum, whether it
lies strictly inside the α grid (a "U"), the largest rise of the reduced train
loss between neighbouring α ≤ ``L_ALPHA_MAX`` relative to its range there
(0 for an "L"; an "L" within ``L_TOLERANCE``), and the count of unconverged
points.

Data: IMDb (:func:`grokkit.datasets.load_imdb`) and QM9
(:func:`grokkit.datasets.load_qm9`, from ``$GROKKIT_DATA/qm9`` or
``~/.grokkit/qm9``) at the full size when present; otherwise, and always at
the smoke and quick sizes, the offline stand-ins
:func:`~grokkit.datasets.make_sentiment_corpus` and
:func:`~grokkit.datasets.make_molecular_graphs` (targets standardised with
the training pool's mean and standard deviation), named in
``summary["dataset"]``.

On the CPU the run uses one torch thread (restored afterwards), as
``lstm_text_grokking`` does: the LSTM's backward pass crawls when two threads
compete for busy cores.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from grokkit import GrokGCNRegressor, GrokLSTMClassifier
from grokkit._threads import torch_threads
from grokkit.analysis import ReducedLandscape
from grokkit.datasets import load_imdb, make_sentiment_corpus
from grokkit.experiments import Experiment, ExperimentResult
from grokkit.experiments._common import (
    current_checkpoints,
    data_seed,
    landscape_runs,
    molecule_graphs,
    run_summary,
)
from grokkit.experiments._verdict import Verdict, fmt, fraction, judge, node
from grokkit.plotting import plot_landscape_heatmap, plot_lu
from grokkit.text import TextSequencer

#: The two models, in the order of the paper's figures.
MODELS = ("lstm", "gcn")
#: The reduced train loss counts as an "L" over α ≤ L_ALPHA_MAX (footnote 5: optimisation issues may
#: make it rise at too large initialisations) when no rise between neighbouring α exceeds this fraction
#: of its range there (issue 17's criterion for the digits landscape: 1 %).
L_ALPHA_MAX = 4.0
L_TOLERANCE = 0.01
#: A "U" needs its interior minimum at least this fraction below the lower end value.
U_DEPTH = 0.05

ALPHAS = {"smoke": (0.5, 2.0), "quick": (0.1, 0.3, 1.0, 3.0, 10.0),
          "full": tuple(np.logspace(-1, 1, 9).round(4))}
#: Per size and model: documents or molecules in all, test fraction, training sizes N, step budget and
#: convergence window per point, and the estimator's settings.
CONFIG: dict[str, dict[str, dict[str, Any]]] = {
    "smoke": {
        "lstm": dict(n=80, test_fraction=0.25, sizes=(20, 60), max_steps=12, window=6, maxlen=12,
                     embedding=8, hidden=8, lr=1e-2, batch_size=20),
        "gcn": dict(n=60, test_fraction=0.5, sizes=(10, 30), max_steps=12, window=6, hidden=(8, 8),
                    lr=1e-2, batch_size=10),
    },
    "quick": {
        "lstm": dict(n=1000, test_fraction=0.25, sizes=(150, 750), max_steps=2_000, window=400, maxlen=64,
                     embedding=64, hidden=64, lr=3e-4, batch_size=50),
        "gcn": dict(n=2000, test_fraction=0.5, sizes=(100, 1000), max_steps=3_000, window=500,
                    hidden=(32, 16), lr=1e-3, batch_size=32),
    },
    "full": {
        "lstm": dict(n=None, test_fraction=0.25, sizes=(1000, None), max_steps=10_000, window=500,
                     maxlen=500, embedding=64, hidden=128, lr=1e-3, batch_size=50),
        "gcn": dict(n=6000, test_fraction=0.5, sizes=(100, 3000), max_steps=20_000, window=500,
                    hidden=(32, 16), lr=1e-3, batch_size=32),
    },
}
#: The stand-in corpus of the full size when IMDb is absent (its N = "all" is then 3 750 documents).
FULL_STANDIN_DOCUMENTS = 5000

SETTINGS = {
    "smoke": "80 synthetic reviews (60 train pool / 20 test), maxlen 12, LSTM embedding = hidden = 8, lr "
             "1e-2, N 20 / 60; 60 generated molecules (30/30), GCN (8, 8), lr 1e-2, N 10 / 30; α 0.5 / 2, "
             "at most 12 steps per point",
    "quick": "LSTM: 1 000 synthetic reviews (750 train pool / 250 test), top 999 words, maxlen 64, "
             "embedding = hidden = 64, AdamW lr 3e-4·α, batch 50, clip 5 (lstm_text_grokking's quick "
             "model), N 150 / 750, at most 2 000 steps per point (window 400); GCN: 2 000 generated "
             "molecules (1 000/1 000), hidden (32, 16), sum pooling, AdamW lr 1e-3·α, batch 32, N 100 / "
             "1 000, at most 3 000 steps (window 500); α 0.1 / 0.3 / 1 / 3 / 10, each point until its train "
             "loss converges (rtol 1e-3)",
    "full": "LSTM: IMDb, all 50 000 reviews with 25 % held back (37 500 / 12 500), top 999 words, padded "
            "to 500, embedding 64, hidden 128, AdamW lr 1e-3·α, batch 50, N 1 000 / 37 500 (paper: 1k / "
            "50k), at most 10 000 steps per point; GCN: the first 6 000 QM9 molecules, polarizability, "
            "split 50/50, hidden (32, 16), AdamW lr 1e-3·α, batch 32, N 100 / 3 000 (the paper's), at "
            "most 20 000 steps; 9 α log-spaced in [0.1, 10] (the paper prints no grid). Offline: 5 000 "
            "synthetic reviews and 6 000 generated molecules",
}


# ---------------------------------------------------------------- headline helpers
def largest_relative_rise(alpha: Any, loss: Any, alpha_max: float | None = L_ALPHA_MAX) -> float:
    """The largest rise of ``loss`` between neighbouring α ≤ ``alpha_max`` (sorted by α), as a fraction
    of its range over those α: 0 for a non-increasing curve (an "L"), 1 when it climbs back its whole
    range in one step. NaN values are skipped; fewer than two values, or a flat curve, give 0.

    Parameters
    ----------
    alpha, loss : array-like of the same length
    alpha_max : float or None, default=L_ALPHA_MAX
        Largest α considered (None: all).
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    loss = np.asarray(loss, dtype=np.float64)
    if alpha.shape != loss.shape or alpha.ndim != 1:
        raise ValueError(f"alpha and loss must be 1-d of the same length; got shapes {alpha.shape} and "
                         f"{loss.shape}.")
    if alpha_max is not None and not alpha_max > 0:
        raise ValueError(f"alpha_max must be positive or None; got {alpha_max!r}.")
    keep = np.isfinite(alpha) & np.isfinite(loss)
    if alpha_max is not None:
        keep &= alpha <= alpha_max
    order = np.argsort(alpha[keep], kind="stable")
    values = loss[keep][order]
    span = float(np.ptp(values)) if len(values) > 1 else 0.0
    return float(np.maximum(np.diff(values), 0.0).max() / span) if span > 0 else 0.0


def landscape_shape(table: pd.DataFrame, alpha_max: float | None = L_ALPHA_MAX,
                    tolerance: float = L_TOLERANCE, u_depth: float = U_DEPTH) -> dict[str, Any]:
    """What Figs. 4c and 5c are read for, per training size N (keys ``str(N)``).

    Parameters
    ----------
    table : DataFrame
        One model's ``ReducedLandscape.landscape_`` (``n_train``, ``alpha``, ``train_loss``,
        ``test_loss``, ``converged``).
    alpha_max : float or None, default=L_ALPHA_MAX
        The train loss's "L" is judged over α ≤ ``alpha_max`` (:func:`largest_relative_rise`).
    tolerance : float in [0, 1], default=L_TOLERANCE
        The largest relative rise that still counts as an "L".
    u_depth : float in [0, 1), default=U_DEPTH
        How far the interior minimum must lie below the lower of the two end values, as a
        fraction of it, to count as a "U": a flat test loss (a model at chance everywhere) has an
        interior minimum by noise alone.

    Returns
    -------
    dict
        ``test_loss_minimum_alpha`` (the bottom of the "U"), ``test_loss_u_depth`` (1 − minimum / the
        lower end value), ``test_loss_is_u`` (that minimum lies strictly inside the α grid and its
        depth is at least ``u_depth``, so the test loss rises on both sides), ``train_loss_largest_rise``,
        ``train_loss_is_l`` (rise ≤ ``tolerance``), each by N, and ``unconverged_points`` (rows with
        ``converged`` False) of ``n_points``.
    """
    missing = {"n_train", "alpha", "train_loss", "test_loss", "converged"} - set(table.columns)
    if missing:
        raise ValueError(f"table lacks the columns {sorted(missing)}; pass a ReducedLandscape.landscape_.")
    if not 0 <= tolerance <= 1:
        raise ValueError(f"tolerance must be in [0, 1]; got {tolerance!r}.")
    if not 0 <= u_depth < 1:
        raise ValueError(f"u_depth must be in [0, 1); got {u_depth!r}.")
    bottom, depth, is_u, rise, is_l = {}, {}, {}, {}, {}
    for n, rows in table.groupby("n_train"):
        key = f"{n:g}"
        tested = rows.dropna(subset=["test_loss"]).sort_values("alpha")
        if tested.empty:
            bottom[key], depth[key], is_u[key] = None, None, None
        else:
            at = float(tested.loc[tested["test_loss"].idxmin(), "alpha"])
            bottom[key] = at
            ends = min(float(tested["test_loss"].iloc[0]), float(tested["test_loss"].iloc[-1]))
            low = float(tested["test_loss"].min())
            depth[key] = 1.0 - low / ends if ends > 0 else 0.0
            is_u[key] = bool(rows["alpha"].min() < at < rows["alpha"].max() and depth[key] >= u_depth)
        rise[key] = largest_relative_rise(rows["alpha"], rows["train_loss"], alpha_max)
        is_l[key] = bool(rise[key] <= tolerance)
    return {"test_loss_minimum_alpha": bottom, "test_loss_u_depth": depth, "test_loss_is_u": is_u,
            "train_loss_largest_rise": rise,
            "train_loss_is_l": is_l, "unconverged_points": int((~table["converged"].astype(bool)).sum()),
            "n_points": len(table)}


# ---------------------------------------------------------------- data
def _split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.RandomState(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def text_data(size: str, seed: int) -> tuple[tuple[Any, ...], str]:
    """Token arrays (train pool, test) and a sentence naming the data: IMDb at the full size when it can
    be had, else :func:`make_sentiment_corpus`; top 999 words of the pool, padded to ``maxlen``."""
    config = CONFIG[size]["lstm"]
    seed = data_seed(seed)
    reason = "offline stand-in for IMDb"
    docs = None
    if size == "full":
        try:
            train_docs, train_y, test_docs, test_y = load_imdb(n_train=None, n_test=None, random_state=seed)
            docs = np.concatenate([train_docs, test_docs])
            y = np.concatenate([train_y, test_y])
            name = "IMDb"
        except (FileNotFoundError, OSError) as exc:
            reason = f"offline stand-in: {str(exc).split(' (')[0]}"
    if docs is None:
        n = FULL_STANDIN_DOCUMENTS if size == "full" else config["n"]
        docs, y = make_sentiment_corpus(n_documents=n, random_state=seed)
        name = f"synthetic sentiment corpus (make_sentiment_corpus), {n} documents ({reason})"
    docs, y = np.asarray(docs, dtype=object), np.asarray(y)
    train, test = _split(len(docs), config["test_fraction"], seed)
    sequencer = TextSequencer(vocab_size=1000, maxlen=config["maxlen"], pad_to="maxlen")
    sequencer.fit(list(docs[train]))
    data = (sequencer.transform(list(docs[train])), y[train], sequencer.transform(list(docs[test])), y[test])
    return data, (f"{name}, {len(train)} train pool / {len(test)} test, top 999 words, padded to "
                  f"{config['maxlen']}")


def molecule_data(size: str, seed: int) -> tuple[tuple[Any, ...], str]:
    """Graphs and standardised targets (train pool, test) and a sentence naming the data: QM9's
    polarizability at the full size when it is in :func:`~grokkit.experiments._common.qm9_home`, else
    :func:`~grokkit.datasets.make_molecular_graphs`.
    The targets are standardised with the training pool's mean and standard deviation."""
    config = CONFIG[size]["gcn"]
    graphs, y, name = molecule_graphs(config["n"], seed, qm9=size == "full")
    seed = data_seed(seed)
    train, test = _split(len(graphs), config["test_fraction"], seed)
    mean, std = float(y[train].mean()), float(y[train].std())
    scaled = (y - mean) / (std if std > 0 else 1.0)
    data = ([graphs[i] for i in train], scaled[train], [graphs[i] for i in test], scaled[test])
    return data, f"{name}, {len(train)} train pool / {len(test)} test, targets standardised"


def _estimator(model: str, size: str, device: str) -> Any:
    config = CONFIG[size][model]
    measure_every = 1 if size == "smoke" else 10
    if model == "lstm":
        return GrokLSTMClassifier(vocab_size=1000, embedding_dim=config["embedding"],
                                  hidden_size=config["hidden"], lr=config["lr"],
                                  batch_size=config["batch_size"], measure_every=measure_every, device=device)
    return GrokGCNRegressor(hidden_channels=config["hidden"], lr=config["lr"],
                            batch_size=config["batch_size"], measure_every=measure_every, device=device)


def model_landscape(model: str, size: str, data: tuple[Any, ...], seed: int, device: str, verbose: int
                    ) -> pd.DataFrame:
    """One model's :class:`ReducedLandscape` table over the size's α grid and training sizes (an N of
    None is the whole training pool), with a ``model`` column first."""
    config = CONFIG[size][model]
    X, y, X_test, y_test = data
    sizes = [len(X) if n is None else min(int(n), len(X)) for n in config["sizes"]]
    landscape = ReducedLandscape(_estimator(model, size, device), alphas=ALPHAS[size],
                                 train_sizes=sorted(set(sizes)), random_state=seed,
                                 max_steps=config["max_steps"], window=config["window"], verbose=verbose,
                                 memory=current_checkpoints())
    table = landscape.fit(X, y, eval_set=(X_test, y_test)).landscape_
    table.insert(0, "model", model)
    return table


def run(size: str, seed: int, device: str, verbose: int) -> ExperimentResult:
    tables, datasets = {}, {}
    with torch_threads(1 if str(device) == "cpu" else None):
        for model, load in (("lstm", text_data), ("gcn", molecule_data)):
            data, datasets[model] = load(size, seed)
            tables[model] = model_landscape(model, size, data, seed, device, verbose)
    table = pd.concat(tables.values(), ignore_index=True)
    headline = {model: landscape_shape(tables[model]) for model in MODELS}
    headline["l_alpha_max"], headline["l_tolerance"] = L_ALPHA_MAX, L_TOLERANCE
    runs = landscape_runs(table, (("model", None), ("n_train", "N")))
    summary = {"dataset": f"LSTM: {datasets['lstm']}; GCN: {datasets['gcn']}", "headline": headline,
               "runs": {label: run_summary(frame) for label, frame in runs.items()}}
    figures = {}
    for model, fig in (("lstm", "fig4"), ("gcn", "fig5")):
        what = "LSTM on reviews" if model == "lstm" else "GCN on molecules"
        panel = f"Omnigrok Fig. {fig[-1]}"
        rows = tables[model]
        figures[f"{fig}a_train_loss"] = plot_landscape_heatmap(
            rows, "train_loss", title=f"{panel}a: {what}, reduced train loss (w, N)")
        figures[f"{fig}b_test_loss"] = plot_landscape_heatmap(
            rows, "test_loss", title=f"{panel}b: {what}, reduced test loss (w, N)")
        figures[f"{fig}c_lu"] = plot_lu(rows, by="n_train", symbol="N",
                                        title=f"{panel}c: {what}, reduced losses against α per N")
    return ExperimentResult(runs=runs, summary=summary, figures=figures,
                            tables={"landscape": table.set_index(["model", "n_train", "alpha"])})


def verdict(headline: dict) -> Verdict:
    """Read the headline against the claim (see the module docstring).

    Claim: Omnigrok Figs 4–5: at the small N the reduced train loss is an "L" and the test loss a "U" (a
    mismatch).
    """
    held, parts = [], []
    for model in ("lstm", "gcn"):
        sizes = sorted(node(headline, f"{model}.test_loss_is_u") or {}, key=float)
        if not sizes:
            continue
        small = sizes[0]
        l_shape = fraction(node(headline, f"{model}.train_loss_is_l.{small}"))
        u_shape = fraction(node(headline, f"{model}.test_loss_is_u.{small}"))
        if l_shape == 1 and u_shape == 1:
            held.append(model)
        parts.append(f"{model} N {small}: train L in "
                     f"{fmt(node(headline, f'{model}.train_loss_is_l.{small}'))}, "
                     f"test U in {fmt(node(headline, f'{model}.test_loss_is_u.{small}'))} (depth "
                     f"{fmt(node(headline, f'{model}.test_loss_u_depth.{small}'))}); unconverged points "
                     f"{fmt(node(headline, f'{model}.unconverged_points'))} of "
                     f"{fmt(node(headline, f'{model}.n_points'))}")
    label = "reproduced" if parts and len(held) == len(parts) else "partly" if held else "not reproduced"
    return judge(label, "; ".join(parts))


EXPERIMENT = Experiment(
    verdict=verdict,
    kinds={"*.test_loss_minimum_alpha.*": "nonnegative", "*.test_loss_u_depth.*": "nonnegative",
           "*.train_loss_largest_rise.*": "nonnegative", "*_points": "count", "l_alpha_max": "nonnegative",
           "l_tolerance": "nonnegative"},
    name="text_and_molecule_landscapes",
    title="LSTM (IMDb) and GCN (QM9) reduced landscapes: LU mismatch at small N, similar U's at large N",
    paper="Liu, Michaud & Tegmark, Omnigrok (ICLR 2023), §4",
    figure="Figs. 4a–c, 5a–c",
    reference={
        "lstm_train_sizes": [1000, 50000],
        "gcn_train_sizes": [100, 3000],
        "lstm_note": "Fig. 4a–c, IMDb, 2-layer LSTM (embedding 64, hidden 128, top 1 000 words, padded to "
                     "500, Adam lr 1e-3, BCE, 25 % held back): for large data size (the full dataset) "
                     "training and test errors have similar 'U' shapes, so the LU mechanism cannot create "
                     "grokking; for small data size (1k) the train and test errors mismatch, which makes "
                     "grokking via large initialisations possible. Curves and heat maps only.",
        "gcn_note": "Fig. 5a–c, QM9 isotropic polarizability, GCN (2 convolutions, ReLU, linear readout, "
                    "Adam lr 1e-3, MSE, 50/50 split): at large data size (3 000) train and test losses have "
                    "similar 'U' shapes; at small data size (100) they mismatch somewhere in the region "
                    "α = w/w0 > 1. Curves and heat maps only.",
        "footnote_5": "In principle reduced training losses should be non-increasing ('L'), but "
                      "optimisation issues may occur for too large initialisations.",
    },
    run=run,
    settings=SETTINGS,
)
