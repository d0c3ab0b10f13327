"""Tan & Huang's adaptive input noise, the robustness degrokking strategy (§3.2)."""

from __future__ import annotations

from typing import Any

import torch
from skorch.callbacks import Callback

from grokkit._validation import check_number


class InputNoise(Callback):
    r"""Train on inputs perturbed by :math:`\mathcal N(0, \sigma^2 I)` with an adaptive σ.

    .. math:: \sigma = \max\bigl(\lambda_1 (1 - \text{train acc}),\ \lambda_2\bigr)

    (Tan & Huang §3.2, Fig. 3: generalisation comes much sooner.) The train
    accuracy is that of the previous epoch's own minibatches, counted on the
    device as they pass (no extra forward pass); the first epoch uses
    accuracy 0, i.e. σ = max(λ₁, λ₂). σ is a standard deviation.

    The noise itself is applied by the model, which must have an
    ``input_noise_std`` attribute (every grokkit model does): MLPs perturb
    their input features, token models their token embeddings, in training
    mode only, so evaluation and ``progress_`` see clean inputs.

    Parameters
    ----------
    lambdas : (float, float)
        (λ₁, λ₂), both ≥ 0.
    """

    def __init__(self, lambdas: tuple[float, float] = (1.0, 0.0)) -> None:
        self.lambdas = lambdas

    def initialize(self) -> InputNoise:
        check_lambdas(self.lambdas)
        return self

    def on_train_begin(self, net: Any, **kwargs: Any) -> None:
        if not hasattr(net.module_, "input_noise_std"):
            raise ValueError(
                f"input_noise needs a model with an input_noise_std attribute; "
                f"{type(net.module_).__name__} has none."
            )
        self.sigma_ = self._sigma(0.0)

    def on_epoch_begin(self, net: Any, **kwargs: Any) -> None:
        # set every epoch, so a run resumed from a checkpoint (sigma_ restored) trains with it
        net.module_.input_noise_std = self.sigma_
        self._correct = torch.zeros((), device=net.device_, dtype=torch.long)
        self._seen = 0

    def on_batch_end(self, net: Any, batch: Any = None, training: bool = False,
                     y_pred: torch.Tensor | None = None, **kwargs: Any) -> None:
        if training and y_pred is not None:
            target = batch[1]
            labels = target.argmax(dim=1) if target.dim() == 2 else target
            self._correct += (y_pred.detach().argmax(dim=1) == labels).sum()
            self._seen += len(labels)

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        accuracy = float(self._correct) / max(self._seen, 1)
        self.sigma_ = self._sigma(accuracy)
        net.history.record("input_noise_std", self.sigma_)
        if net.initial_record_:
            # epoch 0 (recorded before training) reads the σ the first epoch trained with,
            # not a missing value
            net.initial_record_.setdefault("input_noise_std", self._sigma(0.0))

    def on_train_end(self, net: Any, **kwargs: Any) -> None:
        net.module_.input_noise_std = 0.0

    def _sigma(self, train_acc: float) -> float:
        lambda1, lambda2 = self.lambdas
        return max(lambda1 * (1.0 - train_acc), lambda2)


def check_lambdas(value: Any) -> None:
    """Validate ``input_noise=(lambda1, lambda2)``."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"input_noise must be None or a pair (lambda1, lambda2); got {value!r}.")
    check_number("input_noise lambda1", value[0], low=0)
    check_number("input_noise lambda2", value[1], low=0)
