"""Ctrl-C in a multi-run: the whole thing stops, and the outermost one says how to resume.

A single ``fit`` follows skorch: on Ctrl-C it stops, keeps what it trained,
sets ``interrupted_ = True`` and returns. A grokkit multi-run (``Sweep``,
``ReducedLandscape``, ``TimeToGeneralize``, ``MessinessLandscape``,
``grokkit reproduce``) must not then go on to its next fit: it checks each
fitted run with :func:`raise_if_interrupted`, and wraps its work in
:func:`multi_run`, which prints the resume hint of the outermost multi-run
(an analyzer's, not that of the ``Sweep`` inside it) and re-raises.

A callback that stops a fit by raising ``KeyboardInterrupt`` (skorch's
convention: ``EarlyStopping``, ``StopWhenGrokked``) is not an interrupt: the
fit records it in ``stopped_by_`` and leaves ``interrupted_`` False.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

#: How many multi-runs enclose the current code (the outermost one prints its hint).
_DEPTH: ContextVar[int] = ContextVar("grokkit_multi_run_depth", default=0)


def shown(memory: Any) -> str:
    """A ``memory=`` argument as a user would type it (a path as a string)."""
    return repr(os.fspath(memory)) if isinstance(memory, os.PathLike) else repr(memory)


def raise_if_interrupted(estimator: Any) -> None:
    """Raise ``KeyboardInterrupt`` when ``estimator``'s fit was stopped by Ctrl-C (``interrupted_``)."""
    if getattr(estimator, "interrupted_", False):
        raise KeyboardInterrupt(f"{type(estimator).__name__}.fit was interrupted")


@contextmanager
def multi_run(hint: Callable[[], str]) -> Iterator[None]:
    """On ``KeyboardInterrupt`` inside, print ``hint()`` (when outermost) to stderr and re-raise.

    ``hint`` is called only then, so it can say what had finished.
    """
    token = _DEPTH.set(_DEPTH.get() + 1)
    try:
        yield
    except KeyboardInterrupt:
        if token.old_value in (0, token.MISSING):
            print(f"\n{hint()}", file=sys.stderr, flush=True)
        raise
    finally:
        _DEPTH.reset(token)
