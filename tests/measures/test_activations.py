import pytest
import torch

from grokkit.measures import activation_sparsity, capture
from grokkit.models import MLP


def test_sparsity_counts_activations_below_threshold_exactly():
    acts = {"act1": torch.tensor([[0.0, 0.05, 0.2], [1.0, 0.1, -0.3]])}
    out = activation_sparsity(None, None, threshold=0.1, activations=acts)
    # below 0.1: 0.0, 0.05, -0.3 -> 3 of 6 (0.1 itself is not below)
    assert out["act1"] == pytest.approx(0.5)
    assert out["total"] == pytest.approx(0.5)


def test_sparsity_from_module_matches_a_manual_forward():
    torch.manual_seed(0)
    net = MLP(6, 3, (10, 7))
    X = torch.randn(40, 6)
    with torch.no_grad():
        h1 = torch.relu(net.fc1(X))
        h2 = torch.relu(net.fc2(h1))
    out = activation_sparsity(net, X, threshold=0.2)
    assert out["act1"] == pytest.approx(float((h1 < 0.2).float().mean()))
    assert out["act2"] == pytest.approx(float((h2 < 0.2).float().mean()))
    pooled = ((h1 < 0.2).sum() + (h2 < 0.2).sum()) / (h1.numel() + h2.numel())
    assert out["total"] == pytest.approx(float(pooled))


def test_capture_returns_outputs_and_hidden_activations_in_eval_mode():
    net = MLP(4, 2, (5,), dropout=0.5)
    net.train()
    X = torch.randn(8, 4)
    logits, acts = capture(net, X)
    with torch.no_grad():
        net.eval()
        expected = net(X)
    assert torch.allclose(logits, expected)
    assert set(acts) == {"act1"} and acts["act1"].shape == (8, 5)


def test_sparsity_without_hidden_layers_is_an_error():
    with pytest.raises(ValueError, match="no hidden activations"):
        activation_sparsity(torch.nn.Linear(3, 2), torch.randn(4, 3))
