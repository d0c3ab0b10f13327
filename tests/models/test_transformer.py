import math

import pytest
import torch
import torch.nn.functional as F

from grokkit.models.transformer import ModularTransformerNet

P = 7


def small(**kwargs) -> ModularTransformerNet:
    params = {"p": P, "d_model": 16, "n_heads": 2, "d_mlp": 24}
    params.update(kwargs)
    return ModularTransformerNet(**params)


@pytest.fixture
def pairs() -> torch.Tensor:
    a, b = torch.meshgrid(torch.arange(P), torch.arange(P), indexing="ij")
    return torch.stack([a.ravel(), b.ravel()], dim=1)


def reference_logits(model: ModularTransformerNet, X: torch.Tensor) -> torch.Tensor:
    """Full-sequence forward written out head by head, position by position."""
    tokens = torch.cat([X, torch.full((len(X), 1), model.p)], dim=1)
    residual = model.embed.W_E[tokens] + model.pos_embed.W_pos
    n_ctx = residual.shape[1]
    for block in model.blocks:
        attn = block.attn
        normed = block.ln1(residual)
        out = torch.zeros_like(residual)
        for h in range(attn.W_Q.shape[0]):
            q, k, v = (normed @ attn.W_Q[h], normed @ attn.W_K[h], normed @ attn.W_V[h])
            for i in range(n_ctx):
                scores = torch.stack([(q[:, i] * k[:, j]).sum(-1) for j in range(i + 1)], 1)
                weights = torch.softmax(scores / math.sqrt(attn.W_Q.shape[2]), dim=1)
                mixed = sum(weights[:, j : j + 1] * v[:, j] for j in range(i + 1))
                out[:, i] += mixed @ attn.W_O[h]
        residual = residual + out
        mlp = block.mlp
        hidden = mlp.act(block.ln2(residual) @ mlp.W_in + mlp.b_in)
        residual = residual + hidden @ mlp.W_out + mlp.b_out
    return model.ln_final(residual[:, -1]) @ model.unembed.W_U


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"n_layers": 2}, {"use_layernorm": True}, {"d_head": 5, "n_heads": 3}, {"act": "gelu"}],
)
def test_matches_the_full_sequence_computation(pairs, kwargs):
    torch.manual_seed(0)
    model = small(**kwargs).double()
    with torch.no_grad():
        for block in model.blocks:  # non-zero biases, so that they are exercised too
            block.mlp.b_in.normal_()
            block.mlp.b_out.normal_()
        logits = model(pairs)
        expected = reference_logits(model, pairs)
    assert logits.shape == (len(pairs), P)
    torch.testing.assert_close(logits, expected, rtol=1e-10, atol=1e-10)


def test_output_shape_dtype_and_parameter_names():
    model = ModularTransformerNet()  # Omnigrok / Nanda defaults
    shapes = {name: tuple(param.shape) for name, param in model.named_parameters()}
    assert shapes == {
        "embed.W_E": (114, 128),
        "pos_embed.W_pos": (3, 128),
        "blocks.0.attn.W_Q": (4, 128, 32),
        "blocks.0.attn.W_K": (4, 128, 32),
        "blocks.0.attn.W_V": (4, 128, 32),
        "blocks.0.attn.W_O": (4, 32, 128),
        "blocks.0.mlp.W_in": (128, 512),
        "blocks.0.mlp.b_in": (512,),
        "blocks.0.mlp.W_out": (512, 128),
        "blocks.0.mlp.b_out": (128,),
        "unembed.W_U": (128, 113),
    }
    logits = model(torch.tensor([[0, 0], [112, 5]]))
    assert logits.shape == (2, 113) and logits.dtype == torch.float32


def test_nanda_initialisation():
    torch.manual_seed(0)
    model = ModularTransformerNet()
    for name, param in model.named_parameters():
        if name.startswith("blocks.0.mlp.b_"):
            assert torch.count_nonzero(param) == 0
            continue
        expected = 1 / math.sqrt(114 if name == "unembed.W_U" else 128)
        assert param.std().item() == pytest.approx(expected, rel=0.1), name
        assert abs(param.mean().item()) < 0.1 * expected, name


def test_equals_token_is_appended():
    torch.manual_seed(0)
    model = small()
    assert model.embed.W_E.shape[0] == P + 1
    X = torch.tensor([[1, 2]])
    with torch.no_grad():
        before = model(X)
        model.embed.W_E[P] += 1.0  # the "=" row is read at the last position
        after = model(X)
    assert not torch.allclose(before, after)


def test_attention_is_causal():
    """With two blocks the first block runs on every position: changing b (position 1)
    must leave the first block's activations at position 0 (a) untouched, and
    change those at positions 1 and 2."""
    torch.manual_seed(0)
    model = small(n_layers=2)
    store = {}
    model.blocks[0].mlp.act.register_forward_hook(lambda m, i, o: store.update(h=o))
    X = torch.tensor([[3, 1], [3, 4]])
    with torch.no_grad():
        model(X)
    hidden = store["h"]
    assert hidden.shape == (2, 3, 24)
    torch.testing.assert_close(hidden[0, 0], hidden[1, 0], rtol=0, atol=0)
    assert not torch.allclose(hidden[0, 1], hidden[1, 1])
    assert not torch.allclose(hidden[0, 2], hidden[1, 2])


def test_hidden_modules_are_the_mlp_activations():
    model = small(n_layers=2)
    modules = model.hidden_modules()
    assert list(modules) == ["blocks.0.mlp.act", "blocks.1.mlp.act"]
    assert modules["blocks.1.mlp.act"] is model.blocks[1].mlp.act
    store = {}
    for name, module in modules.items():
        module.register_forward_hook(lambda m, i, o, name=name: store.update({name: o}))
    with torch.no_grad():
        model(torch.tensor([[1, 2], [3, 4], [5, 6]]))
    assert store["blocks.0.mlp.act"].shape == (3, 3, 24)  # every position
    assert store["blocks.1.mlp.act"].shape == (3, 24)  # the read-out position
    assert (store["blocks.1.mlp.act"] >= 0).all()


def test_gradients_reach_every_parameter(pairs):
    torch.manual_seed(0)
    model = small()
    targets = (pairs[:, 0] + pairs[:, 1]) % P
    F.cross_entropy(model(pairs), targets).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


def test_a_few_steps_lower_the_training_loss(pairs):
    torch.manual_seed(0)
    model = small()
    targets = (pairs[:, 0] + pairs[:, 1]) % P
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(pairs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_embed_noise_only_in_training_mode(pairs):
    torch.manual_seed(0)
    model = small()
    model.eval()
    with torch.no_grad():
        clean = model(pairs)
        model.input_noise_std = 0.5
        torch.testing.assert_close(model(pairs), clean, rtol=0, atol=0)  # eval: no noise
        model.train()
        noisy_1, noisy_2 = model(pairs), model(pairs)
        model.input_noise_std = 0.0
        torch.testing.assert_close(model(pairs), clean)  # train, σ = 0: no noise
    assert not torch.allclose(noisy_1, clean)
    assert not torch.allclose(noisy_1, noisy_2)


def test_embed_noise_has_the_requested_scale():
    torch.manual_seed(0)
    model = small().train()
    model.input_noise_std = 0.3
    store = {}
    model.pos_embed.register_forward_hook(lambda m, i, o: store.update(x=i[0]))
    X = torch.zeros(20000, 2, dtype=torch.long)
    with torch.no_grad():
        model(X)
    noise = store["x"][:, 0] - model.embed.W_E[0]
    assert noise.std().item() == pytest.approx(0.3, rel=0.02)


def test_float64_and_integer_dtypes(pairs):
    model = small().double()
    assert model(pairs.int()).dtype == torch.float64


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"p": 1}, ValueError, "p must be in"),
        ({"p": 7.0}, TypeError, "p must be an int"),
        ({"d_model": 10, "n_heads": 4}, ValueError, "d_model must be divisible by n_heads"),
        ({"d_head": 0}, ValueError, "d_head must be in"),
        ({"n_layers": 0}, ValueError, "n_layers must be in"),
        ({"n_ctx": 1}, ValueError, "n_ctx must be in"),
        ({"d_mlp": 0}, ValueError, "d_mlp must be in"),
        ({"act": "swish"}, ValueError, "act must be one of"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        small(**kwargs)


@pytest.mark.parametrize(
    ("X", "error", "message"),
    [
        (torch.tensor([[1, 2, 3]]), ValueError, r"X must have shape \(n_samples, 2\)"),
        (torch.tensor([1, 2]), ValueError, r"X must have shape \(n_samples, 2\)"),
        (torch.tensor([[1, P]]), ValueError, r"X must hold integers in \[0, p\)"),
        (torch.tensor([[-1, 0]]), ValueError, r"X must hold integers in \[0, p\)"),
        (torch.tensor([[1.0, 2.0]]), TypeError, "X must hold integers"),
        ([[1, 2]], TypeError, "X must be a torch.Tensor"),
    ],
)
def test_bad_inputs(X, error, message):
    with pytest.raises(error, match=message):
        small()(X)


def test_longer_context_takes_more_operands():
    model = small(n_ctx=4)
    assert model(torch.tensor([[1, 2, 3]])).shape == (1, P)
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 3\)"):
        model(torch.tensor([[1, 2]]))


def test_token_embeddings_are_the_number_rows_of_W_E_and_track_the_parameter():
    model = small()
    embeddings = model.token_embeddings()
    assert embeddings.shape == (P, 16)
    assert torch.equal(embeddings, model.embed.W_E[:P])
    with torch.no_grad():
        model.embed.W_E[3, 0] = 42.0
        model.embed.W_E[P, :] = -1.0  # the '=' token is not a number token
    assert model.token_embeddings()[3, 0] == 42.0
    assert not (model.token_embeddings() == -1.0).all(dim=1).any()
