"""The MNIST experiments read MNIST wherever ``load_mnist`` finds it, and say what they loaded.

Each test writes a tiny MNIST in MNIST's own gzip IDX files (structured 28 × 28
images: a class-dependent bar plus noise) into a temporary folder and points
``GROKKIT_DATA`` at it; the smoke runs must train on those images and their
data sentence must state the counts actually loaded.
"""

import gzip
import re
import struct

import numpy as np
import pytest

from grokkit.datasets.mnist import FILES
from grokkit.experiments import reproduce
from grokkit.experiments._common import MNIST_SIZES, count, digits_data, image_data, mnist_sentence

N_TRAIN, N_TEST = 300, 120
MNIST_EXPERIMENTS = ("mnist_alpha_grokking", "dropout_removes_grokking", "progress_measures_norm_increasing",
                     "mi_regularised_training", "robustness_appendix_measures", "critical_data_size",
                     "mnist_messiness_landscape", "mnist_cross_entropy")


def _write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _images(labels, rng):
    """Noise with a bright horizontal bar in row band ``2 + 2·label``: learnable, not trivial."""
    images = rng.randint(0, 60, size=(len(labels), 28, 28))
    for i, label in enumerate(labels):
        images[i, 2 + 2 * label: 4 + 2 * label, 4:24] = 255
    return images.astype(np.uint8)


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch):
    rng = np.random.RandomState(0)
    y_train, y_test = rng.randint(0, 10, size=N_TRAIN), rng.randint(0, 10, size=N_TEST)
    folder = tmp_path / "mnist"
    folder.mkdir()
    arrays = {"train_images": _images(y_train, rng), "train_labels": y_train,
              "test_images": _images(y_test, rng), "test_labels": y_test}
    for key, name in FILES.items():
        _write_idx(folder / name, arrays[key])
    monkeypatch.setenv("GROKKIT_DATA", str(tmp_path))
    return folder, arrays


def test_image_data_reads_mnist_at_every_size_and_counts_what_it_loaded(tiny_mnist):
    folder, arrays = tiny_mnist
    for size in ("smoke", "quick", "full"):
        (X, y, X_test, y_test), dataset = image_data(size, seed=0, n_train=200, n_test=50)
        assert X.shape == (200, 784) and X_test.shape == (50, 784)
        np.testing.assert_array_equal(y, arrays["train_labels"][:200])
        np.testing.assert_array_equal(X_test * 255, arrays["test_images"][:50].reshape(50, -1))
        assert dataset.startswith("MNIST, 200 train / 50 test images (")
        assert f"first 200 of {N_TRAIN} training images" in dataset
        assert f"first 50 of {N_TEST} test images" in dataset and str(folder) in dataset
        assert f"subset of MNIST's {count(MNIST_SIZES[0])} train / {count(MNIST_SIZES[1])} test" in dataset
    _, everything = image_data("quick", seed=0, n_train=None)
    assert everything.startswith(f"MNIST, {N_TRAIN} train / {N_TEST} test images (all {N_TRAIN} training "
                                 f"images and all {N_TEST} test images")


def test_sentence_of_a_complete_mnist_claims_no_subset():
    data = (np.zeros((1000, 1)), None, np.zeros((10_000, 1)), None)
    sentence = mnist_sentence(data, MNIST_SIZES, "home")
    assert sentence == ("MNIST, 1 000 train / 10 000 test images (the first 1 000 of 60 000 training images "
                        "and all 10 000 test images in home)")


def test_without_mnist_the_digits_stand_in_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("GROKKIT_DATA", str(tmp_path))
    (X, _, X_test, _), dataset = image_data("quick", seed=0, n_digits=250)
    assert X.shape == (250, 64) and len(X_test) == 1797 - 250
    assert dataset == (f"sklearn digits, 250 train / {count(1797 - 250)} test images (offline stand-in for "
                       f"MNIST: MNIST file 'train-images-idx3-ubyte.gz' not found in {tmp_path / 'mnist'})")
    assert digits_data(250, 0)[1].endswith("(offline stand-in for MNIST)")


@pytest.mark.parametrize("name", MNIST_EXPERIMENTS)
def test_mnist_experiment_trains_on_the_mnist_it_finds(tiny_mnist, tmp_path, name):
    summary = reproduce(name, size="smoke", out=tmp_path / name, verbose=0)
    dataset = summary["dataset"]
    match = re.match(r"MNIST, (\d+) train / (\d+) test images \(", dataset)
    assert match, dataset
    n_train, n_test = int(match.group(1)), int(match.group(2))
    assert 0 < n_train <= N_TRAIN and n_test == N_TEST
    assert "subset of MNIST" in dataset
    # Every accuracy on the loaded test set is a whole number of its images: the runs read these images.
    runs = summary["runs"]
    if name == "robustness_appendix_measures":  # its other runs are on modular addition
        runs = {"mnist": runs["mnist"]}
    tests = [run["final_test_acc"] for run in runs.values() if "final_test_acc" in run]
    assert tests
    for acc in tests:
        assert abs(acc * n_test - round(acc * n_test)) < 1e-6 * n_test, (name, acc)


def test_norm_constraint_stand_in_stays_on_digits_beside_mnist(tiny_mnist, tmp_path):
    """Omnigrok Fig. 7b is modular addition: its small sizes' MLP stand-in keeps the digits it was
    tuned on."""
    summary = reproduce("norm_constraint_removes_grokking", size="smoke", out=tmp_path / "norm", verbose=0)
    assert summary["dataset"] == ("sklearn digits, 300 train / 1 497 test images (MLP stand-in for the "
                                  "transformer on modular addition)")
