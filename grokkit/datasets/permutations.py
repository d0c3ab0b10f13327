r"""Composition in the symmetric group :math:`S_n`: Power et al.'s (2022) non-abelian task.

Every permutation of ``0..n-1`` is a token: index ``k`` is the ``k``-th
permutation in lexicographic order of its one-line notation
``(σ(0), ..., σ(n-1))`` (:func:`itertools.permutations` order), so index 0 is
the identity and index ``n! - 1`` the reversal. A pair ``(a, b)`` of indices
is labelled with the index of

.. math:: (\sigma_a \circ \sigma_b)(i) = \sigma_a(\sigma_b(i)),

i.e. apply ``σ_b`` first, then ``σ_a``. For n ≥ 3 the group is not
commutative, so the pairs ``(a, b)`` and ``(b, a)`` generally have different
labels. The arrays have the shapes of :func:`~grokkit.datasets.make_modular`,
so the modular estimators train on them with ``p = n!`` (120 for S5).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from grokkit._validation import check_number, check_random_state


def permutations_table(n: int) -> np.ndarray:
    """Every permutation of ``0..n-1`` in lexicographic order: int64 array (n!, n), row k = σ_k."""
    check_number("n", n, low=1, high=8, integer=True)
    return np.array(list(itertools.permutations(range(int(n)))), dtype=np.int64).reshape(-1, int(n))


def permutation_index(perms: np.ndarray) -> np.ndarray:
    """The lexicographic index (Lehmer code) of each row of ``perms`` (permutations of 0..n-1)."""
    perms = np.asarray(perms, dtype=np.int64)
    n = perms.shape[-1]
    index = np.zeros(perms.shape[:-1], dtype=np.int64)
    for position in range(n):
        smaller_later = (perms[..., position + 1:] < perms[..., position:position + 1]).sum(-1)
        index += smaller_later * math.factorial(n - 1 - position)
    return index


def compose_permutations(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Index of ``σ_a ∘ σ_b`` (``σ_b`` applied first) for index arrays ``a`` and ``b`` of S_n."""
    table = permutations_table(n)
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    size = len(table)
    if (a.size and (a.min() < 0 or a.max() >= size)) or (b.size and (b.min() < 0 or b.max() >= size)):
        raise ValueError(f"permutation indices must be in [0, {size}) for n={n}.")
    composed = np.take_along_axis(table[a], table[b], axis=-1)
    return permutation_index(composed)


def make_permutation_composition(
    n: int = 5,
    train_fraction: float = 0.5,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Split the composition table of :math:`S_n` at random into training and test pairs.

    Power et al. (2022, §3, Fig. 1) include :math:`x \circ y` in :math:`S_5` among their
    grokking tasks. All :math:`(n!)^2` pairs ``(a, b)`` of permutation indices
    (lexicographic order of the one-line notation, 0 = identity) are
    labelled with the index of :math:`\sigma_a \circ \sigma_b`,
    :math:`(\sigma_a \circ \sigma_b)(i) = \sigma_a(\sigma_b(i))`; the table is
    shuffled and the first ``floor(train_fraction · (n!)²)`` pairs train, as
    :func:`~grokkit.datasets.make_modular` does.

    Train with the modular estimators at ``p = n!`` (``ModularMLPClassifier(p=120)``,
    ``ModularTransformer(p=120)``): they take integer pairs below ``p`` with ``p``
    classes. Their group-law measures (``commutativity``, ``identity_law``...)
    assume a modular ``operation`` and are **not** tests of this group: leave
    them out (``measures=("weight_norm",)``, say). In particular the default
    ``commutativity`` measure would report how commutative the model is, and
    :math:`S_5` is not commutative.

    Parameters
    ----------
    n : int, default=5
        Degree of the group, 1 to 8 (S8 has 40 320 elements, 1.6·10⁹ pairs: n ≤ 6 is practical).
    train_fraction : float, default=0.5
        Share of the table used for training, in (0, 1).
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle.

    Returns
    -------
    X_train : ndarray of int64, shape (n_train, 2)
        Pairs ``(a, b)`` of permutation indices.
    y_train : ndarray of int64, shape (n_train,)
        Index of ``σ_a ∘ σ_b``.
    X_test : ndarray of int64, shape (n_test, 2)
    y_test : ndarray of int64, shape (n_test,)

    Examples
    --------
    >>> X, y, X_test, y_test = make_permutation_composition(5, train_fraction=0.5, random_state=0)
    >>> X.shape, X_test.shape, int(max(X.max(), y.max()))
    ((7200, 2), (7200, 2), 119)
    """
    check_number("n", n, low=1, high=8, integer=True)
    check_number(
        "train_fraction", train_fraction, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    size = math.factorial(int(n))
    a, b = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    pairs = np.stack([a.ravel(), b.ravel()], axis=1).astype(np.int64)
    n_train = int(train_fraction * len(pairs))
    if n_train < 1 or n_train >= len(pairs):
        raise ValueError(
            f"train_fraction={train_fraction!r} leaves an empty training or test set among the "
            f"{len(pairs)} pairs of S_{n}."
        )
    pairs = pairs[check_random_state(random_state).permutation(len(pairs))]
    targets = compose_permutations(pairs[:, 0], pairs[:, 1], int(n))
    return pairs[:n_train], targets[:n_train], pairs[n_train:], targets[n_train:]
