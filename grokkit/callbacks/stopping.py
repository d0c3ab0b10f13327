"""Stop rules: end a run once it has generalised, the way skorch's EarlyStopping ends one."""

from __future__ import annotations

from typing import Any

from skorch.callbacks import Callback

from grokkit._validation import check_number


class StopWhenGrokked(Callback):
    """End ``fit`` once the run has memorised and generalised, and stayed so.

    At every recorded epoch (the rows of ``progress_``) it checks
    ``train_acc >= train_threshold`` and ``test_acc >= test_threshold``; after
    ``patience`` consecutive recorded epochs that pass, it stops the fit by
    raising ``KeyboardInterrupt`` from ``on_epoch_end``, skorch's convention
    (``EarlyStopping`` does the same). grokkit's loop ends such a fit quietly:
    no "interrupted" warning, the epoch it stopped at is the last row of
    ``progress_``, and ``stopped_by_`` names the callback. With
    ``checkpoint_dir`` the stopped run counts as finished: fitting it again
    returns it as it was instead of training on.

    Use it where a figure ends at generalisation (time-to-generalise
    measurements, sweeps over weight decay): the cost of a run becomes its
    grokking time rather than a fixed budget. Needs an ``eval_set``.

    Parameters
    ----------
    train_threshold : float, default=0.99
        Memorised = train accuracy at least this.
    test_threshold : float, default=0.95
        Generalised = test accuracy at least this.
    patience : int, default=3
        Consecutive recorded epochs that must pass both thresholds. With the
        default log-spaced schedule (20 recorded epochs per decade) this is a
        stretch of about a third of a decade; with ``measure_every=k``,
        ``patience·k`` epochs.

    Attributes
    ----------
    passes_ : int
        Consecutive recorded epochs passing both thresholds so far.
    grokked_epoch_ : int or None
        The first epoch of the passing stretch that stopped the fit.
    """

    def __init__(self, train_threshold: float = 0.99, test_threshold: float = 0.95,
                 patience: int = 3) -> None:
        self.train_threshold = train_threshold
        self.test_threshold = test_threshold
        self.patience = patience

    def initialize(self) -> StopWhenGrokked:
        check_number("train_threshold", self.train_threshold, low=0, high=1)
        check_number("test_threshold", self.test_threshold, low=0, high=1)
        check_number("patience", self.patience, low=1, integer=True)
        self.passes_ = 0
        self.first_pass_: int | None = None
        self.grokked_epoch_: int | None = None
        return self

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        row = net.history[-1]
        if "train_acc" not in row:
            return  # not a recorded epoch
        if "test_acc" not in row:
            raise ValueError("StopWhenGrokked needs test accuracy: fit with eval_set=(X_test, y_test).")
        if row["train_acc"] >= self.train_threshold and row["test_acc"] >= self.test_threshold:
            if self.passes_ == 0:
                self.first_pass_ = int(row["epoch"])
            self.passes_ += 1
        else:
            self.passes_ = 0
        if self.passes_ >= self.patience:
            self.grokked_epoch_ = self.first_pass_
            raise KeyboardInterrupt
