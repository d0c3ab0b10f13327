import pytest
import torch

from grokkit.models import MLP
from grokkit.models.mlp import make_activation


def test_layer_names_shapes_and_hidden_modules():
    net = MLP(10, 3, (7, 5), activation="tanh", dropout=0.1)
    names = [n for n, _ in net.named_children()]
    assert names == ["fc1", "act1", "dropout1", "fc2", "act2", "dropout2", "fc3"]
    assert list(net.hidden_modules()) == ["act1", "act2"]
    assert isinstance(net.act1, torch.nn.Tanh)
    assert net(torch.randn(4, 10)).shape == (4, 3)


def test_zero_last_and_no_bias():
    net = MLP(6, 4, (8,), bias=False, zero_last=True)
    assert net.fc1.bias is None
    assert torch.count_nonzero(net.fc2.weight) == 0
    assert torch.count_nonzero(net(torch.randn(3, 6))) == 0
    assert torch.count_nonzero(net.fc1.weight) > 0


def test_linear_model_when_no_hidden_layers():
    net = MLP(3, 2, ())
    assert [n for n, _ in net.named_children()] == ["fc1"] and net.hidden_modules() == {}


def test_unknown_activation():
    with pytest.raises(ValueError, match="activation"):
        make_activation("swish")
