"""StableMax and its cross-entropy against hand-computed float64 references."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grokkit.losses import StableMaxCrossEntropy, stablemax, stablemax_cross_entropy


def _s_reference(x: np.ndarray) -> np.ndarray:
    return np.array([v + 1.0 if v >= 0 else 1.0 / (1.0 - v) for v in x.ravel()]).reshape(x.shape)


def _loss_reference(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    s = _s_reference(logits.astype(np.float64))
    return np.array([-np.log(s[i, t] / s[i].sum()) for i, t in enumerate(target)])


def test_s_is_the_papers_piecewise_function():
    x = torch.tensor([-3.0, -0.5, 0.0, 0.5, 4.0], dtype=torch.float64)
    expected = torch.tensor([0.25, 1 / 1.5, 1.0, 1.5, 5.0], dtype=torch.float64)
    # stablemax of a single value is s/s = 1; compare the unnormalised s through ratios to s(0) = 1
    probs = stablemax(torch.stack([x, torch.zeros_like(x)], dim=1))
    assert torch.allclose(probs[:, 0] / probs[:, 1], expected, rtol=4 * torch.finfo(torch.float64).eps)


@pytest.mark.parametrize("scale", [0.1, 1.0, 30.0])
def test_cross_entropy_equals_the_float64_reference(scale):
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=scale, size=(64, 7))
    target = rng.integers(0, 7, size=64)
    ours = stablemax_cross_entropy(torch.tensor(logits), torch.tensor(target), reduction="none")
    reference = _loss_reference(logits, target)
    assert ours.dtype == torch.float64
    np.testing.assert_allclose(ours.numpy(), reference, rtol=64 * np.finfo(np.float64).eps, atol=0)
    mean = stablemax_cross_entropy(torch.tensor(logits), torch.tensor(target))
    assert float(mean) == pytest.approx(reference.mean(), rel=64 * np.finfo(np.float64).eps)


def test_float32_stays_finite_and_close_where_softmax_ce_is_absorbed():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(32, 10))
    target = base.argmax(1)
    base[np.arange(32), target] += 1.0          # a clear margin on the label
    for scale in (1e2, 1e4):
        logits = torch.tensor(base * scale, dtype=torch.float32)
        softmax_losses = F.cross_entropy(logits, torch.tensor(target), reduction="none")
        ours = stablemax_cross_entropy(logits, torch.tensor(target), reduction="none")
        reference = _loss_reference(logits.double().numpy(), target)
        assert (softmax_losses == 0).all()      # float32 softmax CE is absorbed ...
        assert torch.isfinite(ours).all() and (ours > 0).all()  # ... StableMax's is not
        np.testing.assert_allclose(ours.double().numpy(), reference, rtol=16 * np.finfo(np.float32).eps)


def test_gradients_are_finite_at_the_kink_and_on_both_branches():
    logits = torch.tensor([[1.0, 0.0, -1.0, 5.0]], requires_grad=True)
    stablemax_cross_entropy(logits, torch.tensor([3])).backward()
    assert torch.isfinite(logits.grad).all()
    # d/dx_j of log1p(R/s_y) for j != y: s'(x_j) / (R + s_y); s'(x) = 1 for x >= 0, 1/(1-x)^2 below
    total = 2.0 + 1.0 + 0.5 + 6.0
    expected_other = torch.tensor([1.0, 1.0, 0.25]) / total
    assert torch.allclose(logits.grad[0, :3], expected_other, rtol=8 * torch.finfo(torch.float32).eps)


def test_probabilities_sum_to_one_and_keep_the_ranking():
    x = torch.randn(5, 9)
    p = stablemax(x)
    assert torch.allclose(p.sum(-1), torch.ones(5), atol=8 * torch.finfo(torch.float32).eps)
    assert torch.equal(p.argsort(-1), x.argsort(-1))
    assert torch.allclose(stablemax(x.T, dim=0), p.T)


def test_criterion_module_matches_function_and_works_as_a_criterion():
    logits, target = torch.randn(6, 4), torch.randint(0, 4, (6,))
    for reduction in ("mean", "sum", "none"):
        criterion = StableMaxCrossEntropy(reduction=reduction)
        assert torch.equal(criterion(logits, target), stablemax_cross_entropy(logits, target, reduction))
    assert "reduction='mean'" in repr(StableMaxCrossEntropy())


def test_half_precision_is_computed_in_float32():
    logits = torch.randn(4, 3).to(torch.bfloat16)
    assert stablemax_cross_entropy(logits, torch.zeros(4, dtype=torch.long)).dtype == torch.float32


@pytest.mark.parametrize("logits, target, error, match", [
    (torch.randn(3, 4), torch.tensor([0.0, 1.0, 2.0]), TypeError, "target"),
    (torch.randint(0, 3, (3, 4)), torch.tensor([0, 1, 2]), TypeError, "logits"),
    (np.zeros((3, 4)), torch.tensor([0, 1, 2]), TypeError, "logits"),
    (torch.randn(3, 4), torch.tensor([0, 1]), ValueError, "target must have the shape"),
    (torch.randn(3, 4), torch.tensor([0, 1, 4]), ValueError, r"target must hold class indices in \[0, 4\)"),
    (torch.randn(3, 4), [0, 1, 2], TypeError, "target"),
])
def test_bad_inputs(logits, target, error, match):
    with pytest.raises(error, match=match):
        stablemax_cross_entropy(logits, target)


def test_bad_reduction_and_dim():
    with pytest.raises(ValueError, match="reduction"):
        stablemax_cross_entropy(torch.randn(2, 3), torch.tensor([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        StableMaxCrossEntropy(reduction="avg")
    with pytest.raises(ValueError, match="dim"):
        stablemax(torch.randn(2, 3), dim=2)
    with pytest.raises(TypeError, match="dim"):
        stablemax(torch.randn(2, 3), dim=1.0)
