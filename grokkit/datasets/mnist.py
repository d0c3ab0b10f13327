"""MNIST, downloaded once and cached (Omnigrok §4: 1 000 training images)."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from grokkit._validation import check_bool, check_number
from grokkit.datasets._cache import corrupt_cache, download

#: Mirrors tried in order (the original yann.lecun.com host now refuses most requests).
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def mnist_home(data_home: str | os.PathLike | None = None) -> Path:
    """Folder holding the MNIST files: ``data_home``, ``$GROKKIT_DATA/mnist`` or ``~/.grokkit/mnist``."""
    if data_home is not None:
        return Path(data_home)
    root = os.environ.get("GROKKIT_DATA", Path.home() / ".grokkit")
    return Path(root) / "mnist"


#: IDX data-type byte -> numpy dtype (big-endian, as the format stores it).
IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzipped), the format MNIST ships in.

    The magic number (two zero bytes, a known data-type byte, the number of
    dimensions), the header's shape against the bytes present, and the gzip
    stream's integrity are all checked; a bad file raises
    :class:`~grokkit.datasets._cache.CorruptCacheError` (a ``ValueError``) naming it.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise corrupt_cache(path, f"not a complete gzip file ({exc or type(exc).__name__})") from exc
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise corrupt_cache(path, "not an IDX file (bad magic number)")
    if data[2] not in IDX_DTYPES:
        raise corrupt_cache(path, f"unknown IDX data type 0x{data[2]:02x}")
    ndim = data[3]
    if ndim == 0 or len(data) < 4 + 4 * ndim:
        raise corrupt_cache(path, f"IDX header declares {ndim} dimensions but the file ends inside it")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(IDX_DTYPES[data[2]])
    n_bytes = len(data) - 4 - 4 * ndim
    expected = int(np.prod(shape)) * dtype.itemsize
    if n_bytes != expected:
        raise corrupt_cache(path, f"header says shape {shape} ({expected} bytes of data) but the file "
                                  f"holds {n_bytes}")
    return np.frombuffer(data, dtype=dtype, offset=4 + 4 * ndim).reshape(shape)


def _read_split(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One split's images and labels, checked to be MNIST-shaped and to agree in count."""
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise corrupt_cache(images_path, f"MNIST images are uint8 of shape (n, 28, 28); this file holds "
                                         f"{images.dtype} of shape {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8 or (labels.size and labels.max() > 9):
        raise corrupt_cache(labels_path, f"MNIST labels are uint8 digits 0-9 of shape (n,); this file "
                                         f"holds {labels.dtype} of shape {labels.shape}")
    if len(images) != len(labels):
        raise corrupt_cache(labels_path, f"it holds {len(labels)} labels but {images_path.name} holds "
                                         f"{len(images)} images")
    return images.reshape(-1, 28 * 28), labels


def _fetch(name: str, folder: Path) -> Path:
    target = folder / name
    if target.exists():
        return target
    try:
        return download([mirror + name for mirror in MIRRORS], target, timeout=30)
    except OSError as exc:
        raise FileNotFoundError(
            f"MNIST file {name!r} is not in {folder} and could not be downloaded "
            f"({exc}). Place the four files {', '.join(FILES.values())} in that "
            "folder (or pass data_home=...), or use grokkit.datasets.load_digits_split offline."
        ) from exc


def load_mnist(
    n_train: int | None = 1000,
    n_test: int | None = None,
    data_home: str | os.PathLike | None = None,
    download: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load MNIST as flat ``float32`` images in [0, 1] and ``int64`` labels.

    Omnigrok's MNIST grokking uses the **first** 1 000 training images
    (not a random subset) and the full 10 000-image test set.

    Parameters
    ----------
    n_train : int or None, default=1000
        Number of training images kept, from the start of the file (None: all 60 000).
    n_test : int or None, default=None
        Number of test images kept (None: all 10 000).
    data_home : path, optional
        Folder with the four ``*-idx?-ubyte.gz`` files; see :func:`mnist_home`.
    download : bool, default=True
        Fetch missing files from the mirrors. With False, or offline, a missing
        file raises ``FileNotFoundError`` naming it and the folder.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
    """
    if n_train is not None:
        check_number("n_train", n_train, low=1, high=60000, integer=True)
    if n_test is not None:
        check_number("n_test", n_test, low=1, high=10000, integer=True)
    check_bool("download", download)
    folder = mnist_home(data_home)
    paths = {}
    for key, name in FILES.items():
        if download:
            paths[key] = _fetch(name, folder)
        elif (folder / name).exists():
            paths[key] = folder / name
        else:
            raise FileNotFoundError(
                f"MNIST file {name!r} not found in {folder}; pass download=True or place "
                f"{', '.join(FILES.values())} there."
            )
    X_train, y_train = _read_split(paths["train_images"], paths["train_labels"])
    X_test, y_test = _read_split(paths["test_images"], paths["test_labels"])
    X_train, y_train, X_test, y_test = X_train[:n_train], y_train[:n_train], X_test[:n_test], y_test[:n_test]
    return (
        (X_train / 255.0).astype(np.float32),
        y_train.astype(np.int64),
        (X_test / 255.0).astype(np.float32),
        y_test.astype(np.int64),
    )
