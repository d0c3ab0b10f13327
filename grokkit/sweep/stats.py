"""Mean and confidence interval over seeds: how every headline number of a sweep is reported."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


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
    from scipy import stats

    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}.")
    if bounds is not None and not (len(bounds) == 2 and float(bounds[0]) < float(bounds[1])):
        raise ValueError(f"bounds must be (low, high) with low < high; got {bounds!r}.")
    raw = [None if v is None else float(v) for v in values]
    finite = np.array([v for v in raw if v is not None and np.isfinite(v)], dtype=np.float64)
    n = int(finite.size)
    mean = float(finite.mean()) if n else float("nan")
    if n >= 2:
        half = float(stats.t.ppf((1 + confidence) / 2, n - 1) * finite.std(ddof=1) / np.sqrt(n))
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
