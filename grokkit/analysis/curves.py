r"""Readings of one run's ``progress_`` curve at a step: its value there, and where it changes fastest.

Tan & Huang (§4.1) read PMI and PE as "changing sharply exactly at the time of
grokking" and compare measures at memorisation and at generalisation; these are
those two readings of a recorded curve, shared by the experiments that make them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def sharpest_change_step(progress: pd.DataFrame, column: str, start: int | None = None) -> int | None:
    """The recorded step that ends the largest change of ``column`` per step.

    Between consecutive recorded rows ``i − 1, i`` (rows with ``step >= start``
    when given, NaN rows dropped) the rate is
    :math:`|m_i - m_{i-1}| / (s_i - s_{i-1})`; the step :math:`s_i` of the
    largest rate is returned (the first on ties), None with fewer than two rows.
    Tan & Huang §4.1 read PMI and PE as "changing sharply exactly at the time of
    grokking": the test accuracy's own sharpest-change step is that time.
    """
    if column not in progress.columns:
        raise ValueError(f"column must be a column of progress; got {column!r}.")
    if start is not None and (isinstance(start, bool) or not isinstance(start, (int, np.integer))):
        raise TypeError(f"start must be an int step or None; got {start!r}.")
    rows = progress[["step", column]].dropna()
    if start is not None:
        rows = rows[rows["step"] >= start]
    if len(rows) < 2:
        return None
    steps = rows["step"].to_numpy(dtype=float)
    values = rows[column].to_numpy(dtype=float)
    rates = np.abs(np.diff(values)) / np.diff(steps)
    return int(steps[1 + int(np.argmax(rates))])


def value_at_step(progress: pd.DataFrame, column: str, step: int | None) -> float | None:
    """``column`` at the last recorded row with ``step <= step`` (None when ``step`` is None or no row is).

    NaN rows of ``column`` (epochs on which the measure was not taken) are skipped.
    """
    if step is None:
        return None
    if column not in progress.columns:
        raise ValueError(f"column must be a column of progress; got {column!r}.")
    rows = progress[progress["step"] <= step].dropna(subset=[column])
    return float(rows[column].iloc[-1]) if len(rows) else None
