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


def test_label_count_disagreeing_with_images_names_the_file(fake_mnist):
    """Issue 16 #10: train labels holding 5 entries against 50 images were returned as they were."""
    folder, arrays = fake_mnist
    labels = folder / mnist_module.FILES["train_labels"]
    _write_idx(labels, arrays["train_labels"][:5])
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz.*5 labels.*50 images.*Delete it"):
        load_mnist(n_train=30, data_home=folder, download=False)


def test_corrupt_gzip_cache_names_the_file_and_the_fix(fake_mnist):
    """Issue 16 #11: a non-gzip cached file raised a bare BadGzipFile."""
    folder, _ = fake_mnist
    (folder / mnist_module.FILES["test_images"]).write_bytes(b"<html>rate limited</html>")
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz.*gzip.*download=True"):
        load_mnist(data_home=folder, download=False)


def test_truncated_gzip_cache_is_corrupt(fake_mnist):
    folder, _ = fake_mnist
    path = folder / mnist_module.FILES["train_images"]
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz.*is corrupt"):
        load_mnist(data_home=folder, download=False)


@pytest.mark.parametrize("header, match", [
    (bytes([1, 0, 8, 1]) + (5).to_bytes(4, "big"), "magic number"),
    (bytes([0, 0, 0x42, 1]) + (5).to_bytes(4, "big"), "data type 0x42"),
    (bytes([0, 0, 8, 3]) + (5).to_bytes(4, "big"), "ends inside"),
    (bytes([0, 0, 8, 1]) + (9).to_bytes(4, "big"), r"shape \(9,\)"),
])
def test_read_idx_checks_magic_and_dimensions(tmp_path, header, match):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(header + bytes(5))
    with pytest.raises(ValueError, match=match):
        read_idx(path)


def test_images_of_the_wrong_shape_are_corrupt(fake_mnist):
    folder, _ = fake_mnist
    _write_idx(folder / mnist_module.FILES["train_images"], np.zeros((50, 8, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"train-images.*\(n, 28, 28\).*\(50, 8, 8\)"):
        load_mnist(data_home=folder, download=False)


def test_interrupted_download_leaves_no_file(tmp_path, monkeypatch):
    """A download that fails midway leaves neither the target nor its temporary file."""
    import io

    from grokkit.datasets import _cache

    class Broken(io.RawIOBase):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def readinto(self, buffer):
            raise ConnectionResetError("connection reset mid-download")

    monkeypatch.setattr(_cache.urllib.request, "urlopen", lambda url, timeout: Broken())
    with pytest.raises(FileNotFoundError, match="could not be downloaded"):
        load_mnist(data_home=tmp_path, download=True)
    assert list(tmp_path.iterdir()) == []


def test_completed_download_is_renamed_into_place(tmp_path, monkeypatch):
    import io

    from grokkit.datasets import _cache

    payload = b"idx bytes"
    monkeypatch.setattr(_cache.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(payload))
    target = _cache.download(["https://example.invalid/a.gz"], tmp_path / "a.gz")
    assert target.read_bytes() == payload
    assert [p.name for p in tmp_path.iterdir()] == ["a.gz"]


@pytest.mark.parametrize("seed", [0.0, -1, "a"])
def test_digits_bad_random_state_names_it(seed):
    with pytest.raises(ValueError, match="random_state must be None, an int"):
        load_digits_split(n_train=10, random_state=seed)
