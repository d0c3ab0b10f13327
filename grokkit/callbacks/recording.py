"""Recording train/test metrics and progress measures into ``net.history``."""

from __future__ import annotations

from typing import Any

from skorch.callbacks import Callback

from grokkit.callbacks.data import SplitData
from grokkit.measures.registry import MeasureContext, resolve_measures
from grokkit.progress import recorded_epochs


class ProgressRecorder(Callback):
    """Write one ``progress_`` row at every recorded epoch.

    At an epoch of the ``measure_every`` schedule (and at epoch 0, the state
    right after initialisation) it runs the module once on the training set in
    eval mode, capturing the hidden activations with forward hooks only if a
    measure needs them, records ``step``, ``train_loss``, ``train_acc``, the same
    on the eval set when there is one, then every measure, all into
    ``net.history``. The outputs and activations are shared by all measures.

    It relies on the net offering ``module_``, ``history``, ``n_steps_``,
    ``evaluate_outputs(X, activations)``, ``loss_value(outputs, split)``,
    ``accuracy(outputs, split)`` and ``task_info()`` (grokkit's estimators do).

    Parameters
    ----------
    measures : sequence
        Names, ``(name, params)`` pairs or callables; see
        :func:`grokkit.measures.get_measure`.
    measure_every : int or "log"
        See :func:`grokkit.progress.recorded_epochs`.
    keep_checkpoints : bool, default=False
        Also keep a CPU copy of the module's ``state_dict`` at every recorded
        epoch in ``net.checkpoints_`` (epoch -> state dict), so analyses can
        revisit the run without retraining.
    """

    def __init__(self, measures: Any = (), measure_every: int | str = "log",
                 keep_checkpoints: bool = False) -> None:
        self.measures = measures
        self.measure_every = measure_every
        self.keep_checkpoints = keep_checkpoints

    def initialize(self) -> ProgressRecorder:
        self.measures_ = resolve_measures(self.measures)
        self.needs_activations_ = any("activations" in m.needs for m in self.measures_)
        self.schedule_: set[int] = set()
        return self

    def on_train_begin(
        self,
        net: Any,
        epochs: int = 0,
        dataset_train: SplitData | None = None,
        dataset_valid: SplitData | None = None,
        **kwargs: Any,
    ) -> None:
        done = net.history[-1]["epoch"] if len(net.history) else None
        if done is None:
            net.history.new_epoch()
            net.history.record("epoch", 0)
            self.record(net, dataset_train, dataset_valid)
            done = 0
        self.schedule_ = recorded_epochs(done + 1, done + epochs, self.measure_every)

    def on_epoch_end(
        self,
        net: Any,
        dataset_train: SplitData | None = None,
        dataset_valid: SplitData | None = None,
        **kwargs: Any,
    ) -> None:
        if net.history[-1]["epoch"] in self.schedule_:
            self.record(net, dataset_train, dataset_valid)

    def record(self, net: Any, train: SplitData, valid: SplitData | None) -> None:
        """Record the current state as a row of the current history epoch."""
        history = net.history
        outputs, activations = net.evaluate_outputs(train.X, activations=self.needs_activations_)
        history.record("step", net.n_steps_)
        history.record("train_loss", net.loss_value(outputs, train))
        history.record("train_acc", net.accuracy(outputs, train))
        evaluated = [(train.X, outputs)]
        if valid is not None:
            valid_outputs, _ = net.evaluate_outputs(valid.X, activations=False)
            history.record("test_loss", net.loss_value(valid_outputs, valid))
            history.record("test_acc", net.accuracy(valid_outputs, valid))
            evaluated.append((valid.X, valid_outputs))
        context = MeasureContext(
            module=net.module_,
            X=train.X,
            y=train.y,
            activations=activations,
            logits=outputs,
            task=net.task_info(),
            evaluated=evaluated,
        )
        for measure in self.measures_:
            for column, value in measure(context).items():
                history.record(column, value)
        if self.keep_checkpoints:
            net.checkpoints_[history[-1]["epoch"]] = {
                key: value.detach().to("cpu", copy=True) for key, value in net.module_.state_dict().items()
            }

    def on_train_end(self, net: Any, **kwargs: Any) -> None:
        self.schedule_ = set()
