"""``--seeds N``: an experiment over seeds, each headline number as mean, interval and per-seed values."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from grokkit.experiments._kinds import bounds_of
from grokkit.stats import seed_interval


def _per_seed_numbers(values: Sequence[Any]) -> bool:
    """Whether per-seed values are numbers (``None``: a level never reached), at least one given."""
    return (all(v is None or (isinstance(v, numbers.Real) and not isinstance(v, bool)) for v in values)
            and any(v is not None for v in values))


def aggregate_headline(per_seed: Sequence[Any], kinds: Mapping[str, str] | None = None,
                       path: tuple[str, ...] = ()) -> Any:
    """Per-seed headline values -> the same structure, each number as :func:`seed_interval`'s dict.

    Numbers (and ``None``, a level never reached) become ``{"mean", "low",
    "high", "n", "n_missing", "values"}``, the interval clipped to the range of
    the number's declared kind (``kinds``: the experiment's
    :attr:`~grokkit.experiments.Experiment.kinds`; an undeclared number is not
    clipped); nested dicts are aggregated key by key; anything else (text,
    lists) is kept when every seed agrees and listed per seed otherwise.
    """
    first = per_seed[0]
    if isinstance(first, Mapping):
        keys = [k for k in first if all(isinstance(s, Mapping) and k in s for s in per_seed)]
        return {k: aggregate_headline([s[k] for s in per_seed], kinds, (*path, str(k))) for k in keys}
    if _per_seed_numbers(per_seed):
        return seed_interval(per_seed, bounds=bounds_of(kinds or {}, path))
    return first if all(v == first for v in per_seed) else list(per_seed)


def reaggregate(headline: Any, kinds: Mapping[str, str] | None = None, path: tuple[str, ...] = ()) -> Any:
    """A stored headline with every seed interval recomputed from its ``values`` by today's rule
    (:func:`aggregate_headline` with ``kinds``), so that results written before a change of rule or
    of a declared kind read the same."""
    if isinstance(headline, Mapping):
        if {"mean", "low", "high", "n", "values"} <= set(headline) and isinstance(headline["values"], list):
            values = headline["values"]
            if _per_seed_numbers(values):
                return {**headline, **seed_interval(values, bounds=bounds_of(kinds or {}, path))}
            return dict(headline)
        return {k: reaggregate(v, kinds, (*path, str(k))) for k, v in headline.items()}
    return headline


def combine_runs(per_seed: Mapping[int, Mapping[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Each run label's ``progress_`` over seeds, as one frame with a ``seed`` column."""
    labels = list(next(iter(per_seed.values())))
    return {label: pd.concat([runs[label].assign(seed=seed) for seed, runs in per_seed.items()
                              if label in runs], ignore_index=True) for label in labels}


def seed_band_figure(runs: Mapping[str, pd.DataFrame], title: str) -> Any:
    """Train (top) and test (bottom) accuracy of every run label: mean over seeds with a 95 % band."""
    from grokkit.plotting import plot_grouped_seed_bands, pyplot

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
