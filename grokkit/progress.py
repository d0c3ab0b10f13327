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


#: Memorised: the first recorded epoch with train accuracy at least this.
MEMORISATION_LEVEL = 0.99
#: Generalised: test accuracy at least this share of the best the run reaches ...
GENERALISATION_SHARE = 0.95
#: ... where that best closes at least this share of the gap from the run's first test accuracy to 1.
GENERALISATION_GAIN = 0.5
#: grokkit's one definition of "generalised", as the docs state it.
GENERALISED = (
    "A run has generalised at the first recorded step where its test accuracy reaches 95 % of the best "
    "test accuracy it reaches, provided that best closes at least half the gap between its first "
    "recorded test accuracy and 1."
)


def generalisation_level(test_acc: Any) -> float | None:
    r"""The test accuracy at which a run counts as generalised, or ``None`` if it never does.

    grokkit's one definition (:data:`GENERALISED`): with :math:`a_0` the first
    recorded test accuracy (epoch 0, an untrained model: about chance) and
    :math:`a^\ast` the best, the level is

    .. math:: \ell = 0.95\,a^\ast \quad\text{if}\quad a^\ast \ge a_0 + 0.5\,(1 - a_0),

    and the run never generalised otherwise. The level is relative to what
    the run reaches, so it reads a run the same way on any data set: Omnigrok's
    MNIST run, whose test accuracy ends at about 0.89 (1 000 training images),
    generalises where it comes within 5 % of that, exactly as a modular-addition
    run that ends at 1.0 generalises at 0.95. The gain condition keeps a run
    whose test accuracy never leaves chance from counting. Being relative to
    the whole run, the level is read after training; an online rule
    (:class:`~grokkit.callbacks.StopWhenGrokked`) stops on a plateau that meets
    it.

    Parameters
    ----------
    test_acc : array-like of float
        The recorded test accuracies, in order (``progress_["test_acc"]``);
        NaN entries are ignored.
    """
    values = np.asarray(pd.to_numeric(pd.Series(test_acc, dtype=object), errors="coerce"), dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    first, best = float(values[0]), float(values.max())
    if best < first + GENERALISATION_GAIN * (1.0 - first) - 1e-12:
        return None
    return GENERALISATION_SHARE * best


def grokking_summary(
    progress: pd.DataFrame,
    train_threshold: float = MEMORISATION_LEVEL,
    test_threshold: float | None = None,
) -> dict[str, Any]:
    """When a run memorised, when it generalised, and how long it waited.

    Parameters
    ----------
    progress : DataFrame
        An estimator's ``progress_`` (needs ``epoch``, ``step``, ``train_acc``
        and, for the generalisation numbers, ``test_acc``).
    train_threshold : float, default=0.99
        Memorisation = first recorded epoch with ``train_acc >= train_threshold``.
    test_threshold : float or None, default=None
        ``None`` (the default) uses grokkit's one definition of generalised
        (:func:`generalisation_level`): test accuracy at 95 % of the best the
        run reaches, that best being at least halfway from the first recorded
        test accuracy to 1. A float asks instead when the test accuracy first
        reached that absolute level (a paper's own level, such as Omnigrok's
        "95 % test accuracy" of Fig. 2c).

    Returns
    -------
    dict
        ``memorization_epoch``/``_step``, ``generalization_epoch``/``_step``
        (None when never reached), ``delay`` (generalisation minus
        memorisation epochs), ``ratio`` (generalisation / memorisation epoch),
        ``grokked`` (True when the run generalised at least twice as late as it
        memorised), the final and best accuracies, ``train_threshold``,
        ``test_threshold`` (the level used: the relative level of this run,
        or the float given), ``generalisation_rule`` (``"relative"`` or
        ``"absolute"``), and ``missing``: for each of the step fields that is
        None, the reason in words. Epochs are those recorded, so they are
        exact up to the ``measure_every`` schedule.
    """
    check_number("train_threshold", train_threshold, low=0, high=1)
    if test_threshold is not None:
        check_number("test_threshold", test_threshold, low=0, high=1)
    for column in ("epoch", "step", "train_acc"):
        if column not in progress.columns:
            raise ValueError(f"progress has no {column!r} column; pass an estimator's progress_.")
    has_test = "test_acc" in progress.columns and len(progress) > 0
    relative = test_threshold is None
    level = (generalisation_level(progress["test_acc"]) if has_test else None) if relative else test_threshold

    def first(column: str, threshold: float | None) -> tuple[int | None, int | None]:
        if threshold is None or column not in progress.columns:
            return None, None
        hit = progress.index[progress[column] >= threshold]
        if len(hit) == 0:
            return None, None
        row = progress.loc[hit[0]]
        return int(row["epoch"]), int(row["step"])

    mem_epoch, mem_step = first("train_acc", train_threshold)
    gen_epoch, gen_step = first("test_acc", level)
    both = mem_epoch is not None and gen_epoch is not None
    delay = gen_epoch - mem_epoch if both else None
    ratio = gen_epoch / max(mem_epoch, 1) if both else None
    best_train = float(progress["train_acc"].max()) if len(progress) else math.nan
    missing: dict[str, str] = {}
    if mem_epoch is None:
        missing["memorization_step"] = (
            "progress_ is empty" if not len(progress) else
            f"train accuracy never reached {train_threshold:g} "
            f"(best {format_against(best_train, train_threshold)})")
    if gen_epoch is None:
        if not has_test:
            missing["generalization_step"] = ("no test curve: fit with eval_set=(X_test, y_test) to "
                                              "record test accuracy")
        elif relative:
            accs = pd.to_numeric(progress["test_acc"], errors="coerce").dropna()
            first_acc, best = (float(accs.iloc[0]), float(accs.max())) if len(accs) else (math.nan, math.nan)
            need = first_acc + GENERALISATION_GAIN * (1.0 - first_acc)
            missing["generalization_step"] = (
                f"test accuracy never generalised: its best, {format_against(best, need)}, is short of "
                f"{format_against(need, best)}, halfway from its first recorded value {first_acc:.3g} to 1")
        else:
            best = float(progress["test_acc"].max())
            missing["generalization_step"] = (f"test accuracy never reached {test_threshold:g} "
                                              f"(best {format_against(best, test_threshold)})")
    if missing.keys() & {"memorization_step", "generalization_step"}:
        missing["delay"] = missing["ratio"] = "needs both the memorisation and the generalisation step"
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
        "test_threshold": level,
        "generalisation_rule": "relative" if relative else "absolute",
        "missing": missing,
    }


def format_against(value: float, against: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits, or more to stay on its side of ``against``.

    0.8998 against 0.9 reads ``0.8998``, never ``0.9``: a number in a reason is
    never rounded across the threshold it is compared with. A value equal to
    ``against`` reads as rounded.
    """
    if not math.isfinite(value) or not math.isfinite(against):
        return f"{value:.{digits}g}"
    # never fall into e-notation for the whole part
    start = max(digits, len(str(int(abs(value))))) if abs(value) >= 1 else digits
    for shown_digits in range(start, 18):
        text = f"{value:.{shown_digits}g}"
        shown = float(text)
        if (shown < against) == (value < against) and (shown > against) == (value > against):
            return text
    return repr(value)
