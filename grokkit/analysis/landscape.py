r"""Reduced loss landscapes: losses minimised over weight directions at a fixed norm (Omnigrok §2–§4).

For a weight norm :math:`w = \alpha w_0` (:math:`w_0` the norm of the default
initialisation) and a training size N, Omnigrok (eq. 1 and 3) defines

.. math::

    \mathbf w^*(w, N) = \operatorname*{argmin}_{\|\mathbf w\|_2 = w} \ell_{\rm train}(\mathbf w; N),
    \qquad \tilde\ell_{\rm train}(w, N) = \ell_{\rm train}(\mathbf w^*),
    \quad \tilde\ell_{\rm test}(w, N) = \ell_{\rm test}(\mathbf w^*).

The constrained minimisation is done as in the paper: ordinary optimiser steps,
each followed by rescaling all parameters back to norm w (``constrain_norm``),
with no weight decay. Reduced train loss is "L"-shaped in w, reduced test loss
"U"-shaped: the LU mechanism of grokking.
"""

from __future__ import annotations

import inspect
import math
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from grokkit._interrupts import multi_run
from grokkit._validation import check_bool, check_number, check_random_state
from grokkit.analysis._checks import (
    check_grok_estimator,
    check_n_jobs,
    check_positive_grid,
    check_training_pool,
    interrupt_hint,
    n_features_of,
    warn_diverged,
)
from grokkit.sweep import Sweep

#: Columns of :attr:`ReducedLandscape.landscape_`, in this order.
LANDSCAPE_COLUMNS = ("alpha", "weight_norm", "n_train", "train_loss", "test_loss", "train_acc",
                     "test_acc", "diverged", "converged", "steps")
#: The name under which a point's convergence rule runs (``stopped_by_`` of a converged point).
CONVERGENCE_CALLBACK = "reduced_landscape_convergence"


@dataclass(frozen=True)
class Convergence:
    """How long one reduced-landscape point trains: until its train loss has converged, within a budget.

    The rule is :class:`~grokkit.callbacks.StopWhenConverged` on the epoch's
    training loss; ``window`` and ``max_steps`` count optimizer steps and are
    rounded up to whole epochs of the point's training set.
    """

    rtol: float
    atol: float
    window: int
    #: ``None``: the estimator's own ``max_epochs``.
    max_steps: int | None

    @classmethod
    def checked(cls, rtol: Any, atol: Any, window: Any, max_steps: Any) -> Convergence:
        """The rule from an estimator's ``rtol``, ``atol``, ``window`` and ``max_steps``, each checked."""
        for name, value in (("rtol", rtol), ("atol", atol)):
            check_number(name, value, low=0)
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite; got {value!r}.")
        check_number("window", window, low=1, integer=True)
        if max_steps is not None:
            check_number("max_steps", max_steps, low=1, integer=True)
            if max_steps < window:
                raise ValueError(f"max_steps ({max_steps}) must be at least window ({window}): "
                                 f"a point trains a whole window before it can count as converged.")
        return cls(float(rtol), float(atol), int(window), None if max_steps is None else int(max_steps))


def missing_classes(estimator: Any, y: Any, y_subset: Any, eval_set: Any) -> tuple[int, list[Any]]:
    """For a classifier: how many classes ``y_subset`` holds, and the classes of ``y`` and of
    ``eval_set``'s targets that it lacks (empty for a regressor)."""
    from sklearn.base import is_classifier

    if not is_classifier(estimator):
        return 0, []
    needed = set(np.unique(np.asarray(y)).tolist())
    if eval_set is not None:
        needed |= set(np.unique(np.asarray(eval_set[1])).tolist())
    held = set(np.unique(np.asarray(y_subset)).tolist())
    return len(held), sorted(needed - held)


def fit_reduced_points(estimator: Any, alphas: Sequence[float], n_train: int, X: Any, y: Any,
                       eval_set: Any, seed: int, scale_lr: bool, convergence: Convergence | None,
                       n_jobs: int | None = None, verbose: int = 0, memory: Any = None
                       ) -> list[dict[str, Any]]:
    """The reduced rows of every α at one training size, trained through one :class:`grokkit.Sweep`.

    Each point is a norm-constrained clone at scale α (:func:`reduced_run`).
    ``scale_lr`` multiplies the estimator's learning rate by α (see
    ReducedLandscape). With ``convergence`` a point trains until its train
    loss has converged or its step budget is spent, and its row gains
    ``converged`` and ``steps``; without it, for the estimator's
    ``max_epochs`` (MessinessLandscape's fixed schedules). The points differ
    only in ``alpha`` (and ``lr``), so the sweep stacks them into one batched
    model when the estimator allows it, and otherwise runs them through joblib.
    """
    runs = [reduced_run(estimator, a, n_train, scale_lr, convergence) for a in alphas]
    grid = [{k: [v] for k, v in point.items()} for _, point in runs]
    sweep = Sweep(runs[0][0], grid, seeds=[seed], n_jobs=n_jobs, verbose=verbose, memory=memory)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sweep: ", category=RuntimeWarning)  # warn_diverged's
        sweep.fit(X, y, eval_set=eval_set)
    fitted = zip(alphas, sweep.estimators_, strict=True)
    return [reduced_row(est, a, n_train, convergence) for a, est in fitted]


def reduced_run(estimator: Any, alpha: float, n_train: int, scale_lr: bool,
                convergence: Convergence | None) -> tuple[Any, dict[str, Any]]:
    """The clone every point of a training size shares, and the point's own ``alpha``/``lr``."""
    template = clone(estimator)
    params = dict(constrain_norm=True, weight_decay=0.0, measures=None, on_divergence="warn", verbose=0)
    if convergence is not None:  # from the clone: its callbacks are copies, not shared between points
        params.update(_convergence_params(template, n_train, convergence))
    template.set_params(**params)
    return template, {"alpha": float(alpha), "lr": estimator.lr * float(alpha) if scale_lr else estimator.lr}


def reduced_row(est: Any, alpha: float, n_train: int, convergence: Convergence | None) -> dict[str, Any]:
    """One fitted point's row of the reduced landscape."""
    from grokkit.models.init import parameter_norm

    progress = est.progress_
    row = {
        "alpha": float(alpha),
        "weight_norm": float(parameter_norm(est.module_)),
        "n_train": int(n_train),
        "train_loss": _best(progress, "train_loss", np.nanmin),
        "test_loss": _best(progress, "test_loss", np.nanmin),
        "train_acc": _best(progress, "train_acc", np.nanmax),
        "test_acc": _best(progress, "test_acc", np.nanmax),
        "diverged": bool(getattr(est, "diverged_", False)),
    }
    if convergence is not None:
        row["converged"] = getattr(est, "stopped_by_", None) == CONVERGENCE_CALLBACK
        row["steps"] = int(est.n_steps_)
    return row


def _convergence_params(estimator: Any, n_train: int, convergence: Convergence) -> dict[str, Any]:
    """The clone's ``callbacks`` (its own plus the convergence rule) and ``max_epochs`` (the budget)."""
    from grokkit.callbacks import StopWhenConverged

    per_epoch = _steps_per_epoch(estimator.get_params(deep=False).get("batch_size"), n_train)
    rule = StopWhenConverged(monitor="train_loss", rtol=convergence.rtol, atol=convergence.atol,
                             window=math.ceil(convergence.window / per_epoch))
    own = estimator.get_params(deep=False).get("callbacks") or []
    params: dict[str, Any] = {"callbacks": [*own, (CONVERGENCE_CALLBACK, rule)]}
    if convergence.max_steps is not None:
        params["max_epochs"] = math.ceil(convergence.max_steps / per_epoch)
    return params


def warn_replaced_budget(owner: str, estimator: Any, convergence: Convergence | None) -> None:
    """Say so when ``max_steps`` replaces a ``max_epochs`` the user set on the estimator.

    A ``max_epochs`` that differs from the class default was set by the user;
    the analyzer's ``max_steps`` then decides how long each point trains, and
    this warning names both budgets and how to use the estimator's instead.
    """
    if convergence is None or convergence.max_steps is None:
        return
    epochs = estimator.get_params(deep=False).get("max_epochs")
    default = inspect.signature(type(estimator)).parameters.get("max_epochs")
    if default is None or epochs == default.default:
        return
    warnings.warn(
        f"{owner} trains each point until its train loss converges, for at most max_steps="
        f"{convergence.max_steps} optimizer steps (rounded up to whole epochs), not the estimator's "
        f"max_epochs={epochs}. Pass max_steps=None to train each point for at most max_epochs={epochs} "
        "epochs instead.", UserWarning, stacklevel=3)


def _steps_per_epoch(batch_size: Any, n_train: int) -> int:
    """Optimizer steps in one epoch of ``n_train`` rows, as the training loop batches them (one
    for full-batch training; a batch size the estimator will refuse counts as full batch here)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        return 1
    return -(-int(n_train) // min(int(batch_size), int(n_train)))


def warn_unconverged(owner: str, table: pd.DataFrame, keys: Sequence[str], convergence: Convergence
                     ) -> None:
    """One ``ConvergenceWarning`` listing the points whose train loss had not converged (diverged
    points have their own warning and are left out)."""
    late = table[~table["converged"].astype(bool) & ~table["diverged"].astype(bool)]
    if late.empty:
        return
    points = "; ".join(", ".join(f"{k}={row[k]!r}" for k in keys) for _, row in late.iterrows())
    budget = ("the estimator's max_epochs" if convergence.max_steps is None
              else f"max_steps={convergence.max_steps}")
    warnings.warn(
        f"{owner}: {len(late)} of {len(table)} points did not converge within {budget} (their best train "
        f"loss still fell by more than rtol={convergence.rtol:g} of itself plus atol={convergence.atol:g} "
        f"over the last window={convergence.window} steps): {points}. Their train_loss is an upper "
        f"bound on the reduced train loss, not the minimum over directions, so an 'L' that rises there "
        f"may be an optimisation artefact; they have converged=False and are marked in plot_lu and "
        f"plot_landscape_heatmap. Raise max_steps (or the lr).",
        ConvergenceWarning, stacklevel=3)


def _best(progress: pd.DataFrame, column: str, reduce: Any) -> float:
    if column not in progress.columns:
        return float("nan")
    values = progress[column].to_numpy(dtype=np.float64)
    finite = values[np.isfinite(values)]
    return float(reduce(finite)) if finite.size else float("nan")


class ReducedLandscape(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    r"""Reduced train/test loss and accuracy over weight norm (and training size).

    For every α in ``alphas`` and every N in ``train_sizes``, a clone of
    ``estimator`` is trained on N training samples with

    ``alpha=α, constrain_norm=True, weight_decay=0, measures=None``,

    so its weight norm stays at :math:`w = \alpha w_0` while the optimiser
    minimises the train loss over directions only (Omnigrok eq. 1, eq. 3). The
    reduced quantities are, as in the Omnigrok code, the **best** values over
    the run's recorded epochs (``progress_``): minimum train and test loss,
    maximum train and test accuracy. (Eq. 1 evaluates the test loss at the
    train-loss minimiser; at convergence the two agree up to the fluctuations
    of the test curve along the train-loss valley.)

    **Each point trains until its train loss has converged** (Omnigrok §3:
    "we treat the converging point after training as the global minimum on
    the spherical surface"), not for a fixed number of steps: the fit stops
    once the best training loss has improved by at most ``rtol`` of itself
    plus ``atol`` over the last ``window`` optimizer steps
    (:class:`~grokkit.callbacks.StopWhenConverged` on the epoch's training
    loss), or when ``max_steps`` steps are spent. A point whose budget ran out
    first has ``converged=False``: its train loss is an upper bound on the
    reduced one, and an "L" that rises there says "not optimised", not
    "no solution at this norm". Such points are named in a
    ``ConvergenceWarning`` and marked by :func:`~grokkit.plotting.plot_lu`
    and :func:`~grokkit.plotting.plot_landscape_heatmap`.

    Every grid point starts from the same initial direction (one seed drawn
    from ``random_state``), so the α grid scales one :math:`w_0` and
    ``weight_norm / alpha`` is the same on every row.

    Parameters
    ----------
    estimator : grokkit estimator
        Any grokkit estimator (``GrokMLPClassifier``, ``GrokMLPRegressor``,
        ``ModularTransformer``, ...); its other settings (lr, batch size,
        loss, ``measure_every``, callbacks) are kept, its ``max_epochs`` only
        with ``max_steps=None``. ``measure_every`` sets how often the best
        values are looked for (Omnigrok: every 50 steps).
    alphas : sequence of float, default=``np.logspace(-1, 1, 9)``
        Scales α = w/w₀ (Omnigrok: 21 log-spaced values in [0.1, 10]).
    train_sizes : sequence of int or None, default=None
        Training sizes N; ``None`` trains on all of ``X``. Each N takes the
        first N rows of one seeded permutation of ``X`` (nested subsets). A
        classifier needs every class among those rows.
    n_jobs : int or None, default=None
        Grid points trained in parallel by joblib (``-1``: all cores). Any
        joblib backend applies, e.g. Dask with
        ``joblib.parallel_backend("dask")``. The table does not depend on
        ``n_jobs``: each point trains on one torch thread with the same seed.
    random_state : int, RandomState or None, default=None
        Seeds the subsampling and the one initialisation seed of all points.
    verbose : int, default=0
        ``1`` shows a tqdm bar over grid points.
    scale_lr : bool, default=True
        Train the point at α with learning rate ``lr·α``. Why: Adam-type
        optimizers (Adam, AdamW, the default) move every parameter by about
        ``lr`` per step whatever the scale of its gradient. Write the
        parameters at norm α·w₀ as θ = α·u with ‖u‖ = w₀: u, the direction,
        is what the reduced problem optimises, and a step of ``lr`` in θ moves
        it by ``lr/α``. With one lr the α = 16 point turns its direction 16
        times more slowly than the α = 1 point, and in any fixed budget its
        "reduced" train loss is an under-optimised upper bound that rises with
        α. With ``lr·α`` the direction moves by ``lr`` at every α: training θ
        with Adam at ``lr·α`` is training u with Adam at ``lr`` on the loss
        ℓ(α·u) (exactly, up to Adam's ε: the gradient in u is α times that in
        θ, and Adam divides the scale out), and the norm constraint's
        rescaling removes the same relative radial part, ≈ P·lr²/(2w₀²) for P
        parameters. Only the loss surface ℓ(α·u) differs between the points,
        which is what the landscape should show. (For plain SGD, whose step
        follows the gradient's scale, the argument does not hold.) Measured on
        digits (200 train, MSE, lr 10⁻³, full batch, one seed): after 1 000 steps at
        α = 16 the best train loss is 0.18 with ``lr·α`` against 28.6 with
        one lr; trained to convergence both reach the "L" (α = 16 converges in
        5 348 steps against 6 279), but ``lr·α`` spikes more at large α and
        stops on a higher floor (3·10⁻⁵ against 6·10⁻⁸, both ≪ 1 % of the
        L's range). ``False`` trains every point with the estimator's lr, as
        Omnigrok's notebooks do.
    rtol : float, default=1e-3
        Converged when the best train loss improved by at most ``rtol`` of
        itself plus ``atol`` over the last ``window`` steps.
    atol : float, default=1e-6
        The absolute improvement per window that counts as none, in the
        loss's units. A point that fits its training set exactly lets an MSE
        fall geometrically towards 0, which no relative test ever calls
        converged; 10⁻⁶ is zero on the scale of losses of order 0.01–10 (MSE
        on one-hot targets, cross-entropy in nats). Scale it with the targets
        for regressions whose MSE is of another order.
    window : int, default=500
        Optimizer steps over which the improvement is measured, rounded up
        to whole epochs. It must span the pauses of the best loss: at large α
        Adam's loss spikes (by up to 10⁵× on the digits MLP at α = 16, lr
        0.016) and the best value then stalls for up to ~400 steps between
        improvements; a 200-step window stopped that point at 3.8·10⁻⁴ where
        it later reached 3.5·10⁻⁵.
    max_steps : int or None, default=20000
        The step budget of one point, rounded up to whole epochs (Omnigrok's
        grid trains 10⁴ steps per point); at least ``window``. ``None``
        trains at most the estimator's ``max_epochs``. When the estimator's
        ``max_epochs`` was set (differs from its class default) and
        ``max_steps`` replaces it, ``fit`` warns and names both.
    memory : str, path or joblib.Memory, default=None
        Keep every finished point on disk (:class:`grokkit.Sweep`'s
        ``memory``): a fit interrupted by Ctrl-C stops as a whole, and fitting
        again with the same ``memory`` trains only the missing points.

    Attributes
    ----------
    landscape_ : pandas.DataFrame
        One row per (N, α): ``alpha``, ``weight_norm`` (‖θ‖₂ kept during
        training), ``n_train``, ``train_loss``, ``test_loss``, ``train_acc``,
        ``test_acc`` (test columns NaN without ``eval_set``), ``diverged``,
        ``converged`` (the train loss met the convergence rule within the
        budget; False for a diverged point) and ``steps`` (optimizer steps
        taken).
    seed_ : int
        The initialisation seed shared by every grid point.

    Examples
    --------
    >>> from grokkit import GrokMLPRegressor
    >>> from grokkit.analysis.landscape import ReducedLandscape
    >>> from grokkit.datasets import make_teacher_student
    >>> X, y, X_test, y_test = make_teacher_student(widths=(8,), random_state=0)
    >>> student = GrokMLPRegressor(hidden_layer_sizes=(8,), activation="tanh", lr=1e-2,
    ...                            batch_size=None)
    >>> rl = ReducedLandscape(student, alphas=[0.5, 1, 2], max_steps=400, window=100,
    ...                       random_state=0)
    >>> table = rl.fit(X, y, eval_set=(X_test, y_test)).landscape_  # warns: 2 of 3 not converged
    >>> table.shape
    (3, 10)
    >>> table["converged"].tolist()  # α = 0.5 has a loss floor; the others still fit the teacher
    [True, False, False]
    """

    def __init__(self, estimator: Any = None, alphas: Sequence[float] | None = None,
                 train_sizes: Sequence[int] | None = None, n_jobs: int | None = None,
                 random_state: int | np.random.RandomState | None = None, verbose: int = 0,
                 scale_lr: bool = True, rtol: float = 1e-3, atol: float = 1e-6, window: int = 500,
                 max_steps: int | None = 20_000, memory: Any = None) -> None:
        self.estimator = estimator
        self.alphas = alphas
        self.train_sizes = train_sizes
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.scale_lr = scale_lr
        self.rtol = rtol
        self.atol = atol
        self.window = window
        self.max_steps = max_steps
        self.memory = memory

    def _check_params(self, n_samples: int) -> tuple[np.ndarray, list[int], Convergence]:
        check_grok_estimator("estimator", self.estimator)
        alphas = check_positive_grid("alphas", np.logspace(-1, 1, 9) if self.alphas is None
                                     else self.alphas)
        check_n_jobs(self.n_jobs)
        check_number("verbose", self.verbose, low=0, integer=True)
        check_bool("scale_lr", self.scale_lr)
        convergence = self._check_convergence()
        if self.train_sizes is None:
            return alphas, [n_samples], convergence
        sizes = np.atleast_1d(np.asarray(self.train_sizes))
        if sizes.ndim != 1 or sizes.size == 0 or not np.issubdtype(sizes.dtype, np.integer) \
                or np.any(sizes < 1) or np.any(sizes > n_samples):
            raise ValueError(f"train_sizes must be a non-empty sequence of ints in [1, {n_samples}] "
                             f"(the number of samples in X); got {self.train_sizes!r}.")
        if len(np.unique(sizes)) != len(sizes):
            raise ValueError(f"train_sizes must not repeat values; got {self.train_sizes!r}.")
        return alphas, [int(n) for n in sizes], convergence

    def _check_convergence(self) -> Convergence:
        return Convergence.checked(self.rtol, self.atol, self.window, self.max_steps)

    def fit(self, X: Any, y: Any, eval_set: tuple[Any, Any] | None = None) -> ReducedLandscape:
        """Train one norm-constrained clone per (N, α) to convergence and tabulate the reduced losses.

        Parameters
        ----------
        X, y : array-like
            The training pool; each N uses its first N rows after one seeded
            permutation.
        eval_set : (X_test, y_test), optional
            The test set of every grid point (the "test" in reduced test loss).

        Returns
        -------
        self
        """
        n_samples = check_training_pool("ReducedLandscape", X, y, eval_set)
        alphas, sizes, convergence = self._check_params(n_samples)
        warn_replaced_budget("ReducedLandscape", self.estimator, convergence)
        rng = check_random_state(self.random_state)
        order = rng.permutation(n_samples)
        self.seed_ = int(rng.randint(0, 2**31 - 1))
        subsets = {}
        rows: list[dict[str, Any]] = []
        hint = interrupt_hint("ReducedLandscape", lambda: len(rows), len(sizes) * len(alphas), self.memory)
        try:
            with multi_run(hint):
                for n in sizes:
                    take = np.sort(order[:n])
                    X_n, y_n = _take(X, take), _take(y, take)
                    subsets[n] = y_n
                    rows += fit_reduced_points(self.estimator, alphas, n, X_n, y_n, eval_set, self.seed_,
                                               bool(self.scale_lr), convergence, self.n_jobs, self.verbose,
                                               self.memory)
        except ValueError as exc:
            # A classifier learns its classes from the first fit, so a train size whose rows miss
            # a class fails there with a message about labels; name the train size instead.
            for n, y_n in subsets.items():
                held, missing = missing_classes(self.estimator, y, y_n, eval_set)
                if missing:
                    raise ValueError(
                        f"train_sizes: the {n} training rows of train size {n} hold {held} of the "
                        f"{held + len(missing)} classes of y and eval_set (missing: "
                        f"{', '.join(map(repr, missing[:10]))}{', ...' if len(missing) > 10 else ''}); "
                        f"a classifier needs every class in each training subset. Use larger train "
                        f"sizes. (The estimator said: {exc})") from exc
            raise
        self.landscape_ = pd.DataFrame(rows, columns=list(LANDSCAPE_COLUMNS))
        warn_diverged("ReducedLandscape", self.landscape_, ("n_train", "alpha"))
        warn_unconverged("ReducedLandscape", self.landscape_, ("n_train", "alpha"), convergence)
        self.n_features_in_ = n_features_of(X)
        return self

    def transform(self, X: Any = None) -> pd.DataFrame:
        """The fitted ``landscape_`` (a copy); ``X`` is ignored."""
        check_is_fitted(self, "landscape_")
        return self.landscape_.copy()

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> pd.DataFrame:
        return self.fit(X, y, **fit_params).transform()

    def reduced_minimum(self, column: str = "test_loss") -> pd.DataFrame:
        """Per training size, the row where ``column`` is smallest (the bottom of the "U")."""
        check_is_fitted(self, "landscape_")
        if column not in self.landscape_.columns:
            raise ValueError(f"column must be one of {list(self.landscape_.columns)}; got {column!r}.")
        table = self.landscape_.dropna(subset=[column])
        return table.loc[table.groupby("n_train")[column].idxmin()].reset_index(drop=True)


def _take(data: Any, rows: np.ndarray) -> Any:
    """Rows of an array, DataFrame or list."""
    if hasattr(data, "iloc"):
        return data.iloc[rows]
    if isinstance(data, np.ndarray) or hasattr(data, "__array__"):
        return np.asarray(data)[rows]
    return [data[i] for i in rows]
