"""Reading a headline against its paper's claim: the fidelity table's verdict.

Each experiment's ``verdict(headline)`` returns a :class:`Verdict`: one of
:data:`LABELS` and the reason, quoting the numbers it read. A headline is
either one seed's (plain numbers) or ``--seeds N``'s (each number a
:func:`~grokkit.sweep.seed_interval` dict; a yes/no that differs between seeds
becomes the list of per-seed values). The helpers here read both shapes the
same way, so a verdict is written once:

* :func:`node` follows a dotted key (``"wd=2.synergy_peak_step"``);
* :func:`mean` is the mean over the seeds that reached a value (``nan`` if none);
* :func:`fraction` is the share of seeds for which a yes/no holds;
* :func:`per_seed` lists a value seed by seed, to pair two headline values;
* :func:`everywhere` says whether every seed reached a number;
* :func:`fmt` writes a number as ``mean [low, high]`` and a never-reached one
  as ``never``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any, NamedTuple

from grokkit.progress import format_against

#: The verdicts, best first.
LABELS = ("reproduced", "partly", "not reproduced")


class Verdict(NamedTuple):
    """A fidelity verdict: ``label`` (one of :data:`LABELS`) and ``why``, with the numbers read."""

    label: str
    why: str


def judge(label: str, why: str) -> Verdict:
    """A :class:`Verdict`, its label checked against :data:`LABELS`."""
    if label not in LABELS:
        raise ValueError(f"label must be one of {', '.join(map(repr, LABELS))}; got {label!r}.")
    return Verdict(label, why)


def node(headline: Mapping[str, Any], key: str) -> Any:
    """``headline[a][b]...`` for ``key = "a.b..."``; ``None`` when a part is missing.

    A part may itself contain dots (``"wd=0.1"``): the longest key present at
    each level is taken first.
    """
    value: Any = headline
    rest = key
    while rest:
        if not isinstance(value, Mapping) or _is_interval(value):
            return None
        parts = rest.split(".")
        for cut in range(len(parts), 0, -1):
            head = ".".join(parts[:cut])
            if head in value:
                value, rest = value[head], ".".join(parts[cut:])
                break
        else:
            return None
    return value


def _is_interval(value: Any) -> bool:
    return isinstance(value, Mapping) and {"mean", "low", "high", "n"} <= set(value)


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def mean(value: Any) -> float:
    """The mean of a headline number over the seeds that reached it; ``nan`` if none (or not a number)."""
    if _is_interval(value):
        return float(value["mean"])
    if _real(value):
        return float(value)
    return math.nan


def reached(value: Any) -> tuple[int, int]:
    """``(seeds that reached a value, seeds)`` of a headline number (``None``: never reached)."""
    if _is_interval(value):
        return int(value["n"]), int(value["n"]) + int(value.get("n_missing", 0))
    if value is None:
        return 0, 1
    return (1, 1) if _real(value) and math.isfinite(value) else (0, 1)


def fraction(value: Any) -> float:
    """The share of seeds for which a yes/no headline value is true (``nan`` if it is not a yes/no)."""
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, bool) for v in values):
        return math.nan
    return sum(values) / len(values)


def per_seed(value: Any) -> list[Any]:
    """A headline value seed by seed: an interval's ``values``, a list as given, else ``[value]``."""
    if _is_interval(value):
        return list(value.get("values", [value["mean"]]))
    return list(value) if isinstance(value, list) else [value]


def everywhere(value: Any) -> bool:
    """Whether every seed reached a headline number (``False`` for a value never reached)."""
    hit, total = reached(value)
    return hit == total > 0


def count(value: Any) -> str:
    """``"k/n seeds"`` for a yes/no value that differs between seeds; ``"all seeds"`` or ``"no seed"``
    for one that every seed agrees on (the ``--seeds`` headline keeps a single value then)."""
    if isinstance(value, list):
        return f"{sum(bool(v) for v in value)}/{len(value)} seeds"
    return "all seeds" if value else "no seed"


def fmt(value: Any, digits: int = 3, against: float | None = None) -> str:
    """A headline value as text: ``mean [low, high]``, ``never`` or ``never in k of n seeds``.

    ``against``: the threshold the reason compares the value with; the mean
    then keeps as many digits as it takes not to be rounded across it (0.8998
    against 0.9 reads ``0.8998``, not ``0.9``).
    """
    if _is_interval(value):
        n, total = int(value["n"]), int(value["n"]) + int(value.get("n_missing", 0))
        if n == 0:
            return "never"
        text = _number(value["mean"], digits, against)
        if math.isfinite(value["low"]) and value["high"] > value["low"]:
            text += f" [{_number(value['low'], digits)}, {_number(value['high'], digits)}]"
        if n < total:
            text += f" (never in {total - n} of {total} seeds)"
        return text
    if value is None:
        return "never"
    if isinstance(value, bool) or isinstance(value, list) and all(isinstance(v, bool) for v in value):
        return count(value)
    if _real(value):
        return _number(value, digits, against)
    return str(value)


def _number(value: float, digits: int, against: float | None = None) -> str:
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 10 ** digits or value == int(value) and abs(value) >= 10:
        if against is None or (round(value) < against) == (value < against):
            return f"{round(value):,}".replace(",", " ")
    return f"{value:.{digits}g}" if against is None else format_against(value, against, digits)
