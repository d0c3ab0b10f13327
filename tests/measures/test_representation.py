"""Leave-one-out nearest-neighbour accuracy of representations (Tan & Huang Fig. 14b)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.model_selection import LeaveOneOut, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from torch import nn

import grokkit.measures.representation as representation
from grokkit.measures import capture
from grokkit.measures.representation import nearest_neighbour_accuracy
from grokkit.models import MLP


@pytest.fixture(scope="module")
def mlp() -> nn.Module:
    torch.manual_seed(0)
    return MLP(4, 3, (6, 5)).double()


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((45, 4))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)
    return X, y


class Broken(nn.Module):
    """A module that must not be run."""

    def forward(self, x):
        raise AssertionError("the module was run although activations were given")


@pytest.mark.parametrize("k", [1, 3, 4])
def test_equals_sklearn_leave_one_out_knn(mlp, data, k):
    X, y = data
    logits, activations = capture(mlp, X)
    values = nearest_neighbour_accuracy(mlp, X, y, k=k)
    assert set(values) == {"act1", "act2", "logits"}
    for name, rep in {**activations, "logits": logits}.items():
        expected = cross_val_score(
            KNeighborsClassifier(n_neighbors=k), rep.numpy(), y, cv=LeaveOneOut()
        ).mean()
        assert values[name] == pytest.approx(expected, abs=1e-12)


def test_separated_clusters_are_perfectly_classified():
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(4), 10)
    centres = 20 * rng.standard_normal((4, 3))
    X = centres[y] + rng.standard_normal((40, 3))
    assert nearest_neighbour_accuracy(nn.Identity(), X, y, layer="logits", k=3) == 1.0


def test_a_single_label_reads_one_and_a_lonely_label_zero():
    X = np.random.default_rng(2).standard_normal((6, 2))
    assert nearest_neighbour_accuracy(nn.Identity(), X, np.zeros(6), layer="logits") == 1.0
    # Each label appears once: no other sample can carry it.
    assert nearest_neighbour_accuracy(nn.Identity(), X, np.arange(6), layer="logits") == 0.0


def test_chunked_distances_give_the_same_answer(mlp, data, monkeypatch):
    X, y = data
    expected = nearest_neighbour_accuracy(mlp, X, y, k=3)
    monkeypatch.setattr(representation, "_CHUNK", 7)
    assert nearest_neighbour_accuracy(mlp, X, y, k=3) == expected


def test_precomputed_activations_are_used_without_running_the_module(mlp, data):
    X, y = data
    logits, activations = capture(mlp, X)
    value = nearest_neighbour_accuracy(
        Broken(), X, torch.as_tensor(y), layer="act2", activations=activations, logits=logits
    )
    assert value == nearest_neighbour_accuracy(mlp, X, y, layer="act2")


def test_module_is_left_unchanged(mlp, data):
    X, y = data
    mlp.train()
    state = {k: v.clone() for k, v in mlp.state_dict().items()}
    nearest_neighbour_accuracy(mlp, X, y)
    assert mlp.training
    assert all(torch.equal(state[k], v) for k, v in mlp.state_dict().items())
    assert all(p.grad is None for p in mlp.parameters())
    assert all(not m._forward_hooks for m in mlp.modules())


def test_float_labels_with_integer_values_are_accepted(mlp, data):
    X, y = data
    assert nearest_neighbour_accuracy(mlp, X, y.astype(float)) == nearest_neighbour_accuracy(
        mlp, X, y
    )


@pytest.mark.parametrize("k", [0, 45])
def test_bad_k_is_rejected(mlp, data, k):
    with pytest.raises(ValueError, match="k must"):
        nearest_neighbour_accuracy(mlp, *data, k=k)


def test_non_integer_k_is_rejected(mlp, data):
    with pytest.raises(TypeError, match="k must"):
        nearest_neighbour_accuracy(mlp, *data, k=1.5)


def test_unknown_layer_is_rejected(mlp, data):
    with pytest.raises(ValueError, match="layer"):
        nearest_neighbour_accuracy(mlp, *data, layer="fc9")


@pytest.mark.parametrize(
    "labels", [np.zeros(44), np.zeros((45, 2)), np.full(45, 0.5), np.full(45, -1)]
)
def test_bad_labels_are_rejected(mlp, data, labels):
    with pytest.raises(ValueError, match="y"):
        nearest_neighbour_accuracy(mlp, data[0], labels)
