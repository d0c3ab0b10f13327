"""What a headline number is: each experiment declares the kind of every number it reports.

An :class:`~grokkit.experiments.Experiment`'s ``kinds`` maps patterns of headline
keys to kind names. A key is the dotted path of a number in the (nested)
headline, as the fidelity table names it (``"final_test_acc"``,
``"wd=0.1.synergy_peak_step"``, ``"test_step_by_wd.0.03"``); a pattern is an
:func:`fnmatch.fnmatchcase` pattern over it (``"*_acc"``,
``"test_step_by_wd.*"``), and the first pattern that matches gives the kind.

The kind fixes the range a number can take, to which ``--seeds`` clips its
Student-t interval (:func:`grokkit.stats.seed_interval`'s ``bounds``): the
symmetric interval of a few seeds near a hard limit reaches past it (an
accuracy interval ``[0.9, 1.03]``). The fidelity table prints the kind beside
each number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

#: Every kind, with the closed range its values lie in (``None``: any real number).
KINDS: dict[str, tuple[float, float] | None] = {
    "accuracy": (0.0, 1.0),       # a share of samples classified right
    "fraction": (0.0, 1.0),       # any other share in [0, 1] (a commutativity, a fraction of neurons)
    "correlation": (-1.0, 1.0),   # Spearman's ρ, Pearson's r
    "step": (0.0, math.inf),      # the step or epoch at which something happened, or a number of steps
    "count": (0.0, math.inf),     # neurons, frequencies, runs, seconds
    "ratio": (0.0, math.inf),     # a quotient of two positive quantities (a speed-up, a rate ratio)
    "nonnegative": (0.0, math.inf),  # a loss, norm, entropy, distance, sharpness, hyperparameter
    "flag": (0.0, 1.0),           # a yes/no (None until decided); over seeds, the share saying yes
    "real": None,                 # signed: a slope, difference, change, log-ratio, bits of synergy
}


def check_kinds(kinds: Any) -> dict[str, str]:
    """``kinds`` as a dict of pattern -> kind, each kind one of :data:`KINDS`; else ``ValueError``."""
    if not isinstance(kinds, Mapping):
        raise TypeError(f"kinds must be a mapping of headline key pattern -> kind; got {kinds!r}.")
    for pattern, kind in kinds.items():
        if not isinstance(pattern, str) or not pattern:
            raise TypeError(f"kinds' keys must be non-empty str patterns; got {pattern!r}.")
        if kind not in KINDS:
            raise ValueError(f"kinds[{pattern!r}] must be one of {', '.join(map(repr, KINDS))}; "
                             f"got {kind!r}.")
    return dict(kinds)


def headline_key(path: Sequence[str]) -> str:
    """The dotted key of a headline number from its path of keys (how the fidelity table names it)."""
    return ".".join(str(key) for key in path)


def kind_of(kinds: Mapping[str, str], path: Sequence[str] | str) -> str | None:
    """The declared kind of the headline number at ``path`` (a key path or a dotted key), or None."""
    key = path if isinstance(path, str) else headline_key(path)
    return next((kind for pattern, kind in kinds.items() if fnmatchcase(key, pattern)), None)


def bounds_of(kinds: Mapping[str, str], path: Sequence[str] | str) -> tuple[float, float] | None:
    """The range of the number at ``path`` by its declared kind (None: undeclared, or any real)."""
    kind = kind_of(kinds, path)
    return None if kind is None else KINDS[kind]
