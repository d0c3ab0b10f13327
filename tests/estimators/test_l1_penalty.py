"""The L1 weight penalty, added as one registered unit: its term in closed form, its gradient, its effect."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone

from grokkit import GrokMLPClassifier, ModularMLPClassifier, Sweep
from grokkit.datasets import make_modular

EPS = float(torch.finfo(torch.float64).eps)


def _blobs():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=3.0, size=(3, 5))
    y = np.repeat(np.arange(3), 30)
    return centres[y] + rng.normal(size=(90, 5)), y


def _loss_and_grads(clf, X, y):
    Xt, yt = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y)
    clf.module_.zero_grad()
    loss = clf.get_loss(clf.module_(Xt), yt, X=Xt, training=True)
    loss.backward()
    return float(loss.detach()), [p.grad.clone() for p in clf.module_.parameters()]


def test_the_term_is_lambda_times_the_l1_norm_and_its_gradient_lambda_sign():
    X, y = _blobs()
    clf = GrokMLPClassifier(hidden_layer_sizes=(8,), max_epochs=2, dtype="float64", measures=None,
                            random_state=0).fit(X, y)
    plain, plain_grads = _loss_and_grads(clf, X, y)
    lam = 0.3
    clf.set_params(l1_penalty=lam)
    penalised, grads = _loss_and_grads(clf, X, y)
    params = list(clf.module_.parameters())
    l1 = sum(float(p.detach().abs().sum()) for p in params)
    n = sum(p.numel() for p in params)
    assert penalised == pytest.approx(plain + lam * l1, rel=8 * EPS * n, abs=0)
    for p, g0, g in zip(params, plain_grads, grads, strict=True):
        torch.testing.assert_close(g - g0, lam * torch.sign(p.detach()), rtol=0, atol=64 * EPS)


def test_it_makes_the_weights_sparser_than_the_same_run_without_it():
    X, y = _blobs()
    base = GrokMLPClassifier(hidden_layer_sizes=(16,), max_epochs=60, batch_size=-1, lr=1e-2,
                             weight_decay=0.0, measures=None, random_state=0)
    plain = clone(base).fit(X, y)
    sparse = clone(base).set_params(l1_penalty=1e-2).fit(X, y)

    def l1(clf):
        return sum(float(p.detach().abs().sum()) for p in clf.module_.parameters())

    assert l1(sparse) < 0.8 * l1(plain)
    assert sparse.progress_["train_acc"].iloc[-1] >= 0.9


def test_runs_that_differ_in_it_stack_and_equal_their_own_fits():
    X, y, Xt, yt = make_modular(p=7, train_fraction=0.6, random_state=0)
    base = ModularMLPClassifier(p=7, hidden_layer_sizes=(8,), max_epochs=3, dtype="float64",
                                measures=("weight_norm",), measure_every=1)
    sweep = Sweep(base, {"l1_penalty": [0.0, 1e-3]}, n_jobs=1).fit(X, y, eval_set=(Xt, yt))
    assert set(sweep.results_["executor"]) == {"stacked"}
    for run, stacked in zip(sweep.runs_, sweep.estimators_, strict=True):
        alone = clone(base).set_params(**run).fit(X, y, eval_set=(Xt, yt))
        np.testing.assert_allclose(stacked.progress_.to_numpy(float), alone.progress_.to_numpy(float),
                                   rtol=1e3 * EPS, atol=1e3 * EPS)


def test_a_negative_weight_is_refused_naming_it():
    X, y = _blobs()
    with pytest.raises(ValueError, match="l1_penalty"):
        GrokMLPClassifier(l1_penalty=-1.0, max_epochs=1).fit(X, y)
