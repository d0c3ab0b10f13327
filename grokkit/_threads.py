"""Running torch with a given number of CPU threads, restored afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run with ``n`` torch intra-op threads (None: unchanged); the previous count is restored.

    Tiny grokking models run fastest on one thread, and on a busy machine a second
    OpenMP thread can make small operations many times slower; one thread also makes
    CPU reductions sum in a fixed order (bit-identical results whatever joblib's n_jobs).
    """
    previous = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
