"""ReducedLandscape with n_jobs=1 vs n_jobs=2: identical tables, wall times side by side.

    python benchmarks/bench_landscape_jobs.py --epochs 1500

The teacher–student student (5-100-100-5 tanh, full batch) over 8 values of α.
Each grid point trains on one torch thread in either mode, so the tables must be
equal to the last bit; the speed-up is bounded by the free cores (shared
machines give noisy numbers) and by joblib's worker start-up (~seconds).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from grokkit import GrokMLPRegressor
from grokkit.analysis.landscape import ReducedLandscape
from grokkit.datasets.teacher_student import make_teacher_student


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=1500)
    parser.add_argument("--n-alphas", type=int, default=8)
    args = parser.parse_args()
    X, y, X_test, y_test = make_teacher_student(random_state=0)
    student = GrokMLPRegressor(hidden_layer_sizes=(100, 100), activation="tanh", lr=1e-3, batch_size=None,
                               max_epochs=args.epochs, measure_every=50)
    alphas = np.logspace(-1, 1, args.n_alphas)
    tables, times = {}, {}
    for n_jobs in (1, 2):
        start = time.perf_counter()
        landscape = ReducedLandscape(student, alphas=alphas, n_jobs=n_jobs, random_state=0)
        tables[n_jobs] = landscape.fit(X, y, eval_set=(X_test, y_test)).landscape_
        times[n_jobs] = time.perf_counter() - start
        print(f"n_jobs={n_jobs}: {times[n_jobs]:.1f} s")
    pd.testing.assert_frame_equal(tables[1], tables[2])
    print(f"tables identical: True; speed-up n_jobs=2 / n_jobs=1: {times[1] / times[2]:.2f}x "
          f"({len(alphas)} grid points x {args.epochs} epochs)")


if __name__ == "__main__":
    main()
