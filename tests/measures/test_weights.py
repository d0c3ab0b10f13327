import math

import numpy as np
import pytest
import torch
from torch import nn

from grokkit.measures import weight_entropy, weight_norm
from grokkit.models import MLP


def test_weight_entropy_matches_golechha_closed_form_at_uniform_init():
    m, n, a = 300, 200, 0.05
    layer = nn.Linear(n, m, bias=False)
    with torch.no_grad():
        layer.weight.uniform_(-a, a)
    expected = m * n * (a / 4 - (a / 2) * math.log(a))  # Golechha App. B
    got = weight_entropy(layer)["total"]
    assert got == pytest.approx(expected, rel=0.01)


def test_weight_entropy_at_pytorch_default_init_matches_closed_form():
    layer = nn.Linear(200, 200)  # kaiming-uniform: U(-1/sqrt(200), 1/sqrt(200))
    a = 1 / math.sqrt(200)
    expected = 200 * 200 * (a / 4 - (a / 2) * math.log(a))
    assert weight_entropy(layer)["weight"] == pytest.approx(expected, rel=0.01)


def test_weight_entropy_exact_values_and_total():
    net = MLP(2, 1, (2,))
    with torch.no_grad():
        net.fc1.weight.copy_(torch.tensor([[0.5, -0.25], [0.0, 1.0]]))
        net.fc2.weight.copy_(torch.tensor([[2.0, 0.1]]))
    out = weight_entropy(net)
    fc1 = -(0.5 * math.log(0.5) + 0.25 * math.log(0.25))  # 0 log 0 = 0 and 1 log 1 = 0
    fc2 = -(2 * math.log(2) + 0.1 * math.log(0.1))
    assert out["fc1"] == pytest.approx(fc1)
    assert out["fc2"] == pytest.approx(fc2)
    assert out["total"] == pytest.approx(fc1 + fc2)
    assert set(out) == {"total", "fc1", "fc2"}  # biases are not weight matrices


def test_weight_norm_total_and_per_layer_match_flattened_parameters():
    net = MLP(7, 3, (5, 4))
    flat = torch.cat([p.detach().ravel() for p in net.parameters()])
    out = weight_norm(net)
    assert out["total"] == pytest.approx(float(flat.norm()), rel=1e-6)
    fc2 = torch.cat([net.fc2.weight.detach().ravel(), net.fc2.bias.detach().ravel()])
    assert out["fc2"] == pytest.approx(float(fc2.norm()), rel=1e-6)
    squares = sum(v**2 for k, v in out.items() if k != "total")
    assert math.sqrt(squares) == pytest.approx(out["total"], rel=1e-6)


def test_alpha_scaling_scales_the_weight_norm():
    from grokkit.models import scale_parameters_

    net = MLP(4, 2, (8,))
    before = weight_norm(net)["total"]
    scale_parameters_(net, 8.0)
    assert weight_norm(net)["total"] == pytest.approx(8 * before, rel=1e-6)
    assert np.isfinite(weight_entropy(net)["total"])
