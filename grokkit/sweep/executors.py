"""The two ways a sweep trains its runs, and the one row of ``results_`` each run gives."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from grokkit._threads import torch_threads


def choose_executor(estimator: Any, varying: Sequence[str], vectorize: Any, n_runs: int) -> tuple[str, str]:
    """``("stacked" | "joblib", note)``: the note says why runs that could not be stacked were not."""
    from grokkit.estimators.stacked import why_not_stackable

    if vectorize is False:
        return "joblib", "vectorize=False"
    reason = why_not_stackable(estimator, varying)
    if reason is not None:
        if vectorize is True:
            raise ValueError(f"vectorize=True, but these runs cannot be stacked: {reason}. "
                             "Use vectorize='auto' to fall back to joblib.")
        return "joblib", f"not stacked: {reason}"
    if n_runs < 2 and vectorize == "auto":
        return "joblib", "one run: nothing to stack"
    return "stacked", ""


def fit_one(estimator: Any, X: Any, y: Any, eval_set: Any) -> Any:
    """Fit one run on one torch thread; a diverged run returns with its ``progress_``, not an error.

    Why one thread: torch's CPU reductions may sum in a different order with a
    different thread count, and joblib workers get fewer threads than the
    parent, so one thread makes every run bit-identical whatever ``n_jobs``
    (and tiny grokking models run fastest on one thread anyway).
    """
    from grokkit.estimators.loop import TrainingDiverged

    with torch_threads(1):
        try:
            return estimator.fit(X, y, eval_set=eval_set)
        except TrainingDiverged:
            return estimator


def run_tasks(function: Callable[..., Any], tasks: Sequence[tuple], n_jobs: int | None, verbose: int,
              desc: str, done: Callable[[int, Any], None] | None = None) -> list[Any]:
    """``[function(*task) for task in tasks]`` through ``joblib.Parallel``, in task order.

    Any joblib backend applies (``with joblib.parallel_backend("dask"): ...``);
    ``verbose`` shows a tqdm bar over finished tasks; ``done(i, result)`` is
    called as each result arrives (a sweep saves finished runs with it).
    """
    from joblib import Parallel, delayed

    # One torch thread here too: with a threading backend the tasks share this process,
    # and per-task save/restore of the (process-wide) thread count would race.
    with torch_threads(1):
        results = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(function)(*t) for t in tasks)
        if verbose:
            from tqdm.auto import tqdm

            results = tqdm(results, total=len(tasks), desc=desc, unit="fit")
        out = []
        for i, result in enumerate(results):
            if done is not None:
                done(i, result)
            out.append(result)
        return out


def run_joblib(templates: Sequence[Any], indices: Sequence[int], X: Any, y: Any, eval_set: Any,
               n_jobs: int | None, verbose: int, done: Callable[[int, Any], None]) -> None:
    """Each run through :func:`run_tasks`; ``done(index, fitted)`` as each returns."""
    run_tasks(fit_one, [(t, X, y, eval_set) for t in templates], n_jobs, verbose, "sweep",
              lambda i, fitted: done(indices[i], fitted))


def run_stacked(templates: Sequence[Any], indices: Sequence[int], X: Any, y: Any, eval_set: Any,
                max_stacked: int | None, verbose: int, done: Callable[[int, Any], None]) -> None:
    """The runs as stacked models of at most ``max_stacked`` runs each."""
    from grokkit.estimators.stacked import fit_stacked

    size = len(templates) if max_stacked is None else int(max_stacked)
    groups = [range(start, min(start + size, len(templates))) for start in range(0, len(templates), size)]
    bar = None
    if verbose:
        from tqdm.auto import tqdm

        bar = tqdm(total=templates[0].max_epochs * len(groups), desc=f"sweep ({len(templates)} stacked)",
                   unit="epoch")
    try:
        for group in groups:
            fitted = fit_stacked([templates[i] for i in group], X, y, eval_set,
                                 progress=None if bar is None else bar.update)
            for i, est in zip(group, fitted, strict=True):
                done(indices[i], est)
    finally:
        if bar is not None:
            bar.close()


def run_row(estimator: Any) -> dict[str, Any]:
    """What ``results_`` says of one fitted run."""
    from grokkit.progress import grokking_summary

    progress = estimator.progress_
    summary = grokking_summary(progress) if "train_acc" in progress else {}
    last = progress.iloc[-1]

    def final(column: str) -> float:
        return float(last[column]) if column in progress else math.nan

    mem, gen = summary.get("memorization_step"), summary.get("generalization_step")
    return {
        "memorization_step": mem,
        "generalization_step": gen,
        "delay_steps": gen - mem if mem is not None and gen is not None else None,
        "grokked": summary.get("grokked"),
        "final_train_acc": final("train_acc"),
        "final_test_acc": final("test_acc"),
        "best_test_acc": float(np.nanmax(progress["test_acc"])) if "test_acc" in progress else math.nan,
        "final_train_loss": final("train_loss"),
        "final_test_loss": final("test_loss"),
        "diverged": bool(getattr(estimator, "diverged_", False)),
        "stopped_by": getattr(estimator, "stopped_by_", None),
        "n_steps": int(getattr(estimator, "n_steps_", 0)),
    }
