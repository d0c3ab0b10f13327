import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grokkit.measures.weights import weight_entropy, weight_norm
from grokkit.models.mlp import MLP
from grokkit.models.onehot_mlp import OneHotPairLinear, OneHotPairMLP, onehot_pairs

P = 11


@pytest.fixture
def pairs() -> torch.Tensor:
    a, b = torch.meshgrid(torch.arange(P), torch.arange(P), indexing="ij")
    return torch.stack([a.ravel(), b.ravel()], dim=1)


def twin_models(hidden, bias, activation="relu", dtype=torch.float64):
    """A gathered model and the explicit one-hot matmul MLP with the same weights."""
    gathered = OneHotPairMLP(P, hidden, activation=activation, bias=bias).to(dtype)
    explicit = MLP(2 * P, P, hidden, activation=activation, bias=bias).to(dtype)
    explicit.load_state_dict(gathered.state_dict())
    return gathered, explicit


@pytest.mark.parametrize("hidden", [(16,), (16, 8), ()])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_equals_the_one_hot_matmul_forward_and_gradients(pairs, hidden, bias, dtype):
    gathered, explicit = twin_models(hidden, bias, dtype=dtype)
    with torch.no_grad():  # random biases, so that they take part
        for name, param in gathered.named_parameters():
            if name.endswith("bias"):
                param.normal_()
    explicit.load_state_dict(gathered.state_dict())
    targets = (pairs[:, 0] + pairs[:, 1]) % P
    out_gathered = gathered(pairs)
    out_explicit = explicit(onehot_pairs(pairs, P, dtype=dtype))
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == torch.float32 else {"rtol": 1e-12, "atol": 1e-12}
    torch.testing.assert_close(out_gathered, out_explicit, **tol)
    F.cross_entropy(out_gathered, targets).backward()
    F.cross_entropy(out_explicit, targets).backward()
    explicit_grads = dict(explicit.named_parameters())
    for name, param in gathered.named_parameters():
        torch.testing.assert_close(param.grad, explicit_grads[name].grad, **tol)


def test_weight_has_linear_shape_so_weight_measures_agree():
    gathered, explicit = twin_models((16,), bias=False)
    assert gathered.fc1.weight.shape == (16, 2 * P)
    assert isinstance(gathered.fc1, torch.nn.Linear)
    assert weight_norm(gathered) == pytest.approx(weight_norm(explicit))
    assert weight_entropy(gathered) == pytest.approx(weight_entropy(explicit))


def test_default_initialisation_is_that_of_linear_2p():
    torch.manual_seed(0)
    model = OneHotPairMLP(97, (250,))
    bound = 1 / np.sqrt(2 * 97)  # kaiming_uniform(a=√5) of nn.Linear gives U(−1/√fan_in, ·)
    weight = model.fc1.weight.detach()
    assert weight.abs().max() <= bound
    assert weight.std().item() == pytest.approx(bound / np.sqrt(3), rel=0.02)


def test_float_inputs_take_the_matmul_path(pairs):
    model = OneHotPairMLP(P, (16,), bias=True)
    onehot = onehot_pairs(pairs, P)
    torch.testing.assert_close(model(onehot), model(pairs))
    assert model(onehot + 0.1).shape == (len(pairs), P)


def test_clauw_layout_names_and_hidden_modules():
    model = OneHotPairMLP(97)
    assert [name for name, _ in model.named_children()] == ["fc1", "act1", "fc2"]
    assert [name for name, _ in model.named_parameters()] == ["fc1.weight", "fc2.weight"]
    assert model.fc2.weight.shape == (97, 250)
    assert list(model.hidden_modules()) == ["act1"]
    deep = OneHotPairMLP(P, (8, 6), activation="tanh", dropout=0.1, bias=True)
    assert [name for name, _ in deep.named_children()] == [
        "fc1", "act1", "dropout1", "fc2", "act2", "dropout2", "fc3",
    ]
    assert list(deep.hidden_modules()) == ["act1", "act2"]
    assert isinstance(deep.act1, torch.nn.Tanh)


def test_zero_last(pairs):
    model = OneHotPairMLP(P, (16,), zero_last=True, bias=True)
    assert torch.count_nonzero(model.fc2.weight) == 0
    assert torch.count_nonzero(model.fc2.bias) == 0
    assert torch.count_nonzero(model.fc1.weight) > 0
    assert torch.count_nonzero(model(pairs)) == 0


def test_input_noise_only_in_training_mode(pairs):
    model = OneHotPairMLP(P, (16,)).eval()
    with torch.no_grad():
        clean = model(pairs)
        model.input_noise_std = 0.2
        assert model.fc1.input_noise_std == 0.2
        torch.testing.assert_close(model(pairs), clean, rtol=0, atol=0)
        model.train()
        noisy_pairs, noisy_onehot = model(pairs), model(onehot_pairs(pairs, P))
    assert not torch.allclose(noisy_pairs, clean)
    assert not torch.allclose(noisy_onehot, clean)


def test_input_noise_on_pairs_has_the_distribution_of_noisy_onehots():
    """σ-noise on the 2p inputs adds W·ε to the first layer: per unit, std σ‖W_i‖."""
    torch.manual_seed(0)
    layer = OneHotPairLinear(P, 4, bias=False).train()
    layer.input_noise_std = 0.5
    X = torch.zeros(20000, 2, dtype=torch.long)
    with torch.no_grad():
        spread = (layer(X) - (layer.weight[:, 0] + layer.weight[:, P])).std(dim=0)
    expected = 0.5 * torch.linalg.vector_norm(layer.weight.detach(), dim=1)
    torch.testing.assert_close(spread, expected, rtol=0.03, atol=0)


def test_onehot_pairs_numpy_and_tensor():
    X = np.array([[0, 2], [4, 4]])
    onehot = onehot_pairs(X, 5)
    assert onehot.dtype == np.float32 and onehot.shape == (2, 10)
    np.testing.assert_array_equal(onehot.sum(axis=1), [2, 2])
    np.testing.assert_array_equal(np.flatnonzero(onehot[0]), [0, 7])
    np.testing.assert_array_equal(np.flatnonzero(onehot[1]), [4, 9])
    tensor = onehot_pairs(torch.as_tensor(X), 5, dtype=torch.float64)
    assert tensor.dtype == torch.float64
    np.testing.assert_array_equal(tensor.numpy(), onehot)


@pytest.mark.parametrize(
    ("X", "error", "message"),
    [
        ([[0, 5]], ValueError, r"X must hold integers in \[0, p\)"),
        ([[0, 1, 2]], ValueError, "X must have shape"),
        ([[0.0, 1.0]], TypeError, "X must hold integers"),
    ],
)
def test_onehot_pairs_bad_input(X, error, message):
    with pytest.raises(error, match=message):
        onehot_pairs(X, 5)
    with pytest.raises(error, match=message):
        onehot_pairs(torch.tensor(X), 5)


@pytest.mark.parametrize(
    ("X", "error", "message"),
    [
        (torch.tensor([[0, P]]), ValueError, r"X must hold integers in \[0, p\)"),
        (torch.tensor([[P + 1, 0]]), ValueError, r"X must hold integers in \[0, p\)"),
        (torch.tensor([[0, 1, 2]]), ValueError, "X must have shape"),
    ],
)
def test_forward_bad_input(X, error, message):
    with pytest.raises(error, match=message):
        OneHotPairMLP(P, (4,))(X)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"p": 1}, ValueError, "p must be in"),
        ({"p": 5.0}, TypeError, "p must be an int"),
        ({"p": 5, "hidden_layer_sizes": (0,)}, ValueError, "hidden_layer_sizes must be in"),
        ({"p": 5, "hidden_layer_sizes": 250}, TypeError, "hidden_layer_sizes must be a sequence"),
        ({"p": 5, "activation": "swish"}, ValueError, "activation must be one of"),
        ({"p": 5, "dropout": 1.0}, ValueError, "dropout must be in"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        OneHotPairMLP(**kwargs)


def test_token_embeddings_put_the_a_and_b_columns_of_fc1_side_by_side(pairs):
    model = OneHotPairMLP(P, (16,)).double()
    embeddings = model.token_embeddings()
    assert embeddings.shape == (P, 32)
    weight = model.fc1.weight
    assert torch.equal(embeddings[:, :16], weight[:, :P].t())
    assert torch.equal(embeddings[:, 16:], weight[:, P:].t())
    # The first layer's output on (a, b) is the sum of the two halves of rows a and b.
    first = model.fc1(pairs)
    expected = embeddings[pairs[:, 0], :16] + embeddings[pairs[:, 1], 16:]
    torch.testing.assert_close(first, expected, rtol=0, atol=1e-12)
