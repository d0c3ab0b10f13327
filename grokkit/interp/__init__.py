"""Mechanistic-interpretability interop: grokkit's transformer as a TransformerLens ``HookedRootModule``.

Needs TransformerLens >= 4 (``pip install "grokkit[interp]"``); importing this
package does not, calling :func:`hooked_transformer` does. Reading and writing
TransformerLens 3.x ``HookedTransformer`` checkpoints needs no TransformerLens
at all: see :mod:`grokkit.models.hooked_format`.
"""

from __future__ import annotations

from typing import Any

from torch import nn

#: What to install for :func:`hooked_transformer`.
INTERP_EXTRA = 'pip install "grokkit[interp]"'


def hooked_transformer(net: nn.Module) -> Any:
    """``net`` (a :class:`~grokkit.models.transformer.ModularTransformerNet`) as a ``HookedRootModule``.

    See :class:`grokkit.interp.hooked.HookedModularTransformer`: its
    parameters are ``net``'s own (the same ``Parameter`` objects, never a copy)
    and its ``HookPoint``\\ s carry TransformerLens's names.

    Raises
    ------
    ImportError
        TransformerLens >= 4 is not installed; the message names the extra.
    """
    try:
        from grokkit.interp.hooked import HookedModularTransformer
    except ImportError as exc:
        raise ImportError(f"hooked() needs TransformerLens >= 4 ({exc}); install it with {INTERP_EXTRA}.") \
            from exc
    return HookedModularTransformer(net)


__all__ = ["INTERP_EXTRA", "hooked_transformer"]
