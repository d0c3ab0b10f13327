"""GCNNet and the packed graph layout: closed forms against hand-written numpy."""

import numpy as np
import pytest
import torch

from grokkit.models.gcn import GCNNet, normalized_adjacency, pack_graphs, unpack_graphs


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
