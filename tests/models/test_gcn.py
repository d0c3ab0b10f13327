"""GCNNet, NNConv and the packed graph layout: closed forms and per-edge loops against the vectorised code."""

import numpy as np
import pytest
import torch
from torch import nn

from grokkit.models import gcn as gcn_module
from grokkit.models.gcn import (
    GCNNet,
    NNConv,
    NNConvNet,
    normalized_adjacency,
    pack_graphs,
    packed_edges,
    unpack_edge_features,
    unpack_graphs,
)


def _triangle_with_tail():
    A = np.array([[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 1], [0, 0, 1, 0]], dtype=float)
    H = np.arange(8, dtype=float).reshape(4, 2) / 7
    return A, H


def test_pack_graphs_layout():
    A, H = _triangle_with_tail()
    X = pack_graphs([(A, H), {"adjacency": np.zeros((1, 1)), "features": [[1.0, 2.0]]}], max_nodes=5)
    assert X.shape == (2, 5, 1 + 5 + 2) and X.dtype == np.float32
    np.testing.assert_array_equal(X[0, :, 0], [1, 1, 1, 1, 0])
    np.testing.assert_array_equal(X[0, :4, 1:5], A)
    np.testing.assert_allclose(X[0, :4, 6:], H)
    np.testing.assert_array_equal(X[1, :, 0], [1, 0, 0, 0, 0])
    mask, adjacency, features = unpack_graphs(torch.tensor(X))
    assert mask.shape == (2, 5) and adjacency.shape == (2, 5, 5) and features.shape == (2, 5, 2)


@pytest.mark.parametrize("graphs, match", [
    ([(np.ones((2, 3)), np.ones((2, 1)))], "square"),
    ([(np.array([[0, 1], [0, 0]]), np.ones((2, 1)))], "symmetric"),
    ([(np.zeros((2, 2)), np.ones((3, 1)))], "features"),
    ([(np.zeros((1, 1)), np.ones((1, 1))), (np.zeros((1, 1)), np.ones((1, 2)))], "same number"),
    ([], "empty"),
])
def test_pack_graphs_rejects_bad_graphs(graphs, match):
    with pytest.raises(ValueError, match=match):
        pack_graphs(graphs)


def test_normalized_adjacency_and_layer_equal_the_numpy_formula():
    A, H = _triangle_with_tail()
    A_tilde = A + np.eye(4)
    d = A_tilde.sum(1)
    A_hat = A_tilde / np.sqrt(np.outer(d, d))
    X = torch.tensor(pack_graphs([(A, H)], max_nodes=6))
    mask, adjacency, _ = unpack_graphs(X)
    P = normalized_adjacency(mask, adjacency)[0].double().numpy()
    np.testing.assert_allclose(P[:4, :4], A_hat, rtol=1e-6)
    assert np.all(P[4:] == 0) and np.all(P[:, 4:] == 0)

    net = GCNNet(n_features=2, n_outputs=1, hidden_channels=(3, 2)).eval()
    W = [c.linear.weight.detach().double().numpy() for c in net.convs]
    b = [c.linear.bias.detach().double().numpy() for c in net.convs]
    h1 = np.maximum(A_hat @ H @ W[0].T + b[0], 0)
    h2 = np.maximum(A_hat @ h1 @ W[1].T + b[1], 0)
    expected = h2.sum(0) @ net.fc.weight.detach().double().numpy().T + net.fc.bias.detach().double().numpy()
    with torch.no_grad():
        np.testing.assert_allclose(net(X).double().numpy()[0], expected, rtol=1e-5, atol=1e-6)


def test_output_ignores_padding_and_node_order():
    A, H = _triangle_with_tail()
    net = GCNNet(n_features=2, hidden_channels=(4, 4), readout="mean").eval()
    perm = np.array([3, 1, 0, 2])
    with torch.no_grad():
        small = net(torch.tensor(pack_graphs([(A, H)])))
        padded = net(torch.tensor(pack_graphs([(A, H)], max_nodes=9)))
        permuted = net(torch.tensor(pack_graphs([(A[perm][:, perm], H[perm])])))
    torch.testing.assert_close(small, padded)
    torch.testing.assert_close(small, permuted)
    assert list(net.hidden_modules()) == ["conv1", "conv2"]


# ---------------------------------------------------------------- edge-conditioned convolution (NNConv)


def _edge_net(n_edge, hidden, n_in, n_out):
    return nn.Sequential(nn.Linear(n_edge, hidden), nn.ReLU(), nn.Linear(hidden, n_in * n_out)).double()


def _loop_nnconv(conv, x, edge_index, edge_attr, aggr):
    """x_i' = Θ x_i + b + Σ_j (or mean_j) x_j^T h(e_ij), one edge at a time with einsum."""
    out = x.detach().numpy() @ conv.root.weight.detach().numpy().T + conv.bias.detach().numpy()
    messages = np.zeros_like(out)
    count = np.zeros(len(x))
    for (j, i), e in zip(edge_index.T.tolist(), edge_attr, strict=True):
        h = conv.edge_network(e[None]).detach().numpy().reshape(conv.in_features, conv.out_features)
        messages[i] += np.einsum("a,ab->b", x[j].detach().numpy(), h)
        count[i] += 1
    if aggr == "mean":
        messages /= np.maximum(count, 1)[:, None]
    return out + messages


@pytest.mark.parametrize("aggr", ["add", "mean"])
@pytest.mark.parametrize("kinds", ["one-hot", "continuous"])
def test_nnconv_equals_a_per_edge_loop(aggr, kinds):
    torch.manual_seed(0)
    n_in, n_out, n_edge = 3, 4, 2
    x = torch.randn(6, n_in, dtype=torch.float64)
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 4, 5, 0, 2], [1, 0, 2, 1, 4, 3, 0, 5, 0]])
    if kinds == "one-hot":  # few kinds: the edge network runs once per kind (the regrouped sum)
        edge_attr = torch.eye(n_edge, dtype=torch.float64)[torch.tensor([0, 0, 1, 1, 0, 0, 1, 1, 0])]
    else:  # every edge its own kind: once per edge
        edge_attr = torch.randn(9, n_edge, dtype=torch.float64)
    conv = NNConv(n_in, n_out, _edge_net(n_edge, 5, n_in, n_out), aggr=aggr).double()
    with torch.no_grad():
        conv.bias.normal_()
    expected = _loop_nnconv(conv, x, edge_index, edge_attr, aggr)
    eps = torch.finfo(torch.float64).eps
    np.testing.assert_allclose(conv(x, edge_index, edge_attr).detach().numpy(), expected,
                               rtol=1e3 * eps, atol=1e3 * eps)
    if kinds == "continuous":
        return
    previous = gcn_module.MAX_EDGE_KINDS
    try:  # the per-edge path gives the same numbers on one-hot edges
        gcn_module.MAX_EDGE_KINDS = 0
        np.testing.assert_allclose(conv(x, edge_index, edge_attr).detach().numpy(), expected,
                                   rtol=1e3 * eps, atol=1e3 * eps)
    finally:
        gcn_module.MAX_EDGE_KINDS = previous


def test_nnconv_rejects_an_unknown_aggregation():
    with pytest.raises(ValueError, match="aggr"):
        NNConv(2, 2, _edge_net(1, 2, 2, 2), aggr="max")


def _bonded_triangle():
    A, H = _triangle_with_tail()
    E = np.zeros((4, 4, 3))
    for (i, j), kind in {(0, 1): 0, (0, 2): 1, (1, 2): 0, (2, 3): 2}.items():
        E[i, j, kind] = E[j, i, kind] = 1.0
    return A, H, E


def test_pack_graphs_with_edge_features():
    A, H, E = _bonded_triangle()
    X = pack_graphs([(A, H, E), {"adjacency": A[:2, :2], "features": H[:2], "edge_features": E[:2, :2]}],
                    max_nodes=5)
    assert X.shape == (2, 5, 1 + 5 + 5 * 3 + 2)
    X = torch.tensor(X)
    mask, adjacency, features = unpack_graphs(X, n_edge_features=3)
    np.testing.assert_array_equal(adjacency[0, :4, :4].numpy(), A)
    np.testing.assert_allclose(features[0, :4].numpy(), H, rtol=1e-7)
    np.testing.assert_array_equal(unpack_edge_features(X, 3)[0, :4, :4].numpy(), E)
    assert unpack_edge_features(X, 3)[1, 2:].abs().sum() == 0
    node_mask, edge_index, edge_attr = packed_edges(X, 3)
    assert node_mask.tolist() == [1, 1, 1, 1, 0, 1, 1, 0, 0, 0]
    assert edge_index.shape == (2, 8 + 2) and sorted(edge_index[1, 8:].tolist()) == [5, 6]
    with pytest.raises(ValueError, match="same number of edge features"):
        pack_graphs([(A, H, E), (A, H)])
    with pytest.raises(ValueError, match="edge features must have shape"):
        pack_graphs([(A, H, E[:3])])


def test_nnconv_net_equals_the_formula_and_ignores_padding_and_order():
    A, H, E = _bonded_triangle()
    torch.manual_seed(1)
    net = NNConvNet(n_features=2, n_edge_features=3, hidden_channels=(3, 2), edge_hidden=4,
                    fc_channels=(5,)).double().eval()
    X = torch.tensor(pack_graphs([(A, H, E)]), dtype=torch.float64)
    # The same network as per-edge loops on the one graph, then sum pooling and the head.
    edge_index = torch.tensor(np.argwhere(A.T > 0).T)  # rows (source j, target i)
    edge_attr = torch.tensor(E[edge_index[1], edge_index[0]])
    h = torch.tensor(H.astype(np.float32).astype(np.float64))  # the packed layout stores float32
    for conv in net.convs:
        h = torch.tensor(np.maximum(_loop_nnconv(conv, h, edge_index, edge_attr, "add"), 0))
    pooled = h.numpy().sum(0)
    hidden = np.maximum(net.head[0].weight.detach().numpy() @ pooled + net.head[0].bias.detach().numpy(), 0)
    expected = net.fc.weight.detach().numpy() @ hidden + net.fc.bias.detach().numpy()
    eps = torch.finfo(torch.float64).eps
    with torch.no_grad():
        np.testing.assert_allclose(net(X).numpy()[0], expected, rtol=1e4 * eps, atol=1e4 * eps)
        perm = np.array([3, 1, 0, 2])
        padded = net(torch.tensor(pack_graphs([(A, H, E)], max_nodes=8), dtype=torch.float64))
        permuted = net(torch.tensor(pack_graphs([(A[perm][:, perm], H[perm], E[perm][:, perm])]),
                                    dtype=torch.float64))
        torch.testing.assert_close(padded, net(X))
        torch.testing.assert_close(permuted, net(X))
    assert list(net.hidden_modules()) == ["conv1", "conv2"]


def test_nnconv_net_without_edge_features_reads_the_adjacency():
    A, H = _triangle_with_tail()
    net = NNConvNet(n_features=2, n_edge_features=0, hidden_channels=(4,), fc_channels=()).double().eval()
    X = torch.tensor(pack_graphs([(A, H)]), dtype=torch.float64)
    _, edge_index, edge_attr = packed_edges(X, 0)
    assert edge_attr.shape == (8, 1) and torch.all(edge_attr == 1)
    with torch.no_grad():
        assert net(X).shape == (1, 1)
