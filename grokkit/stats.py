r"""Statistics over seeds and over a sweep's grid: the one place grokkit computes them.

Every interval grokkit reports is the Student-t interval of a mean over seeds,

.. math:: \bar x \pm t_{n-1,\,(1+c)/2}\; s / \sqrt n

with :math:`s` the sample standard deviation (``ddof=1``) of the ``n`` finite
values: :func:`seed_interval` for one number per seed (a headline, a
``Sweep.results_`` column), :func:`seed_band` for whole curves aligned by
:func:`seed_curves`. :func:`loglog_slope` is the log–log fit of a time against
weight decay (Omnigrok Fig. 2c).

This module imports only numpy, pandas and scipy: the sweep engine, the
analyzers, the figures and the experiments all read it, so it sits below them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd


def t_half_width(std: Any, n: Any, confidence: float) -> Any:
    r"""Half-width :math:`t_{n-1,(1+c)/2}\, s/\sqrt n` of the Student-t interval (arrays broadcast).

    ``n`` must be at least 2 wherever the result is used; callers mask the rest.
    """
    from scipy import stats

    return stats.t.ppf((1 + confidence) / 2, n - 1) * std / np.sqrt(n)


def seed_interval(values: Iterable[Any], confidence: float = 0.95,
                  bounds: tuple[float, float] | None = None) -> dict[str, Any]:
    r"""Mean and Student-t confidence interval of per-seed values.

    .. math:: \bar x \pm t_{n-1,\,(1+c)/2}\; s / \sqrt n

    with :math:`s` the sample standard deviation (``ddof=1``) of the ``n``
    finite values. Non-finite values and ``None`` (a run that never reached a
    threshold) are left out of the statistics and counted in ``n_missing``. One
    finite value gives ``NaN`` bounds: one seed says nothing about the spread.

    ``bounds=(lo, hi)`` is the range the quantity can take (``(0, 1)`` for an
    accuracy, ``(-1, 1)`` for a correlation): the symmetric t-interval of a
    few seeds near a hard limit reaches past it (an accuracy interval
    ``[0.9, 1.03]``), and is clipped to it.

    Returns
    -------
    dict
        ``mean``, ``low``, ``high``, ``n``, ``n_missing`` and ``values`` (every
        per-seed value, as given, ``None`` for missing).
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}.")
    if bounds is not None and not (len(bounds) == 2 and float(bounds[0]) < float(bounds[1])):
        raise ValueError(f"bounds must be (low, high) with low < high; got {bounds!r}.")
    raw = [None if v is None else float(v) for v in values]
    finite = np.array([v for v in raw if v is not None and np.isfinite(v)], dtype=np.float64)
    n = int(finite.size)
    mean = float(finite.mean()) if n else float("nan")
    if n >= 2:
        half = float(t_half_width(finite.std(ddof=1), n, confidence))
        low, high = mean - half, mean + half
        if bounds is not None:
            low, high = max(low, float(bounds[0])), min(high, float(bounds[1]))
    else:
        low = high = float("nan")
    return {"mean": mean, "low": low, "high": high, "n": n, "n_missing": len(raw) - n,
            "values": [v if v is None or np.isfinite(v) else None for v in raw]}


def format_interval(stat: dict[str, Any], digits: int = 3) -> str:
    """``"mean [low, high] (n=…)"`` for tables and logs."""
    if stat["n"] == 0:
        return f"none of {stat['n_missing']}"
    text = f"{stat['mean']:.{digits}g}"
    if np.isfinite(stat["low"]):
        text += f" [{stat['low']:.{digits}g}, {stat['high']:.{digits}g}]"
    missing = f", {stat['n_missing']} missing" if stat["n_missing"] else ""
    return f"{text} (n={stat['n']}{missing})"


def seed_curves(progress_by_seed: Mapping[Any, pd.DataFrame], column: str = "test_acc",
                x: str = "step") -> tuple[Any, Any]:
    """The runs of one setting on a common ``x`` grid: ``(grid, values)``, values of shape (n_seeds, n_grid).

    Each run's ``column`` is interpolated linearly between its recorded rows.
    Past its last row a run keeps its last value: a run stopped by a rule
    such as :class:`~grokkit.callbacks.StopWhenGrokked` held that value when
    it stopped. The grid is the union of the runs' ``x`` values.
    """
    frames = list(progress_by_seed.values())
    if not frames:
        raise ValueError("progress_by_seed holds no runs.")
    for frame in frames:
        for name in (x, column):
            if name not in frame.columns:
                raise ValueError(f"every run needs a {name!r} column; one has {list(frame.columns)}.")
    grid = np.unique(np.concatenate([frame[x].to_numpy(dtype=float) for frame in frames]))
    values = np.stack([np.interp(grid, frame[x].to_numpy(dtype=float), frame[column].to_numpy(dtype=float))
                       for frame in frames])
    return grid, values


def seed_band(values: Any, confidence: float = 0.95) -> tuple[Any, Any, Any, Any]:
    r"""Mean and Student-t ``confidence`` band over seeds (axis 0) of aligned curves.

    ``values`` has shape (n_seeds, n_x) (:func:`seed_curves`); non-finite
    entries are left out. At each x, with n finite values, mean x̄ and
    standard deviation s: :math:`\bar x \pm t_{n-1,(1+c)/2}\, s/\sqrt n` (the
    band is the mean itself where n < 2). Returns ``(mean, low, high, n)``.
    """
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    n = finite.sum(axis=0)
    masked = np.where(finite, values, np.nan)
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(masked, axis=0) if values.size else np.zeros(values.shape[1])
    std = np.zeros(values.shape[1])
    spread = n > 1
    std[spread] = np.nanstd(masked[:, spread], axis=0, ddof=1)
    half = np.where(spread, t_half_width(std, np.maximum(n, 2), confidence), 0.0)
    return mean, mean - half, mean + half, n


def loglog_slope(x: Any, t: Any) -> tuple[float, float]:
    r"""Least-squares fit :math:`\log_{10} t = s \log_{10} x + c`; returns ``(s, c)``.

    Pairs where ``t`` is missing (NaN/None) or not positive are left out; fewer
    than two usable pairs give ``(nan, nan)``. For :math:`t = C/\gamma`,
    :math:`s = -1` and :math:`c = \log_{10} C` exactly.
    """
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(pd.to_numeric(pd.Series(t, dtype=object), errors="coerce"), dtype=np.float64)
    if x.shape != t.shape:
        raise ValueError(f"x and t must have the same length; got {x.shape} and {t.shape}.")
    keep = np.isfinite(x) & np.isfinite(t) & (x > 0) & (t > 0)
    if keep.sum() < 2:
        return float("nan"), float("nan")
    slope, intercept = np.polyfit(np.log10(x[keep]), np.log10(t[keep]), 1)
    return float(slope), float(intercept)
