"""The penalty terms of the training objective: small registered units, as measures are.

The objective of a grokkit run is ``criterion(outputs, targets) + Σ_k w_k · sign_k · term_k``
(:func:`training_objective`), one term per switched-on penalty. A penalty is
one :class:`Penalty`: the constructor parameter that weighs it (declared here,
with its documentation, once), the estimators that have it (``scope``), the
function that computes its term from :class:`PenaltyInputs`, and whether the
stacked executor of :class:`grokkit.Sweep` can compute it for runs batched
under ``torch.func.vmap``. The single and the stacked loop call the same
:func:`training_objective` with the same units: the stacked loop hands each
term one run's slice of the parameters and a forward through them.

Adding a penalty is one function with the :func:`penalty` decorator in this
module (its term, its parameter and the documentation of that parameter):
the estimators of its scope get the parameter, its docstring entry and its
stacking rule from the declaration.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import torch
from sklearn.utils._param_validation import Interval

from grokkit.estimators.params import VARY, Param, is_off
from grokkit.losses import barlow_twins_loss

#: Rows of a minibatch on which the ``mi_penalty`` term is computed (three
#: eigendecompositions of this size per step).
MI_PENALTY_SAMPLES = 256

#: Scopes a penalty can declare: every estimator, or the modular-arithmetic estimators.
SCOPES = ("all", "modular")


@dataclass(frozen=True)
class PenaltyInputs:
    """What a penalty term may read at a training step (one run's, under the stacked vmap).

    ``params`` maps parameter names to the run's parameters, ``forward`` runs
    the module with them on other inputs, ``X``/``y_pred`` are the minibatch
    and its outputs. ``settings`` reads another constructor parameter of the
    estimator (``settings("barlow_off_diagonal")``); ``features`` is the
    estimator's float encoding of ``X`` for information measures;
    ``generator`` draws the run's subsamples; ``module`` is the module itself
    (``None`` on stacked runs, where only ``params``/``forward`` exist).
    """

    params: Mapping[str, torch.Tensor]
    forward: Callable[[torch.Tensor], torch.Tensor]
    X: torch.Tensor | None
    y_pred: torch.Tensor
    settings: Callable[[str], Any]
    features: Callable[[torch.Tensor], torch.Tensor] | None = None
    generator: torch.Generator | None = None
    module: torch.nn.Module | None = None


@dataclass(frozen=True)
class Penalty:
    """A registered penalty: its weight parameter, its term and where it can run."""

    name: str
    term: Callable[[PenaltyInputs], torch.Tensor]
    param: Param
    scope: str = "all"
    sign: float = 1.0
    needs_input: bool = True
    stacked: bool = False
    settings: Mapping[str, Param] = field(default_factory=dict)


_REGISTRY: dict[str, Penalty] = {}


def penalty(name: str, *, default: float = 0.0, constraints: tuple = (), doc: str, scope: str = "all",
            sign: float = 1.0, needs_input: bool = True, stacked: bool = False,
            settings: Mapping[str, Param] | None = None) -> Callable[[Callable], Callable]:
    """Register the decorated ``term(inputs) -> 0-d Tensor`` as the penalty weighed by parameter ``name``.

    ``doc`` is the parameter's numpydoc entry (type line, then the indented
    description); ``stacked`` says the term is written with ``inputs.params``
    and ``inputs.forward`` only, so the stacked executor computes it per run
    (its weight may then differ between stacked runs). ``settings`` declares
    further parameters of the term, honoured at any value shared by the runs.
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}; got {scope!r}.")
    constraints = constraints or (Interval(Real, 0, math.inf, closed="left"),)

    def register(term: Callable[[PenaltyInputs], torch.Tensor]) -> Callable:
        if name in _REGISTRY:
            raise ValueError(f"A penalty named {name!r} is already registered.")
        rule = VARY if stacked else is_off
        _REGISTRY[name] = Penalty(name, term, Param(default, constraints, doc=doc, stacked=rule), scope,
                                  sign, needs_input, stacked, dict(settings or {}))
        return term

    return register


def penalties(scope: str | None = None) -> list[Penalty]:
    """The registered penalties (of ``scope``), in the order their terms are added."""
    return [p for p in _REGISTRY.values() if scope is None or p.scope == scope]


def penalty_params(scope: str) -> dict[str, Param]:
    """The constructor parameters that the penalties of ``scope`` declare (weights and settings)."""
    params: dict[str, Param] = {}
    for p in penalties(scope):
        params[p.name] = p.param
        params.update(p.settings)
    return params


def active_terms(net: Any, declared: Mapping[str, Any]) -> Iterator[tuple[Penalty, Any]]:
    """``(penalty, weight)`` for the penalties of ``net`` whose weight is non-zero."""
    for p in _REGISTRY.values():
        if p.name in declared:
            weight = getattr(net, p.name)
            if weight:
                yield p, weight


def training_objective(criterion: Callable[..., torch.Tensor], y_pred: torch.Tensor, y_true: torch.Tensor,
                       terms: Any, inputs: Callable[[], PenaltyInputs] | None = None) -> torch.Tensor:
    r"""The training loss :math:`L = \text{criterion}(\hat y, y) + \sum_k w_k\, s_k\, T_k`.

    ``terms`` are ``(penalty, weight)`` pairs (a weight may be a per-run
    tensor under vmap); ``inputs()`` builds the :class:`PenaltyInputs`, only
    when a term needs them. A term that needs the minibatch is skipped when
    ``X`` is absent. The single and the stacked loop both compute their loss here.
    """
    loss = criterion(y_pred, y_true)
    state = None
    for p, weight in terms:
        if state is None:
            state = inputs()
        if p.needs_input and state.X is None:
            continue
        value = p.term(state)
        loss = loss + weight * value if p.sign == 1.0 else loss - weight * value
    return loss


def last_hidden_output(forward: Callable[[torch.Tensor], torch.Tensor], module: torch.nn.Module,
                       X: torch.Tensor) -> torch.Tensor:
    """The last hidden layer's output on ``X``, with its graph (at the last position for a sequence)."""
    from grokkit.measures._capture import hidden_modules

    name, layer = list(hidden_modules(module).items())[-1]
    store: dict[str, torch.Tensor] = {}
    handle = layer.register_forward_hook(lambda _module, _inputs, out: store.__setitem__(name, out))
    try:
        forward(X)
    finally:
        handle.remove()
    out = store[name]
    return out[:, -1] if out.dim() == 3 else out.reshape(len(X), -1)


# --------------------------------------------------------------------------- the penalties
@penalty("norm_penalty", constraints=(Interval(Real, -math.inf, math.inf, closed="neither"),),
         needs_input=False, stacked=True, doc="""float
        δ in L + δ‖θ‖²₂. A negative δ pushes the norm *up* (Golechha §3: the
        network still groks while its norm grows; δ = −2e-10 there).""")
def norm_penalty(inputs: PenaltyInputs) -> torch.Tensor:
    """‖θ‖²₂: the sum of squares of every parameter, biases included."""
    return torch.stack([w.pow(2).sum() for w in inputs.params.values()]).sum()


@penalty("l1_penalty", needs_input=False, stacked=True, doc="""float
        λ in L + λ‖θ‖₁ = L + λ Σ|θ_i| over every parameter, biases included:
        the Lasso penalty (Tibshirani 1996). Its (sub)gradient λ·sign(θ) pulls
        every weight toward zero by the same amount, where ``weight_decay``
        and ``norm_penalty`` pull in proportion to the weight, so it favours
        sparse networks: few large weights, many near zero (with Adam's
        per-coordinate scaling, near zero rather than exactly zero). A way to
        push the ``weight_norm``, ``weight_entropy`` and
        ``circuit_complexity`` measures toward the sparse solution without
        changing the data. Runs stacked in a ``Sweep``.""")
def l1_penalty(inputs: PenaltyInputs) -> torch.Tensor:
    """‖θ‖₁: the sum of the absolute values of every parameter, biases included."""
    return torch.stack([w.abs().sum() for w in inputs.params.values()]).sum()


@penalty("mi_penalty", constraints=(Interval(Real, -math.inf, math.inf, closed="neither"),), sign=-1.0,
         doc="""float
        Weight w of Tan & Huang's MI-regularised training (§4.3, Fig. 8): the
        loss becomes L − w · I(X; f(X)), with I the matrix mutual information
        (order 1) between the inputs and the outputs, differentiable, on a
        random subsample of ``MI_PENALTY_SAMPLES`` = 256 rows of each minibatch.
        Maximising it speeds up generalisation in their experiments.""")
def mi_penalty(inputs: PenaltyInputs) -> torch.Tensor:
    """I(X; f(X)), the differentiable matrix MI on a random subsample of the minibatch."""
    from grokkit.measures.matrix_info import _matrix_mutual_information_torch

    rows, y_pred = inputs.features(inputs.X), inputs.y_pred
    if len(rows) > MI_PENALTY_SAMPLES:
        keep = torch.randperm(len(rows), generator=inputs.generator,
                              device=rows.device)[:MI_PENALTY_SAMPLES]
        rows, y_pred = rows[keep], y_pred[keep]
    return _matrix_mutual_information_torch(rows, y_pred.reshape(len(y_pred), -1))


@penalty("abelian_penalty", scope="modular", stacked=True, doc="""float
        Weight of Tan & Huang's abelian test as a loss (§5.1, Fig. 10): adds
        ``abelian_penalty · mean‖f(a, b) − f(b, a)‖²/p`` (mean squared difference
        of the logits of each pair and its swap), one extra forward per step.""")
def abelian_penalty(inputs: PenaltyInputs) -> torch.Tensor:
    """mean (f(a, b) − f(b, a))² over the minibatch and the logits."""
    return (inputs.y_pred - inputs.forward(inputs.X.flip(1))).pow(2).mean()


@penalty("barlow_penalty", scope="modular", doc="""float
        Weight of a Barlow Twins loss (Zbontar et al. 2021) between the two views
        (a, b) and (b, a) of each pair, Tan & Huang's second regulariser of App. A,
        Fig. 14: adds ``barlow_penalty · L_BT`` with
        ``L_BT = Σ_i (1 − C_ii)² + barlow_off_diagonal · Σ_{i≠j} C_ij²``, where
        ``C = Z̃₁ᵀ Z̃₂ / n`` is the cross-correlation of the batch-standardised
        embeddings (each feature minus its batch mean, over its batch standard
        deviation) of the two views; see :func:`grokkit.losses.barlow_twins_loss`.
        The embedding is the output of the last hidden layer (``act1`` of the
        one-hot MLP; the MLP activation at the read-out position of the
        transformer). One extra forward of both views per step.""",
         settings={"barlow_off_diagonal": Param(0.005, (Interval(Real, 0, math.inf, closed="left"),),
                                                doc="""float
        λ_off of ``L_BT``, the weight of the redundancy-reduction (off-diagonal)
        term; 0.005 is Zbontar et al.'s.""", stacked="shared")})
def barlow_penalty(inputs: PenaltyInputs) -> torch.Tensor:
    """L_BT between the last hidden layer's embeddings of (a, b) and (b, a)."""
    X = inputs.X
    forward, swapped = last_hidden_output(inputs.forward, inputs.module, torch.cat([X, X.flip(1)])).chunk(2)
    return barlow_twins_loss(forward, swapped, inputs.settings("barlow_off_diagonal"))
