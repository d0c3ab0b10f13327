"""The one inference path: recording, prediction and kept checkpoints all evaluate through it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import torch
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from grokkit.callbacks import SplitData
from grokkit.measures._capture import as_module_tensor, capture, evaluation
from grokkit.progress import grokking_summary

#: Rows evaluated at once when predicting or recording (bounds peak memory).
EVAL_CHUNK = 8192


class Evaluation:
    """Mixin of :class:`~grokkit.estimators.base.GrokNet`: outputs in eval mode, in chunks."""

    #: Rows evaluated at once when recording or predicting.
    _eval_chunk: int = EVAL_CHUNK

    def evaluate_outputs(self, X: torch.Tensor, activations: bool = False
                         ) -> tuple[torch.Tensor, dict[str, torch.Tensor] | None]:
        """Outputs on ``X`` in eval mode, and the hidden activations if asked.

        Evaluated in chunks of ``_eval_chunk`` rows to bound peak memory. The
        recorder (``progress_``) and ``predict`` both call this.
        """
        chunks = X.split(self._eval_chunk)
        if not activations:
            with evaluation(self.module_):
                return torch.cat([self.module_(chunk) for chunk in chunks]), None
        parts = [capture(self.module_, chunk) for chunk in chunks]
        outputs = torch.cat([logits for logits, _ in parts])
        return outputs, {name: torch.cat([acts[name] for _, acts in parts]) for name in parts[0][1]}

    def loss_value(self, outputs: torch.Tensor, split: SplitData) -> float:
        """Unpenalised criterion of ``outputs`` against a split's targets."""
        with torch.no_grad():
            return float(self.criterion_(outputs, split.target))

    def infer(self, x: Any, **fit_params: Any) -> torch.Tensor:
        """skorch's single-batch forward, with inputs cast to the module's device and dtype."""
        return self.module_(as_module_tensor(x, self.module_))

    def _validate_predict_inputs(self, X: Any) -> Any:
        return validate_data(self, X, reset=False, dtype=self._input_dtype)

    def forward_iter(self, X: Any, training: bool = False, device: Any = None) -> Iterator[torch.Tensor]:
        """skorch's ``forward_iter``: the module's outputs on validated ``X``, chunk by chunk, in eval mode.

        ``predict`` and ``predict_proba`` go through it, so skorch's scoring
        callbacks, which replace it with the predictions cached during the
        epoch, score those predictions as on a ``NeuralNet``.
        """
        if training:
            raise ValueError("forward_iter(training=True) is not supported: grokkit predicts in eval mode.")
        check_is_fitted(self)
        X = as_module_tensor(self._validate_predict_inputs(X), self.module_)
        for chunk in X.split(self._eval_chunk):
            with evaluation(self.module_):
                out = self.module_(chunk)
            yield out if device is None else out.to(device)

    def _predict_outputs(self, X: Any) -> torch.Tensor:
        """Validated ``X`` -> module outputs, in eval mode and in chunks (through :meth:`forward_iter`)."""
        if "forward_iter" not in vars(self):  # not a scoring callback's cached predictions
            check_is_fitted(self)
        with torch.no_grad():
            outputs = [torch.as_tensor(out).detach()
                       for out in self.forward_iter(X, training=False, device=self.device_)]
        return torch.cat(outputs)

    def module_at(self, epoch: int) -> nn.Module:
        """A copy of the module with the parameters it had at a kept checkpoint."""
        check_is_fitted(self, "checkpoints_")
        if epoch not in self.checkpoints_:
            kept = sorted(self.checkpoints_)
            if not kept:
                raise ValueError("no checkpoints were kept; fit with keep_checkpoints=True.")
            listed = ", ".join(map(str, kept)) if len(kept) <= 8 else (
                f"{', '.join(map(str, kept[:5]))}, ..., {', '.join(map(str, kept[-3:]))}")
            raise ValueError(
                f"epoch {epoch!r} has no checkpoint: checkpoints are kept at the recorded epochs "
                f"only ({len(kept)} of them: {listed}; measure_every={self.measure_every!r})."
            )
        module = copy.deepcopy(self.module_)
        module.load_state_dict(self.checkpoints_[epoch])
        return module.eval()

    def grokking_summary(self, train_threshold: float = 0.99, test_threshold: float | None = None
                         ) -> dict[str, Any]:
        """:func:`grokkit.analysis.grokking_summary` of this run's ``progress_``.

        By default "generalised" is grokkit's one definition
        (:data:`grokkit.progress.GENERALISED`); the summary's ``missing`` says
        why a step it could not give is ``None`` (no ``eval_set``, a level never
        reached).
        """
        check_is_fitted(self, "progress_")
        return grokking_summary(self.progress_, train_threshold, test_threshold)
