"""What a grokkit run minimises: the criterion, the penalties and the optimizer that steps on it."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

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

#: Rows of a minibatch on which the ``mi_penalty`` term is computed (three
#: eigendecompositions of this size per step).
MI_PENALTY_SAMPLES = 256


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
        """The objective: criterion + δ‖θ‖² (``norm_penalty``) − w·I(X; outputs) (``mi_penalty``)."""
        loss = self.criterion_(y_pred, y_true)
        if training and self.norm_penalty:
            squares = torch.stack([p.pow(2).sum() for p in self.module_.parameters()])
            loss = loss + self.norm_penalty * squares.sum()
        if training and self.mi_penalty and X is not None:
            loss = loss - self.mi_penalty * self._mutual_information(X, y_pred)
        return loss

    def _mutual_information(self, X: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Differentiable matrix MI between inputs and outputs on a random subsample of the batch."""
        from grokkit.measures.matrix_info import _matrix_mutual_information_torch

        rows = self._mi_input(X)
        if len(rows) > MI_PENALTY_SAMPLES:
            keep = torch.randperm(len(rows), generator=self._shuffle_generator,
                                  device=self.device_)[:MI_PENALTY_SAMPLES]
            rows, y_pred = rows[keep], y_pred[keep]
        return _matrix_mutual_information_torch(rows, y_pred.reshape(len(y_pred), -1))

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
