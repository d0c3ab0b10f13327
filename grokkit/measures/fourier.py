r"""Nanda et al.'s Fourier view of modular addition: spectra, key frequencies, restricted and excluded loss.

Nanda, Chan, Lieberum, Smith & Steinhardt, *Progress measures for grokking via
mechanistic interpretability* (ICLR 2023), reverse-engineer the one-layer
transformer trained on ``a + b mod p``: it embeds each token as cos/sin of a
few *key frequencies* :math:`w_k = 2\pi k/p` (§4.1, Fig. 3), combines them
with trigonometric identities and reads out
:math:`\sum_k \alpha_k \cos(w_k(a + b - c))` as the logit of ``c``. Their
progress measures (§5.1, Figs 6–7) remove or keep exactly those directions of
the logits:

* the **restricted loss** keeps, for each class ``c``, only the components of
  the logits along :math:`\cos(w_k(a+b))` and :math:`\sin(w_k(a+b))` for the
  key frequencies (plus the per-class mean), which is the span that holds
  :math:`\cos(w_k(a+b-c))`; it falls before the test loss does;
* the **excluded loss** removes those components and is evaluated on the
  training pairs; it rises during *circuit formation*, while train and test
  loss stay flat.

For ``operation="subtract"`` the same holds with :math:`a - b` in place of
:math:`a + b`. Other operations have no such circuit, and every function here
refuses them with a ``ValueError`` naming ``operation``.

The embedding is read through one protocol: a module defines
``token_embeddings() -> Tensor`` of shape (p, d), the embedding of each residue
(:meth:`ModularTransformerNet.token_embeddings
<grokkit.models.ModularTransformerNet.token_embeddings>`: the rows of ``W_E``;
:meth:`OneHotPairMLP.token_embeddings
<grokkit.models.OneHotPairMLP.token_embeddings>`: the first layer's ``a`` and
``b`` columns side by side). The losses only run the module's forward on
integer pairs. Everything is computed in float64 on the module's device; the
module's parameters, training flag and hooks are left as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from grokkit._validation import check_number, check_options
from grokkit.datasets.modular import (
    all_pairs,
    check_modulus,
    modular_targets,
    resolve_operation,
    validate_pairs,
)
from grokkit.measures._capture import as_module_tensor, evaluation, module_device
from grokkit.measures.group_laws import _logit_table
from grokkit.measures.registry import measure

#: Operations whose model the Fourier circuit describes, and the sign of ``b``
#: in the summed index ``s = a ± b`` of the circuit's directions.
FOURIER_OPERATIONS: dict[str, int] = {"add": 1, "subtract": -1}
#: Which pairs a loss is averaged over.
LOSS_PAIRS = ("all", "train", "test")
#: Default share of the embedding's (non-constant) squared Fourier norm that
#: :func:`key_frequencies` must account for.
KEY_FRACTION = 0.9


# ---------------------------------------------------------------- the basis
def fourier_basis(p: int) -> np.ndarray:
    r"""The orthonormal real Fourier basis of :math:`\mathbb Z_p`, one basis vector per row.

    .. math::
        f_0(x) = \frac{1}{\sqrt p}, \quad
        f_{2k-1}(x) = \sqrt{\tfrac{2}{p}}\cos(w_k x), \quad
        f_{2k}(x) = \sqrt{\tfrac{2}{p}}\sin(w_k x), \quad w_k = \frac{2\pi k}{p},

    for :math:`k = 1, \dots, \lfloor (p-1)/2 \rfloor` (Nanda et al. §4 and
    their notebook's ``fourier_basis``). For an even ``p`` the last row is the
    Nyquist term :math:`\cos(\pi x)/\sqrt p`, so the matrix is square and
    orthogonal for every ``p``; the papers use a prime ``p``, where it does not
    occur.

    Parameters
    ----------
    p : int
        Modulus, at least 2.

    Returns
    -------
    ndarray of float64, shape (p, p)
        ``B`` with ``B @ B.T = I``; ``B @ v`` are the Fourier coefficients of a
        function ``v`` on :math:`\mathbb Z_p`. Row names: :func:`fourier_basis_names`.

    Examples
    --------
    >>> B = fourier_basis(5)
    >>> bool(np.allclose(B @ B.T, np.eye(5)))
    True
    """
    check_number("p", p, low=2, integer=True)
    p = int(p)
    x = np.arange(p)
    rows = [np.full(p, 1 / np.sqrt(p))]
    for k in range(1, (p - 1) // 2 + 1):
        angle = 2 * np.pi * k * x / p
        rows += [np.sqrt(2 / p) * np.cos(angle), np.sqrt(2 / p) * np.sin(angle)]
    if p % 2 == 0:
        rows.append(np.cos(np.pi * x) / np.sqrt(p))
    return np.stack(rows)


def fourier_basis_names(p: int) -> list[str]:
    """Names of the rows of :func:`fourier_basis`: ``"const"``, ``"cos 1"``, ``"sin 1"``, ...

    Examples
    --------
    >>> fourier_basis_names(5)
    ['const', 'cos 1', 'sin 1', 'cos 2', 'sin 2']
    """
    check_number("p", p, low=2, integer=True)
    names = ["const"]
    for k in range(1, (int(p) - 1) // 2 + 1):
        names += [f"cos {k}", f"sin {k}"]
    if p % 2 == 0:
        names.append(f"cos {int(p) // 2}")
    return names


def basis_frequencies(p: int) -> np.ndarray:
    """The frequency ``k`` of each row of :func:`fourier_basis` (0 for the constant), int64 (p,)."""
    check_number("p", p, low=2, integer=True)
    p = int(p)
    rows = [0] + [k for k in range(1, (p - 1) // 2 + 1) for _ in range(2)]
    if p % 2 == 0:
        rows.append(p // 2)
    return np.asarray(rows, dtype=np.int64)


# ------------------------------------------------------------------ helpers
def _check_task(p: Any, operation: Any) -> tuple[int, str]:
    operation = resolve_operation(operation)
    if operation not in FOURIER_OPERATIONS:
        raise ValueError(
            f"operation={operation!r} has no Fourier circuit: the Fourier measures describe models "
            f"of a ± b mod p, so operation must be one of {', '.join(map(repr, FOURIER_OPERATIONS))}."
        )
    return check_modulus(p, operation), operation


def _basis(p: int, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(fourier_basis(p), dtype=torch.float64, device=device)


def _token_embeddings(module: nn.Module, p: int) -> torch.Tensor:
    method = getattr(module, "token_embeddings", None)
    if not callable(method):
        raise TypeError(
            f"module must define token_embeddings() -> Tensor of shape (p, d), the embedding of each "
            f"residue (grokkit's ModularTransformerNet and OneHotPairMLP do); {type(module).__name__} "
            "does not."
        )
    with torch.no_grad():
        embeddings = method()
    if not torch.is_tensor(embeddings) or embeddings.dim() != 2 or embeddings.shape[0] != p:
        shape = tuple(embeddings.shape) if torch.is_tensor(embeddings) else type(embeddings).__name__
        raise ValueError(
            f"token_embeddings() must return a Tensor of shape (p, d) = ({p}, d); got {shape}. Check p."
        )
    return embeddings.detach().to(torch.float64)


def _frequency_norms(module: nn.Module, p: int) -> torch.Tensor:
    """Norm of the embedding in each frequency k = 0..p//2, float64 tensor (p//2 + 1,)."""
    embeddings = _token_embeddings(module, p)
    coefficients = _basis(p, embeddings.device) @ embeddings
    squared = coefficients.pow(2).sum(dim=1)
    rows = torch.as_tensor(basis_frequencies(p), device=squared.device)
    per_frequency = torch.zeros(p // 2 + 1, dtype=torch.float64, device=squared.device)
    return per_frequency.index_add_(0, rows, squared).sqrt()


def _choose_key_frequencies(norms: np.ndarray, fraction: float) -> list[int]:
    squared = np.asarray(norms, dtype=np.float64)[1:] ** 2
    total = squared.sum()
    if total == 0:
        return []
    order = np.argsort(-squared, kind="stable")
    held = np.cumsum(squared[order]) / total
    # The relative slack absorbs rounding in the sum, so that exactly `fraction` counts as reached.
    count = int(np.searchsorted(held, fraction * (1 - 1e-12))) + 1
    return sorted(int(k) + 1 for k in order[: min(count, len(order))])


def _check_fraction(fraction: Any) -> float:
    check_number("fraction", fraction, low=0, high=1, low_inclusive=False)
    return float(fraction)


def _check_frequencies(frequencies: Any, p: int) -> list[int]:
    if isinstance(frequencies, (str, bytes)) or not isinstance(frequencies, (Sequence, np.ndarray)):
        raise TypeError(
            f"frequencies must be a sequence of ints in [1, {p // 2}] (or None for the key "
            f"frequencies); got {frequencies!r}."
        )
    checked = []
    for k in frequencies:
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"frequencies must hold ints; got {k!r} of type {type(k).__name__}.")
        if not 1 <= int(k) <= p // 2:
            raise ValueError(f"frequencies must be in [1, p // 2] = [1, {p // 2}]; got {int(k)}.")
        checked.append(int(k))
    if len(set(checked)) != len(checked):
        raise ValueError(f"frequencies must not repeat a frequency; got {list(frequencies)!r}.")
    return sorted(checked)


def _summed_index(pairs: torch.Tensor, p: int, operation: str) -> torch.Tensor:
    return (pairs[:, 0] + FOURIER_OPERATIONS[operation] * pairs[:, 1]) % p


def _all_logits(module: nn.Module, p: int, evaluated: Any, batch_size: int) -> torch.Tensor:
    """The logits of every pair as a (p, p, p) float64 table [a, b, c], reusing ``evaluated``."""
    known = _logit_table(evaluated, p)
    if known is not None and bool(known[1].all()):
        return known[0].double()
    pairs = as_module_tensor(all_pairs(p, "add"), module)
    with evaluation(module):
        parts = []
        for chunk in torch.split(pairs, batch_size):
            logits = module(chunk)
            if logits.shape != (len(chunk), p):
                raise ValueError(
                    f"The module must map pairs (n, 2) to logits (n, p) = (n, {p}); it returned shape "
                    f"{tuple(logits.shape)}. Check p."
                )
            parts.append(logits.double())
    return torch.cat(parts).reshape(p, p, p)


def _loss_pairs(on: str, p: int, operation: str, X: Any, y: Any, device: torch.device
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """The pairs and targets a loss is averaged over (``on`` = all, train or test pairs)."""
    check_options("on", on, LOSS_PAIRS)
    every = all_pairs(p, operation)
    if on == "all":
        pairs = every
    else:
        if X is None:
            raise ValueError(f"on={on!r} needs the training pairs X; pass X (and y) or on='all'.")
        train = validate_pairs(X, p, name="X")
        if on == "train":
            pairs = train
        else:
            seen = np.zeros((p, p), dtype=bool)
            seen[train[:, 0], train[:, 1]] = True
            pairs = every[~seen[every[:, 0], every[:, 1]]]
            if len(pairs) == 0:
                raise ValueError("on='test' found no pair outside X: X holds every pair.")
    targets = modular_targets(pairs, p, operation)
    if on == "train" and y is not None:
        given = np.asarray(y.detach().cpu() if torch.is_tensor(y) else y).astype(np.int64)
        if given.shape != targets.shape:
            raise ValueError(
                f"y must have one label per pair of X ({len(targets)}); got shape {given.shape}."
            )
        targets = given
    return (torch.as_tensor(pairs, device=device), torch.as_tensor(targets, device=device))


def _circuit_components(logits: torch.Tensor, p: int, operation: str, rows: np.ndarray) -> torch.Tensor:
    r"""For each class, the projection of the logits onto the directions ``f_i(a ± b)``, i in ``rows``.

    Returns a (p, p) table [s, c]: the projection depends on (a, b) only via
    :math:`s = a \pm b \bmod p`. With :math:`G_{sc} = \sum_{a \pm b = s} L_{abc}`
    and basis :math:`B`, the unit direction of row ``i`` over the :math:`p^2`
    pairs is :math:`B_{i, s(a,b)}/\sqrt p`, so the projection is
    :math:`\frac1p \sum_i B_{is} (BG)_{ic}`.
    """
    device = logits.device
    pairs = torch.as_tensor(all_pairs(p, "add"), device=device)
    summed = torch.zeros(p, p, dtype=torch.float64, device=device)
    summed.index_add_(0, _summed_index(pairs, p, operation), logits.reshape(p * p, p))
    basis = _basis(p, device)[torch.as_tensor(rows, dtype=torch.long, device=device)]
    return basis.t() @ (basis @ summed) / p


def _rows_of(frequencies: Sequence[int], p: int, constant: bool) -> np.ndarray:
    wanted = set(frequencies) | ({0} if constant else set())
    return np.flatnonzero(np.isin(basis_frequencies(p), sorted(wanted)))


def _cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    return float(F.cross_entropy(logits, targets.to(logits.device)))


# ----------------------------------------------------------------- measures
@measure(task_keys=("p", "operation"))
def embedding_fourier_norms(module: nn.Module, p: int, operation: str = "add") -> dict[str, float]:
    r"""The norm of the token embedding in each frequency: Nanda et al.'s Fig. 3a spectrum.

    With :math:`E \in \mathbb R^{p \times d}` the embedding of each residue
    (``module.token_embeddings()``) and :math:`B` the :func:`fourier_basis`,

    .. math:: \lVert E\rVert_k = \Big(\sum_{i : k(i) = k} \lVert (BE)_{i,:}\rVert_2^2\Big)^{1/2},

    the root of the squared norms of the cos and sin components of frequency
    ``k`` (the constant alone for ``k = 0``). Since :math:`B` is orthogonal,
    :math:`\sum_k \lVert E\rVert_k^2 = \lVert E\rVert_F^2`. Units are those of
    the weights. A trained model is sparse: a handful of key frequencies carry
    almost all of it (Nanda et al. §4.1: six non-zero frequencies, five of them
    used, for their p = 113 model).

    Parameters
    ----------
    module : nn.Module
        Defines ``token_embeddings() -> Tensor (p, d)``.
    p : int
        Modulus.
    operation : {"add", "subtract"}, default="add"

    Returns
    -------
    dict of str to float
        ``{"0": ..., "1": ..., ..., str(p // 2): ...}``, recorded as columns
        ``embedding_fourier_norms/k``.

    Examples
    --------
    >>> from grokkit.models import ModularTransformerNet
    >>> norms = embedding_fourier_norms(ModularTransformerNet(p=7, d_model=8, n_heads=2, d_mlp=8), p=7)
    >>> sorted(norms)
    ['0', '1', '2', '3']
    """
    p, _ = _check_task(p, operation)
    norms = _frequency_norms(module, p).cpu().numpy()
    return {str(k): float(value) for k, value in enumerate(norms)}


def key_frequencies(
    module: nn.Module, p: int, operation: str = "add", *, fraction: float = KEY_FRACTION
) -> list[int]:
    r"""The frequencies that carry the embedding: the fewest holding ``fraction`` of its squared norm.

    The non-constant frequencies are ranked by :math:`\lVert E\rVert_k^2`
    (:func:`embedding_fourier_norms`) and the smallest top set :math:`K` with

    .. math:: \sum_{k \in K} \lVert E\rVert_k^2 \;\ge\;
              \text{fraction} \cdot \sum_{k \ge 1} \lVert E\rVert_k^2

    is returned. Nanda et al. pick their key frequencies by hand from the
    neurons (§4.2; five for their mainline p = 113 run); this rule reads the
    embedding alone, so it applies to any model with ``token_embeddings()``.
    An untrained (random) embedding spreads its norm over all frequencies and
    gets most of them.

    Parameters
    ----------
    module, p, operation
        As in :func:`embedding_fourier_norms`.
    fraction : float in (0, 1], default=0.9
        Share of the non-constant squared norm the key frequencies must hold.

    Returns
    -------
    list of int
        Sorted frequencies in ``1 .. p // 2``; empty for a zero embedding.
    """
    p, _ = _check_task(p, operation)
    fraction = _check_fraction(fraction)
    return _choose_key_frequencies(_frequency_norms(module, p).cpu().numpy(), fraction)


@measure(task_keys=("p", "operation"))
def n_key_frequencies(
    module: nn.Module, p: int, operation: str = "add", *, fraction: float = KEY_FRACTION
) -> float:
    """The number of :func:`key_frequencies` (same rule and parameters), as a float for ``progress_``."""
    return float(len(key_frequencies(module, p, operation, fraction=fraction)))


@measure(task_keys=("p", "operation"))
def fourier_gini(module: nn.Module, p: int, operation: str = "add") -> float:
    r"""Gini coefficient of the norms of the embedding's Fourier components (sparsity in the Fourier basis).

    Nanda et al. (§5.1 and App.) track how sparse the embedding is in the
    Fourier basis with the Gini coefficient of Hurley & Rickard (2009) of the
    norms :math:`c_i = \lVert (BE)_{i,:}\rVert_2` of the :math:`p` components
    (the bars of Fig. 3a). With :math:`c_{(1)} \le \dots \le c_{(N)}` sorted,

    .. math:: G = 1 - 2\sum_{j=1}^{N} \frac{c_{(j)}}{\lVert c\rVert_1}
              \cdot \frac{N - j + \tfrac12}{N}.

    :math:`G = 0` when every component has the same norm, and
    :math:`1 - 1/N` when one component holds everything. It rises during
    circuit formation and cleanup as the embedding concentrates on the key
    frequencies.

    Parameters
    ----------
    module, p, operation
        As in :func:`embedding_fourier_norms`.

    Returns
    -------
    float
        In [0, 1); 0 for a zero embedding.
    """
    p, _ = _check_task(p, operation)
    embeddings = _token_embeddings(module, p)
    norms = (_basis(p, embeddings.device) @ embeddings).norm(dim=1).cpu().numpy()
    return gini(norms)


def gini(values: Any) -> float:
    r"""Hurley & Rickard's Gini coefficient of non-negative ``values`` (see :func:`fourier_gini`).

    Examples
    --------
    >>> gini([1.0, 1.0, 1.0, 1.0]), gini([0.0, 0.0, 0.0, 2.0])
    (0.0, 0.75)
    """
    c = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if c.size == 0 or np.any(c < 0) or not np.all(np.isfinite(c)):
        raise ValueError(f"values must be a non-empty array of finite numbers ≥ 0; got {values!r}.")
    total = c.sum()
    if total == 0:
        return 0.0
    n = c.size
    j = np.arange(1, n + 1)
    return float(1 - 2 * np.sum(c / total * (n - j + 0.5) / n))


@measure(needs=("X", "y", "evaluated"), task_keys=("p", "operation"))
def restricted_loss(
    module: nn.Module,
    p: int,
    operation: str = "add",
    *,
    frequencies: Sequence[int] | None = None,
    fraction: float = KEY_FRACTION,
    on: str = "all",
    X: Any = None,
    y: Any = None,
    evaluated: Any = None,
    batch_size: int = 4096,
) -> float:
    r"""Cross-entropy of the logits restricted to the key frequencies (Nanda et al. §5.1, Fig. 7).

    Over all :math:`p^2` pairs, the logit of class ``c`` is a function
    :math:`L_c(a, b)`. The restricted logits keep only its components along the
    unit directions :math:`\cos(w_k s)` and :math:`\sin(w_k s)`,
    :math:`s = a + b` (``a − b`` for ``"subtract"``), for the key frequencies
    :math:`k \in K`, plus its mean (the notebook's "bias correction"):

    .. math:: \tilde L_c = \bar L_c + \sum_{k \in K}
              \big(\langle L_c, u_k\rangle u_k + \langle L_c, v_k\rangle v_k\big),
              \quad u_k \propto \cos(w_k s),\; v_k \propto \sin(w_k s),

    which keeps exactly the part of :math:`L` in the span of
    :math:`\cos(w_k(a + b - c))` and :math:`\sin(w_k(a + b - c))` for each
    ``c``, and the loss is the mean cross-entropy (nats) of
    :math:`\tilde L` on the chosen pairs. This is the ``trig_loss`` of the
    paper's notebook, plotted as "restricted loss" in Fig. 7 (on all pairs).
    Keeping every frequency gives the loss of the logits averaged over each
    line :math:`a + b = s`, which equals the full loss exactly when the logits
    depend on ``a`` and ``b`` only through ``a + b`` (a generalising model
    nearly does; a memorising one does not).

    Parameters
    ----------
    module : nn.Module
        Maps LongTensor pairs (n, 2) to logits (n, p); with ``frequencies=None``
        it must also define ``token_embeddings()``.
    p : int
        Modulus.
    operation : {"add", "subtract"}, default="add"
    frequencies : sequence of int in [1, p // 2], optional
        The key frequencies :math:`K`. Default: :func:`key_frequencies` of the
        module as it is now (with ``fraction``). Nanda et al. use the final
        model's key frequencies at every checkpoint; pass them here to do the
        same.
    fraction : float, default=0.9
        Passed to :func:`key_frequencies` when ``frequencies`` is None.
    on : {"all", "train", "test"}, default="all"
        Average over all pairs (the paper's Fig. 7), the training pairs ``X``
        or the others.
    X, y : array-like or Tensor, optional
        Training pairs and labels (the recorder passes them); needed for
        ``on="train"``/``"test"``. ``y`` defaults to ``a ∘ b mod p``.
    evaluated : sequence of (pairs, logits), optional
        Logits the caller already computed with the module in its current
        state; when they cover every pair no forward pass is run.
    batch_size : int, default=4096
        Rows per forward pass otherwise.

    Returns
    -------
    float
        Mean cross-entropy in nats; :math:`\log p` for constant logits.
    """
    p, operation = _check_task(p, operation)
    check_number("batch_size", batch_size, low=1, integer=True)
    if frequencies is None:
        frequencies = key_frequencies(module, p, operation, fraction=fraction)
    frequencies = _check_frequencies(frequencies, p)
    device = module_device(module)
    pairs, targets = _loss_pairs(on, p, operation, X, y, device)
    logits = _all_logits(module, p, evaluated, batch_size)
    kept = _circuit_components(logits, p, operation, _rows_of(frequencies, p, constant=True))
    pairs = pairs.to(kept.device)
    return _cross_entropy(kept[_summed_index(pairs, p, operation)], targets)


@measure(needs=("X", "y", "evaluated"), task_keys=("p", "operation"))
def excluded_loss(
    module: nn.Module,
    p: int,
    operation: str = "add",
    *,
    frequencies: Sequence[int] | None = None,
    fraction: float = KEY_FRACTION,
    on: str = "train",
    X: Any = None,
    y: Any = None,
    evaluated: Any = None,
    batch_size: int = 4096,
) -> float:
    r"""Cross-entropy on the training pairs after removing the key frequencies (Nanda et al. §5.1, Fig. 7).

    With the notation of :func:`restricted_loss`, the excluded logits are

    .. math:: \hat L_c = L_c - \sum_{k \in K}
              \big(\langle L_c, u_k\rangle u_k + \langle L_c, v_k\rangle v_k\big),

    the logits with their :math:`\cos(w_k(a + b - c))` and
    :math:`\sin(w_k(a + b - c))` parts for the key frequencies removed (the
    projections are taken over all :math:`p^2` pairs, for each class), and the
    loss is their mean cross-entropy (nats) on the training pairs, as the
    paper's ``excluded_loss_2D_full``. A memorising model keeps its low training
    loss without these directions; as the Fourier circuit forms the excluded
    loss rises (circuit formation, Fig. 7a) while train and test loss stay
    flat. For logits that are exactly :math:`\sum_{k\in K}\cos(w_k(a+b-c))`
    nothing is left and the excluded loss is :math:`\log p`.

    Parameters
    ----------
    module, p, operation, frequencies, fraction, X, y, evaluated, batch_size
        As in :func:`restricted_loss`.
    on : {"train", "all", "test"}, default="train"
        The training pairs ``X`` (the paper), all pairs, or the others.

    Returns
    -------
    float
        Mean cross-entropy in nats.
    """
    p, operation = _check_task(p, operation)
    check_number("batch_size", batch_size, low=1, integer=True)
    if frequencies is None:
        frequencies = key_frequencies(module, p, operation, fraction=fraction)
    frequencies = _check_frequencies(frequencies, p)
    device = module_device(module)
    pairs, targets = _loss_pairs(on, p, operation, X, y, device)
    logits = _all_logits(module, p, evaluated, batch_size)
    removed = _circuit_components(logits, p, operation, _rows_of(frequencies, p, constant=False))
    pairs = pairs.to(logits.device)
    kept = logits[pairs[:, 0], pairs[:, 1]] - removed[_summed_index(pairs, p, operation)]
    return _cross_entropy(kept, targets)
