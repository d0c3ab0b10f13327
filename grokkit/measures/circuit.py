"""Approximate local circuit complexity (Golechha §4.3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from grokkit.measures._capture import as_module_tensor, evaluation
from grokkit.measures.registry import measure
from grokkit.measures.weights import _weight_matrices


@measure(needs=("X", "logits", "activations"))
def circuit_complexity(
    module: nn.Module,
    X: Any,
    *,
    fraction: float = 0.1,
    layer: str | None = None,
    random_state: int = 0,
    logits: torch.Tensor | None = None,
    activations: Mapping[str, torch.Tensor] | None = None,
) -> dict[str, float] | float:
    r"""KL divergence of the outputs when a random fraction of a layer's weights is zeroed.

    .. math:: C = \frac{1}{D}\sum_{i=1}^{D}\sum_{y} P_W(y\mid x_i)
              \log\frac{P_W(y\mid x_i)}{P_{W'}(y\mid x_i)}

    with :math:`P_W = \mathrm{softmax}(o_W(x))` and :math:`W'` the layer's weight
    matrix with a random ``fraction`` of its entries set to zero (Golechha
    §4.3). Golechha sum over the :math:`D` samples; grokkit averages, so the
    value does not scale with the data size (multiply by ``len(X)`` for the
    paper's number). Lower values mean outputs robust to ablation.

    The ablation goes through :func:`torch.func.functional_call` with a
    masked copy of the weight: the module's own parameters are never
    modified, not even temporarily.

    Parameters
    ----------
    fraction : float, default=0.1
        Share of the layer's weights zeroed, in (0, 1].
    layer : str, optional
        Name of one weight matrix (``"fc2"``); by default every weight matrix
        is ablated in turn and a dict is returned.
    random_state : int, default=0
        Seed of the ablation mask; the same seed gives the same mask at every
        epoch, so the curve over training is not mask noise.
    logits : Tensor, optional
        The module's outputs on ``X``, when already computed.
    activations : dict of str to Tensor, optional
        Hidden activations on ``X`` by module name, when already computed
        (the recorder's). In an ``nn.Sequential`` whose ablated ``nn.Linear``
        directly follows a module listed here, the ablated outputs are
        computed from that layer on, instead of from the input: the same
        numbers, without re-running the layers before it.

    Returns
    -------
    float or dict
        The KL divergence (nats) for ``layer``, or a dict by layer name.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1]; got {fraction!r}.")
    matrices = _weight_matrices(module)
    if layer is not None and layer not in matrices:
        raise ValueError(
            f"layer must name a weight matrix of the module ({', '.join(matrices)}); got {layer!r}."
        )
    names = [layer] if layer is not None else list(matrices)
    param_names = {
        key: (f"{key}.weight" if f"{key}.weight" in dict(module.named_parameters()) else key)
        for key in names
    }
    X = as_module_tensor(X, module)
    generator = torch.Generator(device="cpu").manual_seed(int(random_state))
    out: dict[str, float] = {}
    with evaluation(module):
        if logits is None:
            logits = module(X)
        log_p = F.log_softmax(logits.reshape(logits.shape[0], -1).double(), dim=-1)
        prob = log_p.exp()
        for key in names:
            weight = matrices[key]
            keep = torch.rand(weight.shape, generator=generator) >= fraction
            masked = weight * keep.to(device=weight.device, dtype=weight.dtype)
            ablated = _from_layer(module, key, masked, activations)
            if ablated is None:
                ablated = functional_call(module, {param_names[key]: masked}, (X,))
            log_q = F.log_softmax(ablated.reshape(ablated.shape[0], -1).double(), dim=-1)
            kl = torch.sub(log_p, log_q, out=log_q).mul_(prob).sum(dim=-1).mean()
            out[key] = float(kl)
    return out[layer] if layer is not None else out


def _from_layer(module: nn.Module, key: str, weight: torch.Tensor,
                activations: Mapping[str, torch.Tensor] | None) -> torch.Tensor | None:
    """Outputs of a Sequential with child ``key``'s weight replaced, run from that child on.

    None when the shortcut does not apply (not a Sequential, ``key`` not a
    Linear child, or the preceding child's output unknown).
    """
    if not activations or not isinstance(module, nn.Sequential):
        return None
    names = [name for name, _ in module.named_children()]
    if key not in names or names.index(key) == 0:
        return None
    index = names.index(key)
    layer = module[index]
    inputs = activations.get(names[index - 1])
    if not isinstance(layer, nn.Linear) or inputs is None or inputs.dim() != 2 \
            or inputs.shape[1] != layer.in_features:
        return None
    out = F.linear(inputs, weight, layer.bias)
    for child in list(module)[index + 1:]:
        out = child(out)
    return out
