import numpy as np
import pytest
import torch

from grokkit import GrokMLPClassifier
from grokkit.callbacks import InputNoise
from grokkit.models import MLP


def test_sigma_follows_the_formula(blobs):
    X, y = blobs
    clf = GrokMLPClassifier(hidden_layer_sizes=(16,), input_noise=(0.8, 0.1), max_epochs=40,
                            batch_size=-1, lr=1e-2, measure_every=1, measures=None,
                            random_state=0).fit(X, y)
    sigmas = np.array([row["input_noise_std"] for row in clf.history if "input_noise_std" in row])
    assert len(sigmas) == 40
    assert (sigmas >= 0.1 - 1e-12).all() and (sigmas <= 0.8 + 1e-12).all()
    assert sigmas[-1] < sigmas[0]  # it fits, so the noise shrinks toward lambda2
    assert clf.module_.input_noise_std == 0.0


def test_constant_noise_when_lambda1_is_zero(blobs):
    X, y = blobs
    clf = GrokMLPClassifier(hidden_layer_sizes=(8,), input_noise=(0.0, 0.3), max_epochs=5,
                            measure_every=1, measures=None, random_state=0).fit(X, y)
    assert np.allclose(clf.progress_.input_noise_std.iloc[1:], 0.3)


def test_epoch_zero_reads_the_sigma_of_the_first_epoch(blobs):
    X, y = blobs
    clf = GrokMLPClassifier(hidden_layer_sizes=(8,), input_noise=(0.5, 0.2), max_epochs=2,
                            measure_every=1, measures=None, random_state=0).fit(X, y)
    assert clf.progress_.input_noise_std.notna().all()
    assert clf.progress_.input_noise_std.iloc[0] == 0.5  # max(lambda1 * (1 - 0), lambda2)


def test_mlp_noise_only_in_training_mode():
    net = MLP(4, 2, (8,))
    net.input_noise_std = 1.0
    X = torch.randn(10, 4)
    net.eval()
    assert torch.equal(net(X), net(X))
    net.train()
    assert not torch.equal(net(X), net(X))


def test_model_without_noise_attribute_is_rejected():
    from types import SimpleNamespace

    cb = InputNoise((0.1, 0.0)).initialize()
    with pytest.raises(ValueError, match="input_noise_std"):
        cb.on_train_begin(SimpleNamespace(module_=torch.nn.Linear(2, 2)))


@pytest.mark.parametrize("bad", [(0.1,), (-0.1, 0.0), "big"])
def test_bad_lambdas(blobs, bad):
    X, y = blobs
    with pytest.raises((ValueError, TypeError), match="input_noise"):
        GrokMLPClassifier(input_noise=bad, max_epochs=1).fit(X, y)
