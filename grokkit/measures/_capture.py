"""Running a module for a measure without changing it: tensors, modes and hooks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

#: Module types whose outputs count as hidden activations in a module that
#: does not declare its own ``hidden_modules()``.
ACTIVATION_TYPES: tuple[type[nn.Module], ...] = (
    nn.ReLU,
    nn.Tanh,
    nn.LeakyReLU,
    nn.GELU,
    nn.Sigmoid,
    nn.SiLU,
    nn.ELU,
)


def module_device(module: nn.Module) -> torch.device:
    """Device of the first parameter (CPU for a module without parameters)."""
    for parameter in module.parameters():
        return parameter.device
    return torch.device("cpu")


def module_dtype(module: nn.Module) -> torch.dtype:
    """Floating dtype of the first floating parameter (float32 by default)."""
    for parameter in module.parameters():
        if parameter.is_floating_point():
            return parameter.dtype
    return torch.float32


def numpy_tensor(data: Any) -> torch.Tensor:
    """``data`` as a tensor: a tensor as it is, an array shared when writable and copied when not.

    A read-only array (a pandas frame or series under copy-on-write, a
    memory-mapped file) would make :func:`torch.as_tensor` warn that PyTorch
    does not support non-writable tensors; it is copied instead.
    """
    if torch.is_tensor(data):
        return data
    array = np.asarray(data)
    if not array.flags.writeable:
        array = array.copy()
    return torch.as_tensor(array)


def as_module_tensor(data: Any, module: nn.Module) -> torch.Tensor:
    """Put ``data`` (array or tensor) on ``module``'s device.

    Floating data takes the module's dtype; integer data (token indices,
    modular pairs) is kept as ``int64``.
    """
    tensor = numpy_tensor(data)
    device = module_device(module)
    if tensor.is_floating_point():
        return tensor.to(device=device, dtype=module_dtype(module))
    if tensor.dtype == torch.bool:
        return tensor.to(device=device, dtype=module_dtype(module))
    return tensor.to(device=device, dtype=torch.long)


def hidden_modules(module: nn.Module) -> dict[str, nn.Module]:
    """The submodules whose outputs are a model's hidden activations.

    A grokkit model declares them with a ``hidden_modules()`` method; for any
    other module every activation-function submodule (ReLU, Tanh, ...) counts.
    """
    declared = getattr(module, "hidden_modules", None)
    if callable(declared):
        return dict(declared())
    return {
        name: sub for name, sub in module.named_modules() if isinstance(sub, ACTIVATION_TYPES)
    }


@contextmanager
def evaluation(module: nn.Module) -> Iterator[nn.Module]:
    """Eval mode and no gradients inside; the caller's mode is restored after."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield module
    finally:
        module.train(was_training)


@contextmanager
def recording(module: nn.Module, names: Mapping[str, nn.Module]) -> Iterator[dict[str, torch.Tensor]]:
    """Forward hooks that store each named submodule's output; always removed."""
    store: dict[str, torch.Tensor] = {}
    handles = []
    try:
        for name, sub in names.items():
            def hook(_mod: nn.Module, _inp: Any, out: Any, name: str = name) -> None:
                store[name] = (out[0] if isinstance(out, tuple) else out).detach()

            handles.append(sub.register_forward_hook(hook))
        yield store
    finally:
        for handle in handles:
            handle.remove()


def capture(module: nn.Module, X: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """One forward pass in eval mode: the outputs and every hidden activation.

    Returns
    -------
    logits : Tensor, shape (n_samples, n_outputs)
    activations : dict of str to Tensor
        The output of each module of :func:`hidden_modules`, flattened to
        ``(n_samples, n_units)``.
    """
    X = as_module_tensor(X, module)
    with evaluation(module), recording(module, hidden_modules(module)) as store:
        logits = module(X)
    activations = {name: value.reshape(value.shape[0], -1) for name, value in store.items()}
    return logits, activations
