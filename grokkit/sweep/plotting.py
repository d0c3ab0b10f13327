"""Curves over seeds: the mean and a confidence band at every recorded x."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def seed_band_plot(progress: pd.DataFrame, y: str, x: str = "step", by: Sequence[str] = (),
                   ax: Any = None, confidence: float = 0.95, unit: str = "run",
                   bounds: tuple[float, float] | None = None) -> Any:
    """One line per group of ``by`` (mean over its seeds) with a Student-t ``confidence`` band.

    ``progress`` is a long frame in which ``unit`` names one curve (a
    :class:`~grokkit.sweep.Sweep`'s ``progress_`` and its ``run`` column; an
    experiment's runs over seeds and ``seed``). Runs are aligned on ``x`` by
    :func:`grokkit.plotting.seed_curves` (a run stopped by a rule holds its
    last value).
    ``bounds`` clips the band to the range the quantity can take (accuracies:
    ``(0, 1)``; the default draws it for ``*_acc`` columns); a t-interval over
    two or three seeds is wide.
    """
    if bounds is None and y.endswith("_acc"):
        bounds = (0.0, 1.0)
    from scipy import stats

    from grokkit.experiments._common import pyplot
    from grokkit.plotting import seed_curves

    for column in (y, x, unit):
        if column not in progress.columns:
            raise ValueError(f"progress has no {column!r} column; columns are {list(progress.columns)}.")
    plt = pyplot()
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 3.8))
    groups = progress.groupby(list(by), sort=False) if by else [((), progress)]
    for key, group in groups:
        # aligned as plot_seed_bands aligns them: interpolated, a stopped run holding its last value
        xs, values = seed_curves({u: f.sort_values(x) for u, f in group.groupby(unit, sort=False)}, y, x)
        n = np.isfinite(values).sum(axis=0)
        mean = np.nanmean(np.where(np.isfinite(values), values, np.nan), axis=0)
        std = np.zeros(len(xs))
        spread = n > 1
        std[spread] = np.nanstd(values[:, spread], axis=0, ddof=1)
        half = np.where(n > 1, stats.t.ppf((1 + confidence) / 2, np.maximum(n - 1, 1)) * std
                        / np.sqrt(np.maximum(n, 1)), 0.0)
        xs = np.where(xs > 0, xs, xs[xs > 0].min() / 2 if (xs > 0).any() else 1.0)
        key = key if isinstance(key, tuple) else (key,)
        named = list(by) == ["run"]  # an experiment's run labels already say what they are
        label = str(key[0]) if named else ", ".join(f"{b}={k}" for b, k in zip(by, key, strict=True)) or y
        line, = ax.plot(xs, mean, label=f"{label} (n={int(n.max())})")
        low, high = mean - half, mean + half
        if bounds is not None:
            low, high = np.clip(low, *bounds), np.clip(high, *bounds)
        ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xscale("log")
    ax.set_xlabel(f"{x} (log scale)")
    ax.set_ylabel(y.replace("_", " "))
    ax.legend(fontsize=7, loc="best")
    return ax.figure if fig is None else fig
