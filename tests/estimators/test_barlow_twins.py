"""The Barlow Twins regulariser of the modular estimators (Tan & Huang App. A, Fig. 14)."""

import numpy as np
import pytest
import torch

from grokkit import ModularMLPClassifier, ModularTransformer
from grokkit.datasets import make_modular
from grokkit.estimators.modular import barlow_twins_loss
from grokkit.estimators.stacked import why_not_stackable
from grokkit.measures import commutativity_distance

EPS64 = float(np.finfo(np.float64).eps)


@pytest.fixture(scope="module")
def mod11():
    return make_modular(p=11, operation="add", train_fraction=0.5, random_state=0)


def _hand_barlow(z1: np.ndarray, z2: np.ndarray, off_diagonal: float) -> float:
    """Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij², with explicit loops over the features."""
    n, d = z1.shape

    def standardise(z):
        mean = z.sum(axis=0) / n
        var = ((z - mean) ** 2).sum(axis=0) / n
        return (z - mean) / np.sqrt(var + EPS64)

    a, b = standardise(z1), standardise(z2)
    total = 0.0
    for i in range(d):
        for j in range(d):
            c = sum(a[k, i] * b[k, j] for k in range(n)) / n
            total += (1.0 - c) ** 2 if i == j else off_diagonal * c ** 2
    return total


def test_barlow_twins_loss_matches_a_hand_computation():
    rng = np.random.default_rng(0)
    z1, z2 = rng.normal(size=(9, 4)), rng.normal(size=(9, 4))
    got = barlow_twins_loss(torch.as_tensor(z1), torch.as_tensor(z2), 0.3)
    assert got.dtype == torch.float64
    assert float(got) == pytest.approx(_hand_barlow(z1, z2, 0.3), rel=100 * EPS64)


def test_barlow_twins_loss_of_identical_views_is_the_off_diagonal_term_only():
    rng = np.random.default_rng(1)
    z = torch.as_tensor(rng.normal(size=(50, 3)))
    # C is then the correlation matrix: unit diagonal (up to ε/var), off-diagonal terms remain
    assert float(barlow_twins_loss(z, z, 0.0)) <= 1e3 * EPS64
    assert float(barlow_twins_loss(z, z, 1.0)) > 0


def test_a_dead_feature_costs_one_and_no_nan():
    z = torch.zeros(6, 2, dtype=torch.float64)
    z[:, 0] = torch.arange(6.0)
    z.requires_grad_(True)
    loss = barlow_twins_loss(z, z, 0.0)
    assert float(loss.detach()) == pytest.approx(1.0, abs=100 * EPS64)  # the constant feature: (1 − 0)²
    loss.backward()
    assert bool(torch.isfinite(z.grad).all())


def test_the_estimator_adds_the_weighted_barlow_loss_of_the_hidden_layer(mod11):
    X, y, _, _ = mod11
    clf = ModularMLPClassifier(p=11, hidden_layer_sizes=(6,), max_epochs=1, dtype="float64", measures=None,
                               random_state=0, barlow_penalty=0.7, barlow_off_diagonal=0.2).fit(X, y)
    pairs = torch.as_tensor(X)
    targets = torch.as_tensor(y)
    with torch.no_grad():
        logits = clf.module_(pairs)
        plain = clf.get_loss(logits, targets, X=pairs, training=False)
        penalised = clf.get_loss(logits, targets, X=pairs, training=True)
    weight = clf.module_.fc1.weight.detach().numpy()

    def embed(a, b):  # relu(W[:, a] + W[:, p + b]) by hand
        return np.maximum(weight[:, a] + weight[:, 11 + b], 0.0).T

    hand = _hand_barlow(embed(X[:, 0], X[:, 1]), embed(X[:, 1], X[:, 0]), 0.2)
    assert float(penalised - plain) == pytest.approx(0.7 * hand, rel=1e3 * EPS64)


def test_barlow_penalty_makes_the_embedding_more_commutative(mod11):
    X, y, _, _ = mod11
    common = dict(p=11, hidden_layer_sizes=(32,), max_epochs=60, random_state=0, measures=None)
    plain = ModularMLPClassifier(**common).fit(X, y)
    penalised = ModularMLPClassifier(barlow_penalty=0.05, **common).fit(X, y)

    def distance(clf):
        return commutativity_distance(clf.module_, p=11, layer="act1")

    assert distance(penalised) < 0.5 * distance(plain)


def test_the_transformer_takes_the_read_out_position(mod11):
    X, y, _, _ = mod11
    clf = ModularTransformer(p=11, d_model=8, n_heads=2, d_mlp=16, max_epochs=2, measures=None,
                             random_state=0, barlow_penalty=0.1).fit(X, y)
    assert clf._embedding(torch.as_tensor(X[:5])).shape == (5, 16)
    assert np.isfinite(clf.progress_["train_loss"]).all()


@pytest.mark.parametrize("name", ["barlow_penalty", "barlow_off_diagonal"])
def test_bad_barlow_parameters(mod11, name):
    X, y, _, _ = mod11
    with pytest.raises(ValueError, match=name):
        ModularMLPClassifier(p=11, max_epochs=1, measures=None, **{name: -1.0}).fit(X, y)


def test_stacked_runs_refuse_the_barlow_penalty():
    reason = why_not_stackable(ModularMLPClassifier(p=11, barlow_penalty=0.1), ["random_state"])
    assert reason is not None and "barlow_penalty" in reason
    assert why_not_stackable(ModularMLPClassifier(p=11), ["random_state"]) is None
