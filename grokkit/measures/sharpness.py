"""Sharpness of the training loss: the trace of its Hessian (Tan & Huang §2.1, §3.1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from grokkit._validation import check_number
from grokkit.measures._capture import as_module_tensor, numpy_tensor
from grokkit.measures.registry import measure

LOSSES = ("cross_entropy", "mse", "stablemax")


def _cross_entropy(outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if y.is_floating_point():
        raise ValueError(
            f"loss='cross_entropy' needs integer class labels y; got y of dtype {y.dtype}."
        )
    return F.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), y.reshape(-1))


def _stablemax(outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    from grokkit.losses import stablemax_cross_entropy

    if y.is_floating_point():
        raise ValueError(f"loss='stablemax' needs integer class labels y; got y of dtype {y.dtype}.")
    return stablemax_cross_entropy(outputs.reshape(-1, outputs.shape[-1]), y.reshape(-1))


def _mse(outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if y.is_floating_point():
        if y.numel() != outputs.numel():
            raise ValueError(
                f"loss='mse' with real targets needs y with as many values as the outputs "
                f"{tuple(outputs.shape)}; got y of shape {tuple(y.shape)}."
            )
        target = y.reshape(outputs.shape)
    else:
        target = F.one_hot(y.reshape(outputs.shape[:-1]), outputs.shape[-1]).to(outputs.dtype)
    return F.mse_loss(outputs, target)


def _loss_function(loss: Any) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if isinstance(loss, str):
        if loss in ("cross_entropy", "bce"):
            # "bce" (GrokLSTMClassifier's) is the cross-entropy of its logits [0, z]
            return _cross_entropy
        if loss == "mse":
            return _mse
        if loss == "stablemax":
            return _stablemax
        raise ValueError(
            f"loss must be one of {', '.join(map(repr, LOSSES))} or a callable "
            f"(outputs, y) -> scalar tensor; got {loss!r}."
        )
    if callable(loss):
        return loss
    raise TypeError(
        f"loss must be one of {', '.join(map(repr, LOSSES))} or a callable "
        f"(outputs, y) -> scalar tensor; got {loss!r} of type {type(loss).__name__}."
    )


def _layer_of_parameters(module: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """Every trainable parameter with the name of the submodule owning it."""
    owned = []
    for name, sub in module.named_modules():
        for parameter in sub.parameters(recurse=False):
            if parameter.requires_grad:
                owned.append((name or "module", parameter))
    return owned


#: Probes always taken before the standard-error stopping rule may stop.
MIN_PROBES = 10


@measure(needs=("X", "y"), task_keys=("loss",))
def hessian_trace(
    module: nn.Module,
    X: Any,
    y: Any,
    loss: str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    *,
    n_probes: int = 100,
    tol: float = 0.01,
    random_state: int = 0,
    per_layer: bool = False,
) -> float | dict[str, float]:
    r"""Trace of the Hessian of the loss over the parameters, by Hutchinson's estimator.

    Tan & Huang (§2.1) call :math:`S(W) = \operatorname{Tr}\nabla^2\mathcal L(W)` the
    sharpness and find it decreases steadily through training (§3.1, Fig. 2). With
    Rademacher probes :math:`v` (entries :math:`\pm 1`),

    .. math:: \operatorname{Tr} H = \mathbb E_v\big[v^\top H v\big]
              \approx \frac1m\sum_{k=1}^{m} v_k^\top H v_k,

    each :math:`Hv` a Hessian-vector product by double backpropagation (PyHessian's
    method). Probing stops early, after at least ``MIN_PROBES`` probes, once the
    standard error of the mean is below ``tol`` relative to its absolute value,
    :math:`s_m/\sqrt m \le \text{tol}\,|\bar t_m|`. (PyHessian stops when the
    running mean moves by less than tol; that rule stops by chance whenever two
    consecutive probes happen to agree, and on small MLPs left errors up to 70 %
    here. The variance of one probe is :math:`2\sum_{i\ne j}H_{ij}^2`, which the
    sample standard deviation :math:`s_m` estimates.)

    The loss is evaluated once on all of ``(X, y)`` with the module in eval mode
    (no dropout); parameters, their ``.grad`` and the training mode are left as
    they were (gradients are taken with :func:`torch.autograd.grad`, which never
    writes ``.grad``).

    Parameters
    ----------
    module : nn.Module
    X : array or tensor
        Inputs (the training set in ``progress_``).
    y : array or tensor
        Targets: class labels for ``"cross_entropy"``; class labels (one-hot encoded
        here) or real targets for ``"mse"``.
    loss : {"cross_entropy", "mse", "stablemax"} or callable
        ``"stablemax"`` is :func:`grokkit.losses.stablemax_cross_entropy`. A callable
        ``loss(outputs, y) -> scalar tensor``, or ``"mse"`` = mean of the
        squared error over all output entries (``F.mse_loss``, Omnigrok's loss);
        the paper's :math:`\frac{1}{2n}\sum_i\|f(x_i) - \mathrm{onehot}(y_i)\|^2` is
        that times C/2 for C classes.
    n_probes : int, default=100
        Largest number of probes.
    tol : float, default=0.01
        Relative standard error of the estimate that stops probing; 0 uses all probes.
        On small networks one probe's spread can exceed the trace itself (off-diagonal
        Hessian mass), so the 100 default probes may all be used and still leave a
        ~10 % standard error: raise ``n_probes`` for precise values.
    random_state : int, default=0
        Seed of the probes (drawn on the CPU, so identical on every device).
    per_layer : bool, default=False
        Also return the trace of each submodule's diagonal Hessian block,
        estimated with the same probes (:math:`\mathbb E[v_\ell^\top (Hv)_\ell] =
        \operatorname{Tr} H_{\ell\ell}`); the blocks sum to the total.

    Returns
    -------
    float or dict
        The trace estimate, or with ``per_layer`` a dict with ``"total"`` (recorded
        as column ``hessian_trace``) and one entry per submodule owning parameters
        (``fc1``, ...).

    Examples
    --------
    >>> import torch
    >>> from grokkit.models import MLP
    >>> _ = torch.manual_seed(0)
    >>> net = MLP(3, 2, (4,))
    >>> X, y = torch.randn(16, 3), torch.randint(0, 2, (16,))
    >>> hessian_trace(net, X, y, "cross_entropy") > 0
    True
    """
    loss_fn = _loss_function(loss)
    check_number("n_probes", n_probes, low=1, integer=True)
    check_number("tol", tol, low=0.0)
    check_number("random_state", random_state, low=0, integer=True)
    if not isinstance(per_layer, (bool, np.bool_)):
        raise TypeError(f"per_layer must be a bool; got {per_layer!r}.")
    owned = _layer_of_parameters(module)
    if not owned:
        raise ValueError("module has no trainable parameters; its Hessian trace is undefined.")
    layers = list(dict.fromkeys(name for name, _ in owned))
    params = [parameter for _, parameter in owned]
    X = as_module_tensor(X, module)
    y = numpy_tensor(y.detach() if torch.is_tensor(y) else y)
    y = y.to(device=X.device, dtype=y.dtype if not y.is_floating_point() else X.dtype)
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y must have one target per sample of X ({X.shape[0]}); got shape {tuple(y.shape)}."
        )

    was_training = module.training
    module.eval()
    try:
        with torch.enable_grad():
            value = loss_fn(module(X), y)
            if not torch.is_tensor(value) or value.numel() != 1:
                raise ValueError(
                    f"loss must return a scalar tensor; got {type(value).__name__}"
                    + (f" of shape {tuple(value.shape)}" if torch.is_tensor(value) else "")
                    + "."
                )
            grads = torch.autograd.grad(value.reshape(()), params, create_graph=True)
            # A gradient that does not depend on the parameters has a zero Hessian row.
            live = [i for i, g in enumerate(grads) if g.requires_grad]
            generator = torch.Generator(device="cpu").manual_seed(int(random_state))
            layer_index = torch.tensor([layers.index(name) for name, _ in owned])
            sums = torch.zeros(len(layers), dtype=torch.float64)
            n_used = 0
            totals: list[float] = []
            for _ in range(n_probes):
                probes = [
                    (torch.randint(0, 2, p.shape, generator=generator) * 2 - 1).to(
                        device=p.device, dtype=p.dtype
                    )
                    for p in params
                ]
                per_parameter = torch.zeros(len(params), dtype=torch.float64)
                if live:
                    products = torch.autograd.grad(
                        [grads[i] for i in live],
                        params,
                        grad_outputs=[probes[i] for i in live],
                        retain_graph=True,
                        allow_unused=True,
                    )
                    per_parameter = torch.stack(
                        [
                            torch.zeros((), dtype=torch.float64, device=params[0].device)
                            if hv is None
                            else (hv * v).sum().to(torch.float64)
                            for hv, v in zip(products, probes, strict=True)
                        ]
                    ).cpu()
                sums.index_add_(0, layer_index, per_parameter)
                n_used += 1
                totals.append(float(per_parameter.sum()))
                if n_used >= MIN_PROBES and tol > 0:
                    standard_error = float(np.std(totals, ddof=1)) / np.sqrt(n_used)
                    if standard_error <= tol * abs(float(np.mean(totals))):
                        break
    finally:
        module.train(was_training)
    traces = (sums / n_used).tolist()
    total = float(sum(traces))
    if not per_layer:
        return total
    return {"total": total, **dict(zip(layers, traces, strict=True))}
