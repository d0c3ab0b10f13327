import numpy as np
import pytest
import torch
from torch import nn

from grokkit.measures import circuit_complexity
from grokkit.measures._capture import capture
from grokkit.models import MLP
from grokkit.models.onehot_mlp import OneHotPairMLP


def _kl(p_logits: np.ndarray, q_logits: np.ndarray) -> float:
    def log_softmax(z):
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    lp, lq = log_softmax(p_logits), log_softmax(q_logits)
    return float((np.exp(lp) * (lp - lq)).sum(axis=1).mean())


def test_zeroing_all_weights_leaves_the_bias_logits():
    torch.manual_seed(1)
    layer = nn.Linear(5, 4)
    X = torch.randn(30, 5)
    got = circuit_complexity(layer, X, fraction=1.0, layer="weight")
    with torch.no_grad():
        full = layer(X).numpy()
        bias_only = np.broadcast_to(layer.bias.numpy(), full.shape)
    assert got == pytest.approx(_kl(full, bias_only), rel=1e-6)


def test_ablation_matches_an_independent_masked_forward():
    # float64 end to end: the KL of two nearby float32 forwards carries a relative
    # rounding error of ~eps32 / KL (~1e-5 here), which differs between CPUs
    torch.manual_seed(2)
    net = MLP(6, 3, (8,)).double()
    X = torch.randn(25, 6, dtype=torch.float64)
    got = circuit_complexity(net, X, fraction=0.3, layer="fc1", random_state=7)
    mask = torch.rand(net.fc1.weight.shape, generator=torch.Generator().manual_seed(7)) >= 0.3
    with torch.no_grad():
        full = net(X).numpy()
        w = net.fc1.weight * mask
        hidden = torch.relu(X @ w.T + net.fc1.bias)
        ablated = net.fc2(hidden).numpy()
    assert got == pytest.approx(_kl(full, ablated), rel=1e-9)


def test_module_is_left_untouched_and_mask_is_seeded():
    net = MLP(6, 3, (8,))
    X = torch.randn(25, 6)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    a = circuit_complexity(net, X, random_state=3)
    b = circuit_complexity(net, X, random_state=3)
    c = circuit_complexity(net, X, random_state=4)
    assert a == b and a != c
    assert set(a) == {"fc1", "fc2"}
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key])


@pytest.mark.parametrize("kwargs, match", [
    ({"fraction": 0.0}, "fraction"),
    ({"fraction": 1.5}, "fraction"),
    ({"layer": "fc9"}, "layer"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        circuit_complexity(MLP(3, 2, (4,)), torch.randn(5, 3), **kwargs)


@pytest.mark.parametrize("make", [
    lambda: MLP(6, 4, (16, 12)),
    lambda: OneHotPairMLP(p=7, hidden_layer_sizes=(20,)),
])
def test_starting_from_the_captured_activations_gives_the_same_values(make):
    torch.manual_seed(0)
    model = make()
    X = torch.randint(0, 7, (50, 2)) if isinstance(model, OneHotPairMLP) else torch.randn(50, 6)
    logits, activations = capture(model, X)
    calls = []
    first = model.fc1
    first.register_forward_hook(lambda *args: calls.append(1))
    shortcut = circuit_complexity(model, X, logits=logits, activations=activations)
    assert len(calls) == 1  # only fc1's own ablation re-runs the first layer
    full = circuit_complexity(model, X, logits=logits)
    assert len(calls) == 1 + len(full)
    assert shortcut.keys() == full.keys()
    for key in full:
        assert shortcut[key] == pytest.approx(full[key], rel=1e-9, abs=1e-15)
