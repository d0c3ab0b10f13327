"""Readings of a progress_ curve (value at a step, sharpest change) and the one-hot rows of a pair MLP."""

import numpy as np
import pandas as pd
import pytest
import torch

from grokkit.analysis.curves import sharpest_change_step, value_at_step
from grokkit.models.onehot_mlp import OneHotPairMLP, onehot_inputs, onehot_pairs


def test_value_at_step_reads_the_last_recorded_row_at_or_before_the_step():
    frame = pd.DataFrame({"step": [0, 10, 20, 30], "m": [1.0, np.nan, 3.0, 4.0]})
    assert value_at_step(frame, "m", 25) == 3.0
    assert value_at_step(frame, "m", 10) == 1.0  # the NaN row at step 10 is skipped
    assert value_at_step(frame, "m", None) is None
    assert value_at_step(frame[frame["step"] > 5], "m", 5) is None
    with pytest.raises(ValueError, match="column"):
        value_at_step(frame, "nope", 10)


def test_sharpest_change_step_after_a_start():
    frame = pd.DataFrame({"step": [0, 10, 20, 30, 40], "m": [0.0, 5.0, 5.5, 9.5, 9.6]})
    assert sharpest_change_step(frame, "m") == 10
    assert sharpest_change_step(frame, "m", start=20) == 30
    assert sharpest_change_step(frame, "m", start=40) is None


def test_onehot_inputs_are_the_pairs_one_hot_in_the_modules_dtype():
    p = 5
    pairs = torch.tensor([[0, 4], [3, 1]])
    model = OneHotPairMLP(p, hidden_layer_sizes=(4,)).double()
    rows = onehot_inputs(model, pairs)
    assert rows.dtype == torch.float64
    assert torch.equal(rows, onehot_pairs(pairs, p, dtype=torch.float64))
    assert torch.allclose(model(rows), model(pairs), atol=10 * torch.finfo(torch.float64).eps)
    with pytest.raises(TypeError, match="fc1"):
        onehot_inputs(torch.nn.Linear(2, 2), pairs)
