"""Two classic grokking tasks beyond modular addition: composition in S5 and sparse parity.

- **S5** (Power et al. 2022): all 120² pairs (σ, τ) of permutations of five
  items, labelled σ∘τ; half of them train. ``ModularMLPClassifier(p=120)``
  trains on the index pairs (Clauw et al.'s one-hot MLP and defaults: AdamW lr
  0.03, weight decay 0.1, full batch).
- **Sparse parity** (Barak et al. 2022): 40 random ±1 bits, the label is the
  parity of 3 secret ones; 1 000 training and 1 000 test samples, a
  one-hidden-layer MLP (512 ReLU units), AdamW lr 1e-3, weight decay 1, full batch.

First the data facts are checked and printed (the same ones the tests
assert), then one run per task: when train accuracy reached 0.99 and test
accuracy 0.95, or "not within budget".

Measured on a shared 2-core CPU (seed 0, 12 000 full-batch steps each, recorded every 20):

- S5: every fact holds (120 elements, each of the 14 400 pairs once, index 0
  the identity, one inverse each, associative over all 1 728 000 triples, and
  5.83 % of pairs commute: 7 conjugacy classes × 120 / 120²). Train accuracy
  0.99 at epoch 40, test accuracy 0.95 at epoch 6 500 (final 0.988; after
  4 000 epochs it was still 0.738): grokking, 160× later than memorisation.
- Sparse parity: secret bits [20, 22, 25]; the labels are their parity (and 1
  exactly when the product of their ±1 inputs is −1); 47.2 % / 50.8 % ones in
  train / test; no single bit predicts better than 0.518. Train accuracy 0.99
  at epoch 80, test accuracy 0.95 not within the budget (best 0.528): this
  setting memorises and does not generalise.

    python examples/benchmark_tasks.py [--s5-epochs 12000] [--parity-epochs 12000] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from grokkit import GrokMLPClassifier, ModularMLPClassifier
from grokkit.datasets import make_permutation_composition, make_sparse_parity
from grokkit.datasets.permutations import compose_permutations, permutations_table


def s5_facts(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray) -> None:
    size = math.factorial(5)
    a, b = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    table = compose_permutations(a.ravel(), b.ravel(), 5).reshape(size, size)   # table[a, b] = σ_a∘σ_b
    pairs, labels = np.concatenate([X, X_test]), np.concatenate([y, y_test])
    every_pair_once = len(np.unique(pairs[:, 0] * size + pairs[:, 1])) == size * size
    labels_are_compositions = bool((table[pairs[:, 0], pairs[:, 1]] == labels).all())
    identity = bool((table[0] == np.arange(size)).all() and (table[:, 0] == np.arange(size)).all())
    inverses = bool(((table == 0).sum(axis=1) == 1).all())                      # one τ with σ∘τ = id per σ
    triples = np.arange(size)
    associative = bool((table[table[:, :, None], triples[None, None, :]]
                        == table[triples[:, None, None], table[None, :, :]]).all())
    commuting = float((table == table.T).mean())
    print(f"S5: {len(permutations_table(5))} elements, {len(X)} train / {len(X_test)} test pairs; every pair "
          f"once: {every_pair_once}; labels are sigma_a o sigma_b: {labels_are_compositions}; index 0 is "
          f"the identity: {identity}; every element has one inverse: {inverses}; associative over all "
          f"{size ** 3:,} triples: {associative}; commuting pairs: {commuting:.4f} (7 conjugacy classes "
          f"-> 7 * 120 / 120^2 = {7 / 120:.4f})")


def parity_facts(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
                 secret: np.ndarray) -> None:
    inputs, labels = np.concatenate([X, X_test]), np.concatenate([y, y_test])
    bits = (inputs < 0).astype(int)                                 # pm1 encoding: bit 1 is -1
    parity = bool(((bits[:, secret].sum(axis=1) % 2) == labels).all())
    product = bool(((np.prod(inputs[:, secret], axis=1) < 0) == labels.astype(bool)).all())
    # no single bit, secret or not, predicts a parity of 3 bits
    best_single_bit = max(float(np.mean(bits[:, i] == labels)) for i in range(bits.shape[1]))
    print(f"sparse parity: n_bits {X.shape[1]}, k {len(secret)}, secret bits {secret.tolist()}; labels are "
          f"the parity of the secret bits: {parity}; label 1 iff the product of the secret +-1 inputs is "
          f"-1: {product}; share of label 1: train {y.mean():.3f}, test {y_test.mean():.3f}; best accuracy "
          f"of any single bit: {best_single_bit:.3f}")


def report(name: str, clf: object, seconds: float) -> None:
    summary = clf.grokking_summary(train_threshold=0.99, test_threshold=0.95)
    generalised = summary["generalization_epoch"]
    print(f"{name}: train acc >= 0.99 at epoch {summary['memorization_epoch']} (step "
          f"{summary['memorization_step']}), test acc >= 0.95 "
          f"{'not within budget' if generalised is None else f'at epoch {generalised}'}; best test acc "
          f"{summary['best_test_acc']:.3f}, final {summary['final_test_acc']:.3f} after "
          f"{clf.n_steps_} steps ({seconds:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--s5-epochs", type=int, default=12000)
    parser.add_argument("--parity-epochs", type=int, default=12000)
    parser.add_argument("--measure-every", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny full-batch steps: a second thread only adds contention

    s5 = make_permutation_composition(5, train_fraction=0.5, random_state=args.seed)
    s5_facts(*s5)
    parity = make_sparse_parity(n_bits=40, k=3, n_samples=1000, n_test=1000, random_state=args.seed)
    parity_facts(*parity)

    # the group-law measures assume modular addition: only the weight norm here
    clf = ModularMLPClassifier(p=120, max_epochs=args.s5_epochs, measure_every=args.measure_every,
                               measures=("weight_norm",), random_state=args.seed)
    start = time.perf_counter()
    clf.fit(s5[0], s5[1], eval_set=(s5[2], s5[3]))
    report("S5 composition, ModularMLPClassifier(p=120)", clf, time.perf_counter() - start)

    X, y, X_test, y_test, _ = parity
    clf = GrokMLPClassifier(hidden_layer_sizes=(512,), lr=1e-3, weight_decay=1.0, batch_size=-1,
                            max_epochs=args.parity_epochs, measure_every=args.measure_every,
                            measures=("weight_norm",), random_state=args.seed)
    start = time.perf_counter()
    clf.fit(X, y, eval_set=(X_test, y_test))
    report("sparse parity (40, 3), GrokMLPClassifier(512)", clf, time.perf_counter() - start)


if __name__ == "__main__":
    main()
