"""Parameter checks shared by every public entry point.

Each check raises ``ValueError`` or ``TypeError`` whose message names the
parameter, the value received and what is allowed, as scikit-learn does.
"""

from __future__ import annotations

import numbers
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    integer: bool = False,
) -> None:
    """Check that ``value`` is a real (or integral) number inside a range."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an int" if integer else "a real number"
        raise TypeError(f"{name} must be {what}, got {value!r} of type {type(value).__name__}.")
    if value != value:  # NaN
        raise ValueError(f"{name} must not be NaN.")
    bad_low = low is not None and (value < low if low_inclusive else value <= low)
    bad_high = high is not None and (value > high if high_inclusive else value >= high)
    if bad_low or bad_high:
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name} must be in {left}{lo}, {hi}{right}, got {value!r}.")


def check_bool(name: str, value: Any) -> None:
    """Check that ``value`` is ``True`` or ``False`` (a numpy bool too): a TypeError otherwise."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}.")


def check_random_state(random_state: Any, name: str = "random_state") -> np.random.RandomState:
    """scikit-learn's ``check_random_state``, with an error naming the parameter (and no bools)."""
    from sklearn.utils import check_random_state as sklearn_check_random_state

    if not isinstance(random_state, (bool, np.bool_)):
        try:
            return sklearn_check_random_state(random_state)
        except (TypeError, ValueError):
            pass
    raise ValueError(f"{name} must be None, an int in [0, 2**32 - 1] or a numpy RandomState; "
                     f"got {random_state!r}.")


@contextmanager
def input_named(name: str) -> Iterator[None]:
    """Prefix ``name`` to a ValueError/TypeError raised inside that does not mention it.

    scikit-learn's ``validate_data`` says "Found array with 0 sample(s)..." or
    "Expected 2D array, got 1D array" without saying which input it read.
    """
    try:
        yield
    except (ValueError, TypeError) as exc:
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", str(exc)):
            raise
        kind = TypeError if isinstance(exc, TypeError) and not isinstance(exc, ValueError) else ValueError
        raise kind(f"{name}: {exc}") from exc


def check_options(name: str, value: Any, allowed: Iterable[Any]) -> None:
    """Check that ``value`` is one of ``allowed``."""
    allowed = list(allowed)
    if not any(value is a or (type(value) is type(a) and value == a) for a in allowed):
        listed = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}.")


def check_dense(name: str, X: Any, owner: str) -> None:
    """Reject scipy.sparse input with a TypeError saying that ``owner`` needs a dense ``name``."""
    import scipy.sparse

    if scipy.sparse.issparse(X):
        raise TypeError(f"{owner} needs dense input: {name} is a scipy.sparse {type(X).__name__}; "
                        f"pass {name}.toarray().")


def check_not_text(name: str, X: Any) -> None:
    """Reject string (or bytes) data where numbers are expected, with a TypeError naming ``name``.

    numpy would otherwise turn ``"0.5"`` into 0.5 and fail on ``"a"`` with a
    message that names neither the input nor what it should hold.
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(f"{name} must be a numeric array; got a single string.")
    if hasattr(X, "dtypes") and not hasattr(X, "dtype"):  # DataFrame
        kinds = {np.dtype(d).kind if isinstance(d, np.dtype) else "O" for d in X.dtypes}
    else:
        try:
            kinds = {np.asarray(X).dtype.kind}
        except (TypeError, ValueError):
            return
    if kinds & {"U", "S"}:
        raise TypeError(f"{name} must be numeric; got text (string dtype).")
    if "O" in kinds:
        values = np.asarray(X, dtype=object).ravel()
        text = next((v for v in values if isinstance(v, (str, bytes))), None)
        if text is not None:
            raise TypeError(f"{name} must be numeric; got text such as {text!r}.")


def check_output_dir(name: str, path: str | os.PathLike) -> Path:
    """Check that ``path`` is, or can be created as, a folder we can write into; return it.

    An existing file, a path below a file and a folder that cannot be written
    into are ``ValueError``s naming ``name``. Writability is probed by creating
    (and removing) a temporary folder where the output will be staged: the
    folder itself when it exists, else its nearest existing ancestor, so the
    probe holds for root and for read-only mounts alike.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike); got {path!r} of type "
                        f"{type(path).__name__}.")
    path = Path(path)
    if str(path) == "":
        raise ValueError(f"{name} must be a folder path; got an empty string.")
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name}={str(path)!r} is an existing file, not a folder; pass a new or "
                         "existing folder.")
    ancestor = path
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ValueError(f"{name}={str(path)!r} lies under {str(ancestor)!r}, which is a file, not a "
                         "folder.")
    try:
        probe = tempfile.mkdtemp(prefix=".grokkit-write-probe-", dir=ancestor)
    except OSError as exc:
        raise ValueError(f"{name}={str(path)!r} cannot be written: creating a folder in "
                         f"{str(ancestor)!r} failed ({exc.strerror or exc}).") from exc
    shutil.rmtree(probe, ignore_errors=True)
    return path


def resolve_device(device: str | torch.device | None, name: str = "device") -> torch.device:
    """Turn the ``device`` parameter into a :class:`torch.device`.

    ``"auto"`` (or ``None``) picks CUDA when it is available and the CPU
    otherwise; ``"cuda"`` without a CUDA device is an error rather than a
    silent fallback.
    """
    import torch  # here, not at the top: the CLI checks its other flags before torch loads

    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"{name} must be 'cpu', 'cuda', 'cuda:N', 'auto' or a torch.device; got {device!r}."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"{name}={device!r} was requested but CUDA is not available; "
            f"use {name}='cpu' or {name}='auto'."
        )
    return resolved
