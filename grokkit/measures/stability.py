r"""Numerical-stability measures of Prieto, Barsbey, Mediano & Birdal (2025, §3–4).

Past memorisation without regularisation the logits grow until float
softmax *collapses*: for a confident sample :math:`\sum_j e^{x_j - x_{\max}}`
rounds to exactly 1, its cross-entropy to exactly 0 and its gradient
vanishes (§3). Before that, the gradient aligns with *naïve loss
minimisation* (NLM, §4): the direction that only scales the logits up, which
for a network homogeneous in its parameters is the weights θ themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from grokkit._validation import check_bool
from grokkit.losses import stablemax_s
from grokkit.measures._capture import as_module_tensor, evaluation, numpy_tensor
from grokkit.measures.registry import measure
from grokkit.measures.sharpness import _loss_function

DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
          "float64": torch.float64}


def _labels(y: Any, n: int, device: torch.device) -> torch.Tensor:
    labels = numpy_tensor(y.detach() if torch.is_tensor(y) else y)
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise TypeError(f"y must hold integer class labels; got dtype {labels.dtype}.")
    labels = labels.reshape(-1).to(device=device, dtype=torch.long)
    if labels.shape[0] != n:
        raise ValueError(f"y must have one label per sample of X ({n}); got {labels.shape[0]}.")
    return labels


def _resolve_dtype(dtype: Any, default: torch.dtype) -> torch.dtype:
    if dtype is None:
        return default
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype]
    if isinstance(dtype, torch.dtype) and dtype.is_floating_point:
        return dtype
    raise ValueError(f"dtype must be None, one of {', '.join(map(repr, DTYPES))} or a floating "
                     f"torch.dtype; got {dtype!r}.")


#: Losses whose absorption softmax_collapse evaluates with the softmax normaliser
#: (``"bce"`` is the cross-entropy of the LSTM's logits [0, z]; ``"mse"`` has no
#: normaliser of its own, so a softmax read-out of its outputs is evaluated).
SOFTMAX_LOSSES = ("cross_entropy", "bce", "mse")
COLLAPSE_LOSSES = (*SOFTMAX_LOSSES, "stablemax")


@measure(needs=("X", "y", "logits"), task_keys=("loss",))
def softmax_collapse(
    module: nn.Module,
    X: Any,
    y: Any,
    logits: torch.Tensor | None = None,
    loss: str = "cross_entropy",
    *,
    dtype: str | torch.dtype | None = None,
) -> float:
    r"""Fraction of samples whose cross-entropy is absorbed to exactly 0 (Prieto et al. 2025, §3).

    The loss is the run's own: the recorder passes the estimator's ``loss``
    (``task_info``), a direct call takes ``loss="cross_entropy"``.

    **Softmax** (``"cross_entropy"``, and ``"bce"``/``"mse"``, see below). With
    :math:`m = \max_j x_j` and :math:`S = \sum_j e^{x_j - m}` computed in the
    working dtype, the log-probability of the label is
    :math:`\log p_y = (x_y - m) - \log S`. A sample is *collapsed* when this is
    exactly 0.0, i.e. when :math:`x_y = m` and every other class's
    :math:`e^{x_j - m}` is absorbed, :math:`S = 1` (:math:`\log` of the next
    float above 1 is not 0). Its loss and the gradient of its label's logit
    are then exactly zero:

    .. math:: \mathrm{SC} = \frac1n \#\{i : x_{i, y_i} = \max_j x_{ij},\ S_i = 1\}.

    **StableMax** (``loss="stablemax"``, §3.3). The loss is
    :math:`-\log\bigl(s(x_y) / \sum_j s(x_j)\bigr)` with
    :math:`s(x) = x + 1` for :math:`x \ge 0` and :math:`1/(1 - x)` for
    :math:`x < 0`. It is absorbed to 0 when the label's probability rounds to
    exactly 1, i.e. when the other classes' mass
    :math:`r = \sum_{j \ne y} s(x_j)` is absorbed by the label's term,
    :math:`s(x_y) + r = s(x_y)` in the working dtype (which implies that
    :math:`x_y` is the maximum):

    .. math:: \mathrm{SC}_{\mathrm{StableMax}} = \frac1n
              \#\{i : \mathrm{fl}\bigl(s(x_{i,y_i}) + r_i\bigr) = s(x_{i,y_i})\}.

    As :math:`s` decays only like :math:`1/|x|`, this needs
    :math:`r / s(x_y) \lesssim 2^{-24}` in float32: margins of order :math:`10^4`
    for 100 classes, where softmax collapses at margins of about 17 (2
    classes) to 21 (100 classes).
    :func:`grokkit.losses.stablemax_cross_entropy` computes
    :math:`\log(1 + r/s(x_y))` with ``log1p``, which stays positive even
    then; the measure counts the samples at which the paper's formula is
    absorbed, the StableMax analogue of softmax collapse.

    Prieto et al.'s public logger records the fraction with :math:`S = 1`
    whatever the label; the two agree on correctly classified samples, which
    is every training sample once the set is memorised. ``"bce"``
    (GrokLSTMClassifier's) is the softmax cross-entropy of its logits
    :math:`[0, z]`, so it is the softmax case; ``"mse"`` has no normaliser
    of its own and gets the softmax read-out of its outputs. Pass
    ``("softmax_collapse", {"loss": "cross_entropy"})`` as the measure to
    record the softmax read-out of a StableMax run's logits instead.

    Parameters
    ----------
    module : nn.Module
        Maps ``X`` to logits of shape (n, n_classes); run in eval mode without
        gradients when ``logits`` is not given (training flag restored).
    X : array or tensor
        Inputs (the training set in ``progress_``).
    y : array or tensor of int
        Class labels.
    logits : Tensor, optional
        The module's outputs on ``X`` when already computed (the recorder
        passes them, so no forward pass is run).
    loss : {"cross_entropy", "bce", "mse", "stablemax"}, default="cross_entropy"
        The training loss whose absorption is counted (the recorder passes
        the estimator's).
    dtype : None, "float16", "bfloat16", "float32", "float64" or torch.dtype
        Working dtype: ``None`` = the logits' dtype (the module's). Prieto et
        al. evaluate float32.

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Linear(2, 3, bias=False)
    >>> _ = net.weight.data.copy_(torch.tensor([[100.0, 0.0], [0.0, 0.0], [-1.0, 0.0]]))
    >>> softmax_collapse(net, torch.tensor([[1.0, 0.0], [0.01, 0.0]]), torch.tensor([0, 0]))
    0.5
    >>> softmax_collapse(net, torch.tensor([[1.0, 0.0], [0.01, 0.0]]), torch.tensor([0, 0]),
    ...                  loss="stablemax")
    0.0
    """
    if not isinstance(loss, str) or loss not in COLLAPSE_LOSSES:
        raise ValueError(f"loss must be one of {', '.join(map(repr, COLLAPSE_LOSSES))}; got {loss!r}.")
    if logits is None:
        inputs = as_module_tensor(X, module)
        with evaluation(module):
            logits = module(inputs)
    if not torch.is_tensor(logits) or logits.dim() != 2:
        raise ValueError(
            "softmax_collapse needs logits of shape (n_samples, n_classes); got "
            + (f"shape {tuple(logits.shape)}." if torch.is_tensor(logits) else f"{type(logits).__name__}.")
        )
    z = logits.detach().to(_resolve_dtype(dtype, logits.dtype))
    labels = _labels(y, z.shape[0], z.device)
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= z.shape[1]):
        raise ValueError(f"y must hold class indices in [0, {z.shape[1]}); got values from "
                         f"{int(labels.min())} to {int(labels.max())}.")
    if z.shape[0] == 0:
        raise ValueError("softmax_collapse needs at least one sample.")
    if loss == "stablemax":
        s = stablemax_s(z)
        label_term = s.gather(1, labels[:, None]).squeeze(1)
        others = s.scatter(1, labels[:, None], 0).sum(dim=1)
        collapsed = (label_term + others) == label_term
    else:
        top = z.max(dim=1).values
        shifted_sum = torch.exp(z - top[:, None]).sum(dim=1)
        at_max = z.gather(1, labels[:, None]).squeeze(1) == top
        collapsed = at_max & (shifted_sum == 1)
    return float(collapsed.double().mean())


@measure(needs=("X", "y"), task_keys=("loss",))
def nlm_alignment(
    module: nn.Module,
    X: Any,
    y: Any,
    loss: str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = "cross_entropy",
    *,
    per_parameter: bool = False,
) -> float | dict[str, float]:
    r"""Cosine between the descent direction and the naïve-loss-minimisation direction θ (Prieto et al. §4).

    Naïve loss minimisation (NLM) lowers the loss by scaling the logits up
    without changing any prediction. For a network that is positively
    homogeneous in its parameters, :math:`f(x; c\theta) = c^L f(x; \theta)`
    (bias-free ReLU MLPs; not exactly with biases or normalisation layers),
    that direction is θ itself. The measure is the cosine between the
    *descent* direction :math:`-\nabla_\theta L` and θ, over all trainable
    parameters flattened into one vector:

    .. math:: \cos_{\mathrm{NLM}} = \frac{\langle -\nabla_\theta L, \theta\rangle}
              {\|\nabla_\theta L\|\,\|\theta\|}.

    Sign convention: **+1** means a gradient step only scales the weights up
    (pure NLM), −1 that it only shrinks them, 0 that it is orthogonal to them
    (what ⊥Grad enforces). Prieto et al. report this alignment rising after
    memorisation. The cosine of the gradient itself (not its negative) is
    the opposite number. NaN when the gradient is exactly zero (e.g. full
    softmax collapse) or θ is.

    The loss is evaluated once on all of ``(X, y)`` in eval mode; gradients
    are taken with :func:`torch.autograd.grad` (``.grad`` is never written),
    and the training mode is restored. Dot products accumulate in float64.

    Parameters
    ----------
    module : nn.Module
    X : array or tensor
        Inputs (the training set in ``progress_``).
    y : array or tensor
        Targets as the loss takes them (class labels for ``"cross_entropy"``
        and ``"stablemax"``).
    loss : {"cross_entropy", "mse", "stablemax"} or callable, default="cross_entropy"
        The training loss (see :func:`grokkit.measures.hessian_trace`).
    per_parameter : bool, default=False
        Also return the cosine for each parameter tensor (the per-tensor
        direction ⊥Grad projects out), keyed by parameter name.

    Returns
    -------
    float or dict
        The cosine in [−1, 1], or with ``per_parameter`` a dict with ``"total"``
        and one entry per parameter name.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Linear(1, 2, bias=False)
    >>> _ = net.weight.data.copy_(torch.tensor([[1.0], [-1.0]]))
    >>> round(nlm_alignment(net, torch.ones(3, 1), torch.zeros(3, dtype=torch.long)), 6)
    1.0
    """
    loss_fn = _loss_function(loss)
    check_bool("per_parameter", per_parameter)
    named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError("module has no trainable parameters; nlm_alignment is undefined.")
    inputs = as_module_tensor(X, module)
    targets = numpy_tensor(y.detach() if torch.is_tensor(y) else y)
    targets = targets.to(device=inputs.device,
                         dtype=targets.dtype if not targets.is_floating_point() else named[0][1].dtype)
    if targets.shape[0] != inputs.shape[0]:
        raise ValueError(f"y must have one target per sample of X ({inputs.shape[0]}); "
                         f"got shape {tuple(targets.shape)}.")
    params = [p for _, p in named]
    was_training = module.training
    module.eval()
    try:
        with torch.enable_grad():
            value = loss_fn(module(inputs), targets)
            grads = torch.autograd.grad(value.reshape(()), params, allow_unused=True)
    finally:
        module.train(was_training)
    dots, grad_squares, weight_squares = [], [], []
    for p, g in zip(params, grads, strict=True):
        w = p.detach().to(torch.float64)
        g = torch.zeros_like(w) if g is None else g.detach().to(torch.float64)
        dots.append(-(g * w).sum())
        grad_squares.append((g * g).sum())
        weight_squares.append((w * w).sum())
    dots_t, grads_t, weights_t = (torch.stack(v).cpu() for v in (dots, grad_squares, weight_squares))

    def cosine(dot: torch.Tensor, g2: torch.Tensor, w2: torch.Tensor) -> float:
        denominator = float(torch.sqrt(g2) * torch.sqrt(w2))
        return float(dot) / denominator if denominator > 0 else float("nan")

    total = cosine(dots_t.sum(), grads_t.sum(), weights_t.sum())
    if not per_parameter:
        return total
    per_tensor = {name: cosine(d, g2, w2)
                  for (name, _), d, g2, w2 in zip(named, dots_t, grads_t, weights_t, strict=True)}
    return {"total": total, **per_tensor}
