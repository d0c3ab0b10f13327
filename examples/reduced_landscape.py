"""Reduced loss landscapes (Omnigrok §2–§5): LU curves, (w, N) heat maps, (w, m) messiness landscape.

    python examples/reduced_landscape.py --n-jobs 2 --out figures/

Each grid point trains a clone at fixed weight norm w = α·w₀ (constrain_norm,
no weight decay, lr·α) until its train loss has converged or --max-steps steps
are spent, and keeps the best train/test loss: the reduced train loss should be
non-increasing in α ("L") and the reduced test loss have an interior minimum
("U"). Points that did not converge are listed in a warning, have
converged=False in the table, and are circled (LU) or hatched (heat maps) in
the figures. --epochs sets the messiness toy's fixed schedule.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from grokkit import GrokMLPClassifier, GrokMLPRegressor
from grokkit.analysis.landscape import ReducedLandscape
from grokkit.analysis.messiness import MessinessLandscape, default_decoder
from grokkit.datasets import load_digits_split
from grokkit.datasets.teacher_student import make_teacher_student
from grokkit.plotting import plot_landscape_heatmap, plot_lu


def report(name: str, landscape: ReducedLandscape) -> None:
    table = landscape.landscape_
    print(f"--- {name} ---")
    print(table.round(5).to_string(index=False))
    for n, rows in table.groupby("n_train"):
        rows = rows.sort_values("alpha")
        train, test = rows["train_loss"].to_numpy(), rows["test_loss"].to_numpy()
        # "L": no rise larger than 1 % of the curve's range (rises of ~1e-8 on the
        # plateau, where every point has fit the data, are optimiser noise, not shape)
        largest = np.maximum(np.diff(train), 0).max()
        rise = largest / np.ptp(train)
        best = int(np.argmin(test))
        print(f"N={n}: L (train loss non-increasing within 1 % of its range {np.ptp(train):.4g}): "
              f"{rise <= 0.01} (largest rise {largest:.3g} = {rise:.2%}; strictly: {largest == 0}); "
              f"U: test loss minimum at alpha={rows['alpha'].iloc[best]:.3g} "
              f"(interior: {0 < best < len(test) - 1}), "
              f"test loss first / min / last {test[0]:.4g} / {test[best]:.4g} / {test[-1]:.4g}; "
              f"converged {int(rows['converged'].sum())} of {len(rows)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=3000, help="messiness toy: epochs per point")
    parser.add_argument("--max-steps", type=int, default=ReducedLandscape().max_steps,
                        help="landscapes: step budget per point (each stops earlier once converged)")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--out", default="figures")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: teacher,digits,messiness")
    parser.add_argument("--one-lr", action="store_true",
                        help="train every point at the estimator's lr (scale_lr=False) instead of lr*alpha")
    parser.add_argument("--messiness-layout", default="paper", choices=["paper", "code"],
                        help="App. D's text or the public notebook behind Fig. 6 "
                             "(see grokkit.analysis.messiness)")
    parser.add_argument("--largest-n-only", action="store_true",
                        help="only the largest training size (100 teacher-student, 300 digits)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    skip = set(args.skip.split(","))
    alphas = np.logspace(-1, 1, 9)

    if "teacher" not in skip:
        X, y, X_test, y_test = make_teacher_student(random_state=0)
        student = GrokMLPRegressor(hidden_layer_sizes=(100, 100), activation="tanh", lr=1e-3, batch_size=None,
                                   measure_every=25)
        start = time.perf_counter()
        sizes = [100] if args.largest_n_only else [25, 50, 100]
        rl = ReducedLandscape(student, alphas=alphas, train_sizes=sizes, n_jobs=args.n_jobs, random_state=0,
                              verbose=1, scale_lr=not args.one_lr, max_steps=args.max_steps).fit(
            X, y, eval_set=(X_test, y_test))
        print(f"teacher-student landscape: {time.perf_counter() - start:.0f} s")
        report("teacher-student 5-100-100-5 tanh", rl)
        plot_lu(rl.landscape_.query("n_train == 100"), title="teacher-student (Fig. 2a)").savefig(
            f"{args.out}/lu_teacher_student.png", dpi=100)
        for value in ("train_loss", "test_loss"):
            plot_landscape_heatmap(rl.landscape_, value, title=f"teacher-student {value}").savefig(
                f"{args.out}/heatmap_teacher_student_{value}.png", dpi=100)

    if "digits" not in skip:
        X, y, X_test, y_test = load_digits_split(n_train=300, random_state=0)
        clf = GrokMLPClassifier(hidden_layer_sizes=(200, 200), loss="mse", lr=1e-3, batch_size=100,
                                measure_every=10)
        start = time.perf_counter()
        sizes = [300] if args.largest_n_only else [75, 150, 300]
        rl = ReducedLandscape(clf, alphas=alphas, train_sizes=sizes, n_jobs=args.n_jobs, random_state=0,
                              verbose=1, scale_lr=not args.one_lr, max_steps=args.max_steps).fit(
            X, y, eval_set=(X_test, y_test))
        print(f"digits landscape: {time.perf_counter() - start:.0f} s")
        report("digits 64-200-200-10 ReLU, MSE", rl)
        plot_lu(rl.landscape_.query("n_train == 300"), title="digits, N = 300").savefig(
            f"{args.out}/lu_digits.png", dpi=100)
        for value in ("train_acc", "test_acc"):
            plot_landscape_heatmap(rl.landscape_, value, title=f"digits {value} (Fig. 3a-b)").savefig(
                f"{args.out}/heatmap_digits_{value}.png", dpi=100)

    if "messiness" not in skip:
        if args.messiness_layout == "code":  # the notebook behind Fig. 6: its grid and 15 000-step schedule
            decoder = default_decoder("code")
            ms, grid = [0.0, 0.05, 0.1, 0.15, 0.2], [1.0, 2.0, 3.0, 4.5, 6.0, 9.0]
        else:
            decoder = default_decoder().set_params(max_epochs=args.epochs)
            ms, grid = [0.0, 0.25, 0.5, 0.75, 1.0], alphas
        start = time.perf_counter()
        ml = MessinessLandscape(decoder, messiness=ms, alphas=grid, layout=args.messiness_layout,
                                n_jobs=args.n_jobs, random_state=0, verbose=1).fit()
        print(f"messiness landscape ({args.messiness_layout} layout): {time.perf_counter() - start:.0f} s")
        print(ml.landscape_.round(5).to_string(index=False))
        for value in ("train_loss", "test_loss"):
            plot_landscape_heatmap(ml.landscape_, value, y="messiness",
                                   title=f"(w, m) {value} (Fig. 6a-b)").savefig(
                f"{args.out}/heatmap_messiness_{value}.png", dpi=100)


if __name__ == "__main__":
    main()
