"""Graph networks of Omnigrok's QM9 experiment (§4, Fig. 5; App. A), in plain PyTorch (no PyG).

Two architectures: :class:`GCNNet` (Kipf & Welling convolutions) and
:class:`NNConvNet` (Gilmer et al.'s edge-conditioned convolutions,
:class:`NNConv`, the network of Omnigrok's public code).

Graphs of different sizes travel as one dense array so that a minibatch is
``X[idx]``: graph *g* is the row block ``X[g]`` of shape
``(N, 1 + N + N·n_edge_features + n_features)`` holding, for each node slot,
``[mask | adjacency row | edge features of the row | node features]``
(:func:`pack_graphs`). Padding slots have mask 0 and zeros elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from grokkit.models._inputs import noise_active


def _graph_parts(graph: Any, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    edges = None
    if isinstance(graph, dict):
        missing = {"adjacency", "features"} - set(graph)
        if missing:
            raise ValueError(f"graph {index} is a dict without {sorted(missing)}; it needs 'adjacency' "
                             "and 'features' (and may have 'edge_features').")
        adjacency, features, edges = graph["adjacency"], graph["features"], graph.get("edge_features")
    elif isinstance(graph, (tuple, list)) and len(graph) in (2, 3):
        adjacency, features = graph[0], graph[1]
        edges = graph[2] if len(graph) == 3 else None
    else:
        raise TypeError(f"graph {index} must be a pair (adjacency, node_features), a triple (adjacency, "
                        "node_features, edge_features) or a dict with 'adjacency' and 'features'; got "
                        f"{type(graph).__name__}.")
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
    if edges is not None:
        edges = np.asarray(edges, dtype=np.float64)
        if edges.ndim != 3 or edges.shape[:2] != (n, n) or edges.shape[2] < 1:
            raise ValueError(f"graph {index}: edge features must have shape ({n}, {n}, n_edge_features) "
                             f"with n_edge_features >= 1; got {edges.shape}.")
        if not np.isfinite(edges).all():
            raise ValueError(f"graph {index}: edge features hold NaN or infinity.")
    return adjacency, features, edges


def graph_edge_width(graphs: Sequence[Any]) -> int:
    """Edge features per edge of ``graphs`` (0 when they are pairs without edge features)."""
    widths = {0 if edges is None else edges.shape[2]
              for edges in (_graph_parts(graph, i)[2] for i, graph in enumerate(graphs))}
    if len(widths) != 1:
        raise ValueError(f"every graph must have the same number of edge features; got {sorted(widths)}.")
    return widths.pop()


def pack_graphs(graphs: Sequence[Any], max_nodes: int | None = None) -> np.ndarray:
    """Pack graphs into the dense ``(n_graphs, N, 1 + N + N·n_edge_features + n_features)`` layout.

    Parameters
    ----------
    graphs : sequence of (adjacency, node_features[, edge_features]) tuples or dicts
        ``adjacency`` is a symmetric (n_i, n_i) matrix of edge weights ≥ 0 (1
        for a bond, or the bond order); self loops on its diagonal are
        ignored, the convolution adds its own. ``node_features`` is
        (n_i, n_features), the same ``n_features`` for every graph.
        ``edge_features``, optional, is (n_i, n_i, n_edge_features), read
        where the adjacency is non-zero (e.g. the bond type one-hot).
    max_nodes : int, optional
        Node slots per graph, ``N`` (default: the largest graph).

    Returns
    -------
    ndarray of float32
        ``X[g, i] = [mask_i, A_i1 … A_iN, e_i1 … e_iN (flattened), features_i]``;
        padding slots are all zero.

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
    widths = {features.shape[1] for _, features, _ in parts}
    if len(widths) != 1:
        raise ValueError(f"every graph must have the same number of node features; got {sorted(widths)}.")
    n_features = widths.pop()
    edge_widths = {0 if edges is None else edges.shape[2] for _, _, edges in parts}
    if len(edge_widths) != 1:
        raise ValueError("every graph must have the same number of edge features; got "
                         f"{sorted(edge_widths)}.")
    n_edge = edge_widths.pop()
    largest = max(adjacency.shape[0] for adjacency, _, _ in parts)
    size = largest if max_nodes is None else int(max_nodes)
    if size < largest:
        raise ValueError(f"max_nodes={max_nodes!r} is smaller than the largest graph ({largest} nodes).")
    X = np.zeros((len(parts), size, 1 + size + size * n_edge + n_features), dtype=np.float32)
    for g, (adjacency, features, edges) in enumerate(parts):
        n = adjacency.shape[0]
        off_diagonal = 1 - np.eye(n)
        X[g, :n, 0] = 1.0
        X[g, :n, 1:1 + n] = adjacency * off_diagonal
        if n_edge:
            block = np.zeros((n, size, n_edge))
            block[:, :n] = edges * (adjacency * off_diagonal != 0)[..., None]
            X[g, :n, 1 + size:1 + size + size * n_edge] = block.reshape(n, size * n_edge)
        X[g, :n, 1 + size + size * n_edge:] = features
    return X


def unpack_graphs(X: torch.Tensor,
                  n_edge_features: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split the packed layout into ``mask (B, N)``, ``adjacency (B, N, N)``, ``features (B, N, F)``."""
    size = X.shape[1]
    return X[..., 0], X[..., 1:1 + size], X[..., 1 + size + size * n_edge_features:]


def unpack_edge_features(X: torch.Tensor, n_edge_features: int) -> torch.Tensor:
    """The edge features ``(B, N, N, n_edge_features)`` of the packed layout."""
    size = X.shape[1]
    block = X[..., 1 + size:1 + size + size * n_edge_features]
    return block.reshape(*X.shape[:2], size, n_edge_features)


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
    n_edge_features : int, default=0
        Edge features in the packed layout (skipped: the convolution reads
        the adjacency only).

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
                 readout: str = "sum", n_edge_features: int = 0) -> None:
        super().__init__()
        if readout not in ("sum", "mean"):
            raise ValueError(f"readout must be 'sum' or 'mean'; got {readout!r}.")
        self.n_edge_features = int(n_edge_features)
        widths = [int(n_features), *map(int, hidden_channels)]
        self.convs = nn.ModuleList(GraphConv(widths[i], widths[i + 1]) for i in range(len(widths) - 1))
        self.graph_states = nn.ModuleList(nn.Identity() for _ in self.convs)
        self.readout = readout
        self.fc = nn.Linear(widths[-1], int(n_outputs))
        self.input_noise_std = 0.0

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        mask, adjacency, H = unpack_graphs(X, self.n_edge_features)
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


#: Up to this many distinct edge attributes, :class:`NNConv` evaluates its edge network once per kind
#: (the same sum, regrouped); beyond, once per edge.
MAX_EDGE_KINDS = 64


class NNConv(nn.Module):
    r"""Edge-conditioned convolution (Gilmer et al. 2017, "MPNN"; PyTorch Geometric's ``NNConv``).

    .. math:: x_i' = \Theta x_i + \mathop{\square}_{j \in \mathcal N(i)} h_\Theta(e_{ij})\, x_j + b

    where :math:`h_\Theta` is a network mapping the edge features
    :math:`e_{ij}` to an (in × out) matrix, applied as :math:`x_j^\top
    h_\Theta(e_{ij})`, and :math:`\square` is the sum (``aggr="add"``,
    PyTorch Geometric's default) or the mean over the neighbours. The root
    weight :math:`\Theta` has no bias of its own; :math:`b` starts at zero
    (as in PyTorch Geometric). Before the nonlinearity.

    Parameters
    ----------
    in_features, out_features : int
    edge_network : nn.Module
        Maps (E, n_edge_features) to (E, in_features · out_features).
    aggr : {"add", "mean"}, default="add"
    """

    def __init__(self, in_features: int, out_features: int, edge_network: nn.Module,
                 aggr: str = "add") -> None:
        super().__init__()
        if aggr not in ("add", "mean"):
            raise ValueError(f"aggr must be 'add' or 'mean'; got {aggr!r}.")
        self.in_features, self.out_features, self.aggr = int(in_features), int(out_features), aggr
        self.edge_network = edge_network
        self.root = nn.Linear(self.in_features, self.out_features, bias=False)
        self.bias = nn.Parameter(torch.zeros(self.out_features))

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        """``x`` (n_nodes, in), ``edge_index`` (2, E) rows (source j, target i), ``edge_attr`` (E, F_e)."""
        source, target = edge_index
        n_nodes = x.shape[0]
        # numpy's row-wise unique: torch.unique(dim=0) loops over rows on the CPU.
        rows, inverse = np.unique(edge_attr.detach().cpu().numpy(), axis=0, return_inverse=True)
        unique = torch.as_tensor(rows, dtype=edge_attr.dtype, device=edge_attr.device)
        kind = torch.as_tensor(inverse.reshape(-1), dtype=torch.long, device=edge_attr.device)
        if len(unique) <= MAX_EDGE_KINDS and not edge_attr.requires_grad:
            # Few distinct edge attributes (QM9: 4 bond types): h is evaluated once per kind and the
            # neighbours are summed per (node, kind) first: Σ_j h(e_ij) x_j = Σ_k h(k) Σ_{j: kind k} x_j.
            weight = self.edge_network(unique).view(len(unique), self.in_features, self.out_features)
            grouped = x.new_zeros(n_nodes * len(unique), self.in_features)
            grouped.index_add_(0, target * len(unique) + kind, x[source])
            aggregated = grouped.view(n_nodes, -1) @ weight.reshape(-1, self.out_features)
        else:
            weight = self.edge_network(edge_attr).view(-1, self.in_features, self.out_features)
            messages = torch.bmm(x[source].unsqueeze(1), weight).squeeze(1)
            aggregated = x.new_zeros(n_nodes, self.out_features).index_add_(0, target, messages)
        if self.aggr == "mean":
            count = x.new_zeros(x.shape[0]).index_add_(0, target, torch.ones_like(target, dtype=x.dtype))
            aggregated = aggregated / count.clamp_min(1).unsqueeze(-1)
        return self.root(x) + aggregated + self.bias


def packed_edges(X: torch.Tensor, n_edge_features: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The packed graphs as one disjoint graph: node mask (B·N,), ``edge_index`` (2, E), ``edge_attr``.

    Node ``i`` of graph ``b`` is node ``b·N + i``; an edge ``j → i`` is every
    non-zero adjacency entry between real nodes. Without edge features
    (``n_edge_features=0``) the edge attribute is the adjacency weight.
    """
    mask, adjacency, _ = unpack_graphs(X, n_edge_features)
    size = X.shape[1]
    present = (adjacency != 0) & (mask.unsqueeze(-1) * mask.unsqueeze(-2) > 0)
    graph, target, source = present.nonzero(as_tuple=True)
    if n_edge_features:
        attr = unpack_edge_features(X, n_edge_features)[graph, target, source]
    else:
        attr = adjacency[graph, target, source].unsqueeze(-1)
    edge_index = torch.stack([graph * size + source, graph * size + target])
    return mask.reshape(-1), edge_index, attr


class NNConvNet(nn.Module):
    r"""Omnigrok's QM9 network (public code): edge-conditioned convolutions, sum pooling, an MLP head.

    .. math:: H^{(l+1)} = \mathrm{ReLU}\big(\mathrm{NNConv}_l(H^{(l)}, E)\big),\qquad
              \hat y = W_o\,\mathrm{ReLU}\big(W_1 \textstyle\sum_i H^{(L)}_i + b_1\big) + b_o

    Each :class:`NNConv` has its own edge network ``Linear(F_e, edge_hidden)
    → ReLU → Linear(edge_hidden, in · out)``. The public code: two layers of
    32 and 16 units, edge networks of width 32, ``global_add_pool``, then
    FC 16 → 32 → 1 (``fc_channels=(32,)``).

    Parameters
    ----------
    n_features : int
    n_edge_features : int
        Edge features in the packed layout (0: the adjacency weight is the
        one edge feature).
    n_outputs : int, default=1
    hidden_channels : sequence of int, default=(32, 16)
    edge_hidden : int, default=32
    fc_channels : sequence of int, default=(32,)
        Hidden widths of the head after pooling (ReLU).
    readout : {"sum", "mean"}, default="sum"
        Pooling over the real nodes (``global_add_pool`` is "sum").
    aggr : {"add", "mean"}, default="add"

    Attributes
    ----------
    input_noise_std, graph_states
        As for :class:`GCNNet`.
    """

    def __init__(self, n_features: int, n_edge_features: int, n_outputs: int = 1,
                 hidden_channels: Sequence[int] = (32, 16), edge_hidden: int = 32,
                 fc_channels: Sequence[int] = (32,), readout: str = "sum", aggr: str = "add") -> None:
        super().__init__()
        if readout not in ("sum", "mean"):
            raise ValueError(f"readout must be 'sum' or 'mean'; got {readout!r}.")
        self.n_edge_features = int(n_edge_features)
        edge_in = max(self.n_edge_features, 1)
        widths = [int(n_features), *map(int, hidden_channels)]
        self.convs = nn.ModuleList(
            NNConv(widths[i], widths[i + 1],
                   nn.Sequential(nn.Linear(edge_in, int(edge_hidden)), nn.ReLU(),
                                 nn.Linear(int(edge_hidden), widths[i] * widths[i + 1])), aggr=aggr)
            for i in range(len(widths) - 1))
        self.graph_states = nn.ModuleList(nn.Identity() for _ in self.convs)
        head = [widths[-1], *map(int, fc_channels)]
        self.head = nn.ModuleList(nn.Linear(head[i], head[i + 1]) for i in range(len(head) - 1))
        self.fc = nn.Linear(head[-1], int(n_outputs))
        self.readout = readout
        self.input_noise_std = 0.0

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        mask, _, H = unpack_graphs(X, self.n_edge_features)
        batch, size = mask.shape
        node_mask, edge_index, edge_attr = packed_edges(X, self.n_edge_features)
        node_mask = node_mask.unsqueeze(-1)
        H = H.reshape(batch * size, -1)
        if noise_active(self.input_noise_std, self.training):
            H = H + self.input_noise_std * torch.randn_like(H) * node_mask
        n_nodes = mask.sum(dim=1, keepdim=True).clamp_min(1)
        for conv, state in zip(self.convs, self.graph_states, strict=True):
            H = torch.relu(conv(H, edge_index, edge_attr)) * node_mask
            state(H.reshape(batch, size, -1).sum(dim=1) / n_nodes)
        pooled = H.reshape(batch, size, -1).sum(dim=1)
        if self.readout == "mean":
            pooled = pooled / n_nodes
        for layer in self.head:
            pooled = torch.relu(layer(pooled))
        return self.fc(pooled)

    def hidden_modules(self) -> dict[str, nn.Module]:
        """Per-graph mean activation of each convolution (``conv1`` … ``convL``)."""
        return {f"conv{i + 1}": state for i, state in enumerate(self.graph_states)}
