"""Helpers shared by the experiment modules: data, runs, run summaries and comparison figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def fit_run(estimator: Any, data: Sequence[np.ndarray], label: str, verbose: int) -> Any:
    """Fit ``estimator`` on ``data = (X, y, X_test, y_test)`` with the test set as eval_set."""
    X, y, X_test, y_test = data
    if verbose:
        print(f"[{label}]", flush=True)
    return estimator.fit(X, y, eval_set=(X_test, y_test))


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
