"""``Sweep``: runs over a parameter grid × seeds, trained stacked as one batched model or through joblib."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import ParameterGrid

from grokkit._interrupts import multi_run, raise_if_interrupted, shown
from grokkit.plotting import plot_grouped_seed_bands
from grokkit.stats import seed_interval
from grokkit.sweep.cache import RunCache, data_key, run_key

#: Columns of ``results_`` summarised by :meth:`Sweep.summary` unless told otherwise.
SUMMARY_COLUMNS = ("memorization_step", "generalization_step", "delay_steps", "final_train_acc",
                   "final_test_acc", "best_test_acc", "final_train_loss", "final_test_loss")


class Sweep(BaseEstimator):
    r"""Train one run per (grid point, seed); tables and curves of all of them.

    The run of grid point ``point`` and seed ``s`` is exactly
    ``clone(estimator).set_params(**point, random_state=s).fit(X, y, eval_set=eval_set)``.
    Grokking research is sweeps (Clauw et al. train 5 seeds per setting;
    Omnigrok's landscapes are grids of α × N; phase diagrams are lr × wd), and
    every number is worth reporting with its spread over seeds.

    Two executors give the same results:

    - **stacked** (``vectorize``): runs that differ only in numbers the batched
      model carries (:data:`grokkit.estimators.stacked.STACKABLE`: the seed,
      ``lr``, ``weight_decay``, ``alpha``, ``norm_penalty``, ``constrain_norm``,
      ``input_noise``) train as one model whose parameters are stacked along a
      leading axis (``torch.func.vmap``), with a per-run AdamW step; on a GPU
      K tiny runs cost about what one does;
    - **joblib**: one process per run by default (``n_jobs``), one torch
      thread each, any joblib backend (``with joblib.parallel_backend("dask")``).

    Parameters
    ----------
    estimator : grokkit estimator
        The run template; cloned for every run.
    param_grid : dict or list of dicts, default=None
        As :class:`sklearn.model_selection.ParameterGrid`; ``None`` or ``{}``:
        the template's own parameters (a sweep over seeds only). It may not
        name ``random_state``: the seeds are ``seeds``.
    seeds : int or sequence of int, default=1
        ``N`` means seeds ``0..N-1``; a sequence lists them.
    n_jobs : int, default=None
        joblib's workers for the runs that are not stacked.
    vectorize : "auto", bool, default="auto"
        ``"auto"`` stacks the runs when every varying parameter allows it and
        the estimator's model supports it (the MLP estimators,
        ``ModularMLPClassifier``, ``ModularTransformer``), and otherwise uses
        joblib, saying why in ``results_["note"]``; ``True`` raises instead of
        falling back; ``False`` always uses joblib.
    max_stacked : int, default=None
        At most this many runs in one stacked model (``None``: all). Smaller
        groups bound memory and, with ``memory``, are saved as they finish.
    memory : str, path or joblib.Memory, default=None
        Keep every finished run on disk (as ``Pipeline(memory=...)``): a re-run
        of an interrupted sweep trains only the missing runs, and a grown grid
        only the new points. On Ctrl-C the whole sweep stops (the interrupted
        run is not kept) and says how many runs finished and how to resume.
    verbose : int, default=0
        1: a progress bar over runs (joblib) or epochs (stacked).

    Attributes
    ----------
    runs_ : list of dict
        The parameters of every run (grid point plus ``random_state``), in order.
    estimators_ : list
        One fitted estimator per run.
    results_ : DataFrame
        One row per run: its parameters, ``seed``, the
        :func:`~grokkit.progress.grokking_summary` steps, final and best
        accuracies and losses, ``diverged``, ``stopped_by``, ``n_steps``,
        ``executor`` (``"stacked"``, ``"joblib"`` or ``"memory"``) and ``note``.
    progress_ : DataFrame
        Every run's ``progress_``, with ``run``, ``seed`` and the grid's columns.
    n_trained_ : int
        Runs trained by this fit (the others came from ``memory``).
    """

    def __init__(self, estimator: Any = None, param_grid: Any = None, seeds: Any = 1,
                 n_jobs: int | None = None, vectorize: Any = "auto", max_stacked: int | None = None,
                 memory: Any = None, verbose: int = 0) -> None:
        self.estimator = estimator
        self.param_grid = param_grid
        self.seeds = seeds
        self.n_jobs = n_jobs
        self.vectorize = vectorize
        self.max_stacked = max_stacked
        self.memory = memory
        self.verbose = verbose

    # ----------------------------------------------------------------- checks
    def _seed_list(self) -> list[int]:
        seeds = self.seeds
        if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
            if seeds < 1:
                raise ValueError(f"seeds must be a positive int or a sequence of ints; got {seeds!r}.")
            return list(range(int(seeds)))
        if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence | np.ndarray):
            raise TypeError(f"seeds must be a positive int or a sequence of ints; got {seeds!r} of "
                            f"type {type(seeds).__name__}.")
        listed = list(seeds)
        bad = [s for s in listed if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0]
        if not listed or bad:
            raise ValueError(f"seeds must list non-negative ints; got {seeds!r}.")
        if len(set(listed)) != len(listed):
            raise ValueError(f"seeds must not repeat a seed; got {seeds!r}.")
        return [int(s) for s in listed]

    def _points(self) -> list[dict[str, Any]]:
        grid = self.param_grid
        if grid is None or (isinstance(grid, Mapping) and not grid):
            return [{}]
        if not isinstance(grid, Mapping | Sequence) or isinstance(grid, str):
            raise TypeError(f"param_grid must be a dict or a list of dicts; got {type(grid).__name__}.")
        points = list(ParameterGrid(grid))
        known = set(self.estimator.get_params(deep=True))
        for point in points:
            if "random_state" in point:
                raise ValueError("param_grid must not contain 'random_state': pass the seeds as seeds=.")
            unknown = sorted(set(point) - known)
            if unknown:
                raise ValueError(f"param_grid names {unknown}, which are not parameters of "
                                 f"{type(self.estimator).__name__}.")
        return points

    def _check(self) -> None:
        if self.estimator is None or not hasattr(self.estimator, "fit"):
            raise TypeError(f"estimator must be an estimator with fit; got {self.estimator!r}.")
        if self.vectorize not in ("auto", True, False):
            raise ValueError(f"vectorize must be 'auto', True or False; got {self.vectorize!r}.")
        if self.max_stacked is not None and (isinstance(self.max_stacked, bool) or not isinstance(
                self.max_stacked, numbers.Integral) or self.max_stacked < 1):
            raise ValueError(f"max_stacked must be None or a positive int; got {self.max_stacked!r}.")

    # -------------------------------------------------------------------- fit
    def fit(self, X: Any, y: Any, eval_set: tuple[Any, Any] | None = None) -> Sweep:
        """Train every run not already in ``memory``; build ``results_`` and ``progress_``."""
        from grokkit.sweep.executors import choose_executor, run_joblib, run_stacked

        self._check()
        points, seeds = self._points(), self._seed_list()
        runs = [{**point, "random_state": seed} for point in points for seed in seeds]
        templates = [clone(self.estimator).set_params(**run) for run in runs]
        cache = RunCache(self.memory)
        data = data_key(X, y, eval_set) if cache.folder is not None else ""
        keys = [run_key(t, data) for t in templates] if cache.folder is not None else [""] * len(runs)
        fitted: list[Any] = [cache.load(k) for k in keys]
        executor = ["memory" if f is not None else "" for f in fitted]
        todo = [i for i, f in enumerate(fitted) if f is None]
        varying = sorted({k for run in runs for k in run if len({repr(r.get(k)) for r in runs}) > 1})
        how, note = choose_executor(self.estimator, varying, self.vectorize, len(todo))

        def done(i: int, estimator: Any) -> None:
            raise_if_interrupted(estimator)  # a run stopped by Ctrl-C is neither kept nor followed
            fitted[i] = estimator
            executor[i] = how
            cache.save(keys[i], estimator)

        def hint() -> str:
            finished = sum(f is not None for f in fitted)
            if cache.folder is None:
                return (f"Sweep interrupted: {finished} of {len(runs)} runs had finished; they are not "
                        "kept (memory=None). Pass memory='a/folder' to make a sweep resumable: fitting "
                        "it again then trains only the missing runs.")
            return (f"Sweep interrupted: {finished} of {len(runs)} runs had finished and are kept in "
                    f"memory={shown(self.memory)}. Fit the same sweep again with that memory to train "
                    "only the missing runs.")

        with multi_run(hint):
            if todo and how == "stacked":
                run_stacked([templates[i] for i in todo], todo, X, y, eval_set, self.max_stacked,
                            self.verbose, done)
            elif todo:
                run_joblib([templates[i] for i in todo], todo, X, y, eval_set, self.n_jobs, self.verbose,
                           done)
        self.runs_ = runs
        self.estimators_ = fitted
        self.n_trained_ = len(todo)
        self.results_ = self._results(runs, fitted, executor, note)
        self.progress_ = self._progress(runs, fitted)
        diverged = self.results_[self.results_["diverged"]]
        if len(diverged):
            warnings.warn(f"Sweep: {len(diverged)} of {len(runs)} runs diverged (non-finite loss): runs "
                          f"{diverged.index.tolist()}; results_['diverged'] marks them.", RuntimeWarning,
                          stacklevel=2)
        return self

    def _grid_keys(self) -> list[str]:
        return sorted({k for run in self.runs_ for k in run if k != "random_state"})

    def _results(self, runs: list[dict], fitted: list[Any], executor: list[str], note: str
                 ) -> pd.DataFrame:
        from grokkit.sweep.executors import run_row

        rows = []
        for i, (run, est) in enumerate(zip(runs, fitted, strict=True)):
            point = {k: v for k, v in run.items() if k != "random_state"}
            rows.append({"run": i, **point, "seed": run["random_state"], **run_row(est),
                         "executor": executor[i], "note": note if executor[i] == "joblib" else ""})
        return pd.DataFrame(rows).set_index("run")

    def _progress(self, runs: list[dict], fitted: list[Any]) -> pd.DataFrame:
        frames = []
        for i, (run, est) in enumerate(zip(runs, fitted, strict=True)):
            point = {k: v for k, v in run.items() if k != "random_state"}
            extra = {"run": i, "seed": run["random_state"], **point}
            frame = est.progress_.assign(**{k: [v] * len(est.progress_) for k, v in extra.items()})
            frames.append(frame[[*extra, *est.progress_.columns]])
        return pd.concat(frames, ignore_index=True)

    # ------------------------------------------------------------ read-outs
    def summary(self, by: Sequence[str] | str | None = None,
                columns: Sequence[str] | None = None, confidence: float = 0.95) -> pd.DataFrame:
        """Mean and ``confidence`` interval over seeds of each ``results_`` column, per grid point.

        Returns a DataFrame indexed by ``by`` (default: the grid's parameters)
        with columns ``(column, stat)`` for stat in ``mean``, ``low``,
        ``high``, ``n`` (finite values: a run that never generalised has no
        ``generalization_step``) — see :func:`grokkit.sweep.seed_interval`.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "results_")
        by = self._grid_keys() if by is None else [by] if isinstance(by, str) else list(by)
        missing = [b for b in by if b not in self.results_.columns]
        if missing:
            raise ValueError(f"by names {missing}, which are not columns of results_.")
        columns = [c for c in (SUMMARY_COLUMNS if columns is None else columns) if c in self.results_]
        groups = self.results_.groupby(by, sort=False, dropna=False) if by else [((), self.results_)]
        rows = {}
        for key, group in groups:
            stats = {}
            for column in columns:
                stat = seed_interval(group[column].tolist(), confidence)
                stats.update({(column, s): stat[s] for s in ("mean", "low", "high", "n")})
            rows[key if by else "all"] = stats
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.columns = pd.MultiIndex.from_tuples(table.columns, names=["column", "stat"])
        keys = [k if isinstance(k, tuple) else (k,) for k in table.index]
        if len(by) == 1:
            table.index = pd.Index([k[0] for k in keys], name=by[0])
        elif by:
            table.index = pd.MultiIndex.from_tuples(keys, names=by)
        return table

    def plot(self, y: str = "test_acc", x: str = "step", by: Sequence[str] | str | None = None,
             ax: Any = None, confidence: float = 0.95) -> Any:
        """Curves of ``y`` against ``x`` (log scale), the mean over seeds with a ``confidence`` band.

        One curve per grid point (or per value of ``by``). Returns the figure.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "progress_")
        by = self._grid_keys() if by is None else [by] if isinstance(by, str) else list(by)
        return plot_grouped_seed_bands(self.progress_, y=y, x=x, by=by, ax=ax, confidence=confidence)
