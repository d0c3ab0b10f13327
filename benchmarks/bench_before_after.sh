#!/usr/bin/env bash
# The fit-overhead and sweep benchmarks of two checkouts, one after the other in one run, one torch thread,
# so that their ratios are read side by side on the same (noisy, shared) box.
# Usage: git worktree add --detach ../before REV && bash benchmarks/bench_before_after.sh ../before
set -u
after="$(cd "$(dirname "$0")/.." && pwd)"
before="$(cd "${1:?usage: bench_before_after.sh PATH_OF_THE_EARLIER_CHECKOUT}" && pwd)"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
for tree in "$after" "$before"; do
  echo "=== $tree: fit overhead"
  (cd "$tree" && python benchmarks/bench_fit_overhead.py --cases digits modular_mlp --repeats 3 --epochs 300)
  echo "=== $tree: sweep"
  (cd "$tree" && python benchmarks/bench_sweep.py --cases digits modular --ks 4 16 --threads 1 --no-joblib)
done
