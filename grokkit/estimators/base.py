"""GrokNet, the base of every grokkit estimator: a skorch ``NeuralNet`` composed of one idea per module.

- :mod:`~grokkit.estimators.params`: the parameters, declared once along the
  class hierarchy, and their validation;
- :mod:`~grokkit.estimators.objective`: criterion, penalties, optimizer;
- :mod:`~grokkit.estimators.loop`: the training loop and skorch's callback protocol;
- :mod:`~grokkit.estimators.evaluation`: the one inference path (recording, prediction);
- :mod:`~grokkit.estimators.saving`: ``save_params``/``load_params``, also into a fresh estimator;
- :mod:`~grokkit.estimators.resume`: resumable runs (``checkpoint_dir``).

This module builds the net (module, callbacks, history) and runs ``fit`` and
``partial_fit``. A subclass says which module it builds
(:meth:`GrokNet.build_module`), how inputs and targets are validated and
encoded, and declares its own parameters.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer
from skorch.dataset import Dataset
from torch import nn
from torch.utils.data import DataLoader

from grokkit._validation import resolve_device
from grokkit.callbacks import (
    EpochProgressBar,
    Grokfast,
    InputNoise,
    NormConstraint,
    ProgressRecorder,
    SplitData,
)
from grokkit.estimators import resume as resuming
from grokkit.estimators.evaluation import Evaluation
from grokkit.estimators.loop import INIT_LOCK, TrainingDiverged, TrainingLoop, seeded
from grokkit.estimators.objective import Objective
from grokkit.estimators.params import SHARED_PARAMS, DeclaredParams
from grokkit.estimators.penalties import penalty_params
from grokkit.estimators.saving import Persistence
from grokkit.models.init import scale_parameters_

__all__ = ["GrokNet", "TrainingDiverged"]

#: Floating dtypes a model can train in.
DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}


class GrokNet(DeclaredParams, Objective, Evaluation, TrainingLoop, Persistence, NeuralNet):
    """Base class of grokkit's estimators (not used directly).

    Subclasses implement :meth:`build_module`, ``_encode_train``,
    ``_encode_eval`` and the prediction methods of their task.
    """

    _params = {**SHARED_PARAMS, **penalty_params("all")}

    # skorch components that are fixed, not constructor parameters.
    module = None
    criterion = None
    iterator_train = DataLoader
    iterator_valid = DataLoader
    dataset = Dataset
    train_split = None
    predict_nonlinearity = None
    warm_start = False
    use_caching = "auto"
    torch_load_kwargs = None
    # skorch state, set by initialize(); class-level defaults keep __init__
    # limited to storing parameters, as scikit-learn requires.
    initialized_ = False
    history_ = None
    virtual_params_: dict = {}
    initial_record_: dict = {}

    #: dtype of the model input (float for features, int64 for tokens).
    _input_dtype: Any = np.float32

    # ------------------------------------------------------------------ params
    def get_params(self, deep: bool = True, **kwargs: Any) -> dict[str, Any]:
        params = {name: getattr(self, name) for name in self._get_param_names()}
        params.update({k: v for k, v in vars(self).items() if "__" in k and not k.endswith("_")})
        if deep:
            for name, value in list(params.items()):
                if hasattr(value, "get_params") and not isinstance(value, type):
                    params.update({f"{name}__{k}": v for k, v in value.get_params().items()})
        return params

    def set_params(self, **params: Any) -> GrokNet:
        """Set parameters; like scikit-learn's, with skorch's prefixed names too.

        Plain parameters are stored and take effect at the next ``fit``; on a
        fitted estimator ``lr`` and ``weight_decay`` also update the optimizer,
        so that :meth:`partial_fit` continues with them. Prefixed names
        (``optimizer__eps``, ``callbacks__name__param``) follow skorch.
        """
        names = set(self._get_param_names())
        plain = {k: v for k, v in params.items() if k in names}
        for key, value in plain.items():
            setattr(self, key, value)
        if self.initialized_:
            for key in ("lr", "weight_decay"):
                if key in plain:
                    for group in self.optimizer_.param_groups:
                        group[key] = plain[key]
        rest = {k: v for k, v in params.items() if k not in names}
        if rest:
            super().set_params(**rest)
        return self

    def _get_params_callbacks(self, deep: bool = True) -> dict[str, Any]:
        # grokkit's own callbacks are derived from the parameters; only user
        # callbacks expose parameters, through the `callbacks` list itself.
        return {}

    def __repr__(self) -> str:
        from sklearn.base import BaseEstimator

        return BaseEstimator.__repr__(self)

    # -------------------------------------------------------- what subclasses say
    def build_module(self) -> nn.Module:
        """Return a freshly initialised module (before the α scaling)."""
        raise TypeError(f"{type(self).__name__} does not define build_module().")

    def _user_labels(self, split: SplitData) -> np.ndarray:
        """A split's targets as the user gave them (what skorch's callbacks compare predictions with)."""
        return split.y.detach().cpu().numpy()

    def task_info(self) -> dict[str, Any]:
        """Facts about the task that measures may ask for (``loss``, ``n_outputs``...)."""
        return {"loss": self.loss, "n_outputs": self.n_outputs_}

    # ----------------------------------------------------------- initialisation
    def get_default_callbacks(self) -> list[tuple[str, Callback]]:
        # Order matters: the norm constraint rescales before the recorder
        # writes the epoch-0 row and after every step before any recording.
        callbacks: list[tuple[str, Callback]] = []
        if self.grokfast is not None:
            kind, first, lamb = self.grokfast
            setting = {"alpha": first} if kind == "ema" else {"window": first}
            callbacks.append(("grokfast", Grokfast(kind, lamb=lamb, **setting)))
        if self.constrain_norm is not False:
            callbacks.append(("norm_constraint", NormConstraint(self.constrain_norm)))
        if self.input_noise is not None:
            callbacks.append(("input_noise", InputNoise(tuple(self.input_noise))))
        callbacks.append(("progress", ProgressRecorder(self.measures, self.measure_every,
                                                       bool(self.keep_checkpoints))))
        callbacks.append(("epoch_timer", EpochTimer()))
        if self.verbose:
            callbacks.append(("progress_bar", EpochProgressBar()))
        return callbacks

    @property
    def _default_callbacks(self) -> list[tuple[str, Callback]]:
        return self.get_default_callbacks()

    def initialize_module(self) -> GrokNet:
        module = self.build_module()
        scale_parameters_(module, self.alpha)
        self.module_ = module.to(device=self.device_, dtype=DTYPES[self.dtype])
        self.module_dtype_ = next(iter(module.parameters())).dtype
        return self

    def initialize(self) -> GrokNet:
        """Build module, criterion, optimizer, callbacks and history.

        On an estimator that has not seen data (skorch's ``net.initialize();
        net.load_params(f_params=...)``) the module's shapes are not known
        yet: the parameters are validated and building waits for
        :meth:`load_params`, which reads the shapes and classes from the
        params file, or for :meth:`fit`.
        """
        if not self._task_known():
            self._check_params()
            return self
        self.device_ = resolve_device(self.device)
        self.virtual_params_ = {}
        self._initialize_callbacks()
        with self._current_init_context("module"):
            self.initialize_module()
        with self._current_init_context("criterion"):
            self.initialize_criterion()
        self._initialize_optimizer()
        self._initialize_history()
        self._validate_params()
        self.n_steps_ = 0
        self.diverged_ = False
        self.stopped_by_ = None
        self.checkpoints_: dict[int, dict[str, torch.Tensor]] = {}
        self.initial_record_ = {}
        self.initialized_ = True
        return self

    def _task_known(self) -> bool:
        """True once the data (fit) or a params file (load_params) gave the module's shapes."""
        return hasattr(self, "n_outputs_")

    # ------------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any, eval_set: tuple[Any, Any] | None = None) -> GrokNet:
        """Train on all of ``X, y`` for ``max_epochs`` epochs (or continue a checkpointed run).

        Parameters
        ----------
        X, y : array-like
            Training data. All of it is trained on (no hidden validation split).
        eval_set : (X_test, y_test), optional
            Evaluated at every recorded epoch: the ``test_loss``/``test_acc``
            columns of ``progress_``, the test curve of a grokking plot.

        Returns
        -------
        self
            With ``module_``, ``history_``, ``progress_``, ``n_steps_`` and the
            task attributes (``classes_``, ``n_features_in_``...) set.
        """
        train, valid, seed = self._encode_fit(X, y, eval_set)
        with seeded(seed, resolve_device(self.device)):
            self._initialize_seeded(seed)
            train, valid = self._to_device(train), self._to_device(valid)
            epochs, state = self.max_epochs, None
            if self.checkpoint_dir is not None:
                self._fingerprint = resuming.fingerprint(self, train, valid)
                state = resuming.load_for(self, train, valid)
            if state is not None:
                finished = state["done"] and (state["stopped_by"] is not None or
                                              state["epoch"] >= self.max_epochs)
                epochs = 0 if finished else max(self.max_epochs - state["epoch"], 0)
            self._fit(train, valid, epochs, seed, state)
        return self

    def begin_fit(self, X: Any, y: Any, eval_set: Any = None,
                  data: tuple[SplitData, SplitData | None] | None = None
                  ) -> tuple[SplitData, SplitData | None, int]:
        """``fit`` up to its first epoch, for a run that another loop trains (the stacked executor).

        Validates, seeds and initialises exactly as :meth:`fit` does, then
        :meth:`begin_training`. ``data`` is the (train, valid) of a run on the
        same data already on the device, used instead of a copy. Returns the
        data on the device and the run's seed.
        """
        train, valid, seed = self._encode_fit(X, y, eval_set)
        with seeded(seed, resolve_device(self.device)):
            self._initialize_seeded(seed)
            train, valid = (self._to_device(train), self._to_device(valid)) if data is None else data
            self.begin_training(train, valid, self.max_epochs, seed)
        return train, valid, seed

    def _encode_fit(self, X: Any, y: Any, eval_set: Any) -> tuple[SplitData, SplitData | None, int]:
        """What every fit does first: validate parameters and data, draw the run's seed."""
        self._check_params()
        self._warn_about_setting(eval_set)
        return self._encode_train(X, y), self._encode_eval(eval_set), self._seed()

    def _warn_about_setting(self, eval_set: Any) -> None:
        """One warning per ``fit`` for a setting that silently gives less than the user likely wants."""
        if eval_set is None:
            warnings.warn(
                f"{type(self).__name__}.fit without eval_set records no test curve: progress_ has no "
                "test_loss/test_acc, and grokking_summary() cannot say when (or whether) the model "
                "generalised. Pass eval_set=(X_test, y_test) to record one.", UserWarning, stacklevel=4)
        if self.constrain_norm is not False and self.weight_decay != 0:
            warnings.warn(
                f"constrain_norm={self.constrain_norm!r} with weight_decay={self.weight_decay!r}: the norm "
                "constraint rescales the parameters after every step, so weight decay no longer sets "
                "their norm, only adds a shrink-and-restore to each step. Omnigrok's constrained runs use "
                "weight_decay=0; pass it to train as they do.", UserWarning, stacklevel=4)

    def _initialize_seeded(self, seed: int) -> None:
        """Seed torch and initialise atomically: torch's RNG is process-wide (see ``seeded``)."""
        with INIT_LOCK:
            torch.manual_seed(seed)
            self.initialize()

    def partial_fit(self, X: Any, y: Any, eval_set: tuple[Any, Any] | None = None,
                    classes: Any = None) -> GrokNet:
        """Continue training for ``max_epochs`` more epochs (skorch semantics).

        The first call on an unfitted estimator is :meth:`fit`. Later calls keep
        the module, optimizer state, ``history_`` and step count, so
        ``progress_`` continues where it stopped: a way to extend a run that has
        not grokked yet. ``X`` must have the features seen in the first fit.
        ``classes`` is accepted for scikit-learn compatibility and ignored:
        the classes are those of the first fit.
        """
        if not self.initialized_ or not hasattr(self, "progress_"):
            return self.fit(X, y, eval_set=eval_set)
        self._check_params()
        train = self._encode_train(X, y, reset=False)
        valid = self._encode_eval(eval_set)
        seed = self._seed() + self.n_steps_
        with seeded(seed, self.device_):
            train, valid = self._to_device(train), self._to_device(valid)
            if self.checkpoint_dir is not None:
                self._fingerprint = resuming.fingerprint(self, train, valid)
            self._fit(train, valid, self.max_epochs, seed)
        return self

    def _seed(self) -> int:
        from sklearn.utils import check_random_state

        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    def _to_device(self, split: SplitData | None) -> SplitData | None:
        if split is None:
            return None
        return SplitData(*(
            t.to(self.device_, dtype=self.module_dtype_ if t.is_floating_point() else None, non_blocking=True)
            for t in (split.X, split.target, split.y)
        ))

    # ------------------------------------------------------------------- state
    def __sklearn_is_fitted__(self) -> bool:
        # during a fit the net predicts too, as skorch's scoring callbacks need
        return getattr(self, "module_", None) is not None and (
            hasattr(self, "progress_") or vars(self).get("_training", False))

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_compiled_module", None)  # rebuilt on the next training step
        state.pop("_training", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # skorch maps tensors with `state["device"]`; map to where the net ran,
        # falling back to the CPU when that device is absent here. An unfitted
        # estimator stays unfitted: no device_ is added by copying it.
        user_device = state["device"]
        ran_on = state.get("device_")
        mapped = ran_on if ran_on is not None else torch.device("cpu")
        if mapped.type == "cuda" and not torch.cuda.is_available():
            mapped = torch.device("cpu")
        super().__setstate__({**state, "device": str(mapped)})
        if ran_on is not None:
            self.device_ = mapped
        self.device = user_device

