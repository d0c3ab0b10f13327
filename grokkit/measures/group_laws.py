r"""Group-law tests of a model of ``a ∘ b mod p`` (Tan & Huang §5, Figs 9–11, 15–16).

A network that has learned addition mod p must also obey the laws of the
group :math:`(\mathbb Z_p, +)`: commutativity, the identity ``x + 0 = x``,
``x + x = 2x``, associativity. Tan & Huang find that standard training does
not learn even commutativity before the network groks — a *necessary*
condition for generalisation — while their input-noise training does.

Every function here takes a module mapping LongTensor pairs (n, 2) to logits
(n, p) — :class:`~grokkit.models.ModularTransformerNet`,
:class:`~grokkit.models.OneHotPairMLP` — with the modulus ``p`` and the
``operation`` the estimator trains on. None needs data or labels: the pairs
are built from ``p``. The module is run in evaluation mode without gradients
and in chunks of about ``batch_size`` rows; its parameters, training flag
and hooks are left as they were.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from grokkit._validation import check_number, check_options
from grokkit.datasets.modular import (
    check_modulus,
    modular_targets,
    resolve_operation,
    validate_pairs,
)
from grokkit.measures._capture import as_module_tensor, evaluation, hidden_modules, recording
from grokkit.measures.registry import measure

#: Operations of grokkit.datasets.modular that are commutative (and therefore
#: also satisfy ``(x ∘ x) ∘ x = x ∘ (x ∘ x)``).
COMMUTATIVE = ("add", "multiply", "x^2+y^2", "x^2+xy+y^2")
#: Identity element of each operation that has one, and the side(s) it acts on:
#: ``x - 0 = x`` but ``0 - x ≠ x``, ``x / 1 = x`` but ``1 / x ≠ x``.
IDENTITIES: dict[str, tuple[int, tuple[str, ...]]] = {
    "add": (0, ("right", "left")),
    "subtract": (0, ("right",)),
    "multiply": (1, ("right", "left")),
    "divide": (1, ("right",)),
}
SCORES = ("accuracy", "cross_entropy")


def _check_task(p: Any, operation: Any, batch_size: Any) -> tuple[int, str]:
    operation = resolve_operation(operation)
    p = check_modulus(p, operation)
    check_number("batch_size", batch_size, low=1, integer=True)
    return p, operation


def _require(operation: str, allowed: Iterable[str], law: str) -> None:
    allowed = tuple(allowed)
    if operation not in allowed:
        raise ValueError(
            f"operation={operation!r} does not satisfy the {law} law, so {law} is not a "
            f"test of it; operation must be one of {', '.join(map(repr, allowed))}."
        )


def _logits(module: nn.Module, pairs: torch.Tensor, p: int) -> torch.Tensor:
    logits = module(pairs)
    if logits.dim() != 2 or logits.shape != (len(pairs), p):
        raise ValueError(
            f"The module must map pairs of shape (n, 2) to logits of shape (n, p) = "
            f"(n, {p}); for {len(pairs)} pairs it returned shape {tuple(logits.shape)}. "
            "Check p."
        )
    return logits


def _chunks(pairs: torch.Tensor, size: int) -> Iterable[torch.Tensor]:
    return torch.split(pairs, max(1, size))


def _upper_pairs(p: int) -> np.ndarray:
    a, b = np.triu_indices(p, k=1)
    return np.stack([a, b], axis=1).astype(np.int64)


def _logit_table(evaluated: Any, p: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    """A (p, p, p) table of known logits and its (p, p) coverage mask, from (pairs, logits) parts.

    Parts that are not integer pairs in [0, p) with (n, p) logits are skipped.
    """
    if not evaluated:
        return None
    table = covered = None
    for pairs, logits in evaluated:
        if not (torch.is_tensor(pairs) and torch.is_tensor(logits)) or pairs.is_floating_point() \
                or pairs.dim() != 2 or pairs.shape[1] != 2 or logits.shape != (len(pairs), p) \
                or len(pairs) == 0 or int(pairs.min()) < 0 or int(pairs.max()) >= p:
            continue
        if table is None:
            table = logits.new_zeros((p, p, p))
            covered = torch.zeros((p, p), dtype=torch.bool, device=logits.device)
        pairs = pairs.to(logits.device)
        table[pairs[:, 0], pairs[:, 1]] = logits.detach()
        covered[pairs[:, 0], pairs[:, 1]] = True
    return None if table is None else (table, covered)


def _check_layer(module: nn.Module, layer: Any) -> None:
    valid = ("logits", *hidden_modules(module))
    if layer not in valid:
        raise ValueError(f"layer must be one of {', '.join(map(repr, valid))}; got {layer!r}.")


def _commuted_logits(
    module: nn.Module, p: int, pairs: Any, batch_size: int, evaluated: Any = None,
    layer: str = "logits",
) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
    """(logits of (a, b), logits of (b, a)) chunk by chunk, inside evaluation mode.

    When ``evaluated`` (the caller's (pairs, logits) parts) covers both orders of
    every pair, the logits are looked up instead of recomputed. A hidden ``layer``
    yields that layer's outputs (flattened per pair) instead of the logits.
    """
    pairs = _upper_pairs(p) if pairs is None else validate_pairs(pairs, p, name="pairs")
    if len(pairs) == 0:
        raise ValueError("pairs must hold at least one pair (a, b); got none.")
    tensor = as_module_tensor(pairs, module)
    if layer != "logits":
        with recording(module, {layer: hidden_modules(module)[layer]}) as store:
            for chunk in _chunks(tensor, batch_size // 2):
                _logits(module, torch.cat([chunk, chunk.flip(1)]), p)
                both = store[layer].reshape(2 * len(chunk), -1)
                yield both[: len(chunk)], both[len(chunk):]
        return
    known = _logit_table(evaluated, p)
    if known is not None:
        table, covered = known
        index = tensor.to(table.device)
        a, b = index[:, 0], index[:, 1]
        if bool(covered[a, b].all()) and bool(covered[b, a].all()):
            yield table[a, b], table[b, a]
            return
    for chunk in _chunks(tensor, batch_size // 2):
        both = _logits(module, torch.cat([chunk, chunk.flip(1)]), p)
        yield both[: len(chunk)], both[len(chunk):]


def _score(
    module: nn.Module, pairs: np.ndarray, targets: np.ndarray, p: int, score: str, batch_size: int
) -> float:
    """Accuracy or mean cross-entropy (nats) of the module's predictions of ``targets``."""
    pairs_t = as_module_tensor(pairs, module)
    targets_t = torch.as_tensor(targets, device=pairs_t.device)
    total = 0.0
    with evaluation(module):
        for chunk, target in zip(
            _chunks(pairs_t, batch_size), _chunks(targets_t, batch_size), strict=True
        ):
            logits = _logits(module, chunk, p)
            if score == "accuracy":
                total += float((logits.argmax(dim=1) == target).sum())
            else:
                total += float(F.cross_entropy(logits.double(), target, reduction="sum"))
    return total / len(pairs)


@measure(needs=("evaluated",), task_keys=("p", "operation"))
def commutativity(
    module: nn.Module,
    p: int,
    operation: str = "add",
    *,
    pairs: Any = None,
    batch_size: int = 2048,
    evaluated: Any = None,
) -> float:
    r"""Fraction of pairs on which the model's prediction is symmetric (Tan & Huang §5.1, Fig. 9).

    .. math:: C = \frac{1}{|P|}\sum_{(a, b) \in P}
              \mathbb 1\left[\arg\max f(a, b) = \arg\max f(b, a)\right]

    over the unordered pairs :math:`P = \{(a, b) : 0 \le a < b < p\}` by
    default (the diagonal, symmetric by construction, and the duplicate
    order are left out, so a model that ignores the law scores near 0 rather
    than near 1/p). The "abelian test" needs no labels: a model that has
    learned a commutative operation has C = 1, and Tan & Huang find C stays
    low until the network groks.

    Parameters
    ----------
    module : nn.Module
        Maps LongTensor pairs (n, 2) to logits (n, p).
    p : int
        Modulus.
    operation : str, default="add"
        The task's operation; it must be commutative (``"add"``,
        ``"multiply"``, ``"x^2+y^2"``, ``"x^2+xy+y^2"``).
    pairs : array-like of int, shape (n, 2), optional
        Test these pairs instead (e.g. the test set, as a subset of Fig. 9's
        samples).
    batch_size : int, default=2048
        Rows per forward pass (each chunk holds both orders).
    evaluated : sequence of (pairs, logits) tensors, optional
        Logits the caller already computed with the module in its current
        state (the recorder passes its train and test outputs, which together
        cover every pair of a modular task). When they cover both orders of
        every pair tested, no forward pass is run; otherwise it is ignored.

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> from grokkit.models.transformer import ModularTransformerNet
    >>> model = ModularTransformerNet(p=7, d_model=16, n_heads=2, d_mlp=16)
    >>> 0.0 <= commutativity(model, p=7) <= 1.0
    True
    """
    p, operation = _check_task(p, operation, batch_size)
    _require(operation, COMMUTATIVE, "commutativity")
    agree = count = 0
    with evaluation(module):
        for forward, swapped in _commuted_logits(module, p, pairs, batch_size, evaluated):
            agree += int((forward.argmax(dim=1) == swapped.argmax(dim=1)).sum())
            count += len(forward)
    return agree / count


@measure(needs=("evaluated",), task_keys=("p", "operation"))
def commutativity_distance(
    module: nn.Module,
    p: int,
    operation: str = "add",
    *,
    pairs: Any = None,
    batch_size: int = 2048,
    evaluated: Any = None,
    layer: str = "logits",
) -> float:
    r"""Mean L2 distance between the logits of (a, b) and (b, a) (Tan & Huang §5.2, Fig. 11).

    .. math:: D = \frac{1}{|P|}\sum_{(a, b) \in P} \lVert f(a, b) - f(b, a) \rVert_2

    over the unordered pairs :math:`P = \{(a, b) : 0 \le a < b < p\}` by
    default, in the units of the logits. Tan & Huang plot this "abelian test
    on logits" to show that input-noise training reaches a more symmetric
    representation than standard training; unlike :func:`commutativity` it
    moves before the predicted classes do. With ``layer`` a hidden layer,
    :math:`f` is that layer's output: the "abelian test on embedding" of App. A,
    Fig. 18.

    Parameters
    ----------
    module, p, operation, pairs, batch_size, evaluated
        As in :func:`commutativity` (``evaluated`` holds logits, so it is used
        for ``layer="logits"`` only).
    layer : str, default="logits"
        ``"logits"`` or a hidden layer of :func:`grokkit.measures.hidden_modules`
        (``"act1"`` for the one-hot MLP, ``"blocks.0.mlp.act"`` for the transformer).

    Returns
    -------
    float
        Non-negative; 0 for a model exactly symmetric in its inputs.
    """
    p, operation = _check_task(p, operation, batch_size)
    _require(operation, COMMUTATIVE, "commutativity")
    _check_layer(module, layer)
    total = 0.0
    count = 0
    with evaluation(module):
        for forward, swapped in _commuted_logits(module, p, pairs, batch_size, evaluated, layer):
            difference = (forward - swapped).double()
            total += float(torch.linalg.vector_norm(difference, dim=1).sum())
            count += len(forward)
    return total / count


@measure(task_keys=("p", "operation"))
def identity_law(
    module: nn.Module,
    p: int,
    operation: str = "add",
    *,
    score: str = "accuracy",
    batch_size: int = 2048,
) -> float:
    r"""How well the model predicts ``x ∘ e = x`` for the identity ``e`` (Tan & Huang Fig. 15).

    .. math:: I = \frac{1}{|S|}\sum_{(u, v, x) \in S} \mathbb 1[\arg\max f(u, v) = x]

    with :math:`S` the equations ``x ∘ e = x`` and, for a two-sided identity,
    ``e ∘ x = x``, for every ``x`` in :math:`\mathbb Z_p`: ``e = 0`` for
    ``"add"`` (both sides, Tan & Huang's "zero identity": the average over
    ``x + 0 = x`` and ``0 + x = x``) and ``"subtract"`` (right side only,
    ``x − 0``), ``e = 1`` for ``"multiply"`` (both) and ``"divide"``
    (right only). These equations are ordinary table entries, so part of them
    may be in the training set.

    Parameters
    ----------
    module, p : as in :func:`commutativity`
    operation : {"add", "subtract", "multiply", "divide"}, default="add"
        Operations without an identity element are refused.
    score : {"accuracy", "cross_entropy"}, default="accuracy"
        ``"cross_entropy"`` returns the mean cross-entropy (nats) of the
        targets instead, the quantity Tan & Huang plot in Fig. 15.
    batch_size : int, default=2048

    Returns
    -------
    float
        Accuracy in [0, 1], or a cross-entropy ≥ 0.
    """
    p, operation = _check_task(p, operation, batch_size)
    check_options("score", score, SCORES)
    if operation not in IDENTITIES:
        raise ValueError(
            f"operation={operation!r} has no identity element; identity_law needs one of "
            f"{', '.join(map(repr, IDENTITIES))}."
        )
    identity, sides = IDENTITIES[operation]
    x = np.arange(p, dtype=np.int64)
    e = np.full(p, identity, dtype=np.int64)
    blocks = {"right": np.stack([x, e], axis=1), "left": np.stack([e, x], axis=1)}
    pairs = np.concatenate([blocks[side] for side in sides])
    targets = np.tile(x, len(sides))
    return _score(module, pairs, targets, p, score, batch_size)


@measure(task_keys=("p", "operation"))
def doubling(
    module: nn.Module,
    p: int,
    operation: str = "add",
    *,
    score: str = "accuracy",
    batch_size: int = 2048,
) -> float:
    r"""How well the model predicts ``x ∘ x`` (``x + x = 2x`` for addition; Tan & Huang Fig. 15).

    .. math:: T = \frac{1}{|X|}\sum_{x \in X} \mathbb 1[\arg\max f(x, x) = x \circ x]

    over :math:`X = \mathbb Z_p` (``x ≠ 0`` for ``"divide"``). For
    ``"add"`` this is the doubling law ``x + x = 2x`` of Tan & Huang; for
    other operations the same diagonal of the table (``x · x = x²``, ...).

    Parameters
    ----------
    module, p : as in :func:`commutativity`
    operation : str, default="add"
        Any operation of :data:`grokkit.datasets.modular.OPERATIONS`.
    score : {"accuracy", "cross_entropy"}, default="accuracy"
        ``"cross_entropy"``: mean cross-entropy (nats) of ``x ∘ x``, as plotted
        in Fig. 15.
    batch_size : int, default=2048

    Returns
    -------
    float
        Accuracy in [0, 1], or a cross-entropy ≥ 0.
    """
    p, operation = _check_task(p, operation, batch_size)
    check_options("score", score, SCORES)
    first = 1 if operation == "divide" else 0
    x = np.arange(first, p, dtype=np.int64)
    pairs = np.stack([x, x], axis=1)
    return _score(module, pairs, modular_targets(pairs, p, operation), p, score, batch_size)


@measure(task_keys=("p", "operation"))
def associativity(
    module: nn.Module,
    p: int,
    operation: str = "add",
    *,
    batch_size: int = 2048,
) -> float:
    r"""Fraction of ``x`` with ``(x ∘ x) ∘ x = x ∘ (x ∘ x)`` under the model (Tan & Huang Fig. 16).

    The simplest associativity test of Tan & Huang: the model's own answer
    :math:`s_x = \arg\max f(x, x)` is fed back in, and

    .. math:: A = \frac{1}{p}\sum_{x=0}^{p-1}
              \mathbb 1\left[\arg\max f(s_x, x) = \arg\max f(x, s_x)\right].

    It checks the model's consistency, not its correctness: a model with a
    constant prediction scores 1, so read it together with :func:`doubling`.
    The two sides differ only in the order of the operands of the second
    step, so this is the commutativity test on the pairs ``(s_x, x)`` that the
    model itself produces; the law holds for every commutative operation.

    Parameters
    ----------
    module, p : as in :func:`commutativity`
    operation : {"add", "multiply", "x^2+y^2", "x^2+xy+y^2"}, default="add"
        ``"subtract"`` and ``"divide"`` are refused: ``(x − x) − x ≠ x − (x − x)``.
    batch_size : int, default=2048

    Returns
    -------
    float
        In [0, 1].
    """
    p, operation = _check_task(p, operation, batch_size)
    _require(operation, COMMUTATIVE, "associativity")
    x = as_module_tensor(np.arange(p, dtype=np.int64), module)
    with evaluation(module):

        def predict(pairs: torch.Tensor) -> torch.Tensor:
            return torch.cat(
                [_logits(module, c, p).argmax(dim=1) for c in _chunks(pairs, batch_size)]
            )

        doubled = predict(torch.stack([x, x], dim=1))
        left = predict(torch.stack([doubled, x], dim=1))
        right = predict(torch.stack([x, doubled], dim=1))
    return float((left == right).double().mean())
