"""Omnigrok §3 teacher–student: grokking with weight decay, and time to generalise ∝ 1/γ (Fig. 2b–c).

    python examples/teacher_student.py --epochs 30000 --n-jobs 2 --out figures/

Trains the α = 2 student with γ = 0 (no generalisation) and γ log-spaced over
[0.03, 1] (0.03: late, 1: fast), then fits the log–log slope of the steps to a
train and a test accuracy level against γ (γ = 0 left out). Accuracy is the
fraction of samples with per-sample MSE < ``--threshold`` (10⁻³, as in the
Omnigrok notebook; see GrokMLPRegressor.accuracy_threshold).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from grokkit import GrokMLPRegressor
from grokkit.analysis.timing import TimeToGeneralize, loglog_slope
from grokkit.datasets.teacher_student import make_teacher_student
from grokkit.plotting import plot_progress, plot_time_to_generalize
from grokkit.progress import grokking_summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=30000)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=1e-3)
    parser.add_argument("--n-decays", type=int, default=6, help="log-spaced γ values in [0.03, 1]")
    parser.add_argument("--out", default="figures")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    X, y, X_test, y_test = make_teacher_student(random_state=0)
    student = GrokMLPRegressor(hidden_layer_sizes=(100, 100), activation="tanh", alpha=2.0, lr=3e-4,
                               batch_size=None, max_epochs=args.epochs, measures=None, measure_every=50,
                               accuracy_threshold=args.threshold, random_state=0)

    print("== alpha = 2: gamma = 0 and a sweep over [0.03, 1] ==")
    decays = np.concatenate([[0.0], np.geomspace(0.03, 1.0, args.n_decays)])
    sweep = TimeToGeneralize(student, weight_decays=decays, train_threshold=0.95, test_threshold=0.5,
                             random_state=0, n_jobs=args.n_jobs, verbose=1)
    sweep.fit(X, y, eval_set=(X_test, y_test))
    for gamma, progress in sweep.progress_.items():
        s = grokking_summary(progress, 0.95, 0.5)
        print(f"gamma={gamma:.3g}: train>=0.95 at step {s['memorization_step']}, test>=0.5 at step "
              f"{s['generalization_step']}, final train/test acc {s['final_train_acc']:.2f}/"
              f"{s['final_test_acc']:.2f}, best test {s['best_test_acc']:.2f}")
        if gamma in (0.0, 0.03, 1.0):
            plot_progress(progress, measures=[], title=f"teacher-student α=2, γ={gamma:g}").savefig(
                f"{args.out}/teacher_student_wd{gamma:g}.png", dpi=100)
    decays = decays[1:]
    sweep.progress_.pop(0.0)
    print(sweep.times_.to_string())
    reached = min(p["test_acc"].max() for p in sweep.progress_.values())
    print(f"lowest best test accuracy over the sweep: {reached:.2f}")
    for level in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        steps = [grokking_summary(p, 0.95, level)["generalization_step"] for p in sweep.progress_.values()]
        slope, _ = loglog_slope(decays, steps)
        print(f"test level {level:.2f}: steps {steps}  slope {slope:.3f}")
    for level in (0.5, 0.9, 0.95, 1.0):
        steps = [grokking_summary(p, level, 0.5)["memorization_step"] for p in sweep.progress_.values()]
        slope, _ = loglog_slope(decays, steps)
        print(f"train level {level:.2f}: steps {steps}  slope {slope:.3f}")
    print(f"fitted slopes at train 0.95 / test 0.5: train {sweep.train_slope_:.3f}, "
          f"test {sweep.test_slope_:.3f}")
    plot_time_to_generalize(sweep.times_, title="teacher-student, α = 2").savefig(
        f"{args.out}/teacher_student_time_vs_wd.png", dpi=100)


if __name__ == "__main__":
    main()
