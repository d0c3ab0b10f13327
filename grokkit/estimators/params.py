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


#: The parameters every grokkit estimator has (documented in ``SHARED_DOC``).
SHARED_PARAMS: dict[str, Param] = {
    "alpha": Param(1.0, (positive(),)),
    "weight_decay": Param(0.01, (Interval(Real, 0, math.inf, closed="left"),)),
    "lr": Param(1e-3, (positive(),)),
    "optimizer": Param("adamw", (StrOptions({"adamw", "adam", "sgd", "orthoadamw"}),
                                 Satisfies(_optimizer_class_ok, "a torch.optim.Optimizer subclass"))),
    "betas": Param((0.9, 0.999), (_pair_in(0.0, 1.0),)),
    "loss": Param("cross_entropy", ()),  # per class: see DeclaredParams._losses
    "max_epochs": Param(1000, (Interval(Integral, 1, None, closed="left"),)),
    "batch_size": Param(200, (Interval(Integral, 1, None, closed="left"),
                              Satisfies(lambda v: is_int(v) and v == -1, "-1"), None)),
    "constrain_norm": Param(False, ("boolean", positive())),
    "norm_penalty": Param(0.0, (Interval(Real, -math.inf, math.inf, closed="neither"),)),
    "input_noise": Param(None, (None, _pair_in(0.0, math.inf))),
    "mi_penalty": Param(0.0, (Interval(Real, -math.inf, math.inf, closed="neither"),)),
    "grokfast": Param(None, (None, Satisfies(_grokfast_ok, GROKFAST_SPEC))),
    "measures": Param(GOLECHHA_MEASURES, (None, Satisfies(
        _measures_ok, "a list or tuple of measures (names, (name, params) pairs or callables)"))),
    "measure_every": Param("log", (StrOptions({"log"}), Interval(Integral, 1, None, closed="left"))),
    "keep_checkpoints": Param(False, ("boolean",)),
    "checkpoint_dir": Param(None, (None, str, Satisfies(lambda v: hasattr(v, "__fspath__"), "a path"))),
    "checkpoint_every": Param(None, (None, Satisfies(
        _checkpoint_every_ok, "a number of steps (an int >= 1) or a positive duration ('30s', '5min', "
                              "'1.5h' or a datetime.timedelta)"))),
    "device": Param("cpu", (Satisfies(_device_ok, "'cpu', 'cuda', 'cuda:N', 'auto' or a torch.device"),)),
    "dtype": Param("float32", (StrOptions({"float32", "float64"}),)),
    "flush_denormal": Param(False, ("boolean",)),
    "compile": Param(False, ("boolean",)),
    "random_state": Param(None, ("random_state",)),
    "verbose": Param(0, (Interval(Integral, 0, None, closed="left"), "boolean")),
    "on_divergence": Param("raise", (StrOptions({"raise", "warn"}),)),
    "callbacks": Param(None, (None, Satisfies(
        _callbacks_ok, "a list of skorch callbacks (instances, classes or (name, callback) pairs)"))),
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
        cls.__init__ = _make_init(cls)  # type: ignore[method-assign]

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
