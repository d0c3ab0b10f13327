"""Grokfast-EMA against plain training on Clauw et al.'s modular MLP (p = 97, 40 % of pairs).

Both runs start from the same initial weights (the same ``random_state``; the
filter draws no random numbers) and differ only by the callback, which adds
λ·EMA(grad) to every gradient before the AdamW step (Lee et al. 2024; α = 0.98,
λ = 2, the public modular-arithmetic setting). Prints when each run reaches
train accuracy ≥ 0.99 and test accuracy ≥ 0.95, and the speed-up.

Measured here (seed 0, 4 000 epochs, recorded every 10): plain training reached
test ≥ 0.95 at step 2 020, Grokfast-EMA at 3 370 (0.60×; λ = 0.5 gave 2 640,
0.77×). With Clauw's lr 0.03 the set is memorised in ~30 steps, and the
amplified slow gradient is the logit-scaling direction: recording
``measures=("weight_norm", "nlm_alignment", "softmax_collapse")`` showed the
weight norm at 394 (plain: 160) and 67 % of training samples in float32
softmax collapse at epoch 150, so weight decay had more norm to remove
before the network generalised.

    python examples/controls_demo.py [--max-epochs 4000] [--measure-every 10] [--weight-decay 0.1]
        [--alpha 0.98] [--lamb 2]
"""

from __future__ import annotations

import argparse
import time

import torch

from grokkit import ModularMLPClassifier
from grokkit.callbacks.grokfast import Grokfast
from grokkit.datasets import make_modular


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-epochs", type=int, default=4000)
    parser.add_argument("--measure-every", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weight-decay", type=float, default=0.1, help="Clauw et al.'s default: 0.1")
    parser.add_argument("--alpha", type=float, default=0.98, help="Grokfast EMA momentum")
    parser.add_argument("--lamb", type=float, default=2.0, help="Grokfast amplification")
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny full-batch steps: a second thread only adds contention

    X, y, X_test, y_test = make_modular(p=97, operation="add", train_fraction=0.4, random_state=args.seed)
    runs = {
        f"plain AdamW (wd {args.weight_decay:g})": [],
        f"Grokfast-EMA (alpha {args.alpha:g}, lamb {args.lamb:g})": [
            Grokfast("ema", alpha=args.alpha, lamb=args.lamb)
        ],
    }
    steps = {}
    for name, callbacks in runs.items():
        clf = ModularMLPClassifier(p=97, weight_decay=args.weight_decay, max_epochs=args.max_epochs,
                                   measures=("weight_norm",),
                                   measure_every=args.measure_every, callbacks=callbacks,
                                   random_state=args.seed)
        start = time.perf_counter()
        clf.fit(X, y, eval_set=(X_test, y_test))
        seconds = time.perf_counter() - start
        summary = clf.grokking_summary(train_threshold=0.99, test_threshold=0.95)
        steps[name] = summary["generalization_step"]
        print(f"{name}: initial weight norm {clf.progress_['weight_norm'].iloc[0]:.6f}; "
              f"train acc >= 0.99 at step {summary['memorization_step']}, "
              f"test acc >= 0.95 at step {summary['generalization_step']} "
              f"(final test acc {summary['final_test_acc']:.3f}; {seconds:.0f} s)")
    plain, fast = steps.values()
    if plain is not None and fast is not None:
        print(f"speed-up to test acc >= 0.95: {plain / fast:.2f}x fewer steps with Grokfast-EMA")
    else:
        print(f"not both runs reached test acc >= 0.95 within {args.max_epochs} steps: {steps}")


if __name__ == "__main__":
    main()
