"""make_teacher_student: inputs N(0, I), targets from a PyTorch-default-initialised teacher (Omnigrok §3)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grokkit import GrokMLPRegressor
from grokkit.datasets.teacher_student import make_teacher_student, teacher_forward
from grokkit.models.mlp import MLP


def test_shapes_dtypes_and_determinism():
    out = make_teacher_student(n_train=30, n_test=20, d_in=4, d_out=3, widths=(7,), random_state=1)
    X, y, X_test, y_test = out
    assert X.shape == (30, 4) and y.shape == (30, 3) and X_test.shape == (20, 4) and y_test.shape == (20, 3)
    assert all(a.dtype == np.float32 for a in out)
    again = make_teacher_student(n_train=30, n_test=20, d_in=4, d_out=3, widths=(7,), random_state=1)
    for a, b in zip(out, again, strict=True):
        np.testing.assert_array_equal(a, b)
    other = make_teacher_student(n_train=30, n_test=20, d_in=4, d_out=3, widths=(7,), random_state=2)
    assert not np.allclose(y, other[1])


def test_targets_are_a_torch_mlp_with_the_teacher_weights():
    X, y, X_test, y_test, teacher = make_teacher_student(n_train=50, n_test=10, widths=(100, 100),
                                                        random_state=0, return_teacher=True)
    net = MLP(5, 5, (100, 100), "tanh").double()
    with torch.no_grad():
        for k, (weight, bias) in enumerate(teacher):
            getattr(net, f"fc{k + 1}").weight.copy_(torch.tensor(weight))
            getattr(net, f"fc{k + 1}").bias.copy_(torch.tensor(bias))
        expected = net(torch.tensor(np.vstack([X, X_test]), dtype=torch.float64)).numpy()
    np.testing.assert_allclose(np.vstack([y, y_test]), expected, rtol=1e-5, atol=1e-6)


def test_teacher_has_pytorch_default_init_scale():
    *_, teacher = make_teacher_student(widths=(100, 100), random_state=0, return_teacher=True)
    for weight, bias in teacher:
        bound = 1 / np.sqrt(weight.shape[1])
        assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
        # U(-b, b) has variance b²/3
        assert weight.var() == pytest.approx(bound**2 / 3, rel=0.1)


def test_inputs_are_standard_gaussian():
    X, _, X_test, _ = make_teacher_student(n_train=2000, n_test=2000, widths=(3,), random_state=0)
    Z = np.vstack([X, X_test])
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=0.05)
    np.testing.assert_allclose(np.cov(Z.T), np.eye(5), atol=0.06)


def test_teacher_forward_identity_is_affine():
    rng = np.random.default_rng(0)
    W1, b1, W2, b2 = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=(1, 3)), rng.normal(size=1)
    X = rng.normal(size=(4, 2))
    np.testing.assert_allclose(teacher_forward([(W1, b1), (W2, b2)], X, "identity"),
                               (X @ W1.T + b1) @ W2.T + b2)


def test_student_records_threshold_accuracy():
    X, y, X_test, y_test = make_teacher_student(n_train=20, n_test=20, widths=(8,), random_state=0)
    reg = GrokMLPRegressor(hidden_layer_sizes=(8,), activation="tanh", max_epochs=3, batch_size=None,
                           measures=None, accuracy_threshold=1e-3, random_state=0)
    reg.fit(X, y, eval_set=(X_test, y_test))
    last = reg.progress_.iloc[-1]
    per_sample = ((reg.predict(X_test) - y_test) ** 2).mean(axis=1)
    assert last["test_acc"] == pytest.approx((per_sample < 1e-3).mean())


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"n_train": 0}, ValueError, "n_train"),
    ({"n_test": -1}, ValueError, "n_test"),
    ({"d_in": 2.5}, TypeError, "d_in"),
    ({"d_out": 0}, ValueError, "d_out"),
    ({"widths": (10, 0)}, ValueError, "widths"),
    ({"widths": "big"}, ValueError, "widths"),
    ({"activation": "sigmoid"}, ValueError, "activation"),
])
def test_bad_inputs(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_teacher_student(**kwargs)
