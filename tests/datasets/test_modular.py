import numpy as np
import pytest

from grokkit.datasets.modular import (
    OPERATION_ALIASES,
    OPERATIONS,
    all_pairs,
    is_prime,
    make_modular,
    modular_targets,
    resolve_operation,
)


def brute_force(a: int, b: int, p: int, operation: str) -> int:
    """Independent scalar definitions of the operations."""
    if operation == "add":
        return (a + b) % p
    if operation == "subtract":
        return (a - b) % p
    if operation == "multiply":
        return (a * b) % p
    if operation == "divide":
        inverse = next(c for c in range(1, p) if (b * c) % p == 1)
        return (a * inverse) % p
    if operation == "x^2+y^2":
        return (a**2 + b**2) % p
    if operation == "x^2+xy+y^2":
        return (a**2 + a * b + b**2) % p
    raise AssertionError(operation)


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_labels_match_brute_force_on_the_whole_table(operation):
    p = 11
    X_train, y_train, X_test, y_test = make_modular(p, operation, 0.5, random_state=0)
    X = np.concatenate([X_train, X_test])
    y = np.concatenate([y_train, y_test])
    expected = [brute_force(int(a), int(b), p, operation) for a, b in X]
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(modular_targets(X, p, operation), expected)


@pytest.mark.parametrize(
    ("operation", "n_pairs"), [("add", 97 * 97), ("x^2+xy+y^2", 97 * 97), ("divide", 97 * 96)]
)
def test_split_is_disjoint_complete_and_sized(operation, n_pairs):
    X_train, y_train, X_test, y_test = make_modular(97, operation, 0.4, random_state=3)
    assert X_train.shape == (int(0.4 * n_pairs), 2)
    assert X_test.shape == (n_pairs - int(0.4 * n_pairs), 2)
    assert y_train.shape == (len(X_train),) and y_test.shape == (len(X_test),)
    for array in (X_train, y_train, X_test, y_test):
        assert array.dtype == np.int64
    assert y_train.min() >= 0 and max(y_train.max(), y_test.max()) < 97
    train = {tuple(pair) for pair in X_train}
    test = {tuple(pair) for pair in X_test}
    assert len(train) == len(X_train) and len(test) == len(X_test)
    assert not train & test
    assert train | test == {tuple(pair) for pair in all_pairs(97, operation)}
    if operation == "divide":
        assert 0 not in X_train[:, 1] and 0 not in X_test[:, 1]


def test_presets_of_the_papers():
    assert make_modular(113, "add", 0.3, random_state=0)[0].shape == (3830, 2)  # Omnigrok / Nanda
    assert make_modular(97, "add", 0.4, random_state=0)[0].shape == (3763, 2)  # Clauw et al.


def test_seed_determines_the_split():
    first = make_modular(13, "add", 0.3, random_state=42)
    again = make_modular(13, "add", 0.3, random_state=np.random.RandomState(42))
    other = make_modular(13, "add", 0.3, random_state=43)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_split_is_shuffled_not_lexicographic():
    X_train, *_ = make_modular(31, "add", 0.5, random_state=0)
    assert X_train[:, 0].max() > 15  # a lexicographic prefix would stop at a = 15
    assert len(np.unique(X_train[:, 0])) == 31


def test_aliases_resolve_to_the_same_table():
    for alias, name in OPERATION_ALIASES.items():
        assert resolve_operation(alias) == name
    a = make_modular(7, "sum_of_squares", 0.5, random_state=0)
    b = make_modular(7, "x^2+y^2", 0.5, random_state=0)
    np.testing.assert_array_equal(a[1], b[1])


def test_divide_inverts_multiply():
    p = 13
    pairs = all_pairs(p, "divide")
    quotient = modular_targets(pairs, p, "divide")
    product = modular_targets(np.stack([quotient, pairs[:, 1]], axis=1), p, "multiply")
    np.testing.assert_array_equal(product, pairs[:, 0])


def test_is_prime():
    assert [n for n in range(30) if is_prime(n)] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]


@pytest.mark.parametrize("p", [1, 0, -5])
def test_p_too_small(p):
    with pytest.raises(ValueError, match="p must be in"):
        make_modular(p)


@pytest.mark.parametrize("p", [97.0, "97", True, None])
def test_p_not_an_int(p):
    with pytest.raises(TypeError, match="p must be an int"):
        make_modular(p)


def test_divide_needs_a_prime():
    with pytest.raises(ValueError, match="p must be prime"):
        make_modular(12, "divide")
    with pytest.raises(ValueError, match="p must be prime"):
        modular_targets([[1, 5]], 12, "divide")
    make_modular(12, "multiply", random_state=0)  # other operations accept any p


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_train_fraction_outside_open_interval(fraction):
    with pytest.raises(ValueError, match="train_fraction must be in"):
        make_modular(7, train_fraction=fraction)


def test_train_fraction_leaving_no_training_pair():
    with pytest.raises(ValueError, match="train_fraction"):
        make_modular(3, train_fraction=0.1)  # floor(0.9) = 0 of 9 pairs


@pytest.mark.parametrize("operation", ["mod", "ADD", "power", None])
def test_unknown_operation(operation):
    with pytest.raises(ValueError, match="operation must be one of"):
        make_modular(7, operation)
    with pytest.raises(ValueError, match="operation must be one of"):
        modular_targets([[1, 2]], 7, operation)


@pytest.mark.parametrize(
    ("X", "error", "message"),
    [
        ([[1, 2, 3]], ValueError, "X must have shape"),
        ([1, 2], ValueError, "X must have shape"),
        ([[1, 7]], ValueError, r"X must hold integers in \[0, p\)"),
        ([[-1, 2]], ValueError, r"X must hold integers in \[0, p\)"),
        ([[1.5, 2.0]], TypeError, "X must hold integers"),
    ],
)
def test_modular_targets_bad_pairs(X, error, message):
    with pytest.raises(error, match=message):
        modular_targets(X, 7, "add")


def test_modular_targets_refuses_division_by_zero():
    with pytest.raises(ValueError, match="b = 0"):
        modular_targets([[3, 0]], 7, "divide")
