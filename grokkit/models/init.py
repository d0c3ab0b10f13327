"""Initialisation utilities shared by every grokkit model."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def scale_parameters_(module: nn.Module, alpha: float) -> nn.Module:
    """Multiply every parameter of ``module`` by ``alpha`` in place.

    This is Omnigrok's initialisation scale (Liu, Michaud & Tegmark, §2): after
    PyTorch's default initialisation, all parameters, biases included, are
    scaled by α so that the initial weight norm is ``alpha * w0``. Large α
    (e.g. 8 on MNIST) with weight decay is what makes grokking appear on
    non-algorithmic data.
    """
    for parameter in module.parameters():
        parameter.mul_(alpha)
    return module


def parameter_norm(module: nn.Module) -> torch.Tensor:
    """‖θ‖₂ over all parameters of ``module`` (biases included), as a 0-d tensor."""
    norms = torch._foreach_norm([p.detach() for p in module.parameters()])
    return torch.linalg.vector_norm(torch.stack(norms))
