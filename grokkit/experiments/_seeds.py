"""``--seeds N``: an experiment over seeds, each headline number as mean, interval and per-seed values."""

from __future__ import annotations

import inspect
import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from grokkit.sweep.stats import seed_interval


def takes(run: Callable[..., Any], name: str) -> bool:
    """Whether an experiment's ``run`` takes ``name`` (``seeds``: it trains them together, stacked)."""
    return name in inspect.signature(run).parameters


_SIGNED = frozenset({"from", "gain", "slope", "bits", "after", "before", "difference", "drift", "change",
                     "delta", "log", "decades"})
_COUNTS = frozenset({"step", "steps", "epoch", "epochs", "n", "neurons", "seconds"})
_NONNEGATIVE = frozenset({"loss", "norm", "ratio", "speedup", "sharpness", "distance", "range", "mse",
                          "alpha", "entropy", "pe"})


_WHERE = frozenset({"final", "first", "at", "memorization", "generalization", "best", "max", "min", "last"})


def _setting_or_place(key: str) -> bool:
    """Whether a key names where or at which setting its parent was read (``final``, ``wd=0.1``, ``0.03``)."""
    if "=" in key or set(re.split(r"[_\s]+", key.lower())) <= _WHERE:
        return True
    try:
        float(key)
    except ValueError:
        return False
    return True


def support(path: Sequence[str]) -> tuple[float, float] | None:
    """The range a headline number can take, read from its key path (``None``: any real).

    grokkit's headline keys name their quantity. The key read is the last one
    that is not a place or a setting (``final``, ``at_memorization``, ``wd=2``,
    ``0.03``: then its parent), up to an ``_at_`` (``test_acc_at_1000_steps``
    is an accuracy), split into words at ``_``, ``/``, ``.``:

    * a correlation (``spearman`` anywhere in the path) lies in [-1, 1];
    * a signed quantity (a word like ``from``, ``gain``, ``slope``, ``bits``,
      ``after``, ``change``) has no bound, and is tested before the rest;
    * a count or time (``step``, ``epoch``, ``n_neurons``, ``seconds``) is >= 0;
    * an accuracy (``acc``, ``accuracy``) lies in [0, 1];
    * a loss, norm, ratio, entropy or distance is >= 0.

    :func:`aggregate_headline` clips each seed interval to this range.
    """
    if any("spearman" in key.lower() for key in path):
        return (-1.0, 1.0)
    keys = list(path)
    while len(keys) > 1 and _setting_or_place(keys[-1]):
        keys.pop()
    if not keys:
        return None
    name = keys[-1].lower().split("_at_")[0]
    words = set(re.split(r"[_/.=\s]+", name))
    if words & _SIGNED:
        return None
    if words & _COUNTS:
        return (0.0, math.inf)
    if words & {"acc", "accuracy"}:
        return (0.0, 1.0)
    if words & _NONNEGATIVE:
        return (0.0, math.inf)
    return None


def _per_seed_numbers(values: Sequence[Any]) -> bool:
    """Whether per-seed values are numbers (``None``: a level never reached), at least one given."""
    return (all(v is None or (isinstance(v, numbers.Real) and not isinstance(v, bool)) for v in values)
            and any(v is not None for v in values))


def aggregate_headline(per_seed: Sequence[Any], path: tuple[str, ...] = ()) -> Any:
    """Per-seed headline values -> the same structure, each number as :func:`seed_interval`'s dict.

    Numbers (and ``None``, a level never reached) become ``{"mean", "low",
    "high", "n", "n_missing", "values"}``, the interval clipped to the
    quantity's :func:`support`; nested dicts are aggregated key by key;
    anything else (text, lists) is kept when every seed agrees and listed per
    seed otherwise.
    """
    first = per_seed[0]
    if isinstance(first, Mapping):
        keys = [k for k in first if all(isinstance(s, Mapping) and k in s for s in per_seed)]
        return {k: aggregate_headline([s[k] for s in per_seed], (*path, str(k))) for k in keys}
    if _per_seed_numbers(per_seed):
        return seed_interval(per_seed, bounds=support(path))
    return first if all(v == first for v in per_seed) else list(per_seed)


def reaggregate(headline: Any, path: tuple[str, ...] = ()) -> Any:
    """A stored headline with every seed interval recomputed from its ``values`` by today's rule
    (:func:`aggregate_headline`), so that results written before a change of rule read the same."""
    if isinstance(headline, Mapping):
        if {"mean", "low", "high", "n", "values"} <= set(headline) and isinstance(headline["values"], list):
            values = headline["values"]
            if _per_seed_numbers(values):
                return {**headline, **seed_interval(values, bounds=support(path))}
            return dict(headline)
        return {k: reaggregate(v, (*path, str(k))) for k, v in headline.items()}
    return headline


def combine_runs(per_seed: Mapping[int, Mapping[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Each run label's ``progress_`` over seeds, as one frame with a ``seed`` column."""
    labels = list(next(iter(per_seed.values())))
    return {label: pd.concat([runs[label].assign(seed=seed) for seed, runs in per_seed.items()
                              if label in runs], ignore_index=True) for label in labels}


def seed_band_figure(runs: Mapping[str, pd.DataFrame], title: str) -> Any:
    """Train (top) and test (bottom) accuracy of every run label: mean over seeds with a 95 % band."""
    from grokkit.experiments._common import pyplot
    from grokkit.plotting import plot_grouped_seed_bands

    plt = pyplot()
    long = pd.concat([frame.assign(run=label) for label, frame in runs.items()], ignore_index=True)
    panels = [c for c in ("train_acc", "test_acc") if c in long]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 3.0 * len(panels) + 0.5), sharex=True,
                             squeeze=False, layout="constrained")
    for ax, column in zip(axes[:, 0], panels, strict=True):
        plot_grouped_seed_bands(long, y=column, by=["run"], unit="seed", ax=ax)
    n = long["seed"].nunique()
    fig.suptitle(f"{title}: mean over {n} seeds, 95 % t-interval bands")
    return fig
