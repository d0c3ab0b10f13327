"""sklearn's bundled 8×8 digits: real images that work offline."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits

from grokkit._validation import check_number, check_random_state


def load_digits_split(
    n_train: int = 300,
    random_state: int | np.random.RandomState | None = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split sklearn's digits (1 797 images, 64 pixels, 10 classes) for a grokking run.

    The offline stand-in for Omnigrok's MNIST setting (§4: a small training
    set, the rest as test set). Pixels are scaled from 0..16 to [0, 1].

    Parameters
    ----------
    n_train : int, default=300
        Training samples, drawn at random; all the others form the test set.
    random_state : int, RandomState or None, default=0

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        ``float32`` images of shape (n, 64) and ``int64`` labels.
    """
    check_number("n_train", n_train, low=1, high=1796, integer=True)
    data = load_digits()
    X = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    order = check_random_state(random_state).permutation(len(X))
    train, test = order[:n_train], order[n_train:]
    return X[train], y[train], X[test], y[test]
