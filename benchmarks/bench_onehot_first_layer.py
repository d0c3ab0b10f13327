"""Gathered vs one-hot-matmul first layer of Clauw et al.'s MLP, forward + backward.

Setting of Clauw et al. §3: p = 97, 250 hidden units without biases, full
batch of the 3 763 training pairs (40 % of 97²). The matmul formulation
multiplies a precomputed (n, 2p) one-hot matrix by ``W.T``; the gather
formulations add the two columns ``W[:, a]`` and ``W[:, p + b]``;
``OneHotPairLinear`` is grokkit's layer (index_select, plus its input checks). Prints the
best time over interleaved repeats (seconds per forward + backward) and the
ratio to the matmul, for the first layer alone and for the whole network
(:class:`grokkit.models.OneHotPairMLP` against :class:`grokkit.models.MLP` on
one-hot inputs with the same weights).

Run: ``python benchmarks/bench_onehot_first_layer.py [--repeats 15] [--dtype float64]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from grokkit.datasets.modular import make_modular
from grokkit.models.mlp import MLP
from grokkit.models.onehot_mlp import OneHotPairLinear, OneHotPairMLP, onehot_pairs


def best_time(step: Callable[[], None], repeats: int, inner: int) -> float:
    """Best mean time over ``repeats`` blocks of ``inner`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            step()
        times.append((time.perf_counter() - start) / inner)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--p", type=int, default=97)
    parser.add_argument("--hidden", type=int, default=250)
    parser.add_argument("--train-fraction", type=float, default=0.4)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--inner", type=int, default=20)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = parser.parse_args()
    dtype = getattr(torch, args.dtype)
    torch.manual_seed(0)

    X_train, y_train, _, _ = make_modular(args.p, "add", args.train_fraction, random_state=0)
    pairs = torch.as_tensor(X_train)
    onehot = onehot_pairs(pairs, args.p, dtype=dtype)
    p, h, n = args.p, args.hidden, len(pairs)
    print(f"p={p}, hidden={h}, n={n} pairs, {args.dtype}, {torch.get_num_threads()} threads")

    fc1 = OneHotPairLinear(p, h, bias=False).to(dtype)
    weight = fc1.weight
    grad_out = torch.randn(n, h, dtype=dtype)
    a, b = pairs[:, 0].contiguous(), (pairs[:, 1] + p).contiguous()
    index = torch.stack([a, b], dim=1)

    first_layer: dict[str, Callable[[], torch.Tensor]] = {
        "matmul onehot @ W.T": lambda: onehot @ weight.t(),
        "embedding x2": lambda: (
            lambda rows: F.embedding(a, rows) + F.embedding(b, rows)
        )(weight.t().contiguous()),
        "embedding_bag sum": lambda: F.embedding_bag(index, weight.t().contiguous(), mode="sum"),
        "OneHotPairLinear (grokkit)": lambda: fc1(pairs),
        "index_select x2": lambda: (
            lambda rows: rows.index_select(0, a) + rows.index_select(0, b)
        )(weight.t().contiguous()),
        "index_select on W.T view": lambda: (
            lambda rows: rows.index_select(0, a) + rows.index_select(0, b)
        )(weight.t()),
    }
    reference = first_layer["matmul onehot @ W.T"]().detach()

    def layer_step(forward: Callable[[], torch.Tensor]) -> Callable[[], None]:
        def step() -> None:
            weight.grad = None
            forward().backward(grad_out)

        return step

    mlp_gather = OneHotPairMLP(p, (h,), bias=False).to(dtype)
    mlp_matmul = MLP(2 * p, p, (h,), bias=False).to(dtype)
    mlp_matmul.load_state_dict(mlp_gather.state_dict())
    targets = torch.as_tensor(y_train)

    def model_step(model: torch.nn.Module, inputs: torch.Tensor) -> Callable[[], None]:
        def step() -> None:
            model.zero_grad(set_to_none=True)
            F.cross_entropy(model(inputs), targets).backward()

        return step

    whole: dict[str, Callable[[], None]] = {
        "MLP on one-hot (matmul)": model_step(mlp_matmul, onehot),
        "OneHotPairMLP (gather)": model_step(mlp_gather, pairs),
    }
    steps = {name: layer_step(f) for name, f in first_layer.items()} | whole
    for forward in first_layer.values():
        torch.testing.assert_close(forward().detach(), reference)
    for step in steps.values():
        step()  # warm-up

    # Interleave the formulations so that background load hits them alike.
    results = {name: float("inf") for name in steps}
    for _ in range(args.repeats):
        for name, step in steps.items():
            results[name] = min(results[name], best_time(step, 1, args.inner))

    baseline = results["matmul onehot @ W.T"]
    print("\nfirst layer, forward + backward:")
    for name in first_layer:
        print(f"  {name:26s} {results[name] * 1e3:8.3f} ms   matmul/this = "
              f"{baseline / results[name]:5.2f}")
    baseline = results["MLP on one-hot (matmul)"]
    print("\nwhole network, forward + cross-entropy + backward:")
    for name in whole:
        print(f"  {name:26s} {results[name] * 1e3:8.3f} ms   matmul/this = "
              f"{baseline / results[name]:5.2f}")


if __name__ == "__main__":
    main()
