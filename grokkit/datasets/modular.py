r"""Modular arithmetic tables ``a ∘ b mod p``: the algorithmic data where grokking was found.

Power et al. (2022) train on a random fraction of the table of a binary
operation on :math:`\mathbb{Z}_p` and test on the rest. grokkit uses it for
the 1-layer transformer of Nanda et al. (Omnigrok §5, App. B–C: p = 113,
train fraction 0.3), the one-hot MLP of Clauw et al. (§3: p = 97, train
fraction 0.4) and the group-law tests of Tan & Huang (§5).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grokkit._validation import check_number, check_random_state


def _add(a: np.ndarray, b: np.ndarray, p: int) -> np.ndarray:
    return (a + b) % p


def _subtract(a: np.ndarray, b: np.ndarray, p: int) -> np.ndarray:
    return (a - b) % p


def _multiply(a: np.ndarray, b: np.ndarray, p: int) -> np.ndarray:
    return (a * b) % p


def _divide(a: np.ndarray, b: np.ndarray, p: int) -> np.ndarray:
    values, positions = np.unique(b, return_inverse=True)
    # pow(v, -1, p) raises ValueError for v = 0 (or v not coprime with p).
    inverses = np.array([pow(int(v), -1, p) for v in values], dtype=np.int64)
    return (a * inverses[positions.reshape(b.shape)]) % p


def _sum_of_squares(a: np.ndarray, b: np.ndarray, p: int) -> np.ndarray:
    return (a * a + b * b) % p


def _quadratic_form(a: np.ndarray, b: np.ndarray, p: int) -> np.ndarray:
    return (a * a + a * b + b * b) % p


#: Binary operations on Z_p by name: ``f(a, b, p) -> int64 array`` in ``[0, p)``.
#: ``"divide"`` is ``a · b⁻¹ mod p`` and needs ``b ≠ 0`` and a prime ``p``.
OPERATIONS: dict[str, Callable[[np.ndarray, np.ndarray, int], np.ndarray]] = {
    "add": _add,
    "subtract": _subtract,
    "multiply": _multiply,
    "divide": _divide,
    "x^2+y^2": _sum_of_squares,
    "x^2+xy+y^2": _quadratic_form,
}

#: Other accepted spellings of the operation names.
OPERATION_ALIASES: dict[str, str] = {
    "+": "add",
    "-": "subtract",
    "*": "multiply",
    "/": "divide",
    "sum_of_squares": "x^2+y^2",
    "x**2+y**2": "x^2+y^2",
    "x**2+x*y+y**2": "x^2+xy+y^2",
}


def resolve_operation(operation: Any) -> str:
    """The canonical name (a key of :data:`OPERATIONS`) of ``operation`` or an alias."""
    if isinstance(operation, str):
        if operation in OPERATIONS:
            return operation
        if operation in OPERATION_ALIASES:
            return OPERATION_ALIASES[operation]
    raise ValueError(
        f"operation must be one of {', '.join(map(repr, OPERATIONS))} (or an alias: "
        f"{', '.join(map(repr, OPERATION_ALIASES))}); got {operation!r}."
    )


def is_prime(n: int) -> bool:
    """Whether the integer ``n`` is prime (trial division; fine for table sizes)."""
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    divisor = 3
    while divisor * divisor <= n:
        if n % divisor == 0:
            return False
        divisor += 2
    return True


def check_modulus(p: Any, operation: str) -> int:
    """Validate the modulus ``p`` for a (canonical) ``operation`` and return it as int."""
    check_number("p", p, low=2, integer=True)
    p = int(p)
    if operation == "divide" and not is_prime(p):
        raise ValueError(
            f"p must be prime for operation='divide' (every b ≠ 0 needs an inverse mod p); "
            f"got p={p}."
        )
    return p


def validate_pairs(X: Any, p: int, name: str = "X") -> np.ndarray:
    """Check that ``X`` holds integer pairs in ``[0, p)``; return them as int64 (n, 2).

    Errors name the parameter ``name``.
    """
    pairs = np.asarray(X.detach().cpu() if hasattr(X, "detach") else X)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n_samples, 2); got shape {pairs.shape}.")
    if pairs.size and not np.issubdtype(pairs.dtype, np.integer):
        raise TypeError(f"{name} must hold integers in [0, p); got dtype {pairs.dtype}.")
    pairs = pairs.astype(np.int64, copy=False)
    if pairs.size and (pairs.min() < 0 or pairs.max() >= p):
        raise ValueError(
            f"{name} must hold integers in [0, p) = [0, {p}); got values from {pairs.min()} "
            f"to {pairs.max()}."
        )
    return pairs


def modular_targets(X: Any, p: int, operation: str = "add") -> np.ndarray:
    """Labels ``a ∘ b mod p`` for integer pairs.

    Parameters
    ----------
    X : array-like of int, shape (n_samples, 2)
        Pairs ``(a, b)`` with entries in ``[0, p)`` (and ``b ≠ 0`` for
        ``"divide"``).
    p : int
        Modulus, at least 2 (prime for ``"divide"``).
    operation : str, default="add"
        A key of :data:`OPERATIONS` or an alias from :data:`OPERATION_ALIASES`.

    Returns
    -------
    ndarray of int64, shape (n_samples,)
        Values in ``[0, p)``.

    Examples
    --------
    >>> modular_targets([[3, 5], [6, 6]], p=7, operation="add").tolist()
    [1, 5]
    >>> modular_targets([[3, 5]], p=7, operation="divide").tolist()  # 3 · 5⁻¹ = 3 · 3
    [2]
    """
    operation = resolve_operation(operation)
    p = check_modulus(p, operation)
    pairs = validate_pairs(X, p)
    a, b = pairs[:, 0], pairs[:, 1]
    if operation == "divide" and np.any(b == 0):
        raise ValueError("X holds pairs with b = 0, which operation='divide' does not define.")
    return OPERATIONS[operation](a, b, p).astype(np.int64, copy=False)


def all_pairs(p: int, operation: str = "add") -> np.ndarray:
    """Every pair on which ``operation`` is defined, in lexicographic order.

    All ``p²`` pairs ``(a, b)``, or the ``p(p − 1)`` pairs with ``b ≠ 0`` for
    ``"divide"``; an int64 array of shape (n_pairs, 2).
    """
    operation = resolve_operation(operation)
    p = check_modulus(p, operation)
    first = 1 if operation == "divide" else 0
    a, b = np.meshgrid(np.arange(p), np.arange(first, p), indexing="ij")
    return np.stack([a.ravel(), b.ravel()], axis=1).astype(np.int64)


def make_modular(
    p: int = 97,
    operation: str = "add",
    train_fraction: float = 0.4,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split the table of ``a ∘ b mod p`` at random into training and test pairs.

    The full table (all ``p²`` pairs, ``p(p − 1)`` for ``"divide"``) is shuffled
    and its first ``floor(train_fraction · n_pairs)`` pairs form the training
    set, the rest the test set, as in Nanda et al.'s code. Presets: Omnigrok §5
    and App. B–C (Nanda's transformer) use ``p=113, train_fraction=0.3``;
    Clauw et al. §3 use ``p=97, train_fraction=0.4``.

    Parameters
    ----------
    p : int, default=97
        Modulus, at least 2; prime for ``"divide"``.
    operation : str, default="add"
        ``"add"``, ``"subtract"``, ``"multiply"``, ``"divide"`` (``a · b⁻¹``),
        ``"x^2+y^2"`` or ``"x^2+xy+y^2"`` (aliases in
        :data:`OPERATION_ALIASES`, e.g. ``"+"``, ``"sum_of_squares"``).
    train_fraction : float, default=0.4
        Share of the table used for training, in (0, 1); both parts must end
        up non-empty.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle (scikit-learn's ``check_random_state`` semantics).

    Returns
    -------
    X_train : ndarray of int64, shape (n_train, 2)
        Pairs ``(a, b)``; the models append the ``=`` token themselves.
    y_train : ndarray of int64, shape (n_train,)
        ``a ∘ b mod p``.
    X_test : ndarray of int64, shape (n_test, 2)
    y_test : ndarray of int64, shape (n_test,)

    Examples
    --------
    >>> X_train, y_train, X_test, y_test = make_modular(113, "add", 0.3, random_state=0)
    >>> X_train.shape, X_test.shape
    ((3830, 2), (8939, 2))
    """
    operation = resolve_operation(operation)
    p = check_modulus(p, operation)
    check_number(
        "train_fraction", train_fraction, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    pairs = all_pairs(p, operation)
    n_train = int(train_fraction * len(pairs))
    if n_train < 1:
        raise ValueError(
            f"train_fraction={train_fraction!r} leaves no training pair among the "
            f"{len(pairs)} pairs of p={p}; it must be at least 1/{len(pairs)}."
        )
    order = check_random_state(random_state).permutation(len(pairs))
    pairs = pairs[order]
    targets = OPERATIONS[operation](pairs[:, 0], pairs[:, 1], p).astype(np.int64)
    return pairs[:n_train], targets[:n_train], pairs[n_train:], targets[n_train:]
