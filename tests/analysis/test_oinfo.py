"""OInformationAnalyzer: Clauw et al.'s binning + exhaustive multiplet search, as a transformer."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.cluster import AgglomerativeClustering
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from grokkit.analysis.oinfo import OInformationAnalyzer
from grokkit.measures.oinfo import o_information


@pytest.fixture(scope="module")
def activations() -> np.ndarray:
    """ReLU activations of 14 neurons driven by 4 latent signals, 300 samples."""
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((300, 4))
    mixing = rng.standard_normal((4, 14)) * (rng.random((4, 14)) < 0.5)
    return np.maximum(latent @ mixing + 0.3 * rng.standard_normal((300, 14)), 0)


@pytest.fixture(scope="module")
def fitted(activations) -> OInformationAnalyzer:
    return OInformationAnalyzer(n_bins=5).fit(activations)


def partition(labels: np.ndarray) -> set[frozenset[int]]:
    return {frozenset(np.flatnonzero(labels == b).tolist()) for b in np.unique(labels)}


def test_bins_are_sklearn_ward_clusters_of_the_neurons(activations, fitted):
    ward = AgglomerativeClustering(n_clusters=5, linkage="ward").fit_predict(activations.T)
    assert partition(fitted.labels_) == partition(ward)
    assert len(fitted.groups_) == 5
    assert sorted(np.concatenate(fitted.groups_).tolist()) == list(range(14))
    # Bins are numbered by their lowest neuron.
    assert [g[0] for g in fitted.groups_] == sorted(g[0] for g in fitted.groups_)
    for b, group in enumerate(fitted.groups_):
        assert (fitted.labels_[group] == b).all()


def test_multiplets_are_o_information_of_the_union_of_neurons(activations, fitted):
    table = fitted.multiplets_
    assert list(table.columns) == ["multiplet", "order", "n_neurons", "oinfo"]
    expected = [c for k in range(3, 6) for c in itertools.combinations(range(5), k)]
    assert list(table["multiplet"]) == expected
    for multiplet, n_neurons, value in table[["multiplet", "n_neurons", "oinfo"]].itertuples(
        index=False
    ):
        neurons = np.sort(np.concatenate([fitted.groups_[b] for b in multiplet]))
        assert n_neurons == len(neurons)
        assert value == pytest.approx(o_information(activations[:, neurons]), abs=1e-9)


def test_synergy_and_redundancy_are_the_extremes_per_order(fitted):
    table = fitted.multiplets_
    for order, group in table.groupby("order"):
        assert fitted.synergy_.loc[order, "oinfo"] == group["oinfo"].min()
        assert fitted.redundancy_.loc[order, "oinfo"] == group["oinfo"].max()
        assert fitted.synergy_.loc[order, "multiplet"] == group.loc[
            group["oinfo"].idxmin(), "multiplet"
        ]
    assert fitted.most_synergistic_ == table.loc[table["oinfo"].idxmin(), "multiplet"]
    assert fitted.most_redundant_ == table.loc[table["oinfo"].idxmax(), "multiplet"]
    neurons = np.concatenate([fitted.groups_[b] for b in fitted.most_synergistic_])
    np.testing.assert_array_equal(fitted.synergistic_neurons_, np.sort(neurons))


def test_transform_summarises_the_search(activations, fitted):
    names = fitted.get_feature_names_out()
    assert list(names[:4]) == ["oinfo_min", "oinfo_max", "oinfo_min_n_neurons", "oinfo_max_n_neurons"]
    assert list(names[4:-2]) == [f"{kind}_order{k}" for k in (3, 4, 5)
                                 for kind in ("oinfo_min", "oinfo_max")]
    assert list(names[-2:]) == ["synergy", "redundancy"]
    row = pd.Series(fitted.transform(activations)[0], index=names)
    table = fitted.multiplets_
    assert row["oinfo_min"] == table["oinfo"].min()
    assert row["oinfo_max"] == table["oinfo"].max()
    assert row["oinfo_min_n_neurons"] == table.loc[table["oinfo"].idxmin(), "n_neurons"]
    for k in (3, 4, 5):
        assert row[f"oinfo_min_order{k}"] == fitted.synergy_.loc[k, "oinfo"]
        assert row[f"oinfo_max_order{k}"] == fitted.redundancy_.loc[k, "oinfo"]
    # synergy is negative O-information (Clauw et al.): never positive, 0 where no multiplet has any
    assert row["synergy"] == min(0.0, table["oinfo"].min()) and row["synergy"] <= 0
    assert row["redundancy"] == max(0.0, table["oinfo"].max()) and row["redundancy"] >= 0


def test_a_redundancy_dominated_layer_has_no_synergy():
    """Copies of one signal plus small noise: every multiplet is redundant, so min Ω > 0, synergy 0."""
    rng = np.random.default_rng(0)
    source = rng.standard_normal((400, 1))
    activations = source + 0.05 * rng.standard_normal((400, 8))
    analyzer = OInformationAnalyzer(n_bins=4, max_order=4).fit(activations)
    row = pd.Series(analyzer.transform(activations)[0], index=analyzer.get_feature_names_out())
    assert row["oinfo_min"] > 0  # the lowest O-information is positive: no synergy anywhere
    assert row["synergy"] == 0.0 and row["redundancy"] == row["oinfo_max"] > 0


def test_fit_transform_equals_fit_then_transform(activations):
    analyzer = OInformationAnalyzer(n_bins=4, max_order=3)
    np.testing.assert_allclose(
        analyzer.fit_transform(activations),
        clone(analyzer).fit(activations).transform(activations),
        atol=1e-12,
    )


def test_transform_takes_several_arrays(activations, fitted):
    other = activations[::-1] * 2.0 + 0.05
    single = np.vstack([fitted.transform(activations), fitted.transform(other)])
    np.testing.assert_allclose(fitted.transform([activations, other]), single)
    np.testing.assert_allclose(fitted.transform(np.stack([activations, other])), single)
    np.testing.assert_allclose(fitted.transform(torch.as_tensor(activations)), single[:1])


def test_checkpoints_are_read_through_the_bins_of_one_checkpoint(activations):
    rng = np.random.default_rng(1)
    checkpoints = [np.maximum(activations + s * rng.standard_normal(activations.shape), 0)
                   for s in (1.0, 0.5, 0.0)]
    analyzer = OInformationAnalyzer(n_bins=4)
    table = analyzer.fit_transform_checkpoints(checkpoints)
    assert table.index.name == "checkpoint" and len(table) == 3
    assert list(table.columns) == list(analyzer.get_feature_names_out())
    reference = clone(analyzer).fit(checkpoints[-1])
    assert partition(analyzer.labels_) == partition(reference.labels_)
    for position, array in enumerate(checkpoints):
        np.testing.assert_allclose(table.iloc[position], reference.transform(array)[0])
    first = clone(analyzer).fit_transform_checkpoints(checkpoints, fit_on=0)
    np.testing.assert_allclose(first.iloc[0], clone(analyzer).fit_transform(checkpoints[0])[0])


def test_constant_neurons_are_left_out(activations):
    X = activations.copy()
    X[:, [2, 9]] = 0.0  # dead units
    analyzer = OInformationAnalyzer(n_bins=4, max_order=4).fit(X)
    assert analyzer.labels_[2] == analyzer.labels_[9] == -1
    assert 2 not in analyzer.active_neurons_ and 9 not in analyzer.active_neurons_
    assert all(2 not in g and 9 not in g for g in analyzer.groups_)
    assert np.isfinite(analyzer.multiplets_["oinfo"]).all()


def test_dict_of_layers_and_layer_parameter(activations):
    layers = {"act1": activations, "act2": activations[:, :8]}
    by_name = OInformationAnalyzer(n_bins=3, layer="act2").fit(layers)
    direct = OInformationAnalyzer(n_bins=3).fit(activations[:, :8])
    pd.testing.assert_frame_equal(by_name.multiplets_, direct.multiplets_)
    single = OInformationAnalyzer(n_bins=3).fit({"act1": activations[:, :8]})
    pd.testing.assert_frame_equal(single.multiplets_, direct.multiplets_)


def test_in_a_pipeline_and_cloned(activations):
    pipe = Pipeline(
        [("scale", StandardScaler()), ("oinfo", OInformationAnalyzer(n_bins=4, max_order=3))]
    )
    out = pipe.fit(activations).transform(activations)
    scaled = StandardScaler().fit_transform(activations)
    expected = OInformationAnalyzer(n_bins=4, max_order=3).fit(scaled).transform(scaled)
    np.testing.assert_allclose(out, expected)
    np.testing.assert_allclose(pipe.fit_transform(activations), expected)

    copy = clone(pipe)
    assert copy.get_params()["oinfo__n_bins"] == 4
    assert not hasattr(copy.named_steps["oinfo"], "multiplets_")
    copy.set_params(oinfo__min_order=2)
    assert copy.fit(activations).named_steps["oinfo"].multiplets_["order"].min() == 2


def test_constructor_stores_parameters_unchanged():
    analyzer = OInformationAnalyzer(n_bins=-3, linkage="nonsense")
    assert analyzer.get_params()["n_bins"] == -3
    assert analyzer.get_params()["linkage"] == "nonsense"


# --------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"n_bins": 1}, "n_bins"),
        ({"n_bins": 2.5}, "n_bins"),
        ({"linkage": "centroid"}, "linkage"),
        ({"min_order": 1}, "min_order"),
        ({"max_order": 1}, "max_order"),
        ({"copula": "yes"}, "copula"),
        ({"n_bins": 4, "max_order": 5}, "max_order"),
        ({"n_bins": 4, "min_order": 4, "max_order": 3}, "min_order"),
        ({"n_bins": 15}, "n_bins"),
        ({"layer": "act1"}, "layer"),
    ],
)
def test_bad_parameters_are_rejected_in_fit(activations, params, name):
    with pytest.raises(ValueError, match=name):
        OInformationAnalyzer(**params).fit(activations)


def test_unknown_layer_is_rejected(activations):
    with pytest.raises(ValueError, match="layer"):
        OInformationAnalyzer(layer="act9").fit({"act1": activations})
    with pytest.raises(ValueError, match="layer"):
        OInformationAnalyzer().fit({"act1": activations, "act2": activations})


def test_transform_needs_the_same_neurons(activations, fitted):
    with pytest.raises(ValueError, match="features"):
        fitted.transform(activations[:, :10])


def test_transform_before_fit_is_an_error(activations):
    with pytest.raises(NotFittedError):
        OInformationAnalyzer().transform(activations)


def test_bad_checkpoints_are_rejected(activations):
    with pytest.raises(ValueError, match="activations"):
        OInformationAnalyzer(n_bins=3).fit_transform_checkpoints([])
    with pytest.raises(ValueError, match="fit_on"):
        OInformationAnalyzer(n_bins=3).fit_transform_checkpoints([activations], fit_on=2)
