"""Torch CPU execution state for a block of work, restored afterwards: thread count, denormal flushing."""

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


@contextmanager
def flushing_denormals(on: bool) -> Iterator[None]:
    """Flush subnormal floats (|x| < 1.2e-38 in float32) to zero on the CPU while the block runs.

    Arithmetic on subnormals takes a slow microcode path on x86: late in long
    runs, Adam's second-moment estimates of parameters whose gradients vanish
    decay into that range (with a norm constraint this was seen to slow a
    transformer's steps from 50 to 118 ms). Flushing changes only values below
    1.2e-38, far under AdamW's eps (1e-8). The mode is per thread (MXCSR): it
    covers this thread and threads started later, not OpenMP workers that
    already exist. torch cannot report the previous mode, so it is switched
    off after the block: callers that enable it globally should not use this.
    """
    if not on:
        yield
        return
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
