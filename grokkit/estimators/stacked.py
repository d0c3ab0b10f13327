"""Runs trained side by side as one stacked model (the vectorized executor of :class:`grokkit.Sweep`).

K runs that share the architecture and the data and differ only in numbers
(the parameters declared ``stacked=VARY``: seed, ``lr``, ``weight_decay``,
``alpha``, ``constrain_norm``, ``input_noise`` and the stackable penalties'
weights) are trained at once: their parameters are stacked along a leading
axis (``torch.func.stack_module_state``) and one
``torch.func.vmap(functional_call)`` runs all K forward passes; the summed
loss back-propagates every run's own gradient, and :class:`StackedAdamW` steps
all K with per-run ``lr`` and weight decay. On a GPU a tiny grokking model
uses a sliver of the device per step, so K runs cost about what one does.

One loop, batched: each run is a real estimator, started by its own
:meth:`~grokkit.estimators.base.GrokNet.begin_fit` (the seeded initialisation
and ``on_train_begin`` of ``fit``), its loss is the same
:func:`~grokkit.estimators.penalties.training_objective` with the same
penalty units, its norm constraint :class:`NormConstraint`'s, and each epoch
ends with its own :meth:`~grokkit.estimators.loop.TrainingLoop.end_epoch`
(history row, divergence, callbacks) and, at the end,
:meth:`~grokkit.estimators.loop.TrainingLoop.end_training`; the run's slice is
copied into its ``module_`` whenever one of its callbacks may look at it.

What may stack is an **allow-list**: every constructor parameter declares
what the stacked loop does with it (``Param.stacked``), optimizer options are
listed in :data:`STACKED_OPTIMIZER_OPTIONS`, user callbacks in
:data:`grokkit.estimators.params.STACKED_CALLBACKS`; anything else sends the
runs to joblib with the reason (:func:`why_not_stackable`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.func import functional_call, stack_module_state, vmap

from grokkit._threads import flushing_denormals
from grokkit.callbacks import InputNoise, NormConstraint
from grokkit.estimators.loop import TrainingDiverged, last_row, seeded, watching_sigint
from grokkit.estimators.params import SHARED, SHARED_PARAMS, VARY
from grokkit.estimators.penalties import PenaltyInputs, penalties, training_objective
from grokkit.models._inputs import trusted_inputs
from grokkit.optim import StackedAdamW

#: Shared parameters whose values may differ between the stacked runs (the
#: stackable penalties' weights may too).
STACKABLE = frozenset({"random_state", *(n for n, p in SHARED_PARAMS.items() if p.stacked == VARY),
                       *(p.name for p in penalties() if p.stacked)})
#: ``optimizer__`` options the stacked AdamW step honours: ``eps`` is its own;
#: ``foreach`` and ``fused`` choose how torch's AdamW computes the same update
#: (the runs are proved equal in tests/sweep/test_stacked_walk.py).
STACKED_OPTIMIZER_OPTIONS = frozenset({"eps", "foreach", "fused"})
#: The estimators whose models run under vmap as they are (no data-dependent control flow).
STACKED_MODELS = ("grokkit.estimators.mlp.GrokMLPClassifier", "grokkit.estimators.mlp.GrokMLPRegressor",
                  "grokkit.estimators.modular.ModularMLPClassifier",
                  "grokkit.estimators.modular.ModularTransformer")


def why_not_stackable(estimator: Any, varying: Sequence[str]) -> str | None:
    """``None`` when runs of ``estimator`` varying in ``varying`` can train stacked, else the reason.

    An allow-list: a parameter stacks when its declaration says how the
    stacked loop honours its value, an ``optimizer__`` option when it is in
    :data:`STACKED_OPTIMIZER_OPTIONS`; anything else is a reason.
    """
    kind = type(estimator)
    if f"{kind.__module__}.{kind.__qualname__}" not in STACKED_MODELS:
        return f"{type(estimator).__name__} has no stacked model"
    declared = estimator.declared_params()
    params = estimator.get_params(deep=False)
    other = sorted(name for name in varying if name not in declared or declared[name].stacked != VARY)
    if other:
        verb = "differs" if len(other) == 1 else "differ"
        return f"{', '.join(other)} {verb} between runs, and the stacked model shares it"
    refused = []
    for name, param in declared.items():
        rule, value = param.stacked, params[name]
        if rule in (VARY, SHARED):
            continue
        if rule is None or not rule(value):
            refused.append(f"{name}={_shown(value)}")
    if refused:  # every one named: checkpoint_every comes with checkpoint_dir, say
        return f"{', '.join(refused)} {'is' if len(refused) == 1 else 'are'} not honoured by the stacked loop"
    for key in sorted(k for k in params if "__" in k):
        prefix, _, option = key.partition("__")
        if prefix != "optimizer" or option not in STACKED_OPTIMIZER_OPTIONS:
            return f"{key}={params[key]!r} is not honoured by the stacked loop"
    return None


def _shown(value: Any) -> str:
    """A value as a reason shows it: callbacks by their class names."""
    if isinstance(value, list):
        names = [type(cb[1] if isinstance(cb, tuple) else cb).__name__ for cb in value]
        return "[" + ", ".join(names) + "]"
    return repr(value)


def _callback(est: Any, kind: type) -> Any:
    return next((cb for _, cb in est.callbacks_ if isinstance(cb, kind)), None)


def fit_stacked(estimators: Sequence[Any], X: Any, y: Any, eval_set: Any = None,
                progress: Any = None) -> list[Any]:
    """Fit unfitted ``estimators`` (clones differing only in :data:`STACKABLE` values) as one stacked model.

    ``progress`` is an optional callable, called with the number of epochs
    done after every epoch (a progress bar's ``update``). Returns the fitted
    estimators; a run that diverges keeps its ``progress_`` and ``diverged_``
    as a single fit does, without stopping the others.
    """
    ests = list(estimators)
    first = ests[0]
    train, valid, seed = first.begin_fit(X, y, eval_set)
    for est in ests[1:]:
        est.begin_fit(X, y, eval_set, data=(train, valid))
    hooks = {"dataset_train": train, "dataset_valid": valid}
    device, K, n = first.device_, len(ests), len(train)
    size = n if first.batch_size in (None, -1) else min(int(first.batch_size), n)
    n_batches = -(-n // size)
    params, buffers = stack_module_state([est.module_ for est in ests])
    names = list(params)
    skeleton = copy.deepcopy(first.module_).train()
    optimizer = StackedAdamW(
        [params[k] for k in names], [e.lr for e in ests], [e.weight_decay for e in ests], first.betas,
        first.optimizer_.defaults.get("eps", 1e-8))
    column = optimizer._column
    declared = first.declared_params()
    # the penalties switched on in any run, each with its per-run weights (0 where off)
    terms = [p for p in penalties() if p.name in declared and any(getattr(e, p.name) for e in ests)]
    weights = {p.name: column(np.array([float(getattr(e, p.name) or 0.0) for e in ests]), params[names[0]])
               for p in terms}
    constraints = [_callback(e, NormConstraint) for e in ests]
    targets = column(np.array([c.target_norm_ if c else 1.0 for c in constraints]), params[names[0]])
    constrained = torch.tensor([c is not None for c in constraints], device=device)
    if not constrained.any():
        constrained = None
    noises = [_callback(e, InputNoise) for e in ests]
    criterion = first.criterion_
    random = bool(getattr(first, "dropout", 0)) or any(noises)

    def run_loss(p: dict, b: dict, xb: torch.Tensor, yb: torch.Tensor, w: dict,
                 sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if any(noises):
            skeleton.input_noise_std = sigma

        def forward(inputs: torch.Tensor) -> torch.Tensor:
            return functional_call(skeleton, (p, b), (inputs,))

        out = forward(xb)
        loss = training_objective(
            criterion, out, yb, [(term, w[term.name]) for term in terms],
            lambda: PenaltyInputs(params=p, forward=forward, X=xb, y_pred=out,
                                  settings=first.__getattribute__))
        return loss, out

    batched = vmap(run_loss, in_dims=(0, 0, 0 if size < n else None, 0 if size < n else None, 0, 0),
                   randomness="different" if random else "error")
    active = list(range(K))
    slots = list(range(K))  # the run in each row of the stacked tensors

    def sync(k: int) -> None:
        row = slots.index(k)
        with torch.no_grad():
            module = ests[k].module_
            for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
                source = params[name] if name in params else buffers[name]
                tensor.copy_(source[row])

    def finish(k: int) -> None:
        est = ests[k]
        sync(k)
        for p, state in zip(est.module_.parameters(), optimizer.state_of(slots.index(k)), strict=True):
            est.optimizer_.state[p] = state
        try:
            est.end_training(train, valid)
        finally:
            active.remove(k)

    def compact() -> None:
        """Drop the rows of finished runs from every stacked tensor: the others train on, faster."""
        nonlocal weights, targets, constrained
        rows = torch.tensor([slots.index(k) for k in active], device=device)
        with torch.no_grad():
            for name in names:
                params[name] = params[name][rows].clone().requires_grad_(True)
            for name in list(buffers):
                buffers[name] = buffers[name][rows].clone()
        optimizer.keep(rows, [params[name] for name in names])
        weights = {name: w[rows] for name, w in weights.items()}
        targets = targets[rows]
        constrained = None if constrained is None else constrained[rows]
        slots[:] = active

    flush = bool(first.flush_denormal) and device.type == "cpu"
    # a real Ctrl-C stops every run (each run's end_epoch re-raises it), a stop rule only its own
    with seeded(seed, device), flushing_denormals(flush), trusted_inputs(), watching_sigint(ests):
        for _ in range(first.max_epochs):
            for k in active:
                ests[k].notify("on_epoch_begin", **hooks)
            sigma = column(np.array([noises[k].sigma_ if noises[k] else 0.0 for k in slots]),
                           params[names[0]])
            if size < n:
                order = torch.stack([ests[k].shuffled_order(n) for k in slots])
                chunks = [(train.X[idx], train.target[idx]) for idx in order.split(size, dim=1)]
            else:
                chunks = [(train.X, train.target)]
            total = torch.zeros(len(slots), device=device)  # float32, as the single loop's running total
            for xb, yb in chunks:
                for name in names:
                    params[name].grad = None
                losses, outputs = batched(params, buffers, xb, yb, weights, sigma)
                losses.sum().backward()
                optimizer.step()
                if constrained is not None:
                    NormConstraint.rescale_stacked([params[k] for k in names], targets, constrained)
                for row, k in enumerate(slots):
                    ests[k].n_steps_ += 1
                    if noises[k] is not None:
                        batch = (xb[row], yb[row]) if size < n else (xb, yb)
                        noises[k].on_batch_end(ests[k], batch=batch, training=True, y_pred=outputs[row])
                total += losses.detach() * (xb.shape[1] if size < n else xb.shape[0])
            fit_loss = (total / n).tolist()
            for row, k in enumerate(list(slots)):
                est = ests[k]
                recorder = dict(est.callbacks_)["progress"]
                if not math.isfinite(fit_loss[row]) or last_row(est.history)["epoch"] in recorder.schedule_ \
                        or est.callbacks:
                    sync(k)  # the recorder, or a user's callback, looks at the module this epoch
                try:
                    ended = est.end_epoch(fit_loss[row], train, valid, n_batches)
                except TrainingDiverged:
                    ended = True
                if ended:
                    finish(k)
            if progress is not None:
                progress(1)
            if not active:
                break
            if len(active) < len(slots):
                compact()
        for k in list(active):
            finish(k)
    return ests
