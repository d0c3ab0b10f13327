"""Figures from ``progress_`` tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from grokkit.progress import BASE_COLUMNS


def _pyplot() -> Any:
    try:
        import matplotlib

        if matplotlib.get_backend().lower() not in {"agg", "module://matplotlib_inline.backend_inline"}:
            import os

            if not os.environ.get("DISPLAY"):
                matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise ImportError("grokkit.plotting needs matplotlib: pip install matplotlib") from exc
    return plt


def measure_families(progress: pd.DataFrame) -> dict[str, list[str]]:
    """Measure columns grouped by measure (``weight_norm`` -> its total and per-layer columns)."""
    families: dict[str, list[str]] = {}
    for column in progress.columns:
        if column in BASE_COLUMNS:
            continue
        families.setdefault(column.split("/")[0], []).append(column)
    return families


def plot_progress(
    progress: pd.DataFrame,
    measures: Sequence[str] | None = None,
    x: str = "step",
    title: str | None = None,
    per_layer: bool = False,
) -> Any:
    """The grokking figure: accuracies over log steps, losses, then each measure below.

    Parameters
    ----------
    progress : DataFrame
        An estimator's ``progress_``.
    measures : list of str, optional
        Measure names to draw (default: every measure in ``progress``).
    x : {"step", "epoch"}, default="step"
        The horizontal axis, on a log scale as in every grokking paper; the
        row at step 0 is drawn at the first positive value's half.
    per_layer : bool, default=False
        Also draw the per-layer columns (``name/layer``) of each measure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    if x not in ("step", "epoch"):
        raise ValueError(f"x must be 'step' or 'epoch'; got {x!r}.")
    families = measure_families(progress)
    names = list(families) if measures is None else list(measures)
    unknown = [n for n in names if n not in families]
    if unknown:
        raise ValueError(f"measures {unknown} are not in progress; it has {list(families)}.")
    xs = progress[x].astype(float).to_numpy().copy()
    positive = xs[xs > 0]
    if len(positive):
        xs[xs <= 0] = positive.min() / 2
    rows = 2 + len(names)
    fig, axes = plt.subplots(rows, 1, figsize=(7, 2.2 * rows + 0.6), sharex=True, squeeze=False)
    axes = axes[:, 0]
    ax = axes[0]
    ax.plot(xs, progress["train_acc"], label="train", color="tab:blue")
    if "test_acc" in progress:
        ax.plot(xs, progress["test_acc"], label="test", color="tab:red")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="lower right")
    ax = axes[1]
    ax.plot(xs, progress["train_loss"], label="train", color="tab:blue")
    if "test_loss" in progress:
        ax.plot(xs, progress["test_loss"], label="test", color="tab:red")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.legend(loc="upper right")
    for ax, name in zip(axes[2:], names, strict=True):
        columns = families[name] if per_layer else [c for c in families[name] if "/" not in c] \
            or families[name]
        for column in columns:
            ax.plot(xs, progress[column], label=column)
        ax.set_ylabel(name.replace("_", " "), fontsize=9)
        if len(columns) > 1:
            ax.legend(fontsize=7, loc="best")
    axes[-1].set_xscale("log")
    axes[-1].set_xlabel(f"{x} (log scale)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
