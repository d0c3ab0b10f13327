"""MNIST, downloaded once and cached (Omnigrok §4: 1 000 training images)."""

from __future__ import annotations

import gzip
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from grokkit._validation import check_number

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


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzipped), the format MNIST ships in."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path} is not an IDX file (bad magic number).")
    dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if data[2] not in dtypes:
        raise ValueError(f"{path}: unknown IDX data type 0x{data[2]:02x}.")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    array = np.frombuffer(data, dtype=dtypes[data[2]], offset=4 + 4 * ndim)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape} but holds {array.size} values.")
    return array.reshape(shape)


def _fetch(name: str, folder: Path) -> Path:
    target = folder / name
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    errors = []
    for mirror in MIRRORS:
        try:
            with urllib.request.urlopen(mirror + name, timeout=30) as response, \
                    open(target.with_suffix(".part"), "wb") as out:
                shutil.copyfileobj(response, out)
            target.with_suffix(".part").rename(target)
            return target
        except (urllib.error.URLError, OSError) as exc:
            errors.append(f"{mirror}: {exc}")
    raise FileNotFoundError(
        f"MNIST file {name!r} is not in {folder} and could not be downloaded "
        f"({'; '.join(errors)}). Place the four files {', '.join(FILES.values())} in that "
        "folder (or pass data_home=...), or use grokkit.datasets.load_digits_split offline."
    )


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
    X_train = read_idx(paths["train_images"]).reshape(-1, 28 * 28)[:n_train]
    y_train = read_idx(paths["train_labels"])[:n_train]
    X_test = read_idx(paths["test_images"]).reshape(-1, 28 * 28)[:n_test]
    y_test = read_idx(paths["test_labels"])[:n_test]
    return (
        (X_train / 255.0).astype(np.float32),
        y_train.astype(np.int64),
        (X_test / 255.0).astype(np.float32),
        y_test.astype(np.int64),
    )
