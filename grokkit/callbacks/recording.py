"""Recording train/test metrics and progress measures into ``net.history``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from skorch.callbacks import Callback

from grokkit.callbacks.data import SplitData
from grokkit.measures.registry import MeasureContext, resolve_measures
from grokkit.progress import RECORDED_TRAIN_LOSS, recorded_epochs


class ProgressRecorder(Callback):
    """Write one ``progress_`` row at every recorded epoch; own epoch 0 and the kept checkpoints.

    At an epoch of the ``measure_every`` schedule it runs the module once on
    the training set in eval mode, capturing the hidden activations with
    forward hooks only if a measure needs them, and records ``step``, the
    training loss and ``train_acc``, the same on the eval set when there is one
    (``test_loss``, ``test_acc``, and skorch's ``valid_loss``/``valid_loss_best``),
    then every measure, all into ``net.history``. The outputs and activations
    are shared by all measures. The state right after initialisation (epoch
    0) goes to ``net.initial_record_`` instead of the history, whose rows are
    the epochs trained (skorch's convention).

    It relies on the net offering ``module_``, ``history``, ``n_steps_``,
    ``initial_record_``, ``checkpoints_``, ``evaluate_outputs(X, activations)``,
    ``loss_value(outputs, split)``, ``accuracy(outputs, split)``,
    ``record_with_best(key, value)`` and ``task_info()`` (grokkit's estimators do).

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

    def on_train_begin(self, net: Any, epochs: int = 0, dataset_train: SplitData | None = None,
                       dataset_valid: SplitData | None = None, **kwargs: Any) -> None:
        if not net.initial_record_:
            self.record(net, dataset_train, dataset_valid, initial=True)
        self._epochs = epochs
        self.schedule_ = set()

    def on_epoch_begin(self, net: Any, **kwargs: Any) -> None:
        if not self.schedule_:
            # the first epoch of this fit: the schedule starts here (after any
            # callback, such as LoadInitState, has loaded an earlier history)
            first = net.history[-1]["epoch"]
            self.schedule_ = recorded_epochs(first, first + self._epochs - 1, self.measure_every)

    def on_epoch_end(self, net: Any, dataset_train: SplitData | None = None,
                     dataset_valid: SplitData | None = None, **kwargs: Any) -> None:
        row = list.__getitem__(net.history, -1)  # skorch's History[-1] re-indexes the whole history
        if row["epoch"] in self.schedule_:
            self.record(net, dataset_train, dataset_valid)
        elif dataset_valid is not None:
            # no new validation score, so no new best: what skorch's Checkpoint and
            # WandbLogger(save_model=True) read at every epoch
            row["valid_loss_best"] = False

    def record(self, net: Any, train: SplitData, valid: SplitData | None, initial: bool = False) -> None:
        """Record the current state: a row of the current history epoch, or epoch 0."""
        history = net.history
        row = measure_row(net, self.measures_, train, valid, step=net.n_steps_)
        epoch = 0 if initial else history[-1]["epoch"]
        if initial:
            net.initial_record_ = {"epoch": 0, **row}
        else:
            for key, value in row.items():
                history.record(key, value)
            if valid is not None:
                history.new_batch()
                history.record_batch("valid_loss", row["test_loss"])
                history.record_batch("valid_batch_size", len(valid))
                net.record_with_best("valid_loss", row["test_loss"])
        if self.keep_checkpoints:
            net.checkpoints_[epoch] = {
                key: value.detach().to("cpu", copy=True) for key, value in net.module_.state_dict().items()
            }

    def on_train_end(self, net: Any, **kwargs: Any) -> None:
        self.schedule_ = set()


def measure_row(net: Any, measures: Sequence[Any], train: SplitData, valid: SplitData | None,
                step: int) -> dict[str, float]:
    """One ``progress_`` row of ``net``'s module as it is now (without ``epoch``).

    ``step``, the training loss (under :data:`~grokkit.progress.RECORDED_TRAIN_LOSS`)
    and ``train_acc`` on ``train`` in eval mode, ``test_loss`` and ``test_acc``
    on ``valid`` when given, then every resolved measure, which share one
    forward pass (with the hidden activations captured only if a measure
    needs them). :class:`ProgressRecorder` records this row during a fit and
    :func:`grokkit.analysis.progress_from_checkpoints` over saved checkpoints:
    one computation for both.
    """
    row: dict[str, float] = {"step": int(step)}
    needs_activations = any("activations" in m.needs for m in measures)
    outputs, activations = net.evaluate_outputs(train.X, activations=needs_activations)
    row[RECORDED_TRAIN_LOSS] = net.loss_value(outputs, train)
    row["train_acc"] = net.accuracy(outputs, train)
    evaluated = [(train.X, outputs)]
    if valid is not None:
        valid_outputs, _ = net.evaluate_outputs(valid.X, activations=False)
        row["test_loss"] = net.loss_value(valid_outputs, valid)
        row["test_acc"] = net.accuracy(valid_outputs, valid)
        evaluated.append((valid.X, valid_outputs))
    context = MeasureContext(module=net.module_, X=train.X, y=train.y, activations=activations,
                             logits=outputs, task=net.task_info(), evaluated=evaluated)
    for measure in measures:
        row.update(measure(context))
    return row
