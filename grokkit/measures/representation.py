"""How well a layer's representation separates the classes (Tan & Huang Fig. 14b)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from grokkit._validation import check_number
from grokkit.measures._capture import capture, numpy_tensor
from grokkit.measures.matrix_info import _check_subsample_params, _subsample_indices
from grokkit.measures.registry import measure

#: Query rows per block of the distance matrix, bounding memory at 4096 x n.
_CHUNK = 4096


def _labels(y: Any, n_samples: int, device: torch.device) -> torch.Tensor:
    labels = numpy_tensor(y.detach() if torch.is_tensor(y) else y)
    if labels.dim() != 1 or labels.shape[0] != n_samples:
        raise ValueError(
            f"y must be 1-D with one label per sample ({n_samples}); got shape "
            f"{tuple(labels.shape)}."
        )
    if labels.is_complex():
        raise ValueError(f"y must hold integer class labels; got dtype {labels.dtype}.")
    if labels.is_floating_point() and not bool(torch.equal(labels, labels.round())):
        raise ValueError("y must hold integer class labels; got non-integer values.")
    labels = labels.long()
    if bool((labels < 0).any()):
        raise ValueError("y must hold non-negative integer class labels.")
    return labels.to(device)


def _leave_one_out_accuracy(representation: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    """Share of samples whose k nearest *other* samples vote for their label."""
    points = representation.reshape(representation.shape[0], -1).to(torch.float64)
    n_samples = points.shape[0]
    n_classes = int(labels.max()) + 1
    correct = 0
    for start in range(0, n_samples, _CHUNK):
        stop = min(start + _CHUNK, n_samples)
        distances = torch.cdist(points[start:stop], points)
        rows = torch.arange(stop - start, device=points.device)
        distances[rows, rows + start] = float("inf")
        neighbours = distances.topk(k, dim=1, largest=False).indices
        votes = F.one_hot(labels[neighbours], n_classes).sum(dim=1)
        # argmax returns the first maximum: ties go to the smallest label, as in
        # sklearn's KNeighborsClassifier.
        predicted = votes.argmax(dim=1)
        correct += int((predicted == labels[start:stop]).sum())
    return correct / n_samples


@measure(needs=("X", "y", "activations", "logits"))
def nearest_neighbour_accuracy(
    module: nn.Module,
    X: Any,
    y: Any,
    *,
    layer: str | None = None,
    k: int = 1,
    n_samples: int | None = None,
    random_state: int = 0,
    activations: Mapping[str, torch.Tensor] | None = None,
    logits: torch.Tensor | None = None,
) -> float | dict[str, float]:
    r"""Leave-one-out k-nearest-neighbour accuracy of a layer's representation.

    .. math::
        \mathrm{acc}_k(Z) = \frac1n\sum_{i=1}^{n}\mathbb 1\Big[y_i =
        \operatorname{mode}\{y_j : j \in N_k(i)\}\Big]

    with :math:`N_k(i)` the :math:`k` samples :math:`j \ne i` nearest to :math:`z_i`
    in Euclidean distance (ties in the vote go to the smallest label). Tan & Huang
    (App. A, Fig. 14b) track it on the embedding and logit layers: a representation
    that clusters by label scores high even before the test accuracy rises.

    Parameters
    ----------
    module : nn.Module
        Read in eval mode; never modified.
    X : array or tensor
        Inputs (the training set in ``progress_``).
    y : array or tensor of shape (n_samples,)
        Integer class labels.
    layer : str, optional
        A hidden layer (``"act1"``, see :func:`grokkit.measures.hidden_modules`) or
        ``"logits"``; by default every hidden layer and the logits.
    k : int, default=1
        Number of neighbours, in [1, n_samples - 1].
    n_samples : int or None, default=None
        Read a seeded subsample of this many rows of ``X`` (neighbours are
        searched within it), as :func:`~grokkit.measures.representation_entropy`
        does: the distance matrix is ``n_samples x n_samples`` instead of
        ``len(X) x len(X)``. None, or a size above ``len(X)``, uses every row.
    random_state : int, default=0
        Seed of the subsample (the same rows at every call).
    activations, logits : optional
        Hidden activations and outputs already captured on ``X`` (the recorder
        passes them); when either is missing the module is run once.

    Returns
    -------
    float or dict
        The accuracy in [0, 1] for ``layer``, or a dict by layer name with the
        logits under ``"logits"``.
    """
    check_number("k", k, low=1, integer=True)
    _check_subsample_params(n_samples, random_state)
    if activations is None or logits is None:
        logits, activations = capture(module, X)
    representations = {**activations, "logits": logits}
    if layer is not None and layer not in representations:
        raise ValueError(
            f"layer must be one of {', '.join(map(repr, representations))}; got {layer!r}."
        )
    n_total = logits.shape[0]
    labels = _labels(y, n_total, logits.device)
    index = torch.as_tensor(_subsample_indices(n_total, n_samples, random_state), device=logits.device)
    n_rows = len(index)
    if n_rows < 2:
        raise ValueError(f"X must hold at least 2 samples; got {n_rows}.")
    if k > n_rows - 1:
        raise ValueError(
            f"k must be at most n_samples - 1 = {n_rows - 1} (leave-one-out); got {k}."
        )
    names = [layer] if layer is not None else list(representations)
    out = {
        name: _leave_one_out_accuracy(representations[name].detach()[index], labels[index], int(k))
        for name in names
    }
    return out[layer] if layer is not None else out
