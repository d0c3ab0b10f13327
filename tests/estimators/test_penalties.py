"""The extra loss terms: norm penalty is tested with training; here the MI penalty."""

import numpy as np
import pytest
import torch

from grokkit import GrokMLPClassifier, ModularMLPClassifier
from grokkit.datasets import make_modular
from grokkit.measures import matrix_mutual_information


def _loss_and_grad(clf, X, y):
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    clf.module_.zero_grad()
    clf._shuffle_generator = torch.Generator().manual_seed(0)
    out = clf.module_(Xt)
    loss = clf.get_loss(out, yt, X=Xt, training=True)
    loss.backward()
    return float(loss.detach()), clf.module_.fc1.weight.grad.clone()


def test_mi_penalty_subtracts_the_matrix_mutual_information(blobs):
    X, y = blobs
    clf = GrokMLPClassifier(hidden_layer_sizes=(8,), max_epochs=1, measures=None,
                            random_state=0).fit(X, y)
    plain, grad_plain = _loss_and_grad(clf, X, y)
    clf.set_params(mi_penalty=0.7)
    penalised, grad_pen = _loss_and_grad(clf, X, y)
    with torch.no_grad():
        outputs = clf.module_(torch.as_tensor(X)).numpy()
    mi = matrix_mutual_information(X, outputs)  # 90 rows < 256: no subsampling
    assert penalised == pytest.approx(plain - 0.7 * mi, rel=1e-4)
    assert not torch.allclose(grad_plain, grad_pen)


def test_mi_penalty_on_pairs_uses_the_one_hot_input():
    X, y, _, _ = make_modular(p=11, train_fraction=0.5, random_state=0)
    clf = ModularMLPClassifier(p=11, max_epochs=3, mi_penalty=0.5, measures=None,
                               random_state=0).fit(X, y)
    with torch.no_grad():
        rows = clf._mi_input(torch.as_tensor(X))
    assert rows.shape == (len(X), 22) and torch.equal(rows.sum(1), torch.full((len(X),), 2.0))
    assert np.isfinite(clf.progress_.train_loss).all()


def test_mi_penalty_must_be_a_number(blobs):
    X, y = blobs
    with pytest.raises(TypeError, match="mi_penalty"):
        GrokMLPClassifier(mi_penalty="high", max_epochs=1).fit(X, y)
