"""TransformerLens 3.x ``HookedTransformer`` checkpoints <-> ModularTransformerNet, with no TransformerLens.

``tests/fixtures/hooked_p7.pt`` was made once by TransformerLens 3.9 itself
(``tests/fixtures/make_hooked_fixture.py``): random float64 weights, the state
dict, the full config and TransformerLens's own logits on all p² inputs.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from grokkit.models.hooked_format import (
    hooked_config,
    net_params_from_hooked,
    state_dict_from_hooked,
    state_dict_to_hooked,
)
from grokkit.models.transformer import ModularTransformerNet

FIXTURE = Path(__file__).parents[1] / "fixtures" / "hooked_p7.pt"


@pytest.fixture(scope="module")
def hooked() -> dict:
    return torch.load(FIXTURE, weights_only=True)


def tolerance(reference: torch.Tensor, config: dict) -> float:
    """Float rounding of the forward pass: eps per summed term, times the logits' scale."""
    terms = config["d_model"] + config["d_mlp"]
    return terms * torch.finfo(reference.dtype).eps * max(1.0, float(reference.abs().max()))


def net_from(entry: dict) -> ModularTransformerNet:
    params = net_params_from_hooked(entry["config"])
    net = ModularTransformerNet(**{k: v for k, v in params.items() if k != "dtype"}).to(params["dtype"])
    net.load_state_dict(state_dict_from_hooked(entry["state_dict"], entry["config"]))
    return net.eval()


@pytest.mark.parametrize("name", ["nanda", "layernorm_gelu_2layers"])
def test_fixture_logits_are_transformer_lens_logits(hooked, name):
    entry = hooked[name]
    assert hooked["transformer_lens_version"].startswith("3.")
    net = net_from(entry)
    with torch.no_grad():
        logits = net(entry["tokens"][:, :2])
    assert logits.dtype == torch.float64
    diff = float((logits - entry["logits"]).abs().max())
    assert diff <= tolerance(entry["logits"], entry["config"])


def test_config_object_with_attributes_reads_as_the_dict(hooked):
    config = hooked["nanda"]["config"]
    assert net_params_from_hooked(SimpleNamespace(**config)) == net_params_from_hooked(config)
    assert net_params_from_hooked(config) == {"p": 7, "d_model": 32, "n_heads": 4, "d_mlp": 64, "n_layers": 1,
                                              "act": "relu", "use_layernorm": False, "dtype": torch.float64}


@pytest.mark.parametrize("name", ["nanda", "layernorm_gelu_2layers"])
def test_round_trip_is_exact(hooked, name):
    entry = hooked[name]
    net = net_from(entry)
    state, config = state_dict_to_hooked(net), hooked_config(net)
    # every tensor TransformerLens 3.x wrote is written back (its mask buffer is lazy, shape (0, 0) there)
    assert set(state) == set(entry["state_dict"])
    for key, tensor in entry["state_dict"].items():
        if not key.endswith(".mask"):
            assert torch.equal(state[key].to(tensor.dtype), tensor), key
    assert {k: entry["config"][k] for k in config} == config
    back = ModularTransformerNet(**{k: v for k, v in net_params_from_hooked(config).items() if k != "dtype"})
    back = back.to(torch.float64)
    back.load_state_dict(state_dict_from_hooked(state, config))
    for key, tensor in net.state_dict().items():
        assert torch.equal(back.state_dict()[key], tensor), key


def test_written_buffers_are_what_transformer_lens_registers(hooked):
    state = state_dict_to_hooked(net_from(hooked["nanda"]))
    assert torch.equal(state["blocks.0.attn.mask"], torch.ones(3, 3, dtype=torch.bool).tril())
    assert state["blocks.0.attn.IGNORE"].item() == float("-inf")
    for name in ("b_Q", "b_K", "b_V", "b_O"):
        assert not torch.count_nonzero(state[f"blocks.0.attn.{name}"])
    assert state["unembed.b_U"].shape == (7,) and not torch.count_nonzero(state["unembed.b_U"])


def test_to_hooked_copies(hooked):
    net = net_from(hooked["nanda"])
    state = state_dict_to_hooked(net)
    state["embed.W_E"].zero_()
    assert torch.count_nonzero(net.embed.W_E)


@pytest.mark.parametrize(("change", "named"), [
    ({"normalization_type": "LNPre"}, "normalization_type is 'LNPre'"),
    ({"normalization_type": "RMS"}, "normalization_type is 'RMS'"),
    ({"act_fn": "gelu_new"}, "act_fn is 'gelu_new'"),
    ({"act_fn": "silu"}, "act_fn is 'silu'"),
    ({"n_ctx": 4}, "n_ctx is 4"),
    ({"d_vocab_out": 8}, "d_vocab_out is 8"),
    ({"d_vocab_out": -1}, "d_vocab_out is 8"),
    ({"d_head": 16}, "d_head is 16"),
    ({"attn_only": True}, "attn_only is True"),
    ({"positional_embedding_type": "rotary"}, "positional_embedding_type is 'rotary'"),
    ({"attention_dir": "bidirectional"}, "attention_dir is 'bidirectional'"),
    ({"parallel_attn_mlp": True}, "parallel_attn_mlp is True"),
    ({"n_key_value_heads": 2}, "n_key_value_heads is 2"),
    ({"output_logits_soft_cap": 30.0}, "output_logits_soft_cap is 30.0"),
    ({"attn_scale": 1.0}, "attn_scale is 1.0"),
    ({"normalization_type": "LN", "eps": 1e-6}, "eps is 1e-06"),
])
def test_configs_grokkit_cannot_hold_are_refused_by_name(hooked, change, named):
    config = {**hooked["nanda"]["config"], **change}
    with pytest.raises(ValueError, match="cannot hold this HookedTransformer") as info:
        net_params_from_hooked(config)
    assert named in str(info.value)


def test_several_differences_are_all_named(hooked):
    config = {**hooked["nanda"]["config"], "normalization_type": "RMSPre", "act_fn": "solu_ln", "n_ctx": 5}
    with pytest.raises(ValueError) as info:
        net_params_from_hooked(config)
    for part in ("normalization_type", "act_fn", "n_ctx"):
        assert part in str(info.value)


def test_config_must_be_a_config(hooked):
    with pytest.raises(TypeError, match="config must be a dict"):
        net_params_from_hooked(3)
    config = dict(hooked["nanda"]["config"])
    del config["d_mlp"]
    with pytest.raises(ValueError, match="config lacks d_mlp"):
        net_params_from_hooked(config)


def test_non_zero_attention_bias_is_refused_by_name(hooked):
    entry = hooked["nanda"]
    state = dict(entry["state_dict"])
    state["blocks.0.attn.b_Q"] = state["blocks.0.attn.b_Q"] + 0.5
    with pytest.raises(ValueError, match=r"blocks\.0\.attn\.b_Q is non-zero"):
        state_dict_from_hooked(state, entry["config"])
    state = dict(entry["state_dict"])
    state["unembed.b_U"] = state["unembed.b_U"] + 1.0
    with pytest.raises(ValueError, match=r"unembed\.b_U is non-zero"):
        state_dict_from_hooked(state, entry["config"])


def test_state_dict_parts_that_differ_are_named(hooked):
    entry = hooked["nanda"]
    state = dict(entry["state_dict"])
    del state["blocks.0.mlp.W_in"]
    with pytest.raises(ValueError, match=r"blocks\.0\.mlp\.W_in is missing"):
        state_dict_from_hooked(state, entry["config"])
    state = {**entry["state_dict"], "embed.W_E": torch.zeros(9, 32, dtype=torch.float64)}
    with pytest.raises(ValueError, match=r"embed\.W_E has shape \(9, 32\) where the config implies \(8, 32"):
        state_dict_from_hooked(state, entry["config"])
    state = {**entry["state_dict"], "blocks.0.attn.mask": torch.ones(3, 3, dtype=torch.bool)}
    with pytest.raises(ValueError, match="not the causal"):
        state_dict_from_hooked(state, entry["config"])
    state = {**entry["state_dict"], "blocks.0.ln1.w": torch.ones(32, dtype=torch.float64)}
    with pytest.raises(ValueError, match=r"blocks\.0\.ln1\.w is not a part of grokkit's model"):
        state_dict_from_hooked(state, entry["config"])


def test_a_two_layer_state_dict_under_a_one_layer_config_is_refused(hooked):
    two = hooked["layernorm_gelu_2layers"]
    config = {**two["config"], "n_layers": 1}
    with pytest.raises(ValueError, match=r"blocks\.1\.attn\.W_Q belongs to a layer beyond n_layers = 1"):
        state_dict_from_hooked(two["state_dict"], config)


def test_an_activation_transformer_lens_lacks_cannot_be_written():
    with pytest.raises(ValueError, match="Tanh"):
        hooked_config(ModularTransformerNet(p=5, d_model=8, n_heads=2, d_mlp=8, act="tanh"))
