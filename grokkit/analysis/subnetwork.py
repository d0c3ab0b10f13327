"""Retraining sub-networks in isolation (Clauw et al. §7)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from grokkit.analysis.activations import hidden_activations
from grokkit.measures._capture import hidden_modules
from grokkit.models.masking import mask_neurons


def _layer_name(estimator: Any, layer: str | None) -> str:
    names = list(hidden_modules(estimator.module_))
    if layer is None:
        if len(names) != 1:
            raise ValueError(f"layer must name one of {', '.join(names)}; got None.")
        return names[0]
    if layer not in names:
        raise ValueError(f"layer must be one of {', '.join(names)}; got {layer!r}.")
    return layer


def retrain_masked(
    estimator: Any,
    X: Any,
    y: Any,
    keep: Any,
    layer: str | None = None,
    eval_set: tuple[Any, Any] | None = None,
    epoch: int | None = None,
    max_epochs: int | None = None,
) -> Any:
    """Continue training a fitted estimator with some hidden neurons silenced.

    A deep copy of ``estimator`` starts from its parameters at ``epoch`` (a kept
    checkpoint; default: the final ones), with the units of ``layer`` where
    ``keep`` is False set to zero for good, a fresh optimizer, an empty
    ``history_`` and the estimator's own settings; it then trains for
    ``max_epochs`` (default: the estimator's). ``estimator`` is not changed.

    Returns
    -------
    estimator
        The retrained copy; its ``progress_`` starts at epoch 0 = the masked
        network before any retraining step.
    """
    layer = _layer_name(estimator, layer)
    keep = np.asarray(keep, dtype=bool)
    width = hidden_activations(estimator, np.asarray(X)[:2], epoch)[layer].shape[1]
    if keep.shape != (width,):
        raise ValueError(f"keep must have one entry per unit of {layer} ({width}); got shape {keep.shape}.")
    sub = copy.deepcopy(estimator)
    if epoch is not None:
        sub.module_.load_state_dict(estimator.checkpoints_[epoch])
    mask_neurons(sub.module_, layer, keep)
    sub._initialize_optimizer()
    sub.history_.clear()
    sub.initial_record_ = {}  # epoch 0 of the retraining: recorded afresh from the masked module
    sub.n_steps_ = 0
    sub.checkpoints_ = {}
    if max_epochs is not None:
        sub.set_params(max_epochs=max_epochs)
    return sub.partial_fit(X, y, eval_set=eval_set)


def synergistic_subnetwork(
    estimator: Any,
    X: Any,
    y: Any,
    analyzer: Any = None,
    eval_set: tuple[Any, Any] | None = None,
    epoch: int | None = None,
    max_epochs: int | None = None,
) -> dict[str, Any]:
    """Clauw et al. §7: retrain the most synergistic sub-network and its inverse in isolation.

    ``analyzer`` (an :class:`~grokkit.analysis.OInformationAnalyzer`, default
    settings if None) is fitted on the hidden activations on ``X`` at ``epoch``
    (Clauw take a checkpoint of the emergence phase); the neurons of its most
    synergistic multiplet of bins form the sub-network. Both the sub-network
    (all other neurons zeroed) and its inverse (those neurons zeroed) are
    retrained from that checkpoint with :func:`retrain_masked`.

    Returns
    -------
    dict
        ``neurons`` (indices of the sub-network), ``subnetwork`` and ``inverse``
        (the retrained estimators) and ``summary`` (a DataFrame comparing their
        grokking summaries).
    """
    from grokkit.analysis.oinfo import OInformationAnalyzer

    analyzer = OInformationAnalyzer() if analyzer is None else analyzer
    layers = hidden_activations(estimator, X, epoch)
    layer = _layer_name(estimator, analyzer.layer)
    analyzer.fit(layers[layer])
    neurons = np.asarray(analyzer.synergistic_neurons_)
    keep = np.zeros(layers[layer].shape[1], dtype=bool)
    keep[neurons] = True
    runs = {
        "subnetwork": retrain_masked(estimator, X, y, keep, layer, eval_set, epoch, max_epochs),
        "inverse": retrain_masked(estimator, X, y, ~keep, layer, eval_set, epoch, max_epochs),
    }
    summary = pd.DataFrame({name: est.grokking_summary() for name, est in runs.items()}).T
    summary.insert(0, "n_neurons", [int(keep.sum()), int((~keep).sum())])
    return {"neurons": neurons, **runs, "summary": summary}
