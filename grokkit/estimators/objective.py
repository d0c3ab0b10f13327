"""What a grokkit run minimises: the criterion, the penalties and the optimizer that steps on it."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from grokkit.estimators.penalties import PenaltyInputs, active_terms, training_objective
from grokkit.losses import StableMaxCrossEntropy
from grokkit.optim import OrthoAdamW

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adamw": torch.optim.AdamW,
    "adam": torch.optim.Adam,
    "sgd": torch.optim.SGD,
    "orthoadamw": OrthoAdamW,
}

#: The criterion of each ``loss`` name. ``"bce"`` (the LSTM's) is the cross-entropy of
#: the module's logits [0, z], which is the binary cross-entropy of z.
CRITERIA: dict[str, type[nn.Module]] = {
    "cross_entropy": nn.CrossEntropyLoss,
    "bce": nn.CrossEntropyLoss,
    "mse": nn.MSELoss,
    "stablemax": StableMaxCrossEntropy,
}

class Objective:
    """Mixin of :class:`~grokkit.estimators.base.GrokNet`: criterion, penalties, optimizer."""

    def initialize_criterion(self) -> Any:
        """The training criterion, also what ``train_loss``/``test_loss`` of ``progress_`` record.

        ``criterion__*`` arguments go to its constructor (e.g. ``criterion__label_smoothing=0.1``).
        """
        prefixed = self.get_params_for("criterion")
        self.criterion_ = _construct(CRITERIA[self.loss], "criterion", prefixed, **prefixed).to(self.device_)
        return self

    def initialize_optimizer(self, triggered_directly: Any = None) -> Any:
        opt_cls = OPTIMIZERS[self.optimizer] if isinstance(self.optimizer, str) else self.optimizer
        kwargs = {"lr": self.lr, "weight_decay": self.weight_decay}
        if issubclass(opt_cls, (torch.optim.Adam, torch.optim.AdamW)):
            kwargs["betas"] = tuple(self.betas)
        prefixed = self.get_params_for("optimizer")
        kwargs.update(prefixed)
        self.optimizer_ = _construct(opt_cls, "optimizer", prefixed, self.module_.parameters(), **kwargs)
        return self

    def get_loss(self, y_pred: torch.Tensor, y_true: torch.Tensor, X: Any = None,
                 training: bool = False) -> torch.Tensor:
        """The objective: the criterion, plus the switched-on penalties when training.

        The penalties are :mod:`grokkit.estimators.penalties`' registered units
        (``norm_penalty``: + δ‖θ‖², ``mi_penalty``: − w·I(X; outputs), ...),
        added by :func:`~grokkit.estimators.penalties.training_objective`, the
        function the stacked executor calls too.
        """
        if not training:
            return self.criterion_(y_pred, y_true)
        return training_objective(self.criterion_, y_pred, y_true, active_terms(self, self._declared),
                                  lambda: self.penalty_inputs(X, y_pred))

    def penalty_inputs(self, X: torch.Tensor | None, y_pred: torch.Tensor) -> PenaltyInputs:
        """What the penalty terms read at this step: this net's parameters, module and minibatch."""
        module = self.module_
        return PenaltyInputs(params=dict(module.named_parameters()), forward=module, X=X, y_pred=y_pred,
                             settings=self.__getattribute__, features=self._mi_input,
                             generator=getattr(self, "_shuffle_generator", None), module=module)

    def _mi_input(self, X: torch.Tensor) -> torch.Tensor:
        """The input as a float matrix for the MI penalty (token models one-hot encode)."""
        return X.reshape(len(X), -1).to(self.module_dtype_)


def _construct(cls: type, prefix: str, prefixed: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    """``cls(*args, **kwargs)``; a ``TypeError`` names the ``prefix__*`` arguments it came from."""
    try:
        return cls(*args, **kwargs)
    except TypeError as exc:
        if not prefixed:
            raise
        names = ", ".join(f"{prefix}__{k}" for k in sorted(prefixed))
        raise TypeError(f"{names} went to {cls.__name__}, which refused them: {exc}") from exc
