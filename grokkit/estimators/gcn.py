"""Graph convolutional regressor that can grok: Omnigrok's QM9 setting (§4, Fig. 5; App. A)."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
import torch
from sklearn.utils._param_validation import StrOptions
from torch import nn

from grokkit.callbacks import SplitData
from grokkit.estimators.classifier import check_eval_set
from grokkit.estimators.params import Param, as_sizes, positive, sizes_constraint
from grokkit.estimators.regressor import GrokRegressor
from grokkit.models.gcn import GCNNet, NNConvNet, graph_edge_width, pack_graphs, unpack_graphs

#: Head widths after pooling when ``fc_channels=None``: Omnigrok's public code has FC 16 → 32 → 1.
DEFAULT_FC = {"gcn": (), "nnconv": (32,)}


def as_packed_graphs(X: Any, name: str = "X", n_edge_features: int = 0) -> tuple[np.ndarray, int]:
    """``X`` as the packed ``(n_graphs, N, 1 + N + N·n_edge_features + n_features)`` array, and its
    ``n_edge_features``.

    Accepts a sequence of graphs (``(adjacency, node_features[,
    edge_features])`` tuples or dicts, packed with
    :func:`grokkit.models.gcn.pack_graphs`; their edge features are counted)
    or an array already in that layout, read with ``n_edge_features``.
    """
    if isinstance(X, np.ndarray) and X.dtype != object or torch.is_tensor(X):
        packed = np.asarray(X.detach().cpu() if torch.is_tensor(X) else X, dtype=np.float32)
        if packed.ndim != 3 or packed.shape[2] < packed.shape[1] * (1 + n_edge_features) + 2:
            raise ValueError(
                f"{name} as an array must be packed graphs of shape (n_graphs, N, 1 + N + "
                f"N·{n_edge_features} + n_features) with n_features >= 1; got shape {packed.shape}. Pass a "
                "list of (adjacency, node_features) pairs instead."
            )
        if not np.isin(packed[..., 0], (0.0, 1.0)).all():
            raise ValueError(f"{name}[..., 0] is the node mask and must hold only 0 and 1.")
        if not np.isfinite(packed).all():
            raise ValueError(f"{name} contains NaN or infinity.")
        return packed, n_edge_features
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
        raise TypeError(f"{name} must be a list of (adjacency, node_features) graphs or a packed array; "
                        f"got {type(X).__name__}.")
    graphs = list(X)
    packed = pack_graphs(graphs)
    return packed, graph_edge_width(graphs)


class GrokGCNRegressor(GrokRegressor):
    __doc__ = """Graph convolutional network regressor (Omnigrok §4, Fig. 5d: QM9 polarizability).

    Two architectures, in plain PyTorch, MSE:

    * ``conv="gcn"``: graph convolutions :math:`H' = \\mathrm{ReLU}(\\hat A H W + b)`
      with Kipf & Welling's normalised adjacency, pooling over the nodes, a
      linear readout (:class:`grokkit.models.gcn.GCNNet`);
    * ``conv="nnconv"``: Gilmer et al.'s edge-conditioned convolutions
      :math:`x_i' = \\Theta x_i + \\sum_j h_\\Theta(e_{ij}) x_j + b`
      (:class:`grokkit.models.gcn.NNConvNet`), Omnigrok's public code: two
      layers of 32 and 16 units, edge networks of width ``edge_hidden``, sum
      pooling, FC 16 → 32 → 1.

    **Input.** ``X`` is a list of graphs, each a pair ``(adjacency,
    node_features)``, a triple ``(adjacency, node_features,
    edge_features)`` (what :func:`grokkit.datasets.load_qm9` returns) or a
    dict with those keys: a symmetric (n_i, n_i) matrix of edge weights, an
    (n_i, n_features) matrix and an (n_i, n_i, n_edge_features) array.
    ``fit`` packs them into one dense array
    (:func:`grokkit.models.gcn.pack_graphs`), padded to the largest graph, so
    that the training loop slices minibatches of graphs of different sizes
    as ``X[idx]``; an array already in that layout is accepted too (at fit
    it is read as carrying no edge features: pass a list for those). Graphs
    may have any number of nodes at predict time; the numbers of node and
    edge features must match the fit. The GCN reads the adjacency only; the
    NNConv reads the edge features, or the adjacency weight when there are
    none.

    Omnigrok's Fig. 5d compares ``alpha=3`` with ``alpha=1``, both with
    weight decay 0, on QM9 (public code: 100 molecules split 50/50, AdamW lr
    1e-3, batch 32, edge-conditioned convolutions of 32 and 16 units; the
    paper: Adam lr 1e-3, 2 convolutions, 200 training samples).

    Regression has no accuracy of its own; as for
    :class:`~grokkit.estimators.mlp.GrokMLPRegressor`, a sample counts as
    correct when its squared error is below ``accuracy_threshold``.

    Parameters
    ----------

    Attributes
    ----------
    n_features_in_ : int
        Node features per node.
    n_edge_features_in_ : int
        Edge features per edge (0: none).
    n_outputs_ : int
    module_ : grokkit.models.gcn.GCNNet or grokkit.models.gcn.NNConvNet
    progress_, history_, n_steps_, diverged_
        As for :class:`GrokMLPClassifier`.

    Examples
    --------
    >>> from grokkit.datasets.molecules import make_molecular_graphs
    >>> graphs, y = make_molecular_graphs(n_graphs=40, random_state=0)
    >>> reg = GrokGCNRegressor(max_epochs=3, random_state=0).fit(graphs, (y - y.mean()) / y.std())
    >>> reg.predict(graphs[:5]).shape
    (5,)
    """

    _docs = {
        "accuracy_threshold": """        Per-sample MSE below which a prediction counts as correct (scale it
        with the target; 0.01 suits standardised targets).""",
        "measures": """        Names from :func:`grokkit.measures.available_measures`, ``(name,
        params)`` pairs, or callables ``f(module, X, y) -> float | dict``.
        Each becomes one or more ``progress_`` columns.
        The hidden activations are each convolution's node states averaged
        over each graph's real nodes (``activation_sparsity/conv1`` ...).
        ``circuit_complexity`` compares softmax distributions and means
        nothing for one regression output.""",
    }
    _params = {
        "conv": Param("gcn", (StrOptions({"gcn", "nnconv"}),), doc="""{"gcn", "nnconv"}
        The convolution (see above)."""),
        "hidden_channels": Param((32, 16), (sizes_constraint(allow_empty=False),), doc="""sequence of int"""),
        "readout": Param("sum", (StrOptions({"sum", "mean"}),), doc="""{"sum", "mean"}
        Pooling of the node states before the head."""),
        "fc_channels": Param(None, (None, sizes_constraint(allow_empty=True)), doc="""sequence of int or None
        Hidden widths of the head after pooling (ReLU); None: the
        architecture's own, ``()`` for the GCN (linear readout) and ``(32,)``
        for the NNConv network (the public code's FC 16 → 32 → 1)."""),
        "edge_hidden": Param(32, (positive(Integral),), doc="""int
        Width of each NNConv's edge network (``conv="nnconv"`` only)."""),
        "aggr": Param("add", (StrOptions({"add", "mean"}),), doc="""{"add", "mean"}
        NNConv's neighbourhood aggregation (PyTorch Geometric's default is
        "add"; ``conv="nnconv"`` only)."""),
    }
    _defaults = {"accuracy_threshold": 0.01, "weight_decay": 0.0, "batch_size": 32, "max_epochs": 3000}

    def build_module(self) -> nn.Module:
        fc = DEFAULT_FC[self.conv] if self.fc_channels is None else as_sizes(self.fc_channels)
        hidden = as_sizes(self.hidden_channels)
        if self.conv == "nnconv":
            return NNConvNet(self.n_features_in_, self.n_edge_features_in_, self.n_outputs_, hidden,
                             edge_hidden=self.edge_hidden, fc_channels=fc, readout=self.readout,
                             aggr=self.aggr)
        if fc:
            raise ValueError(f"fc_channels={self.fc_channels!r}: the GCN (conv='gcn') has a linear readout; "
                             "pass fc_channels=None or () or choose conv='nnconv'.")
        return GCNNet(self.n_features_in_, self.n_outputs_, hidden, self.readout,
                      n_edge_features=self.n_edge_features_in_)

    # ------------------------------------------------------------------ inputs
    def _packed(self, X: Any, name: str, reset: bool) -> np.ndarray:
        packed, n_edge = as_packed_graphs(X, name, 0 if reset else self.n_edge_features_in_)
        size = packed.shape[1]
        n_features = packed.shape[2] - 1 - size - size * n_edge
        if reset:
            self.n_features_in_ = n_features
            self.n_edge_features_in_ = n_edge
        elif n_edge != self.n_edge_features_in_:
            raise ValueError(f"{name} has {n_edge} edge features per edge, but "
                             f"{type(self).__name__} was fitted with {self.n_edge_features_in_}.")
        elif n_features != self.n_features_in_:
            raise ValueError(f"{name} has {n_features} node features per node, but "
                             f"{type(self).__name__} was fitted with {self.n_features_in_}.")
        return packed

    def _targets(self, y: Any, n: int, name: str) -> np.ndarray:
        y = np.asarray(y, dtype=np.float32)
        if y.ndim == 0 or y.ndim > 2 or len(y) != n:
            raise ValueError(f"{name} must have one row per graph ({n}); got shape {y.shape}.")
        if not np.isfinite(y).all():
            raise ValueError(f"{name} contains NaN or infinity.")
        return y.reshape(n, -1)

    def _encode_train(self, X: Any, y: Any, reset: bool = True) -> SplitData:
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        packed = self._packed(X, "X", reset)
        y_is_1d = np.ndim(y) == 1
        y = self._targets(y, len(packed), "y")
        if reset:
            self._y_is_1d = y_is_1d
            self.n_outputs_ = y.shape[1]
        elif y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {y.shape[1]} outputs; the first fit had {self.n_outputs_}.")
        return self._split(packed, y)

    def _encode_eval(self, eval_set: Any) -> SplitData | None:
        if eval_set is None:
            return None
        X, y = check_eval_set(eval_set)
        packed = self._packed(X, "eval_set X_test", reset=False)
        y = self._targets(y, len(packed), "eval_set y_test")
        if y.shape[1] != self.n_outputs_:
            raise ValueError(f"eval_set y_test has {y.shape[1]} outputs; y had {self.n_outputs_}.")
        return self._split(packed, y)

    def _mi_input(self, X: torch.Tensor) -> torch.Tensor:
        """Each graph as its summed node features and its edge count (size-independent)."""
        mask, adjacency, features = unpack_graphs(X, self.n_edge_features_in_)
        summary = torch.cat([features.sum(dim=1), adjacency.sum(dim=(1, 2))[:, None] / 2,
                             mask.sum(dim=1, keepdim=True)], dim=1)
        return summary.to(self.module_dtype_)

    def _validate_predict_inputs(self, X: Any) -> Any:
        return self._packed(X, "X", reset=False)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags
