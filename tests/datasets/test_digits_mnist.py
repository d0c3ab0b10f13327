import gzip
import struct

import numpy as np
import pytest

from grokkit.datasets import load_digits_split, load_mnist, read_idx
from grokkit.datasets import mnist as mnist_module


def test_digits_split_is_disjoint_complete_and_seeded():
    X, y, Xt, yt = load_digits_split(n_train=300, random_state=0)
    assert X.shape == (300, 64) and Xt.shape == (1497, 64)
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert 0.0 <= X.min() and X.max() <= 1.0
    rows = {r.tobytes() for r in X}
    assert len(rows & {r.tobytes() for r in Xt}) <= 5  # digits has a few duplicate images
    again = load_digits_split(n_train=300, random_state=0)
    np.testing.assert_array_equal(again[0], X)
    assert not np.array_equal(load_digits_split(n_train=300, random_state=1)[0], X)


@pytest.mark.parametrize("n_train", [0, 1797, 2.5])
def test_digits_bad_size(n_train):
    with pytest.raises((ValueError, TypeError), match="n_train"):
        load_digits_split(n_train=n_train)


def _write_idx(path, array):
    codes = {np.dtype(np.uint8): 0x08}
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


@pytest.fixture
def fake_mnist(tmp_path):
    rng = np.random.RandomState(0)
    arrays = {
        "train_images": rng.randint(0, 256, size=(50, 28, 28)).astype(np.uint8),
        "train_labels": rng.randint(0, 10, size=50).astype(np.uint8),
        "test_images": rng.randint(0, 256, size=(20, 28, 28)).astype(np.uint8),
        "test_labels": rng.randint(0, 10, size=20).astype(np.uint8),
    }
    for key, name in mnist_module.FILES.items():
        _write_idx(tmp_path / name, arrays[key])
    return tmp_path, arrays


def test_load_mnist_reads_the_first_images_from_a_user_folder(fake_mnist):
    folder, arrays = fake_mnist
    X, y, Xt, yt = load_mnist(n_train=30, data_home=folder, download=False)
    assert X.shape == (30, 784) and Xt.shape == (20, 784)
    np.testing.assert_allclose(X, arrays["train_images"][:30].reshape(30, -1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, arrays["train_labels"][:30])
    np.testing.assert_array_equal(read_idx(folder / mnist_module.FILES["test_labels"]),
                                  arrays["test_labels"])


def test_missing_file_offline_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz"):
        load_mnist(data_home=tmp_path, download=False)


def test_failed_download_names_the_file_and_the_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_module, "MIRRORS", ("http://127.0.0.1:9/",))
    with pytest.raises(FileNotFoundError, match=r"train-images.*could not be downloaded"):
        load_mnist(data_home=tmp_path, download=True)
    assert not list(tmp_path.glob("*.gz"))


def test_corrupt_file_is_rejected(tmp_path):
    bad = tmp_path / "bad.gz"
    with gzip.open(bad, "wb") as f:
        f.write(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(bad)
