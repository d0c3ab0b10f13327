"""⊥AdamW: the gradient it steps on is orthogonal to the weights; otherwise it is AdamW."""

import copy
import pickle

import pytest
import torch
from torch import nn

from grokkit.optim import OrthoAdamW, orthogonal_gradients_

EPS32 = torch.finfo(torch.float32).eps


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 8, bias=False), nn.ReLU(), nn.Linear(8, 3, bias=False))


def _backward(net: nn.Module) -> None:
    X, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    nn.functional.cross_entropy(net(X), y).backward()


def test_projection_removes_the_component_along_each_tensor():
    net = _net()
    _backward(net)
    before = [p.grad.clone() for p in net.parameters()]
    orthogonal_gradients_(net.parameters())
    for p, g in zip(net.parameters(), before, strict=True):
        # float32 rounding of a dot product of n terms: ~ n * eps * |g| |theta|
        tolerance = p.numel() * EPS32 * float(g.norm() * p.detach().norm())
        assert abs(float((p.grad.double() * p.detach().double()).sum())) <= tolerance
        # what was removed is parallel to theta: g - g_perp = c * theta
        removed = (g - p.grad).double()
        c = float((removed * p.detach().double()).sum() / (p.detach().double() ** 2).sum())
        assert torch.allclose(removed, c * p.detach().double(), atol=4 * EPS32 * float(g.abs().max()))


def test_update_direction_fed_to_adamw_is_orthogonal_to_the_weights():
    net = _net()
    optimizer = OrthoAdamW(net.parameters(), lr=1e-6, weight_decay=0.0)
    _backward(net)
    weights = [p.detach().clone() for p in net.parameters()]
    optimizer.step()
    for p, w in zip(net.parameters(), weights, strict=True):
        # after one step Adam's first moment is (1 - beta1) * g_perp: orthogonal to the pre-step weights
        m = optimizer.state[p]["exp_avg"].double()
        tolerance = p.numel() * EPS32 * float(m.norm() * w.norm())
        assert abs(float((m * w.double()).sum())) <= tolerance
        assert abs(float((p.grad.double() * w.double()).sum())) <= p.numel() * EPS32 * float(
            p.grad.norm() * w.norm())


def test_step_is_projection_then_adamw_bit_for_bit():
    net = _net()
    twin = copy.deepcopy(net)
    ortho = OrthoAdamW(net.parameters(), lr=1e-2, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.1)
    plain = torch.optim.AdamW(twin.parameters(), lr=1e-2, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.1)
    for _ in range(3):
        for model, opt in ((net, ortho), (twin, plain)):
            opt.zero_grad()
            torch.manual_seed(1)
            _backward(model)
        orthogonal_gradients_(twin.parameters())
        ortho.step()
        plain.step()
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), twin.parameters(), strict=True))


def test_decoupled_weight_decay_is_adamws():
    theta = nn.Parameter(torch.tensor([2.0, 0.0]))
    optimizer = OrthoAdamW([theta], lr=0.1, weight_decay=0.5)
    theta.grad = torch.tensor([1.0, 0.0])        # parallel to theta: projected to zero
    optimizer.step()
    # zero gradient -> Adam's step is 0; AdamW decays theta by (1 - lr * wd)
    assert torch.equal(theta.detach(), torch.tensor([2.0, 0.0]) * (1 - 0.1 * 0.5))


def test_zero_weights_keep_their_gradient_and_missing_grads_are_skipped():
    zero = nn.Parameter(torch.zeros(3))
    zero.grad = torch.tensor([1.0, 2.0, 3.0])
    unused = nn.Parameter(torch.ones(2))
    orthogonal_gradients_([zero, unused])
    assert torch.equal(zero.grad, torch.tensor([1.0, 2.0, 3.0]))
    assert unused.grad is None


def test_preserve_norm_rescales_to_the_original_norm():
    theta = nn.Parameter(torch.tensor([1.0, 1.0]))
    theta.grad = torch.tensor([3.0, 1.0])
    orthogonal_gradients_([theta], preserve_norm=True)
    assert torch.allclose(theta.grad, torch.tensor([1.0, -1.0]) * (10.0 ** 0.5 / 2 ** 0.5))


def test_closure_gradients_are_projected():
    net = _net()
    optimizer = OrthoAdamW(net.parameters(), lr=1e-6, weight_decay=0.0)
    weights = [p.detach().clone() for p in net.parameters()]

    def closure():
        optimizer.zero_grad()
        torch.manual_seed(2)
        X, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
        loss = nn.functional.cross_entropy(net(X), y)
        loss.backward()
        return loss

    loss = optimizer.step(closure)
    assert torch.is_tensor(loss)
    for p, w in zip(net.parameters(), weights, strict=True):
        assert abs(float((p.grad.double() * w.double()).sum())) <= p.numel() * EPS32 * float(
            p.grad.norm() * w.norm())


def test_pickles_with_its_option_and_accepts_adamw_arguments():
    net = _net()
    optimizer = OrthoAdamW(net.parameters(), 3e-3, (0.8, 0.9), 1e-7, 0.2, preserve_norm=True)
    group = optimizer.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"]) == (3e-3, (0.8, 0.9), 1e-7, 0.2)
    restored = pickle.loads(pickle.dumps(optimizer))
    assert restored.param_groups[0]["preserve_norm"] is True
    state = optimizer.state_dict()
    fresh = OrthoAdamW(net.parameters())
    fresh.load_state_dict(state)
    assert fresh.param_groups[0]["preserve_norm"] is True


def test_bad_inputs():
    with pytest.raises(TypeError, match="preserve_norm"):
        OrthoAdamW(_net().parameters(), preserve_norm="yes")
    with pytest.raises(TypeError, match="preserve_norm"):
        orthogonal_gradients_([], preserve_norm=1)
    with pytest.raises(TypeError, match="params"):
        orthogonal_gradients_(torch.ones(3))
    with pytest.raises(ValueError, match="learning rate"):  # AdamW's own check
        OrthoAdamW(_net().parameters(), lr=-1.0)
