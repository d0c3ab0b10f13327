"""est.hooked(): grokkit's transformer as a TransformerLens (>= 4) HookedRootModule.

Skipped without TransformerLens (``pip install "grokkit[interp]"``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

transformer_lens = pytest.importorskip("transformer_lens", reason='needs pip install "grokkit[interp]"')
try:
    from transformer_lens import HookedRootModule, patching
except ImportError as exc:  # a TransformerLens without HookedRootModule at the top
    pytest.skip(f"TransformerLens lacks HookedRootModule/patching: {exc}", allow_module_level=True)

from grokkit import ModularTransformer  # noqa: E402
from grokkit.measures import capture  # noqa: E402

P = 7
TL_NAMES = ("hook_embed", "hook_pos_embed", "blocks.0.attn.hook_pattern", "blocks.0.attn.hook_z",
            "blocks.0.hook_resid_mid", "blocks.0.mlp.hook_pre", "blocks.0.mlp.hook_post",
            "blocks.0.hook_resid_post", "blocks.0.hook_resid_pre", "blocks.0.attn.hook_q",
            "blocks.0.attn.hook_k", "blocks.0.attn.hook_v", "blocks.0.attn.hook_attn_scores",
            "blocks.0.hook_attn_out", "blocks.0.hook_mlp_out")


@pytest.fixture(scope="module")
def data(one_torch_thread):
    X = np.array([(a, b) for a in range(P) for b in range(P)])
    return X, X.sum(1) % P


@pytest.fixture(scope="module")
def est(data):
    X, y = data
    return ModularTransformer(p=P, d_model=16, n_heads=2, d_mlp=32, max_epochs=20, lr=1e-2, dtype="float64",
                              random_state=0).fit(X, y)


def tolerance(reference: torch.Tensor, est: ModularTransformer) -> float:
    scale = max(1.0, float(reference.abs().max()))
    return (est.d_model + est.d_mlp) * torch.finfo(reference.dtype).eps * scale


def test_hook_points_carry_transformer_lens_names(est):
    model = est.hooked()
    assert isinstance(model, HookedRootModule)
    assert set(TL_NAMES) <= set(model.hook_dict)
    names = {name for name, _ in model.named_parameters()}
    assert {"embed.W_E", "pos_embed.W_pos", "blocks.0.attn.W_Q", "blocks.0.mlp.W_in", "unembed.W_U"} <= names


def test_run_with_cache_reads_what_grokkit_measures_read(est, data):
    X, _ = data
    model = est.hooked()
    logits, cache = model.run_with_cache(X)
    logits = logits.detach()
    grokkit_logits, activations = capture(est.module_, X)
    assert logits.shape == (len(X), 3, P)
    assert float((logits[:, -1] - grokkit_logits).abs().max()) <= tolerance(grokkit_logits, est)
    post = cache["blocks.0.mlp.hook_post"]
    assert post.shape == (len(X), 3, est.d_mlp)
    reference = activations["blocks.0.mlp.act"]
    assert float((post[:, -1] - reference).abs().max()) <= tolerance(reference, est)
    pattern = cache["blocks.0.attn.hook_pattern"]
    assert pattern.shape == (len(X), est.n_heads, 3, 3)
    torch.testing.assert_close(pattern.sum(-1), torch.ones_like(pattern.sum(-1)))
    assert not torch.count_nonzero(pattern.triu(1))  # causal
    torch.testing.assert_close(cache["blocks.0.hook_resid_post"][:, -1] @ model.unembed.W_U, logits[:, -1])


def test_parameters_are_shared_not_copied(est, data):
    X, y = data
    model = est.hooked()
    assert model.embed.W_E is est.module_.embed.W_E
    assert model.blocks[0].mlp.W_in is est.module_.blocks[0].mlp.W_in
    before = model(X)[:, -1].detach()
    with torch.no_grad():
        est.module_.unembed.W_U.mul_(2)
    try:
        torch.testing.assert_close(model(X)[:, -1].detach(), 2 * before)
    finally:
        with torch.no_grad():
            est.module_.unembed.W_U.div_(2)


def test_run_with_hooks_ablation_matches_grokkit_with_a_torch_hook(est, data):
    """Zero neuron 3 at the '=' position: TransformerLens's hook and a plain torch hook on grokkit's model."""
    X, _ = data
    model = est.hooked()

    def ablate(activation, hook):
        activation[:, -1, 3] = 0
        return activation

    hooked_logits = model.run_with_hooks(X, fwd_hooks=[("blocks.0.mlp.hook_post", ablate)])[:, -1].detach()
    assert not model.hook_dict["blocks.0.mlp.hook_post"].fwd_hooks  # removed after the run

    def torch_ablate(_module, _inputs, out):
        out = out.clone()
        out[:, 3] = 0
        return out

    handle = est.module_.blocks[0].mlp.act.register_forward_hook(torch_ablate)
    try:
        with torch.no_grad():
            grokkit_logits = est.module_(torch.as_tensor(X))
    finally:
        handle.remove()
    assert float((hooked_logits - grokkit_logits).abs().max()) <= tolerance(grokkit_logits, est)
    assert float((hooked_logits - model(X)[:, -1].detach()).abs().max()) > 0


def test_activation_patching_with_transformer_lens_helpers(est):
    """Patch each head's output at each position from a clean run (a, b) into a corrupted one (a, b').

    In a one-layer model read at '=' only the last position's attention can
    carry the operands there: patching positions 0 and 1 leaves the metric at
    its corrupted value, and patching every head at the last position restores
    the clean logits.
    """
    model = est.hooked()
    est.module_.train()  # grokkit's model in training mode leaves the hooked view in eval mode
    clean = model.tokens(np.array([(a, 1) for a in range(P)]))
    corrupted = model.tokens(np.array([(a, 4) for a in range(P)]))
    answers = (torch.arange(P) + 1) % P
    clean_logits, clean_cache = model.run_with_cache(clean)
    clean_logits, corrupted_logits = clean_logits.detach(), model(corrupted).detach()

    def metric(logits):
        return logits[:, -1].gather(1, answers[:, None]).mean()

    result = patching.get_act_patch_attn_head_out_by_pos(model, corrupted, clean_cache, metric)
    result = torch.as_tensor(result)
    assert result.shape == (1, 3, est.n_heads)
    baseline = float(metric(corrupted_logits))
    torch.testing.assert_close(result[0, :2], torch.full_like(result[0, :2], baseline))
    assert not torch.allclose(result[0, 2], torch.full_like(result[0, 2], baseline))

    def patch_last(z, hook):
        z[:, -1] = clean_cache[hook.name][:, -1]
        return z

    patched = model.run_with_hooks(corrupted, fwd_hooks=[("blocks.0.attn.hook_z", patch_last)]).detach()
    assert float((patched[:, -1] - clean_logits[:, -1]).abs().max()) <= tolerance(clean_logits, est)


def test_layernorm_two_layer_model(data):
    X, y = data
    est = ModularTransformer(p=P, d_model=16, n_heads=2, d_mlp=32, n_layers=2, use_layernorm=True, act="gelu",
                             max_epochs=3, dtype="float64", random_state=0).fit(X, y)
    model = est.hooked()
    logits, cache = model.run_with_cache(X)
    logits = logits.detach()
    grokkit_logits, activations = capture(est.module_, X)
    assert float((logits[:, -1] - grokkit_logits).abs().max()) <= tolerance(grokkit_logits, est)
    reference = activations["blocks.1.mlp.act"]
    hook_post = cache["blocks.1.mlp.hook_post"][:, -1]
    assert float((hook_post - reference).abs().max()) <= tolerance(reference, est)
    assert {"blocks.1.ln2.hook_scale", "ln_final.hook_normalized"} <= set(cache.keys())


def test_tokens_are_checked(est):
    model = est.hooked()
    with pytest.raises(ValueError, match="last token must be '='"):
        model(torch.tensor([[1, 2, 3]]))
    with pytest.raises(ValueError, match=r"\[0, p\)"):
        model(torch.tensor([[1, 9]]))
    torch.testing.assert_close(model(torch.tensor([[1, 2]])), model(torch.tensor([[1, 2, P]])))
