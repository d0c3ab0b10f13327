r"""Sparse parity (Barak, Edelman, Goel, Kakade, Malach & Zhang, 2022): a hidden k-bit XOR.

Inputs are ``n_bits`` uniform random bits; the label is the parity of ``k``
of them, a secret subset :math:`S` fixed per data set. The other
``n_bits - k`` bits are noise. Barak et al. use it to show "hidden progress"
of SGD; Prieto et al. (2025) and Clauw et al. (§8) name it among the grokking
tasks.
"""

from __future__ import annotations

import numpy as np

from grokkit._validation import check_number, check_options, check_random_state

ENCODINGS = ("pm1", "binary")


def make_sparse_parity(
    n_bits: int = 40,
    k: int = 3,
    n_samples: int = 1000,
    n_test: int = 1000,
    encoding: str = "pm1",
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Training and test samples of an (n_bits, k) sparse parity, and its secret bits.

    Bits :math:`b \in \{0, 1\}^{n}` are drawn independently and uniformly; a
    secret subset :math:`S` of ``k`` distinct positions is drawn once (sorted).
    The label is

    .. math:: y = \Bigl(\sum_{i \in S} b_i\Bigr) \bmod 2,

    i.e. 1 when an odd number of the secret bits are 1. With
    ``encoding="pm1"`` (Barak et al.'s :math:`x = (-1)^{b} \in \{\pm 1\}^n`)
    this is :math:`y = 1` exactly when :math:`\prod_{i \in S} x_i = -1`. Samples
    are independent, so for small ``n_bits`` the same input can appear in both
    splits.

    Parameters
    ----------
    n_bits : int, default=40
        Input dimension n, at least ``k``.
    k : int, default=3
        Number of secret bits, at least 1.
    n_samples : int, default=1000
        Training samples.
    n_test : int, default=1000
        Test samples, at least 1.
    encoding : {"pm1", "binary"}, default="pm1"
        Inputs as ±1 (bit 1 ↦ −1) or as 0/1.
    random_state : int, RandomState instance or None, default=None
        Seed of the secret and the samples.

    Returns
    -------
    X_train : ndarray of float32, shape (n_samples, n_bits)
    y_train : ndarray of int64, shape (n_samples,)
        Parities in {0, 1}.
    X_test : ndarray of float32, shape (n_test, n_bits)
    y_test : ndarray of int64, shape (n_test,)
    secret : ndarray of int64, shape (k,)
        The sorted positions of the secret bits.

    Examples
    --------
    >>> X, y, X_test, y_test, secret = make_sparse_parity(10, 2, 50, random_state=0)
    >>> bits = (X < 0).astype(int)                       # pm1: bit 1 is -1
    >>> bool(((bits[:, secret].sum(1) % 2) == y).all())
    True
    """
    check_number("k", k, low=1, integer=True)
    check_number("n_bits", n_bits, low=k, integer=True)
    check_number("n_samples", n_samples, low=1, integer=True)
    check_number("n_test", n_test, low=1, integer=True)
    check_options("encoding", encoding, ENCODINGS)
    rng = check_random_state(random_state)
    secret = np.sort(rng.choice(int(n_bits), size=int(k), replace=False)).astype(np.int64)
    bits = rng.randint(0, 2, size=(int(n_samples) + int(n_test), int(n_bits))).astype(np.int64)
    labels = bits[:, secret].sum(axis=1) % 2
    X = (1 - 2 * bits) if encoding == "pm1" else bits
    X = X.astype(np.float32)
    n = int(n_samples)
    return X[:n], labels[:n], X[n:], labels[n:], secret
