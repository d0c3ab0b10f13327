"""Stop rules: end a run once it has generalised or converged, the way skorch's EarlyStopping ends one."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from skorch.callbacks import Callback

from grokkit._validation import check_number
from grokkit.progress import MEMORISATION_LEVEL, generalisation_level, is_recorded


class StopWhenGrokked(Callback):
    """End ``fit`` once the run has memorised and generalised, and stayed so.

    At every recorded epoch (the rows of ``progress_``) it checks that the
    train accuracy is at least ``train_threshold`` and that the test accuracy
    has generalised; after ``patience`` consecutive recorded epochs that pass,
    it stops the fit by raising ``KeyboardInterrupt`` from ``on_epoch_end``,
    skorch's convention (``EarlyStopping`` does the same). grokkit's loop ends
    such a fit quietly: no "interrupted" warning, the epoch it stopped at is
    the last row of ``progress_``, and ``stopped_by_`` names the callback.
    With ``checkpoint_dir`` the stopped run counts as finished: fitting it
    again returns it as it was instead of training on.

    "Generalised" is grokkit's one definition
    (:data:`grokkit.progress.GENERALISED`): test accuracy at 95 % of the best
    the run reaches, that best at least halfway from the first recorded test
    accuracy to 1. Online, the best so far stands for the best of the run: an
    epoch passes when its test accuracy is within 5 % of the best so far and
    that best clears the gain condition, so the rule stops on a plateau (a
    test accuracy still climbing by more than 5 % over ``patience`` recorded
    epochs resets it) and :func:`~grokkit.analysis.grokking_summary` of the
    stopped run reads it as generalised. A float ``test_threshold`` asks for
    an absolute level instead.

    Use it where a figure ends at generalisation (time-to-generalise
    measurements, sweeps over weight decay): the cost of a run becomes its
    grokking time rather than a fixed budget. Needs an ``eval_set``.

    Parameters
    ----------
    train_threshold : float, default=0.99
        Memorised = train accuracy at least this.
    test_threshold : float or None, default=None
        ``None``: generalised by grokkit's definition, read online as above.
        A float: test accuracy at least this.
    patience : int, default=3
        Consecutive recorded epochs that must pass. With the default
        log-spaced schedule (20 recorded epochs per decade) this is a stretch
        of about a third of a decade; with ``measure_every=k``, ``patience·k``
        epochs.

    Attributes
    ----------
    passes_ : int
        Consecutive recorded epochs passing so far.
    grokked_epoch_ : int or None
        The first epoch of the passing stretch that stopped the fit.
    """

    def __init__(self, train_threshold: float = MEMORISATION_LEVEL, test_threshold: float | None = None,
                 patience: int = 3) -> None:
        self.train_threshold = train_threshold
        self.test_threshold = test_threshold
        self.patience = patience

    def initialize(self) -> StopWhenGrokked:
        check_number("train_threshold", self.train_threshold, low=0, high=1)
        if self.test_threshold is not None:
            check_number("test_threshold", self.test_threshold, low=0, high=1)
        check_number("patience", self.patience, low=1, integer=True)
        self.passes_ = 0
        self.first_pass_: int | None = None
        self.grokked_epoch_: int | None = None
        self._window: deque[tuple[int, float, float]] = deque(maxlen=self.patience)
        self._first_and_best: tuple[float, float] | None = None
        return self

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        row = net.history[-1]
        if not is_recorded(row):
            return
        if "test_acc" not in row:
            raise ValueError("StopWhenGrokked needs test accuracy: fit with eval_set=(X_test, y_test).")
        self._window.append((int(row["epoch"]), float(row["train_acc"]), float(row["test_acc"])))
        if self.test_threshold is None:
            if self._first_and_best is None:  # once per fit: the history so far (a resumed run's too)
                initial = getattr(net, "initial_record_", {}) or {}
                accs = [initial["test_acc"]] if "test_acc" in initial else []
                accs += [r["test_acc"] for r in net.history if is_recorded(r) and "test_acc" in r]
                self._first_and_best = (accs[0], max(accs))
            else:
                first, best = self._first_and_best
                self._first_and_best = (first, max(best, float(row["test_acc"])))
            # the level depends on the run only through its first and best test accuracy
            level = generalisation_level(self._first_and_best)
        else:
            level = self.test_threshold
        passing = [level is not None and train >= self.train_threshold and test >= level
                   for _, train, test in self._window]
        # consecutive passes counted back from this epoch, within the last `patience` records
        self.passes_ = next((i for i, ok in enumerate(reversed(passing)) if not ok), len(passing))
        if self.passes_ >= self.patience:
            self.first_pass_ = self._window[0][0]
            self.grokked_epoch_ = self.first_pass_
            raise KeyboardInterrupt


class StopWhenConverged(Callback):
    r"""End ``fit`` once the monitored loss has stopped falling: converged, not necessarily generalised.

    With :math:`b_t = \min_{s \le t} \ell_s` the best value of ``monitor`` up
    to epoch t of this fit, the fit stops at the first epoch t with

    .. math:: b_{t-W} - b_t \le \mathrm{rtol}\, |b_{t-W}| + \mathrm{atol},

    W = ``window``: over the last W epochs the best loss improved by less
    than ``rtol`` of itself (plus ``atol``), the test of :func:`numpy.isclose`
    between the best loss then and now. The best value, not the last one, so
    that an optimiser's oscillation or a loss spike neither stops the fit nor
    hides a plateau. It stops the fit as :class:`StopWhenGrokked` does, by
    raising ``KeyboardInterrupt`` from ``on_epoch_end`` (skorch's convention,
    so it works in a plain skorch ``NeuralNet`` too): no warning, the last
    epoch is recorded, and a grokkit estimator's ``stopped_by_`` names it.

    A loss that keeps falling by a fixed factor (a fit that interpolates its
    training set, where MSE decays geometrically towards 0) never meets the
    relative test; ``atol`` is the improvement per window that counts as
    none, in the loss's own units. Like skorch's ``EarlyStopping`` with
    ``threshold_mode="rel"`` (which compares each epoch with the best by a
    relative threshold and counts the misses), but aimed at the training
    objective and with an absolute floor. A plateau followed by a late drop
    (a saddle, a slingshot) looks converged to any such rule: ``window`` should
    be longer than the plateaus the run may cross.

    Parameters
    ----------
    monitor : str, default="train_loss"
        A loss in ``net.history`` (lower is better). ``"train_loss"`` is in
        every epoch's row (the epoch's mean training objective); keys written
        only at recorded epochs (``"valid_loss"``) are read where they are.
    rtol : float, default=1e-3
        Relative improvement of the best loss over ``window`` epochs below
        which the run counts as converged.
    window : int, default=100
        Epochs over which the improvement is measured. Each fit (each
        ``partial_fit`` too) trains at least this many epochs.
    atol : float, default=0.0
        Absolute improvement over ``window`` epochs that counts as none.

    Attributes
    ----------
    converged_epoch_ : int or None
        The epoch at which the rule stopped the fit; ``None`` while it has not.
    best_ : float
        The best monitored value of this fit so far.
    """

    def __init__(self, monitor: str = "train_loss", rtol: float = 1e-3, window: int = 100,
                 atol: float = 0.0) -> None:
        self.monitor = monitor
        self.rtol = rtol
        self.window = window
        self.atol = atol

    def initialize(self) -> StopWhenConverged:
        if not isinstance(self.monitor, str):
            raise TypeError(f"monitor must be the name of a history key (a str); got {self.monitor!r}.")
        check_number("rtol", self.rtol, low=0)
        check_number("atol", self.atol, low=0)
        check_number("window", self.window, low=1, integer=True)
        if not (math.isfinite(self.rtol) and math.isfinite(self.atol)):
            raise ValueError(f"rtol and atol must be finite; got rtol={self.rtol!r}, atol={self.atol!r}.")
        self._reset()
        return self

    def _reset(self) -> None:
        self.best_ = math.inf
        self.converged_epoch_: int | None = None
        self._bests: deque[tuple[int, float]] = deque()  # (epoch, best up to that epoch)

    def on_train_begin(self, net: Any, **kwargs: Any) -> None:
        self._reset()

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        row = net.history[-1]
        if self.monitor not in row:
            # (a grokkit estimator calls this callback at an epoch without the key only when it is a
            # recorded epoch, so the key is missing for good)
            keys = sorted(k for k, v in row.items() if isinstance(v, float) and k != "dur")
            raise ValueError(f"StopWhenConverged: monitor={self.monitor!r} is not in this epoch's "
                             f"history row; its loss-like keys: {', '.join(keys)}.")
        value, epoch = float(row[self.monitor]), int(row["epoch"])
        if value < self.best_:
            self.best_ = value
        bests = self._bests
        bests.append((epoch, self.best_))
        # keep one entry at or before epoch - window: the best as it was a window ago
        while len(bests) > 1 and bests[1][0] <= epoch - self.window:
            bests.popleft()
        then_epoch, then = bests[0]
        if epoch - then_epoch < self.window or not math.isfinite(then):
            return
        if then - self.best_ <= self.rtol * abs(then) + self.atol:
            self.converged_epoch_ = epoch
            raise KeyboardInterrupt
