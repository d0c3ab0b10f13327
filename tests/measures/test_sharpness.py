"""Hessian-trace sharpness by Hutchinson's estimator (Tan & Huang §2.1)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from grokkit.measures.sharpness import hessian_trace
from grokkit.models import MLP


def exact_hessian(module: nn.Module, X: torch.Tensor, y: torch.Tensor, loss) -> torch.Tensor:
    """Full Hessian of the loss over the flattened parameters."""
    names = [name for name, _ in module.named_parameters()]
    shapes = [p.shape for p in module.parameters()]
    sizes = [p.numel() for p in module.parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in module.parameters()])

    def objective(vector):
        params = {
            name: chunk.reshape(shape)
            for name, chunk, shape in zip(names, vector.split(sizes), shapes, strict=True)
        }
        return loss(functional_call(module, params, (X,)), y)

    return torch.autograd.functional.hessian(objective, flat)


def cross_entropy(outputs, y):
    return F.cross_entropy(outputs, y)


def one_hot_mse(outputs, y):
    return F.mse_loss(outputs, F.one_hot(y, outputs.shape[1]).to(outputs.dtype))


# Thousands of tiny double-backward passes: on a shared 2-core box, torch's second
# thread only adds contention (10x slower under load).
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(64, 5, generator=generator, dtype=torch.float64)
    y = torch.randint(0, 3, (64,), generator=generator)
    return X, y


def make_mlp(activation: str = "tanh", hidden=(8,)) -> nn.Module:
    torch.manual_seed(0)
    return MLP(5, 3, hidden, activation=activation).double()


@pytest.mark.parametrize(
    ("activation", "loss", "reference"),
    [("tanh", "cross_entropy", cross_entropy), ("relu", "mse", one_hot_mse)],
)
def test_estimate_is_within_five_percent_of_the_exact_trace(data, activation, loss, reference):
    X, y = data
    net = make_mlp(activation)
    hessian = exact_hessian(net, X, y, reference)
    exact = float(torch.trace(hessian))
    # Standard error of the mean of m probes: sqrt(2 sum_{i != j} H_ij^2 / m); 5 % is
    # at least three of them.
    off_diagonal = float((hessian**2).sum() - (torch.diagonal(hessian) ** 2).sum())
    assert np.sqrt(2 * off_diagonal / 2500) < 0.05 / 3 * abs(exact)
    estimate = hessian_trace(net, X, y, loss, n_probes=2500, tol=0.0)
    assert estimate == pytest.approx(exact, rel=0.05)


def test_diagonal_hessian_is_exact_with_any_probe():
    # Linear model without bias, orthogonal input columns, MSE: H = 2/(nC) I_C (x) X^T X
    # is diagonal, so every Rademacher probe returns the trace 2 ||X||_F^2 / n, and
    # the running mean stops moving after the second probe.
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((20, 4)))
    X = torch.tensor(q * np.array([1.0, 2.0, 3.0, 0.5]))
    y = torch.randint(0, 3, (20,), generator=torch.Generator().manual_seed(1))
    net = MLP(4, 3, (), bias=False).double()
    expected = 2 * float((X**2).sum()) / 20
    assert hessian_trace(net, X, y, "mse") == pytest.approx(expected, rel=1e-10)


def test_standard_error_stopping_rule(data):
    # Probes are seeded, so hessian_trace(n_probes=m, tol=0) is the mean of the first m
    # probes, and single probe values follow from consecutive means.
    X, y = data
    net = make_mlp("relu", (8, 8))
    tol = 0.25  # Hutchinson is noisy on tiny nets: ~15 % relative standard error after 40 probes
    means = [hessian_trace(net, X, y, "cross_entropy", n_probes=m, tol=0.0) for m in range(1, 41)]
    singles = [means[0]] + [(m + 1) * means[m] - m * means[m - 1] for m in range(1, 40)]
    stop = next(m for m in range(10, 41)
                if np.std(singles[:m], ddof=1) / np.sqrt(m) <= tol * abs(np.mean(singles[:m])))
    result = hessian_trace(net, X, y, "cross_entropy", n_probes=40, tol=tol)
    assert result == pytest.approx(means[stop - 1], rel=1e-9)


def test_default_stopping_is_accurate(data):
    X, y = data
    net = make_mlp("tanh")
    exact = float(torch.diagonal(exact_hessian(net, X, y, cross_entropy)).sum())
    assert hessian_trace(net, X, y, "cross_entropy", n_probes=2000) == pytest.approx(exact, rel=0.05)


def test_per_layer_blocks_sum_to_the_total_and_match_the_exact_blocks(data):
    X, y = data
    net = make_mlp("tanh")
    hessian = exact_hessian(net, X, y, cross_entropy)
    sizes = [p.numel() for p in net.parameters()]
    diagonal = torch.diagonal(hessian).split(sizes)
    # fc1.weight, fc1.bias, fc2.weight, fc2.bias
    exact = {"fc1": float(diagonal[0].sum() + diagonal[1].sum()),
             "fc2": float(diagonal[2].sum() + diagonal[3].sum())}
    values = hessian_trace(net, X, y, "cross_entropy", n_probes=1000, tol=0.0, per_layer=True)
    assert set(values) == {"total", "fc1", "fc2"}
    assert values["fc1"] + values["fc2"] == pytest.approx(values["total"], rel=1e-12)
    for layer, value in exact.items():
        assert values[layer] == pytest.approx(value, rel=0.1)


def test_callable_loss_equals_the_named_loss(data):
    X, y = data
    net = make_mlp()
    named = hessian_trace(net, X, y, "cross_entropy", n_probes=5, tol=0.0)
    assert hessian_trace(net, X, y, cross_entropy, n_probes=5, tol=0.0) == pytest.approx(named)


def test_mse_with_real_targets_equals_mse_on_one_hot_labels(data):
    X, y = data
    net = make_mlp()
    targets = F.one_hot(y, 3).double().numpy()
    from_labels = hessian_trace(net, X, y, "mse", n_probes=5, tol=0.0)
    assert hessian_trace(net, X, targets, "mse", n_probes=5, tol=0.0) == pytest.approx(from_labels)


def test_numpy_inputs_are_accepted(data):
    X, y = data
    net = make_mlp()
    expected = hessian_trace(net, X, y, "cross_entropy", n_probes=3)
    assert hessian_trace(net, X.numpy(), y.numpy(), "cross_entropy", n_probes=3) == expected


def test_seed_controls_the_probes(data):
    X, y = data
    net = make_mlp()
    first = hessian_trace(net, X, y, "cross_entropy", n_probes=3, random_state=0)
    assert hessian_trace(net, X, y, "cross_entropy", n_probes=3, random_state=0) == first
    assert hessian_trace(net, X, y, "cross_entropy", n_probes=3, random_state=1) != first


@pytest.mark.parametrize("training", [True, False])
def test_module_is_left_unchanged(data, training):
    X, y = data
    torch.manual_seed(0)
    net = MLP(5, 3, (8,), dropout=0.5).double()
    net.train(training)
    for p in net.parameters():
        p.grad = torch.full_like(p, 0.5)
    net.fc1.bias.grad = None
    state = {k: v.clone() for k, v in net.state_dict().items()}
    hessian_trace(net, X, y, "cross_entropy", n_probes=3, per_layer=True)
    assert net.training is training
    assert all(torch.equal(state[k], v) for k, v in net.state_dict().items())
    assert net.fc1.bias.grad is None
    assert all(
        torch.equal(p.grad, torch.full_like(p, 0.5))
        for name, p in net.named_parameters()
        if name != "fc1.bias"
    )
    assert all(not m._forward_hooks and not m._backward_hooks for m in net.modules())


def test_dropout_is_off_during_the_estimate(data):
    X, y = data
    torch.manual_seed(0)
    with_dropout = MLP(5, 3, (8,), dropout=0.5).double().train()
    torch.manual_seed(0)
    without = MLP(5, 3, (8,)).double()
    assert hessian_trace(with_dropout, X, y, "cross_entropy", n_probes=4) == pytest.approx(
        hessian_trace(without, X, y, "cross_entropy", n_probes=4)
    )


# --------------------------------------------------------------- bad input


def test_unknown_loss_name_is_rejected(data):
    with pytest.raises(ValueError, match="loss"):
        hessian_trace(make_mlp(), *data, "hinge")


def test_non_callable_loss_is_rejected(data):
    with pytest.raises(TypeError, match="loss"):
        hessian_trace(make_mlp(), *data, 3)


def test_loss_returning_a_vector_is_rejected(data):
    with pytest.raises(ValueError, match="loss"):
        hessian_trace(make_mlp(), *data, lambda o, y: (o**2).sum(dim=1))


@pytest.mark.parametrize(("name", "value"), [("n_probes", 0), ("tol", -1.0), ("random_state", -1)])
def test_bad_numbers_are_rejected(data, name, value):
    with pytest.raises(ValueError, match=name):
        hessian_trace(make_mlp(), *data, "cross_entropy", **{name: value})


def test_bad_per_layer_is_rejected(data):
    with pytest.raises(TypeError, match="per_layer"):
        hessian_trace(make_mlp(), *data, "mse", per_layer="yes")


def test_mismatched_targets_are_rejected(data):
    X, y = data
    with pytest.raises(ValueError, match="y"):
        hessian_trace(make_mlp(), X, y[:-1], "cross_entropy")


def test_cross_entropy_needs_class_labels(data):
    X, y = data
    with pytest.raises(ValueError, match="cross_entropy"):
        hessian_trace(make_mlp(), X, y.double(), "cross_entropy")


def test_module_without_parameters_is_rejected(data):
    X, y = data
    with pytest.raises(ValueError, match="module"):
        hessian_trace(nn.Identity(), X[:, :3], y, "cross_entropy")
