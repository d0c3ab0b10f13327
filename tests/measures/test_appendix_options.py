"""Options added for Tan & Huang's appendix figures: PE and the abelian test at a layer (Figs 17–18),
the covariance entropy (Fig. 21) and a subsampled nearest-neighbour accuracy (Fig. 14b)."""

import math

import numpy as np
import pytest
import torch

from grokkit.datasets import make_modular
from grokkit.measures import (
    commutativity_distance,
    matrix_entropy,
    nearest_neighbour_accuracy,
    perturb_entropy,
)
from grokkit.models.onehot_mlp import OneHotPairMLP, onehot_pairs

EPS64 = float(np.finfo(np.float64).eps)


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return OneHotPairMLP(p=7, hidden_layer_sizes=(5,)).double()


@pytest.fixture(scope="module")
def pairs():
    return make_modular(p=7, train_fraction=0.6, random_state=0)[0]


def _entropy(Z: np.ndarray) -> float:
    """Von Neumann entropy of the trace-normalised Gram matrix of the unit rows, by numpy."""
    rows = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    eigenvalues = np.linalg.eigvalsh(rows @ rows.T / len(rows))
    eigenvalues = eigenvalues[eigenvalues > 1e3 * EPS64]
    return float(-(eigenvalues * np.log(eigenvalues)).sum())


# --- perturb_entropy(layer=...) ------------------------------------------------------------------

def _noisy(onehot: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    generator = torch.Generator().manual_seed(seed)
    return onehot + sigma * torch.randn(onehot.shape, generator=generator, dtype=torch.float64).numpy()


def test_perturb_entropy_at_the_input_and_hidden_layers(net, pairs):
    onehot = onehot_pairs(pairs, 7, dtype=np.float64)
    noisy = _noisy(onehot, 0.3, 4)
    weight = net.fc1.weight.detach().numpy()
    expected = {"input": _entropy(noisy), "act1": _entropy(np.maximum(noisy @ weight.T, 0.0))}
    for layer, value in expected.items():
        got = perturb_entropy(net, onehot, sigma=0.3, n_samples=None, random_state=4, layer=layer)
        assert got == pytest.approx(value, abs=1e3 * EPS64)
    logits = perturb_entropy(net, onehot, sigma=0.3, n_samples=None, random_state=4)
    assert logits == perturb_entropy(net, onehot, sigma=0.3, n_samples=None, random_state=4, layer="logits")
    assert len({*expected.values(), logits}) == 3


def test_perturb_entropy_names_a_bad_layer(net, pairs):
    with pytest.raises(ValueError, match=r"layer must be one of 'input', 'logits', 'act1'"):
        perturb_entropy(net, onehot_pairs(pairs, 7, dtype=np.float64), layer="fc9")


# --- commutativity_distance(layer=...) -----------------------------------------------------------

def test_commutativity_distance_on_the_hidden_layer(net):
    weight = net.fc1.weight.detach().numpy()
    distances = []
    for a in range(7):
        for b in range(a + 1, 7):
            forward = np.maximum(weight[:, a] + weight[:, 7 + b], 0.0)
            swapped = np.maximum(weight[:, b] + weight[:, 7 + a], 0.0)
            distances.append(np.linalg.norm(forward - swapped))
    got = commutativity_distance(net, p=7, layer="act1", batch_size=8)  # several chunks
    assert got == pytest.approx(float(np.mean(distances)), rel=1e3 * EPS64)
    assert commutativity_distance(net, p=7) == commutativity_distance(net, p=7, layer="logits")


def test_commutativity_distance_of_a_symmetric_embedding_is_zero(net):
    symmetric = OneHotPairMLP(p=7, hidden_layer_sizes=(5,)).double()
    with torch.no_grad():
        symmetric.fc1.weight[:, 7:] = symmetric.fc1.weight[:, :7]  # W[:, a] + W[:, p + b] symmetric
    assert commutativity_distance(symmetric, p=7, layer="act1") <= 100 * EPS64


def test_commutativity_distance_names_a_bad_layer(net):
    with pytest.raises(ValueError, match=r"layer must be one of 'logits', 'act1'"):
        commutativity_distance(net, p=7, layer="input")


# --- matrix_entropy(kernel="covariance") --------------------------------------------------------

@pytest.mark.parametrize("order", [0.5, 1, 2, 3])
def test_covariance_entropy_against_numpy(order):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(30, 4)) @ np.diag([3.0, 1.0, 0.5, 0.1]) + 2.0
    eigenvalues = np.linalg.eigvalsh(np.cov(Z.T, bias=True))
    eigenvalues = eigenvalues / eigenvalues.sum()
    if order == 1:
        expected = -(eigenvalues * np.log(eigenvalues)).sum()
    else:
        expected = np.log((eigenvalues ** order).sum()) / (1 - order)
    got = matrix_entropy(Z, order=order, kernel="covariance")
    assert got == pytest.approx(float(expected), abs=1e3 * EPS64)
    # the covariance ignores the shift that the cosine kernel sees
    assert matrix_entropy(Z - 2.0, order=order, kernel="covariance") == pytest.approx(got, abs=1e3 * EPS64)


def test_covariance_entropy_bounds():
    assert matrix_entropy(np.ones((5, 3)) * 7.0, kernel="covariance") == 0.0  # constant representation
    # n points in general position in d > n dims: n - 1 equal variances
    assert matrix_entropy(np.eye(6), kernel="covariance") == pytest.approx(math.log(5), abs=1e3 * EPS64)
    with pytest.raises(ValueError, match="kernel"):
        matrix_entropy(np.eye(3), kernel="linear")


# --- nearest_neighbour_accuracy(n_samples=...) ---------------------------------------------------

def test_subsampled_nearest_neighbour_accuracy_is_the_accuracy_on_the_subsample():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] > 0).astype(int) + 2 * (X[:, 1] > 0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4)).double()
    kept = np.sort(np.random.default_rng(5).choice(120, size=40, replace=False))  # _subsample_indices
    got = nearest_neighbour_accuracy(module, X, y, n_samples=40, random_state=5, k=3)
    expected = nearest_neighbour_accuracy(module, X[kept], y[kept], k=3)
    assert got == expected
    assert nearest_neighbour_accuracy(module, X, y, n_samples=500) == nearest_neighbour_accuracy(module, X, y)


def test_subsampled_nearest_neighbour_accuracy_checks_n_samples():
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    X, y = np.zeros((10, 3), dtype=np.float32), np.arange(10) % 2
    with pytest.raises(ValueError, match="n_samples"):
        nearest_neighbour_accuracy(module, X, y, n_samples=1)
    with pytest.raises(ValueError, match="k must be at most"):
        nearest_neighbour_accuracy(module, X, y, n_samples=3, k=3)
