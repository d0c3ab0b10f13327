"""Matrix-based information measures (Tan & Huang §2.2, §4, App. A): closed forms first."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from grokkit.measures.matrix_info import (
    _matrix_mutual_information_torch,
    entropy_difference,
    matrix_entropy,
    matrix_joint_entropy,
    matrix_js_divergence,
    matrix_mutual_information,
    mutual_information_difference,
    perturb_entropy,
    perturb_mutual_information,
    representation_entropy,
)
from grokkit.models import MLP

ORDERS = [0.5, 1, 2, 3.5]


def renyi(p: np.ndarray, order: float) -> float:
    """Rényi entropy of a probability vector, in nats (the reference formula)."""
    p = p[p > 0]
    if order == 1:
        return float(-(p * np.log(p)).sum())
    return float(np.log((p**order).sum()) / (1 - order))


def one_hot_rows(counts: list[int]) -> np.ndarray:
    """Rows that are one-hot codes of clusters of the given sizes."""
    labels = np.repeat(np.arange(len(counts)), counts)
    return np.eye(len(counts))[labels]


@pytest.fixture(scope="module")
def random_rep() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((24, 5))


@pytest.fixture(scope="module")
def mlp() -> nn.Module:
    torch.manual_seed(0)
    return MLP(6, 4, (8,), activation="tanh").double()


@pytest.fixture(scope="module")
def inputs() -> np.ndarray:
    return np.random.default_rng(1).standard_normal((40, 6))


# --------------------------------------------------------------------------- entropy


@pytest.mark.parametrize("order", ORDERS)
def test_orthonormal_rows_have_entropy_log_n(order):
    basis, _ = np.linalg.qr(np.random.default_rng(2).standard_normal((7, 7)))
    assert matrix_entropy(3.0 * basis, order=order) == pytest.approx(math.log(7), abs=1e-10)


@pytest.mark.parametrize("order", ORDERS)
def test_parallel_rows_have_zero_entropy(order):
    row = np.array([[1.0, -2.0, 0.5]])
    Z = np.array([[1.0], [2.0], [0.1], [7.0]]) * row  # positive multiples of one row
    assert matrix_entropy(Z, order=order) == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize("order", ORDERS)
def test_clustered_rows_give_the_renyi_entropy_of_cluster_sizes(order):
    counts = [5, 2, 1, 4]
    p = np.array(counts) / sum(counts)
    assert matrix_entropy(one_hot_rows(counts), order=order) == pytest.approx(
        renyi(p, order), abs=1e-10
    )


def test_order_two_is_minus_log_squared_frobenius_norm(random_rep):
    rows = random_rep / np.linalg.norm(random_rep, axis=1, keepdims=True)
    density = rows @ rows.T / len(rows)
    expected = -math.log((density**2).sum())
    assert matrix_entropy(random_rep, order=2) == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("n_features", [3, 40])
@pytest.mark.parametrize("order", ORDERS)
def test_entropy_matches_eigenvalues_of_the_n_by_n_density(n_features, order):
    # Covers both the d x d (d < n) and the n x n (d >= n) code paths.
    Z = np.random.default_rng(3).standard_normal((12, n_features))
    rows = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    eigenvalues = np.linalg.eigvalsh(rows @ rows.T / 12)
    # Rank 3: the other 9 eigenvalues are rounding noise, which order < 1 amplifies.
    eigenvalues = eigenvalues[eigenvalues > 1e-12]
    assert matrix_entropy(Z, order=order) == pytest.approx(renyi(eigenvalues, order), abs=1e-9)


def test_order_one_is_the_limit_of_renyi_orders(random_rep):
    h1 = matrix_entropy(random_rep, order=1)
    assert matrix_entropy(random_rep, order=1 - 1e-6) == pytest.approx(h1, abs=1e-5)
    assert matrix_entropy(random_rep, order=1 + 1e-6) == pytest.approx(h1, abs=1e-5)


def test_entropy_decreases_with_order(random_rep):
    values = [matrix_entropy(random_rep, order=o) for o in ORDERS]
    assert all(a > b for a, b in zip(values, values[1:], strict=False))


def test_entropy_is_invariant_to_row_scaling_and_sample_order(random_rep):
    scales = np.random.default_rng(4).uniform(0.1, 10, size=(len(random_rep), 1))
    perm = np.random.default_rng(5).permutation(len(random_rep))
    h = matrix_entropy(random_rep)
    assert matrix_entropy(random_rep * scales) == pytest.approx(h, abs=1e-10)
    assert matrix_entropy(random_rep[perm]) == pytest.approx(h, abs=1e-10)


def test_all_zero_representation_has_zero_entropy():
    assert matrix_entropy(np.zeros((5, 3))) == 0.0
    assert matrix_mutual_information(np.zeros((5, 3)), np.eye(5)) == pytest.approx(0.0, abs=1e-12)


def test_zero_rows_count_as_one_shared_direction():
    # Rows e1, e2, 0, 0: three "clusters" of sizes 1, 1, 2.
    Z = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0], [0.0, 0.0]])
    expected = renyi(np.array([0.25, 0.25, 0.5]), 1)
    assert matrix_entropy(Z) == pytest.approx(expected, abs=1e-12)


def test_tensor_input_equals_numpy_input_and_returns_a_float(random_rep):
    value = matrix_entropy(torch.as_tensor(random_rep, dtype=torch.float32))
    assert isinstance(value, float)
    assert value == pytest.approx(matrix_entropy(random_rep), abs=1e-5)


# ------------------------------------------------------------- joint entropy, MI


def test_mutual_information_with_itself_is_the_entropy_for_cluster_codes():
    Z = one_hot_rows([3, 1, 4, 2])
    for order in ORDERS:
        assert matrix_mutual_information(Z, Z, order=order) == pytest.approx(
            matrix_entropy(Z, order=order), abs=1e-10
        )


def test_mutual_information_with_itself_is_at_most_the_entropy(random_rep):
    # Giraldo et al.: H(A o A) >= H(A), so I(Z; Z) = 2H - H(A o A) <= H.
    assert matrix_mutual_information(random_rep, random_rep) < matrix_entropy(random_rep)


def test_mutual_information_with_orthonormal_rows_is_the_other_entropy(random_rep):
    assert matrix_mutual_information(np.eye(len(random_rep)), random_rep) == pytest.approx(
        matrix_entropy(random_rep), abs=1e-10
    )


def test_mutual_information_with_a_constant_representation_is_zero(random_rep):
    constant = np.ones((len(random_rep), 3))
    assert matrix_mutual_information(random_rep, constant) == pytest.approx(0.0, abs=1e-10)
    assert matrix_joint_entropy(random_rep, constant) == pytest.approx(
        matrix_entropy(random_rep), abs=1e-10
    )


def test_mutual_information_of_cluster_codes_is_shannon_mutual_information():
    # R1 o R2 for one-hot codes of two labelings is the code of the joint labeling.
    a = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    b = np.array([0, 1, 0, 1, 0, 1, 1, 1])
    joint = np.unique(np.column_stack([a, b]), axis=0, return_counts=True)[1] / len(a)
    pa = np.bincount(a) / len(a)
    pb = np.bincount(b) / len(b)
    expected = renyi(pa, 1) + renyi(pb, 1) - renyi(joint, 1)
    value = matrix_mutual_information(np.eye(3)[a], np.eye(2)[b])
    assert value == pytest.approx(expected, abs=1e-10)


def test_joint_entropy_bounds_and_symmetry(random_rep):
    other = np.random.default_rng(6).standard_normal((len(random_rep), 2))
    joint = matrix_joint_entropy(random_rep, other)
    assert joint >= max(matrix_entropy(random_rep), matrix_entropy(other)) - 1e-12
    assert joint == pytest.approx(matrix_joint_entropy(other, random_rep), abs=1e-12)
    assert matrix_mutual_information(random_rep, other) == pytest.approx(
        matrix_mutual_information(other, random_rep), abs=1e-12
    )


# ---------------------------------------------------------------------------- JS


def test_js_divergence_of_identical_grams_is_zero(random_rep):
    assert matrix_js_divergence(random_rep, 5 * random_rep) == pytest.approx(0.0, abs=1e-12)


def test_js_divergence_between_orthonormal_and_parallel_rows():
    n = 6
    # (I + J) / 2n has eigenvalues (n + 1) / 2n once and 1 / 2n (n - 1) times.
    mixture = np.array([(n + 1) / (2 * n)] + [1 / (2 * n)] * (n - 1))
    expected = renyi(mixture, 1) - (math.log(n) + 0.0) / 2
    assert matrix_js_divergence(np.eye(n), np.ones((n, 2))) == pytest.approx(expected, abs=1e-10)


def test_js_divergence_is_symmetric_and_bounded(random_rep):
    other = np.random.default_rng(7).standard_normal((len(random_rep), 3))
    value = matrix_js_divergence(random_rep, other)
    assert value == pytest.approx(matrix_js_divergence(other, random_rep), abs=1e-12)
    assert 0 < value <= math.log(2)


# ------------------------------------------------------------ differentiability


def test_torch_mutual_information_keeps_the_graph_and_matches_the_public_value(random_rep):
    Z1 = torch.tensor(random_rep, requires_grad=True)
    Z2 = torch.tensor(np.random.default_rng(8).standard_normal((len(random_rep), 3)))
    value = _matrix_mutual_information_torch(Z1, Z2)
    assert value.requires_grad
    value.backward()
    assert torch.isfinite(Z1.grad).all() and Z1.grad.abs().sum() > 0
    expected = matrix_mutual_information(random_rep, Z2)
    assert float(value.detach()) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("order", [1, 2])
def test_torch_mutual_information_gradient_is_correct(order):
    rng = np.random.default_rng(9)
    Z1 = torch.tensor(rng.standard_normal((5, 6)), requires_grad=True)
    Z2 = torch.tensor(rng.standard_normal((5, 7)), requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b: _matrix_mutual_information_torch(a, b, order), (Z1, Z2)
    )


def test_gradient_is_finite_with_zero_eigenvalues_and_zero_rows():
    # 10 samples in 2 dimensions: the 10 x 10 Gram matrix has 8 zero eigenvalues.
    # Row 3 is zero, which has no direction.
    Z1 = torch.tensor(np.random.default_rng(10).standard_normal((10, 2)))
    Z1[3] = 0.0
    Z1.requires_grad_(True)
    Z2 = torch.tensor(np.random.default_rng(11).standard_normal((10, 2)))
    _matrix_mutual_information_torch(Z1, Z2).backward()
    assert torch.isfinite(Z1.grad).all()


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("order", [0, -1, float("inf")])
def test_bad_order_is_rejected(random_rep, order):
    with pytest.raises(ValueError, match="order"):
        matrix_entropy(random_rep, order=order)


def test_non_numeric_order_is_rejected(random_rep):
    with pytest.raises(TypeError, match="order"):
        matrix_entropy(random_rep, order="1")


@pytest.mark.parametrize("Z", [np.ones(4), np.ones((2, 3, 4)), np.ones((0, 3))])
def test_bad_shapes_are_rejected(Z):
    with pytest.raises(ValueError, match="Z"):
        matrix_entropy(Z)


def test_non_finite_values_are_rejected(random_rep):
    Z = random_rep.copy()
    Z[0, 0] = np.nan
    with pytest.raises(ValueError, match="Z1"):
        matrix_mutual_information(Z, random_rep)


def test_non_numeric_data_is_rejected():
    with pytest.raises(TypeError, match="Z"):
        matrix_entropy(np.array([["a", "b"]]))


def test_mismatched_samples_are_rejected(random_rep):
    with pytest.raises(ValueError, match="Z1 and Z2"):
        matrix_js_divergence(random_rep, random_rep[:-1])


# ---------------------------------------------------- PMI, PE, MID, ED (Defs 4.1-4.4)


def test_unperturbed_measures_equal_the_matrix_quantities_of_inputs_and_logits(mlp, inputs):
    with torch.no_grad():
        logits = mlp(torch.as_tensor(inputs)).numpy()
    pmi = perturb_mutual_information(mlp, inputs, sigma=0.0, n_samples=None)
    pe = perturb_entropy(mlp, inputs, sigma=0.0, n_samples=None)
    assert pmi == pytest.approx(matrix_mutual_information(inputs, logits), abs=1e-10)
    assert pe == pytest.approx(matrix_entropy(logits), abs=1e-10)


def test_differences_are_the_absolute_changes_under_noise(mlp, inputs):
    kw = {"sigma": 0.5, "n_samples": 30, "random_state": 3}
    pmi_noisy = perturb_mutual_information(mlp, inputs, **kw)
    pmi_clean = perturb_mutual_information(mlp, inputs, **{**kw, "sigma": 0.0})
    pe_noisy = perturb_entropy(mlp, inputs, **kw)
    pe_clean = perturb_entropy(mlp, inputs, **{**kw, "sigma": 0.0})
    assert pmi_noisy != pytest.approx(pmi_clean, abs=1e-6)
    assert mutual_information_difference(mlp, inputs, **kw) == pytest.approx(
        abs(pmi_noisy - pmi_clean), abs=1e-12
    )
    assert entropy_difference(mlp, inputs, **kw) == pytest.approx(
        abs(pe_noisy - pe_clean), abs=1e-12
    )


def test_perturbed_measures_are_seeded(mlp, inputs):
    first = perturb_entropy(mlp, inputs, sigma=0.3, n_samples=20, random_state=1)
    assert perturb_entropy(mlp, inputs, sigma=0.3, n_samples=20, random_state=1) == first
    assert perturb_entropy(mlp, inputs, sigma=0.3, n_samples=20, random_state=2) != first


def test_subsample_larger_than_the_data_uses_every_row(mlp, inputs):
    assert perturb_entropy(mlp, inputs, sigma=0.2, n_samples=1000) == perturb_entropy(
        mlp, inputs, sigma=0.2, n_samples=None
    )


def test_identity_module_pmi_is_the_self_information_of_the_noisy_input():
    # f = identity: PMI = I(X + D; X + D) and PE = H(X + D).
    torch.manual_seed(0)
    linear = nn.Linear(3, 3, bias=False).double()
    with torch.no_grad():
        linear.weight.copy_(torch.eye(3))
    X = np.random.default_rng(12).standard_normal((15, 3))
    generator = torch.Generator().manual_seed(4)
    noisy = X + 0.3 * torch.randn((15, 3), generator=generator, dtype=torch.float64).numpy()
    pmi = perturb_mutual_information(linear, X, sigma=0.3, n_samples=None, random_state=4)
    pe = perturb_entropy(linear, X, sigma=0.3, n_samples=None, random_state=4)
    assert pe == pytest.approx(matrix_entropy(noisy), abs=1e-10)
    assert pmi == pytest.approx(matrix_mutual_information(noisy, noisy), abs=1e-10)


def test_representation_entropy_covers_hidden_layers_and_logits(mlp, inputs):
    from grokkit.measures import capture

    logits, activations = capture(mlp, inputs)
    values = representation_entropy(mlp, inputs, n_samples=None)
    assert set(values) == {"act1", "logits"}
    assert values["act1"] == pytest.approx(matrix_entropy(activations["act1"]), abs=1e-10)
    assert values["logits"] == pytest.approx(matrix_entropy(logits), abs=1e-10)
    shared = representation_entropy(
        mlp, inputs, n_samples=25, activations=activations, logits=logits
    )
    assert shared == representation_entropy(mlp, inputs, n_samples=25)


@pytest.mark.parametrize(
    "measure",
    [perturb_mutual_information, perturb_entropy, mutual_information_difference,
     entropy_difference, representation_entropy],
)
def test_measures_leave_the_module_unchanged(mlp, inputs, measure):
    mlp.train()
    for p in mlp.parameters():
        p.grad = torch.full_like(p, 0.25)
    state = {k: v.clone() for k, v in mlp.state_dict().items()}
    measure(mlp, inputs)
    assert mlp.training
    assert all(torch.equal(state[k], v) for k, v in mlp.state_dict().items())
    assert all(torch.equal(p.grad, torch.full_like(p, 0.25)) for p in mlp.parameters())
    assert all(not m._forward_hooks for m in mlp.modules())
    for p in mlp.parameters():
        p.grad = None


@pytest.mark.parametrize("sigma", [-0.1, float("nan")])
def test_bad_sigma_is_rejected(mlp, inputs, sigma):
    with pytest.raises(ValueError, match="sigma"):
        perturb_entropy(mlp, inputs, sigma=sigma)


def test_differences_need_positive_sigma(mlp, inputs):
    with pytest.raises(ValueError, match="sigma"):
        entropy_difference(mlp, inputs, sigma=0.0)


@pytest.mark.parametrize("n_samples", [1, 0])
def test_bad_subsample_size_is_rejected(mlp, inputs, n_samples):
    with pytest.raises(ValueError, match="n_samples"):
        perturb_mutual_information(mlp, inputs, n_samples=n_samples)


def test_integer_inputs_cannot_be_perturbed():
    embedding = nn.Sequential(nn.Embedding(5, 3), nn.Flatten())
    tokens = np.random.default_rng(0).integers(0, 5, size=(10, 2))
    with pytest.raises(TypeError, match="X"):
        perturb_entropy(embedding, tokens, sigma=0.1)
