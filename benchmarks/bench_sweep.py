"""Sweep executors side by side (issue 14, point 2): K runs stacked vs one after another vs joblib.

Two cases, each timed in this one process with the same runs and steps:

* ``digits``: GrokMLPClassifier 64-200-200-10, α = 8, MSE, batch 200 of 1 000
  digits (5 steps an epoch);
* ``modular``: Clauw et al.'s one-hot MLP (``ModularMLPClassifier``, p = 97,
  40 % of the pairs, full batch: one step an epoch).

For K = 1, 4, 8, 16, 32 runs (seeds 0..K-1, measures off) it times
``Sweep(..., vectorize=True)`` (one stacked model, this process's torch
threads), ``vectorize=False, n_jobs=1`` (one run after another, one torch
thread each, as grokkit runs them) and ``vectorize=False, n_jobs=2`` (joblib
processes, one thread each), and prints runs per second and the ratio of each
to one-after-another. The box is shared and noisy: read the ratios, measured
side by side, not the absolute times.

    python benchmarks/bench_sweep.py [--cases digits modular] [--ks 1 4 8 16 32] [--device cuda]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch

from grokkit import GrokMLPClassifier, ModularMLPClassifier, Sweep
from grokkit.datasets import load_digits_split, make_modular


def cases(device: str) -> dict[str, tuple[Any, tuple, str]]:
    digits = load_digits_split(1000, random_state=0)
    mod = make_modular(p=97, operation="add", train_fraction=0.4, random_state=0)
    return {
        "digits": (GrokMLPClassifier(alpha=8.0, loss="mse", weight_decay=0.1, batch_size=200, max_epochs=20,
                                     measures=None, device=device), digits,
                   "digits MLP 64-200-200-10, batch 200 of 1000, 20 epochs (100 steps a run)"),
        "modular": (ModularMLPClassifier(p=97, max_epochs=60, measures=None, device=device), mod,
                    "Clauw modular MLP p=97, full batch, 60 epochs (60 steps a run)"),
    }


def timed(estimator: Any, data: tuple, k: int, **kwargs: Any) -> float:
    X, y, Xt, yt = data
    start = time.perf_counter()
    sweep = Sweep(estimator, seeds=k, **kwargs).fit(X, y, eval_set=(Xt, yt))
    if device_is_cuda(estimator):
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    expected = "stacked" if kwargs.get("vectorize") is True else "joblib"
    assert set(sweep.results_["executor"]) == {expected}, sweep.results_["executor"]
    return elapsed


def device_is_cuda(estimator: Any) -> bool:
    return str(estimator.device).startswith("cuda")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=("digits", "modular"), default=["digits", "modular"])
    parser.add_argument("--ks", nargs="+", type=int, default=[1, 4, 8, 16, 32])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="torch threads of the stacked model (default: torch's)")
    parser.add_argument("--no-joblib", action="store_true", help="skip the joblib n_jobs=2 column")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for name in args.cases:
        estimator, data, label = cases(args.device)[name]
        print(f"{label}; device {args.device}, stacked on {args.threads} torch thread(s)")
        timed(estimator, data, 2, vectorize=True)  # warm-up: imports, allocator, loky workers
        if not args.no_joblib:
            timed(estimator, data, 2, vectorize=False, n_jobs=2)
        header = f"  {'K':>3} {'stacked runs/s':>15} {'sequential runs/s':>18}"
        header += "" if args.no_joblib else f" {'joblib(2) runs/s':>17}"
        print(header + f" {'stacked / seq':>14}" + ("" if args.no_joblib else f" {'joblib / seq':>13}"))
        for k in args.ks:
            stacked = timed(estimator, data, k, vectorize=True)
            sequential = timed(estimator, data, k, vectorize=False, n_jobs=1)
            line = f"  {k:>3} {k / stacked:>15.2f} {k / sequential:>18.2f}"
            if not args.no_joblib:
                parallel = timed(estimator, data, k, vectorize=False, n_jobs=2)
                line += f" {k / parallel:>17.2f}"
            line += f" {sequential / stacked:>14.2f}"
            if not args.no_joblib:
                line += f" {sequential / parallel:>13.2f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
