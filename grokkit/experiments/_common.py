"""Helpers shared by the experiment modules: data, runs, run summaries and comparison figures."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from grokkit.analysis import grokking_summary


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend unless a display backend is already in use."""
    import matplotlib

    if matplotlib.get_backend().lower() not in {"agg", "module://matplotlib_inline.backend_inline"}:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def image_data(size: str, seed: int) -> tuple[tuple[np.ndarray, ...], str]:
    """Omnigrok's MNIST setting when MNIST can be had (full size), else sklearn's digits.

    The quick and smoke sizes always use the offline digits (300 training
    images): their settings were tuned on it. Returns the four arrays and a
    sentence saying which data was used.
    """
    from grokkit.datasets import load_digits_split, load_mnist

    if size == "full":
        try:
            return load_mnist(n_train=1000), "MNIST, first 1 000 training images, 10 000 test images"
        except (FileNotFoundError, OSError) as exc:
            reason = str(exc).split(" (")[0]
            data = load_digits_split(n_train=300, random_state=seed)
            return data, f"sklearn digits, 300 train / 1 497 test (offline stand-in: {reason})"
    data = load_digits_split(n_train=300, random_state=seed)
    return data, "sklearn digits, 300 train / 1 497 test (offline stand-in for MNIST)"


@dataclass
class _Reproduction:
    """Where the runs of one ``reproduce`` call keep their checkpoints and progress as they go."""

    checkpoints: Path
    progress: Path
    finished: dict[str, pd.DataFrame] = field(default_factory=dict)


_CURRENT: ContextVar[_Reproduction | None] = ContextVar("grokkit_reproduction", default=None)


@contextmanager
def checkpointed_runs(out: Path, resume: bool) -> Iterator[Path]:
    """Runs fitted by :func:`fit_run` inside write checkpoints under ``out/checkpoints/<label>``.

    Each run then writes its checkpoint and ``progress.csv`` at every recorded
    epoch, and ``out/progress.csv`` gains each run as it finishes. With
    ``resume`` the checkpoints of an earlier, interrupted call are continued
    (finished runs return at once); without it they are cleared first.
    """
    root = out / "checkpoints"
    if root.exists() and not resume:
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    token = _CURRENT.set(_Reproduction(root, out / "progress.csv"))
    try:
        yield root
    finally:
        _CURRENT.reset(token)


def current_checkpoints() -> Path | None:
    """The checkpoint folder of the running reproduction (``None`` outside :func:`checkpointed_runs`):
    an experiment that trains through :class:`grokkit.Sweep` keeps its ``memory=`` there, so that
    ``--resume`` skips its finished runs."""
    current = _CURRENT.get()
    return None if current is None else current.checkpoints


def fit_run(estimator: Any, data: Sequence[np.ndarray], label: str, verbose: int) -> Any:
    """Fit ``estimator`` on ``data = (X, y, X_test, y_test)`` with the test set as eval_set.

    Inside :func:`checkpointed_runs` the run is resumable and written as it
    goes. A Ctrl-C during the fit (the estimator keeps its progress and sets
    ``interrupted_``) ends the whole reproduction, to be resumed later.
    """
    X, y, X_test, y_test = data
    if verbose:
        print(f"[{label}]", flush=True)
    current = _CURRENT.get()
    if current is not None and "checkpoint_dir" in estimator.get_params(deep=False):
        estimator.set_params(checkpoint_dir=current.checkpoints / re.sub(r"[^\w.=+-]+", "_", label))
    fitted = estimator.fit(X, y, eval_set=(X_test, y_test))
    if getattr(fitted, "interrupted_", False):
        raise KeyboardInterrupt
    if current is not None and hasattr(fitted, "progress_"):
        current.finished[label] = fitted.progress_
        frames = [f.assign(run=name)[["run", *f.columns]] for name, f in current.finished.items()]
        partial = current.progress.with_name(f".{current.progress.name}.tmp")
        pd.concat(frames, ignore_index=True).to_csv(partial, index=False)
        os.replace(partial, current.progress)
    return fitted


def run_summary(progress: pd.DataFrame, train_threshold: float = 0.99,
                test_threshold: float = 0.9) -> dict[str, Any]:
    """:func:`grokking_summary` plus the weight norm at the start, minimum and end."""
    summary = grokking_summary(progress, train_threshold, test_threshold)
    if "weight_norm" in progress:
        norm = progress["weight_norm"]
        summary.update(initial_weight_norm=float(norm.iloc[0]), min_weight_norm=float(norm.min()),
                       final_weight_norm=float(norm.iloc[-1]))
    summary["final_step"] = int(progress["step"].iloc[-1])
    return summary


def test_acc_at(progress: pd.DataFrame, step: int) -> float:
    """Test accuracy at the last recorded row with ``step <= step``."""
    rows = progress[progress["step"] <= step]
    return float(rows["test_acc"].iloc[-1]) if len(rows) else float("nan")


def log_x(progress: pd.DataFrame, x: str) -> np.ndarray:
    """``progress[x]`` as floats with non-positive values moved to half the smallest positive one."""
    xs = progress[x].astype(float).to_numpy().copy()
    positive = xs[xs > 0]
    if len(positive):
        xs[xs <= 0] = positive.min() / 2
    return xs


def compare_runs(runs: Mapping[str, pd.DataFrame], title: str, measures: Sequence[str] = ("weight_norm",),
                 x: str = "step") -> Any:
    """Train (dashed) and test (solid) accuracy of several runs, then measures, over log ``x``."""
    plt = pyplot()
    measures = [m for m in measures if all(m in frame for frame in runs.values())]
    rows = 1 + len(measures)
    fig, axes = plt.subplots(rows, 1, figsize=(7, 2.6 * rows + 0.6), sharex=True, squeeze=False)
    axes = axes[:, 0]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for (label, frame), color in zip(runs.items(), colors, strict=False):
        xs = log_x(frame, x)
        axes[0].plot(xs, frame["train_acc"], ls="--", color=color, label=f"{label} train")
        if "test_acc" in frame:
            axes[0].plot(xs, frame["test_acc"], color=color, label=f"{label} test")
        for ax, measure in zip(axes[1:], measures, strict=True):
            ax.plot(xs, frame[measure], color=color, label=label)
    axes[0].set_ylabel("accuracy")
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].legend(fontsize=7, loc="best")
    for ax, measure in zip(axes[1:], measures, strict=True):
        ax.set_ylabel(measure.replace("_", " "))
        ax.legend(fontsize=7, loc="best")
    axes[-1].set_xscale("log")
    axes[-1].set_xlabel(f"{x} (log scale)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
