"""The phase rules of the fourier_progress_measures experiment on a hand-made progress table."""

import math

import numpy as np
import pandas as pd
import pytest

from grokkit.experiments.fourier_progress_measures import find_phases

P = 59


@pytest.fixture
def progress():
    epochs = np.array([0, 10, 100, 200, 400, 800, 1600, 3200, 6400, 9000, 12000])
    return pd.DataFrame({
        "epoch": epochs,
        "train_acc": [0.02, 0.5, 0.98, 0.995, 1, 1, 1, 1, 1, 1, 1],
        "test_loss": [4.1, 5.0, 12.0, 20.0, 18.0, 15.0, 14.0, 9.0, 2.0, 0.5, 0.1],
        "excluded_loss_final_keys": [4.1, 3.0, 0.5, 0.02, 0.05, 0.04, 0.3, 1.2, 3.0, 4.0, 4.0],
    })


def test_boundaries_follow_the_stated_rules(progress):
    phases = find_phases(progress, P)
    assert phases["memorisation_end_epoch"] == 200  # first train_acc >= 0.99
    assert phases["test_loss_peak"] == 20.0 and phases["test_loss_peak_epoch"] == 200
    circuit = phases["circuit_formation"]
    assert circuit["start_epoch"] == 200
    assert circuit["end_epoch"] == 3200  # last record with test_loss >= log 59 = 4.08
    assert 2.0 < math.log(P) < 9.0
    assert circuit["excluded_loss_rising_epochs"] == [400, 1600, 3200]  # 800 fell
    assert circuit["excluded_loss_growth_factor"] == pytest.approx(1.2 / 0.02)
    assert phases["cleanup_end_epoch"] == 12000  # first test_loss < 0.2 after the peak
    assert phases["spans"]["cleanup"] == (3200, 12000)


def test_a_run_that_never_memorises_has_no_phases(progress):
    progress["train_acc"] = 0.5
    progress["test_loss"] = 4.0
    phases = find_phases(progress, P)
    assert phases["memorisation_end_epoch"] is None
    assert phases["circuit_formation"]["end_epoch"] is None
    assert phases["cleanup_end_epoch"] is None
