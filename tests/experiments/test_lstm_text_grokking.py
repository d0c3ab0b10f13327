"""Omnigrok Fig. 4d / Golechha Fig. 4: the LSTM run's progress-measure correlations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from grokkit.experiments.lstm_text_grokking import GOLECHHA_COLUMNS, spearman_with_test_acc


def test_spearman_of_each_recorded_measure_with_test_accuracy_skips_unrecorded_rows():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"test_acc": rng.rand(12), "weight_norm": rng.rand(12),
                          "circuit_complexity/fc": rng.rand(12)})
    frame.loc[[2, 5], "circuit_complexity/fc"] = np.nan  # recorded at fewer epochs
    out = spearman_with_test_acc(frame)
    assert set(out) == {"weight_norm", "circuit_complexity/fc"} <= set(GOLECHHA_COLUMNS)
    kept = frame.dropna()
    expected = stats.spearmanr(kept["circuit_complexity/fc"], kept["test_acc"]).statistic
    assert out["circuit_complexity/fc"] == pytest.approx(expected, rel=1e3 * np.finfo(np.float64).eps)
    whole = stats.spearmanr(frame["weight_norm"], frame["test_acc"]).statistic
    assert out["weight_norm"] == pytest.approx(whole, rel=1e3 * np.finfo(np.float64).eps)
