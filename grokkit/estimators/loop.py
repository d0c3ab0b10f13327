"""The training loop: epochs of in-memory minibatches, skorch's history and callback protocol.

Why the loop is grokkit's own
    Grokking runs are 10⁴–10⁵ small steps on data that fits in memory. skorch's
    default loop builds a DataLoader batch by batch and calls every callback
    per batch, which multiplies the cost of a tiny step. Here the data sits on
    the device, batches are slices of a seeded permutation, and per-batch
    callback hooks are called only for callbacks that implement them.

What skorch's callbacks see
    ``history`` has one row per trained epoch, as in skorch: ``epoch``,
    ``train_loss`` (the epoch's mean training objective), ``train_loss_best``,
    ``train_batch_count``, ``batches`` (one summary row per epoch, or a row per
    minibatch when a callback outside grokkit reads minibatches, such as
    ``ProgressBar`` or a per-batch ``LRScheduler``), ``step`` and ``dur``. A
    recorded epoch adds the ``progress_`` values and, with an eval_set,
    ``valid_loss``/``valid_loss_best``. The state at initialisation (epoch 0
    of ``progress_``) is kept in ``initial_record_``, so that ``len(history)``
    is the number of epochs trained, as skorch's ``LRScheduler`` assumes.
    A callback that monitors a key (``EarlyStopping``, ``Checkpoint``) acts on
    the epochs that have it, and one that raises ``KeyboardInterrupt`` in
    ``on_epoch_end`` (skorch's way to stop) ends the fit quietly with the
    last epoch recorded (``stopped_by_``); a real Ctrl-C ends it too, with
    ``interrupted_ = True``, which grokkit's multi-runs turn into a stop of
    the whole (:mod:`grokkit._interrupts`).

What callbacks outside grokkit see
    skorch's view of the data (:class:`SkorchView`): ``dataset_train`` and
    ``dataset_valid`` are skorch ``Dataset`` objects of the inputs and of the labels
    as the user gave them, and minibatches are ``(X, y)`` with those labels,
    so a scoring callback compares ``net.predict`` with them as on a
    ``NeuralNet``. grokkit's own callbacks get the tensors of the device
    (:class:`~grokkit.callbacks.SplitData`, the encoded training targets).
"""

from __future__ import annotations

import math
import signal
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from skorch.callbacks import Callback
from skorch.callbacks.scoring import ScoringBase
from skorch.dataset import Dataset

from grokkit._threads import flushing_denormals
from grokkit.callbacks import SplitData
from grokkit.measures._capture import evaluation
from grokkit.progress import is_recorded, progress_frame

#: Serialises seeded initialisation across threads (torch's global RNG is shared).
INIT_LOCK = threading.RLock()


class TrainingDiverged(ValueError):
    """Raised when the training loss becomes NaN or infinite."""


class TrainingLoop:
    """Mixin of :class:`~grokkit.estimators.base.GrokNet`: the epoch loop."""

    def _fit(self, train: SplitData, valid: SplitData | None, epochs: int, seed: int,
             resume: dict[str, Any] | None = None) -> None:
        """Run ``epochs`` epochs (continuing ``resume`` if given); always leave ``progress_`` behind."""
        flush = bool(self.flush_denormal) and self.device_.type == "cpu"
        restore = _watch_sigint(self)
        began = False
        try:
            self.begin_training(train, valid, epochs, seed, resume)
            began = True
            with flushing_denormals(flush):
                self.fit_loop(train, valid, epochs)
        except KeyboardInterrupt:
            if not began:
                raise
            self.interrupted_ = True
            warnings.warn("Training interrupted; progress_ holds the epochs run so far.", stacklevel=3)
        finally:
            restore()
            self.end_training(train, valid, notify=began)

    def begin_training(self, train: SplitData, valid: SplitData | None, epochs: int, seed: int,
                       resume: dict[str, Any] | None = None) -> None:
        """The start of a fit's training, for a single or a stacked run: per-fit state, ``on_train_begin``."""
        from grokkit.estimators import resume as resuming

        self._reset_fit_state(seed)
        self._training = True
        if resume is not None:
            resuming.restore_before_train_begin(self, resume)
        self._best_scores = best_scores(self.history)
        self._warn_unscored(valid)
        self.notify("on_train_begin", X=train.X, y=train.y, epochs=epochs, dataset_train=train,
                    dataset_valid=valid)
        if resume is not None:
            resuming.restore_after_train_begin(self, resume)
        self._last_checkpoint = (self.n_steps_, time.monotonic())

    def end_training(self, train: SplitData, valid: SplitData | None, notify: bool = True) -> None:
        """The end of a fit's training, for a single or a stacked run: ``on_train_end``, ``progress_``."""
        try:
            if notify:
                self.notify("on_train_end", X=train.X, y=train.y, dataset_train=train, dataset_valid=valid)
        finally:
            self._training = False
            self.progress_ = progress_frame(self.history, self.initial_record_)
            self.__dict__.pop("_shuffle_generator", None)
            self._views = {}

    def shuffled_order(self, n: int) -> torch.Tensor:
        """This run's next minibatch order of ``n`` samples: its own seeded generator's permutation,
        or ``0 .. n-1`` with ``iterator_train__shuffle=False`` (skorch's unshuffled iterator)."""
        if not vars(self).get("iterator_train__shuffle", True):
            return torch.arange(n, device=self.device_)
        return torch.randperm(n, generator=self._shuffle_generator, device=self.device_)

    def _reset_fit_state(self, seed: int) -> None:
        """The per-fit state: the minibatch generator (seeded ``seed + 1``) and the interruption flags."""
        self._shuffle_generator = torch.Generator(device=self.device_).manual_seed(seed + 1)
        self.interrupted_ = self._sigint = False
        self._views: dict[int, SkorchView] = {}

    def _warn_unscored(self, valid: SplitData | None) -> None:
        """A skorch scoring callback on the validation data, and no eval_set: say it will record nothing."""
        if valid is not None:
            return
        for name, cb in self.callbacks_:
            if _scores_valid(cb):
                warnings.warn(
                    f"callback {name!r} ({type(cb).__name__}, on_train=False) scores the validation "
                    "data, and this fit has no eval_set: it records nothing. Pass "
                    "eval_set=(X_test, y_test), or on_train=True to score the training data.",
                    UserWarning, stacklevel=5)

    def _view(self, split: SplitData) -> SkorchView:
        """``split`` as a skorch callback outside grokkit sees it (made once per fit and split)."""
        view = self._views.get(id(split))
        if view is None or view.split is not split:
            view = self._views[id(split)] = SkorchView.of(self, split)
        return view

    def _outside_kwargs(self, cb_kwargs: dict[str, Any]) -> dict[str, Any]:
        """A hook's arguments for a callback outside grokkit: skorch Datasets, the user's labels."""
        out = dict(cb_kwargs)
        for key in ("dataset_train", "dataset_valid"):
            if isinstance(out.get(key), SplitData):
                out[key] = self._view(out[key]).dataset
        train = cb_kwargs.get("dataset_train")
        if "X" in out and isinstance(train, SplitData):
            out["X"], out["y"] = self._view(train).dataset.X, self._view(train).dataset.y
        return out

    def fit_loop(self, train: SplitData, valid: SplitData | None = None, epochs: int | None = None,
                 **fit_params: Any) -> Any:
        """The epoch loop: per-epoch callbacks, divergence check, recorded rows, checkpoints."""
        epochs = self.max_epochs if epochs is None else epochs
        n = len(train)
        size = n if self.batch_size in (None, -1) else min(int(self.batch_size), n)
        n_batches = -(-n // size)
        per_batch = {hook: [(cb, _outside(cb)) for _, cb in self.callbacks_ if _overrides(cb, hook)]
                     for hook in ("on_batch_begin", "on_grad_computed", "on_batch_end")}
        # per-minibatch history rows only for callbacks that may read them
        batch_rows = any(theirs for hook in ("on_batch_begin", "on_batch_end")
                         for _, theirs in per_batch[hook])
        # a validation pass over the eval_set, as skorch's, only for callbacks that score it
        scores_valid = valid is not None and any(_scores_valid(cb) for _, cb in self.callbacks_)
        hooks = {"dataset_train": train, "dataset_valid": valid}
        for index in range(epochs):
            self.notify("on_epoch_begin", **hooks)
            fit_loss = self._train_epoch(train, size, per_batch, batch_rows)
            if scores_valid:
                self._valid_epoch(valid, per_batch)
            if self.end_epoch(fit_loss, train, valid, n_batches, batch_rows, last=index == epochs - 1):
                break
        return self

    def end_epoch(self, fit_loss: float, train: SplitData, valid: SplitData | None, n_batches: int,
                  batch_rows: bool = False, last: bool = False) -> bool:
        """An epoch's end, for a single or a stacked run: history row, divergence, callbacks, checkpoint.

        Returns True when the run ends here (diverged with ``on_divergence="warn"``,
        or stopped by a callback); raises :class:`TrainingDiverged` with
        ``on_divergence="raise"``, and re-raises a real Ctrl-C (``KeyboardInterrupt``
        that no stop rule raised).
        """
        self._record_epoch(fit_loss, len(train), n_batches, batch_rows)
        if not math.isfinite(fit_loss):
            self._diverged(fit_loss, train, valid)
            return True
        try:
            self.notify("on_epoch_end", dataset_train=train, dataset_valid=valid)
        except KeyboardInterrupt:
            if self._stopped_by is None or self._sigint:  # a real Ctrl-C, not a stop rule
                raise
            self._finish_early(train, valid)
            return True
        self._save_checkpoint(done=last)
        return False

    def notify(self, method_name: str, **cb_kwargs: Any) -> None:
        """skorch's notify; at ``on_epoch_end`` a callback monitoring an absent key sits out."""
        getattr(self, method_name)(self, **cb_kwargs)
        self._stopped_by = None
        epoch_end = method_name == "on_epoch_end"
        row = last_row(self.history) if epoch_end else None
        outside_kwargs = None
        for name, cb in self.callbacks_:
            if epoch_end and _waits_for_record(cb, row):
                continue
            kwargs = cb_kwargs
            if _outside(cb):
                if outside_kwargs is None:
                    outside_kwargs = self._outside_kwargs(cb_kwargs)
                kwargs = outside_kwargs
            try:
                getattr(cb, method_name)(self, **kwargs)
            except KeyboardInterrupt:
                if epoch_end:
                    self._stopped_by = name
                raise

    def on_epoch_begin(self, net: Any, dataset_train: Any = None, dataset_valid: Any = None,
                       **kwargs: Any) -> None:
        history = self.history
        last = last_row(history)["epoch"] if len(history) else 0
        history.new_epoch()
        last_row(history)["epoch"] = last + 1

    def _train_epoch(self, train: SplitData, size: int, per_batch: dict[str, list],
                     batch_rows: bool) -> float:
        module, optimizer, history = self.module_, self.optimizer_, self.history
        module.train()
        forward = self._training_forward()
        n = len(train)
        if size >= n:
            batches: Any = ((train.X, train.target, None),)
        else:
            order = self.shuffled_order(n)
            batches = ((train.X[idx], train.target[idx], idx) for idx in order.split(size))
        labels = self._view(train).labels if batch_rows else None
        total = torch.zeros((), device=self.device_)
        for Xb, yb, idx in batches:
            batch = (Xb, yb)
            # callbacks outside grokkit see skorch's batch: the inputs and the labels as given
            theirs = batch if labels is None else (Xb, labels if idx is None else _take(labels, idx))
            for cb, outside in per_batch["on_batch_begin"]:
                cb.on_batch_begin(self, batch=theirs if outside else batch, training=True)
            optimizer.zero_grad(set_to_none=True)
            y_pred = forward(Xb)
            loss = self.get_loss(y_pred, yb, X=Xb, training=True)
            loss.backward()
            for cb, outside in per_batch["on_grad_computed"]:
                cb.on_grad_computed(self, named_parameters=list(module.named_parameters()),
                                    batch=theirs if outside else batch, training=True)
            optimizer.step()
            self.n_steps_ += 1
            if batch_rows:
                history.new_batch()
                history.record_batch("train_loss", loss.item())
                history.record_batch("train_batch_size", int(Xb.shape[0]))
            for cb, outside in per_batch["on_batch_end"]:
                cb.on_batch_end(self, batch=theirs if outside else batch, training=True, loss=loss,
                                y_pred=y_pred)
            total += loss.detach() * Xb.shape[0]
        return float(total) / n

    def _valid_epoch(self, valid: SplitData, per_batch: dict[str, list]) -> None:
        """skorch's validation pass (``training=False`` minibatches of the eval_set, eval mode).

        Run only when a callback outside grokkit scores the validation data
        (``EpochScoring``/``BatchScoring`` with ``on_train=False``); its rows
        hold ``valid_loss`` and ``valid_batch_size`` as skorch's do.
        """
        n = len(valid)
        size = n if self.batch_size in (None, -1) else min(int(self.batch_size), n)
        labels, history = self._view(valid).labels, self.history
        with evaluation(self.module_) as module:
            for start in range(0, n, size):
                rows = slice(start, start + size)
                Xb, yb = valid.X[rows], valid.target[rows]
                batch = (Xb, labels[rows])
                for cb, outside in per_batch["on_batch_begin"]:
                    if outside:
                        cb.on_batch_begin(self, batch=batch, training=False)
                y_pred = module(Xb)
                loss = self.get_loss(y_pred, yb, X=Xb, training=False)
                history.new_batch()
                history.record_batch("valid_loss", loss.item())
                history.record_batch("valid_batch_size", int(Xb.shape[0]))
                for cb, outside in per_batch["on_batch_end"]:
                    if outside:
                        cb.on_batch_end(self, batch=batch, training=False, loss=loss, y_pred=y_pred)

    def _record_epoch(self, fit_loss: float, n: int, n_batches: int, batch_rows: bool) -> None:
        # written into the row directly: skorch's History.record re-indexes the
        # whole history at every call, a cost per epoch that tiny runs notice
        row = last_row(self.history)
        if not batch_rows:
            row["batches"].append({"train_loss": fit_loss, "train_batch_size": n})
        row["train_batch_count"] = n_batches
        self.record_with_best("train_loss", fit_loss, row)
        row["step"] = self.n_steps_

    def record_with_best(self, key: str, value: float, row: dict[str, Any] | None = None) -> None:
        """Record ``key`` and ``key_best`` (lower is better) as skorch's scoring callbacks do."""
        best = self._best_scores.get(key, math.inf)
        is_best = value < best
        if is_best:
            self._best_scores[key] = value
        row = last_row(self.history) if row is None else row
        row[key] = value
        row[f"{key}_best"] = bool(is_best)

    def _training_forward(self) -> Any:
        """The module as the training step calls it: compiled once when ``compile=True``."""
        if not self.compile:
            return self.module_
        cached = self.__dict__.get("_compiled_module")
        if cached is None or cached[0] is not self.module_:
            cached = (self.module_, self.torch_compile(self.module_, "module"))
            self._compiled_module = cached
        return cached[1]

    def _finish_early(self, train: SplitData, valid: SplitData | None) -> None:
        """A callback stopped the fit: record the last epoch if the schedule had not."""
        if not is_recorded(self.history[-1]):
            dict(self.callbacks_)["progress"].record(self, train, valid)
        self.stopped_by_ = self._stopped_by
        self._save_checkpoint(done=True)

    def _save_checkpoint(self, done: bool) -> None:
        """Write the ``checkpoint_dir`` checkpoint at a recorded epoch or when ``checkpoint_every`` is due."""
        if self.checkpoint_dir is None:
            return
        if not is_recorded(self.history[-1]) and not self._checkpoint_due():
            return
        from grokkit.estimators import resume as resuming

        resuming.save(self, done=done)
        self._last_checkpoint = (self.n_steps_, time.monotonic())

    def _checkpoint_due(self) -> bool:
        """True when ``checkpoint_every`` steps or seconds have passed since the last checkpoint."""
        from grokkit.estimators.params import parse_checkpoint_every

        cadence = parse_checkpoint_every(self.checkpoint_every)
        if cadence is None:
            return False
        unit, amount = cadence
        steps, when = getattr(self, "_last_checkpoint", (0, time.monotonic()))
        if unit == "steps":
            return self.n_steps_ - steps >= amount
        return time.monotonic() - when >= amount

    def _diverged(self, fit_loss: float, train: SplitData, valid: SplitData | None) -> None:
        self.diverged_ = True
        dict(self.callbacks_)["progress"].record(self, train, valid)
        epoch = self.history[-1]["epoch"]
        recorded = 1 + sum(is_recorded(r) for r in self.history)
        message = (
            f"Training diverged at epoch {epoch} (step {self.n_steps_}): the loss is {fit_loss}. "
            f"progress_ keeps the {recorded} recorded epochs up to the failure. Large alpha "
            f"(here {self.alpha}) or lr (here {self.lr}) often cause this; try a smaller lr or "
            "alpha, or loss='mse'."
        )
        if self.on_divergence == "raise":
            raise TrainingDiverged(message)
        warnings.warn(message, RuntimeWarning, stacklevel=4)


def _watch_sigint(*nets: Any) -> Any:
    """Mark a real Ctrl-C (``net._sigint`` of every net) where Python's own SIGINT handler runs;
    return its restorer."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return lambda: None

    def interrupted(signum: int, frame: Any) -> None:
        for net in nets:
            net._sigint = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupted)
    return lambda: signal.signal(signal.SIGINT, signal.default_int_handler)


@contextmanager
def watching_sigint(nets: Any) -> Iterator[None]:
    """Within, a real Ctrl-C marks every one of ``nets`` (the runs of a stacked fit), so that each
    run's :meth:`TrainingLoop.end_epoch` re-raises it where a stop rule would stop only its run."""
    restore = _watch_sigint(*nets)
    try:
        yield
    finally:
        restore()


@dataclass(frozen=True)
class SkorchView:
    """A split as skorch's callbacks see it in a ``NeuralNet``: a skorch ``Dataset`` of the inputs
    and the labels as the user gave them (``classes_`` values, not grokkit's encoded targets), and
    those labels for slicing into minibatches (a tensor on the device when they are numbers)."""

    split: SplitData
    dataset: Dataset
    labels: Any

    @classmethod
    def of(cls, net: Any, split: SplitData) -> SkorchView:
        given = net._user_labels(split)
        labels: Any = given
        if given.dtype.kind in "biuf":
            labels = torch.as_tensor(given, device=split.X.device)
        return cls(split, Dataset(split.X.detach().cpu().numpy(), given), labels)


def _take(labels: Any, idx: torch.Tensor) -> Any:
    """The minibatch ``idx`` of a view's labels (a tensor, or an array of non-numeric labels)."""
    return labels[idx] if isinstance(labels, torch.Tensor) else labels[idx.cpu().numpy()]


def _outside(callback: Callback) -> bool:
    """True for a callback that is not grokkit's own: it gets skorch's view of the data."""
    return not type(callback).__module__.startswith("grokkit.")


def _scores_valid(callback: Callback) -> bool:
    """True for a skorch scoring callback (``EpochScoring``, ``BatchScoring``) of the validation data."""
    return isinstance(callback, ScoringBase) and not callback.on_train


def last_row(history: Any) -> dict[str, Any]:
    """The current epoch's row of a skorch ``History``, without its slicing machinery."""
    return list.__getitem__(history, -1)


def best_scores(history: Any) -> dict[str, float]:
    """The lowest ``train_loss``/``valid_loss`` so far (so ``*_best`` continues across fits)."""
    best: dict[str, float] = {}
    for row in history:
        for key in ("train_loss", "valid_loss"):
            if key in row and row[key] < best.get(key, math.inf):
                best[key] = row[key]
    return best


def _waits_for_record(callback: Callback, row: dict[str, Any]) -> bool:
    """True when ``callback`` monitors a key that this (unrecorded) epoch does not have."""
    monitor = getattr(callback, "monitor", None)
    return isinstance(monitor, str) and monitor not in row and not is_recorded(row)


@contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch for one fit; restore the caller's RNG state afterwards.

    Runs are reproducible and the caller's global random state is left as it was.
    Saving, seeding and restoring hold ``INIT_LOCK``, as does the seeded
    initialisation in ``fit``, so fits running in threads (joblib's threading
    backend) cannot interleave with another fit's initialisation. Their
    dropout and input-noise draws during training still share torch's one
    global RNG: with a threading backend only the initialisation is exactly
    reproducible (the default, process-based backend is unaffected).
    """
    cuda = device.type == "cuda"
    with INIT_LOCK:
        cpu_state = torch.get_rng_state()
        cuda_state = torch.cuda.get_rng_state(device) if cuda else None
        torch.manual_seed(seed)
    try:
        yield
    finally:
        with INIT_LOCK:
            torch.set_rng_state(cpu_state)
            if cuda:
                torch.cuda.set_rng_state(cuda_state, device)


def _overrides(callback: Callback, hook: str) -> bool:
    """True when ``callback`` implements ``hook`` (not skorch's no-op)."""
    return getattr(type(callback), hook, None) is not getattr(Callback, hook)
