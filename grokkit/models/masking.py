"""Silencing hidden neurons: the isolated sub-networks of Clauw et al. §7."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class MaskedActivation(nn.Module):
    """An activation whose output is multiplied by a fixed 0/1 mask over its units.

    Masked units output zero, so no gradient reaches their incoming weights
    and their outgoing weights see a zero input: the rest of the network
    trains "in isolation, setting all other neurons to zero" (Clauw et al. §7).
    The mask is a buffer, so it moves with the module and survives pickling.
    """

    def __init__(self, activation: nn.Module, keep: Any) -> None:
        super().__init__()
        self.activation = activation
        self.register_buffer("keep", torch.as_tensor(keep, dtype=torch.bool).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(x) * self.keep.to(x.dtype)


def mask_neurons(module: nn.Module, layer: str, keep: Any) -> nn.Module:
    """Replace the hidden activation ``layer`` of ``module`` by a :class:`MaskedActivation`, in place.

    Parameters
    ----------
    module : nn.Module
    layer : str
        Dotted name of the activation submodule (``"act1"``, ``"blocks.0.mlp.act"``).
    keep : array-like of bool
        One entry per unit of that layer; False silences the unit.
    """
    parent_name, _, child = layer.rpartition(".")
    parent = module.get_submodule(parent_name) if parent_name else module
    current = getattr(parent, child)
    base = current.activation if isinstance(current, MaskedActivation) else current
    device = next(module.parameters()).device
    setattr(parent, child, MaskedActivation(base, keep).to(device))
    return module
