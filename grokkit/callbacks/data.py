"""The tensors a training run keeps on its device, shared with the callbacks."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SplitData:
    """One split (train or eval) as tensors on the training device.

    Attributes
    ----------
    X : Tensor
        Model inputs.
    target : Tensor
        What the loss compares outputs with: class indices for cross-entropy,
        one-hot rows for MSE classification, values for regression.
    y : Tensor
        The labels as the user gave them, encoded: class indices for
        classifiers, values for regressors (what measures and accuracy use).
    """

    X: torch.Tensor
    target: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return self.X.shape[0]
