"""Nanda et al.'s one-layer transformer for modular arithmetic (Omnigrok §5, App. B–C).

The model of *Progress measures for grokking via mechanistic interpretability*
(Nanda et al., 2023), which Omnigrok trains on ``a + b mod 113`` to show that
the weight norm rises while the network memorises and falls below its initial
value when it generalises (Fig. 7a), and that holding the norm fixed removes
the grokking delay (Fig. 7b).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from grokkit._validation import check_number, check_options
from grokkit.models._inputs import add_input_noise, inputs_trusted
from grokkit.models.mlp import ACTIVATIONS, make_activation


def _normal(*shape: int, std: float) -> nn.Parameter:
    return nn.Parameter(torch.randn(*shape) * std)


def check_pairs(X: torch.Tensor, p: int, n_operands: int) -> torch.Tensor:
    """Check a batch of operand tokens ``(n, n_operands)`` in ``[0, p)``; return it as int64."""
    if not torch.is_tensor(X):
        raise TypeError(f"X must be a torch.Tensor of integers; got {type(X).__name__}.")
    if X.is_floating_point() or X.is_complex() or X.dtype == torch.bool:
        raise TypeError(f"X must hold integers in [0, p); got dtype {X.dtype}.")
    if X.dim() != 2 or X.shape[1] != n_operands:
        raise ValueError(f"X must have shape (n_samples, {n_operands}); got {tuple(X.shape)}.")
    if X.numel() and not inputs_trusted():
        low, high = torch.aminmax(X)
        if low < 0 or high >= p:
            raise ValueError(
                f"X must hold integers in [0, p) = [0, {p}); got values from {int(low)} "
                f"to {int(high)}."
            )
    return X.long()


class Embed(nn.Module):
    """Token embedding ``W_E`` of shape (d_vocab, d_model)."""

    def __init__(self, d_vocab: int, d_model: int) -> None:
        super().__init__()
        self.W_E = _normal(d_vocab, d_model, std=1 / math.sqrt(d_model))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return F.embedding(tokens, self.W_E)


class PosEmbed(nn.Module):
    """Learned positional embedding ``W_pos`` of shape (n_ctx, d_model)."""

    def __init__(self, n_ctx: int, d_model: int) -> None:
        super().__init__()
        self.W_pos = _normal(n_ctx, d_model, std=1 / math.sqrt(d_model))

    def forward(self, residual: torch.Tensor) -> torch.Tensor:
        return residual + self.W_pos[: residual.shape[-2]]


class Attention(nn.Module):
    """Causal multi-head self-attention without biases (Nanda et al.).

    ``W_Q``, ``W_K``, ``W_V`` have shape (n_heads, d_model, d_head) and ``W_O``
    (n_heads, d_head, d_model), as in TransformerLens. Scores are scaled by
    ``1/sqrt(d_head)``; position ``i`` attends to positions ``≤ i``.
    """

    def __init__(self, d_model: int, n_heads: int, d_head: int) -> None:
        super().__init__()
        std = 1 / math.sqrt(d_model)
        self.W_Q = _normal(n_heads, d_model, d_head, std=std)
        self.W_K = _normal(n_heads, d_model, d_head, std=std)
        self.W_V = _normal(n_heads, d_model, d_head, std=std)
        self.W_O = _normal(n_heads, d_head, d_model, std=std)
        self.scale = 1 / math.sqrt(d_head)

    def _project(self, residual: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """``residual @ W`` per head: (..., d_model) -> (..., n_heads, d_head), one matmul."""
        n_heads, d_model, d_head = weight.shape
        flat = weight.permute(1, 0, 2).reshape(d_model, n_heads * d_head)
        return (residual @ flat).unflatten(-1, (n_heads, d_head))

    def forward(self, residual: torch.Tensor, last_only: bool = False) -> torch.Tensor:
        """Attention output, shape (n, n_ctx, d_model), or (n, d_model) at the last
        position only when ``last_only`` (the last position sees every position,
        so it needs no mask)."""
        keys = self._project(residual, self.W_K)
        values = self._project(residual, self.W_V)
        n_heads, d_head, d_model = self.W_O.shape
        W_O = self.W_O.reshape(n_heads * d_head, d_model)
        if last_only:
            # With n_ctx = 3 keys, broadcast products beat batched matmuls on CPU.
            queries = self._project(residual[:, -1], self.W_Q)
            scores = (keys * queries.unsqueeze(1)).sum(-1) * self.scale
            pattern = scores.softmax(dim=1)
            mixed = (pattern.unsqueeze(-1) * values).sum(1)
            return mixed.flatten(1) @ W_O
        queries = self._project(residual, self.W_Q)
        scores = torch.einsum("nqhe,nkhe->nhqk", queries, keys) * self.scale
        n_ctx = residual.shape[1]
        future = torch.ones(n_ctx, n_ctx, dtype=torch.bool, device=residual.device).triu(1)
        pattern = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
        mixed = torch.einsum("nhqk,nkhe->nqhe", pattern, values)
        return mixed.flatten(2) @ W_O


class TransformerMLP(nn.Module):
    """``W_out · act(W_in · x + b_in) + b_out``; ``act`` is a submodule so that
    its output (the hidden activation) can be hooked."""

    def __init__(self, d_model: int, d_mlp: int, act: str) -> None:
        super().__init__()
        std = 1 / math.sqrt(d_model)
        self.W_in = _normal(d_model, d_mlp, std=std)
        self.b_in = nn.Parameter(torch.zeros(d_mlp))
        self.act = make_activation(act)
        self.W_out = _normal(d_mlp, d_model, std=std)
        self.b_out = nn.Parameter(torch.zeros(d_model))

    def forward(self, residual: torch.Tensor) -> torch.Tensor:
        hidden = self.act(residual @ self.W_in + self.b_in)
        return hidden @ self.W_out + self.b_out


class Unembed(nn.Module):
    """Unembedding ``W_U`` of shape (d_model, n_classes), N(0, 1/d_vocab) as Nanda."""

    def __init__(self, d_model: int, n_classes: int, d_vocab: int) -> None:
        super().__init__()
        self.W_U = _normal(d_model, n_classes, std=1 / math.sqrt(d_vocab))

    def forward(self, residual: torch.Tensor) -> torch.Tensor:
        return residual @ self.W_U


class TransformerBlock(nn.Module):
    """Residual block ``x + attn(x)`` then ``x + mlp(x)`` (pre-LayerNorm when enabled)."""

    def __init__(
        self, d_model: int, n_heads: int, d_head: int, d_mlp: int, act: str, use_layernorm: bool
    ) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model) if use_layernorm else nn.Identity()
        self.attn = Attention(d_model, n_heads, d_head)
        self.ln2 = nn.LayerNorm(d_model) if use_layernorm else nn.Identity()
        self.mlp = TransformerMLP(d_model, d_mlp, act)

    def forward(self, residual: torch.Tensor, last_only: bool = False) -> torch.Tensor:
        attended = self.attn(self.ln1(residual), last_only=last_only)
        residual = (residual[:, -1] if last_only else residual) + attended
        return residual + self.mlp(self.ln2(residual))


class ModularTransformerNet(nn.Module):
    r"""Decoder-only transformer reading ``a ∘ b =`` and predicting ``a ∘ b mod p``.

    The setting of Nanda et al. (2023) used by Omnigrok §5 and App. B–C (and
    TransformerLens' grokking demo): token embedding ``W_E`` and learned
    positional embedding ``W_pos``, ``n_layers`` residual blocks of causal
    attention (``n_heads`` heads of width ``d_head``, no biases) and an MLP
    (``d_mlp`` units, ReLU), no LayerNorm, and an unembedding ``W_U`` read at the
    last position.

    The input is a LongTensor of operand pairs ``(a, b)``, shape (n, 2); the
    module appends the ``=`` token (index ``p``) itself, so the input
    vocabulary has ``p + 1`` tokens while the output has ``p`` logits (the
    ``=`` token is never a target, as in TransformerLens' demo; Nanda's own code
    unembeds to ``p + 1`` classes).

    Parameters
    ----------
    p : int, default=113
        Modulus: operands and classes are ``0 … p−1``.
    d_model : int, default=128
    n_heads : int, default=4
    d_head : int, optional
        Width of each head; ``d_model // n_heads`` by default (32 in Nanda's
        model), which then must divide evenly.
    d_mlp : int, default=512
    n_layers : int, default=1
    n_ctx : int, default=3
        Sequence length including ``=``; inputs have ``n_ctx − 1`` operands.
    act : {"relu", "gelu", "tanh", "leaky_relu"}, default="relu"
    use_layernorm : bool, default=False
        Pre-LayerNorm in each block and before the unembedding (Nanda's model
        has none).

    Attributes
    ----------
    input_noise_std : float
        Standard deviation σ of Gaussian noise :math:`\mathcal N(0, \sigma^2)`
        added to the token embeddings of every position in **training mode
        only** (0 by default, no noise). It is the input noise of Tan & Huang's
        degrokking strategy (§3.2, σ = max(λ₁(1 − train acc), λ₂)) for a model
        whose inputs are tokens: a callback sets it between epochs. Positional
        embeddings are not perturbed. (Tan & Huang write N(0, σI); grokkit
        reads σ as the standard deviation.)

    Notes
    -----
    Initialisation follows Nanda et al.'s code, not PyTorch's defaults:
    every weight matrix (``W_E``, ``W_pos``, ``W_Q``, ``W_K``, ``W_V``, ``W_O``,
    ``W_in``, ``W_out``) is drawn from :math:`\mathcal N(0, 1/d_\text{model})`,
    ``W_U`` from :math:`\mathcal N(0, 1/(p+1))` (Nanda's ``1/d_vocab``) and the
    MLP biases start at zero. Omnigrok's α multiplies all of these afterwards
    (α = 1 is Nanda's model; the norm-constrained run uses α = 0.8).

    Parameter shapes follow TransformerLens (``W_E``: (p+1, d_model), ``W_U``:
    (d_model, p), ``W_Q``: (n_heads, d_model, d_head), ...), so names read as
    ``embed.W_E``, ``blocks.0.attn.W_Q``, ``blocks.0.mlp.W_in``, ``unembed.W_U``
    in per-layer measures.

    Only the last position reaches the logits, so the last block computes its
    attention query, attention output and MLP at that position alone (keys
    and values at every position): the logits and gradients are those of the
    full computation at about half the cost. Consequently the hidden
    activation of the last block, ``blocks.{n_layers-1}.mlp.act``, has shape
    (n, d_mlp) — the neurons at the ``=`` token that Nanda et al. analyse —
    while earlier blocks' have shape (n, n_ctx, d_mlp).

    Examples
    --------
    >>> model = ModularTransformerNet(p=7, d_model=16, n_heads=2, d_mlp=32)
    >>> model(torch.tensor([[1, 2], [3, 6]])).shape
    torch.Size([2, 7])
    """

    def __init__(
        self,
        p: int = 113,
        d_model: int = 128,
        n_heads: int = 4,
        d_head: int | None = None,
        d_mlp: int = 512,
        n_layers: int = 1,
        n_ctx: int = 3,
        act: str = "relu",
        use_layernorm: bool = False,
    ) -> None:
        super().__init__()
        check_number("p", p, low=2, integer=True)
        check_number("d_model", d_model, low=1, integer=True)
        check_number("n_heads", n_heads, low=1, integer=True)
        check_number("d_mlp", d_mlp, low=1, integer=True)
        check_number("n_layers", n_layers, low=1, integer=True)
        check_number("n_ctx", n_ctx, low=2, integer=True)
        check_options("act", act, ACTIVATIONS)
        if d_head is None:
            if d_model % n_heads:
                raise ValueError(
                    f"d_model must be divisible by n_heads when d_head is None; got "
                    f"d_model={d_model}, n_heads={n_heads}. Pass d_head explicitly."
                )
            d_head = d_model // n_heads
        check_number("d_head", d_head, low=1, integer=True)
        self.p = int(p)
        self.n_ctx = int(n_ctx)
        self.input_noise_std = 0.0
        self.embed = Embed(self.p + 1, d_model)
        self.pos_embed = PosEmbed(self.n_ctx, d_model)
        self.blocks = nn.ModuleList(
            TransformerBlock(d_model, n_heads, d_head, d_mlp, act, use_layernorm)
            for _ in range(n_layers)
        )
        self.ln_final = nn.LayerNorm(d_model) if use_layernorm else nn.Identity()
        self.unembed = Unembed(d_model, self.p, d_vocab=self.p + 1)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Logits of shape (n, p) for operand tokens ``X`` of shape (n, n_ctx − 1)."""
        X = check_pairs(X, self.p, self.n_ctx - 1)
        equals = X.new_full((X.shape[0], 1), self.p)
        residual = self.embed(torch.cat([X, equals], dim=1))
        residual = add_input_noise(residual, self.input_noise_std, self.training)
        residual = self.pos_embed(residual)
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            residual = block(residual, last_only=i == last)
        return self.unembed(self.ln_final(residual))

    def token_embeddings(self) -> torch.Tensor:
        """The embedding of each number token: the first ``p`` rows of ``W_E``, shape (p, d_model).

        The ``=`` token's row is left out: the Fourier measures
        (:mod:`grokkit.measures.fourier`) read the embedding as a function on
        :math:`\\mathbb Z_p`. The tensor is a view of the parameter (same
        device, dtype and autograd graph); detach it to modify it.
        """
        return self.embed.W_E[: self.p]

    def hidden_modules(self) -> dict[str, nn.Module]:
        """The MLP activation module of each block (its output is the hidden activation)."""
        return {f"blocks.{i}.mlp.act": block.mlp.act for i, block in enumerate(self.blocks)}
