"""grokkit ``fit`` vs a hand-written PyTorch loop doing the same steps (issue: spine, point 4).

Both train the same MLP from the same initial parameters on the same data with
the same minibatch order, and evaluate train/test accuracy at the same
log-spaced epochs (what ``progress_`` records with ``measures=None``).
Timings are interleaved (A, B, A, B, ...) and the ratio of medians printed,
because this box is shared and absolute times drift.

    python benchmarks/bench_fit_overhead.py [--epochs 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from grokkit import GrokMLPClassifier
from grokkit.datasets import load_digits_split
from grokkit.models import MLP, scale_parameters_
from grokkit.progress import recorded_epochs


def hand_loop(X, y, Xt, yt, epochs, batch_size, seed, measure_every="log"):
    torch.manual_seed(seed)
    model = scale_parameters_(MLP(64, 10, (200, 200)), 8.0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    gen = torch.Generator().manual_seed(seed + 1)
    target = F.one_hot(y, 10).float()
    target_t = F.one_hot(yt, 10).float()
    schedule = recorded_epochs(1, epochs, measure_every) | {0}
    curve = []
    n = len(X)

    def evaluate(epoch):
        model.eval()
        with torch.no_grad():
            out, out_t = model(X), model(Xt)
            curve.append((epoch, F.mse_loss(out, target).item(),
                          (out.argmax(1) == y).float().mean().item(),
                          F.mse_loss(out_t, target_t).item(),
                          (out_t.argmax(1) == yt).float().mean().item()))

    evaluate(0)
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(n, generator=gen)
        total = torch.zeros(())
        for idx in order.split(batch_size):
            xb, tb = X[idx], target[idx]
            opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(model(xb), tb)
            loss.backward()
            opt.step()
            total += loss.detach() * len(idx)
        if not torch.isfinite(total):
            raise RuntimeError("diverged")
        if epoch in schedule:
            evaluate(epoch)
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    X, y, Xt, yt = load_digits_split(300, random_state=0)
    tensors = [torch.as_tensor(a) for a in (X, y, Xt, yt)]
    seed = 0

    def run_grokkit(measures):
        clf = GrokMLPClassifier(alpha=8.0, loss="mse", weight_decay=0.1, lr=1e-3, batch_size=200,
                                max_epochs=args.epochs, random_state=seed, measures=measures)
        clf._seed = lambda: seed  # same torch seed as the hand loop
        clf.fit(X, y, eval_set=(Xt, yt))
        return clf

    # identical math check: same curve from both
    clf = run_grokkit(None)
    curve = hand_loop(*tensors, args.epochs, 200, seed)
    last = clf.progress_.iloc[-1]
    print(f"final test_acc grokkit {last.test_acc:.4f} vs hand loop {curve[-1][4]:.4f}; "
          f"train_loss {last.train_loss:.6g} vs {curve[-1][1]:.6g}")

    cases = {
        "hand loop": lambda: hand_loop(*tensors, args.epochs, 200, seed),
        "grokkit, measures off": lambda: run_grokkit(None),
        "grokkit, default measures (log)": lambda: run_grokkit(GrokMLPClassifier().measures),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, run in cases.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["hand loop"])
    print(f"digits MLP 64-200-200-10, batch 200, {args.epochs} epochs, "
          f"median of {args.repeats} interleaved runs, 1 thread")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"  {name:34s} {med:7.3f} s   ratio {med / base:5.3f}")


if __name__ == "__main__":
    main()
