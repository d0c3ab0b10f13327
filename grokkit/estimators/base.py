"""The shared machinery of every grokkit estimator: a lean skorch ``NeuralNet``.

What a subclass says: which module it builds (:meth:`GrokNet.build_module`),
how inputs and targets are validated and encoded, and its own constructor
parameters. Everything else lives here once: the Omnigrok α scaling, the
optimizer, norm constraint and norm penalty, the fast in-memory training
loop, divergence handling, ``progress_`` and the scikit-learn contract.

Why the training loop is overridden
    Grokking runs are 10⁴–10⁵ small steps on data that fits in memory. skorch's
    default loop builds a DataLoader batch by batch, records every batch in
    ``history`` and calls every callback per batch, which multiplies the cost
    of a tiny step. Here the data is placed on the device once, batches are
    slices of a seeded permutation, the history is written per epoch, and only
    callbacks that implement ``on_batch_begin``/``on_grad_computed``/
    ``on_batch_end`` are called per batch. The semantics of skorch callbacks
    are kept.
"""

from __future__ import annotations

import inspect
import math
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import Dataset
from torch import nn
from torch.utils.data import DataLoader

from grokkit._threads import flushing_denormals
from grokkit._validation import check_bool, check_number, check_options, resolve_device
from grokkit.callbacks import EpochProgressBar, InputNoise, NormConstraint, ProgressRecorder, SplitData
from grokkit.callbacks.noise import check_lambdas
from grokkit.measures._capture import as_module_tensor, capture, evaluation
from grokkit.measures.registry import resolve_measures
from grokkit.models.init import scale_parameters_
from grokkit.progress import check_measure_every, grokking_summary, progress_frame

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adamw": torch.optim.AdamW,
    "adam": torch.optim.Adam,
    "sgd": torch.optim.SGD,
}

#: Rows of a minibatch on which the ``mi_penalty`` term is computed (three
#: eigendecompositions of this size per step).
MI_PENALTY_SAMPLES = 256
#: Serialises seeded initialisation across threads (torch's global RNG is shared).
_INIT_LOCK = threading.RLock()
#: Rows evaluated at once when predicting or recording (bounds peak memory).
EVAL_CHUNK = 8192
#: Floating dtypes a model can train in.
DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}

_SHARED_DOC = """
    alpha : float, default=1.0
        Omnigrok's **initialisation scale**: after PyTorch's default
        initialisation every parameter (biases included) is multiplied by α
        (Liu, Michaud & Tegmark, §2). α = 8 with weight decay makes MNIST grok.
        This is *not* scikit-learn ``MLPClassifier``'s ``alpha`` (an L2 penalty):
        for that, use ``weight_decay`` or ``norm_penalty``.
    weight_decay : float, default=0.01
        Decoupled weight decay γ of AdamW (L2 for ``optimizer="adam"``/``"sgd"``).
        Omnigrok: time to generalise ∝ 1/γ.
    lr : float, default=1e-3
    betas : (float, float), default=(0.9, 0.999)
        Adam/AdamW moment decay rates; the modular settings use (0.9, 0.98)
        (Nanda et al., Clauw et al.). Ignored by SGD.
    optimizer : {"adamw", "adam", "sgd"} or torch optimizer class, default="adamw"
        Extra optimizer arguments go through skorch's prefix, e.g.
        ``optimizer__betas=(0.9, 0.98)``.
    max_epochs : int
    batch_size : int or None, default=200
        ``-1`` or ``None`` = full batch (one step per epoch).
    constrain_norm : bool or float, default=False
        ``True`` keeps ‖θ‖₂ at its initial value, a float keeps it at that
        value: after every optimizer step all parameters are rescaled
        (Omnigrok's constrained runs, which remove grokking). Use with
        ``weight_decay=0``.
    norm_penalty : float, default=0.0
        δ in L + δ‖θ‖²₂. A negative δ pushes the norm *up* (Golechha §3: the
        network still groks while its norm grows; δ = −2e-10 there).
    input_noise : (float, float) or None, default=None
        Tan & Huang's adaptive input noise (§3.2): train on inputs (token
        embeddings for token models) plus N(0, σ²) with
        σ = max(λ₁ (1 − train acc), λ₂), updated every epoch. Speeds up
        generalisation (their Fig. 3). Evaluation uses clean inputs.
    mi_penalty : float, default=0.0
        Weight w of Tan & Huang's MI-regularised training (§4.3, Fig. 8): the
        loss becomes L − w · I(X; f(X)), with I the matrix mutual information
        (order 1) between the inputs and the outputs, differentiable, on a
        random subsample of ``MI_PENALTY_SAMPLES`` = 256 rows of each minibatch.
        Maximising it speeds up generalisation in their experiments.
    measures : sequence, default: the Golechha progress measures
        Names from :func:`grokkit.measures.available_measures`, ``(name,
        params)`` pairs, or callables ``f(module, X, y) -> float | dict``.
        Each becomes one or more ``progress_`` columns.
    measure_every : int or "log", default="log"
        Record ``progress_`` every k epochs, or at ~20 log-spaced epochs per
        decade (plus the first and last).
    keep_checkpoints : bool, default=False
        Keep a CPU copy of the parameters at every recorded epoch in
        ``checkpoints_`` (epoch -> state dict); :meth:`module_at` rebuilds the
        module at any of them, e.g. for ``OInformationAnalyzer`` over a run.
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        ``"auto"`` picks CUDA when available.
    dtype : {"float32", "float64"}, default="float32"
        Floating dtype of the parameters and of float inputs/targets. Omnigrok's
        and Nanda et al.'s public code train in float64: in float32 the
        ModularTransformer's train loss, 3.7e-7 at epoch 1 500, jumped tenfold
        twice (up to 0.9) by epoch 3 000; in float64 it did not. float64 costs
        about 2x per step on CPU. The initial parameters are the float32 ones
        cast, so both start from the same point.
    flush_denormal : bool, default=False
        Flush subnormal floats to zero on the CPU during ``fit`` (switched
        off afterwards). Long runs whose gradients vanish (train loss near
        zero, norm-constrained runs) fill Adam's state with subnormals, which
        x86 CPUs process many times slower; flushing only changes values below
        1.2e-38. The switch is per thread: it takes full effect when torch
        runs on one thread (as ``ReducedLandscape`` grid points do; measured on
        the constrained transformer: 89 ms/step throughout vs 88 → 181 without),
        but OpenMP worker threads that already exist keep subnormals. For
        multi-threaded runs call ``torch.set_flush_denormal(True)`` at the top
        of the script, before torch starts its thread pool (measured: 47 → 43
        ms/step vs 50 → 118 without, 2 threads). No effect on CUDA.
    compile : bool, default=False
        Run the training step's forward through :func:`torch.compile`
        (options as skorch's prefixed parameters: ``compile__mode="max-autotune"``,
        ``compile__backend=...``). Only the training forward is compiled:
        evaluation, measures and their forward hooks use the eager module,
        which shares the parameters, so ``module_``, checkpoints and pickles
        are unchanged. It is meant for larger models on GPU; on this project's
        2-core CPU it made the modular MLP slower (10 vs 4.7 ms/step). An
        adaptive ``input_noise`` changes σ every epoch, which recompiles.
    random_state : int, RandomState or None, default=None
        Seeds the initialisation, the minibatch order, dropout and the measures.
    verbose : int, default=0
        ``1`` shows a tqdm bar over epochs with train/test accuracy.
    on_divergence : {"raise", "warn"}, default="raise"
        A non-finite loss (common at large α) stops training either way;
        ``progress_`` keeps every row up to and including the failed epoch.
        ``"raise"`` then raises :class:`TrainingDiverged` (a ``ValueError``;
        ``GridSearchCV`` scores such a fit with ``error_score``), ``"warn"``
        warns and returns the stopped estimator with ``diverged_ = True``.
    callbacks : list of skorch callbacks, optional
        Added after grokkit's own (norm constraint, input noise, recorder,
        progress bar).
"""


class TrainingDiverged(ValueError):
    """Raised when the training loss becomes NaN or infinite."""


def _merge_signature(cls: type) -> None:
    """Give ``cls.__init__`` the full signature: its own parameters, then the shared ones.

    scikit-learn reads parameter names from the ``__init__`` signature (for
    ``get_params``, ``clone`` and ``repr``); subclasses declare only their own
    parameters and pass the rest to :meth:`GrokNet.__init__` as ``**kwargs``.
    Setting ``__signature__`` keeps one definition of the shared parameters
    while every estimator still shows its complete signature.
    """
    own = inspect.signature(cls.__dict__["__init__"])
    shared = inspect.signature(GrokNet.__init__)
    params = [p for p in own.parameters.values() if p.kind is not p.VAR_KEYWORD]
    names = {p.name for p in params}
    for p in shared.parameters.values():
        if p.name not in names and p.kind is not p.VAR_KEYWORD and p.name != "self":
            params.append(p.replace(kind=p.KEYWORD_ONLY))
    # **kwargs (skorch-prefixed arguments such as optimizer__betas) stays
    # accepted but out of the signature: scikit-learn treats every signature
    # entry as a parameter.
    cls.__init__.__signature__ = own.replace(parameters=params)


class GrokNet(NeuralNet):
    """Base class of grokkit's estimators (not used directly).

    Subclasses implement :meth:`build_module`, :meth:`_encode_train`,
    :meth:`_encode_eval` and the prediction methods of their task.
    """

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

    #: Losses a subclass accepts; the first is its default.
    _losses: tuple[str, ...] = ("cross_entropy", "mse")
    #: dtype of the model input (float for features, int64 for tokens).
    _input_dtype: Any = np.float32
    #: Rows evaluated at once when recording or predicting.
    _eval_chunk: int = EVAL_CHUNK

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            _merge_signature(cls)

    def __init__(
        self,
        *,
        alpha: float = 1.0,
        weight_decay: float = 0.01,
        lr: float = 1e-3,
        optimizer: str | type[torch.optim.Optimizer] = "adamw",
        betas: tuple[float, float] = (0.9, 0.999),
        loss: str = "cross_entropy",
        max_epochs: int = 1000,
        batch_size: int | None = 200,
        constrain_norm: bool | float = False,
        norm_penalty: float = 0.0,
        input_noise: tuple[float, float] | None = None,
        mi_penalty: float = 0.0,
        measures: Sequence[Any] | None = (
            "weight_norm", "weight_entropy", "activation_sparsity", "circuit_complexity",
        ),
        measure_every: int | str = "log",
        keep_checkpoints: bool = False,
        device: str | torch.device = "cpu",
        dtype: str = "float32",
        flush_denormal: bool = False,
        compile: bool = False,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        on_divergence: str = "raise",
        callbacks: list | None = None,
        **kwargs: Any,
    ) -> None:
        self.alpha = alpha
        self.weight_decay = weight_decay
        self.lr = lr
        self.optimizer = optimizer
        self.betas = betas
        self.loss = loss
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.constrain_norm = constrain_norm
        self.norm_penalty = norm_penalty
        self.input_noise = input_noise
        self.mi_penalty = mi_penalty
        self.measures = measures
        self.measure_every = measure_every
        self.keep_checkpoints = keep_checkpoints
        self.device = device
        self.dtype = dtype
        self.flush_denormal = flush_denormal
        self.compile = compile
        self.random_state = random_state
        self.verbose = verbose
        self.on_divergence = on_divergence
        self.callbacks = callbacks
        # skorch-style prefixed arguments (optimizer__betas, callbacks__x__y, ...)
        self._params_to_validate = set(kwargs)
        vars(self).update(kwargs)

    # ------------------------------------------------------------------ params
    @classmethod
    def _get_param_names(cls) -> list[str]:  # type: ignore[override]
        sig = inspect.signature(cls.__init__)
        return sorted(
            name for name, p in sig.parameters.items()
            if name != "self" and p.kind is not p.VAR_KEYWORD
        )

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
        (``optimizer__betas``, ``callbacks__name__param``) follow skorch.
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

    def _check_params(self) -> None:
        """Validate every shared parameter (called by ``fit``, never by ``__init__``)."""
        check_number("alpha", self.alpha, low=0, low_inclusive=False)
        if not math.isfinite(self.alpha):
            raise ValueError(f"alpha must be finite; got {self.alpha!r}.")
        check_number("weight_decay", self.weight_decay, low=0)
        check_number("lr", self.lr, low=0, low_inclusive=False)
        if isinstance(self.optimizer, str):
            check_options("optimizer", self.optimizer, OPTIMIZERS)
        elif not (isinstance(self.optimizer, type) and issubclass(self.optimizer, torch.optim.Optimizer)):
            raise TypeError(
                f"optimizer must be one of {', '.join(map(repr, OPTIMIZERS))} or a "
                f"torch.optim.Optimizer subclass; got {self.optimizer!r}."
            )
        if not (isinstance(self.betas, (tuple, list)) and len(self.betas) == 2):
            raise ValueError(f"betas must be a pair (beta1, beta2); got {self.betas!r}.")
        for beta in self.betas:
            check_number("betas", beta, low=0, high=1, high_inclusive=False)
        check_options("loss", self.loss, self._losses)
        check_number("max_epochs", self.max_epochs, low=1, integer=True)
        if self.batch_size is not None and self.batch_size != -1:
            check_number("batch_size", self.batch_size, low=1, integer=True)
        if not isinstance(self.constrain_norm, bool):
            check_number("constrain_norm", self.constrain_norm, low=0, low_inclusive=False)
        check_number("norm_penalty", self.norm_penalty)
        if self.input_noise is not None:
            check_lambdas(self.input_noise)
        check_number("mi_penalty", self.mi_penalty)
        check_measure_every(self.measure_every)
        for name in ("keep_checkpoints", "flush_denormal", "compile"):
            check_bool(name, getattr(self, name))
        check_options("dtype", self.dtype, DTYPES)
        resolve_measures(self.measures)
        check_number("verbose", self.verbose, low=0, integer=True)
        check_options("on_divergence", self.on_divergence, ("raise", "warn"))
        resolve_device(self.device)

    # -------------------------------------------------------- what subclasses say
    def build_module(self) -> nn.Module:
        """Return a freshly initialised module (before the α scaling)."""
        raise TypeError(f"{type(self).__name__} does not define build_module().")

    def task_info(self) -> dict[str, Any]:
        """Facts about the task that measures may ask for (``loss``, ``n_outputs``...)."""
        return {"loss": self.loss, "n_outputs": self.n_outputs_}

    # ----------------------------------------------------------- initialisation
    def get_default_callbacks(self) -> list[tuple[str, Callback]]:
        # Order matters: the norm constraint rescales before the recorder
        # writes the epoch-0 row and after every step before any recording.
        callbacks = []
        if self.constrain_norm is not False:
            callbacks.append(("norm_constraint", NormConstraint(self.constrain_norm)))
        if self.input_noise is not None:
            callbacks.append(("input_noise", InputNoise(tuple(self.input_noise))))
        callbacks.append(("progress", ProgressRecorder(self.measures, self.measure_every,
                                                       bool(self.keep_checkpoints))))
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

    def initialize_criterion(self) -> GrokNet:
        criterion = nn.CrossEntropyLoss() if self.loss == "cross_entropy" else nn.MSELoss()
        self.criterion_ = criterion.to(self.device_)
        return self

    def initialize_optimizer(self, triggered_directly: Any = None) -> GrokNet:
        opt_cls = OPTIMIZERS[self.optimizer] if isinstance(self.optimizer, str) else self.optimizer
        kwargs = {"lr": self.lr, "weight_decay": self.weight_decay}
        if issubclass(opt_cls, (torch.optim.Adam, torch.optim.AdamW)):
            kwargs["betas"] = tuple(self.betas)
        kwargs.update(self.get_params_for("optimizer"))
        self.optimizer_ = opt_cls(self.module_.parameters(), **kwargs)
        return self

    def initialize(self) -> GrokNet:
        """Build module, criterion, optimizer, callbacks and history."""
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
        self.checkpoints_: dict[int, dict[str, torch.Tensor]] = {}
        self.initialized_ = True
        return self

    # ------------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any, eval_set: tuple[Any, Any] | None = None) -> GrokNet:
        """Train on all of ``X, y`` for ``max_epochs`` epochs.

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
        self._check_params()
        train = self._encode_train(X, y)
        valid = self._encode_eval(eval_set)
        seed = self._seed()
        with _seeded(seed, resolve_device(self.device)):
            # torch's RNG is process-wide: seed and initialise atomically (see _seeded).
            with _INIT_LOCK:
                torch.manual_seed(seed)
                self.initialize()
            train, valid = self._to_device(train), self._to_device(valid)
            self._fit(train, valid, self.max_epochs, seed)
        return self

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
        with _seeded(seed, self.device_):
            train, valid = self._to_device(train), self._to_device(valid)
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

    def _fit(self, train: SplitData, valid: SplitData | None, epochs: int, seed: int) -> None:
        """Run ``epochs`` epochs and always leave ``progress_`` behind."""
        self._shuffle_generator = torch.Generator(device=self.device_).manual_seed(seed + 1)
        hooks = {"dataset_train": train, "dataset_valid": valid}
        flush = bool(self.flush_denormal) and self.device_.type == "cpu"
        try:
            self.notify("on_train_begin", X=train.X, y=train.y, epochs=epochs, **hooks)
            try:
                with flushing_denormals(flush):
                    self.fit_loop(train, valid, epochs)
            except KeyboardInterrupt:
                warnings.warn("Training interrupted; progress_ holds the epochs run so far.",
                              stacklevel=3)
            finally:
                self.notify("on_train_end", X=train.X, y=train.y, **hooks)
        finally:
            self.progress_ = progress_frame(self.history)
            del self._shuffle_generator

    def fit_loop(self, train: SplitData, valid: SplitData | None = None, epochs: int | None = None,
                 **fit_params: Any) -> GrokNet:
        """The epoch loop: per-epoch callbacks, divergence check, recorded rows."""
        epochs = self.max_epochs if epochs is None else epochs
        n = len(train)
        size = n if self.batch_size in (None, -1) else min(int(self.batch_size), n)
        per_batch = {
            hook: [cb for _, cb in self.callbacks_ if _overrides(cb, hook)]
            for hook in ("on_batch_begin", "on_grad_computed", "on_batch_end")
        }
        hooks = {"dataset_train": train, "dataset_valid": valid}
        for _ in range(epochs):
            self.notify("on_epoch_begin", **hooks)
            fit_loss = self._train_epoch(train, size, per_batch)
            self.history.record("fit_loss", fit_loss)
            if not math.isfinite(fit_loss):
                self._diverged(fit_loss, train, valid)
                return self
            self.notify("on_epoch_end", **hooks)
        return self

    def on_epoch_begin(self, net: Any, dataset_train: Any = None, dataset_valid: Any = None,
                       **kwargs: Any) -> None:
        last = self.history[-1]["epoch"] if len(self.history) else 0
        self.history.new_epoch()
        self.history.record("epoch", last + 1)

    def _train_epoch(self, train: SplitData, size: int, per_batch: dict[str, list]) -> float:
        module, optimizer = self.module_, self.optimizer_
        module.train()
        forward = self._training_forward()
        n = len(train)
        if size >= n:
            batches: Any = ((train.X, train.target),)
        else:
            order = torch.randperm(n, generator=self._shuffle_generator, device=self.device_)
            batches = ((train.X[idx], train.target[idx]) for idx in order.split(size))
        total = torch.zeros((), device=self.device_)
        for Xb, yb in batches:
            batch = (Xb, yb)
            for cb in per_batch["on_batch_begin"]:
                cb.on_batch_begin(self, batch=batch, training=True)
            optimizer.zero_grad(set_to_none=True)
            y_pred = forward(Xb)
            loss = self.get_loss(y_pred, yb, X=Xb, training=True)
            loss.backward()
            for cb in per_batch["on_grad_computed"]:
                cb.on_grad_computed(self, named_parameters=list(module.named_parameters()),
                                    batch=batch, training=True)
            optimizer.step()
            self.n_steps_ += 1
            for cb in per_batch["on_batch_end"]:
                cb.on_batch_end(self, batch=batch, training=True, loss=loss, y_pred=y_pred)
            total += loss.detach() * Xb.shape[0]
        return float(total) / n

    def _training_forward(self) -> Any:
        """The module as the training step calls it: compiled once when ``compile=True``."""
        if not self.compile:
            return self.module_
        cached = self.__dict__.get("_compiled_module")
        if cached is None or cached[0] is not self.module_:
            cached = (self.module_, self.torch_compile(self.module_, "module"))
            self._compiled_module = cached
        return cached[1]

    def _diverged(self, fit_loss: float, train: SplitData, valid: SplitData | None) -> None:
        self.diverged_ = True
        recorder = dict(self.callbacks_)["progress"]
        recorder.record(self, train, valid)
        epoch = self.history[-1]["epoch"]
        message = (
            f"Training diverged at epoch {epoch} (step {self.n_steps_}): the loss is {fit_loss}. "
            f"progress_ keeps the {sum('train_acc' in r for r in self.history)} recorded epochs up "
            f"to the failure. Large alpha (here {self.alpha}) or lr (here {self.lr}) often cause "
            "this; try a smaller lr or alpha, or loss='mse'."
        )
        if self.on_divergence == "raise":
            raise TrainingDiverged(message)
        warnings.warn(message, RuntimeWarning, stacklevel=4)

    def get_loss(self, y_pred: torch.Tensor, y_true: torch.Tensor, X: Any = None,
                 training: bool = False) -> torch.Tensor:
        """The objective: criterion + δ‖θ‖² (``norm_penalty``) − w·I(X; outputs) (``mi_penalty``)."""
        loss = self.criterion_(y_pred, y_true)
        if training and self.norm_penalty:
            squares = torch.stack([p.pow(2).sum() for p in self.module_.parameters()])
            loss = loss + self.norm_penalty * squares.sum()
        if training and self.mi_penalty and X is not None:
            loss = loss - self.mi_penalty * self._mutual_information(X, y_pred)
        return loss

    def _mutual_information(self, X: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Differentiable matrix MI between inputs and outputs on a random subsample of the batch."""
        from grokkit.measures.matrix_info import _matrix_mutual_information_torch

        rows = self._mi_input(X)
        if len(rows) > MI_PENALTY_SAMPLES:
            keep = torch.randperm(len(rows), generator=self._shuffle_generator,
                                  device=self.device_)[:MI_PENALTY_SAMPLES]
            rows, y_pred = rows[keep], y_pred[keep]
        return _matrix_mutual_information_torch(rows, y_pred.reshape(len(y_pred), -1))

    def _mi_input(self, X: torch.Tensor) -> torch.Tensor:
        """The input as a float matrix for the MI penalty (token models one-hot encode)."""
        return X.reshape(len(X), -1).to(self.module_dtype_)

    # ------------------------------------------------------------- evaluation
    def evaluate_outputs(self, X: torch.Tensor, activations: bool = False
                         ) -> tuple[torch.Tensor, dict[str, torch.Tensor] | None]:
        """Outputs on ``X`` in eval mode, and the hidden activations if asked.

        Evaluated in chunks of ``_eval_chunk`` rows to bound peak memory.
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

    def _predict_outputs(self, X: Any) -> torch.Tensor:
        """Validated ``X`` -> module outputs, in eval mode and in chunks."""
        from sklearn.utils.validation import check_is_fitted, validate_data

        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self._input_dtype)
        outputs, _ = self.evaluate_outputs(as_module_tensor(X, self.module_))
        return outputs

    def module_at(self, epoch: int) -> nn.Module:
        """A copy of the module with the parameters it had at a kept checkpoint."""
        import copy

        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "checkpoints_")
        if epoch not in self.checkpoints_:
            kept = sorted(self.checkpoints_)
            raise ValueError(
                f"epoch {epoch!r} has no checkpoint; kept: {kept[:5]}...{kept[-3:]} "
                "(fit with keep_checkpoints=True)." if kept else
                "no checkpoints were kept; fit with keep_checkpoints=True."
            )
        module = copy.deepcopy(self.module_)
        module.load_state_dict(self.checkpoints_[epoch])
        return module.eval()

    # ------------------------------------------------------------------ results
    def grokking_summary(self, train_threshold: float = 0.99, test_threshold: float = 0.9
                         ) -> dict[str, Any]:
        """:func:`grokkit.analysis.grokking_summary` of this run's ``progress_``."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "progress_")
        return grokking_summary(self.progress_, train_threshold, test_threshold)

    def __sklearn_is_fitted__(self) -> bool:
        return getattr(self, "module_", None) is not None and hasattr(self, "progress_")

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_compiled_module", None)  # rebuilt on the next training step
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # skorch maps tensors with `state["device"]`; map to where the net ran,
        # falling back to the CPU when that device is absent here.
        user_device = state["device"]
        ran_on = state.get("device_", torch.device("cpu"))
        if ran_on.type == "cuda" and not torch.cuda.is_available():
            ran_on = torch.device("cpu")
        state = {**state, "device": str(ran_on)}
        super().__setstate__(state)
        self.device_ = ran_on
        self.device = user_device


@contextmanager
def _seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch for one fit; restore the caller's RNG state afterwards.

    Runs are reproducible and the caller's global random state is left as it was.
    Saving, seeding and restoring hold ``_INIT_LOCK``, as does the seeded
    initialisation in :meth:`GrokNet.fit`, so fits running in threads (joblib's
    threading backend) cannot interleave with another fit's initialisation.
    Their dropout and input-noise draws during training still share torch's one
    global RNG: with a threading backend only the initialisation is exactly
    reproducible (the default, process-based backend is unaffected).
    """
    cuda = device.type == "cuda"
    with _INIT_LOCK:
        cpu_state = torch.get_rng_state()
        cuda_state = torch.cuda.get_rng_state(device) if cuda else None
        torch.manual_seed(seed)
    try:
        yield
    finally:
        with _INIT_LOCK:
            torch.set_rng_state(cpu_state)
            if cuda:
                torch.cuda.set_rng_state(cuda_state, device)


def _overrides(callback: Callback, hook: str) -> bool:
    """True when ``callback`` implements ``hook`` (not skorch's no-op)."""
    return getattr(type(callback), hook, None) is not getattr(Callback, hook)
