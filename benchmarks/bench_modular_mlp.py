"""Clauw et al.'s modular MLP: grokkit vs a plain one-hot PyTorch loop, in one run.

Setting (Clauw et al., ANCHORS): p = 97, addition, 40 % of the pairs for
training (seed 0), onehot(a) || onehot(b) inputs (194 dims), one hidden layer of
250 ReLU units without biases, full-batch AdamW lr 0.03, betas (0.9, 0.98),
weight decay 0.1. Both runs start from the same initial weights and evaluate
train and test accuracy every 10 steps; the script reports the step and the
wall time at which each reaches train accuracy 1.0, test >= 0.95 and test >=
0.99, and the ratio of wall times.

    python benchmarks/bench_modular_mlp.py [--steps 5000]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from skorch.callbacks import Callback

from grokkit import ModularMLPClassifier
from grokkit.datasets import make_modular
from grokkit.models import onehot_pairs

P, EVERY = 97, 10
MILESTONES = (("train_acc", 1.0), ("test_acc", 0.95), ("test_acc", 0.99))


class WallClock(Callback):
    """Seconds since training began, recorded every epoch (a user callback)."""

    def on_train_begin(self, net, **kwargs):
        self.start = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        net.history.record("wall_time", time.perf_counter() - self.start)


def plain_loop(X, y, Xt, yt, init, steps):
    """The one-hot matmul loop, written as a researcher would."""
    net = torch.nn.Sequential(torch.nn.Linear(2 * P, 250, bias=False), torch.nn.ReLU(),
                              torch.nn.Linear(250, P, bias=False))
    net.load_state_dict(init)
    opt = torch.optim.AdamW(net.parameters(), lr=0.03, betas=(0.9, 0.98), weight_decay=0.1)
    Xo = torch.as_tensor(onehot_pairs(X, P), dtype=torch.float32)
    Xto = torch.as_tensor(onehot_pairs(Xt, P), dtype=torch.float32)
    y, yt = torch.as_tensor(y), torch.as_tensor(yt)
    rows, start = [], time.perf_counter()
    for step in range(1, steps + 1):
        opt.zero_grad()
        loss = F.cross_entropy(net(Xo), y)
        loss.backward()
        opt.step()
        if step % EVERY == 0:
            with torch.no_grad():
                train_acc = (net(Xo).argmax(1) == y).float().mean().item()
                test_acc = (net(Xto).argmax(1) == yt).float().mean().item()
            rows.append({"step": step, "train_acc": train_acc, "test_acc": test_acc,
                         "wall_time": time.perf_counter() - start})
    return rows


def milestones(rows):
    out = {}
    for column, level in MILESTONES:
        hit = next((r for r in rows if r[column] >= level), None)
        out[(column, level)] = (hit["step"], hit["wall_time"]) if hit else (None, None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    args = parser.parse_args()
    X, y, Xt, yt = make_modular(p=P, operation="add", train_fraction=0.4, random_state=0)

    clf = ModularMLPClassifier(p=P, max_epochs=args.steps, measures=None, measure_every=EVERY,
                               random_state=0, callbacks=[WallClock()])
    clf.fit(X, y, eval_set=(Xt, yt))
    rows_grokkit = clf.progress_.iloc[1:].to_dict("records")
    # The plain loop starts from grokkit's initial weights: the same seed builds the
    # same module, whose fc1 is stored as a Linear(2p, 250) weight.
    seeded = ModularMLPClassifier(p=P, random_state=0)
    seeded.n_features_in_, seeded.n_outputs_ = 2, P
    with torch.random.fork_rng():
        torch.manual_seed(seeded._seed())
        module = seeded.build_module()
    init = {"0.weight": module.fc1.weight.detach().clone(),
            "2.weight": module.fc2.weight.detach().clone()}
    rows_plain = plain_loop(X, y, Xt, yt, init, args.steps)

    print(f"Clauw modular MLP, p={P}, {len(X)} training pairs, full batch, {args.steps} steps, "
          f"accuracies every {EVERY} steps, torch threads {torch.get_num_threads()}")
    mg, mp = milestones(rows_grokkit), milestones(rows_plain)
    for key in mg:
        (sg, tg), (sp, tp) = mg[key], mp[key]
        ratio = f"{tp / tg:5.2f}x faster" if tg and tp else "n/a"
        print(f"  {key[0]} >= {key[1]:.2f}:  grokkit step {sg} at {tg if tg is None else round(tg, 1)} s"
              f" | plain loop step {sp} at {tp if tp is None else round(tp, 1)} s | {ratio}")
    total_g, total_p = rows_grokkit[-1]["wall_time"], rows_plain[-1]["wall_time"]
    print(f"  whole run: grokkit {total_g:.1f} s ({1e3 * total_g / args.steps:.2f} ms/step), plain "
          f"{total_p:.1f} s ({1e3 * total_p / args.steps:.2f} ms/step), ratio {total_p / total_g:.2f}")


if __name__ == "__main__":
    main()
