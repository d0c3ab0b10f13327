"""The shared checks of grokkit._validation that issue 16's fixes go through."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from grokkit._validation import (
    check_dense,
    check_not_text,
    check_output_dir,
    check_random_state,
    input_named,
)


def test_check_output_dir(tmp_path):
    (tmp_path / "file").write_text("")
    assert check_output_dir("out", tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # the probe leaves nothing behind
    assert check_output_dir("out", tmp_path) == tmp_path
    assert [p.name for p in tmp_path.iterdir()] == ["file"]
    with pytest.raises(ValueError, match="out=.*is an existing file"):
        check_output_dir("out", tmp_path / "file")
    with pytest.raises(ValueError, match="out=.*lies under .*file.*which is a file"):
        check_output_dir("out", tmp_path / "file" / "a" / "b")
    with pytest.raises(ValueError, match="out=.*cannot be written"):
        check_output_dir("out", "/proc/grokkit-no-such-dir")
    with pytest.raises(TypeError, match="out must be a path"):
        check_output_dir("out", 3)


@pytest.mark.parametrize("seed", [0.0, -1, 2**40, True, "1", np.float32(2)])
def test_check_random_state_names_the_parameter(seed):
    """Found by the hypothesis module: load_digits_split(random_state=0.0) said only '0.0 cannot be
    used to seed a numpy.random.RandomState instance'."""
    with pytest.raises(ValueError, match="random_state must be None, an int"):
        check_random_state(seed)


def test_check_random_state_accepts_what_sklearn_accepts():
    rng = np.random.RandomState(3)
    assert check_random_state(rng) is rng
    assert check_random_state(np.int64(4)).randint(100) == np.random.RandomState(4).randint(100)
    assert isinstance(check_random_state(None), np.random.RandomState)


def test_input_named_prefixes_only_messages_without_the_name():
    with pytest.raises(ValueError, match=r"^X: Found array with 0 sample"):
        with input_named("X"):
            raise ValueError("Found array with 0 sample(s) (shape=(0, 3))")
    with pytest.raises(ValueError, match=r"^Input X contains NaN"):
        with input_named("X"):
            raise ValueError("Input X contains NaN.")
    with pytest.raises(TypeError, match=r"^X: bad"):
        with input_named("X"):
            raise TypeError("bad")


@pytest.mark.parametrize("X", [np.array([["a", "b"]]), np.array([[1.0, "x"]], dtype=object), "text", b"raw"])
def test_check_not_text(X):
    with pytest.raises(TypeError, match="X must be"):
        check_not_text("X", X)


def test_check_not_text_and_dense_pass_numbers():
    check_not_text("X", np.ones((2, 2)))
    check_not_text("X", [[1, 2], [3, 4]])
    check_dense("X", np.ones(2), "ReducedLandscape")
    with pytest.raises(TypeError, match="ReducedLandscape needs dense input: X is a scipy.sparse"):
        check_dense("X", scipy.sparse.csr_matrix(np.ones((2, 2))), "ReducedLandscape")
