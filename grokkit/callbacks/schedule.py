"""Learning-rate schedules for grokkit runs: skorch's LRScheduler, counting grokkit's epochs."""

from __future__ import annotations

from typing import Any

from skorch.callbacks import LRScheduler as _SkorchLRScheduler
from torch.optim.lr_scheduler import ReduceLROnPlateau


class LRScheduler(_SkorchLRScheduler):
    """skorch's :class:`~skorch.callbacks.LRScheduler` for grokkit estimators.

    A grokkit ``history`` starts with an epoch-0 row (the state right after
    initialisation), so skorch's own callback, which resumes its schedule at
    ``len(history) - 1``, would start a fresh fit as if one epoch had passed
    (torch then refuses: no ``initial_lr``). This one resumes at the epochs
    (``step_every="epoch"``) or optimiser steps (``"batch"``) actually
    trained, so a fresh ``fit`` starts the schedule at 0 and ``partial_fit``
    continues it.

    Examples
    --------
    Nanda et al.'s 10-step linear warm-up, and Omnigrok's messiness toy schedule:

    >>> from torch.optim.lr_scheduler import LambdaLR, StepLR
    >>> warmup = LRScheduler(LambdaLR, lr_lambda=lambda step: min(step / 10, 1.0), step_every="batch")
    >>> decay = LRScheduler(StepLR, step_size=5000, gamma=0.2)

    Pass it as ``callbacks=[warmup]`` to any grokkit estimator; the learning
    rate of every epoch is in ``history[:, "event_lr"]`` (for
    ``step_every="batch"``, the rate of the epoch's last step: grokkit keeps
    no per-batch history).
    """

    def on_train_begin(self, net: Any, **kwargs: Any) -> None:
        self.batch_idx_ = int(getattr(net, "n_steps_", 0))
        self.lr_scheduler_ = self._get_scheduler(net, self.policy_, **self.kwargs)

    def _get_scheduler(self, net: Any, policy: Any, **scheduler_kwargs: Any) -> Any:
        if policy is not ReduceLROnPlateau and "last_epoch" not in scheduler_kwargs:
            if self.step_every == "batch":
                done = int(getattr(net, "n_steps_", 0))
            else:
                done = int(net.history[-1]["epoch"]) if len(net.history) else 0
            scheduler_kwargs["last_epoch"] = done - 1
        return policy(net.optimizer_, **scheduler_kwargs)

    def _record_last_lr(self, net: Any, kind: str) -> None:
        if kind == "batch":
            self._last_batch_lr = self.lr_scheduler_.get_last_lr()[0]
            return
        super()._record_last_lr(net, kind)

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        if self.step_every == "batch":
            if self.event_name is not None and hasattr(self, "_last_batch_lr"):
                net.history.record(self.event_name, self._last_batch_lr)
            return
        super().on_epoch_end(net, **kwargs)
