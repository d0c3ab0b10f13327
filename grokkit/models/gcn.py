"""Graph convolutional network of Omnigrok's QM9 experiment (§4, Fig. 5; App. A), in plain PyTorch.

Graphs of different sizes travel as one dense array so that a minibatch is
``X[idx]``: graph *g* is the row block ``X[g]`` of shape
``(max_nodes, 1 + max_nodes + n_features)`` holding, for each node slot,
``[mask | adjacency row | node features]`` (:func:`pack_graphs`). Padding
slots have mask 0 and zeros elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from grokkit.models._inputs import noise_active


def _graph_parts(graph: Any, index: int) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(graph, dict):
        missing = {"adjacency", "features"} - set(graph)
        if missing:
            raise ValueError(f"graph {index} is a dict without {sorted(missing)}; it needs 'adjacency' "
                             "and 'features'.")
        adjacency, features = graph["adjacency"], graph["features"]
    elif isinstance(graph, (tuple, list)) and len(graph) == 2:
        adjacency, features = graph
    else:
        raise TypeError(f"graph {index} must be a pair (adjacency, node_features) or a dict with "
                        f"'adjacency' and 'features'; got {type(graph).__name__}.")
    adjacency = np.asarray(adjacency, dtype=np.float64)
    features = np.asarray(features, dtype=np.float64)
    if features.ndim == 1:
        features = features[:, None]
    n = adjacency.shape[0] if adjacency.ndim == 2 else -1
    if adjacency.ndim != 2 or adjacency.shape != (n, n) or n < 1:
        raise ValueError(f"graph {index}: adjacency must be a square (n_nodes, n_nodes) matrix with "
                         f"n_nodes >= 1; got shape {adjacency.shape}.")
    if features.ndim != 2 or features.shape[0] != n:
        raise ValueError(f"graph {index}: node features must have shape ({n}, n_features); got "
                         f"{features.shape}.")
    if not np.allclose(adjacency, adjacency.T):
        raise ValueError(f"graph {index}: adjacency must be symmetric (undirected graph).")
    if not (np.isfinite(adjacency).all() and np.isfinite(features).all()):
        raise ValueError(f"graph {index} holds NaN or infinity.")
    if (adjacency < 0).any():
        raise ValueError(f"graph {index}: adjacency weights must be >= 0.")
    return adjacency, features


def pack_graphs(graphs: Sequence[Any], max_nodes: int | None = None) -> np.ndarray:
    """Pack graphs into the dense ``(n_graphs, max_nodes, 1 + max_nodes + n_features)`` layout.

    Parameters
    ----------
    graphs : sequence of (adjacency, node_features) pairs or dicts
        ``adjacency`` is a symmetric (n_i, n_i) matrix of edge weights ≥ 0 (1
        for a bond, or the bond order); self loops on its diagonal are
        ignored, the convolution adds its own. ``node_features`` is
        (n_i, n_features), the same ``n_features`` for every graph.
    max_nodes : int, optional
        Node slots per graph (default: the largest graph).

    Returns
    -------
    ndarray of float32
        ``X[g, i] = [mask_i, A_i1 … A_iN, features_i]``.

    Examples
    --------
    >>> import numpy as np
    >>> X = pack_graphs([(np.ones((2, 2)) - np.eye(2), np.eye(2)), (np.zeros((1, 1)), [[1.0, 0.0]])])
    >>> X.shape, X[1, :, 0].tolist()
    ((2, 2, 5), [1.0, 0.0])
    """
    if len(graphs) == 0:
        raise ValueError("graphs is empty; pass at least one (adjacency, node_features) pair.")
    parts = [_graph_parts(graph, i) for i, graph in enumerate(graphs)]
    widths = {features.shape[1] for _, features in parts}
    if len(widths) != 1:
        raise ValueError(f"every graph must have the same number of node features; got {sorted(widths)}.")
    n_features = widths.pop()
    largest = max(adjacency.shape[0] for adjacency, _ in parts)
    size = largest if max_nodes is None else int(max_nodes)
    if size < largest:
        raise ValueError(f"max_nodes={max_nodes!r} is smaller than the largest graph ({largest} nodes).")
    X = np.zeros((len(parts), size, 1 + size + n_features), dtype=np.float32)
    for g, (adjacency, features) in enumerate(parts):
        n = adjacency.shape[0]
        X[g, :n, 0] = 1.0
        X[g, :n, 1:1 + n] = adjacency * (1 - np.eye(n))
        X[g, :n, 1 + size:] = features
    return X


def unpack_graphs(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split the packed layout into ``mask (B, N)``, ``adjacency (B, N, N)``, ``features (B, N, F)``."""
    size = X.shape[1]
    return X[..., 0], X[..., 1:1 + size], X[..., 1 + size:]


def normalized_adjacency(mask: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
    r"""Kipf & Welling's propagation matrix on the real nodes of each graph.

    .. math:: \hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}, \qquad \tilde D_{ii} = \sum_j (A + I)_{ij}

    Rows and columns of padding slots are zero.
    """
    pair = mask.unsqueeze(-1) * mask.unsqueeze(-2)
    with_loops = adjacency * pair + torch.diag_embed(mask)
    degree = with_loops.sum(dim=-1)
    inv_sqrt = torch.where(degree > 0, degree.clamp_min(1e-12).rsqrt(), torch.zeros_like(degree))
    return inv_sqrt.unsqueeze(-1) * with_loops * inv_sqrt.unsqueeze(-2)


class GraphConv(nn.Module):
    r"""One graph convolution :math:`H' = \hat A H W + b` (Kipf & Welling, 2017), before the nonlinearity."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, propagation: torch.Tensor, H: torch.Tensor) -> torch.Tensor:
        return propagation @ (H @ self.linear.weight.T) + self.linear.bias


class GCNNet(nn.Module):
    r"""Graph convolutions with ReLU, node pooling, linear readout (Omnigrok App. A, QM9).

    .. math:: H^{(l+1)} = \mathrm{ReLU}(\hat A H^{(l)} W^{(l)} + b^{(l)}),\qquad
              \hat y = W_o \sum_{i \in \text{real nodes}} H^{(L)}_i + b_o

    (``readout="mean"`` averages over the real nodes instead). The bias is
    added after propagation and zeroed on padding slots, so padding never
    reaches the readout.

    Parameters
    ----------
    n_features : int
        Node features per node.
    n_outputs : int, default=1
    hidden_channels : sequence of int, default=(32, 16)
        Widths of the convolutions (Omnigrok's public code: 32, 16).
    readout : {"sum", "mean"}, default="sum"
        Sum suits extensive targets such as polarizability.

    Attributes
    ----------
    input_noise_std : float
        σ of Gaussian noise added to the node features of real nodes in
        training mode (Tan & Huang §3.2); 0 = none.
    graph_states : nn.ModuleList
        Identity modules applied to each layer's node activations averaged
        over the real nodes of each graph, (n_graphs, channels): the hidden
        activations (``hidden_modules()``: ``conv1``, ``conv2``, ...).
    """

    def __init__(self, n_features: int, n_outputs: int = 1, hidden_channels: Sequence[int] = (32, 16),
                 readout: str = "sum") -> None:
        super().__init__()
        if readout not in ("sum", "mean"):
            raise ValueError(f"readout must be 'sum' or 'mean'; got {readout!r}.")
        widths = [int(n_features), *map(int, hidden_channels)]
        self.convs = nn.ModuleList(GraphConv(widths[i], widths[i + 1]) for i in range(len(widths) - 1))
        self.graph_states = nn.ModuleList(nn.Identity() for _ in self.convs)
        self.readout = readout
        self.fc = nn.Linear(widths[-1], int(n_outputs))
        self.input_noise_std = 0.0

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        mask, adjacency, H = unpack_graphs(X)
        propagation = normalized_adjacency(mask, adjacency)
        node_mask = mask.unsqueeze(-1)
        if noise_active(self.input_noise_std, self.training):
            H = H + self.input_noise_std * torch.randn_like(H) * node_mask
        n_nodes = mask.sum(dim=1, keepdim=True).clamp_min(1)
        for conv, state in zip(self.convs, self.graph_states, strict=True):
            H = torch.relu(conv(propagation, H)) * node_mask
            state(H.sum(dim=1) / n_nodes)
        pooled = H.sum(dim=1)
        if self.readout == "mean":
            pooled = pooled / n_nodes
        return self.fc(pooled)

    def hidden_modules(self) -> dict[str, nn.Module]:
        """Per-graph mean activation of each convolution (``conv1`` … ``convL``)."""
        return {f"conv{i + 1}": state for i, state in enumerate(self.graph_states)}
