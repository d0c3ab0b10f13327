import pickle

import numpy as np
import pytest
import torch

from grokkit import ModularMLPClassifier
from grokkit.analysis import (
    OInformationAnalyzer,
    hidden_activations,
    retrain_masked,
    synergistic_subnetwork,
)
from grokkit.datasets import make_modular
from grokkit.models import MLP, mask_neurons


@pytest.fixture(scope="module")
def run():
    X, y, Xt, yt = make_modular(p=13, train_fraction=0.6, random_state=0)
    clf = ModularMLPClassifier(p=13, hidden_layer_sizes=(24,), max_epochs=20, measure_every=10,
                               keep_checkpoints=True, measures=["weight_norm"], random_state=0)
    return clf.fit(X, y, eval_set=(Xt, yt)), X, y, (Xt, yt)


def test_masked_activation_silences_exactly_the_masked_units():
    net = MLP(5, 3, (6,))
    X = torch.randn(10, 5)
    keep = np.array([True, False, True, True, False, True])
    with torch.no_grad():
        hidden = torch.relu(net.fc1(X)) * torch.as_tensor(keep, dtype=torch.float32)
        expected = net.fc2(hidden)
    mask_neurons(net, "act1", keep)
    with torch.no_grad():
        torch.testing.assert_close(net(X), expected)
    again = pickle.loads(pickle.dumps(net))
    assert torch.equal(again.act1.keep, torch.as_tensor(keep))
    assert list(net.hidden_modules()) == ["act1"]


def test_retraining_keeps_the_mask_and_starts_from_the_checkpoint(run):
    clf, X, y, eval_set = run
    keep = np.arange(24) < 8
    sub = retrain_masked(clf, X, y, keep, eval_set=eval_set, epoch=10, max_epochs=15)
    acts = hidden_activations(sub, X)["act1"]
    assert np.all(acts[:, ~keep] == 0) and np.any(acts[:, keep] != 0)
    assert sub.n_steps_ == 15 and list(sub.progress_.epoch)[0] == 0
    # epoch 0 of the retraining is the masked checkpoint, not the final network
    masked_start = retrain_masked(clf, X, y, np.ones(24, bool), epoch=10, max_epochs=1)
    row = clf.progress_.set_index("epoch").loc[10]
    assert masked_start.progress_.train_loss.iloc[0] == pytest.approx(row.train_loss, rel=1e-5)
    assert "act1" in dict(clf.module_.named_children()) and not hasattr(clf.module_.act1, "keep")


def test_synergistic_subnetwork_and_its_inverse_split_the_neurons(run):
    clf, X, y, eval_set = run
    out = synergistic_subnetwork(clf, X, y, OInformationAnalyzer(n_bins=4, min_order=3),
                                 eval_set=eval_set, epoch=10, max_epochs=10)
    neurons = out["neurons"]
    assert 0 < len(neurons) < 24
    sub_acts = hidden_activations(out["subnetwork"], X)["act1"]
    inv_acts = hidden_activations(out["inverse"], X)["act1"]
    outside = np.setdiff1d(np.arange(24), neurons)
    assert np.all(sub_acts[:, outside] == 0) and np.all(inv_acts[:, neurons] == 0)
    assert list(out["summary"].index) == ["subnetwork", "inverse"]
    assert out["summary"].n_neurons.sum() == 24


def test_bad_mask(run):
    clf, X, y, _ = run
    with pytest.raises(ValueError, match="keep"):
        retrain_masked(clf, X, y, np.ones(5, bool))
    with pytest.raises(ValueError, match="layer"):
        retrain_masked(clf, X, y, np.ones(24, bool), layer="act9")
