"""S_n composition and sparse parity: the group and label facts of the generated data."""

import itertools
import math

import numpy as np
import pytest

from grokkit.datasets import compose_permutations, make_permutation_composition, make_sparse_parity
from grokkit.datasets.permutations import permutation_index, permutations_table


@pytest.fixture(scope="module")
def s5():
    X, y, X_test, y_test = make_permutation_composition(5, train_fraction=0.5, random_state=0)
    table = np.full((120, 120), -1)
    table[X[:, 0], X[:, 1]] = y
    table[X_test[:, 0], X_test[:, 1]] = y_test
    return X, y, X_test, y_test, table


def test_s5_has_120_elements_and_every_pair_once(s5):
    X, y, X_test, y_test, table = s5
    assert len(X) + len(X_test) == 120 ** 2 and len(X) == 7200
    assert (table >= 0).all() and table.max() == 119
    pairs = {tuple(p) for p in np.concatenate([X, X_test])}
    assert len(pairs) == 120 ** 2
    assert X.dtype == y.dtype == np.int64 and X.shape[1] == 2


def test_identity_is_index_zero_and_labels_are_compositions(s5):
    *_, table = s5
    perms = permutations_table(5)
    assert (perms[0] == np.arange(5)).all() and (perms[-1] == np.arange(5)[::-1]).all()
    assert (table[0] == np.arange(120)).all() and (table[:, 0] == np.arange(120)).all()
    rng = np.random.default_rng(0)
    for a, b in rng.integers(0, 120, size=(50, 2)):
        composed = tuple(perms[a][perms[b][i]] for i in range(5))    # apply sigma_b first
        assert perms[table[a, b]].tolist() == list(composed)


def test_inverses_closure_and_associativity(s5):
    *_, table = s5
    # every row and column is a permutation of the group (Latin square: closure and cancellation)
    assert all(len(set(row)) == 120 for row in table) and all(len(set(col)) == 120 for col in table.T)
    # each element has a two-sided inverse
    for a in range(120):
        b = int(np.flatnonzero(table[a] == 0)[0])
        assert table[b, a] == 0
    rng = np.random.default_rng(1)
    for a, b, c in rng.integers(0, 120, size=(200, 3)):
        assert table[table[a, b], c] == table[a, table[b, c]]


def test_s5_is_not_commutative(s5):
    *_, table = s5
    commuting = (table == table.T).mean()
    assert commuting < 1
    # the transpositions (0 1) and (1 2) do not commute
    swap01 = permutation_index(np.array([1, 0, 2, 3, 4]))
    swap12 = permutation_index(np.array([0, 2, 1, 3, 4]))
    assert table[swap01, swap12] != table[swap12, swap01]


def test_index_is_lexicographic_order():
    perms = np.array(list(itertools.permutations(range(4))))
    assert (permutation_index(perms) == np.arange(24)).all()
    assert compose_permutations([1], [1], 2).tolist() == [0]    # a swap is its own inverse


def test_split_is_seeded_and_sized():
    first = make_permutation_composition(3, train_fraction=0.5, random_state=3)
    second = make_permutation_composition(3, train_fraction=0.5, random_state=3)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert len(first[0]) == 18 and math.factorial(3) ** 2 == 36


@pytest.mark.parametrize("kwargs, error, match", [
    ({"n": 0}, ValueError, "n must be"),
    ({"n": 2.0}, TypeError, "n must be"),
    ({"n": 9}, ValueError, "n must be"),
    ({"train_fraction": 1.0}, ValueError, "train_fraction"),
    ({"n": 1, "train_fraction": 0.5}, ValueError, "train_fraction"),
])
def test_permutation_bad_inputs(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_permutation_composition(**kwargs)


@pytest.mark.parametrize("encoding", ["pm1", "binary"])
def test_sparse_parity_label_is_the_parity_of_the_secret_bits(encoding):
    X, y, X_test, y_test, secret = make_sparse_parity(20, 3, 300, n_test=200, encoding=encoding,
                                                      random_state=0)
    assert X.shape == (300, 20) and X_test.shape == (200, 20) and X.dtype == np.float32
    assert secret.shape == (3,) and (np.diff(secret) > 0).all() and secret.max() < 20
    for inputs, labels in ((X, y), (X_test, y_test)):
        if encoding == "pm1":
            assert set(np.unique(inputs)) == {-1.0, 1.0}
            assert ((np.prod(inputs[:, secret], axis=1) == -1) == (labels == 1)).all()
        else:
            assert set(np.unique(inputs)) == {0.0, 1.0}
            assert (inputs[:, secret].sum(1) % 2 == labels).all()
    # the noise bits carry no information: flipping one keeps every label
    noise = next(i for i in range(20) if i not in secret)
    flipped = X.copy()
    flipped[:, noise] = -flipped[:, noise] if encoding == "pm1" else 1 - flipped[:, noise]
    bits = (flipped < 0) if encoding == "pm1" else flipped.astype(bool)
    assert (bits[:, secret].sum(1) % 2 == y).all()
    assert 0.4 < y.mean() < 0.6


@pytest.mark.parametrize("kwargs, error, match", [
    ({"n_bits": 2, "k": 3}, ValueError, "n_bits"),
    ({"k": 0}, ValueError, "k must be"),
    ({"n_samples": 0}, ValueError, "n_samples"),
    ({"encoding": "ternary"}, ValueError, "encoding"),
])
def test_sparse_parity_bad_inputs(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_sparse_parity(**kwargs)


def test_modular_estimators_train_on_s5_with_p_120():
    from grokkit import ModularMLPClassifier, ModularTransformer

    X, y, X_test, y_test = make_permutation_composition(5, train_fraction=0.5, random_state=0)
    mlp = ModularMLPClassifier(p=120, hidden_layer_sizes=(32,), max_epochs=5, measures=("weight_norm",),
                               random_state=0).fit(X[:2000], y[:2000], eval_set=(X_test[:500], y_test[:500]))
    assert mlp.n_outputs_ == 120 and np.isfinite(mlp.progress_["train_loss"]).all()
    assert set(mlp.predict(X_test[:50])) <= set(range(120))
    transformer = ModularTransformer(p=120, d_model=16, n_heads=2, d_mlp=32, max_epochs=2, measures=(),
                                     random_state=0).fit(X[:500], y[:500])
    assert transformer.predict_proba(X_test[:5]).shape == (5, 120)
