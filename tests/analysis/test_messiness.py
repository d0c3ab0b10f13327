"""Representation messiness toy (Omnigrok §5.1, App. D): R = m·R_random + (1−m)·R_linear."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from grokkit import GrokMLPRegressor
from grokkit.analysis.messiness import MessinessLandscape, make_messy_addition, messy_representation


def test_representation_endpoints_and_interpolation():
    linear = messy_representation(p=7, messiness=0.0, embedding_dim=2, random_state=0)
    np.testing.assert_array_equal(linear, np.column_stack([np.arange(7), np.zeros(7)]))
    random = messy_representation(p=7, messiness=1.0, embedding_dim=2, random_state=0)
    np.testing.assert_array_equal(random, np.random.RandomState(0).standard_normal((7, 2)))
    half = messy_representation(p=7, messiness=0.3, embedding_dim=2, random_state=0)
    np.testing.assert_allclose(half, 0.3 * random + 0.7 * linear)


def test_addition_data_is_sum_of_embeddings_to_target_of_sum():
    X, y, X_test, y_test = make_messy_addition(p=5, messiness=0.0, train_size=10, output_dim=4,
                                               random_state=0)
    assert X.shape == (10, 1) and y.shape == (10, 4) and X_test.shape == (5, 1)
    # m = 0: x = i + j exactly, and equal sums share one target vector
    allX, ally = np.vstack([X, X_test])[:, 0], np.vstack([y, y_test])
    assert sorted(allX.tolist()) == sorted(i + j for i in range(5) for j in range(i, 5))
    for k in np.unique(allX):
        same = ally[allX == k]
        np.testing.assert_array_equal(same, np.repeat(same[:1], len(same), axis=0))
    assert len({tuple(v) for v in ally}) == 9  # sums 0 … 2(p−1)


def test_messiness_changes_only_the_inputs():
    a = make_messy_addition(p=6, messiness=0.0, train_size=12, random_state=3)
    b = make_messy_addition(p=6, messiness=1.0, train_size=12, random_state=3)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[3], b[3])
    assert not np.allclose(a[0], b[0])


def test_landscape_grid_and_determinism():
    decoder = GrokMLPRegressor(hidden_layer_sizes=(5,), activation="relu", max_epochs=3, batch_size=None,
                               measures=None, measure_every=1)
    ml = MessinessLandscape(decoder, messiness=[0.0, 1.0], alphas=[0.5, 2.0], p=5, train_size=10,
                            output_dim=3, random_state=0)
    table = ml.fit_transform()
    assert list(table.columns[:3]) == ["messiness", "alpha", "weight_norm"]
    assert list(zip(table["messiness"], table["alpha"], strict=True)) == [
        (0.0, 0.5), (0.0, 2.0), (1.0, 0.5), (1.0, 2.0)]
    ratio = table["weight_norm"] / table["alpha"]
    np.testing.assert_allclose(ratio, ratio.iloc[0], rtol=1e-5)
    assert (table["n_train"] == 10).all()
    twin = clone(ml).fit()
    np.testing.assert_array_equal(twin.landscape_.to_numpy(), table.to_numpy())


@pytest.mark.parametrize(("params", "error", "match"), [
    ({"messiness": [1.5]}, ValueError, "messiness"),
    ({"alphas": [0.0]}, ValueError, "alphas"),
    ({"p": 1}, ValueError, "p"),
    ({"train_size": 15}, ValueError, "train_size"),
    ({"estimator": object()}, TypeError, "estimator"),
])
def test_bad_inputs(params, error, match):
    base = {"estimator": GrokMLPRegressor(hidden_layer_sizes=(3,), max_epochs=1), "alphas": [1.0],
            "messiness": [0.0], "p": 5, "train_size": 10}
    with pytest.raises(error, match=match):
        MessinessLandscape(**{**base, **params}).fit()


def test_code_layout_latent_and_targets():
    rep = messy_representation(p=10, messiness=0.0, embedding_dim=2, random_state=0, layout="code")
    np.testing.assert_allclose(rep[:, 0], np.linspace(-1, 1, 10))
    assert np.all(np.abs(rep[:, 1]) <= 0.3)
    messy = messy_representation(p=10, messiness=1.0, embedding_dim=2, random_state=0, layout="code")
    assert np.all(np.abs(messy) <= 1.0)
    X, y, X_test, y_test = make_messy_addition(p=10, messiness=0.0, layout="code", random_state=0)
    assert X.shape == (45, 2) and X_test.shape == (10, 2) and y.shape == (45, 30)
    # targets depend on (i + j) mod p: p distinct vectors over the 55 pairs
    assert len(np.unique(np.vstack([y, y_test]), axis=0)) == 10


def test_code_layout_decoder_and_landscape_run():
    from grokkit.analysis.messiness import default_decoder

    decoder = default_decoder("code")
    assert (decoder.lr, decoder.betas, decoder.max_epochs) == (1e-2, (0.9, 0.99), 15_000)
    ml = MessinessLandscape(decoder.set_params(max_epochs=20, hidden_layer_sizes=(8,)), messiness=[0.0, 0.1],
                            alphas=[1.0, 2.0], layout="code", random_state=0).fit()
    assert len(ml.landscape_) == 4 and np.isfinite(ml.landscape_.train_loss).all()
    with pytest.raises(ValueError, match="layout must be one of 'paper', 'code'; got 'notebook'"):
        MessinessLandscape(layout="notebook").fit()


@pytest.mark.parametrize("messiness", [[{"a": 1}], [""], [0.5, 1.5], [0.2, 0.2]])
def test_bad_messiness_grid_names_it(messiness):
    """Found by the hypothesis module: messiness=[{...}] and [''] raised float() conversion errors."""
    with pytest.raises((TypeError, ValueError), match="messiness must"):
        MessinessLandscape(messiness=messiness, alphas=[1.0]).fit()
