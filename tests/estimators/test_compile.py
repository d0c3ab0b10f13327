"""``compile=True`` and ``flush_denormal=True``: CPU execution options that leave results alone."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from grokkit import GrokMLPClassifier, ModularMLPClassifier
from grokkit.datasets import make_modular


def _fit(X, y, **params):
    return GrokMLPClassifier(hidden_layer_sizes=(16,), max_epochs=8, batch_size=30, measures=("weight_norm",),
                             measure_every=1, random_state=0, **params).fit(X, y)


def test_compiled_training_equals_eager(blobs):
    X, y = blobs
    eager = _fit(X, y)
    # the "eager" backend runs dynamo's graph capture without a C++ toolchain
    compiled = _fit(X, y, compile=True, compile__backend="eager")
    assert compiled._compiled_module[1] is not compiled.module_
    assert isinstance(compiled._compiled_module[1], torch._dynamo.eval_frame.OptimizedModule)
    np.testing.assert_allclose(compiled.progress_["train_loss"], eager.progress_["train_loss"], rtol=1e-5)
    np.testing.assert_allclose(compiled.progress_["weight_norm"], eager.progress_["weight_norm"], rtol=1e-6)
    # the fitted module is the eager one: its state dict has no "_orig_mod." prefix
    assert set(compiled.module_.state_dict()) == set(eager.module_.state_dict())


def test_compiled_estimator_pickles_and_keeps_training(blobs):
    X, y = blobs
    clf = _fit(X, y, compile=True, compile__backend="eager")
    again = pickle.loads(pickle.dumps(clf))
    assert "_compiled_module" not in vars(again)
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    again.partial_fit(X, y)  # recompiles on the next training step
    assert again._compiled_module[0] is again.module_


def test_compile_on_the_gathered_modular_mlp():
    X, y, Xt, yt = make_modular(p=11, train_fraction=0.5, random_state=0)
    eager = ModularMLPClassifier(p=11, hidden_layer_sizes=(32,), max_epochs=5, measures=None,
                                 random_state=0).fit(X, y)
    compiled = ModularMLPClassifier(p=11, hidden_layer_sizes=(32,), max_epochs=5, measures=None,
                                    random_state=0, compile=True, compile__backend="eager").fit(X, y)
    np.testing.assert_allclose(compiled.progress_["train_loss"], eager.progress_["train_loss"], rtol=1e-5)


def test_compile_must_be_a_bool(blobs):
    X, y = blobs
    with pytest.raises(TypeError, match="'compile' parameter .* must be .*bool.* Got 'yes'"):
        GrokMLPClassifier(compile="yes", max_epochs=1).fit(X, y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_inductor_on_cuda(blobs):
    X, y = blobs
    eager = _fit(X, y, device="cuda")
    compiled = _fit(X, y, device="cuda", compile=True)
    np.testing.assert_allclose(compiled.progress_["train_loss"], eager.progress_["train_loss"], rtol=1e-4)


class _DenormalProbe(Callback):
    """Records whether a float32 subnormal survives arithmetic during training."""

    def on_epoch_end(self, net, **kwargs):
        self.kept = float(torch.tensor([1e-39]) * 1.0) != 0.0


@pytest.mark.parametrize("flush", [True, False])
def test_flush_denormal_during_fit_only(blobs, flush):
    X, y = blobs
    probe = _DenormalProbe()
    GrokMLPClassifier(max_epochs=2, measures=None, flush_denormal=flush, callbacks=[probe]).fit(X, y)
    assert probe.kept is (not flush)
    assert float(torch.tensor([1e-39]) * 1.0) != 0.0  # switched off again after fit
