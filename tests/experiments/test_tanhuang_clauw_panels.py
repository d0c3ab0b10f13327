"""The Tan & Huang (Figs 2, 4–7, 11, 14–22) and Clauw et al. (Figs 5–7) panel experiments."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from grokkit.datasets import make_modular
from grokkit.experiments import available_experiments, reproduce
from grokkit.experiments.robustness_appendix_measures import (
    ORDERS,
    covariance_entropy,
    inverse_embedding_spread,
    l1_l2_quotient,
    parameter_entropy,
    parameter_sparsity,
    reading,
)
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
         "synergistic_subnetwork_retraining", "mi_regularised_training", "robustness_appendix_measures")


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
                          "oinfo_min": [-0.1, np.nan, -0.9, -0.3, -0.5]})
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
        synergy_peak(frame.assign(oinfo_min=np.nan), 10)


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


# --- robustness_appendix_measures (Tan & Huang Figs 11, 14, 17–22) -------------------------------

def test_l1_l2_quotient_closed_forms():
    rows = torch.tensor([[0.0, -3.0, 0.0, 0.0], [2.0, -2.0, 2.0, 2.0], [1.0, 2.0, 0.0, 2.0]],
                        dtype=torch.float64)
    expected = [1.0, 2.0, 5.0 / 3.0]  # one non-zero entry; four equal magnitudes (√4); 5/√9
    np.testing.assert_allclose(l1_l2_quotient(rows).numpy(), expected, rtol=10 * EPS64)


def test_parameter_sparsity_against_numpy():
    torch.manual_seed(0)
    module = OneHotPairMLP(p=5, hidden_layer_sizes=(4,)).double()
    w1, w2 = module.fc1.weight.detach().numpy().ravel(), module.fc2.weight.detach().numpy().ravel()
    both = np.concatenate([w1, w2])
    got = parameter_sparsity(module)
    for key, w in (("total", both), ("fc1", w1), ("fc2", w2)):
        assert got[key] == pytest.approx(np.abs(w).sum() / np.sqrt((w ** 2).sum()), rel=100 * EPS64)
        assert 1 <= got[key] <= math.sqrt(w.size)


def test_parameter_entropy_is_the_matrix_entropy_of_each_weight_matrix():
    torch.manual_seed(0)
    module = OneHotPairMLP(p=5, hidden_layer_sizes=(4,)).double()
    got = parameter_entropy(module)
    assert set(got) == {f"{name}_order{order:g}" for name in ("fc1", "fc2") for order in ORDERS}
    weight = module.fc2.weight.detach().numpy()
    rows = weight / np.linalg.norm(weight, axis=1, keepdims=True)
    eigenvalues = np.clip(np.linalg.eigvalsh(rows @ rows.T / len(rows)), 0, None)
    assert got["fc2_order2"] == pytest.approx(-np.log((eigenvalues ** 2).sum()), abs=1e3 * EPS64)
    # Rényi entropies fall with the order
    for name in ("fc1", "fc2"):
        values = [got[f"{name}_order{order:g}"] for order in ORDERS]
        assert all(a >= b - 1e3 * EPS64 for a, b in zip(values[:-1], values[1:], strict=True))


def test_inverse_embedding_spread_against_numpy():
    torch.manual_seed(0)
    p = 7
    module = OneHotPairMLP(p=p, hidden_layer_sizes=(6,)).double()
    weight = module.fc1.weight.detach().numpy()

    def spread(pairs):
        embedding = np.maximum(weight[:, pairs[:, 0]] + weight[:, p + pairs[:, 1]], 0.0).T
        return np.linalg.norm(embedding - embedding.mean(axis=0), axis=1).mean()

    x = np.arange(p)
    inverse = np.stack([x, (-x) % p], axis=1)
    every = np.stack(np.meshgrid(x, x, indexing="ij"), axis=-1).reshape(-1, 2)
    got = inverse_embedding_spread(module, p)
    assert got["distance"] == pytest.approx(spread(inverse), rel=1e3 * EPS64)
    assert got["relative"] == pytest.approx(spread(inverse) / spread(every), rel=1e3 * EPS64)


def test_inverse_embedding_spread_vanishes_when_the_inverse_law_is_built_in():
    # W[:, p + b] = −W[:, −b mod p]: the pre-activation of (x, −x) is W[:, x] − W[:, x] = 0 for every x
    p = 7
    module = OneHotPairMLP(p=p, hidden_layer_sizes=(6,)).double()
    with torch.no_grad():
        weight = module.fc1.weight
        weight[:, p:] = -weight[:, (-torch.arange(p)) % p]
    got = inverse_embedding_spread(module, p)
    assert got["distance"] <= 100 * EPS64 and got["relative"] <= 100 * EPS64


def test_covariance_entropy_of_the_three_layers():
    torch.manual_seed(0)
    module = OneHotPairMLP(p=7, hidden_layer_sizes=(6,)).double()
    X = torch.as_tensor(make_modular(p=7, train_fraction=0.5, random_state=0)[0])
    weight = module.fc1.weight.detach().numpy()
    first = (weight[:, X[:, 0]] + weight[:, 7 + X[:, 1]]).T
    embedding = np.maximum(first, 0.0)
    logits = embedding @ module.fc2.weight.detach().numpy().T

    def entropy(Z):
        eigenvalues = np.linalg.eigvalsh(np.cov(Z.T, bias=True))
        eigenvalues = eigenvalues[eigenvalues > 1e3 * EPS64 * eigenvalues.max()] / eigenvalues.sum()
        return -(eigenvalues * np.log(eigenvalues)).sum()

    got = covariance_entropy(module, X)
    for name, Z in (("first", first), ("embedding", embedding), ("logits", logits)):
        assert got[name] == pytest.approx(entropy(Z), abs=1e3 * EPS64)


def test_reading_of_a_constant_column_has_no_fastest_change():
    frame = pd.DataFrame({"step": [0, 10, 20, 30], "m": [2.0, 2.0, 2.0, 2.0], "v": [0.0, 1.0, 1.0, 3.0]})
    constant = reading(frame, "m", memorised=10, generalised=30, jump=20)
    assert constant["sharpest_change_step_after_memorization"] is None
    assert constant["at_memorization"] == constant["final"] == 2.0
    varying = reading(frame, "v", memorised=10, generalised=20, jump=20)
    assert varying["sharpest_change_step_after_memorization"] == 30
    assert varying["steps_from_test_acc_jump"] == 10
    assert varying["at_generalization"] == 1.0


@pytest.fixture(scope="module")
def appendix(tmp_path_factory):
    out = tmp_path_factory.mktemp("appendix") / "run"
    return reproduce("robustness_appendix_measures", size="smoke", out=out, verbose=0), out


def test_appendix_smoke_headline_and_figures(appendix):
    summary, out = appendix
    headline = summary["headline"]
    assert {"fig11_18", "fig14", "fig17", "fig19", "fig20", "fig21", "fig22"} <= set(headline)
    assert set(headline["fig14"]) == {"standard", "abelian_penalty", "barlow_twins"}
    assert "digits" in summary["dataset"]  # the tests hide MNIST (conftest): the offline stand-in
    for name in ("fig11_18_abelian_test_logits_embedding", "fig14_regularisers", "fig17_pe_layers",
                 "fig19_logit_entropy_sparsity", "fig20_parameter_entropy_sparsity",
                 "fig21_covariance_entropy", "fig22_information_mnist"):
        assert (out / f"{name}.png").stat().st_size > 0
    assert "Figs 12–13" in summary["reference"]["left_out"]


def test_appendix_smoke_values(appendix):
    summary, out = appendix
    headline = summary["headline"]
    progress = pd.read_csv(out / "progress.csv")
    standard = progress[progress["run"] == "standard"]
    # the input layer's PE does not depend on the weights
    assert standard["pe_input"].nunique() == 1
    assert headline["fig17"]["pe_input"]["sharpest_change_step_after_memorization"] is None
    n = min(512, int(0.4 * 23 * 23) + 1)
    for column in ("pe_input", "pe_embedding", "pe_logits"):
        assert 0 <= headline["fig17"][column]["final"] <= math.log(n)
    # Rényi entropies of one spectrum fall with the order, at every recorded step
    entropies = standard[[f"entropy_order{order:g}/logits" for order in ORDERS]].to_numpy()
    assert (np.diff(entropies, axis=1) <= 1e3 * EPS64).all()
    assert (standard["logit_sparsity"].between(1, math.sqrt(23))).all()
    for run in ("standard", "abelian_penalty", "barlow_twins"):
        frame = progress[progress["run"] == run]
        assert frame["commutativity_distance_embedding"].ge(0).all()
        assert frame["nearest_neighbour_accuracy/act1"].between(0, 1).all()
    # each regulariser entered the gradient: its run differs from the standard one
    for run in ("abelian_penalty", "barlow_twins"):
        frame = progress[progress["run"] == run]
        assert frame["train_loss"].iloc[-1] != standard["train_loss"].iloc[-1]
    fig22 = headline["fig22"]
    for name in ("pmi", "pe"):
        assert 0 <= fig22[name]["final"] <= math.log(300)  # 300 training images
    for name in ("mid", "ed"):
        assert fig22[name]["final"] >= 0


def test_appendix_verdict_reads_the_headline(appendix):
    import copy

    from grokkit.experiments import get_experiment
    from grokkit.experiments._verdict import LABELS

    rule = get_experiment("robustness_appendix_measures").verdict
    headline = appendix[0]["headline"]
    assert rule(headline).label in LABELS
    good = copy.deepcopy(headline)
    good["generalization_step"] = 1000
    good["fig11_18"]["commutativity_distance"].update(at_memorization=90.0, final=40.0)
    good["fig17"]["pe_logits"]["steps_from_test_acc_jump"] = 0
    good["fig22"]["generalization_step"] = 5000
    for name in ("pmi", "pe", "mid", "ed"):
        good["fig22"][name]["steps_from_test_acc_jump"] = 100
    good["fig14"]["standard"]["generalization_step"] = 2000
    for run in ("abelian_penalty", "barlow_twins"):
        good["fig14"][run].update({"generalization_step": 800, "final_test_acc": 0.99})
    assert rule(good).label == "reproduced"
    bad = copy.deepcopy(good)
    bad["fig11_18"]["commutativity_distance"]["final"] = 1.0  # symmetric logits at the end
    bad["fig17"]["pe_logits"]["steps_from_test_acc_jump"] = 900
    bad["fig14"]["barlow_twins"]["final_test_acc"] = 0.5
    assert rule(bad).label == "not reproduced"


def test_emergence_checkpoint_is_the_deepest_synergy_between_memorisation_and_generalisation():
    from grokkit.experiments.synergistic_subnetwork_retraining import emergence_checkpoint

    frame = pd.DataFrame({"step": [0, 10, 20, 30, 40, 50],
                          "oinfo_min": [-0.8, -0.2, np.nan, -0.4, -0.3, -0.9]})
    # the global peak (-0.9 at 50) comes after generalisation, the init's -0.8 before memorisation
    assert emergence_checkpoint(frame, 10, 45) == {"step": 30, "bits": -0.4,
                                                   "window": "between memorisation and generalisation"}
    assert emergence_checkpoint(frame, 35, 38)["window"] == "before generalisation"
    assert emergence_checkpoint(frame, 35, 38)["step"] == 0
    assert emergence_checkpoint(frame, 10, None) == {"step": 50, "bits": -0.9, "window": "the whole run"}
    with pytest.raises(ValueError, match="no synergy values"):
        emergence_checkpoint(frame.assign(oinfo_min=np.nan), 10, 45)
