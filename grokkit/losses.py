r"""StableMax and its cross-entropy (Prieto, Barsbey, Mediano & Birdal, 2025, §3.3).

Past memorisation, float32 softmax cross-entropy reaches *softmax collapse*:
:math:`\sum_j e^{x_j - x_{\max}}` rounds to exactly 1, the loss of the sample
to exactly 0 and its gradient with it. Prieto et al. replace the exponential
by

.. math:: s(x) = \begin{cases} x + 1 & x \ge 0 \\ \dfrac{1}{1 - x} & x < 0 \end{cases}
          \qquad \operatorname{StableMax}(x)_i = \frac{s(x_i)}{\sum_j s(x_j)},

which grows linearly for positive logits and decays like :math:`1/|x|` for
negative ones instead of exponentially, so the other classes' share
shrinks polynomially, not exponentially, as the logits are scaled up. :math:`s` is continuous
with a continuous first derivative at 0 (value 1, slope 1), positive and
increasing, so StableMax is a proper distribution with the same ranking as
softmax.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

REDUCTIONS = ("mean", "sum", "none")


def stablemax_s(x: torch.Tensor) -> torch.Tensor:
    """StableMax's s(x) = x + 1 for x >= 0 and 1/(1 - x) for x < 0, elementwise in x's own dtype."""
    # Both branches are evaluated by torch.where: clamp each to its own half
    # so that neither produces inf (1/(1-x) at x = 1) whose 0-weighted
    # gradient would be NaN.
    return torch.where(x >= 0, x.clamp(min=0) + 1, 1 / (1 - x.clamp(max=0)))


def _check_logits(name: str, x: Any) -> torch.Tensor:
    if not torch.is_tensor(x):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__}.")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor; got dtype {x.dtype}.")
    return x


def _check_reduction(reduction: Any) -> None:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(map(repr, REDUCTIONS))}; got {reduction!r}.")


def _working_dtype(x: torch.Tensor) -> torch.dtype:
    """float32 at least: half-precision logits are upcast, float64 stays float64."""
    return torch.promote_types(x.dtype, torch.float32)


def stablemax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    r"""StableMax probabilities :math:`s(x_i) / \sum_j s(x_j)` along ``dim`` (Prieto et al. 2025, Eq. 5).

    Parameters
    ----------
    x : Tensor
        Logits, any floating dtype (computed in at least float32).
    dim : int, default=-1
        The class dimension.

    Returns
    -------
    Tensor
        Same shape as ``x``, non-negative, summing to 1 along ``dim``.

    Examples
    --------
    >>> import torch
    >>> stablemax(torch.tensor([0.0, 1.0, -1.0])).tolist()   # s = 1, 2, 1/2
    [0.2857142984867096, 0.5714285969734192, 0.1428571492433548]
    """
    x = _check_logits("x", x)
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int; got {dim!r}.")
    if not -x.dim() <= dim < max(x.dim(), 1):
        raise ValueError(f"dim must be in [{-x.dim()}, {x.dim() - 1}] for x of shape {tuple(x.shape)}; "
                         f"got {dim}.")
    s = stablemax_s(x.to(_working_dtype(x)))
    return s / s.sum(dim=dim, keepdim=True)


def stablemax_cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Cross-entropy of StableMax probabilities against class indices (Prieto et al. 2025, §3.3).

    .. math:: \ell(x, y) = -\log \frac{s(x_y)}{\sum_j s(x_j)}
              = \log\Bigl(1 + \frac{\sum_{j \ne y} s(x_j)}{s(x_y)}\Bigr)

    The right-hand form is what is computed, with ``log1p``: the sum over
    the *other* classes is taken directly (the target entry is zeroed, not
    subtracted from the total), so neither the normaliser nor the loss is
    ever the difference of two nearly equal numbers, and no ``logsumexp`` is
    needed because :math:`s` neither overflows nor underflows for any finite
    float32 logit below ~3e38. A confident sample's loss stays a small
    positive number, :math:`\approx \sum_{j \ne y} s(x_j)/s(x_y)`, instead of
    being absorbed to 0 as :math:`1 + \varepsilon` would be. Computed in
    float32 at least (half precision is upcast), float64 for float64 logits;
    the result has that dtype. The public code computes
    :math:`\log(s_i / \sum_j s_j)` in float64 instead.

    Parameters
    ----------
    logits : Tensor, shape (..., n_classes)
        Unnormalised scores.
    target : Tensor of int, shape (...)
        Class indices in ``[0, n_classes)``, like :class:`torch.nn.CrossEntropyLoss`.
        Their range is checked for CPU tensors; on a GPU an index out of range
        raises the device's indexing error (checking would synchronise every step).
    reduction : {"mean", "sum", "none"}, default="mean"
        Mean or sum over samples, or the per-sample losses (shape ``(...)``).

    Returns
    -------
    Tensor
        A scalar, or the per-sample losses with ``reduction="none"``.

    Examples
    --------
    >>> import torch
    >>> logits = torch.tensor([[0.0, 1.0, -1.0]])
    >>> float(stablemax_cross_entropy(logits, torch.tensor([1])))  # -log(2 / 3.5)
    0.5596157908439636
    """
    logits = _check_logits("logits", logits)
    if not torch.is_tensor(target):
        raise TypeError(f"target must be a torch.Tensor of class indices; got {type(target).__name__}.")
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(
            f"target must hold integer class indices (like nn.CrossEntropyLoss's); got dtype {target.dtype}."
        )
    _check_reduction(reduction)
    if logits.dim() < 1 or tuple(target.shape) != tuple(logits.shape[:-1]):
        raise ValueError(
            f"target must have the shape of logits without its class dimension, "
            f"{tuple(logits.shape[:-1])}; got logits {tuple(logits.shape)} and target {tuple(target.shape)}."
        )
    n_classes = logits.shape[-1]
    if target.device.type == "cpu" and target.numel() and (
        int(target.min()) < 0 or int(target.max()) >= n_classes
    ):
        raise ValueError(
            f"target must hold class indices in [0, {n_classes}); got values from "
            f"{int(target.min())} to {int(target.max())}."
        )
    s = stablemax_s(logits.to(_working_dtype(logits)))
    index = target.to(device=s.device, dtype=torch.long).unsqueeze(-1)
    s_target = s.gather(-1, index).squeeze(-1)
    others = s.scatter(-1, index, 0.0).sum(dim=-1)
    losses = torch.log1p(others / s_target)
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


class StableMaxCrossEntropy(nn.Module):
    r"""StableMax cross-entropy as a criterion, a drop-in for :class:`torch.nn.CrossEntropyLoss`.

    ``criterion(logits, target)`` is :func:`stablemax_cross_entropy` (Prieto,
    Barsbey, Mediano & Birdal 2025, §3.3): :math:`-\log\bigl(s(x_y)/\sum_j s(x_j)\bigr)`
    with :math:`s(x) = x + 1` for :math:`x \ge 0` and :math:`1/(1 - x)` below,
    on class-index targets.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default="mean"

    Examples
    --------
    >>> import torch
    >>> criterion = StableMaxCrossEntropy()
    >>> round(float(criterion(torch.tensor([[0.0, 1.0, -1.0]]), torch.tensor([1]))), 4)
    0.5596
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(reduction)
        self.reduction = reduction

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return stablemax_cross_entropy(logits, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


def barlow_twins_loss(z1: torch.Tensor, z2: torch.Tensor, off_diagonal: float) -> torch.Tensor:
    r"""Barlow Twins loss of two views' embeddings (Zbontar et al. 2021; Tan & Huang App. A, Fig. 14).

    .. math::
        \tilde z_{k,i} = \frac{z_{k,i} - \bar z_i}{\sqrt{\operatorname{var}(z_i) + \epsilon}},
        \qquad C = \frac{1}{n}\tilde Z_1^\top \tilde Z_2,
        \qquad \mathcal L_{BT} = \sum_i (1 - C_{ii})^2 + \lambda_{\text{off}}\sum_{i \ne j} C_{ij}^2

    with the batch mean and (biased) batch variance of each feature of each view,
    and :math:`\epsilon` the machine epsilon of the dtype (BatchNorm's guard: a
    feature that is constant over the batch, e.g. a dead ReLU unit, standardises
    to 0 instead of NaN). :math:`C_{ii} = 1` when feature ``i`` is the same in both
    views up to an affine map, so the first term asks the embedding of (a, b) to
    equal that of (b, a) (the commutative law) and the second decorrelates the
    features.

    Parameters
    ----------
    z1, z2 : Tensor of shape (n, d)
        Embeddings of the two views of the same ``n`` samples, in the same order.
    off_diagonal : float
        :math:`\lambda_{\text{off}} \ge 0`.

    Returns
    -------
    Tensor
        0-d, in ``z1``'s dtype, with the autograd graph kept.
    """
    eps = torch.finfo(z1.dtype).eps

    def standardise(z: torch.Tensor) -> torch.Tensor:
        return (z - z.mean(dim=0)) / torch.sqrt(z.var(dim=0, unbiased=False) + eps)

    correlation = standardise(z1).T @ standardise(z2) / z1.shape[0]
    diagonal = torch.diagonal(correlation)
    off = correlation.pow(2).sum() - diagonal.pow(2).sum()
    return (1 - diagonal).pow(2).sum() + off_diagonal * off
