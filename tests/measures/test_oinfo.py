"""O-information with Gaussian-copula entropies (Rosas et al. 2019; Clauw et al. §3)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.stats
import torch
from scipy.special import digamma, ndtri

import grokkit.measures.oinfo as oinfo
from grokkit.measures.oinfo import (
    gaussian_copula,
    gaussian_entropy,
    o_information,
    o_information_group_multiplets,
    o_information_multiplets,
)

LN2 = math.log(2.0)


# ------------------------------------------------------------ references


def reference_copula(Z: np.ndarray) -> np.ndarray:
    """Ordinal ranks -> uniform -> normal quantiles -> demean, via scipy's rankdata."""
    ranks = scipy.stats.rankdata(Z, method="ordinal", axis=0)
    gaussian = ndtri(ranks / (len(Z) + 1.0))
    return gaussian - gaussian.mean(axis=0)


def reference_entropy(data: np.ndarray, bias_correction: bool = True) -> float:
    """Gaussian entropy in bits of already-normalised data, its own covariance and slogdet."""
    n, d = data.shape
    centred = data - data.mean(axis=0)
    _, logdet = np.linalg.slogdet(centred.T @ centred / (n - 1))
    h = 0.5 * logdet + 0.5 * d * math.log(2 * math.pi * math.e)
    if bias_correction:
        h -= d * (math.log(2) - math.log(n - 1)) / 2
        h -= sum(digamma((n - i) / 2) / 2 for i in range(1, d + 1))
    return h / LN2


def reference_o_information(data: np.ndarray, bias_correction: bool = True) -> float:
    """Rosas et al.'s definition, one entropy (one covariance, one slogdet) at a time."""
    n_vars = data.shape[1]
    every = list(range(n_vars))
    value = (n_vars - 2) * reference_entropy(data, bias_correction)
    for j in every:
        rest = [k for k in every if k != j]
        value += reference_entropy(data[:, [j]], bias_correction)
        value -= reference_entropy(data[:, rest], bias_correction)
    return value


def gaussian_o_information(cov: np.ndarray) -> float:
    """Exact O-information (bits) of a Gaussian with covariance ``cov``."""

    def h(index):  # constants cancel in the O-information
        return 0.5 * np.linalg.slogdet(cov[np.ix_(index, index)])[1]

    n = len(cov)
    every = list(range(n))
    value = (n - 2) * h(every) + sum(
        h([j]) - h([k for k in every if k != j]) for j in every
    )
    return value / LN2


@pytest.fixture(scope="module")
def mixed() -> np.ndarray:
    """7 dependent, non-Gaussian variables, 400 samples."""
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((400, 3))
    Z = latent @ rng.standard_normal((3, 7)) + 0.7 * rng.standard_normal((400, 7))
    Z[:, 2] = np.exp(Z[:, 2])
    Z[:, 5] = Z[:, 0] * Z[:, 1] + 0.1 * rng.standard_normal(400)
    return Z


# ------------------------------------------------------------------ copula


def test_copula_equals_ordinal_rank_reference(mixed):
    np.testing.assert_allclose(gaussian_copula(mixed), reference_copula(mixed), atol=1e-12)


def test_copula_breaks_ties_in_order_of_appearance():
    column = np.array([[1.0], [0.0], [1.0], [0.0]])
    expected = ndtri(np.array([3, 1, 4, 2]) / 5.0)
    np.testing.assert_allclose(gaussian_copula(column).ravel(), expected - expected.mean())


def test_copula_is_invariant_to_monotone_transforms(mixed):
    np.testing.assert_allclose(
        gaussian_copula(np.exp(mixed) * 3 + 1), gaussian_copula(mixed), atol=1e-12
    )


def test_copula_columns_have_zero_mean(mixed):
    np.testing.assert_allclose(gaussian_copula(mixed).mean(axis=0), 0.0, atol=1e-12)


# ----------------------------------------------------------------- entropy


def test_plugin_entropy_equals_scipy_gaussian_entropy(mixed):
    cov = np.cov(mixed[:, :4].T)
    expected = scipy.stats.multivariate_normal(cov=cov).entropy() / LN2
    value = gaussian_entropy(mixed[:, :4], bias_correction=False)
    assert value == pytest.approx(expected, abs=1e-10)
    assert gaussian_entropy(mixed[:, :4], bias_correction=False, base=math.e) == pytest.approx(
        expected * LN2, abs=1e-10
    )


def test_bias_correction_removes_the_small_sample_bias():
    cov = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 1.5]])
    truth = scipy.stats.multivariate_normal(cov=cov).entropy()
    rng = np.random.default_rng(1)
    draws = [rng.multivariate_normal(np.zeros(3), cov, size=12) for _ in range(400)]
    corrected = np.mean([gaussian_entropy(d, base=math.e) for d in draws])
    plugin = np.mean([gaussian_entropy(d, bias_correction=False, base=math.e) for d in draws])
    assert plugin < truth - 0.3  # the plug-in estimate is biased low at N = 12
    assert corrected == pytest.approx(truth, abs=0.05)


def test_copula_entropy_equals_reference(mixed):
    expected = reference_entropy(reference_copula(mixed))
    assert gaussian_entropy(mixed, copula=True) == pytest.approx(expected, abs=1e-10)


# ------------------------------------------------------ O-information values


def test_independent_gaussians_have_zero_o_information():
    Z = np.random.default_rng(2).standard_normal((4000, 5))
    assert o_information(Z) == pytest.approx(0.0, abs=1e-3)
    assert o_information(Z, copula=False) == pytest.approx(0.0, abs=1e-3)


def test_noisy_copies_of_one_signal_are_redundant_with_the_gaussian_value():
    rng = np.random.default_rng(3)
    n, noise = 4, 0.3
    Z = rng.standard_normal((4000, 1)) + noise * rng.standard_normal((4000, n))
    # cov = J + s^2 I, whose k x k principal blocks have det s^(2(k-1)) (k + s^2).
    s2 = noise**2

    def logdet(k):
        return (k - 1) * math.log(s2) + math.log(k + s2)

    analytic = 0.5 * ((n - 2) * logdet(n) + n * logdet(1) - n * logdet(n - 1)) / LN2
    assert analytic == pytest.approx(gaussian_o_information(np.ones((n, n)) + s2 * np.eye(n)))
    assert analytic > 2.0
    assert o_information(Z) == pytest.approx(analytic, abs=0.06)
    assert o_information(Z, copula=False) == pytest.approx(analytic, abs=0.06)


def test_sum_of_two_signals_is_synergistic_with_the_gaussian_value():
    rng = np.random.default_rng(4)
    noise = 0.5
    z1, z2 = rng.standard_normal((2, 4000))
    Z = np.column_stack([z1, z2, z1 + z2 + noise * rng.standard_normal(4000)])
    # det C = s^2, det C_{23} = det C_{13} = 1 + s^2, det C_{12} = 1, Var Z3 = 2 + s^2.
    s2 = noise**2
    analytic = 0.5 * (math.log(s2) + math.log(2 + s2) - 2 * math.log(1 + s2)) / LN2
    cov = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 2 + s2]])
    assert analytic == pytest.approx(gaussian_o_information(cov))
    assert analytic < -0.5
    assert o_information(Z) == pytest.approx(analytic, abs=0.05)
    assert o_information(Z, copula=False) == pytest.approx(analytic, abs=0.05)


def test_two_variables_have_zero_o_information(mixed):
    assert o_information(mixed[:, :2]) == pytest.approx(0.0, abs=1e-12)


def test_o_information_equals_the_one_entropy_at_a_time_reference(mixed):
    for bias_correction in (True, False):
        expected = reference_o_information(reference_copula(mixed), bias_correction)
        value = o_information(mixed, bias_correction=bias_correction)
        assert value == pytest.approx(expected, abs=1e-9)


def test_o_information_is_invariant_to_column_order_and_monotone_maps(mixed):
    perm = np.random.default_rng(5).permutation(mixed.shape[1])
    value = o_information(mixed)
    assert o_information(mixed[:, perm]) == pytest.approx(value, abs=1e-10)
    assert o_information(np.exp(mixed / 4)) == pytest.approx(value, abs=1e-10)


def test_base_sets_the_unit(mixed):
    assert o_information(mixed, base=math.e) == pytest.approx(o_information(mixed) * LN2)


def test_tensor_input_is_accepted(mixed):
    assert o_information(torch.as_tensor(mixed)) == pytest.approx(o_information(mixed))


def test_leave_one_out_determinant_identity():
    rng = np.random.default_rng(6)
    A = rng.standard_normal((6, 6))
    C = A @ A.T + 0.5 * np.eye(6)
    inverse = np.linalg.inv(C)
    for j in range(6):
        rest = [k for k in range(6) if k != j]
        direct = np.linalg.slogdet(C[np.ix_(rest, rest)])[1]
        assert direct == pytest.approx(np.linalg.slogdet(C)[1] + np.log(inverse[j, j]), abs=1e-12)


# -------------------------------------------------------------- multiplets


@pytest.mark.parametrize("copula", [True, False])
def test_multiplet_search_equals_the_naive_computation(mixed, copula):
    table = o_information_multiplets(mixed, min_order=3, copula=copula)
    data = reference_copula(mixed) if copula else mixed
    assert len(table) == sum(math.comb(7, k) for k in range(3, 8))
    for multiplet, order, value in table[["multiplet", "order", "oinfo"]].itertuples(
        index=False
    ):
        assert order == len(multiplet)
        assert value == pytest.approx(reference_o_information(data[:, list(multiplet)]), abs=1e-8)


@pytest.mark.parametrize("batch_limit", [1, 5])
def test_one_by_one_cholesky_path_equals_the_batched_path(mixed, monkeypatch, batch_limit):
    batched = o_information_multiplets(mixed, 2)["oinfo"].to_numpy()
    monkeypatch.setattr(oinfo, "_BATCH_LIMIT", batch_limit)
    np.testing.assert_allclose(o_information_multiplets(mixed, 2)["oinfo"], batched, atol=1e-10)


def test_large_unions_of_groups_equal_the_naive_computation():
    rng = np.random.default_rng(8)
    Z = rng.standard_normal((300, 8)) @ rng.standard_normal((8, 45))
    Z += 0.5 * rng.standard_normal((300, 45))
    groups = [list(range(15 * g, 15 * g + 15)) for g in range(3)]  # unions of 30 and 45
    table = o_information_group_multiplets(Z, groups, min_order=2)
    data = reference_copula(Z)
    for multiplet, value in table[["multiplet", "oinfo"]].itertuples(index=False):
        columns = sorted(itertools.chain.from_iterable(groups[g] for g in multiplet))
        assert value == pytest.approx(reference_o_information(data[:, columns]), abs=1e-8)


def test_multiplets_are_listed_by_order_then_lexicographically(mixed):
    table = o_information_multiplets(mixed, min_order=2, max_order=4)
    expected = [c for k in (2, 3, 4) for c in itertools.combinations(range(7), k)]
    assert list(table["multiplet"]) == expected
    assert list(table.columns) == ["multiplet", "order", "oinfo"]
    np.testing.assert_allclose(table.loc[table["order"] == 2, "oinfo"], 0.0, atol=1e-12)


def test_ten_variable_search_size(mixed):
    Z = np.random.default_rng(7).standard_normal((200, 10))
    assert len(o_information_multiplets(Z, 3, 10)) == 968


def test_group_multiplets_expand_to_the_union_of_columns(mixed):
    groups = [[0, 3], [1], [2, 4, 6], [5]]
    table = o_information_group_multiplets(mixed, groups, min_order=2)
    assert len(table) == sum(math.comb(4, k) for k in range(2, 5))
    for multiplet, n_neurons, value in table[["multiplet", "n_neurons", "oinfo"]].itertuples(
        index=False
    ):
        columns = sorted(itertools.chain.from_iterable(groups[g] for g in multiplet))
        assert n_neurons == len(columns)
        assert value == pytest.approx(o_information(mixed[:, columns]), abs=1e-9)


def test_singleton_groups_reduce_to_the_plain_search(mixed):
    plain = o_information_multiplets(mixed, 3, 5)
    grouped = o_information_group_multiplets(mixed, [[j] for j in range(7)], 3, 5)
    assert list(grouped["multiplet"]) == list(plain["multiplet"])
    np.testing.assert_allclose(grouped["oinfo"], plain["oinfo"], atol=1e-12)


# --------------------------------------------------------------- bad input


def test_bad_orders_are_rejected(mixed):
    with pytest.raises(ValueError, match="min_order"):
        o_information_multiplets(mixed, min_order=1)
    with pytest.raises(ValueError, match="min_order"):
        o_information_multiplets(mixed, min_order=8)
    with pytest.raises(ValueError, match="max_order"):
        o_information_multiplets(mixed, min_order=3, max_order=8)
    with pytest.raises(ValueError, match="max_order"):
        o_information_multiplets(mixed, min_order=4, max_order=3)
    with pytest.raises(TypeError, match="min_order"):
        o_information_multiplets(mixed, min_order=3.0)


@pytest.mark.parametrize("base", [1, 0, -2])
def test_bad_base_is_rejected(mixed, base):
    with pytest.raises(ValueError, match="base"):
        o_information(mixed, base=base)


@pytest.mark.parametrize("Z", [np.ones(5), np.ones((4, 3, 2))])
def test_bad_shapes_are_rejected(Z):
    with pytest.raises(ValueError, match="Z"):
        o_information(Z)


def test_too_few_samples_are_rejected():
    with pytest.raises(ValueError, match="samples"):
        o_information(np.random.default_rng(0).standard_normal((4, 4)))


def test_single_variable_is_rejected():
    with pytest.raises(ValueError, match="at least 2 variables"):
        o_information(np.random.default_rng(0).standard_normal((10, 1)))


def test_non_finite_values_are_rejected(mixed):
    Z = mixed.copy()
    Z[3, 1] = np.inf
    with pytest.raises(ValueError, match="Z contains NaN or infinite"):
        o_information(Z)


@pytest.mark.parametrize("batch_limit", [1, 32])
def test_duplicated_columns_are_reported_as_singular(mixed, monkeypatch, batch_limit):
    monkeypatch.setattr(oinfo, "_BATCH_LIMIT", batch_limit)
    Z = np.column_stack([mixed[:, :3], mixed[:, 0]])
    with pytest.raises(ValueError, match="singular"):
        o_information(Z, copula=False)


@pytest.mark.parametrize(
    "groups",
    [[], [[0, 1], []], [[0, 1], [1, 2]], [[0, 9]], [[0.5, 1]], "01", [[0, 0], [1]]],
)
def test_bad_groups_are_rejected(mixed, groups):
    with pytest.raises(ValueError, match="groups"):
        o_information_group_multiplets(mixed, groups)
