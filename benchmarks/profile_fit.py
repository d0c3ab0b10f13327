"""Where the time of a fit goes: skorch's standard loop ("before") vs grokkit's fast path ("after").

Both train the same digits MLP (64-200-200-10, α = 8, MSE on one-hot targets,
AdamW lr 1e-3, wd 0.1, batch 200 of 300 samples, one torch thread) for the
same number of epochs; skorch's ``NeuralNet`` (DataLoader per epoch, a
validation pass and history writes per batch) is what a plain skorch wrapper
does, grokkit's ``GrokNet`` loop is what every grokkit estimator runs. The
script prints each run's wall time and its top functions by own time
(cProfile), and, with ``--torch``, torch.profiler's top operators.

    python benchmarks/profile_fit.py [--epochs 300] [--top 12] [--torch]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import numpy as np
import torch
from skorch import NeuralNetRegressor

from grokkit import GrokMLPClassifier
from grokkit.datasets import load_digits_split
from grokkit.models import MLP, scale_parameters_


def skorch_fit(X, y, epochs):
    torch.manual_seed(0)
    module = scale_parameters_(MLP(64, 10, (200, 200)), 8.0)
    target = np.eye(10, dtype=np.float32)[y]
    net = NeuralNetRegressor(module, criterion=torch.nn.MSELoss, optimizer=torch.optim.AdamW, lr=1e-3,
                             optimizer__weight_decay=0.1, batch_size=200, max_epochs=epochs,
                             train_split=None, verbose=0)
    return net.fit(X, target)


def grokkit_fit(X, y, epochs):
    clf = GrokMLPClassifier(alpha=8.0, loss="mse", weight_decay=0.1, lr=1e-3, batch_size=200,
                            max_epochs=epochs, random_state=0, measures=None)
    return clf.fit(X, y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--torch", action="store_true", help="also print torch.profiler's top operators")
    args = parser.parse_args()
    torch.set_num_threads(1)
    X, y, _, _ = load_digits_split(300, random_state=0)
    for name, fit in (("before: skorch NeuralNet loop", skorch_fit), ("after: grokkit fit", grokkit_fit)):
        fit(X, y, 5)  # warm-up
        start = time.perf_counter()
        fit(X, y, args.epochs)
        wall = time.perf_counter() - start
        profiler = cProfile.Profile()
        profiler.enable()
        fit(X, y, args.epochs)
        profiler.disable()
        stats = pstats.Stats(profiler)
        per_epoch = 1e3 * wall / args.epochs
        print(f"\n=== {name}: {wall:.2f} s for {args.epochs} epochs ({per_epoch:.2f} ms/epoch, "
              f"{stats.total_calls} Python calls under cProfile) ===")
        stats.sort_stats("tottime").print_stats(args.top)
        if args.torch:
            with torch.profiler.profile() as prof:
                fit(X, y, args.epochs)
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.top))


if __name__ == "__main__":
    main()
