"""TransformerLens's ``HookedTransformer`` format for :class:`ModularTransformerNet`, without TransformerLens.

The grokking checkpoints that circulate (Nanda et al.'s p = 113 model and its
intermediate checkpoints, TransformerLens's grokking demo) are state dicts of
TransformerLens 3.x's ``HookedTransformer`` with its config. grokkit's
:class:`~grokkit.models.transformer.ModularTransformerNet` already names its
parameters as TransformerLens does (``embed.W_E``, ``blocks.0.attn.W_Q``,
``blocks.0.mlp.W_in``, ``unembed.W_U`` ...), so the two formats differ only in
what one side has and the other lacks:

* TransformerLens's attention and unembedding have biases (``b_Q``, ``b_K``,
  ``b_V``, ``b_O``, ``b_U``) that Nanda's model keeps at zero (the demo
  freezes them); grokkit's model has none. Reading a state dict, they must be
  zero; writing one, they are written as zeros.
* TransformerLens's attention holds two buffers, the causal ``mask``
  (lower-triangular booleans, ``n_ctx × n_ctx``) and ``IGNORE`` (the score
  written into masked positions, ``-inf``); a strict ``load_state_dict``
  wants them, so they are written too.
* LayerNorm parameters are ``w``/``b`` there and ``weight``/``bias`` here.

Everything else must match what a :class:`~grokkit.estimators.ModularTransformer`
can hold: causal attention with ``1/√d_head`` scaling, standard (learned)
positional embeddings, ``n_ctx = 3`` (``a``, ``b``, ``=``), ``d_vocab = p + 1``
input tokens and ``d_vocab_out = p`` outputs, ``n_heads · d_head = d_model``, a
ReLU or (exact) GELU MLP, no normalisation or pre-LayerNorm (``"LN"``). A config
or state dict outside that is refused with a ``ValueError`` that names the part
that differs. This module needs no TransformerLens.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from grokkit.models.transformer import ModularTransformerNet

#: TransformerLens ``act_fn`` -> grokkit ``act``: the activations both compute
#: identically (TransformerLens's "gelu" is ``F.gelu``, the exact GELU, as grokkit's).
ACT_FNS = {"relu": "relu", "gelu": "gelu"}
_ACT_MODULES = {"relu": torch.nn.ReLU, "gelu": torch.nn.GELU}
#: TransformerLens ``normalization_type`` -> grokkit ``use_layernorm``.
NORMALIZATIONS = {None: False, "LN": True}
#: Config fields whose value must be TransformerLens's default for grokkit to hold the model,
#: with what each one means when it differs.
_MUST_BE = {
    "attn_only": (False, "an attention-only model (grokkit's blocks always have an MLP)"),
    "positional_embedding_type": ("standard", "grokkit's positional embedding is learned and added "
                                              "to the residual stream ('standard')"),
    "attention_dir": ("causal", "grokkit's attention is causal"),
    "parallel_attn_mlp": (False, "grokkit's blocks run attention then the MLP"),
    "gated_mlp": (False, "grokkit's MLP is not gated"),
    "n_key_value_heads": (None, "grokkit's attention has one key/value head per query head"),
    "use_attn_scale": (True, "grokkit scales attention scores by 1/sqrt(d_head)"),
    "scale_attn_by_inverse_layer_idx": (False, "grokkit scales attention scores by 1/sqrt(d_head) "
                                               "alone"),
    "final_rms": (False, "grokkit has no RMS norm"),
    "num_experts": (None, "grokkit's MLP is not a mixture of experts"),
    "use_normalization_before_and_after": (False, "grokkit normalises before each sublayer only"),
    "use_qk_norm": (False, "grokkit has no query/key normalisation"),
    "tie_word_embeddings": (False, "grokkit's unembedding is its own matrix"),
    "post_embedding_ln": (False, "grokkit does not normalise the embedding"),
    "use_local_attn": (False, "grokkit's attention is global"),
    "use_attention_sinks": (False, "grokkit's attention has no sinks"),
    "use_logn_attn": (False, "grokkit does not rescale queries by log n"),
    "clip_qkv": (None, "grokkit does not clip queries, keys or values"),
}
#: Soft caps: TransformerLens disables them with a value <= 0.
_SOFT_CAPS = ("output_logits_soft_cap", "attn_scores_soft_cap")
_BIASES = ("b_Q", "b_K", "b_V", "b_O")


def _field(config: Any, name: str, default: Any = None) -> Any:
    if isinstance(config, Mapping):
        return config.get(name, default)
    return getattr(config, name, default)


def _as_dtype(value: Any) -> torch.dtype | None:
    if value is None or isinstance(value, torch.dtype):
        return value
    name = str(value).removeprefix("torch.")
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"config dtype must be a torch dtype or its name; got {value!r}.")
    return dtype


def net_params_from_hooked(config: Any) -> dict[str, Any]:
    """The :class:`ModularTransformerNet` parameters of a ``HookedTransformerConfig``, or why none fit.

    Parameters
    ----------
    config : dict or object with attributes
        A TransformerLens 3.x ``HookedTransformerConfig`` (or anything with its
        attributes, e.g. ``vars(cfg)`` or ``cfg.to_dict()``). TransformerLens
        itself is not imported.

    Returns
    -------
    dict
        ``p``, ``d_model``, ``n_heads``, ``d_mlp``, ``n_layers``, ``act``,
        ``use_layernorm`` (the parameters of
        :class:`~grokkit.estimators.ModularTransformer`) and ``dtype`` (a torch
        dtype, or None when the config names none).

    Raises
    ------
    TypeError
        ``config`` is neither a mapping nor has a ``d_model`` attribute.
    ValueError
        The config describes a model grokkit cannot hold; the message names
        the field, its value and what grokkit holds.
    """
    if not isinstance(config, Mapping) and not hasattr(config, "d_model"):
        raise TypeError(f"config must be a dict or a HookedTransformerConfig-like object with attributes "
                        f"(d_model, n_layers, ...); got {type(config).__name__}.")
    missing = [name for name in ("n_layers", "d_model", "n_heads", "d_head", "d_mlp", "d_vocab", "n_ctx")
               if _field(config, name) is None]
    if missing:
        raise ValueError(f"config lacks {', '.join(missing)}: a HookedTransformerConfig always has them.")
    problems = []

    def differs(name: str, value: Any, holds: str) -> None:
        problems.append(f"{name} is {value!r}, but {holds}")

    normalization = _field(config, "normalization_type", None)
    if normalization not in NORMALIZATIONS:
        differs("normalization_type", normalization,
                "grokkit's ModularTransformer has either no normalisation (None) or pre-LayerNorm "
                "with weights ('LN'; a folded 'LNPre', 'RMS' or 'RMSPre' model is not held)")
    eps = _field(config, "eps", 1e-5)
    if normalization == "LN" and eps is not None and not math.isclose(float(eps), 1e-5):
        differs("eps", eps, "grokkit's LayerNorm has eps = 1e-5 (TransformerLens's default)")
    act_fn = _field(config, "act_fn", None)
    if act_fn not in ACT_FNS:
        differs("act_fn", act_fn, f"grokkit's MLP computes one of {sorted(ACT_FNS)} as TransformerLens "
                                  "does (Nanda's model: 'relu')")
    n_ctx = int(_field(config, "n_ctx"))
    if n_ctx != 3:
        differs("n_ctx", n_ctx, "grokkit's ModularTransformer reads 3 tokens: a, b and '='")
    d_model, n_heads, d_head = (int(_field(config, k)) for k in ("d_model", "n_heads", "d_head"))
    if n_heads * d_head != d_model:
        differs("d_head", d_head, f"grokkit's heads split d_model evenly (n_heads · d_head = {n_heads} · "
                                  f"{d_head} = {n_heads * d_head} must equal d_model = {d_model})")
    d_vocab = int(_field(config, "d_vocab"))
    d_vocab_out = _field(config, "d_vocab_out", -1)
    d_vocab_out = d_vocab if d_vocab_out in (None, -1) else int(d_vocab_out)
    if d_vocab_out != d_vocab - 1:
        differs("d_vocab_out", d_vocab_out,
                f"grokkit's model has p input tokens plus '=' (d_vocab = p + 1 = {d_vocab}) and p output "
                f"classes, so d_vocab_out must be {d_vocab - 1} (TransformerLens's grokking demo)")
    n_layers = int(_field(config, "n_layers"))
    for name, (default, holds) in _MUST_BE.items():
        value = _field(config, name, default)
        if value != default:
            differs(name, value, holds)
    for name in _SOFT_CAPS:
        value = _field(config, name, -1.0)
        if value is not None and float(value) > 0:
            differs(name, value, "grokkit applies no soft cap")
    scale = _field(config, "attn_scale", None)
    if scale is not None and d_head > 0 and not math.isclose(float(scale), math.sqrt(d_head)):
        differs("attn_scale", scale,
                f"grokkit divides attention scores by sqrt(d_head) = {math.sqrt(d_head)}")
    if problems:
        raise ValueError("ModularTransformer cannot hold this HookedTransformer: " + "; ".join(problems)
                         + ".")
    return {"p": d_vocab - 1, "d_model": d_model, "n_heads": n_heads, "d_mlp": int(_field(config, "d_mlp")),
            "n_layers": n_layers, "act": ACT_FNS[act_fn], "use_layernorm": NORMALIZATIONS[normalization],
            "dtype": _as_dtype(_field(config, "dtype", None))}


def state_dict_from_hooked(state_dict: Mapping[str, torch.Tensor], config: Any) -> dict[str, torch.Tensor]:
    """A ``HookedTransformer`` state dict as the state dict of the matching :class:`ModularTransformerNet`.

    The attention and unembedding biases must be zero (grokkit's model has
    none; Nanda's freezes them at zero) and are dropped, as are the ``mask``
    and ``IGNORE`` buffers (the mask must be causal); LayerNorm's ``w``/``b``
    become ``weight``/``bias``. Every other tensor must be present with the
    shape grokkit's model has.

    Parameters
    ----------
    state_dict : mapping of str to Tensor
        ``HookedTransformer.state_dict()`` (TransformerLens 3.x names).
    config : dict or object with attributes
        Its ``HookedTransformerConfig``; see :func:`net_params_from_hooked`.

    Returns
    -------
    dict of str to Tensor
        Loadable with ``ModularTransformerNet(**params).load_state_dict(...)``
        (strict), the tensors themselves (not copies).

    Raises
    ------
    ValueError
        A tensor is missing, has another shape, a bias is non-zero, the mask is
        not causal, or a key is one grokkit does not know; the message names it.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping of names to tensors; got {type(state_dict).__name__}.")
    params = net_params_from_hooked(config)
    template = ModularTransformerNet(**{k: v for k, v in params.items() if k != "dtype"}).state_dict()
    out: dict[str, torch.Tensor] = {}
    problems: list[str] = []
    rename = {"ln1.weight": "ln1.w", "ln1.bias": "ln1.b", "ln2.weight": "ln2.w", "ln2.bias": "ln2.b",
              "ln_final.weight": "ln_final.w", "ln_final.bias": "ln_final.b"}
    for key, expected in template.items():
        source = key
        for ours, theirs in rename.items():
            if key.endswith(ours):
                source = key[: -len(ours)] + theirs
        if source not in state_dict:
            problems.append(f"{source} is missing")
            continue
        tensor = state_dict[source]
        if not torch.is_tensor(tensor):
            problems.append(f"{source} is a {type(tensor).__name__}, not a tensor")
        elif tuple(tensor.shape) != tuple(expected.shape):
            problems.append(f"{source} has shape {tuple(tensor.shape)} where the config implies "
                            f"{tuple(expected.shape)}")
        else:
            out[key] = tensor
    known = {key for key in state_dict if key in out or any(
        key == k[: -len(o)] + t for k in out for o, t in rename.items() if k.endswith(o))}
    for key, tensor in state_dict.items():
        if key in known:
            continue
        leaf = key.rsplit(".", 1)[-1]
        if key == "unembed.b_U" or (key.startswith("blocks.") and ".attn." in key and leaf in _BIASES):
            if torch.is_tensor(tensor) and torch.count_nonzero(tensor):
                problems.append(f"{key} is non-zero (largest |value| {float(tensor.abs().max()):.3g}); "
                                "grokkit's attention and unembedding have no biases")
        elif key.startswith("blocks.") and key.endswith(".attn.mask"):
            n = tensor.shape[-1]
            if not torch.equal(tensor.bool(), torch.ones(n, n, dtype=torch.bool).tril()):
                problems.append(f"{key} is not the causal (lower-triangular) mask")
        elif key.startswith("blocks.") and key.endswith(".attn.IGNORE"):
            continue
        elif key.startswith("blocks.") and int(key.split(".")[1]) >= params["n_layers"]:
            problems.append(f"{key} belongs to a layer beyond n_layers = {params['n_layers']}")
        else:
            problems.append(f"{key} is not a part of grokkit's model")
    if problems:
        raise ValueError("ModularTransformer cannot hold this HookedTransformer state dict: "
                         + "; ".join(problems) + ".")
    return out


def hooked_config(net: ModularTransformerNet) -> dict[str, Any]:
    """The ``HookedTransformerConfig`` arguments of ``net``: ``HookedTransformerConfig(**config)``.

    ``d_vocab = p + 1`` (the ``=`` token), ``d_vocab_out = p``, ``n_ctx``,
    ``act_fn``, ``normalization_type`` (None or ``"LN"``) and the dtype of the
    parameters; TransformerLens's defaults hold for the rest (causal attention
    scaled by ``1/√d_head``, standard positional embeddings).
    """
    block = net.blocks[0]
    act = next((name for name, kind in _ACT_MODULES.items() if type(block.mlp.act) is kind), None)
    if act is None:
        raise ValueError(f"the MLP activation is {type(block.mlp.act).__name__}; a HookedTransformer "
                         f"computes it as grokkit does only for act in {sorted(ACT_FNS)}.")
    layernorm = isinstance(block.ln1, torch.nn.LayerNorm)
    n_heads, d_model, d_head = block.attn.W_Q.shape
    return {
        "n_layers": len(net.blocks), "d_model": int(d_model), "n_ctx": int(net.n_ctx), "d_head": int(d_head),
        "n_heads": int(n_heads), "d_mlp": int(block.mlp.W_in.shape[1]), "d_vocab": net.p + 1,
        "d_vocab_out": net.p, "act_fn": act, "normalization_type": "LN" if layernorm else None,
        "attn_only": False, "positional_embedding_type": "standard", "dtype": net.embed.W_E.dtype,
    }


def state_dict_to_hooked(net: ModularTransformerNet) -> dict[str, torch.Tensor]:
    """``net``'s parameters as a ``HookedTransformer`` state dict (TransformerLens 3.x names).

    Detached copies on the CPU; the biases grokkit's model lacks are zeros, and
    each attention gets the ``mask`` (causal, bool) and ``IGNORE`` (``-inf``)
    buffers that TransformerLens registers, so a strict ``load_state_dict`` of
    ``HookedTransformer(HookedTransformerConfig(**hooked_config(net)))`` takes it.
    ``net.input_noise_std`` (training-mode input noise, a callback's setting)
    is not part of the model in eval mode and is not written.
    """
    config = hooked_config(net)
    out: dict[str, torch.Tensor] = {}
    for key, tensor in net.state_dict().items():
        for ours, theirs in ((".weight", ".w"), (".bias", ".b")):
            if key.endswith(ours) and (".ln" in key or key.startswith("ln_final")):
                key = key[: -len(ours)] + theirs
        out[key] = tensor.detach().to("cpu", copy=True)
    dtype, n_ctx = config["dtype"], config["n_ctx"]
    for i in range(config["n_layers"]):
        prefix = f"blocks.{i}.attn."
        for name in ("b_Q", "b_K", "b_V"):
            out[prefix + name] = torch.zeros(config["n_heads"], config["d_head"], dtype=dtype)
        out[prefix + "b_O"] = torch.zeros(config["d_model"], dtype=dtype)
        out[prefix + "mask"] = torch.ones(n_ctx, n_ctx, dtype=torch.bool).tril()
        out[prefix + "IGNORE"] = torch.tensor(-torch.inf)  # float32, as TransformerLens registers it
    out["unembed.b_U"] = torch.zeros(config["d_vocab_out"], dtype=dtype)
    return out
