"""Clauw et al.'s modular MLP: grokkit vs plain one-hot PyTorch loops, in one run.

Setting (Clauw et al., ANCHORS): p = 97, addition, 40 % of the pairs for
training (seed 0), onehot(a) || onehot(b) inputs (194 dims), one hidden layer of
250 ReLU units without biases, full-batch AdamW lr 0.03, betas (0.9, 0.98),
weight decay 0.1. Three runs start from the same initial weights and evaluate
train and test accuracy every 10 steps:

* grokkit's ModularMLPClassifier (first layer gathered, data on the device);
* the "DataLoader loop": the structure of Clauw et al.'s public ``train.py``:
  a ``DataLoader(TensorDataset(onehot, y), batch_size=n, shuffle=True)`` from
  which one (full) batch is drawn per step, evaluation through DataLoaders.
  This is the loop the issue's reference time (111 s to test >= 0.99) was
  measured with: collating 3 763 samples every step dominates it;
* the "tensor loop": the same one-hot matmul network with the data held as
  two tensors, no DataLoader: the floor of the one-hot formulation, and the
  strictest baseline.

The script reports the step and the wall time at which each reaches train
accuracy 1.0, test >= 0.95 and test >= 0.99, and the ratios of wall times.

    python benchmarks/bench_modular_mlp.py [--steps 2600] [--skip-dataloader]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from skorch.callbacks import Callback
from torch.utils.data import DataLoader, TensorDataset

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


def one_hot_net(init):
    net = torch.nn.Sequential(torch.nn.Linear(2 * P, 250, bias=False), torch.nn.ReLU(),
                              torch.nn.Linear(250, P, bias=False))
    net.load_state_dict(init)
    opt = torch.optim.AdamW(net.parameters(), lr=0.03, betas=(0.9, 0.98), weight_decay=0.1)
    return net, opt


def tensor_loop(X, y, Xt, yt, init, steps):
    """The one-hot matmul loop with the data held as tensors."""
    net, opt = one_hot_net(init)
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


def dataloader_loop(X, y, Xt, yt, init, steps):
    """The one-hot matmul loop drawing its full batch from a shuffling DataLoader each step."""
    net, opt = one_hot_net(init)
    train = TensorDataset(torch.as_tensor(onehot_pairs(X, P)), torch.as_tensor(y))
    test = TensorDataset(torch.as_tensor(onehot_pairs(Xt, P)), torch.as_tensor(yt))
    torch.manual_seed(1)
    loader = DataLoader(train, batch_size=len(train), shuffle=True)
    train_eval = DataLoader(train, batch_size=len(train))
    test_eval = DataLoader(test, batch_size=len(test))

    def accuracy(data):
        right = total = 0
        for xb, yb in data:
            right += int((net(xb).argmax(1) == yb).sum())
            total += len(yb)
        return right / total

    rows, start = [], time.perf_counter()
    for step in range(1, steps + 1):
        xb, yb = next(iter(loader))
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(xb), yb)
        loss.backward()
        opt.step()
        if step % EVERY == 0:
            net.eval()
            with torch.no_grad():
                train_acc, test_acc = accuracy(train_eval), accuracy(test_eval)
            net.train()
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
    parser.add_argument("--steps", type=int, default=2600)
    parser.add_argument("--skip-dataloader", action="store_true",
                        help="leave out the DataLoader loop (it takes ~35 ms/step)")
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
    runs = {"grokkit": rows_grokkit,
            "tensor loop": tensor_loop(X, y, Xt, yt, init, args.steps)}
    if not args.skip_dataloader:
        runs["DataLoader loop"] = dataloader_loop(X, y, Xt, yt, init, args.steps)

    print(f"Clauw modular MLP, p={P}, {len(X)} training pairs, full batch, {args.steps} steps, "
          f"accuracies every {EVERY} steps, torch threads {torch.get_num_threads()}")
    marks = {name: milestones(rows) for name, rows in runs.items()}
    for key in marks["grokkit"]:
        step_g, time_g = marks["grokkit"][key]
        line = f"  {key[0]} >= {key[1]:.2f}: grokkit step {step_g} at {_s(time_g)}"
        for name in list(runs)[1:]:
            step_o, time_o = marks[name][key]
            ratio = f" = {time_o / time_g:.2f}x grokkit's time" if time_g and time_o else ""
            line += f" | {name} step {step_o} at {_s(time_o)}{ratio}"
        print(line)
    for name, rows in runs.items():
        total = rows[-1]["wall_time"]
        print(f"  whole run, {name}: {total:.1f} s ({1e3 * total / args.steps:.2f} ms/step)")


def _s(seconds):
    return "never" if seconds is None else f"{seconds:.1f} s"


if __name__ == "__main__":
    main()
