"""grokkit ``fit`` vs hand-written PyTorch loops doing the same steps (issues: spine 4, performance 1).

Three cases, each timed in this one process:

* ``digits``: GrokMLPClassifier 64-200-200-10, α = 8, MSE, batch 200 of 300
  digits, 1 torch thread (small batches: threads only add overhead);
* ``modular_mlp``: ModularMLPClassifier, Clauw et al.'s one-hot MLP (p = 97,
  40 % of the pairs, 250 ReLU units, full batch, AdamW lr 0.03);
* ``transformer``: ModularTransformer, Nanda et al.'s 1-layer transformer
  (p = 113, 30 %, full batch, AdamW lr 1e-3, wd 1).

For every case the hand loop starts from grokkit's own initial module (the
epoch-0 checkpoint of a ``keep_checkpoints`` fit), uses the same optimizer
settings, the same minibatch order (same generator seed) and evaluates train
and test loss/accuracy at the same log-spaced epochs that ``progress_``
records with ``measures=None``. The script first checks that both runs end on
the same curve, then times the hand loop, grokkit with measures off, grokkit
with the estimator's default measures log-spaced (about 20 rows per decade)
and every epoch, interleaved (A, B, C, D, A, B, ...), and prints the ratios of
medians and of the fastest runs: this box is shared and absolute times drift,
and a neighbour's burst only ever adds time (the reason ``timeit`` reports the
minimum). (Every-epoch measures
cost what the measures cost; the log schedule is what bounds them.)

``--fourier`` adds, for the modular cases, grokkit with the default measures
plus Nanda et al.'s Fourier measures (:data:`FOURIER_MEASURES`, log-spaced):
their cost per recorded epoch must not dominate a log-spaced run.

    python benchmarks/bench_fit_overhead.py [--cases digits modular_mlp transformer] [--repeats 5]
    python benchmarks/bench_fit_overhead.py --cases transformer --fourier
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from grokkit import GrokMLPClassifier, ModularMLPClassifier, ModularTransformer
from grokkit.datasets import load_digits_split, make_modular
from grokkit.progress import recorded_epochs

SEED = 0
#: grokkit.measures.fourier's registered measures (issue 13, point 4).
FOURIER_MEASURES = ("embedding_fourier_norms", "n_key_frequencies", "fourier_gini", "restricted_loss",
                    "excluded_loss")


@dataclass
class Case:
    name: str
    make: Callable[..., Any]  # measures -> unfitted estimator
    data: tuple[np.ndarray, ...]
    epochs: int
    threads: int
    mse: bool  # MSE on one-hot targets (else cross-entropy)


def cases() -> dict[str, Case]:
    digits = load_digits_split(300, random_state=0)
    mod = make_modular(p=97, operation="add", train_fraction=0.4, random_state=0)
    tr = make_modular(p=113, operation="add", train_fraction=0.3, random_state=0)
    return {
        "digits": Case(
            "digits MLP 64-200-200-10, batch 200",
            lambda **kw: GrokMLPClassifier(alpha=8.0, loss="mse", weight_decay=0.1, lr=1e-3,
                                           batch_size=200, **kw),
            digits, 1000, 1, True),
        "modular_mlp": Case(
            "Clauw modular MLP p=97, full batch",
            lambda **kw: ModularMLPClassifier(p=97, **kw), mod, 1000, 2, False),
        "transformer": Case(
            "ModularTransformer p=113, full batch",
            lambda **kw: ModularTransformer(p=113, **kw), tr, 300, 2, False),
    }


def grokkit_fit(case: Case, measures: Any, keep_checkpoints: bool = False, every: Any = "log") -> Any:
    kwargs = {} if measures == "default" else {"measures": measures}
    est = case.make(max_epochs=case.epochs, random_state=SEED, keep_checkpoints=keep_checkpoints,
                    measure_every=every, **kwargs)
    est._seed = lambda: SEED  # the minibatch generator seed (SEED + 1) the hand loop uses
    X, y, Xt, yt = case.data
    return est.fit(X, y, eval_set=(Xt, yt))


def hand_loop(case: Case, init: torch.nn.Module, est: Any) -> list[tuple[float, ...]]:
    """The same training, written out: optimizer, shuffling, evaluation schedule."""
    model = copy.deepcopy(init).train()
    opt = torch.optim.AdamW(model.parameters(), lr=est.lr, betas=est.betas, weight_decay=est.weight_decay)
    X, y, Xt, yt = (torch.as_tensor(a) for a in case.data)
    n = len(X)
    size = n if est.batch_size in (None, -1) else min(int(est.batch_size), n)
    gen = torch.Generator().manual_seed(SEED + 1)
    if case.mse:
        k = int(y.max()) + 1
        target, target_t = F.one_hot(y, k).float(), F.one_hot(yt, k).float()
        loss_fn = F.mse_loss
    else:
        target, target_t = y, yt
        loss_fn = F.cross_entropy
    schedule = recorded_epochs(1, case.epochs, "log") | {0}
    curve: list[tuple[float, ...]] = []

    def evaluate(epoch: int) -> None:
        model.eval()
        with torch.no_grad():
            out, out_t = model(X), model(Xt)
            curve.append((epoch, loss_fn(out, target).item(), (out.argmax(1) == y).float().mean().item(),
                          loss_fn(out_t, target_t).item(), (out_t.argmax(1) == yt).float().mean().item()))
        model.train()

    evaluate(0)
    for epoch in range(1, case.epochs + 1):
        if size >= n:
            batches: Any = ((X, target),)
        else:
            order = torch.randperm(n, generator=gen)
            batches = ((X[idx], target[idx]) for idx in order.split(size))
        total = torch.zeros(())
        for xb, tb in batches:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), tb)
            loss.backward()
            opt.step()
            total += loss.detach() * len(xb)
        if not torch.isfinite(total):
            raise RuntimeError("diverged")
        if epoch in schedule:
            evaluate(epoch)
    return curve


def run_case(case: Case, repeats: int, fourier: bool = False) -> None:
    torch.set_num_threads(case.threads)
    reference = grokkit_fit(case, None, keep_checkpoints=True)
    init = reference.module_at(0)
    curve = hand_loop(case, init, reference)
    last = reference.progress_.iloc[-1]
    print(f"{case.name}, {case.epochs} epochs, {case.threads} torch thread(s)")
    print(f"  same curve: final test_acc grokkit {last.test_acc:.4f} vs hand loop {curve[-1][4]:.4f}; "
          f"train_loss {last.train_loss:.6g} vs {curve[-1][1]:.6g}")
    runs = {
        "hand loop": lambda: hand_loop(case, init, reference),
        "grokkit, measures off": lambda: grokkit_fit(case, None),
        "grokkit, default measures (log)": lambda: grokkit_fit(case, "default"),
        "grokkit, default measures (every epoch)": lambda: grokkit_fit(case, "default", every=1),
    }
    if fourier and case.name.startswith(("ModularTransformer", "Clauw")):
        with_fourier = (*case.make().measures, *FOURIER_MEASURES)
        runs["grokkit, default + Fourier measures (log)"] = lambda: grokkit_fit(case, with_fourier)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["hand loop"])
    fastest = min(times["hand loop"])
    print(f"  median of {repeats} interleaved runs (and, as timeit advises on a shared box, the fastest); "
          f"default measures: {case.make().measures}")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"  {name:40s} {med:7.3f} s   ratio {med / base:5.3f}   "
              f"fastest {min(values):7.3f} s   ratio {min(values) / fastest:5.3f}")


def main() -> None:
    all_cases = cases()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(all_cases), default=list(all_cases))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=None, help="override every case's epochs")
    parser.add_argument("--fourier", action="store_true",
                        help="also time the modular cases with the Fourier measures added")
    args = parser.parse_args()
    for name in args.cases:
        case = all_cases[name]
        if args.epochs:
            case.epochs = args.epochs
        run_case(case, args.repeats, fourier=args.fourier)


if __name__ == "__main__":
    main()
