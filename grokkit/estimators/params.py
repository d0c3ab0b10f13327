"""Estimator parameters: declared once along the class hierarchy, validated in one style.

Each class lists the parameters it introduces in ``_params`` (name ->
:class:`Param`: default and scikit-learn constraints) and may change the
defaults of inherited ones in ``_defaults``. :class:`DeclaredParams` merges the
declarations along the MRO and gives every class a keyword-only ``__init__``
with its complete signature, which only stores the values (scikit-learn's
contract); ``get_params``, ``clone`` and ``repr`` read that signature.
Validation happens in ``fit`` through :func:`validate_parameter_constraints`,
scikit-learn's own checker, so every bad value gets the same kind of message:
``The 'alpha' parameter of GrokMLPClassifier must be a float in the range
(0.0, inf). Got -1 instead.``
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.utils._param_validation import (
    Interval,
    Options,
    StrOptions,
    validate_parameter_constraints,
)

#: Default progress measures per model family (Golechha's three plus weight norm;
#: the modular models add the group-law test of Tan & Huang).
GOLECHHA_MEASURES = ("weight_norm", "weight_entropy", "activation_sparsity", "circuit_complexity")
REGRESSION_MEASURES = ("weight_norm", "weight_entropy", "activation_sparsity")
MODULAR_MLP_MEASURES = (*GOLECHHA_MEASURES, "commutativity")
TRANSFORMER_MEASURES = ("weight_norm", "weight_entropy", "activation_sparsity", "commutativity")


@dataclass(frozen=True)
class Param:
    """One constructor parameter: its default and what it accepts.

    ``constraints`` uses scikit-learn's vocabulary (``Interval``,
    ``StrOptions``, ``"boolean"``, ``None``, a type...) plus :class:`Satisfies`;
    a value is valid when any constraint holds.
    """

    default: Any
    constraints: tuple[Any, ...] = ()
    #: The numpydoc entry after ``name :`` (type and default line, then the
    #: description indented by 8 spaces); the docstrings' Parameters sections
    #: are generated from it (see :func:`parameters_section`).
    doc: str = ""
    #: What the stacked executor of ``Sweep`` does with the value: ``VARY`` (it
    #: may differ between the stacked runs), ``SHARED`` (honoured at any value
    #: all the runs share), a predicate of the value (honoured where it holds),
    #: or ``None`` (not known to be honoured: such runs go to joblib).
    stacked: Any = None


#: ``Param.stacked``: the value may differ between the runs of one stacked model.
VARY = "vary"
#: ``Param.stacked``: honoured at any value, the same for every stacked run.
SHARED = "shared"


def is_off(value: Any) -> bool:
    """``Param.stacked`` predicate: the feature is switched off (0, False or None)."""
    return not value


def is_none(value: Any) -> bool:
    """``Param.stacked`` predicate: the value is ``None``."""
    return value is None


class Satisfies(Options):
    """A constraint given by a predicate and the words that describe it in errors.

    (An ``Options`` subclass because scikit-learn's checker accepts only its
    own constraint classes.)
    """

    def __init__(self, predicate: Callable[[Any], bool], description: str) -> None:
        super().__init__(object, set())
        self.predicate = predicate
        self.description = description

    def is_satisfied_by(self, val: Any) -> bool:
        try:
            return bool(self.predicate(val))
        except (TypeError, ValueError):
            return False

    def __str__(self) -> str:
        return self.description


def positive(kind: type = Real, closed_low: bool = False, finite: bool = True) -> Interval:
    """``(0, inf)`` (or ``[0, inf)``), finite by default, for ``kind`` numbers."""
    high = math.inf if finite and kind is Real else None
    closed = "left" if closed_low else "neither"
    return Interval(kind, 0, high, closed=closed)


def is_int(value: Any) -> bool:
    return isinstance(value, (Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def sizes_constraint(allow_empty: bool = True) -> Satisfies:
    """A positive int or a list/tuple of positive ints (layer widths)."""

    def ok(value: Any) -> bool:
        if is_int(value):
            return value > 0
        return isinstance(value, (list, tuple)) and (allow_empty or len(value) > 0) and all(
            is_int(v) and v > 0 for v in value)

    return Satisfies(ok, "a positive int or a list/tuple of positive ints"
                     + ("" if allow_empty else " (at least one)"))


def as_sizes(value: Any) -> tuple[int, ...]:
    """Layer widths as a tuple of ints (an int is one layer)."""
    return (int(value),) if is_int(value) else tuple(int(v) for v in value)


def _pair_in(low: float, high: float) -> Satisfies:
    def ok(value: Any) -> bool:
        return isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, Real) and not isinstance(v, bool) and low <= v < high for v in value)

    return Satisfies(ok, f"a pair of real numbers in [{low:g}, {high:g})")


def _measures_ok(value: Any) -> bool:
    return isinstance(value, (list, tuple, str)) or callable(value)


def _callbacks_ok(value: Any) -> bool:
    from skorch.callbacks import Callback

    def one(cb: Any) -> bool:
        if isinstance(cb, tuple) and len(cb) == 2 and isinstance(cb[0], str):
            cb = cb[1]
        return isinstance(cb, Callback) or (isinstance(cb, type) and issubclass(cb, Callback))

    return isinstance(value, list) and all(one(cb) for cb in value)


def _grokfast_ok(value: Any) -> bool:
    """``("ema", alpha, lamb)`` or ``("ma", window, lamb)`` with values the Grokfast callback accepts."""
    from grokkit.callbacks.grokfast import Grokfast

    if not isinstance(value, (tuple, list)) or len(value) != 3 or not isinstance(value[0], str):
        return False
    kind, first, lamb = value
    if kind == "ema":
        Grokfast("ema", alpha=first, lamb=lamb).initialize()
    elif kind == "ma":
        Grokfast("ma", window=first, lamb=lamb).initialize()
    else:
        return False
    return True


GROKFAST_SPEC = ("a tuple ('ema', alpha, lamb) with alpha in [0, 1), or ('ma', window, lamb) with window "
                 "an int >= 1; lamb a finite real number")


def _optimizer_class_ok(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, torch.optim.Optimizer)


def _device_ok(value: Any) -> bool:
    return isinstance(value, (str, torch.device))


_DURATION_UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0}


def parse_checkpoint_every(value: Any) -> tuple[str, float] | None:
    """``checkpoint_every`` as ``("steps", n)``, ``("seconds", t)`` or ``None``.

    An int ``n >= 1`` counts optimizer steps; a string ``"<number><unit>"``
    with unit ``s``, ``min`` or ``h`` (``"30s"``, ``"5min"``, ``"1.5h"``) or a
    :class:`datetime.timedelta` is a wall-clock duration. Raises ``ValueError``
    naming the parameter for anything else.
    """
    import datetime
    import re

    if value is None:
        return None
    if is_int(value) and value >= 1:
        return ("steps", int(value))
    seconds = None
    if isinstance(value, datetime.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(s|min|h)\s*", value)
        if match:
            seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if seconds is not None and math.isfinite(seconds) and seconds > 0:
        return ("seconds", seconds)
    raise ValueError(
        f"checkpoint_every must be None, a number of optimizer steps (an int >= 1), or a duration: "
        f"a string such as '30s', '5min' or '1.5h', or a datetime.timedelta, positive; got {value!r}."
    )


def _checkpoint_every_ok(value: Any) -> bool:
    return parse_checkpoint_every(value) is not None


def _is_adamw(value: Any) -> bool:
    return value == "adamw"


#: User callbacks that the stacked executor honours: they only read the history
#: (and stop their run by raising ``KeyboardInterrupt``) or time the epoch.
STACKED_CALLBACKS = ("grokkit.callbacks.stopping.StopWhenGrokked",
                     "grokkit.callbacks.stopping.StopWhenConverged",
                     "grokkit.callbacks.progress_bar.EpochProgressBar",
                     "skorch.callbacks.training.EarlyStopping",
                     "skorch.callbacks.logging.EpochTimer")


def _stacked_callbacks(value: Any) -> bool:
    """``callbacks`` stack when every one is of a class in :data:`STACKED_CALLBACKS` (not a subclass)."""
    for callback in value or ():
        callback = callback[1] if isinstance(callback, tuple) else callback
        kind = callback if isinstance(callback, type) else type(callback)
        if f"{kind.__module__}.{kind.__qualname__}" not in STACKED_CALLBACKS:
            return False
    return True


#: The parameters every grokkit estimator has besides the penalties'
#: (:mod:`grokkit.estimators.penalties` declares those).
SHARED_PARAMS: dict[str, Param] = {
    "alpha": Param(1.0, (positive(),), doc="""float
        Omnigrok's **initialisation scale**: after PyTorch's default
        initialisation every parameter (biases included) is multiplied by α
        (Liu, Michaud & Tegmark, §2). α = 8 with weight decay makes MNIST grok.
        This is *not* scikit-learn ``MLPClassifier``'s ``alpha`` (an L2 penalty):
        for that, use ``weight_decay`` or ``norm_penalty``.""", stacked=VARY),
    "weight_decay": Param(0.01, (Interval(Real, 0, math.inf, closed="left"),), doc="""float
        Decoupled weight decay γ of AdamW (L2 for ``optimizer="adam"``/``"sgd"``).
        Omnigrok: time to generalise ∝ 1/γ.""", stacked=VARY),
    "lr": Param(1e-3, (positive(),), doc="""float""", stacked=VARY),
    "optimizer": Param("adamw", (StrOptions({"adamw", "adam", "sgd", "orthoadamw"}),
                                 Satisfies(_optimizer_class_ok, "a torch.optim.Optimizer subclass")),
                       doc="""{"adamw", "adam", "sgd", "orthoadamw"} or torch optimizer class
        Extra optimizer arguments go through skorch's prefix, e.g.
        ``optimizer__eps=1e-6`` (``lr``, ``weight_decay`` and ``betas`` are set
        by their own parameters only). ``"orthoadamw"`` is ⊥AdamW
        (:class:`grokkit.optim.OrthoAdamW`; Prieto, Barsbey, Mediano & Birdal
        2025, *Grokking at the edge of numerical stability*, §5): before every
        AdamW step each parameter tensor's gradient loses its component along
        the tensor, g ← g − (⟨g, θ⟩/⟨θ, θ⟩) θ, the naïve-loss-minimisation
        direction that only scales the logits. The gradient Adam steps on is
        orthogonal to θ; Adam's per-coordinate scaling and the decoupled decay
        then act as in AdamW. The paper pairs it with ``weight_decay=0``.""", stacked=_is_adamw),
    "betas": Param((0.9, 0.999), (_pair_in(0.0, 1.0),), doc="""(float, float)
        Adam/AdamW moment decay rates; the modular settings use (0.9, 0.98)
        (Nanda et al., Clauw et al.). Ignored by SGD.""", stacked=SHARED),
    "loss": Param("cross_entropy", (), doc="""{"cross_entropy", "mse", "stablemax"}
        ``"mse"`` compares the outputs with one-hot targets (Omnigrok).
        ``"stablemax"`` is the StableMax cross-entropy of Prieto, Barsbey,
        Mediano & Birdal (2025, §3.3; :class:`grokkit.losses.StableMaxCrossEntropy`):
        −log(s(x_y) / Σ_j s(x_j)) with s(x) = x + 1 for x ≥ 0 and 1/(1 − x)
        below, in place of exp. Float32 softmax cross-entropy is absorbed to
        exactly 0 once the logits grow (softmax collapse); StableMax's is not.
        ``train_loss``/``test_loss`` record the criterion trained with, and
        ``predict_proba`` returns StableMax probabilities.""",
                  stacked=SHARED),  # per class: see DeclaredParams._losses
    "max_epochs": Param(1000, (Interval(Integral, 1, None, closed="left"),), doc="""int""", stacked=SHARED),
    "batch_size": Param(200, (Interval(Integral, 1, None, closed="left"),
                              Satisfies(lambda v: is_int(v) and v == -1, "-1"), None), doc="""int or None
        ``-1`` or ``None`` = full batch (one step per epoch).""", stacked=SHARED),
    "constrain_norm": Param(False, ("boolean", positive()), doc="""bool or float
        ``True`` keeps ‖θ‖₂ at its initial value, a float keeps it at that
        value: after every optimizer step all parameters are rescaled
        (Omnigrok's constrained runs, which remove grokking). Use with
        ``weight_decay=0``.""", stacked=VARY),
    "input_noise": Param(None, (None, _pair_in(0.0, math.inf)), doc="""(float, float) or None
        Tan & Huang's adaptive input noise (§3.2): train on inputs (token
        embeddings for token models) plus N(0, σ²) with
        σ = max(λ₁ (1 − train acc), λ₂), updated every epoch. Speeds up
        generalisation (their Fig. 3). Evaluation uses clean inputs.""", stacked=VARY),
    "grokfast": Param(None, (None, Satisfies(_grokfast_ok, GROKFAST_SPEC)),
              doc="""None, ("ema", alpha, lamb) or ("ma", window, lamb)
        Grokfast (Lee, Kang, Kim & Lee 2024): between ``loss.backward()`` and
        the optimizer step every gradient g gets a low-pass filtered copy of
        itself added (:class:`grokkit.callbacks.Grokfast`, the default
        callback ``"grokfast"``). ``"ema"``: h ← α h + (1 − α) g (h starts at
        the first gradient), then g ← g + λ h; the public modular-arithmetic
        setting is ``("ema", 0.98, 2.0)``. ``"ma"``: g ← g + λ · mean of the
        last w gradients (the current one included; fewer at the start, no
        warm-up); the public setting is ``("ma", 100, 5.0)``. λ = 0 trains
        exactly as without it. The filter state is kept in ``checkpoint_dir``
        checkpoints and in pickles, so resumed and unpickled runs continue it.
        The paper reports generalisation up to ~50× sooner on modular
        arithmetic; see ``grokkit reproduce degrokking_benchmark`` for what it
        does at Clauw et al.'s lr 0.03.""", stacked=is_none),
    "measures": Param(GOLECHHA_MEASURES, (None, Satisfies(
        _measures_ok, "a list or tuple of measures (names, (name, params) pairs or callables)")),
                  doc="""sequence
        Names from :func:`grokkit.measures.available_measures`, ``(name,
        params)`` pairs, or callables ``f(module, X, y) -> float | dict``.
        Each becomes one or more ``progress_`` columns.""", stacked=SHARED),
    "measure_every": Param("log", (StrOptions({"log"}), Interval(Integral, 1, None, closed="left")),
              doc="""int or "log"
        Record ``progress_`` every k epochs, or at ~20 log-spaced epochs per
        decade (plus the first and last).""", stacked=SHARED),
    "keep_checkpoints": Param(False, ("boolean",), doc="""bool
        Keep a CPU copy of the parameters at every recorded epoch in
        ``checkpoints_`` (epoch -> state dict); :meth:`module_at` rebuilds the
        module at any of them, e.g. for ``OInformationAnalyzer`` over a run.""", stacked=SHARED),
    "checkpoint_dir": Param(None, (None, str, Satisfies(lambda v: hasattr(v, "__fspath__"), "a path")),
              doc="""str, path or None
        Make the run resumable: at every recorded epoch ``fit`` writes
        ``checkpoint.pt`` (module, optimizer, history, step count, every RNG
        and shuffle state, callback states such as the input-noise σ and
        learning-rate schedules) and ``progress.csv`` there, each atomically
        (written to a temporary name, then ``os.replace``). A later ``fit`` with
        the same parameters and data continues from the last checkpoint (a
        larger ``max_epochs`` extends the run) and trains only the remaining
        epochs; its ``progress_`` equals an uninterrupted run's. A checkpoint
        of other parameters or data raises ``ValueError``: a run is never
        silently restarted or mixed with another.""", stacked=is_none),
    "checkpoint_every": Param(None, (None, Satisfies(
        _checkpoint_every_ok, "a number of steps (an int >= 1) or a positive duration ('30s', '5min', "
                              "'1.5h' or a datetime.timedelta)")),
              doc="""int, str, datetime.timedelta or None
        Checkpoint cadence of a ``checkpoint_dir`` run, independent of
        recording: an int n writes a checkpoint at the end of the first epoch
        after n more optimizer steps, a duration (``"30s"``, ``"5min"``,
        ``"1.5h"`` or a ``timedelta``) at the end of the first epoch after
        that much wall-clock time. A killed run then loses at most that much
        (or one epoch, if an epoch is longer). ``None`` checkpoints at the
        recorded epochs only, whose gaps grow with ``measure_every="log"``
        (about 12 % of the run near epoch 10⁵). Recorded epochs are always
        checkpointed; the resumed ``progress_`` equals an uninterrupted run's
        whatever the cadence, and it may differ between the interrupted and
        the resuming fit.""", stacked=is_none),
    "device": Param("cpu", (Satisfies(_device_ok, "'cpu', 'cuda', 'cuda:N', 'auto' or a torch.device"),),
              doc="""{"cpu", "cuda", "auto"} or torch.device
        ``"auto"`` picks CUDA when available.""", stacked=SHARED),
    "dtype": Param("float32", (StrOptions({"float32", "float64"}),), doc="""{"float32", "float64"}
        Floating dtype of the parameters and of float inputs/targets. Omnigrok's
        and Nanda et al.'s public code train in float64: in float32 the
        ModularTransformer's train loss, 3.7e-7 at epoch 1 500, jumped tenfold
        twice (up to 0.9) by epoch 3 000; in float64 it did not. float64 costs
        about 2x per step on CPU. The initial parameters are the float32 ones
        cast, so both start from the same point.""", stacked=SHARED),
    "flush_denormal": Param(False, ("boolean",), doc="""bool
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
        ms/step vs 50 → 118 without, 2 threads). No effect on CUDA.""", stacked=SHARED),
    "compile": Param(False, ("boolean",), doc="""bool
        Run the training step's forward through :func:`torch.compile`
        (options as skorch's prefixed parameters: ``compile__mode="max-autotune"``,
        ``compile__backend=...``). Only the training forward is compiled:
        evaluation, measures and their forward hooks use the eager module,
        which shares the parameters, so ``module_``, checkpoints and pickles
        are unchanged. It is meant for larger models on GPU; on this project's
        2-core CPU it made the modular MLP slower (10 vs 4.7 ms/step). An
        adaptive ``input_noise`` changes σ every epoch, which recompiles.""", stacked=is_off),
    "random_state": Param(None, ("random_state",), doc="""int, RandomState or None
        Seeds the initialisation, the minibatch order, dropout and the measures.""", stacked=VARY),
    "verbose": Param(0, (Interval(Integral, 0, None, closed="left"), "boolean"), doc="""int
        ``1`` shows a tqdm bar over epochs with train/test accuracy.""", stacked=SHARED),
    "on_divergence": Param("raise", (StrOptions({"raise", "warn"}),), doc="""{"raise", "warn"}
        A non-finite loss (common at large α) stops training either way;
        ``progress_`` keeps every row up to and including the failed epoch.
        ``"raise"`` then raises :class:`TrainingDiverged` (a ``ValueError``;
        ``GridSearchCV`` scores such a fit with ``error_score``), ``"warn"``
        warns and returns the stopped estimator with ``diverged_ = True``.""", stacked=SHARED),
    "callbacks": Param(None, (None, Satisfies(
        _callbacks_ok, "a list of skorch callbacks (instances, classes or (name, callback) pairs)")),
                  doc="""list of skorch callbacks, optional
        Added after grokkit's own (Grokfast filter, norm constraint, input
        noise, recorder, progress bar). Stock skorch callbacks work: the history has skorch's
        ``train_loss`` (mean training objective of the epoch), ``batches``,
        ``dur`` and, on recorded epochs with an eval_set, ``valid_loss``
        (= ``test_loss``) with ``valid_loss_best``. A callback that monitors a
        key (``EarlyStopping``, ``Checkpoint``) acts on the epochs that have it,
        so ``EarlyStopping(monitor="valid_loss")`` counts recorded epochs.
        Callbacks outside grokkit see what a ``NeuralNet`` shows them:
        ``dataset_train``/``dataset_valid`` are skorch ``Dataset`` objects of the
        inputs and the labels as given (``classes_`` values), minibatches are
        ``(X, y)`` with those labels, and the net predicts during the fit, so
        ``EpochScoring("accuracy")`` and ``BatchScoring`` score as in skorch.
        With ``on_train=False`` they score the eval_set, in a validation pass
        of ``batch_size`` minibatches run only for them (without an eval_set
        they record nothing, and ``fit`` warns). skorch's prefixed arguments:
        ``optimizer__*``, ``criterion__*``, ``compile__*``,
        ``callbacks__<name>[__<param>]`` for these callbacks and
        ``iterator_train__shuffle`` are honoured; ``module__*``, the other
        ``iterator_*__*`` and ``dataset__*`` have no meaning here and ``fit``
        refuses them with a ``ValueError`` naming them.""", stacked=_stacked_callbacks),
}

#: Prefixed (skorch-style) arguments that would set a plain parameter a second way.
_SHADOWED = {"optimizer__lr": "lr", "optimizer__weight_decay": "weight_decay",
             "optimizer__betas": "betas", "iterator_train__batch_size": "batch_size",
             "iterator_valid__batch_size": "batch_size"}

#: The skorch prefixes grokkit honours, and what it does with each.
HONOURED_PREFIXES = {
    "optimizer": "passed to the optimizer's constructor",
    "criterion": "passed to the criterion's constructor",
    "compile": "passed to torch.compile (with compile=True)",
    "callbacks": "callbacks__<name>=... replaces, callbacks__<name>__<param>=... sets a parameter of "
                 "a callback passed in `callbacks`",
    "iterator_train__shuffle": "False trains on the minibatches in the data's order",
}

#: Why the other skorch prefixes have no effect on a grokkit estimator.
_REFUSED_PREFIXES = {
    "module": "grokkit builds the module from the estimator's own parameters (see get_params())",
    "iterator_train": "the training loop slices tensors held on the device, with no DataLoader",
    "iterator_valid": "evaluation runs in chunks on the device, with no DataLoader",
    "dataset": "the data is held as tensors, with no skorch Dataset",
}


class DeclaredParams:
    """Mixin: parameters declared in ``_params``/``_defaults``, a generated ``__init__``.

    Prefixed arguments (``optimizer__eps=1e-6``, ``callbacks__name__param``)
    are accepted as in skorch and stored as attributes.
    """

    _params: ClassVar[dict[str, Param]] = {}
    _defaults: ClassVar[dict[str, Any]] = {}
    #: Descriptions of inherited parameters that this class words its own way.
    _docs: ClassVar[dict[str, str]] = {}
    #: Losses a class accepts; the first is its default.
    _losses: ClassVar[tuple[str, ...]] = ("cross_entropy", "mse")
    #: Every parameter of the class, most specific first (set per class).
    _declared: ClassVar[dict[str, Param]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: dict[str, Param] = {}
        for klass in reversed(cls.__mro__):
            for name, param in vars(klass).get("_params", {}).items():
                declared[name] = param
            for name, default in vars(klass).get("_defaults", {}).items():
                if name not in declared:
                    raise TypeError(f"{klass.__name__}._defaults sets {name!r}, which no base declares.")
                declared[name] = replace(declared[name], default=default)
        if "loss" in declared and not any("loss" in vars(k).get("_defaults", {}) for k in cls.__mro__):
            declared["loss"] = replace(declared["loss"], default=cls._losses[0])
        own_first = [n for k in cls.__mro__ for n in vars(k).get("_params", {})]
        cls._declared = {name: declared[name] for name in dict.fromkeys(own_first)}
        for klass in reversed(cls.__mro__):
            for name, text in vars(klass).get("_docs", {}).items():
                if name not in cls._declared:
                    raise TypeError(f"{klass.__name__}._docs words {name!r}, which no base declares.")
                first_line = cls._declared[name].doc.partition("\n")[0]
                cls._declared[name] = replace(cls._declared[name], doc=f"{first_line}\n{text}")
        cls.__init__ = _make_init(cls)  # type: ignore[method-assign]
        header = "\n    Parameters\n    ----------\n"
        if cls.__doc__ and header in cls.__doc__:
            cls.__doc__ = cls.__doc__.replace(header, header + parameters_section(cls), 1)

    @classmethod
    def declared_params(cls) -> dict[str, Param]:
        """Every constructor parameter's declaration (name -> :class:`Param`), in signature order."""
        return dict(cls._declared)

    @classmethod
    def _get_param_names(cls) -> list[str]:
        return sorted(cls._declared)

    def _store_params(self, kwargs: dict[str, Any]) -> None:
        for name, param in self._declared.items():
            setattr(self, name, kwargs.pop(name, param.default))
        unknown = sorted(k for k in kwargs if "__" not in k)
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unexpected parameter(s) {', '.join(unknown)}; valid "
                f"parameters: {', '.join(self._get_param_names())}."
            )
        # skorch-style prefixed arguments (optimizer__eps, callbacks__x__y, ...)
        self._params_to_validate = set(kwargs)
        vars(self).update(kwargs)

    def _check_params(self) -> None:
        """Validate every parameter (called by ``fit``, never by ``__init__``)."""
        constraints = {name: list(param.constraints) for name, param in self._declared.items()}
        constraints["loss"] = [StrOptions(set(self._losses))]
        values = {name: getattr(self, name) for name in self._declared}
        validate_parameter_constraints(constraints, values, caller_name=type(self).__name__)
        for prefixed, plain in _SHADOWED.items():
            if prefixed in vars(self):
                raise ValueError(f"{prefixed} sets {plain} a second way; pass {plain}=... instead.")
        self._check_prefixed()
        self._check_more()

    def _prefixed_params(self) -> dict[str, Any]:
        """The skorch-style prefixed arguments (``optimizer__eps`` ...) this estimator holds."""
        return {k: v for k, v in vars(self).items()
                if "__" in k and not k.startswith("_") and not k.endswith("_")}

    def _check_prefixed(self) -> None:
        """Every prefixed argument is honoured, or refused here with a ``ValueError`` naming it.

        Honoured: ``optimizer__*``, ``criterion__*``, ``compile__*``,
        ``callbacks__<name>`` and ``callbacks__<name>__*`` for a callback passed
        in ``callbacks``, and ``iterator_train__shuffle``. skorch's other
        prefixes (``module__``, ``iterator_train__``, ``iterator_valid__``,
        ``dataset__``) would be silently ignored by grokkit's loop, so they
        are refused.
        """
        allowed = ("allowed prefixed arguments: optimizer__*, criterion__*, compile__*, "
                   "callbacks__<name of a callback in callbacks>[__<param>], iterator_train__shuffle")
        own = user = None
        for key, value in sorted(self._prefixed_params().items()):
            prefix = key.split("__", 1)[0]
            if key == "iterator_train__shuffle":
                if not isinstance(value, (bool, np.bool_)):
                    raise ValueError(f"iterator_train__shuffle must be True or False; got {value!r}.")
                continue
            if prefix in _REFUSED_PREFIXES:
                raise ValueError(f"{key}={value!r} would have no effect: {_REFUSED_PREFIXES[prefix]}. "
                                 f"{allowed.capitalize()}.")
            if prefix == "callbacks":
                if own is None:
                    own = [name for name, _ in self.get_default_callbacks()]
                    user = [name for name, _ in self._uniquely_named_callbacks() if name not in own]
                name = key.split("__")[1]
                if name in own:
                    raise ValueError(
                        f"{key}={value!r}: {name!r} is one of grokkit's own callbacks ({', '.join(own)}), "
                        "built from the estimator's parameters; set those parameters instead.")
                if name not in user:
                    raise ValueError(
                        f"{key}={value!r} names no callback: the callbacks passed in `callbacks` are "
                        f"{', '.join(map(repr, user)) or 'none'}.")
            elif prefix == "compile" and not getattr(self, "compile", False):
                raise ValueError(f"{key}={value!r} would have no effect: compile is False; pass "
                                 "compile=True to compile the training forward with these options.")
            elif prefix not in HONOURED_PREFIXES:
                raise ValueError(f"{key}={value!r} has an unknown prefix {prefix!r}; {allowed}.")

    def _check_more(self) -> None:
        """Checks that constraints cannot express (cross-parameter, resolvable names)."""
        from grokkit._validation import resolve_device
        from grokkit.measures.registry import resolve_measures

        resolve_measures(self.measures)
        resolve_device(self.device)
        if self.checkpoint_every is not None and self.checkpoint_dir is None:
            raise ValueError(f"checkpoint_every={self.checkpoint_every!r} needs checkpoint_dir: "
                             "checkpoints are written there.")


def _default_text(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def parameters_section(cls: type) -> str:
    """The numpydoc Parameters entries of ``cls``, generated from its declarations, in signature order.

    Each entry is ``name : type, default=<declared default>`` and the
    declaration's description; ``loss`` lists the class's own losses.
    """
    entries = []
    for name, param in cls._declared.items():
        kind, _, text = param.doc.partition("\n")
        if name == "loss":
            kind = "{" + ", ".join(f'"{loss}"' for loss in cls._losses) + "}"
        header = f"    {name} : {kind}, default={_default_text(param.default)}"
        entries.append(header + (f"\n{text}" if text else ""))
    return "\n".join(entries) + "\n"


def _make_init(cls: type) -> Callable[..., None]:
    def __init__(self: Any, **kwargs: Any) -> None:
        self._store_params(kwargs)

    __init__.__qualname__ = f"{cls.__name__}.__init__"
    __init__.__doc__ = f"Store the parameters of {cls.__name__} (see the class docstring)."
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=p.default)
               for name, p in cls._declared.items()]
    __init__.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return __init__
