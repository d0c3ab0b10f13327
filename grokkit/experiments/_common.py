"""Helpers shared by the experiment modules: data, runs, run summaries and comparison figures."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from grokkit.analysis import grokking_summary
from grokkit.plotting import pyplot  # noqa: F401  (the experiments take the one pyplot getter from here)

#: MNIST's own training and test sizes: files holding fewer images are a subset of it.
MNIST_SIZES = (60_000, 10_000)


def count(n: int) -> str:
    """An integer with a space between thousands, as the summaries write counts (``1 000``)."""
    return f"{int(n):,}".replace(",", " ")


def image_data(size: str, seed: int, n_train: int | None = 1000, n_test: int | None = None,
               n_digits: int = 300) -> tuple[tuple[np.ndarray, ...], str]:
    """MNIST when :func:`~grokkit.datasets.load_mnist` finds it, at every size; else sklearn's digits.

    MNIST is read from :func:`~grokkit.datasets.mnist_home` (``$GROKKIT_DATA/mnist``
    or the cache ``~/.grokkit/mnist``): its first ``n_train`` training images
    (Omnigrok §4 takes the first 1 000; None: all) and its first ``n_test`` test
    images (None: all). Only the full size also tries to download missing
    files; the other sizes stay offline. Without MNIST the data is
    :func:`digits_data` (``n_digits`` training images), the sentence saying why.

    Returns
    -------
    data : tuple of ndarray
        ``(X_train, y_train, X_test, y_test)``.
    dataset : str
        The data sentence, :func:`mnist_sentence` or :func:`digits_data`'s:
        it begins with ``"MNIST"`` exactly when MNIST was loaded.
    """
    from grokkit.datasets import load_mnist
    from grokkit.datasets.mnist import mnist_home

    try:
        X, y, X_test, y_test = load_mnist(n_train=None, n_test=None, download=size == "full")
    except (FileNotFoundError, OSError) as exc:
        reason = str(exc).split(" (")[0].split(";")[0]
        return digits_data(n_digits, seed, f"offline stand-in for MNIST: {reason}")
    held = (len(X), len(X_test))
    data = (X[:n_train], y[:n_train], X_test[:n_test], y_test[:n_test])
    return data, mnist_sentence(data, held, mnist_home())


def mnist_sentence(data: Sequence[np.ndarray], held: tuple[int, int], folder: Any) -> str:
    """The data sentence of MNIST arrays as loaded: their counts, the files' counts, and whether the
    files are a subset of MNIST's 60 000 / 10 000.

    Parameters
    ----------
    data : sequence of ndarray
        ``(X_train, y_train, X_test, y_test)`` as the experiment uses them.
    held : (int, int)
        Training and test images in the files read.
    folder : path
        Where the files were read.

    Examples
    --------
    >>> data = (np.zeros((1000, 784)), None, np.zeros((5000, 784)), None)
    >>> mnist_sentence(data, (5000, 5000), "mnist").split(" (")[0]
    'MNIST, 1 000 train / 5 000 test images'
    """
    n_train, n_test = len(data[0]), len(data[2])
    parts = []
    for n, total, kind in ((n_train, held[0], "training"), (n_test, held[1], "test")):
        parts.append(f"all {count(total)} {kind} images" if n == total
                     else f"the first {count(n)} of {count(total)} {kind} images")
    where = f"{parts[0]} and {parts[1]} in {folder}"
    if held[0] < MNIST_SIZES[0] or held[1] < MNIST_SIZES[1]:
        where += (f"; those files are a subset of MNIST's {count(MNIST_SIZES[0])} train / "
                  f"{count(MNIST_SIZES[1])} test")
    return f"MNIST, {count(n_train)} train / {count(n_test)} test images ({where})"


def digits_data(n_train: int, seed: int, reason: str = "offline stand-in for MNIST",
                ) -> tuple[tuple[np.ndarray, ...], str]:
    """sklearn's digits, ``n_train`` training images and the rest as test (split by :func:`data_seed`),
    and its data sentence with the counts as loaded and ``reason`` in brackets."""
    from grokkit.datasets import load_digits_split

    data = load_digits_split(n_train=n_train, random_state=data_seed(seed))
    return data, f"sklearn digits, {count(len(data[0]))} train / {count(len(data[2]))} test images ({reason})"


def qm9_home() -> Path:
    """Folder holding QM9 (qm9pack's CSV files, ``dsgdb9nsd.xyz.tar.bz2`` or its extracted ``.xyz`` files):
    ``$GROKKIT_DATA/qm9`` or ``~/.grokkit/qm9``."""
    return Path(os.environ.get("GROKKIT_DATA") or Path.home() / ".grokkit") / "qm9"


def graph_sentence(graphs: Sequence[Any]) -> str:
    """Node, edge-feature and size counts read from the graphs themselves."""
    sizes = [len(graph[0]) for graph in graphs]
    edges = graphs[0][2].shape[2] if len(graphs[0]) == 3 else 0
    return (f"{graphs[0][1].shape[1]} node features, {edges or 'no'} edge features, "
            f"{min(sizes)}–{max(sizes)} atoms per graph")


def molecule_graphs(n: int, seed: int, qm9: bool, target: str = "additive", graph: str = "geometry",
                    sample: bool = False) -> tuple[list, np.ndarray, str]:
    """``n`` molecules and their targets, and a sentence naming them, derived from what was loaded.

    With ``qm9``: QM9's isotropic polarizability (Omnigrok's target) from
    :func:`grokkit.datasets.load_qm9`, which reads ``$GROKKIT_DATA/qm9``,
    ``~/.grokkit/qm9`` or the installed ``qm9pack``; ``graph`` is
    ``load_qm9``'s (``"geometry"``: bonds from the coordinates, one-hot
    elements; ``"smiles"``: PyTorch Geometric's graph), ``sample`` draws a
    random sample (seeded by :func:`data_seed`) instead of QM9's first ``n``.
    Otherwise, or when QM9 cannot be had,
    :func:`~grokkit.datasets.make_molecular_graphs` with ``target``, the
    sentence saying why.
    """
    from grokkit.datasets import load_qm9, make_molecular_graphs
    from grokkit.datasets.qm9 import qm9_source

    reason = "offline stand-in for QM9"
    if qm9:
        home = qm9_home()
        try:
            path = home if home.exists() else None
            source = qm9_source(path)
            state = data_seed(seed) if sample else None
            graphs, y = load_qm9(path, target="alpha", n_molecules=n, graph=graph, random_state=state)
            how = f"a random sample (seed {state})" if sample else "the first (smallest) molecules"
            return graphs, y, (f"QM9 (real data, read from {source}): {len(graphs)} molecules, {how}; "
                               f"{graph_sentence(graphs)}; target isotropic polarizability α (Bohr³), "
                               f"{y.min():.2f}–{y.max():.2f}")
        except (FileNotFoundError, OSError, ImportError) as exc:
            reason = f"offline stand-in: {str(exc).split(':')[0]}"
    graphs, y = make_molecular_graphs(n_graphs=n, random_state=data_seed(seed), target=target)
    return graphs, y, (f"generated molecular graphs (make_molecular_graphs, stand-in for QM9), {len(graphs)} "
                       f"molecules, {graph_sentence(graphs)}, {target} 'polarizability' target ({reason})")


@dataclass
class _Reproduction:
    """Where the runs of one ``reproduce`` call keep their checkpoints and progress as they go."""

    checkpoints: Path
    progress: Path
    finished: dict[str, pd.DataFrame] = field(default_factory=dict)


_CURRENT: ContextVar[_Reproduction | None] = ContextVar("grokkit_reproduction", default=None)


@contextmanager
def checkpointed_runs(out: Path, resume: bool) -> Iterator[Path]:
    """Runs fitted by :func:`fit_run` inside write checkpoints under ``out/checkpoints/<label>``.

    Each run then writes its checkpoint and ``progress.csv`` at every recorded
    epoch, and ``out/progress.csv`` gains each run as it finishes. With
    ``resume`` the checkpoints of an earlier, interrupted call are continued
    (finished runs return at once); without it they are cleared first.
    """
    root = out / "checkpoints"
    if root.exists() and not resume:
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    token = _CURRENT.set(_Reproduction(root, out / "progress.csv"))
    try:
        yield root
    finally:
        _CURRENT.reset(token)


def current_checkpoints() -> Path | None:
    """The checkpoint folder of the running reproduction (``None`` outside :func:`checkpointed_runs`):
    an experiment that trains through :class:`grokkit.Sweep` keeps its ``memory=`` there, so that
    ``--resume`` skips its finished runs."""
    current = _CURRENT.get()
    return None if current is None else current.checkpoints


@dataclass
class _Seeds:
    """The seeds of a multi-seed reproduction: :func:`fit_run` trains each run at all of them at once."""

    seeds: list[int]
    vectorize: Any
    memory: Path | None
    n_jobs: int | None
    current: int | None = None
    trained: dict[str, Any] = field(default_factory=dict)
    executors: dict[str, list[str]] = field(default_factory=dict)


_SEEDS: ContextVar[_Seeds | None] = ContextVar("grokkit_seeds", default=None)


@contextmanager
def over_seeds(seeds: Sequence[int], vectorize: Any = "auto", memory: Path | None = None,
               n_jobs: int | None = -1) -> Iterator[_Seeds]:
    """Inside, :func:`fit_run` trains every run at each of ``seeds`` as one :class:`grokkit.Sweep`.

    The first ``fit_run`` of a run (an estimator and data) fits
    ``clone(estimator).set_params(random_state=s)`` for every seed ``s`` in one
    sweep: stacked into one batched model where the estimator allows it
    (``vectorize``), else through joblib with ``n_jobs`` processes. Later calls
    for the other seeds return their fitted runs at once. ``memory`` keeps the
    finished runs on disk, so a ``--resume`` skips them. The yielded object's
    ``current`` tells :func:`fit_run` which seed the caller is at (``None``: the
    estimator's own ``random_state``), and :func:`data_seed` returns the
    first seed, so that every seed's runs see the same data.
    """
    context = _Seeds([int(s) for s in seeds], vectorize, memory, n_jobs)
    token = _SEEDS.set(context)
    try:
        yield context
    finally:
        _SEEDS.reset(token)


def data_seed(seed: int) -> int:
    """The seed an experiment draws its data (split, corpus, task) with.

    ``seed`` itself, except inside :func:`over_seeds` (``reproduce(...,
    seeds=N)``), where it is the first seed for every seed: the seeds then vary
    the initialisation, minibatch order and dropout or noise draws of the runs
    on one data set, which is what :class:`grokkit.Sweep` runs (and what lets
    it stack them into one model).
    """
    context = _SEEDS.get()
    return int(seed) if context is None else context.seeds[0]


def seed_executors() -> dict[str, list[str]]:
    """Inside :func:`over_seeds`: each run label's sweep executors (``stacked``, ``joblib``, ``memory``)."""
    context = _SEEDS.get()
    return {} if context is None else dict(context.executors)


def _fit_over_seeds(context: _Seeds, estimator: Any, data: Sequence[np.ndarray], label: str,
                    verbose: int) -> Any:
    """This seed's fitted run of :func:`fit_run` inside :func:`over_seeds`: all seeds in one sweep."""
    from sklearn.base import clone

    from grokkit.sweep import Sweep
    from grokkit.sweep.cache import data_key, run_key

    X, y, X_test, y_test = data
    template = clone(estimator)
    if "checkpoint_dir" in template.get_params(deep=False):
        template.set_params(checkpoint_dir=None)  # the sweep's memory resumes runs, not their epochs
    seed = int(estimator.get_params()["random_state"])
    offset = 0 if context.current is None else seed - context.current
    seeds = [s + offset for s in context.seeds]
    if seed not in seeds:
        seeds = [seed]
    where = data_key(X, y, (X_test, y_test))

    def key(s: int) -> str:
        return run_key(clone(template).set_params(random_state=s), where)

    if key(seed) not in context.trained:
        if verbose:
            print(f"[{label}] seeds {seeds}", flush=True)
        sweep = Sweep(template, None, seeds=seeds, n_jobs=context.n_jobs, vectorize=context.vectorize,
                      memory=context.memory, verbose=verbose)
        sweep.fit(X, y, eval_set=(X_test, y_test))
        for run, fitted in zip(sweep.runs_, sweep.estimators_, strict=True):
            context.trained[key(run["random_state"])] = fitted
        context.executors[label] = sorted(set(sweep.results_["executor"]))
    return context.trained[key(seed)]


def fit_run(estimator: Any, data: Sequence[np.ndarray], label: str, verbose: int) -> Any:
    """Fit ``estimator`` on ``data = (X, y, X_test, y_test)`` with the test set as eval_set.

    Returns the fitted run (use it, not ``estimator``: inside
    :func:`over_seeds` the run comes from a :class:`grokkit.Sweep` that trained
    it at every seed at once). Inside :func:`checkpointed_runs` the run is
    resumable and written as it goes. A Ctrl-C during the fit (the estimator
    keeps its progress and sets ``interrupted_``) ends the whole reproduction,
    to be resumed later.
    """
    seeded = _SEEDS.get()
    if seeded is not None and estimator.get_params().get("random_state") is not None:
        return _fit_over_seeds(seeded, estimator, data, label, verbose)
    X, y, X_test, y_test = data
    if verbose:
        print(f"[{label}]", flush=True)
    current = _CURRENT.get()
    if current is not None and "checkpoint_dir" in estimator.get_params(deep=False):
        estimator.set_params(checkpoint_dir=current.checkpoints / re.sub(r"[^\w.=+-]+", "_", label))
    fitted = estimator.fit(X, y, eval_set=(X_test, y_test))
    if getattr(fitted, "interrupted_", False):
        raise KeyboardInterrupt
    if current is not None and hasattr(fitted, "progress_"):
        current.finished[label] = fitted.progress_
        frames = [f.assign(run=name)[["run", *f.columns]] for name, f in current.finished.items()]
        partial = current.progress.with_name(f".{current.progress.name}.tmp")
        pd.concat(frames, ignore_index=True).to_csv(partial, index=False)
        os.replace(partial, current.progress)
    return fitted


def run_summary(progress: pd.DataFrame, train_threshold: float = 0.99,
                test_threshold: float | None = None) -> dict[str, Any]:
    """:func:`grokking_summary` plus the weight norm at the start, minimum and end."""
    summary = grokking_summary(progress, train_threshold, test_threshold)
    if "weight_norm" in progress:
        norm = progress["weight_norm"]
        summary.update(initial_weight_norm=float(norm.iloc[0]), min_weight_norm=float(norm.min()),
                       final_weight_norm=float(norm.iloc[-1]))
    summary["final_step"] = int(progress["step"].iloc[-1])
    return summary


def landscape_runs(table: pd.DataFrame, keys: Sequence[tuple[str, str | None]]) -> dict[str, pd.DataFrame]:
    """A reduced landscape's points as one-row "runs" (``progress.csv``, the summary's ``runs``).

    Each point holds its reduced values, with ``epoch``/``step`` its optimizer
    steps, under the label ``<key>/.../alpha=<α>``: each ``(column, symbol)``
    of ``keys`` reads ``symbol=<value>``, or the bare value when ``symbol`` is
    ``None`` (e.g. ``(("model", None), ("n_train", "N"))`` gives ``lstm/N=150/alpha=1``).
    """
    runs = {}
    for _, row in table.iterrows():
        parts = [str(row[col]) if symbol is None else f"{symbol}={row[col]:g}" for col, symbol in keys]
        runs["/".join([*parts, f"alpha={row['alpha']:g}"])] = pd.DataFrame([{
            "epoch": int(row["steps"]), "step": int(row["steps"]), "train_loss": row["train_loss"],
            "train_acc": row["train_acc"], "test_loss": row["test_loss"], "test_acc": row["test_acc"],
            "weight_norm": row["weight_norm"], "converged": bool(row["converged"])}])
    return runs


def test_acc_at(progress: pd.DataFrame, step: int) -> float:
    """Test accuracy at the last recorded row with ``step <= step``."""
    rows = progress[progress["step"] <= step]
    return float(rows["test_acc"].iloc[-1]) if len(rows) else float("nan")


def mark_phases(axes: Sequence[Any], title: str, marks: Sequence[tuple[int | None, str, str]]) -> None:
    """Vertical lines at phase steps (``(step, linestyle, label)``, ``None`` skipped) on every panel of a
    column of panels sharing a log-step x axis, the legend on the first, the axis label on the last."""
    for ax in axes:
        for step, style, label in marks:
            if step:
                ax.axvline(step, color="grey", ls=style, lw=1, label=label if ax is axes[0] else None)
    axes[0].legend(fontsize=7, loc="best")
    axes[-1].set_xscale("log")
    axes[-1].set_xlabel("step (log scale)")
    axes[0].figure.suptitle(title, fontsize=10)


def log_x(progress: pd.DataFrame, x: str) -> np.ndarray:
    """``progress[x]`` as floats with non-positive values moved to half the smallest positive one."""
    xs = progress[x].astype(float).to_numpy().copy()
    positive = xs[xs > 0]
    if len(positive):
        xs[xs <= 0] = positive.min() / 2
    return xs


def compare_runs(runs: Mapping[str, pd.DataFrame], title: str, measures: Sequence[str] = ("weight_norm",),
                 x: str = "step") -> Any:
    """Train (dashed) and test (solid) accuracy of several runs, then measures, over log ``x``."""
    plt = pyplot()
    measures = [m for m in measures if all(m in frame for frame in runs.values())]
    rows = 1 + len(measures)
    fig, axes = plt.subplots(rows, 1, figsize=(7, 2.6 * rows + 0.6), sharex=True, squeeze=False,
                             layout="constrained")
    axes = axes[:, 0]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for (label, frame), color in zip(runs.items(), colors, strict=False):
        xs = log_x(frame, x)
        axes[0].plot(xs, frame["train_acc"], ls="--", color=color, label=f"{label} train")
        if "test_acc" in frame:
            axes[0].plot(xs, frame["test_acc"], color=color, label=f"{label} test")
        for ax, measure in zip(axes[1:], measures, strict=True):
            ax.plot(xs, frame[measure], color=color, label=label)
    axes[0].set_ylabel("accuracy")
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].legend(fontsize=7, loc="best")
    for ax, measure in zip(axes[1:], measures, strict=True):
        ax.set_ylabel(measure.replace("_", " "))
        ax.legend(fontsize=7, loc="best")
    axes[-1].set_xscale("log")
    axes[-1].set_xlabel(f"{x} (log scale)")
    fig.suptitle(title)
    return fig


def spread_decades(table: pd.DataFrame, value: str, over: str, at: str) -> float:
    r"""Median over ``at`` of :math:`\log_{10}(\max_{\rm over} v / \min_{\rm over} v)`: how many decades
    ``value`` spans along ``over`` at a fixed ``at`` (NaN when no group has two positive values)."""
    spans = []
    for _, group in table.groupby(at):
        values = group[value].to_numpy(dtype=float)
        values = values[np.isfinite(values) & (values > 0)]
        if len(values) >= 2:
            spans.append(np.log10(values.max() / values.min()))
    return float(np.median(spans)) if spans else float("nan")
