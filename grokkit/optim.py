r"""⊥AdamW: AdamW on gradients with their component along the weights removed.

Prieto, Barsbey, Mediano & Birdal (2025, §5, "⊥Grad") find that past
memorisation the gradient mostly points along the weights themselves: for a
network that is homogeneous in its parameters, moving along θ only scales
the logits ("naïve loss minimisation"), which lowers the cross-entropy
without changing a prediction and ends in softmax collapse. ⊥Grad keeps, per
parameter tensor, only the part of the gradient orthogonal to it,

.. math:: \nabla_\perp L(\theta) = \nabla L(\theta)
          - \frac{\langle \nabla L(\theta), \theta \rangle}{\langle \theta, \theta \rangle}\, \theta,

and hands that to the optimizer; with AdamW this is ⊥AdamW, with which the
paper's models grok without weight decay.

:class:`StackedAdamW` is AdamW over K runs stacked along a leading axis, each
with its own ``lr`` and weight decay: the optimizer step of
:class:`grokkit.Sweep`'s stacked executor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch

from grokkit._validation import check_bool


@torch.no_grad()
def orthogonal_gradients_(params: Iterable[torch.Tensor], preserve_norm: bool = False) -> None:
    r"""Remove from each parameter's ``.grad`` its component along the parameter, in place.

    For every tensor θ with a gradient g (Prieto et al. 2025, §5, Eq. 10):

    .. math:: g \leftarrow g - \frac{\langle g, \theta\rangle}{\langle\theta, \theta\rangle}\,\theta

    so that :math:`\langle g, \theta \rangle = 0` up to rounding. A tensor that
    is all zeros (e.g. a last layer started at zero) defines no direction and
    keeps its gradient. Parameters without a gradient are skipped.

    Parameters
    ----------
    params : iterable of Tensor
        Parameters whose ``.grad`` is projected.
    preserve_norm : bool, default=False
        Rescale the projected gradient to the norm of the original one,
        :math:`g_\perp \|g\| / \|g_\perp\|`, as the public code's ``OrthoGrad``
        does; the paper's equation does not.

    Examples
    --------
    >>> import torch
    >>> theta = torch.nn.Parameter(torch.tensor([1.0, 0.0]))
    >>> theta.grad = torch.tensor([3.0, 4.0])
    >>> orthogonal_gradients_([theta])
    >>> theta.grad.tolist()
    [0.0, 4.0]
    """
    check_bool("preserve_norm", preserve_norm)
    if isinstance(params, torch.Tensor):
        raise TypeError("params must be an iterable of tensors (e.g. module.parameters()), not one tensor.")
    for theta in params:
        g = theta.grad
        if g is None:
            continue
        if g.is_sparse:
            raise TypeError("orthogonal_gradients_ does not support sparse gradients.")
        w = theta.detach()
        squared_norm = torch.dot(w.reshape(-1), w.reshape(-1))
        # a zero tensor has no direction to project on: coefficient 0, without a host sync
        coefficient = torch.where(squared_norm > 0, torch.dot(w.reshape(-1), g.reshape(-1)) / squared_norm,
                                  torch.zeros_like(squared_norm))
        norm = torch.linalg.vector_norm(g) if preserve_norm else None
        g.sub_(coefficient * w)
        if norm is not None:
            projected_norm = torch.linalg.vector_norm(g)
            g.mul_(torch.where(projected_norm > 0, norm / projected_norm, torch.ones_like(norm)))


class OrthoAdamW(torch.optim.AdamW):
    r"""⊥AdamW (Prieto, Barsbey, Mediano & Birdal 2025, §5): AdamW stepping on :math:`\nabla_\perp L`.

    Before every step each parameter's gradient is replaced, in place, by
    :math:`g - (\langle g, \theta\rangle/\langle\theta,\theta\rangle)\,\theta`
    (:func:`orthogonal_gradients_`); AdamW's moment estimates, bias
    correction and decoupled weight decay
    :math:`\theta \leftarrow \theta - \text{lr}\cdot\text{wd}\cdot\theta` are
    then exactly :class:`torch.optim.AdamW`'s. The gradient fed to Adam is
    orthogonal to θ; Adam's per-coordinate scaling :math:`\hat m/(\sqrt{\hat v}
    + \epsilon)` does not keep the *update* exactly orthogonal, as in the
    paper's construction (which projects the gradient, not the update).

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups, as for :class:`torch.optim.AdamW`.
    lr, betas, eps, weight_decay, amsgrad, ... :
        Passed to :class:`torch.optim.AdamW` unchanged (same defaults:
        lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01). The paper
        uses weight decay 0.
    preserve_norm : bool, default=False
        See :func:`orthogonal_gradients_` (the public code's rescaling).

    Examples
    --------
    >>> import torch
    >>> layer = torch.nn.Linear(3, 2, bias=False)
    >>> opt = OrthoAdamW(layer.parameters(), lr=1e-3, weight_decay=0.0)
    >>> layer(torch.ones(4, 3)).pow(2).sum().backward()
    >>> before = layer.weight.detach().clone()
    >>> opt.step()
    >>> abs(float((layer.weight.grad * before).sum())) < 1e-5   # the gradient Adam stepped on
    True
    """

    def __init__(self, params: Any, *args: Any, preserve_norm: bool = False, **kwargs: Any) -> None:
        check_bool("preserve_norm", preserve_norm)
        super().__init__(params, *args, **kwargs)
        # a group option, so that state_dict, pickles and added groups keep it
        self.defaults["preserve_norm"] = preserve_norm
        for group in self.param_groups:
            group.setdefault("preserve_norm", preserve_norm)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Project every gradient off its parameter, then take AdamW's step.

        A ``closure`` is evaluated first (with gradients enabled), so that the
        gradients it computes are the ones projected.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            orthogonal_gradients_(group["params"], preserve_norm=bool(group.get("preserve_norm", False)))
        super().step()
        return loss


class StackedAdamW:
    r"""AdamW over K stacked runs, each with its own ``lr`` and weight decay (betas and eps shared).

    The update of ``torch.optim.AdamW`` (Loshchilov & Hutter), for each run k:

    .. math::
        \theta \leftarrow \theta (1 - \eta_k \lambda_k),\quad
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,\\
        \theta \leftarrow \theta - \frac{\eta_k}{1-\beta_1^t}\,
        \frac{m}{\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon}

    in the same order of operations as PyTorch's single-tensor AdamW, the
    per-run factors computed in float64 as PyTorch computes its scalars.
    """

    def __init__(self, params: Sequence[torch.Tensor], lr: Sequence[float], weight_decay: Sequence[float],
                 betas: tuple[float, float], eps: float) -> None:
        self.params = list(params)
        self.lr = np.asarray(lr, dtype=np.float64)
        self.weight_decay = np.asarray(weight_decay, dtype=np.float64)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.step_count = 0
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        ref = self.params[0]
        self._decay = self._column(1.0 - self.lr * self.weight_decay, ref)

    @staticmethod
    def _column(values: np.ndarray, ref: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(values, dtype=ref.dtype, device=ref.device)

    @torch.no_grad()
    def step(self) -> None:
        self.step_count += 1
        beta1, beta2 = self.betas
        bias1 = 1.0 - beta1 ** self.step_count
        bias2_sqrt = math.sqrt(1.0 - beta2 ** self.step_count)
        step_size = self._column(self.lr / bias1, self.params[0])
        for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq, strict=True):
            if p.grad is None:
                continue
            shape = (-1,) + (1,) * (p.dim() - 1)
            g = p.grad
            p.mul_(self._decay.view(shape))
            m.lerp_(g, 1.0 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1.0 - beta2)
            denom = (v.sqrt() / bias2_sqrt).add_(self.eps)
            p.sub_(step_size.view(shape) * m / denom)

    def keep(self, rows: torch.Tensor, params: Sequence[torch.Tensor]) -> None:
        """Continue with the stacked runs ``rows`` only; ``params`` are the compacted parameters."""
        kept = rows.tolist()
        self.params = list(params)
        self.exp_avg = [m[rows] for m in self.exp_avg]
        self.exp_avg_sq = [v[rows] for v in self.exp_avg_sq]
        self.lr, self.weight_decay = self.lr[kept], self.weight_decay[kept]
        self._decay = self._column(1.0 - self.lr * self.weight_decay, self.params[0])

    def state_of(self, k: int) -> list[dict[str, torch.Tensor]]:
        """Run ``k``'s AdamW state, one dict per parameter, as ``torch.optim.AdamW`` keeps it."""
        step = torch.tensor(float(self.step_count))
        return [{"step": step.clone(), "exp_avg": m[k].clone(), "exp_avg_sq": v[k].clone()}
                for m, v in zip(self.exp_avg, self.exp_avg_sq, strict=True)]
