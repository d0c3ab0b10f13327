"""Training at a fixed weight norm (Omnigrok §3–5, the constrained runs)."""

from __future__ import annotations

from typing import Any

import torch
from skorch.callbacks import Callback

from grokkit._validation import check_number
from grokkit.models.init import parameter_norm


class NormConstraint(Callback):
    r"""Keep :math:`\|\theta\|_2` fixed by rescaling after every optimizer step.

    Omnigrok (§3, App. B) removes grokking by optimising only the direction
    of the parameters: after each ``optimizer.step()`` every parameter
    (biases included) is multiplied by :math:`w / \|\theta\|_2`, so the norm
    stays at the target ``w``. Use it with weight decay 0, as Omnigrok does:
    decay would only fight the rescaling.

    Parameters
    ----------
    target : True or float
        ``True`` keeps the norm the module has when training starts (after the
        α scaling); a positive float rescales to that norm first and keeps it.
    """

    def __init__(self, target: bool | float = True) -> None:
        self.target = target

    def initialize(self) -> NormConstraint:
        if self.target is not True:
            check_number("constrain_norm", self.target, low=0, low_inclusive=False)
        return self

    def on_train_begin(self, net: Any, **kwargs: Any) -> None:
        self.parameters_ = [p for p in net.module_.parameters() if p.requires_grad]
        norm = parameter_norm(net.module_)
        self.target_norm_ = float(norm) if self.target is True else float(self.target)
        self.rescale()

    @torch.no_grad()
    def rescale(self) -> None:
        """Multiply all parameters so that their joint L2 norm is the target."""
        norms = torch._foreach_norm(self.parameters_)
        total = torch.linalg.vector_norm(torch.stack(norms))
        torch._foreach_mul_(self.parameters_, self.target_norm_ / total)

    @staticmethod
    @torch.no_grad()
    def rescale_stacked(params: list[torch.Tensor], targets: torch.Tensor, constrained: torch.Tensor) -> None:
        """:meth:`rescale` for K runs stacked along the leading axis.

        θ_k ← θ_k · w_k / ‖θ_k‖₂ for every run k where ``constrained[k]``.
        """
        norms = torch.stack([p.flatten(1).norm(dim=1) for p in params], dim=1)
        total = torch.linalg.vector_norm(norms, dim=1)
        scale = torch.where(constrained, targets / total, torch.ones_like(total))
        for p in params:
            p.mul_(scale.view((-1,) + (1,) * (p.dim() - 1)))

    def on_batch_end(self, net: Any, training: bool = False, **kwargs: Any) -> None:
        if training:
            self.rescale()

    def on_train_end(self, net: Any, **kwargs: Any) -> None:
        self.parameters_ = []
