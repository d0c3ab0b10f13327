"""Omnigrok Fig. 4d / Golechha Fig. 4: the LSTM run's progress-measure correlations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from grokkit.experiments.lstm_text_grokking import GOLECHHA_COLUMNS, recorded_measures, spearman_with_test_acc


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


def test_the_measures_figure_takes_every_recorded_family_including_per_layer_circuit_complexity():
    from grokkit.plotting import plot_progress

    steps = np.arange(1, 13)
    frame = pd.DataFrame({"epoch": steps, "step": steps * 15, "train_acc": 1.0, "test_acc": steps / 12,
                          "train_loss": 1 / steps, "test_loss": 2 / steps, "weight_norm": 10.0 - steps / 2,
                          "circuit_complexity/fc": 1e-3 * steps,
                          "circuit_complexity/embedding": 1e-4 * steps})
    assert recorded_measures(frame) == ["weight_norm", "circuit_complexity"]
    figure = plot_progress(frame, measures=recorded_measures(frame))
    assert len(figure.axes) >= 3
