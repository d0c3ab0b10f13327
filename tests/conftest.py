"""Shared fixtures: a fixed seed for every test, small datasets built once per module."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grokkit.datasets import load_digits_split


@pytest.fixture(scope="session", autouse=True)
def _no_user_data(tmp_path_factory):
    """Point ``GROKKIT_DATA`` at an empty folder for the whole session.

    Tests make their own data: no run may read the user's MNIST, IMDb or QM9
    (``$GROKKIT_DATA`` or ``~/.grokkit``), which would also change what the
    experiments' smoke runs train on. A test that needs data writes it and sets
    ``GROKKIT_DATA`` itself (``monkeypatch.setenv``).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GROKKIT_DATA", str(tmp_path_factory.mktemp("no_user_data")))
        yield


@pytest.fixture(autouse=True)
def _seed() -> None:
    np.random.seed(0)  # noqa: NPY002 - sklearn draws from the legacy global RNG
    torch.manual_seed(0)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run a test module's torch work on one thread (tiny models, busy shared cores)."""
    from grokkit._threads import torch_threads

    with torch_threads(1):
        yield


@pytest.fixture(scope="module")
def digits():
    """sklearn digits: 300 training images, the other 1 497 as test set."""
    return load_digits_split(n_train=300, random_state=0)


@pytest.fixture(scope="module")
def blobs():
    """A small, easy 3-class problem in 5 dimensions."""
    rng = np.random.RandomState(0)
    centers = rng.normal(scale=4.0, size=(3, 5))
    y = rng.randint(0, 3, size=90)
    X = (centers[y] + rng.normal(size=(90, 5))).astype(np.float32)
    return X, y


def has_cuda() -> bool:
    return torch.cuda.is_available()
