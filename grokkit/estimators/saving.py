"""Saving and loading parameters, also into a new estimator that has not seen data.

skorch's ``load_params`` needs an initialised net, and a grokkit net cannot be
initialised without the shapes and classes it learns from the data. So the
params file carries them: it is the module's ``state_dict`` plus one entry,
``"grokkit.fit"``, with the task attributes, the epoch-0 record of
``progress_`` and the step count, all plain Python values. A fresh estimator
of the same parameters initialises itself from that entry, then loads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from skorch.history import History

from grokkit._validation import resolve_device
from grokkit.estimators.loop import best_scores, seeded
from grokkit.progress import progress_frame

#: The entry of a saved params file that lets a fresh estimator rebuild the run.
TASK_KEY = "grokkit.fit"
#: Fitted attributes that describe the task (set when encoding the training data).
_TASK_ATTRS = ("n_features_in_", "feature_names_in_", "n_outputs_", "classes_", "_y_is_1d")


class Persistence:
    """Mixin of :class:`~grokkit.estimators.base.GrokNet`: skorch's save/load, for fresh estimators too."""

    def save_params(self, f_params: Any = None, **kwargs: Any) -> None:
        """skorch's ``save_params``; the params file also holds what a fresh estimator needs.

        The file is the module's ``state_dict`` plus one entry, ``"grokkit.fit"``:
        the task attributes (``n_features_in_``, ``classes_``...), the epoch-0
        record of ``progress_`` and the step count, all plain Python values, so
        ``load_params`` works on a new, unfitted estimator of the same
        parameters (``torch.load(..., weights_only=True)`` reads it too).
        """
        f_params = f_params if f_params is not None else kwargs.pop("f_module", None)
        super().save_params(**kwargs)
        if f_params is None:
            return
        if kwargs.get("use_safetensors"):
            super().save_params(f_params=f_params, **kwargs)
            return
        state = dict(self.module_.state_dict())
        state[TASK_KEY] = {
            **{name: _plain(getattr(self, name)) for name in _TASK_ATTRS if hasattr(self, name)},
            "initial_record": dict(self.initial_record_),
            "n_steps": int(self.n_steps_),
        }
        torch.save(state, f_params)

    def load_params(self, f_params: Any = None, f_optimizer: Any = None, f_criterion: Any = None,
                    f_history: Any = None, checkpoint: Any = None, **kwargs: Any) -> None:
        """skorch's ``load_params``, which also works on a new, unfitted estimator.

        An unfitted estimator initialises itself from the ``"grokkit.fit"``
        entry of the params file (see :meth:`save_params`) before loading; the
        loaded history rebuilds ``progress_`` and ``n_steps_``.
        """
        f_params = f_params if f_params is not None else kwargs.pop("f_module", None)
        if checkpoint is not None and not hasattr(checkpoint, "get_formatted_files"):
            # TrainEndCheckpoint wraps a Checkpoint, built by its initialize()
            if not hasattr(checkpoint, "checkpoint_"):
                checkpoint.initialize()
            checkpoint = checkpoint.checkpoint_
        if checkpoint is not None:
            if f_history is None and checkpoint.f_history is not None:
                f_history = checkpoint.f_history_
                self.history_ = History.from_file(f_history)
            files = checkpoint.get_formatted_files(self)
            f_params = f_params or files.get("f_params") or files.get("f_module")
            f_optimizer = f_optimizer or files.get("f_optimizer")
            f_criterion = f_criterion or files.get("f_criterion")
        task = None
        if f_params is not None and kwargs.get("use_safetensors"):
            if not self.initialized_:
                raise ValueError(
                    f"{type(self).__name__} has not seen data, and a safetensors params file holds only "
                    "the module's tensors, not its shapes and classes: fit it first, or save with "
                    "save_params(f_params=...) without use_safetensors, which a fresh estimator loads.")
            super().load_params(f_params=f_params, **kwargs)
            f_params = None
        if f_params is not None:
            device = self.device_ if self.initialized_ else resolve_device(self.device)
            state = torch.load(f_params, map_location=device, weights_only=True)
            task = state.pop(TASK_KEY, None)
            if not self.initialized_:
                self._initialize_from(task, f_params)
            self.module_.load_state_dict(state)
        elif not self.initialized_:
            raise ValueError(f"{type(self).__name__} is not fitted: load_params needs f_params (or a "
                             "checkpoint) saved by grokkit's save_params to initialise it.")
        super().load_params(f_optimizer=f_optimizer, f_criterion=f_criterion, f_history=f_history, **kwargs)
        if task is not None:
            self.initial_record_ = dict(task["initial_record"])
        history = self.history
        self.n_steps_ = int(history[-1]["step"]) if len(history) else int((task or {}).get("n_steps", 0))
        self._best_scores = best_scores(history)
        self.progress_ = progress_frame(history, self.initial_record_)

    def _initialize_from(self, task: dict[str, Any] | None, source: Any) -> None:
        if task is None:
            raise ValueError(f"{source!r} holds no {TASK_KEY!r} entry (it was not saved by a grokkit "
                             "estimator's save_params); fit this estimator before loading it.")
        self._check_params()
        for name in _TASK_ATTRS:
            if name in task:
                value = task[name]
                setattr(self, name, np.asarray(value) if isinstance(value, list) else value)
        history = self.history_
        with seeded(self._seed(), resolve_device(self.device)):
            self.initialize()
        if history is not None:
            self.history_ = history



def _plain(value: Any) -> Any:
    """A fitted attribute as a value ``torch.load(weights_only=True)`` accepts."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
