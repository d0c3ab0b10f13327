"""Cached dataset files: downloads that land atomically, and errors that say how to clear a bad cache."""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path


class CorruptCacheError(ValueError):
    """A cached dataset file cannot be read; the message names it and says how to fetch it afresh."""


def corrupt_cache(path: str | os.PathLike, problem: str) -> CorruptCacheError:
    """The error for a cached file that is truncated, not what it claims to be, or inconsistent."""
    return CorruptCacheError(
        f"cached file {str(path)!r} is corrupt: {problem}. Delete it and call again with "
        "download=True to fetch it afresh."
    )


def download(urls: Sequence[str], target: Path, timeout: float = 60) -> Path:
    """Fetch the first of ``urls`` that answers into ``target``, atomically.

    The bytes go to a temporary file in ``target``'s folder that is renamed
    (:func:`os.replace`) to ``target`` only once complete, so an interrupted
    download never leaves a file that a later call would read as the dataset.

    Raises
    ------
    OSError
        Carrying every URL's error (the caller words the offline advice).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        handle, part = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                shutil.copyfileobj(response, out)
            os.replace(part, target)
            return target
        except (urllib.error.URLError, OSError) as exc:
            errors.append(f"{url}: {exc}")
        finally:
            Path(part).unlink(missing_ok=True)
    raise OSError("; ".join(errors))
