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


# ---------------------------------------------------------------- Omnigrok landscapes and timing
def plot_lu(landscape: pd.DataFrame, x: str = "alpha", loss: bool = True, title: str | None = None) -> Any:
    """The LU figure (Omnigrok Fig. 1b, 2a): reduced train and test loss against weight norm.

    Parameters
    ----------
    landscape : DataFrame
        ``ReducedLandscape.landscape_`` (or any table with ``alpha``,
        ``weight_norm``, ``train_loss``, ``test_loss`` and optionally
        ``n_train``); one pair of curves per training size.
    x : {"alpha", "weight_norm"}, default="alpha"
        Horizontal axis (log scale): α = w/w₀ or the norm w itself.
    loss : bool, default=True
        Plot losses (log scale); ``False`` plots the reduced accuracies.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    if x not in ("alpha", "weight_norm"):
        raise ValueError(f"x must be 'alpha' or 'weight_norm'; got {x!r}.")
    kind = "loss" if loss else "acc"
    fig, ax = plt.subplots(figsize=(5.5, 4))
    groups = landscape.groupby("n_train") if "n_train" in landscape else [(None, landscape)]
    many = "n_train" in landscape and landscape["n_train"].nunique() > 1
    for n, table in groups:
        table = table.sort_values(x)
        suffix = f" (N={n})" if many else ""
        ax.plot(table[x], table[f"train_{kind}"], "o-", color="tab:orange", label=f"train{suffix}",
                alpha=0.9)
        if table[f"test_{kind}"].notna().any():
            ax.plot(table[x], table[f"test_{kind}"], "s-", color="tab:gray", label=f"test{suffix}",
                    alpha=0.9)
    ax.set_xscale("log")
    if loss:
        ax.set_yscale("log")
    ax.set_xlabel("α = w/w₀" if x == "alpha" else "weight norm w")
    ax.set_ylabel(f"reduced {'loss' if loss else 'accuracy'}")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_landscape_heatmap(landscape: pd.DataFrame, value: str = "test_loss", x: str = "alpha",
                           y: str = "n_train", log_value: bool = True, ax: Any = None,
                           title: str | None = None) -> Any:
    """A reduced landscape as a heat map (Omnigrok Fig. 3a–b, 4a–b over (w, N); Fig. 6a–b over (w, m)).

    Parameters
    ----------
    landscape : DataFrame
        A tidy table with columns ``x``, ``y`` and ``value``, e.g.
        ``ReducedLandscape.landscape_`` or ``MessinessLandscape.landscape_``.
    value : str, default="test_loss"
        The coloured column; an accuracy column is drawn as error (1 − acc),
        as in Omnigrok's figures.
    x, y : str, default="alpha", "n_train"
        Axis columns; ``alpha``, ``weight_norm`` and ``n_train`` are drawn on
        log scales.
    log_value : bool, default=True
        Colour by log₁₀ of the value (losses span decades).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import numpy as np

    plt = _pyplot()
    for column in (x, y, value):
        if column not in landscape.columns:
            raise ValueError(f"{column!r} is not a column of the landscape; "
                             f"it has {list(landscape.columns)}.")
    table = landscape.pivot_table(index=y, columns=x, values=value, aggfunc="mean").sort_index()
    table = table[sorted(table.columns)]
    label = value
    data = table.to_numpy(dtype=float)
    if value.endswith("_acc"):
        data, label = 1.0 - data, value.replace("_acc", " error")
    if log_value:
        data = np.log10(np.clip(data, 1e-12, None))
        label = f"log10 {label}"
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 4.2))
    else:
        fig = ax.figure
    xs, ys = table.columns.to_numpy(dtype=float), table.index.to_numpy(dtype=float)
    mesh = ax.pcolormesh(_edges(xs, x), _edges(ys, y), data, shading="flat", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label=label)
    for axis, name in ((ax.set_xscale, x), (ax.set_yscale, y)):
        if name in ("alpha", "weight_norm", "n_train"):
            axis("log")
    ax.set_xlabel({"alpha": "α = w/w₀", "weight_norm": "weight norm w"}.get(x, x))
    ax.set_ylabel({"n_train": "training size N", "messiness": "messiness m"}.get(y, y))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def _edges(centers: Any, name: str) -> Any:
    """Cell edges around sorted centres (geometric midpoints on log axes)."""
    import numpy as np

    c = np.asarray(centers, dtype=float)
    log = name in ("alpha", "weight_norm", "n_train") and np.all(c > 0)
    v = np.log(c) if log else c
    if len(v) == 1:
        mids = np.array([v[0] - 0.5, v[0] + 0.5])
    else:
        inner = (v[1:] + v[:-1]) / 2
        mids = np.concatenate([[2 * v[0] - inner[0]], inner, [2 * v[-1] - inner[-1]]])
    return np.exp(mids) if log else mids


def plot_time_to_generalize(times: pd.DataFrame, title: str | None = None) -> Any:
    """Steps to the train and test accuracy levels against weight decay, log–log (Omnigrok Fig. 2c, 10a–b).

    Parameters
    ----------
    times : DataFrame
        ``TimeToGeneralize.times_`` (``weight_decay``, ``train_step``, ``test_step``).
        The fitted lines of log t against log γ are drawn with their slopes.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import numpy as np

    from grokkit.analysis.timing import loglog_slope

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 4))
    gamma = times["weight_decay"].to_numpy(dtype=float)
    for column, color, name in (("train_step", "tab:blue", "train"), ("test_step", "tab:red", "test")):
        steps = pd.to_numeric(times[column], errors="coerce").to_numpy(dtype=float)
        shown = np.isfinite(steps) & (steps > 0) & (gamma > 0)
        if not shown.any():
            continue
        ax.plot(gamma[shown], steps[shown], "o", color=color)
        slope, intercept = loglog_slope(gamma, steps)
        if np.isfinite(slope):
            grid = np.geomspace(gamma[shown].min(), gamma[shown].max(), 50)
            ax.plot(grid, 10 ** (intercept + slope * np.log10(grid)), "-", color=color,
                    label=f"{name}: slope {slope:.2f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("weight decay γ")
    ax.set_ylabel("steps to accuracy level")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
