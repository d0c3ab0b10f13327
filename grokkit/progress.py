"""The ``progress_`` table: which epochs are recorded, and what a run's curve says.

This module sits below the estimators (they build ``progress_`` with it) and
is re-exported by :mod:`grokkit.analysis`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from grokkit._validation import check_number

#: Columns that lead every ``progress_`` table, in this order.
BASE_COLUMNS = ("epoch", "step", "train_loss", "train_acc", "test_loss", "test_acc")
#: The history key of the recorded training loss (the criterion on the whole
#: training set in eval mode), ``progress_``'s ``train_loss``. The history's own
#: ``train_loss`` is skorch's: the mean minibatch objective of the epoch.
RECORDED_TRAIN_LOSS = "full_train_loss"
#: History keys that are skorch's bookkeeping, not part of ``progress_``
#: (``dur`` is wall time: a rerun would not give the same table).
EPOCH_ONLY_KEYS = frozenset({
    "batches", "train_loss", "train_loss_best", "valid_loss", "valid_loss_best", "train_batch_count", "dur",
})
#: Recorded epochs per decade when ``measure_every="log"``.
LOG_POINTS_PER_DECADE = 20


def check_measure_every(measure_every: Any) -> None:
    """Validate the ``measure_every`` parameter: a positive int or ``"log"``."""
    if isinstance(measure_every, str):
        if measure_every != "log":
            raise ValueError(f"measure_every must be a positive int or 'log'; got {measure_every!r}.")
        return
    check_number("measure_every", measure_every, low=1, integer=True)


def recorded_epochs(first: int, last: int, measure_every: int | str) -> set[int]:
    """Epochs in ``[first, last]`` at which progress is recorded.

    ``measure_every=k`` records every k-th epoch (k, 2k, ...); ``"log"`` records
    about :data:`LOG_POINTS_PER_DECADE` log-spaced epochs per decade
    (1, 2, ..., then e.g. 10, 11, 13, 14, 16, ...), so the cost of the
    measures stays bounded on runs of 10⁵ epochs and the curve is even on the
    log-step axis every grokking plot uses. ``last`` is always recorded.
    """
    check_measure_every(measure_every)
    if last < first:
        return set()
    if measure_every == "log":
        top = math.log10(max(last, 1))
        grid = np.unique(np.round(10 ** np.arange(0, top + 1e-9, 1 / LOG_POINTS_PER_DECADE)))
        epochs = {int(e) for e in grid if first <= e <= last}
    else:
        k = int(measure_every)
        start = ((first + k - 1) // k) * k
        epochs = set(range(start, last + 1, k))
    epochs.add(last)
    return epochs


def is_recorded(row: Mapping[str, Any]) -> bool:
    """Whether a skorch history row is a recorded epoch (a row of ``progress_``).

    The recorder writes ``train_acc`` at every recorded epoch and at no other.
    """
    return "train_acc" in row


def progress_frame(history: Iterable[Mapping[str, Any]],
                   initial: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One row per recorded epoch: ``initial`` (epoch 0), then the recorded rows of a skorch ``History``.

    A history row is recorded when it holds ``train_acc``; columns are
    :data:`BASE_COLUMNS` (test columns only when an eval_set was given), then
    the measure columns in the order they were recorded.
    """
    recorded = [row for row in history if is_recorded(row)]
    if initial:
        recorded.insert(0, initial)
    rows = [
        {("train_loss" if k == RECORDED_TRAIN_LOSS else k): v
         for k, v in row.items() if k not in EPOCH_ONLY_KEYS}
        for row in recorded
    ]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=[c for c in BASE_COLUMNS if not c.startswith("test")])
    leading = [c for c in BASE_COLUMNS if c in frame.columns]
    frame = frame[leading + [c for c in frame.columns if c not in BASE_COLUMNS]]
    frame["epoch"] = frame["epoch"].astype(int)
    frame["step"] = frame["step"].astype(int)
    return frame.reset_index(drop=True)


def grokking_summary(
    progress: pd.DataFrame,
    train_threshold: float = 0.99,
    test_threshold: float = 0.9,
) -> dict[str, Any]:
    """When a run memorised, when it generalised, and how long it waited.

    Parameters
    ----------
    progress : DataFrame
        An estimator's ``progress_`` (needs ``epoch``, ``step``, ``train_acc``
        and, for the generalisation numbers, ``test_acc``).
    train_threshold : float, default=0.99
        Memorisation = first recorded epoch with ``train_acc >= train_threshold``.
    test_threshold : float, default=0.9
        Generalisation = first recorded epoch with ``test_acc >= test_threshold``.

    Returns
    -------
    dict
        ``memorization_epoch``/``_step``, ``generalization_epoch``/``_step``
        (None when never reached), ``delay`` (generalisation minus
        memorisation epochs), ``ratio`` (generalisation / memorisation epoch),
        ``grokked`` (True when the test threshold was reached at least twice as
        late as the train threshold), and the final and best accuracies.
        Epochs are those recorded, so they are exact up to the
        ``measure_every`` schedule.
    """
    check_number("train_threshold", train_threshold, low=0, high=1)
    check_number("test_threshold", test_threshold, low=0, high=1)
    for column in ("epoch", "step", "train_acc"):
        if column not in progress.columns:
            raise ValueError(f"progress has no {column!r} column; pass an estimator's progress_.")

    def first(column: str, threshold: float) -> tuple[int | None, int | None]:
        if column not in progress.columns:
            return None, None
        hit = progress.index[progress[column] >= threshold]
        if len(hit) == 0:
            return None, None
        row = progress.loc[hit[0]]
        return int(row["epoch"]), int(row["step"])

    mem_epoch, mem_step = first("train_acc", train_threshold)
    gen_epoch, gen_step = first("test_acc", test_threshold)
    both = mem_epoch is not None and gen_epoch is not None
    delay = gen_epoch - mem_epoch if both else None
    ratio = gen_epoch / max(mem_epoch, 1) if both else None
    has_test = "test_acc" in progress.columns and len(progress)
    return {
        "memorization_epoch": mem_epoch,
        "memorization_step": mem_step,
        "generalization_epoch": gen_epoch,
        "generalization_step": gen_step,
        "delay": delay,
        "ratio": ratio,
        "grokked": bool(both and ratio is not None and ratio >= 2.0),
        "final_train_acc": float(progress["train_acc"].iloc[-1]) if len(progress) else None,
        "final_test_acc": float(progress["test_acc"].iloc[-1]) if has_test else None,
        "best_test_acc": float(progress["test_acc"].max()) if has_test else None,
        "train_threshold": train_threshold,
        "test_threshold": test_threshold,
    }
