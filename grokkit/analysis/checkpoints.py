"""``progress_`` over a series of checkpoints: a run's own, or one trained elsewhere.

The grokking checkpoints that circulate (e.g. Nanda et al.'s p = 113 model with
its intermediate checkpoints, TransformerLens ``HookedTransformer`` state
dicts) come without grokkit's measures. :func:`progress_from_checkpoints` loads
each checkpoint into a fitted estimator's module and records the row that the
estimator's :class:`~grokkit.callbacks.ProgressRecorder` would have recorded at
that epoch: the same computation (:func:`grokkit.callbacks.recording.measure_row`),
so the table is the one a grokkit run records and every plot of ``progress_``
draws it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from grokkit.callbacks.recording import measure_row
from grokkit.measures.registry import resolve_measures
from grokkit.progress import progress_frame

StateDict = Mapping[str, torch.Tensor]


def load_kept_checkpoints(checkpoint_dir: str | Path) -> dict[int, dict[str, torch.Tensor]]:
    """The checkpoints a run with ``checkpoint_dir`` and ``keep_checkpoints=True`` wrote: epoch -> state dict.

    They are the files ``<checkpoint_dir>/kept/<epoch>.pt`` (see
    :mod:`grokkit.estimators.resume`), read with ``weights_only=True`` onto the CPU.
    """
    kept = Path(checkpoint_dir) / "kept"
    if not kept.is_dir():
        raise ValueError(f"checkpoint_dir {str(checkpoint_dir)!r} has no kept/ folder; it is written by a "
                         "fit with checkpoint_dir and keep_checkpoints=True.")
    files = {int(path.stem): path for path in kept.glob("*.pt") if re.fullmatch(r"\d+", path.stem)}
    return {epoch: torch.load(files[epoch], map_location="cpu", weights_only=True) for epoch in sorted(files)}


def _checkpoint_items(checkpoints: Any) -> list[tuple[int, StateDict]]:
    if isinstance(checkpoints, (str, Path)):
        checkpoints = load_kept_checkpoints(checkpoints)
    items = list(checkpoints.items()) if isinstance(checkpoints, Mapping) else list(checkpoints)
    out = []
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Mapping)):
            raise TypeError("checkpoints must map epochs to state dicts, or be (epoch, state_dict) pairs "
                            f"or a checkpoint_dir; got an item of type {type(item).__name__}.")
        epoch = item[0]
        if isinstance(epoch, bool) or not float(epoch).is_integer() or epoch < 0:
            raise ValueError(f"checkpoint epochs must be integers >= 0; got {epoch!r}.")
        out.append((int(epoch), item[1]))
    if not out:
        raise ValueError("checkpoints is empty; pass at least one (epoch, state_dict).")
    epochs = [epoch for epoch, _ in out]
    if len(set(epochs)) != len(epochs):
        raise ValueError(f"checkpoint epochs must be distinct; got {epochs}.")
    return sorted(out, key=lambda item: item[0])


def progress_from_checkpoints(
    estimator: Any,
    checkpoints: Mapping[int, StateDict] | Iterable[tuple[int, StateDict]] | str | Path,
    X: Any,
    y: Any,
    eval_set: tuple[Any, Any] | None = None,
    *,
    steps: Mapping[int, int] | None = None,
    convert: Callable[[StateDict], StateDict] | None = None,
    measures: Any = None,
) -> pd.DataFrame:
    """The ``progress_`` table of a series of checkpoints, as a grokkit run records it.

    For each checkpoint, in epoch order, the state dict is loaded into
    ``estimator.module_`` and one row is measured exactly as the estimator's
    recorder measures it during a fit: ``epoch``, ``step``, ``train_loss``
    and ``train_acc`` on ``(X, y)`` in eval mode, ``test_loss`` and
    ``test_acc`` on ``eval_set``, then every measure (for a
    :class:`~grokkit.estimators.ModularTransformer`, e.g. ``n_key_frequencies``,
    ``restricted_loss``, ``excluded_loss`` and ``embedding_fourier_norms``,
    Nanda et al. §5). The module's parameters are restored afterwards.

    Parameters
    ----------
    estimator : fitted grokkit estimator
        Whose module has the checkpoints' shapes and whose ``measures`` (and
        loss) are used: the estimator of the run, or one from
        :meth:`ModularTransformer.from_hooked_transformer`.
    checkpoints : mapping epoch -> state dict, (epoch, state dict) pairs, or a path
        A run's ``checkpoints_`` (``keep_checkpoints=True``), its
        ``checkpoint_dir`` (the files ``kept/<epoch>.pt``), or a foreign series,
        e.g. ``zip(saved["checkpoint_epochs"], saved["checkpoints"])``.
    X, y : array-like
        The training split the run trained on.
    eval_set : (X_test, y_test), optional
        The test split; without it the table has no test columns.
    steps : mapping epoch -> step, optional
        Optimizer steps at each checkpoint. By default
        ``epoch · ⌈n_train / batch_size⌉`` (one step per epoch full-batch),
        which is what a grokkit run counts.
    convert : callable, optional
        Applied to each state dict before loading, e.g.
        ``functools.partial(state_dict_from_hooked, config=cfg)`` for
        TransformerLens ``HookedTransformer`` checkpoints
        (:func:`grokkit.models.hooked_format.state_dict_from_hooked`).
    measures : sequence, optional
        Measures to record instead of ``estimator.measures``.

    Returns
    -------
    pandas.DataFrame
        One row per checkpoint; columns as in a fit's ``progress_``.
    """
    check_is_fitted(estimator, "module_")
    items = _checkpoint_items(checkpoints)
    if convert is not None and not callable(convert):
        raise TypeError(f"convert must be callable or None; got {type(convert).__name__}.")
    if steps is not None and not isinstance(steps, Mapping):
        raise TypeError(f"steps must map epochs to step counts; got {type(steps).__name__}.")
    train = estimator._to_device(estimator._encode_train(X, y, reset=False))
    valid = estimator._to_device(estimator._encode_eval(eval_set))
    resolved = resolve_measures(estimator.measures if measures is None else measures)
    batch_size = estimator.batch_size
    size = len(train) if batch_size in (None, -1) else min(int(batch_size), len(train))
    per_epoch = math.ceil(len(train) / size)
    if steps is not None:
        missing = [epoch for epoch, _ in items if epoch not in steps]
        if missing:
            raise ValueError(f"steps has no entry for the checkpoint epochs {missing}.")
    module = estimator.module_
    saved = {key: value.detach().clone() for key, value in module.state_dict().items()}
    rows = []
    try:
        for epoch, state in items:
            state = convert(state) if convert is not None else state
            with torch.no_grad():
                module.load_state_dict(state)
            step = steps[epoch] if steps is not None else epoch * per_epoch
            rows.append({"epoch": epoch, **measure_row(estimator, resolved, train, valid, step=step)})
    finally:
        with torch.no_grad():
            module.load_state_dict(saved)
    return progress_frame(rows)
