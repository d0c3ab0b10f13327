"""What every model does with its inputs: the training-mode input noise, and the trusted-input switch.

Two helpers shared by all models, so that a model also runs under
``torch.func.vmap`` (the stacked runs of :class:`grokkit.Sweep`): there a σ
may be a tensor (one per stacked run) and the inputs are batched tensors whose
values cannot steer Python ``if``s.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import torch

_TRUSTED: ContextVar[bool] = ContextVar("grokkit_trusted_inputs", default=False)


def add_input_noise(x: torch.Tensor, std: Any, training: bool) -> torch.Tensor:
    r"""``x + σ·ε`` with :math:`\varepsilon \sim \mathcal N(0, I)` in training mode (Tan & Huang §3.2).

    ``std`` is a float (0 means no noise, and no random draw) or a tensor
    broadcastable to ``x`` (one σ per stacked run, always applied).
    """
    if not training or (not torch.is_tensor(std) and std <= 0):
        return x
    return x + std * torch.randn_like(x)


def noise_active(std: Any, training: bool) -> bool:
    """Whether :func:`add_input_noise` would perturb (for models that draw the noise themselves)."""
    return training and (torch.is_tensor(std) or std > 0)


@contextmanager
def trusted_inputs() -> Iterator[None]:
    """Skip the models' checks of input *values* (ranges), keeping those of types and shapes.

    For callers that validated the data once, before a loop in which the
    inputs are batched tensors (``vmap``) whose values cannot be inspected.
    """
    token = _TRUSTED.set(True)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def inputs_trusted() -> bool:
    """True inside :func:`trusted_inputs`."""
    return _TRUSTED.get()
