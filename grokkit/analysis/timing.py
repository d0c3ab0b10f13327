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

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from grokkit._interrupts import multi_run
from grokkit._validation import check_number, check_random_state
from grokkit.analysis._checks import (
    check_grok_estimator,
    check_n_jobs,
    check_positive_grid,
    check_training_pool,
    interrupt_hint,
    n_features_of,
    warn_diverged,
)
from grokkit.progress import grokking_summary
from grokkit.stats import loglog_slope
from grokkit.sweep import Sweep

#: Columns of :attr:`TimeToGeneralize.times_`, in this order.
TIMES_COLUMNS = ("weight_decay", "train_epoch", "train_step", "test_epoch", "test_step",
                 "final_train_acc", "final_test_acc", "best_test_acc", "final_weight_norm", "diverged")


def _times_row(est: Any, weight_decay: float, train_threshold: float, test_threshold: float
               ) -> dict[str, Any]:
    """One row of :attr:`TimeToGeneralize.times_` from a fitted run."""
    from grokkit.models.init import parameter_norm

    summary = grokking_summary(est.progress_, train_threshold, test_threshold)
    return {
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
        Runs trained in parallel by joblib (when not stacked); any joblib backend applies.
    random_state : int, RandomState or None, default=None
        Draws the one seed of every run, unless ``seeds`` is given.
    seeds : int or sequence of int, default=None
        Train every γ at each of these seeds (as :class:`grokkit.Sweep`'s
        ``seeds``); ``times_`` gets a ``seed`` column, ``slopes_`` one row
        per seed, and the ``*_slope_`` attributes are the means over seeds.
    vectorize : "auto", bool, default="auto"
        :class:`grokkit.Sweep`'s executor choice: the runs of all γ (and
        seeds) train as one stacked model when the estimator allows it.
    verbose : int, default=0
        ``1`` shows a tqdm bar over runs.
    memory : str, path or joblib.Memory, default=None
        :class:`grokkit.Sweep`'s ``memory``: finished runs are kept there. A
        fit interrupted by Ctrl-C stops as a whole; fitting again with the
        same ``memory`` trains only the missing runs. Each run trains the
        estimator's own ``max_epochs``.

    Attributes
    ----------
    times_ : pandas.DataFrame
        One row per γ: ``weight_decay``, ``train_epoch``, ``train_step``,
        ``test_epoch``, ``test_step`` (None when never reached),
        ``final_train_acc``, ``final_test_acc``, ``best_test_acc``,
        ``final_weight_norm``, ``diverged``.
    progress_ : dict
        γ -> that run's ``progress_`` (for Fig. 10c–d style curves); with
        ``seeds``, (γ, seed) -> ``progress_``.
    test_slope_, test_intercept_ : float
        Fit of log₁₀ test_step against log₁₀ γ (NaN with fewer than two runs
        reaching the level).
    train_slope_, train_intercept_ : float
        The same for train_step.
    slopes_ : pandas.DataFrame
        ``seed``, ``test_slope``, ``test_intercept``, ``train_slope``,
        ``train_intercept`` per seed.
    seed_ : int
        The first seed.
    sweep_ : grokkit.Sweep
        The fitted sweep that trained the runs.
    """

    def __init__(self, estimator: Any = None, weight_decays: Sequence[float] | None = None,
                 train_threshold: float = 0.95, test_threshold: float = 0.95,
                 n_jobs: int | None = None, random_state: int | np.random.RandomState | None = None,
                 verbose: int = 0, seeds: Any = None, vectorize: Any = "auto", memory: Any = None) -> None:
        self.estimator = estimator
        self.weight_decays = weight_decays
        self.train_threshold = train_threshold
        self.test_threshold = test_threshold
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.seeds = seeds
        self.vectorize = vectorize
        self.memory = memory

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
        seeds = ([int(check_random_state(self.random_state).randint(0, 2**31 - 1))]
                 if self.seeds is None else self.seeds)
        template = clone(self.estimator).set_params(on_divergence="warn", verbose=0)
        sweep = Sweep(template, {"weight_decay": [float(g) for g in decays]}, seeds=seeds,
                      n_jobs=self.n_jobs, vectorize=self.vectorize, verbose=self.verbose,
                      memory=self.memory)
        n_seeds = 1 if self.seeds is None else len(sweep._seed_list())
        hint = interrupt_hint("TimeToGeneralize", None, len(decays) * n_seeds, self.memory)
        with warnings.catch_warnings(), multi_run(hint):
            warnings.filterwarnings("ignore", message="Sweep: ", category=RuntimeWarning)
            sweep.fit(X, y, eval_set=eval_set)  # warn_diverged below names the weight decays
        self.sweep_ = sweep
        pairs = list(zip(sweep.runs_, sweep.estimators_, strict=True))
        rows = [{**_times_row(est, run["weight_decay"], self.train_threshold, self.test_threshold),
                 "seed": run["random_state"]} for run, est in pairs]
        times = pd.DataFrame(rows, columns=[*TIMES_COLUMNS, "seed"])
        self.seed_ = int(times["seed"].iloc[0])
        slopes = []
        for seed, group in times.groupby("seed", sort=False):
            test = loglog_slope(group["weight_decay"], group["test_step"])
            train = loglog_slope(group["weight_decay"], group["train_step"])
            slopes.append({"seed": seed, "test_slope": test[0], "test_intercept": test[1],
                           "train_slope": train[0], "train_intercept": train[1]})
        self.slopes_ = pd.DataFrame(slopes)
        single = self.seeds is None
        self.times_ = times.drop(columns="seed") if single else times
        self.progress_ = {run["weight_decay"] if single else (run["weight_decay"], run["random_state"]):
                          est.progress_ for run, est in pairs}
        means = self.slopes_.mean(numeric_only=True)
        self.test_slope_, self.test_intercept_ = float(means["test_slope"]), float(means["test_intercept"])
        self.train_slope_ = float(means["train_slope"])
        self.train_intercept_ = float(means["train_intercept"])
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
