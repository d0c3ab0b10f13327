"""The one-hot MLP of Clauw et al. (§3) for modular arithmetic, with a gathered first layer."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from grokkit._validation import check_number
from grokkit.datasets.modular import validate_pairs
from grokkit.models._inputs import noise_active
from grokkit.models.mlp import make_activation
from grokkit.models.transformer import check_pairs


def onehot_pairs(X: Any, p: int, dtype: Any = None) -> Any:
    """The concatenated one-hot encoding ``onehot(a) ‖ onehot(b)`` of integer pairs.

    Parameters
    ----------
    X : array-like or Tensor of int, shape (n_samples, 2)
        Pairs ``(a, b)`` with entries in ``[0, p)``.
    p : int
        Modulus (at least 2).
    dtype : numpy or torch dtype, optional
        ``float32`` by default.

    Returns
    -------
    ndarray or Tensor, shape (n_samples, 2p)
        Row ``i`` has ones at columns ``a_i`` and ``p + b_i``; a Tensor (on
        ``X``'s device) when ``X`` is one, a numpy array otherwise. Feeding it
        to a ``Linear(2p, h)`` is what :class:`OneHotPairMLP` computes by
        gathering.

    Examples
    --------
    >>> onehot_pairs([[0, 2]], p=3).tolist()
    [[1.0, 0.0, 0.0, 0.0, 0.0, 1.0]]
    """
    check_number("p", p, low=2, integer=True)
    p = int(p)
    if torch.is_tensor(X):
        pairs = check_pairs(X, p, 2)
        out = torch.zeros(len(pairs), 2 * p, dtype=dtype or torch.float32, device=pairs.device)
        return out.scatter_(1, pairs + pairs.new_tensor([0, p]), 1)
    pairs = validate_pairs(X, p)
    out = np.zeros((len(pairs), 2 * p), dtype=dtype or np.float32)
    rows = np.arange(len(pairs))
    out[rows, pairs[:, 0]] = 1
    out[rows, p + pairs[:, 1]] = 1
    return out


def onehot_inputs(module: nn.Module, X: Any) -> Any:
    """The integer pairs ``X`` as the float rows ``onehot(a) ‖ onehot(b)`` that ``module`` reads.

    ``module`` is a one-hot pair MLP (:class:`OneHotPairMLP`, or any module whose
    first layer ``fc1`` is a ``Linear(2p, h)``); ``p`` is read from ``fc1``'s
    weight and the rows take its dtype. A measure that perturbs inputs (Tan &
    Huang's PMI, PE, MID, ED) needs these float rows, not the integer pairs.
    """
    weight = getattr(getattr(module, "fc1", None), "weight", None)
    if not torch.is_tensor(weight) or weight.ndim != 2 or weight.shape[1] % 2:
        raise TypeError(f"module must have an fc1 layer of 2p inputs (a one-hot pair MLP); got "
                        f"{type(module).__name__}.")
    return onehot_pairs(X, weight.shape[1] // 2, dtype=weight.dtype)


class OneHotPairLinear(nn.Linear):
    r"""``Linear(2p, out_features)`` on ``onehot(a) ‖ onehot(b)``, computed by gathering.

    The weight has the shape and initialisation of ``nn.Linear(2p, h)``,
    (h, 2p), so weight norms and entropies equal those of the explicit
    one-hot model. For integer pairs the output is

    .. math:: W[:, a] + W[:, p + b] \;(+\, \text{bias}),

    two ``index_select`` row look-ups in a contiguous copy of :math:`W^\top`
    (the fastest of index_select, embedding and embedding_bag for forward +
    backward at Clauw's size on CPU, about 2.5× faster than the one-hot
    matmul; see ``benchmarks/bench_onehot_first_layer.py``), equal to the
    matmul up to float rounding. A floating input of shape (n, 2p) — one-hot or perturbed
    vectors — goes through the plain matmul.

    Attributes
    ----------
    input_noise_std : float
        σ of Gaussian noise :math:`\mathcal N(0, \sigma^2)` added to every
        entry of the ``2p``-dimensional input in training mode only (0: none).
        For pairs it is added as ``noise @ W.T`` after the gather, the same
        effect as perturbing the one-hot vector before the matmul.
    """

    def __init__(self, p: int, out_features: int, bias: bool = True) -> None:
        super().__init__(2 * p, out_features, bias=bias)
        self.p = p
        self.input_noise_std = 0.0

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        noisy = noise_active(self.input_noise_std, self.training)
        if torch.is_tensor(X) and X.is_floating_point():
            if noisy:
                X = X + self.input_noise_std * torch.randn_like(X)
            return F.linear(X, self.weight, self.bias)
        pairs = check_pairs(X, self.p, 2)
        rows = self.weight.t().contiguous()
        out = rows.index_select(0, pairs[:, 0]) + rows.index_select(0, pairs[:, 1] + self.p)
        if self.bias is not None:
            out = out + self.bias
        if noisy:
            noise = self.input_noise_std * torch.randn(
                len(pairs), 2 * self.p, dtype=rows.dtype, device=rows.device
            )
            out = out + noise @ rows
        return out


class OneHotPairMLP(nn.Sequential):
    """MLP on one-hot encoded pairs ``(a, b)``: Clauw et al.'s modular-addition network.

    Clauw et al. (§3 and their public code) feed ``onehot(a) ‖ onehot(b)``
    (``2p`` inputs, p = 97) to one hidden layer of 250 ReLU units without
    biases and a linear read-out to ``p`` logits. The inputs here are the
    integer pairs themselves, a LongTensor of shape (n, 2); the first layer
    ``fc1`` (a :class:`OneHotPairLinear`, weight of shape (h, 2p) exactly as
    ``nn.Linear(2p, h)``) gathers the two weight columns instead of
    multiplying by the one-hot matrix, which gives the same outputs and
    gradients up to float rounding, faster. A float (n, 2p) input (e.g.
    :func:`onehot_pairs` of the pairs, or a perturbed version) is also accepted.

    Layers are named as in :class:`~grokkit.models.MLP`: ``fc1 … fcK`` and the
    hidden nonlinearities ``act1 … act(K-1)`` (and ``dropout1 …``). Every
    layer uses PyTorch's default ``nn.Linear`` initialisation; Omnigrok's α
    scales it afterwards.

    Parameters
    ----------
    p : int
        Modulus: operands in ``[0, p)`` and ``p`` output logits.
    hidden_layer_sizes : sequence of int, default=(250,)
    activation : {"relu", "tanh", "leaky_relu", "gelu"}, default="relu"
    bias : bool, default=False
        Biases in every layer; Clauw et al.'s network has none.
    zero_last : bool, default=False
        Start the last layer at zero (Clauw et al. do this for α = 8).
    dropout : float, default=0.0
        Dropout probability after every hidden activation.

    Attributes
    ----------
    input_noise_std : float
        Input noise σ (standard deviation) of Tan & Huang's degrokking
        strategy (§3.2), added to the
        ``2p``-dimensional one-hot input in training mode only (0 by default);
        stored on ``fc1``.

    Examples
    --------
    >>> model = OneHotPairMLP(p=5, hidden_layer_sizes=(8,))
    >>> model(torch.tensor([[1, 2], [4, 0]])).shape
    torch.Size([2, 5])
    """

    def __init__(
        self,
        p: int,
        hidden_layer_sizes: Sequence[int] = (250,),
        activation: str = "relu",
        bias: bool = False,
        zero_last: bool = False,
        dropout: float = 0.0,
    ) -> None:
        check_number("p", p, low=2, integer=True)
        if not isinstance(hidden_layer_sizes, Sequence):
            raise TypeError(
                "hidden_layer_sizes must be a sequence of ints such as (250,); got "
                f"{hidden_layer_sizes!r}."
            )
        for width in hidden_layer_sizes:
            check_number("hidden_layer_sizes", width, low=1, integer=True)
        check_number("dropout", dropout, low=0, high=1, high_inclusive=False)
        p = int(p)
        widths = [*map(int, hidden_layer_sizes), p]
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["fc1"] = OneHotPairLinear(p, widths[0], bias=bias)
        for i in range(1, len(widths)):
            layers[f"act{i}"] = make_activation(activation)
            if dropout > 0:
                layers[f"dropout{i}"] = nn.Dropout(dropout)
            layers[f"fc{i + 1}"] = nn.Linear(widths[i - 1], widths[i], bias=bias)
        super().__init__(layers)
        self.p = p
        if zero_last:
            last = layers[f"fc{len(widths)}"]
            with torch.no_grad():
                last.weight.zero_()
                if last.bias is not None:
                    last.bias.zero_()

    @property
    def input_noise_std(self) -> float:
        return self.fc1.input_noise_std

    @input_noise_std.setter
    def input_noise_std(self, value: float | torch.Tensor) -> None:
        # a stacked sweep sets a tensor of per-run stds inside vmap, where float() cannot run
        self.fc1.input_noise_std = value if torch.is_tensor(value) else float(value)

    def token_embeddings(self) -> torch.Tensor:
        r"""The embedding of each residue: its two first-layer columns side by side, shape (p, 2h).

        The first layer maps ``(a, b)`` to :math:`W_{:, a} + W_{:, p+b}`, so
        residue ``x`` has an embedding as operand ``a`` (column ``x``) and one
        as operand ``b`` (column ``p + x``). Row ``x`` here is the
        concatenation :math:`[W_{:, x}; W_{:, p+x}]`: a Fourier spectrum of it
        is the root of the sum of the two blocks' squared spectra, so a
        frequency counts if either operand uses it, and neither block is
        dropped. A view of ``fc1.weight`` (same device, dtype, graph).
        """
        weight = self.fc1.weight
        return torch.cat([weight[:, : self.p].t(), weight[:, self.p:].t()], dim=1)

    def hidden_modules(self) -> dict[str, nn.Module]:
        """The modules whose outputs are the hidden activations, by name."""
        return {name: m for name, m in self.named_children() if name.startswith("act")}
