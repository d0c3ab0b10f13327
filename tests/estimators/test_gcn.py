"""GrokGCNRegressor: lists of graphs in, the packed layout, accuracy, the scikit-learn contract.

sklearn's parametrize_with_checks does not apply: X is a list of graphs (or a
3-d packed array), not a feature matrix, so its checks (which build 2-d float
arrays) cannot call fit meaningfully. Clone, get/set_params, pickling and
GridSearchCV are tested directly.
"""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from grokkit.datasets.molecules import make_molecular_graphs
from grokkit.estimators.gcn import GrokGCNRegressor
from grokkit.models.gcn import pack_graphs

TINY = dict(hidden_channels=(8, 8), lr=1e-2, batch_size=16, random_state=0, measure_every=10)


# Small batched matmuls: two OpenMP threads on busy shared cores only add contention.
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def molecules():
    graphs, y = make_molecular_graphs(n_graphs=80, n_atoms=(3, 8), random_state=0)
    y = (y - y[:60].mean()) / y[:60].std()
    return graphs[:60], y[:60], graphs[60:], y[60:]


def test_learns_the_target_and_records_measures(molecules):
    graphs, y, graphs_test, y_test = molecules
    reg = GrokGCNRegressor(max_epochs=40, **TINY).fit(graphs, y, eval_set=(graphs_test, y_test))
    p = reg.progress_
    assert p.train_loss.iloc[-1] < 0.4 * p.train_loss.iloc[0]
    assert reg.score(graphs_test, y_test) > 0.5
    for column in ("weight_norm", "weight_entropy/convs.0.linear", "activation_sparsity/conv1",
                   "activation_sparsity/conv2", "test_acc"):
        assert column in p.columns
    assert reg.predict(graphs_test).shape == (len(graphs_test),)
    assert reg.n_features_in_ == 4


def test_accuracy_is_the_fraction_of_small_per_sample_errors(molecules):
    graphs, y, _, _ = molecules
    reg = GrokGCNRegressor(max_epochs=5, accuracy_threshold=0.05, **TINY).fit(graphs, y)
    errors = (reg.predict(graphs) - y) ** 2
    assert reg.progress_.train_acc.iloc[-1] == pytest.approx(np.mean(errors < 0.05), abs=1e-6)


def test_packed_input_and_any_graph_size_at_predict(molecules):
    graphs, y, graphs_test, _ = molecules
    reg = GrokGCNRegressor(max_epochs=5, **TINY).fit(graphs, y)
    np.testing.assert_allclose(reg.predict(pack_graphs(graphs_test, max_nodes=15)), reg.predict(graphs_test),
                               rtol=1e-5, atol=1e-6)
    big, _ = make_molecular_graphs(n_graphs=3, n_atoms=(14, 16), random_state=1)
    assert reg.predict(big).shape == (3,)
    packed = GrokGCNRegressor(max_epochs=5, **TINY).fit(pack_graphs(graphs), y)
    np.testing.assert_allclose(packed.predict(graphs), reg.predict(graphs), rtol=1e-5, atol=1e-6)


def test_multi_output_targets(molecules):
    graphs, y, _, _ = molecules
    reg = GrokGCNRegressor(max_epochs=2, **TINY).fit(graphs, np.c_[y, -y])
    assert reg.predict(graphs).shape == (len(graphs), 2)


def test_clone_pickle_and_grid_search_over_alpha(molecules):
    graphs, y, graphs_test, _ = molecules
    est = GrokGCNRegressor(alpha=3.0, max_epochs=8, **{**TINY, "measures": ["weight_norm"]})
    assert clone(est).get_params() == est.get_params()
    search = GridSearchCV(est, {"alpha": [1.0, 3.0]}, cv=2).fit(graphs, y)
    assert len(search.cv_results_["mean_test_score"]) == 2
    fitted = search.best_estimator_
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(graphs_test), fitted.predict(graphs_test))
    assert again.progress_.equals(fitted.progress_)


def test_input_noise_perturbs_node_features(molecules):
    graphs, y, _, _ = molecules
    quiet_params = {**TINY, "measures": None}
    noisy = GrokGCNRegressor(max_epochs=3, input_noise=(1.0, 0.5), **quiet_params).fit(graphs, y)
    quiet = GrokGCNRegressor(max_epochs=3, **{**TINY, "measures": None}).fit(graphs, y)
    assert not torch.allclose(noisy.module_.fc.weight, quiet.module_.fc.weight)


@pytest.mark.parametrize("params, match", [
    (dict(hidden_channels=()), "hidden_channels"), (dict(hidden_channels=(4, 0)), "hidden_channels"),
    (dict(readout="max"), "readout"), (dict(accuracy_threshold=0), "accuracy_threshold"),
    (dict(loss="cross_entropy"), "loss"), (dict(conv="gat"), "conv"), (dict(edge_hidden=0), "edge_hidden"),
    (dict(aggr="max"), "aggr"), (dict(fc_channels=(4, 0)), "fc_channels"),
    (dict(conv="gcn", fc_channels=(8,)), "fc_channels"),
])
def test_bad_parameters_name_themselves(molecules, params, match):
    graphs, y, _, _ = molecules
    with pytest.raises((ValueError, TypeError), match=match):
        GrokGCNRegressor(**{**TINY, "max_epochs": 1, **params}).fit(graphs, y)


def test_bad_inputs(molecules):
    graphs, y, _, _ = molecules
    reg = GrokGCNRegressor(**{**TINY, "max_epochs": 1, "measures": None})
    with pytest.raises(ValueError, match="packed graphs"):
        reg.fit(np.zeros((10, 3)), y[:10])
    with pytest.raises(TypeError, match="graph 0"):
        reg.fit([np.zeros(3)] * 3, y[:3])
    with pytest.raises(ValueError, match="one row per graph"):
        reg.fit(graphs, y[:5])
    with pytest.raises(ValueError, match="NaN"):
        reg.fit(graphs, np.full(len(graphs), np.nan))
    reg.fit(graphs, y)
    with pytest.raises(ValueError, match="node features"):
        reg.predict([(np.zeros((2, 2)), np.ones((2, 7)))])
    with pytest.raises(AttributeError, match="predict_proba"):
        reg.predict_proba(graphs)


def _with_bond_types(graphs, seed=0):
    """The generated graphs with a random one-hot bond type (3 kinds) on each bond, both directions."""
    rng = np.random.RandomState(seed)
    typed = []
    for A, X in graphs:
        kinds = np.triu(rng.randint(3, size=A.shape), 1)
        kinds = kinds + kinds.T
        E = np.eye(3)[kinds] * (A > 0)[..., None]
        typed.append((A, X, E))
    return typed


def test_nnconv_trains_in_minibatches_of_graphs_of_different_sizes(molecules):
    graphs, y, graphs_test, y_test = molecules
    typed, typed_test = _with_bond_types(graphs), _with_bond_types(graphs_test, seed=1)
    assert len({len(A) for A, _, _ in typed[:16]}) > 1  # one minibatch mixes sizes
    reg = GrokGCNRegressor(conv="nnconv", max_epochs=40, **TINY).fit(typed, y, eval_set=(typed_test, y_test))
    assert reg.n_edge_features_in_ == 3 and reg.n_features_in_ == 4
    assert reg.n_steps_ == 40 * int(np.ceil(len(typed) / TINY["batch_size"]))
    assert [layer.out_features for layer in reg.module_.head] == [32]  # the public code's FC 16 -> 32 -> 1
    p = reg.progress_
    assert p.train_loss.iloc[-1] < 0.4 * p.train_loss.iloc[0]
    assert "activation_sparsity/conv2" in p.columns
    packed = pack_graphs(typed_test, max_nodes=20)
    np.testing.assert_allclose(reg.predict(packed), reg.predict(typed_test), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="edge features"):
        reg.predict(graphs_test)  # fitted with 3 edge features, given none
    again = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(again.predict(typed_test), reg.predict(typed_test))
    assert clone(reg).get_params()["conv"] == "nnconv"


def test_nnconv_on_graphs_without_edge_features_and_its_head(molecules):
    graphs, y, _, _ = molecules
    reg = GrokGCNRegressor(conv="nnconv", fc_channels=(), aggr="mean", max_epochs=2,
                           **{**TINY, "measures": None}).fit(graphs, y)
    assert reg.n_edge_features_in_ == 0 and len(reg.module_.head) == 0
    assert reg.module_.convs[0].aggr == "mean" and reg.module_.convs[0].edge_network[0].in_features == 1
