"""Exhaustive O-information search: grokkit's batched search vs a naive per-multiplet loop.

The workload of the issue: every multiplet of sizes 3..10 of 10 variables (968 multiplets),
1 000 samples, Gaussian-copula entropies with bias correction, in bits. hoi 0.0.7 (JAX)
takes 3.9 s warm on the 2-core reference box; the target is <= 40 ms.

Both methods run in this process on the same data. The naive loop computes every entropy of
every multiplet separately (one ``slogdet`` per entropy, on sub-blocks of the covariance of
the copula-normalised data). If ``hoi`` is importable it is timed too (it is not a grokkit
dependency). A second section times the Clauw et al. workload: 250 ReLU neurons in 10 bins,
every multiplet of 2..10 bins expanded to its neurons.

Run: ``python benchmarks/bench_oinfo.py``
"""

from __future__ import annotations

import itertools
import math
import statistics
import time
from collections.abc import Callable

import numpy as np
from scipy.special import digamma

from grokkit.measures.oinfo import (
    gaussian_copula,
    o_information_group_multiplets,
    o_information_multiplets,
)


def timed(func: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time in seconds over ``repeats`` calls after one warm-up call."""
    result = func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def naive_search(Z: np.ndarray, min_order: int, max_order: int) -> np.ndarray:
    """One slogdet per entropy, multiplet after multiplet (hoi's arithmetic, in numpy)."""
    n_samples, n_variables = Z.shape
    data = gaussian_copula(Z)
    cov = data.T @ data / (n_samples - 1)

    def entropy(index: list[int]) -> float:
        d = len(index)
        _, logdet = np.linalg.slogdet(cov[np.ix_(index, index)])
        h = 0.5 * logdet + 0.5 * d * (math.log(2 * math.pi) + 1)
        h -= d * (math.log(2) - math.log(n_samples - 1)) / 2
        h -= sum(digamma((n_samples - i) / 2) / 2 for i in range(1, d + 1))
        return h / math.log(2)

    values = []
    for order in range(min_order, max_order + 1):
        for multiplet in itertools.combinations(range(n_variables), order):
            members = list(multiplet)
            value = (order - 2) * entropy(members)
            for j in members:
                value += entropy([j]) - entropy([k for k in members if k != j])
            values.append(value)
    return np.asarray(values)


def hoi_search(Z: np.ndarray, min_order: int, max_order: int) -> np.ndarray | None:
    try:
        from hoi.metrics import Oinfo
    except ImportError:
        return None
    # hoi's default entropy is the Gaussian copula ("gc" or "gcmi" depending on the version).
    return np.asarray(Oinfo(Z).fit(minsize=min_order, maxsize=max_order)).ravel()


def main() -> None:
    rng = np.random.default_rng(0)
    n_samples, n_variables = 1000, 10
    latent = rng.standard_normal((n_samples, 4))
    Z = latent @ rng.standard_normal((4, n_variables)) + rng.standard_normal(
        (n_samples, n_variables)
    )
    Z[:, 3] = np.tanh(Z[:, 3])
    Z[:, 7] = Z[:, 0] + Z[:, 1] + 0.3 * rng.standard_normal(n_samples)

    batched_time, table = timed(lambda: o_information_multiplets(Z, 3, 10), repeats=30)
    naive_time, naive = timed(lambda: naive_search(Z, 3, 10), repeats=3)
    batched = table["oinfo"].to_numpy()
    print(f"O-information, all multiplets of sizes 3..10 of {n_variables} variables "
          f"({len(table)} multiplets), {n_samples} samples")
    print(f"  grokkit batched search : {batched_time * 1e3:8.2f} ms  (target <= 40 ms)")
    print(f"  naive per-multiplet    : {naive_time * 1e3:8.2f} ms")
    print(f"  speed-up               : {naive_time / batched_time:8.1f} x")
    print(f"  max |difference|       : {np.max(np.abs(batched - naive)):.3e} bits")
    print(f"  synergy / redundancy   : {batched.min():.4f} / {batched.max():.4f} bits")

    if hoi_search(Z, 3, 10) is None:
        print("  hoi                    : not installed, skipped")
    else:
        hoi_time, hoi_values = timed(lambda: hoi_search(Z, 3, 10), repeats=3)
        print(f"  hoi                    : {hoi_time * 1e3:8.2f} ms "
              f"({hoi_time / batched_time:.0f} x grokkit)")
        print(f"  hoi min / max          : {hoi_values.min():.4f} / {hoi_values.max():.4f} bits")

    # Clauw et al.: 250 hidden ReLU units, 0.4 * 97^2 training pairs, 10 bins.
    n_samples, n_neurons, n_bins = 3764, 250, 10
    activations = np.maximum(
        rng.standard_normal((n_samples, 40)) @ rng.standard_normal((40, n_neurons)), 0
    ) + 1e-3 * rng.standard_normal((n_samples, n_neurons))
    labels = rng.integers(0, n_bins, n_neurons)
    groups = [np.flatnonzero(labels == b).tolist() for b in range(n_bins)]
    group_time, groups_table = timed(
        lambda: o_information_group_multiplets(activations, groups, 2, n_bins), repeats=3
    )
    print(f"Clauw et al. search: {n_neurons} neurons in {n_bins} bins, multiplets of 2..{n_bins} "
          f"bins ({len(groups_table)} multiplets, up to {groups_table['n_neurons'].max()} "
          f"neurons each), {n_samples} samples")
    print(f"  grokkit batched search : {group_time * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
