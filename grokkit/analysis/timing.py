r"""Time to generalise versus weight decay (Omnigrok §2, §3 Fig. 2c, App. C Fig. 10).

When the initial norm :math:`w_0` is beyond the Goldilocks norm :math:`w_c`,
the model first overfits, then weight decay γ shrinks the norm as
:math:`w(t) \approx w_0 e^{-\gamma t}` (per unit learning rate), so test accuracy rises after

.. math:: t \approx \ln(w_0 / w_c) / \gamma \;\propto\; \gamma^{-1},

while the time to fit the training set does not depend on γ. On a log–log
plot, :math:`\log t_{\rm test}` against :math:`\log\gamma` has slope −1 and
:math:`\log t_{\rm train}` slope ≈ 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from grokkit._validation import check_number, check_random_state
from grokkit.analysis.landscape import (
    check_grok_estimator,
    check_n_jobs,
    check_positive_grid,
    check_training_pool,
    fit_single_threaded,
    n_features_of,
    run_grid,
    warn_diverged,
)
from grokkit.progress import grokking_summary

#: Columns of :attr:`TimeToGeneralize.times_`, in this order.
TIMES_COLUMNS = ("weight_decay", "train_epoch", "train_step", "test_epoch", "test_step",
                 "final_train_acc", "final_test_acc", "best_test_acc", "final_weight_norm", "diverged")


def loglog_slope(x: Any, t: Any) -> tuple[float, float]:
    r"""Least-squares fit :math:`\log_{10} t = s \log_{10} x + c`; returns ``(s, c)``.

    Pairs where ``t`` is missing (NaN/None) or not positive are left out; fewer
    than two usable pairs give ``(nan, nan)``. For :math:`t = C/\gamma`,
    :math:`s = -1` and :math:`c = \log_{10} C` exactly.
    """
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(pd.to_numeric(pd.Series(t, dtype=object), errors="coerce"), dtype=np.float64)
    if x.shape != t.shape:
        raise ValueError(f"x and t must have the same length; got {x.shape} and {t.shape}.")
    keep = np.isfinite(x) & np.isfinite(t) & (x > 0) & (t > 0)
    if keep.sum() < 2:
        return float("nan"), float("nan")
    slope, intercept = np.polyfit(np.log10(x[keep]), np.log10(t[keep]), 1)
    return float(slope), float(intercept)


def _fit_decay(estimator: Any, weight_decay: float, X: Any, y: Any, eval_set: Any, seed: int,
               train_threshold: float, test_threshold: float) -> tuple[dict[str, Any], pd.DataFrame]:
    from grokkit.models.init import parameter_norm

    est = clone(estimator).set_params(weight_decay=float(weight_decay), random_state=seed,
                                      on_divergence="warn", verbose=0)
    fit_single_threaded(est, X, y, eval_set)
    summary = grokking_summary(est.progress_, train_threshold, test_threshold)
    row = {
        "weight_decay": float(weight_decay),
        "train_epoch": summary["memorization_epoch"],
        "train_step": summary["memorization_step"],
        "test_epoch": summary["generalization_epoch"],
        "test_step": summary["generalization_step"],
        "final_train_acc": summary["final_train_acc"],
        "final_test_acc": summary["final_test_acc"],
        "best_test_acc": summary["best_test_acc"],
        "final_weight_norm": float(parameter_norm(est.module_)),
        "diverged": bool(getattr(est, "diverged_", False)),
    }
    return row, est.progress_


class TimeToGeneralize(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    r"""Steps until train and test accuracy first reach a level, for a list of weight decays.

    Trains one clone of ``estimator`` per γ in ``weight_decays`` (all from the
    same initialisation: one seed drawn from ``random_state``) and reads from
    each ``progress_`` the first recorded epoch/step with
    ``train_acc >= train_threshold`` and with ``test_acc >= test_threshold``.
    Then fits :math:`\log t = s\log\gamma + c` for both (Omnigrok Fig. 2c,
    App. C): the LU mechanism predicts :math:`s_{\rm test} = -1` and
    :math:`s_{\rm train} \approx 0`.

    A run that diverges (non-finite loss) is stopped and kept with
    ``diverged=True`` in :attr:`times_` (its accuracy and norm are those of a
    failed run, not of a run that did not generalise), and ``fit`` warns once
    listing the diverged weight decays.

    Like :class:`~grokkit.analysis.ReducedLandscape` it is a scikit-learn
    transformer whose output is its table: ``fit_transform(X, y,
    eval_set=...)`` returns :attr:`times_`, ``transform`` a copy of it (``X``
    is ignored: the rows are weight decays, not samples), and
    ``get_feature_names_out`` its columns, so it can end a
    :class:`~sklearn.pipeline.Pipeline`.

    Parameters
    ----------
    estimator : grokkit estimator
        Set α (Omnigrok: α = 2 for the teacher–student), lr, ``max_epochs`` and
        ``measure_every`` on it; times are exact up to ``measure_every``.
    weight_decays : sequence of float
        The γ values, all ≥ 0 (γ = 0 runs are tabulated but left out of the fits).
    train_threshold, test_threshold : float, default=0.95
        Accuracy levels (Omnigrok Fig. 2c: 95 %). Choose a test level every run
        reaches: a run that never reaches it has ``test_step`` None and is left
        out of the fit.
    n_jobs : int or None, default=None
        Runs trained in parallel by joblib; any joblib backend applies.
    random_state : int, RandomState or None, default=None
    verbose : int, default=0
        ``1`` shows a tqdm bar over runs.

    Attributes
    ----------
    times_ : pandas.DataFrame
        One row per γ: ``weight_decay``, ``train_epoch``, ``train_step``,
        ``test_epoch``, ``test_step`` (None when never reached),
        ``final_train_acc``, ``final_test_acc``, ``best_test_acc``,
        ``final_weight_norm``, ``diverged``.
    progress_ : dict
        γ -> that run's ``progress_`` (for Fig. 10c–d style curves).
    test_slope_, test_intercept_ : float
        Fit of log₁₀ test_step against log₁₀ γ (NaN with fewer than two runs
        reaching the level).
    train_slope_, train_intercept_ : float
        The same for train_step.
    seed_ : int
    """

    def __init__(self, estimator: Any = None, weight_decays: Sequence[float] | None = None,
                 train_threshold: float = 0.95, test_threshold: float = 0.95,
                 n_jobs: int | None = None, random_state: int | np.random.RandomState | None = None,
                 verbose: int = 0) -> None:
        self.estimator = estimator
        self.weight_decays = weight_decays
        self.train_threshold = train_threshold
        self.test_threshold = test_threshold
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X: Any, y: Any, eval_set: tuple[Any, Any] | None = None) -> TimeToGeneralize:
        """Train one run per weight decay and fit the log–log slopes.

        ``eval_set=(X_test, y_test)`` is required: generalisation is read from it.
        """
        check_grok_estimator("estimator", self.estimator)
        check_training_pool("TimeToGeneralize", X, y, eval_set)
        if self.weight_decays is None:
            raise ValueError("weight_decays must be a sequence of positive floats; got None.")
        # γ = 0 is allowed (the "no regularisation" run); it is left out of the slope fits.
        decays = check_positive_grid("weight_decays", self.weight_decays, allow_zero=True)
        check_number("train_threshold", self.train_threshold, low=0, high=1)
        check_number("test_threshold", self.test_threshold, low=0, high=1)
        check_n_jobs(self.n_jobs)
        check_number("verbose", self.verbose, low=0, integer=True)
        if eval_set is None:
            raise ValueError("eval_set=(X_test, y_test) is required: the time to generalise is read "
                             "from its accuracy.")
        self.seed_ = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        tasks = [(self.estimator, g, X, y, eval_set, self.seed_, self.train_threshold,
                  self.test_threshold) for g in decays]
        results = run_grid(_fit_decay, tasks, self.n_jobs, self.verbose, "weight decays")
        self.times_ = pd.DataFrame([row for row, _ in results], columns=list(TIMES_COLUMNS))
        self.progress_ = {float(g): progress for g, (_, progress) in zip(decays, results, strict=True)}
        self.test_slope_, self.test_intercept_ = loglog_slope(self.times_["weight_decay"],
                                                              self.times_["test_step"])
        self.train_slope_, self.train_intercept_ = loglog_slope(self.times_["weight_decay"],
                                                                self.times_["train_step"])
        self.n_features_in_ = n_features_of(X)
        warn_diverged("TimeToGeneralize", self.times_, ("weight_decay",))
        return self

    def transform(self, X: Any = None) -> pd.DataFrame:
        """The fitted ``times_`` (a copy); ``X`` is ignored."""
        check_is_fitted(self, "times_")
        return self.times_.copy()

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> pd.DataFrame:
        """``fit(X, y, **fit_params)`` then :attr:`times_` (a copy)."""
        return self.fit(X, y, **fit_params).transform()

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The columns of :attr:`times_`."""
        check_is_fitted(self, "times_")
        return np.asarray(self.times_.columns, dtype=object)
