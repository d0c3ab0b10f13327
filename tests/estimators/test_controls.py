"""The controls from the wider field as estimator options: grokfast, loss="stablemax", optimizer="orthoadamw".

Each control's equivalence test (issue 15, point 5) is here at the estimator
level: Grokfast-EMA with λ = 0 trains bit for bit as without it; the
gradient ⊥AdamW steps on is orthogonal to the pre-step weights; the recorded
StableMax loss equals −log(s(x_y)/Σ s(x)) computed by hand in float64.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from skorch.callbacks import Callback

from grokkit import (
    GrokGCNRegressor,
    GrokLSTMClassifier,
    GrokMLPClassifier,
    GrokMLPRegressor,
    ModularMLPClassifier,
    ModularTransformer,
)
from grokkit.callbacks import Grokfast
from grokkit.datasets import make_modular, make_molecular_graphs
from grokkit.estimators import resume as resuming
from grokkit.losses import StableMaxCrossEntropy, stablemax, stablemax_cross_entropy
from grokkit.measures import nlm_alignment, softmax_collapse
from grokkit.optim import OrthoAdamW

pytestmark = pytest.mark.usefixtures("one_torch_thread")

EPS32 = float(torch.finfo(torch.float32).eps)
EPS64 = float(torch.finfo(torch.float64).eps)


@pytest.fixture(scope="module")
def modular():
    return make_modular(p=11, train_fraction=0.5, random_state=0)


def _modular(**params):
    defaults = {"p": 11, "hidden_layer_sizes": (16,), "max_epochs": 8, "measure_every": 2,
                "measures": ("weight_norm",), "random_state": 0}
    return ModularMLPClassifier(**{**defaults, **params})


def _same_parameters(a, b) -> bool:
    pairs = zip(a.module_.state_dict().items(), b.module_.state_dict().items(), strict=True)
    return all(name_a == name_b and torch.equal(x, y) for (name_a, x), (name_b, y) in pairs)


# ---------------------------------------------------------------------------------------- grokfast
@pytest.mark.parametrize("spec, expected", [
    (("ema", 0.9, 1.5), {"filter": "ema", "alpha": 0.9, "lamb": 1.5}),
    (["ma", 7, 5.0], {"filter": "ma", "window": 7, "lamb": 5.0}),
])
def test_grokfast_becomes_the_first_default_callback(modular, spec, expected):
    X, y, _, _ = modular
    clf = _modular(grokfast=spec, max_epochs=2).fit(X, y)
    name, callback = clf.callbacks_[0]
    assert name == "grokfast" and isinstance(callback, Grokfast)
    assert {k: callback.get_params()[k] for k in expected} == expected
    # every parameter with a gradient was filtered at each of the two steps
    assert {n: int(v) for n, v in callback.seen_.items()} == {n: 2 for n, _ in clf.module_.named_parameters()}
    assert "grokfast" not in dict(_modular(max_epochs=1).fit(X, y).callbacks_)


@pytest.mark.parametrize("bad", [("ema", 1.0, 2.0), ("ema", 0.5), "ema", ("ma", 2.5, 1.0),
                                 ("ma", 0, 1.0), ("ma", 3, float("inf")), ("kalman", 0.5, 1.0),
                                 ("ema", "0.9", 2.0), ("ema", 0.9, None), {"ema": 0.9}])
def test_bad_grokfast_is_refused_by_name(modular, bad):
    X, y, _, _ = modular
    with pytest.raises(ValueError, match="'grokfast' parameter"):
        _modular(grokfast=bad).fit(X, y)


def _mlp(**params):
    # minibatches, dropout and input noise: the filter must not touch the RNG streams
    return GrokMLPClassifier(hidden_layer_sizes=(16,), batch_size=16, dropout=0.2, input_noise=(0.3, 0.01),
                             max_epochs=6, measure_every=2, measures=("weight_norm",), random_state=2,
                             **params)


@pytest.mark.parametrize("case", ["modular_full_batch", "mlp_minibatch_dropout_noise"])
def test_grokfast_ema_with_lamb_zero_is_plain_training_bit_for_bit(modular, blobs, case):
    if case == "modular_full_batch":
        make, (X, y, Xt, yt) = _modular, modular
    else:
        make, (X, y, Xt, yt) = _mlp, (blobs[0][:60], blobs[1][:60], blobs[0][60:], blobs[1][60:])
    plain = make(grokfast=None).fit(X, y, eval_set=(Xt, yt))
    filtered = make(grokfast=("ema", 0.98, 0.0)).fit(X, y, eval_set=(Xt, yt))
    pd.testing.assert_frame_equal(filtered.progress_, plain.progress_, check_exact=True)
    assert _same_parameters(filtered, plain)
    assert int(next(iter(dict(filtered.callbacks_)["grokfast"].seen_.values()))) == plain.n_steps_
    amplified = make(grokfast=("ema", 0.98, 2.0)).fit(X, y, eval_set=(Xt, yt))
    assert not _same_parameters(amplified, plain)


class Crash(Callback):
    """Raises at a given epoch while armed (class attributes: not part of the run's fingerprint)."""

    armed = False
    at = 0

    def on_epoch_end(self, net, **kwargs):
        if Crash.armed and net.history[-1, "epoch"] == Crash.at:
            raise RuntimeError("simulated crash")


def _crash_and_resume(make, data, directory):
    X, y, Xt, yt = data
    Crash.armed, Crash.at = True, 7
    try:
        with pytest.raises(RuntimeError, match="simulated crash"):
            make(checkpoint_dir=directory, callbacks=[Crash()]).fit(X, y, eval_set=(Xt, yt))
    finally:
        Crash.armed = False
    assert torch.load(directory / "checkpoint.pt", weights_only=False)["epoch"] == 6
    return make(checkpoint_dir=directory, callbacks=[Crash()]).fit(X, y, eval_set=(Xt, yt))


@pytest.mark.parametrize("spec", [("ema", 0.9, 2.0), ("ma", 3, 5.0)])
def test_grokfast_state_survives_a_checkpoint_dir_resume(modular, tmp_path, spec):
    make = lambda **kw: _modular(grokfast=spec, max_epochs=10, **kw)  # noqa: E731
    reference = make(callbacks=[Crash()]).fit(*modular[:2], eval_set=modular[2:])
    resumed = _crash_and_resume(make, modular, tmp_path)
    # it crashed at epoch 7, after the epoch-6 checkpoint, and trained epochs 7-10 again
    assert resumed.history[:, "epoch"] == list(range(1, 11))
    pd.testing.assert_frame_equal(resumed.progress_, reference.progress_, check_exact=True)
    assert _same_parameters(resumed, reference)
    filter_state = "ema_" if spec[0] == "ema" else "window_"
    for name, tensor in getattr(dict(reference.callbacks_)["grokfast"], filter_state).items():
        assert torch.equal(getattr(dict(resumed.callbacks_)["grokfast"], filter_state)[name], tensor)


def test_a_resume_that_lost_the_filter_state_would_differ(modular, tmp_path, monkeypatch):
    """The resume test above can fail: dropping Grokfast's state from checkpoints changes the run."""
    make = lambda **kw: _modular(grokfast=("ema", 0.9, 2.0), max_epochs=10, **kw)  # noqa: E731
    reference = make(callbacks=[Crash()]).fit(*modular[:2], eval_set=modular[2:])
    states = resuming.callback_states
    monkeypatch.setattr(resuming, "callback_states",
                        lambda net: {k: v for k, v in states(net).items() if k != "grokfast"})
    resumed = _crash_and_resume(make, modular, tmp_path)
    assert not _same_parameters(resumed, reference)


def test_grokfast_state_survives_pickling_mid_run(modular):
    X, y, Xt, yt = modular
    straight = _modular(grokfast=("ema", 0.9, 2.0), max_epochs=8).fit(X, y)
    first = _modular(grokfast=("ema", 0.9, 2.0), max_epochs=4).fit(X, y)
    copy = pickle.loads(pickle.dumps(first))
    for name, h in dict(first.callbacks_)["grokfast"].ema_.items():
        assert torch.equal(dict(copy.callbacks_)["grokfast"].ema_[name], h)
    copy.partial_fit(X, y)          # 4 more full-batch epochs, no randomness involved
    assert copy.n_steps_ == 8 and _same_parameters(copy, straight)
    # the same continuation without the filter's memory ends elsewhere
    forgetful = pickle.loads(pickle.dumps(first))
    dict(forgetful.callbacks_)["grokfast"].initialize()
    assert not _same_parameters(forgetful.partial_fit(X, y), straight)


def test_lstm_clips_the_filtered_gradient():
    rng = np.random.default_rng(0)
    X, y = rng.integers(1, 20, size=(12, 5)), np.arange(12) % 2
    clf = GrokLSTMClassifier(vocab_size=20, embedding_dim=4, hidden_size=4, num_layers=1, max_epochs=1,
                             grokfast=("ema", 0.98, 2.0), clip_grad_norm=1.0, measures=None,
                             random_state=0).fit(X, y)
    assert [name for name, _ in clf.callbacks_][:2] == ["grokfast", "gradient_clipping"]


# ---------------------------------------------------------------------------- every estimator
def _small(cls):
    if cls in (ModularMLPClassifier, ModularTransformer):
        X, y, _, _ = make_modular(p=7, train_fraction=0.6, random_state=0)
        params = dict(p=7, hidden_layer_sizes=(8,)) if cls is ModularMLPClassifier else dict(
            p=7, d_model=8, n_heads=2, d_mlp=8)
        return params, X, y
    if cls is GrokLSTMClassifier:
        rng = np.random.default_rng(0)
        return (dict(vocab_size=20, embedding_dim=4, hidden_size=4, num_layers=1),
                rng.integers(1, 20, size=(12, 5)), np.arange(12) % 2)
    if cls is GrokGCNRegressor:
        graphs, y = make_molecular_graphs(n_graphs=8, random_state=0)
        return dict(hidden_channels=(4,)), graphs, (y - y.mean()) / y.std()
    X = np.random.default_rng(0).normal(size=(12, 3)).astype(np.float32)
    return dict(hidden_layer_sizes=(4,)), X, (np.arange(12) % 2) if cls is GrokMLPClassifier else X[:, 0]


ESTIMATORS = [GrokMLPClassifier, GrokMLPRegressor, ModularMLPClassifier, ModularTransformer,
              GrokLSTMClassifier, GrokGCNRegressor]
CLASSIFIERS = [GrokMLPClassifier, ModularMLPClassifier, ModularTransformer, GrokLSTMClassifier]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_estimator_takes_grokfast_and_orthoadamw(cls):
    params, X, y = _small(cls)
    clf = cls(**params, max_epochs=2, grokfast=("ma", 3, 5.0), optimizer="orthoadamw", weight_decay=0.0,
              measures=("weight_norm",), random_state=0).fit(X, y)
    assert isinstance(clf.optimizer_, OrthoAdamW)
    assert clf.optimizer_.param_groups[0]["weight_decay"] == 0.0
    assert dict(clf.callbacks_)["grokfast"].seen_
    assert np.isfinite(clf.progress_["train_loss"]).all()


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_every_classifier_trains_with_stablemax(cls):
    params, X, y = _small(cls)
    clf = cls(**params, max_epochs=2, loss="stablemax", measures=None, random_state=0).fit(X, y)
    assert isinstance(clf.criterion_, StableMaxCrossEntropy)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=8 * EPS64)
    assert (clf.classes_[proba.argmax(axis=1)] == clf.predict(X)).all()


@pytest.mark.parametrize("cls", [GrokMLPRegressor, GrokGCNRegressor], ids=lambda c: c.__name__)
def test_regressors_refuse_stablemax_by_name(cls):
    params, X, y = _small(cls)
    with pytest.raises(ValueError, match="'loss' parameter"):
        cls(**params, max_epochs=1, loss="stablemax").fit(X, y)


def test_bad_optimizer_name_lists_orthoadamw(modular):
    with pytest.raises(ValueError, match="'optimizer' parameter.*orthoadamw"):
        _modular(optimizer="orthoadam").fit(*modular[:2])


# --------------------------------------------------------------------------------- stablemax
def _s(x: np.ndarray) -> np.ndarray:
    return np.where(x >= 0, x + 1.0, 1.0 / (1.0 - np.minimum(x, 0.0)))


def _hand_stablemax_ce(logits: np.ndarray, labels: np.ndarray) -> float:
    """−log(s(x_y) / Σ_j s(x_j)), in float64, one sample at a time."""
    losses = []
    for row, label in zip(logits.astype(np.float64), labels, strict=True):
        s = _s(row)
        losses.append(-np.log(s[label] / s.sum()))
    return float(np.mean(losses))


def test_recorded_stablemax_loss_equals_the_hand_float64_reference(modular):
    X, y, Xt, yt = modular
    clf = _modular(loss="stablemax", dtype="float64", alpha=3.0, max_epochs=30, measure_every=10,
                   ).fit(X, y, eval_set=(Xt, yt))
    with torch.no_grad():
        clf.module_.eval()
        train_logits = clf.module_(torch.as_tensor(X)).numpy()
        test_logits = clf.module_(torch.as_tensor(Xt)).numpy()
    last = clf.progress_.iloc[-1]
    # float64 throughout; a mean of 60 log terms carries a few ulps of rounding each
    assert last["train_loss"] == pytest.approx(_hand_stablemax_ce(train_logits, y), rel=256 * EPS64)
    assert last["test_loss"] == pytest.approx(_hand_stablemax_ce(test_logits, yt), rel=256 * EPS64)
    expected_proba = _s(train_logits) / _s(train_logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), expected_proba, rtol=16 * EPS64, atol=0)


def test_float32_stablemax_records_its_criterion_not_softmax_ce(modular):
    X, y, Xt, yt = modular
    clf = _modular(loss="stablemax", max_epochs=5).fit(X, y, eval_set=(Xt, yt))
    outputs, _ = clf.evaluate_outputs(torch.as_tensor(Xt))
    expected = float(stablemax_cross_entropy(outputs, torch.as_tensor(yt)))
    assert clf.progress_["test_loss"].iloc[-1] == pytest.approx(expected, rel=4 * EPS32)
    softmax_ce = float(torch.nn.functional.cross_entropy(outputs, torch.as_tensor(yt)))
    assert abs(expected - softmax_ce) > 1e3 * EPS32 * expected   # the two criteria do differ here
    probabilities = stablemax(outputs.double(), dim=1).detach().numpy()
    np.testing.assert_array_equal(clf.predict_proba(Xt), probabilities)


# -------------------------------------------------------------------------------- orthoadamw
class GradientWeightDots(Callback):
    """|⟨g, θ⟩| / (‖g‖ ‖θ‖ n) per parameter and step, g the gradient AdamW stepped on, θ before the step."""

    def initialize(self):
        self.relative = []
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self._before = {name: p.detach().clone() for name, p in named_parameters}

    def on_batch_end(self, net, **kwargs):
        for name, p in net.module_.named_parameters():   # OrthoAdamW projected .grad in place
            g, w = p.grad.double(), self._before[name].double()
            scale = float(g.norm() * w.norm()) * p.numel()
            if scale > 0:
                self.relative.append(abs(float((g * w).sum())) / scale)


@pytest.mark.parametrize("grokfast", [None, ("ema", 0.98, 2.0)])
def test_orthoadamw_steps_on_gradients_orthogonal_to_the_weights(modular, grokfast):
    X, y, _, _ = modular
    dots = GradientWeightDots()
    clf = _modular(optimizer="orthoadamw", weight_decay=0.0, grokfast=grokfast, max_epochs=6,
                   callbacks=[dots]).fit(X, y)
    assert isinstance(clf.optimizer_, OrthoAdamW)
    assert clf.optimizer_.param_groups[0]["betas"] == (0.9, 0.98)
    # a float32 dot product of n terms is exact to about n·eps·‖g‖‖θ‖
    assert len(dots.relative) == 6 * 2 and max(dots.relative) <= EPS32
    # plain AdamW's gradient has a component along θ far above that
    plain = GradientWeightDots()
    _modular(weight_decay=0.0, max_epochs=6, callbacks=[plain]).fit(X, y)
    assert max(plain.relative) > 1e3 * EPS32


# ---------------------------------------------------------------------------------- measures
def test_stability_measures_are_recorded_with_the_training_loss(modular):
    X, y, Xt, yt = modular
    clf = _modular(loss="stablemax", measures=("softmax_collapse", "nlm_alignment"), measure_every=1,
                   max_epochs=4).fit(X, y, eval_set=(Xt, yt))
    assert {"softmax_collapse", "nlm_alignment"} <= set(clf.progress_.columns)
    last = clf.progress_.iloc[-1]
    # softmax_collapse, like nlm_alignment, reads the estimator's own loss: StableMax CE here
    assert last["softmax_collapse"] == softmax_collapse(clf.module_, X, y, loss="stablemax")
    # nlm_alignment differentiates the estimator's own loss (task_info), here StableMax
    expected = nlm_alignment(clf.module_, X, y, loss="stablemax")
    assert last["nlm_alignment"] == pytest.approx(expected, rel=16 * EPS32)
    assert expected != pytest.approx(nlm_alignment(clf.module_, X, y, loss="cross_entropy"),
                                     rel=16 * EPS32)


def test_lstm_records_nlm_alignment_with_its_bce_loss():
    rng = np.random.default_rng(0)
    X, y = rng.integers(1, 20, size=(12, 5)), np.arange(12) % 2
    clf = GrokLSTMClassifier(vocab_size=20, embedding_dim=4, hidden_size=4, num_layers=1, max_epochs=2,
                             measure_every=1, measures=("nlm_alignment", "softmax_collapse"),
                             random_state=0).fit(X, y)
    assert clf.loss == "bce"
    # BCE of z is the cross-entropy of the logits [0, z] the module returns
    expected = nlm_alignment(clf.module_, X, y, loss="cross_entropy")
    assert clf.progress_["nlm_alignment"].iloc[-1] == pytest.approx(expected, rel=16 * EPS32)
