"""Runs trained side by side as one stacked model (the vectorized executor of :class:`grokkit.Sweep`).

K runs that share the architecture and the data and differ only in numbers
(seed, ``lr``, ``weight_decay``, ``alpha``, ``norm_penalty``, the
``constrain_norm`` target, ``input_noise``) are trained at once: their
parameters are stacked along a leading axis (``torch.func.stack_module_state``)
and one ``torch.func.vmap(functional_call)`` runs all K forward passes; the
summed loss back-propagates every run's own gradient, and :class:`StackedAdamW`
steps all K with per-run ``lr`` and weight decay. On a GPU a tiny grokking
model uses a sliver of the device per step, so K runs cost about what one does.

Each run is a real estimator, prepared exactly as its own ``fit`` prepares it
(same seeded initialisation, same minibatch generator), so that its
``progress_`` rows are the ones a single fit records, up to float rounding:
the stacked loop calls each run's epoch-level callbacks (recorder, stop rules,
``InputNoise``) and copies the run's slice into its ``module_`` whenever one
of them may look at it. At the end each estimator holds its module, optimizer
state, history and ``progress_``, as after ``fit``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch.func import functional_call, stack_module_state, vmap

from grokkit._threads import flushing_denormals
from grokkit._validation import resolve_device
from grokkit.callbacks import InputNoise, NormConstraint, SplitData
from grokkit.estimators.loop import TrainingDiverged, _overrides, _watch_sigint, last_row, seeded
from grokkit.models._inputs import trusted_inputs
from grokkit.optim import StackedAdamW
from grokkit.progress import progress_frame

#: Parameters whose values may differ between the stacked runs.
STACKABLE = frozenset({"random_state", "weight_decay", "lr", "alpha", "norm_penalty", "constrain_norm",
                       "input_noise"})
_BATCH_HOOKS = ("on_batch_begin", "on_grad_computed", "on_batch_end")


def why_not_stackable(estimator: Any, varying: Sequence[str]) -> str | None:
    """``None`` when runs of ``estimator`` varying in ``varying`` can train stacked, else the reason."""
    from grokkit.estimators.mlp import GrokMLPClassifier, GrokMLPRegressor
    from grokkit.estimators.modular import ModularMLPClassifier, ModularTransformer

    # the models that run under vmap as they are (no data-dependent control flow)
    stackable = (GrokMLPClassifier, GrokMLPRegressor, ModularMLPClassifier, ModularTransformer)
    if not isinstance(estimator, stackable):
        return f"{type(estimator).__name__} has no stacked model"
    other = sorted(set(varying) - STACKABLE)
    if other:
        return f"{', '.join(other)} change{'s' if len(other) == 1 else ''} more than numbers of the loop"
    params = estimator.get_params(deep=False)
    if params.get("optimizer") != "adamw":
        return f"optimizer={params.get('optimizer')!r} (the stacked step is AdamW's)"
    for key in ("mi_penalty", "abelian_penalty", "barlow_penalty"):
        if params.get(key):
            return f"{key} is not computed on stacked runs"
    for key in sorted(estimator._prefixed_params()):
        if key != "optimizer__eps":
            return f"{key} is not applied by the stacked loop"
    for key in ("grokfast", "checkpoint_dir"):
        if params.get(key) is not None:
            return f"{key} is not supported on stacked runs"
    if params.get("compile"):
        return "compile=True"
    for callback in params.get("callbacks") or ():
        callback = callback[1] if isinstance(callback, tuple) else callback
        if any(_overrides(callback, hook) for hook in _BATCH_HOOKS):
            return f"callback {type(callback).__name__} acts on minibatches"
    return None


def _callback(est: Any, kind: type) -> Any:
    return next((cb for _, cb in est.callbacks_ if isinstance(cb, kind)), None)


def _prepare(est: Any, X: Any, y: Any, eval_set: Any, shared: SplitData | None,
             shared_valid: SplitData | None) -> tuple[SplitData, SplitData | None]:
    """What ``fit`` does before its first epoch: validate, seed, initialise, ``on_train_begin``."""
    train, valid, seed = est._encode_fit(X, y, eval_set)
    with seeded(seed, resolve_device(est.device)):
        est._initialize_seeded(seed)
        train = shared if shared is not None else est._to_device(train)
        valid = shared_valid if shared is not None else est._to_device(valid)
        est._reset_fit_state(seed)
        est._best_scores = {}  # a fresh history: no best score yet
        est.notify("on_train_begin", X=train.X, y=train.y, epochs=est.max_epochs,
                   dataset_train=train, dataset_valid=valid)
    return train, valid


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
    train, valid = _prepare(first, X, y, eval_set, None, None)
    for est in ests[1:]:
        _prepare(est, X, y, eval_set, train, valid)
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
    delta = column(np.array([float(e.norm_penalty or 0.0) for e in ests]), params[names[0]])
    constraints = [_callback(e, NormConstraint) for e in ests]
    targets = column(np.array([c.target_norm_ if c else 1.0 for c in constraints]), params[names[0]])
    constrained = torch.tensor([c is not None for c in constraints], device=device)
    if not constrained.any():
        constrained = None
    noises = [_callback(e, InputNoise) for e in ests]
    criterion = first.criterion_
    random = bool(getattr(first, "dropout", 0)) or any(noises)
    penalised = bool(delta.abs().sum() > 0)

    def run_loss(p: dict, b: dict, xb: torch.Tensor, yb: torch.Tensor, d: torch.Tensor,
                 sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if any(noises):
            skeleton.input_noise_std = sigma
        out = functional_call(skeleton, (p, b), (xb,))
        loss = criterion(out, yb)
        if penalised:
            loss = loss + d * torch.stack([w.pow(2).sum() for w in p.values()]).sum()
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
            est.notify("on_train_end", X=train.X, y=train.y, **hooks)
        finally:
            est.progress_ = progress_frame(est.history, est.initial_record_)
            del est._shuffle_generator
        active.remove(k)

    def compact() -> None:
        """Drop the rows of finished runs from every stacked tensor: the others train on, faster."""
        nonlocal delta, targets, constrained
        rows = torch.tensor([slots.index(k) for k in active], device=device)
        with torch.no_grad():
            for name in names:
                params[name] = params[name][rows].clone().requires_grad_(True)
            for name in list(buffers):
                buffers[name] = buffers[name][rows].clone()
        optimizer.keep(rows, [params[name] for name in names])
        delta, targets = delta[rows], targets[rows]
        constrained = None if constrained is None else constrained[rows]
        slots[:] = active

    flush = bool(first.flush_denormal) and device.type == "cpu"
    restore = _watch_sigint(first)  # a real Ctrl-C stops every run, a stop rule only its own
    with seeded(first._seed(), device), flushing_denormals(flush), trusted_inputs(), _restoring(restore):
        for _ in range(first.max_epochs):
            for k in active:
                ests[k].notify("on_epoch_begin", **hooks)
            sigma = column(np.array([noises[k].sigma_ if noises[k] else 0.0 for k in slots]),
                           params[names[0]])
            if size < n:
                order = torch.stack([torch.randperm(n, generator=ests[k]._shuffle_generator, device=device)
                                     for k in slots])
                chunks = [(train.X[idx], train.target[idx]) for idx in order.split(size, dim=1)]
            else:
                chunks = [(train.X, train.target)]
            total = torch.zeros(len(slots), device=device)  # float32, as the single loop's running total
            for xb, yb in chunks:
                for name in names:
                    params[name].grad = None
                losses, outputs = batched(params, buffers, xb, yb, delta, sigma)
                losses.sum().backward()
                optimizer.step()
                if constrained is not None:
                    _rescale([params[k] for k in names], targets, constrained)
                for row, k in enumerate(slots):
                    ests[k].n_steps_ += 1
                    if noises[k] is not None:
                        batch = (xb[row], yb[row]) if size < n else (xb, yb)
                        noises[k].on_batch_end(ests[k], batch=batch, training=True, y_pred=outputs[row])
                total += losses.detach() * (xb.shape[1] if size < n else xb.shape[0])
            fit_loss = (total / n).tolist()
            for row, k in enumerate(list(slots)):
                _end_epoch(ests[k], k, fit_loss[row], n, n_batches, train, valid, hooks, sync, finish,
                           lambda: first._sigint)
            if progress is not None:
                progress(1)
            if not active:
                break
            if len(active) < len(slots):
                compact()
        for k in list(active):
            finish(k)
    return ests


@contextmanager
def _restoring(restore: Any) -> Iterator[None]:
    try:
        yield
    finally:
        restore()


def _end_epoch(est: Any, k: int, fit_loss: float, n: int, n_batches: int, train: SplitData,
               valid: SplitData | None, hooks: dict, sync: Any, finish: Any, sigint: Any) -> None:
    """One run's end of epoch, as :meth:`TrainingLoop.fit_loop` does it: history, divergence, callbacks."""
    est._record_epoch(fit_loss, n, n_batches, False)
    if not math.isfinite(fit_loss):
        sync(k)
        try:
            est._diverged(fit_loss, train, valid)
        except TrainingDiverged:
            pass
        finish(k)
        return
    recorder = dict(est.callbacks_)["progress"]
    if last_row(est.history)["epoch"] in recorder.schedule_ or est.callbacks:
        sync(k)  # the recorder, or a user's callback, looks at the module this epoch
    try:
        est.notify("on_epoch_end", **hooks)
    except KeyboardInterrupt:
        if est._stopped_by is None or sigint():  # a real Ctrl-C, not a stop rule
            raise
        est._finish_early(train, valid)
        finish(k)


@torch.no_grad()
def _rescale(params: list[torch.Tensor], targets: torch.Tensor, constrained: torch.Tensor) -> None:
    """:class:`NormConstraint`'s rescaling, per stacked run: θ_k ← θ_k · w_k / ‖θ_k‖₂ where constrained."""
    norms = torch.stack([p.flatten(1).norm(dim=1) for p in params], dim=1)
    total = torch.linalg.vector_norm(norms, dim=1)
    scale = torch.where(constrained, targets / total, torch.ones_like(total))
    for p in params:
        p.mul_(scale.view((-1,) + (1,) * (p.dim() - 1)))
