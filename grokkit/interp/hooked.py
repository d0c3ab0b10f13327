"""grokkit's :class:`~grokkit.models.transformer.ModularTransformerNet` as a TransformerLens HookedRootModule.

TransformerLens 4 removed ``HookedTransformer`` and keeps ``HookedRootModule``
with ``HookPoint`` as the supported way to hook any ``nn.Module``. This module
builds one over a grokkit model: the same parameters (shared ``Parameter``
objects), the forward pass of Nanda et al.'s transformer at every position, and
a ``HookPoint`` at each place TransformerLens's ``HookedTransformer`` has one,
under the same name, so ``run_with_cache``, ``run_with_hooks`` and
``transformer_lens.patching`` work as on a ``HookedTransformer``.

Importing this module imports TransformerLens (>= 4; ``pip install "grokkit[interp]"``).
"""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

import torch
from torch import nn
from transformer_lens import HookedRootModule
from transformer_lens.hook_points import HookPoint

from grokkit.models.hooked_format import hooked_config
from grokkit.models.transformer import ModularTransformerNet, check_pairs


class _Embed(nn.Module):
    def __init__(self, embed: nn.Module) -> None:
        super().__init__()
        self.W_E = embed.W_E  # the Parameter itself: shared, not copied

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return nn.functional.embedding(tokens, self.W_E)


class _PosEmbed(nn.Module):
    def __init__(self, pos_embed: nn.Module) -> None:
        super().__init__()
        self.W_pos = pos_embed.W_pos

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.W_pos[: tokens.shape[1]].expand(tokens.shape[0], -1, -1)


class _LayerNorm(nn.Module):
    """TransformerLens's ``LayerNorm``: ``hook_scale`` is √(var + eps), ``hook_normalized`` the output."""

    def __init__(self, norm: nn.LayerNorm) -> None:
        super().__init__()
        self.w, self.b, self.eps = norm.weight, norm.bias, norm.eps
        self.hook_scale = HookPoint()
        self.hook_normalized = HookPoint()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x - x.mean(-1, keepdim=True)
        scale = self.hook_scale((x.pow(2).mean(-1, keepdim=True) + self.eps).sqrt())
        return self.hook_normalized(x / scale * self.w + self.b)


class _Attention(nn.Module):
    def __init__(self, attn: nn.Module) -> None:
        super().__init__()
        self.W_Q, self.W_K, self.W_V, self.W_O = attn.W_Q, attn.W_K, attn.W_V, attn.W_O
        self.scale = attn.scale
        for name in ("hook_q", "hook_k", "hook_v", "hook_attn_scores", "hook_pattern", "hook_z"):
            setattr(self, name, HookPoint())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self.hook_q(torch.einsum("npd,hde->nphe", x, self.W_Q))
        k = self.hook_k(torch.einsum("npd,hde->nphe", x, self.W_K))
        v = self.hook_v(torch.einsum("npd,hde->nphe", x, self.W_V))
        scores = torch.einsum("nqhe,nkhe->nhqk", q, k) * self.scale
        n_ctx = x.shape[1]
        future = torch.ones(n_ctx, n_ctx, dtype=torch.bool, device=x.device).triu(1)
        scores = self.hook_attn_scores(scores.masked_fill(future, float("-inf")))
        pattern = self.hook_pattern(scores.softmax(dim=-1))
        z = self.hook_z(torch.einsum("nhqk,nkhe->nqhe", pattern, v))
        return torch.einsum("nqhe,hed->nqd", z, self.W_O)


class _MLP(nn.Module):
    def __init__(self, mlp: nn.Module) -> None:
        super().__init__()
        self.W_in, self.b_in, self.W_out, self.b_out = mlp.W_in, mlp.b_in, mlp.W_out, mlp.b_out
        # a copy of the parameter-free activation: sharing the module would share its train/eval flag
        self.act = copy.deepcopy(mlp.act)
        self.hook_pre = HookPoint()
        self.hook_post = HookPoint()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        post = self.hook_post(self.act(self.hook_pre(x @ self.W_in + self.b_in)))
        return post @ self.W_out + self.b_out


class _Block(nn.Module):
    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        layernorm = isinstance(block.ln1, nn.LayerNorm)
        self.ln1 = _LayerNorm(block.ln1) if layernorm else nn.Identity()
        self.attn = _Attention(block.attn)
        self.ln2 = _LayerNorm(block.ln2) if layernorm else nn.Identity()
        self.mlp = _MLP(block.mlp)
        for name in ("hook_resid_pre", "hook_attn_out", "hook_resid_mid", "hook_mlp_out", "hook_resid_post"):
            setattr(self, name, HookPoint())

    def forward(self, resid_pre: torch.Tensor) -> torch.Tensor:
        resid_pre = self.hook_resid_pre(resid_pre)
        resid_mid = self.hook_resid_mid(resid_pre + self.hook_attn_out(self.attn(self.ln1(resid_pre))))
        return self.hook_resid_post(resid_mid + self.hook_mlp_out(self.mlp(self.ln2(resid_mid))))


class _Unembed(nn.Module):
    def __init__(self, unembed: nn.Module) -> None:
        super().__init__()
        self.W_U = unembed.W_U

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.W_U


class HookedModularTransformer(HookedRootModule):
    r"""A :class:`ModularTransformerNet` with TransformerLens's hook points, over the same parameters.

    The forward pass is Nanda et al.'s one-layer (or ``n_layers``) transformer
    computed at every position, as TransformerLens's ``HookedTransformer``
    computes it:

    .. math::
        x_0 = W_E[t] + W_{pos},\quad
        x_{mid} = x_0 + \sum_h \operatorname{softmax}\!\Big(
        \frac{(x_0 W_Q^h)(x_0 W_K^h)^\top}{\sqrt{d_{head}}}
        + M\Big)\, x_0 W_V^h W_O^h,\quad
        x_{post} = x_{mid} + \operatorname{act}(x_{mid} W_{in} + b_{in}) W_{out} + b_{out}

    (``M`` the causal mask, pre-LayerNorm before each sublayer and the
    unembedding when the model has it), logits ``x_post W_U``. Its hook points
    and their shapes are TransformerLens's: ``hook_embed`` and
    ``hook_pos_embed`` (batch, pos, d_model); per block ``blocks.{i}.`` +
    ``hook_resid_pre``, ``attn.hook_q``/``hook_k``/``hook_v``/``hook_z``
    (batch, pos, head, d_head), ``attn.hook_attn_scores`` (masked, ``-inf``
    above the diagonal) and ``attn.hook_pattern`` (batch, head, query, key),
    ``hook_attn_out``, ``hook_resid_mid``, ``mlp.hook_pre`` and
    ``mlp.hook_post`` (batch, pos, d_mlp), ``hook_mlp_out``,
    ``hook_resid_post``; ``ln1``/``ln2``/``ln_final`` ``.hook_scale`` and
    ``.hook_normalized`` with LayerNorm.

    The parameters are the grokkit model's own ``Parameter`` objects, registered
    under TransformerLens's names (``embed.W_E``, ``blocks.0.attn.W_Q``,
    ``blocks.0.mlp.W_in``, ``unembed.W_U`` ...): a change to either model is a
    change to both, and a hook that edits an activation never touches a
    parameter. grokkit's model computes the last block at the last position
    only (see :class:`ModularTransformerNet`); this one computes every
    position, so ``logits[:, -1]`` equals grokkit's logits up to float rounding,
    and ``blocks.{n_layers-1}.mlp.hook_post[:, -1]`` is the activation that
    grokkit's measures read as ``blocks.{n_layers-1}.mlp.act``. It runs as in
    evaluation: grokkit's training-only input noise is not applied, and it is
    returned in eval mode (which TransformerLens's patching helpers require).

    Parameters
    ----------
    net : ModularTransformerNet
        The model whose parameters to share (e.g. a fitted estimator's ``module_``).

    Attributes
    ----------
    cfg : SimpleNamespace
        TransformerLens's config fields (:func:`~grokkit.models.hooked_format.hooked_config`,
        plus ``n_key_value_heads=None`` and ``device``) that TransformerLens's
        patching helpers read.
    """

    def __init__(self, net: ModularTransformerNet) -> None:
        if not isinstance(net, ModularTransformerNet):
            raise TypeError(f"net must be a ModularTransformerNet; got {type(net).__name__}.")
        super().__init__()
        config = hooked_config(net)
        self.cfg = SimpleNamespace(**config, n_key_value_heads=None, device=net.embed.W_E.device)
        self.p = net.p
        self.embed = _Embed(net.embed)
        self.hook_embed = HookPoint()
        self.pos_embed = _PosEmbed(net.pos_embed)
        self.hook_pos_embed = HookPoint()
        self.blocks = nn.ModuleList(_Block(block) for block in net.blocks)
        layernorm = isinstance(net.ln_final, nn.LayerNorm)
        self.ln_final = _LayerNorm(net.ln_final) if layernorm else nn.Identity()
        self.unembed = _Unembed(net.unembed)
        self.setup()
        self.eval()  # an analysis view: TransformerLens's patching helpers require eval mode

    def tokens(self, X: Any) -> torch.Tensor:
        """Operand pairs ``(n, 2)`` as TransformerLens's input tokens ``[a, b, =]``, shape (n, 3).

        Tokens of shape (n, n_ctx) are checked and returned as int64.
        """
        X = torch.as_tensor(X, device=self.cfg.device)
        if X.dim() == 2 and X.shape[1] == self.cfg.n_ctx:
            operands = check_pairs(X[:, :-1], self.p, self.cfg.n_ctx - 1)
            if X.numel() and bool((X[:, -1] != self.p).any()):
                raise ValueError(f"the last token must be '=' (index p = {self.p}); got "
                                 f"{sorted(set(X[:, -1].tolist()))[:5]}.")
            return torch.cat([operands, X[:, -1:].long()], dim=1)
        X = check_pairs(X, self.p, self.cfg.n_ctx - 1)
        return torch.cat([X, X.new_full((X.shape[0], 1), self.p)], dim=1)

    def forward(self, tokens: Any) -> torch.Tensor:
        """Logits at every position, shape (n, n_ctx, p), for tokens ``[a, b, =]`` (or pairs ``(a, b)``)."""
        tokens = self.tokens(tokens)
        residual = self.hook_embed(self.embed(tokens)) + self.hook_pos_embed(self.pos_embed(tokens))
        for block in self.blocks:
            residual = block(residual)
        return self.unembed(self.ln_final(residual))
