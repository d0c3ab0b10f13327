"""Measures of the parameters alone: weight norm and absolute weight entropy."""

from __future__ import annotations

import torch
from torch import nn

from grokkit.measures.registry import measure


def _weight_matrices(module: nn.Module) -> dict[str, torch.Tensor]:
    """Every parameter with two or more dimensions (weights, not biases).

    Keys drop a trailing ``.weight`` so a Linear layer ``fc1`` is ``"fc1"``;
    other matrices keep their full name (``"lstm.weight_ih_l0"``).
    """
    out = {}
    for name, parameter in module.named_parameters():
        if parameter.dim() >= 2:
            key = name[: -len(".weight")] if name.endswith(".weight") else name
            out[key] = parameter.detach()
    return out


@measure()
def weight_norm(module: nn.Module) -> dict[str, float]:
    r"""L2 norm of all parameters, in total and per layer (Omnigrok §2).

    .. math:: \|\theta\|_2 = \sqrt{\textstyle\sum_{p \in \theta} \sum_i p_i^2}

    Biases are included, as in Omnigrok's weight norm and norm constraint.

    Returns
    -------
    dict
        ``"total"`` (recorded as column ``weight_norm``) and one entry per
        submodule owning parameters (``weight_norm/fc1`` ...), each the norm
        of that submodule's own parameters.

    Examples
    --------
    >>> from grokkit.models import MLP
    >>> round(weight_norm(MLP(4, 2, (3,)))["total"], 3) > 0
    True
    """
    per_layer: dict[str, float] = {}
    squares = []
    with torch.no_grad():
        for name, sub in module.named_modules():
            params = [p.detach() for p in sub.parameters(recurse=False)]
            if not params:
                continue
            sq = torch.stack([p.pow(2).sum() for p in params]).sum()
            squares.append(sq)
            per_layer[name or "module"] = float(sq.sqrt())
        total = float(torch.stack(squares).sum().sqrt()) if squares else 0.0
    return {"total": total, **per_layer}


@measure()
def weight_entropy(module: nn.Module) -> dict[str, float]:
    r"""Absolute weight entropy, per weight matrix and in total (Golechha §4.2).

    .. math:: H(W) = -\sum_{i,j} |w_{ij}| \log |w_{ij}|

    (natural log, unnormalised, with :math:`0 \log 0 = 0`). For weights drawn
    from :math:`U(-a, a)` on an :math:`m\times n` matrix the expectation is
    :math:`mn\,(a/4 - (a/2)\log a)` (Golechha App. B). Golechha find it falls
    sharply when the network generalises, whether the weight norm falls or
    grows.

    Returns
    -------
    dict
        One entry per matrix (``fc1``, ``fc2``, ...) and ``"total"``, their sum.
    """
    out: dict[str, float] = {}
    total = 0.0
    with torch.no_grad():
        for key, weight in _weight_matrices(module).items():
            w = weight.abs().double()
            value = float(-torch.special.xlogy(w, w).sum())
            out[key] = value
            total += value
    return {"total": total, **out}
