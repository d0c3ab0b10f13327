"""The measure registry: names -> measure functions, and how they are called.

A measure is a plain function ``f(module, **inputs, **params)`` returning a
float or a dict of floats. Its registry entry says which inputs it needs, so
the training callback can compute shared inputs (the hidden activations and
the outputs on the training set) once per recorded epoch and hand them to
every measure. Adding a measure = one function with the :func:`measure`
decorator above it, in the module that defines it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

#: Inputs a measure may ask for; the recorder computes each at most once.
DATA_INPUTS = ("X", "y", "activations", "logits", "evaluated")


@dataclass
class MeasureContext:
    """What a recorder knows at a recorded epoch.

    ``X``/``y`` are the training data as tensors on the module's device,
    ``logits``/``activations`` the module's outputs and hidden activations on
    ``X`` (computed lazily by the recorder), ``task`` the facts an estimator
    knows about its problem (e.g. ``p`` and ``operation`` for modular
    arithmetic, ``loss``), ``evaluated`` every (inputs, outputs) pair the
    recorder computed this epoch (training set, and eval set when given), so
    a measure can reuse outputs instead of running the model again.
    """

    module: nn.Module
    X: Any = None
    y: Any = None
    activations: Mapping[str, torch.Tensor] | None = None
    logits: torch.Tensor | None = None
    task: Mapping[str, Any] = field(default_factory=dict)
    evaluated: Sequence[tuple[torch.Tensor, torch.Tensor]] = ()


@dataclass(frozen=True)
class Measure:
    """A named measure: the function, the inputs it needs and its parameters."""

    name: str
    func: Callable[..., Any]
    needs: tuple[str, ...] = ()
    task_keys: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, context: MeasureContext) -> dict[str, float]:
        kwargs: dict[str, Any] = {need: getattr(context, need) for need in self.needs}
        missing = [key for key in self.task_keys if key not in context.task]
        if missing:
            raise ValueError(
                f"Measure {self.name!r} needs {', '.join(missing)}, which this estimator "
                "does not provide."
            )
        kwargs.update({key: context.task[key] for key in self.task_keys})
        kwargs.update(self.params)
        return flatten_result(self.name, self.func(context.module, **kwargs))


_REGISTRY: dict[str, Measure] = {}


def _same_definition(old: Callable[..., Any], new: Callable[..., Any]) -> bool:
    """Whether two functions are one source definition imported twice."""
    def where(f: Callable[..., Any]) -> tuple[Any, ...]:
        return (getattr(f, "__module__", None), getattr(f, "__qualname__", None))

    return where(old) == where(new) and where(old) != (None, None)


def register(
    name: str,
    func: Callable[..., Any],
    needs: Sequence[str] = (),
    task_keys: Sequence[str] = (),
) -> Measure:
    """Add ``func`` to the registry under ``name`` and return its entry.

    A name is registered once: registering a taken name raises ``ValueError``
    (two measures writing one ``progress_`` column would overwrite each other).
    The same definition imported again (a module reloaded, or collected by
    ``pytest --doctest-modules`` under ``--import-mode=importlib``: same module
    and qualified name) replaces its entry instead.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str; got {name!r}.")
    if name in _REGISTRY and not _same_definition(_REGISTRY[name].func, func):
        raise ValueError(
            f"A measure named {name!r} is already registered (by {_REGISTRY[name].func.__module__}); "
            "pick another name."
        )
    unknown = set(needs) - set(DATA_INPUTS)
    if unknown:
        raise ValueError(f"needs must be a subset of {DATA_INPUTS}; got {sorted(unknown)}.")
    entry = Measure(name=name, func=func, needs=tuple(needs), task_keys=tuple(task_keys))
    _REGISTRY[name] = entry
    return entry


def measure(
    name: str | None = None,
    *,
    needs: Sequence[str] = (),
    task_keys: Sequence[str] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register the function below it as a measure (under its own name by default).

    ``needs`` lists the recorder's inputs it takes (a subset of
    :data:`DATA_INPUTS`), ``task_keys`` the estimator facts it takes (``p``,
    ``operation``, ``loss``...). The function is returned unchanged.

    Examples
    --------
    >>> @measure(needs=("X",))                                # doctest: +SKIP
    ... def mean_input(module, X):
    ...     return float(X.float().mean())
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        register(name or func.__name__, func, needs=needs, task_keys=task_keys)
        return func

    return decorate


def available_measures() -> list[str]:
    """Names of every registered measure, sorted."""
    return sorted(_REGISTRY)


def get_measure(spec: str | Callable[..., Any] | tuple | Measure) -> Measure:
    """Resolve a user's measure specification.

    Accepts a registered name, a ``(name, {param: value})`` pair, a
    :class:`Measure`, or a callable ``f(module, X, y) -> float | dict``
    (recorded under ``f.__name__``, called in eval mode without gradients).
    """
    if isinstance(spec, Measure):
        return spec
    if isinstance(spec, tuple):
        if len(spec) != 2 or not isinstance(spec[1], Mapping):
            raise ValueError(
                f"A measure given as a tuple must be (name, params_dict); got {spec!r}."
            )
        base = get_measure(spec[0])
        return Measure(base.name, base.func, base.needs, base.task_keys, dict(spec[1]))
    if isinstance(spec, str):
        if spec not in _REGISTRY:
            raise ValueError(
                f"Unknown measure {spec!r}. Valid names: {', '.join(available_measures())}; "
                "or pass a callable f(module, X, y) -> float."
            )
        return _REGISTRY[spec]
    if callable(spec):
        name = getattr(spec, "__name__", type(spec).__name__)
        return Measure(name=name, func=_user_measure(spec), needs=("X", "y"))
    raise TypeError(
        f"measures must hold names, (name, params) pairs or callables; got {spec!r} "
        f"of type {type(spec).__name__}."
    )


def resolve_measures(specs: Any) -> list[Measure]:
    """Resolve the ``measures`` parameter of an estimator (None or a sequence)."""
    if specs is None:
        return []
    if isinstance(specs, str) or callable(specs) or isinstance(specs, tuple) and len(specs) == 2 \
            and isinstance(specs[1], Mapping):
        specs = [specs]
    resolved = [get_measure(spec) for spec in specs]
    names = [m.name for m in resolved]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"measures lists {', '.join(duplicated)} more than once.")
    return resolved


class _user_measure:  # noqa: N801 - used as a function wrapper
    """Run a user's ``f(module, X, y)`` in eval mode without gradients (mode restored).

    A class rather than a closure, so a fitted estimator that records a
    user's (module-level) function pickles: :class:`grokkit.Sweep`'s memory
    and joblib workers send fitted runs through pickle.
    """

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func

    def __call__(self, module: nn.Module, X: Any, y: Any) -> Any:
        from grokkit.measures._capture import evaluation

        with evaluation(module):
            return self.func(module, X, y)


def flatten_result(name: str, value: Any) -> dict[str, float]:
    """Column names and floats for one measure's result.

    A scalar becomes column ``name``; a dict becomes ``name/key`` columns,
    except the key ``"total"`` which becomes ``name`` itself.
    """
    if isinstance(value, Mapping):
        out = {}
        for key, val in value.items():
            out[name if key == "total" else f"{name}/{key}"] = _as_float(name, val)
        return out
    return {name: _as_float(name, value)}


def _as_float(name: str, value: Any) -> float:
    if torch.is_tensor(value):
        if value.numel() != 1:
            raise TypeError(f"Measure {name!r} returned a tensor of shape {tuple(value.shape)}.")
        return float(value.item())
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"Measure {name!r} must return a float or a dict of floats; got {value!r}."
        ) from exc

