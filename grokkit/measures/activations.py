"""Measures of the hidden activations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from grokkit.measures._capture import capture
from grokkit.measures.registry import measure


@measure(needs=("X", "activations"))
def activation_sparsity(
    module: nn.Module,
    X: Any,
    *,
    threshold: float = 0.1,
    activations: Mapping[str, torch.Tensor] | None = None,
) -> dict[str, float]:
    r"""Fraction of hidden activations below a threshold (Golechha §4.1).

    .. math:: S = \frac{1}{D}\sum_{i=1}^{D}\frac{1}{n}\sum_{j=1}^{n}\mathbb{1}(a_{ij} < \tau)

    Parameters
    ----------
    module : nn.Module
    X : array or tensor
        Inputs (the training set in ``progress_``).
    threshold : float, default=0.1
        τ. Golechha find sparsity plateaus right before the network groks.
    activations : dict, optional
        Hidden activations already captured on ``X`` (the recorder passes
        them so that all measures share one forward pass).

    Returns
    -------
    dict
        One entry per hidden layer (``act1``, ...) and ``"total"``, the fraction
        over all hidden units pooled.
    """
    if activations is None:
        _, activations = capture(module, X)
    if not activations:
        raise ValueError(
            "activation_sparsity found no hidden activations: the module has no "
            "activation-function submodules and no hidden_modules() method."
        )
    out: dict[str, float] = {}
    below = 0.0
    count = 0
    for name, act in activations.items():
        hits = (act < threshold).sum().item()
        out[name] = hits / act.numel()
        below += hits
        count += act.numel()
    return {"total": below / count, **out}
