"""The Tan & Huang (Figs 2, 4–7, 15–16) and Clauw et al. (Figs 5–7) panel experiments."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from grokkit.datasets import make_modular
from grokkit.experiments import available_experiments, reproduce
from grokkit.experiments.robustness_measures_at_grokking import (
    _argmin_step,
    ed,
    mid,
    pe,
    pmi,
    sharpest_change_step,
)
from grokkit.experiments.synergy_across_weight_decay_and_alpha import (
    log_spaced_epochs,
    run_settings,
    synergy_peak,
)
from grokkit.measures.matrix_info import perturb_mutual_information
from grokkit.models.onehot_mlp import OneHotPairMLP, onehot_pairs

EPS64 = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)

NAMES = ("robustness_measures_at_grokking", "synergy_across_weight_decay_and_alpha",
         "synergistic_subnetwork_retraining", "mi_regularised_training")


def test_registered():
    assert set(NAMES) <= set(available_experiments())


# --- sharpest_change_step -------------------------------------------------------------------------

def test_sharpest_change_step_finds_the_jump():
    steps = np.arange(0, 110, 10)
    values = np.where(steps >= 60, 1.0, 0.0) + 0.01 * steps / 100
    frame = pd.DataFrame({"step": steps, "m": values})
    assert sharpest_change_step(frame, "m") == 60


def test_sharpest_change_step_is_a_rate_per_step():
    # a change of 1 over 100 steps is slower than a change of 0.5 over 10 steps
    frame = pd.DataFrame({"step": [0, 100, 110], "m": [0.0, 1.0, 1.5]})
    assert sharpest_change_step(frame, "m") == 110


def test_sharpest_change_step_after_start_and_nan_rows():
    frame = pd.DataFrame({"step": [0, 10, 20, 30, 40, 50],
                          "m": [0.0, 5.0, 5.0, np.nan, 5.5, 5.6]})
    assert sharpest_change_step(frame, "m") == 10
    # from step 20 on, the NaN row is dropped: 5.0 -> 5.5 over 20 steps (0.025/step) beats 0.01/step
    assert sharpest_change_step(frame, "m", start=20) == 40
    assert sharpest_change_step(frame, "m", start=50) is None


def test_sharpest_change_step_checks_its_arguments():
    frame = pd.DataFrame({"step": [0, 1], "m": [0.0, 1.0]})
    with pytest.raises(ValueError, match="column"):
        sharpest_change_step(frame, "missing")
    with pytest.raises(TypeError, match="start"):
        sharpest_change_step(frame, "m", start=True)


def test_argmin_step_within_the_window():
    # MID-like: falls until step 30, then jumps; the global minimum (step 50) is outside the window
    frame = pd.DataFrame({"step": [0, 10, 20, 30, 40, 50], "m": [0.5, 0.4, 0.3, 0.2, 0.9, 0.1]})
    assert _argmin_step(frame, "m", 10, 40) == 30
    assert _argmin_step(frame, "m", 0, 50) == 50
    assert _argmin_step(frame, "m", None, 40) is None


# --- the one-hot robustness measures --------------------------------------------------------------

def test_onehot_measures_vanish_for_a_constant_network():
    # zero_last: all logits are 0, one shared direction -> PE = 0 and PMI = 0, clean and perturbed
    torch.manual_seed(0)
    module = OneHotPairMLP(p=7, hidden_layer_sizes=(16,), zero_last=True).double()
    X = torch.as_tensor(make_modular(p=7, train_fraction=0.5, random_state=0)[0])
    for func in (pmi, pe, mid, ed):
        assert abs(func(module, X)) <= 100 * EPS64


def test_onehot_pmi_reads_the_onehot_inputs():
    torch.manual_seed(0)
    module = OneHotPairMLP(p=7, hidden_layer_sizes=(16,))
    X = torch.as_tensor(make_modular(p=7, train_fraction=0.5, random_state=0)[0])
    expected = perturb_mutual_information(module, onehot_pairs(X, 7, dtype=torch.float32), sigma=0.1)
    assert pmi(module, X) == pytest.approx(expected, rel=0, abs=10 * EPS32)
    # a random network's logits are not constant: PMI is positive, below log(n)
    assert 0 < pmi(module, X) <= math.log(len(X))


# --- the Clauw et al. helpers ---------------------------------------------------------------------

def test_run_settings_are_the_seven_runs_of_fig5():
    runs = dict(run_settings())
    assert [r["weight_decay"] for k, r in runs.items() if k.startswith("wd=")] == [0.1, 2.0, 10.0, 50.0]
    alphas = {k: r for k, r in runs.items() if k.startswith("alpha=")}
    assert [r["alpha"] for r in alphas.values()] == [1.0, 8.0, 50.0]
    assert all(r["weight_decay"] == 0.0 and r["zero_last"] for r in alphas.values())


def test_log_spaced_epochs():
    kept = list(range(0, 1001, 5))
    # targets geomspace(5, 1000, 4) = 5, 29.2, 171, 1000 -> nearest kept 5, 30, 170, 1000, plus epoch 0
    assert log_spaced_epochs(kept, 5) == [0, 5, 30, 170, 1000]
    assert log_spaced_epochs([10, 20], 5) == [10, 20]
    with pytest.raises(ValueError, match="n must"):
        log_spaced_epochs(kept, 1)


def test_synergy_peak():
    frame = pd.DataFrame({"step": [0, 10, 20, 30, 40],
                          "synergy": [-0.1, np.nan, -0.9, -0.3, -0.5]})
    peak = synergy_peak(frame, generalization_step=30)
    assert peak["synergy_peak_step"] == 20 and peak["synergy_peak_bits"] == -0.9
    assert peak["synergy_peak_before_generalization"] is True
    assert peak["synergy_min_before_generalization_bits"] == -0.9
    late = synergy_peak(frame, generalization_step=10)
    assert late["synergy_peak_before_generalization"] is False
    assert late["synergy_min_before_generalization_bits"] == -0.1
    never = synergy_peak(frame, generalization_step=None)
    assert never["synergy_peak_before_generalization"] is False
    assert never["synergy_min_before_generalization_bits"] is None
    with pytest.raises(ValueError, match="synergy"):
        synergy_peak(frame.assign(synergy=np.nan), 10)


# --- smoke runs: what each computes -------------------------------------------------------------

@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    root = tmp_path_factory.mktemp("panels")
    names = ("robustness_measures_at_grokking", "synergistic_subnetwork_retraining",
             "mi_regularised_training")
    return {name: reproduce(name, size="smoke", out=root / name, verbose=0) for name in names}


def test_robustness_smoke_headline(smoke):
    headline = smoke["robustness_measures_at_grokking"]["headline"]
    assert headline["sharpness"]["first"] > 0 and headline["sharpness"]["final"] > 0
    n = 512  # the measures' subsample; the smoke training set (p 23, 40 %) has 211 pairs
    for name in ("pmi", "pe"):
        assert 0 <= headline[name]["final"] <= math.log(n)
    for name in ("mid", "ed"):
        assert headline[name]["final"] >= 0
    assert 0 <= headline["associativity"]["final"] <= 1
    assert headline["doubling"]["final"] > 0 and headline["identity_law"]["final"] > 0


def test_subnetwork_and_inverse_split_the_hidden_layer(smoke):
    entry = smoke["synergistic_subnetwork_retraining"]["headline"]["wd=2"]
    assert entry["subnetwork"]["n_neurons"] + entry["inverse"]["n_neurons"] == 48
    assert 0 < entry["subnetwork"]["n_neurons"] < 48


def test_mi_penalty_changes_the_run_and_mi_is_bounded(smoke):
    headline = smoke["mi_regularised_training"]["headline"]
    standard, penalised = headline["standard"]["final_mi_nats"], headline["mi_penalty"]["final_mi_nats"]
    for value in (standard, penalised):
        assert 0 <= value <= math.log(300)  # I(X; f(X)) <= H(X) <= log n, 300 digits training images
    assert penalised != standard  # the MI term entered the gradient
    gain = headline["final_test_acc_gain"]
    assert gain == pytest.approx(headline["mi_penalty"]["final_test_acc"]
                                 - headline["standard"]["final_test_acc"], abs=EPS64)
