"""skorch's documented usage on grokkit estimators: each idiom works, or is refused by name.

The idioms are those of skorch's documentation pages on saving and loading,
scoring and callbacks (and of its prefixed ``module__``/``iterator_*__``/
``optimizer__``/``criterion__``/``callbacks__`` arguments). An idiom that
works is checked against an independent computation (loaded parameters
equal, scores equal to scikit-learn's metric on the same predictions); one
that grokkit cannot honour raises an error that names it. None is silently
ignored.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, log_loss, r2_score
from skorch.callbacks import (
    BatchScoring,
    Callback,
    Checkpoint,
    EpochScoring,
    LoadInitState,
    TrainEndCheckpoint,
)

from grokkit import GrokMLPClassifier, GrokMLPRegressor

IDIOMS = {}


def idiom(function):
    IDIOMS[function.__name__] = function
    return function


@pytest.fixture(scope="module")
def data(blobs):
    X, y = blobs
    return X[:60], y[:60], X[60:], y[60:]


def _clf(**params):
    base = dict(hidden_layer_sizes=(8,), lr=1e-2, batch_size=20, measures=("weight_norm",), random_state=0,
                max_epochs=6, measure_every=1)
    return GrokMLPClassifier(**{**base, **params})


class PredictionsAtEpochEnd(Callback):
    """Records ``net.predict(X)`` at every epoch end (a net predicts during its fit, as skorch's does)."""

    def __init__(self, X=None):
        self.X = X

    def initialize(self):
        self.seen = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.seen.append(net.predict(self.X))


class PredictionsAtEpochBegin(PredictionsAtEpochEnd):
    def on_epoch_end(self, net, **kwargs):
        pass

    def on_epoch_begin(self, net, **kwargs):
        self.seen.append(net.predict(self.X))


def _assert_same_module(a, b):
    for (name, p), (_, q) in zip(a.module_.state_dict().items(), b.module_.state_dict().items(), strict=True):
        assert torch.equal(p, q), name


# ------------------------------------------------------------------ saving and loading
@idiom
def initialize_then_load_params(data, tmp_path):
    """skorch docs, *Saving and loading*: ``new_net.initialize(); new_net.load_params(f_params=...)``."""
    X, y, Xt, yt = data
    fitted = _clf().fit(X, y, eval_set=(Xt, yt))
    fitted.save_params(f_params=tmp_path / "model.pkl", f_optimizer=tmp_path / "opt.pkl",
                       f_history=tmp_path / "history.json")
    new = _clf()
    assert new.initialize() is new
    new.load_params(f_params=tmp_path / "model.pkl", f_optimizer=tmp_path / "opt.pkl",
                    f_history=tmp_path / "history.json")
    _assert_same_module(new, fitted)
    np.testing.assert_array_equal(new.predict_proba(Xt), fitted.predict_proba(Xt))
    assert new.history.to_list() == fitted.history.to_list() and new.n_steps_ == fitted.n_steps_
    state, expected = new.optimizer_.state_dict()["state"], fitted.optimizer_.state_dict()["state"]
    assert all(torch.equal(state[k]["exp_avg"], expected[k]["exp_avg"]) for k in expected)


@idiom
def load_params_without_initialize(data, tmp_path):
    X, y, Xt, yt = data
    fitted = _clf().fit(X, y)
    fitted.save_params(f_params=tmp_path / "model.pkl")
    new = _clf()
    new.load_params(f_params=tmp_path / "model.pkl")
    _assert_same_module(new, fitted)


@idiom
def initialize_then_fit(data, tmp_path):
    X, y, _, _ = data
    reference = _clf().fit(X, y)
    net = _clf()
    net.initialize()
    net.fit(X, y)
    _assert_same_module(net, reference)


@idiom
def initialize_then_load_a_plain_state_dict_is_refused(data, tmp_path):
    """A bare ``state_dict`` has no classes; the error says what to save instead."""
    X, y, _, _ = data
    torch.save(_clf().fit(X, y).module_.state_dict(), tmp_path / "plain.pt")
    net = _clf()
    net.initialize()
    with pytest.raises(ValueError, match="holds no 'grokkit.fit' entry"):
        net.load_params(f_params=tmp_path / "plain.pt")


@idiom
def safetensors_round_trip(data, tmp_path):
    X, y, Xt, _ = data
    fitted = _clf().fit(X, y)
    fitted.save_params(f_params=tmp_path / "model.safetensors", use_safetensors=True)
    other = _clf(random_state=1).fit(X, y)
    other.load_params(f_params=tmp_path / "model.safetensors", use_safetensors=True)
    np.testing.assert_array_equal(other.predict_proba(Xt), fitted.predict_proba(Xt))
    with pytest.raises(ValueError, match="safetensors params file holds only"):
        _clf().load_params(f_params=tmp_path / "model.safetensors", use_safetensors=True)


@idiom
def pickle_round_trip(data, tmp_path):
    X, y, Xt, _ = data
    fitted = _clf().fit(X, y)
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.predict_proba(Xt), fitted.predict_proba(Xt))


@idiom
def checkpoint_then_load_params_checkpoint(data, tmp_path):
    """skorch docs: ``net.initialize(); net.load_params(checkpoint=cp)`` restores the best epoch."""
    X, y, Xt, yt = data
    cp = Checkpoint(dirname=str(tmp_path), monitor="valid_loss_best")
    fitted = _clf(callbacks=[cp]).fit(X, y, eval_set=(Xt, yt))
    best = int(np.argmin(fitted.history[:, "valid_loss"])) + 1
    new = _clf()
    new.initialize()
    new.load_params(checkpoint=Checkpoint(dirname=str(tmp_path), monitor="valid_loss_best"))
    assert len(new.history) == best
    saved = torch.load(tmp_path / "params.pt", weights_only=True)
    for name, value in new.module_.state_dict().items():
        assert torch.equal(value, saved[name]), name


@idiom
def train_end_checkpoint_then_load(data, tmp_path):
    X, y, Xt, yt = data
    fitted = _clf(callbacks=[TrainEndCheckpoint(dirname=str(tmp_path))]).fit(X, y, eval_set=(Xt, yt))
    new = _clf()
    new.initialize()
    new.load_params(checkpoint=TrainEndCheckpoint(dirname=str(tmp_path)))
    _assert_same_module(new, fitted)


@idiom
def load_init_state_continues(data, tmp_path):
    X, y, Xt, yt = data
    _clf(callbacks=[Checkpoint(dirname=str(tmp_path), monitor=None)]).fit(X, y, eval_set=(Xt, yt))
    again = _clf(max_epochs=2, callbacks=[LoadInitState(Checkpoint(dirname=str(tmp_path), monitor=None))])
    again.fit(X, y, eval_set=(Xt, yt))
    assert again.history[:, "epoch"] == list(range(1, 9)) and again.n_steps_ == 8 * 3


# ----------------------------------------------------------------------------- scoring
@idiom
def epoch_scoring_accuracy_on_the_eval_set(data, tmp_path):
    """skorch docs, *Scoring*: ``EpochScoring("accuracy", lower_is_better=False)`` on the validation data."""
    X, y, Xt, yt = data
    seen = PredictionsAtEpochEnd(Xt)
    net = _clf(callbacks=[("acc", EpochScoring("accuracy", lower_is_better=False)), ("seen", seen)])
    net.fit(X, y, eval_set=(Xt, yt))
    expected = [accuracy_score(yt, pred) for pred in seen.seen]
    assert net.history[:, "accuracy"] == expected
    best = np.maximum.accumulate(expected)
    assert net.history[:, "accuracy_best"] == [True] + [bool(a > b) for a, b in zip(expected[1:], best[:-1],
                                                                                     strict=True)]
    # the recorder's test_acc is the same quantity (float32 mean)
    eps = np.finfo(np.float32).eps
    np.testing.assert_allclose(net.progress_.test_acc.iloc[1:], expected, rtol=4 * eps)


@idiom
def epoch_scoring_without_caching(data, tmp_path):
    X, y, Xt, yt = data
    seen = PredictionsAtEpochEnd(Xt)
    net = _clf(callbacks=[EpochScoring("accuracy", use_caching=False, name="acc"), ("seen", seen)])
    net.fit(X, y, eval_set=(Xt, yt))
    assert net.history[:, "acc"] == [accuracy_score(yt, pred) for pred in seen.seen]


@idiom
def epoch_scoring_on_train(data, tmp_path):
    """``on_train=True`` scores the predictions made while training: at full batch, the model of the
    epoch's start (the one step comes after the forward pass)."""
    X, y, _, _ = data
    seen = PredictionsAtEpochBegin(X)
    net = _clf(batch_size=-1, callbacks=[("seen", seen), EpochScoring("accuracy", on_train=True,
                                                                      name="train_accuracy")])
    net.fit(X, y)
    assert net.history[:, "train_accuracy"] == [accuracy_score(y, pred) for pred in seen.seen]


@idiom
def epoch_scoring_of_the_validation_data_without_eval_set_warns(data, tmp_path):
    X, y, _, _ = data
    with pytest.warns(UserWarning, match="scores the validation data.*no eval_set: it records nothing"):
        net = _clf(callbacks=[EpochScoring("accuracy")]).fit(X, y)
    assert all("accuracy" not in row for row in net.history)


@idiom
def epoch_scoring_with_string_labels(data, tmp_path):
    X, y, Xt, yt = data
    names = np.array(["ant", "bee", "cat"])
    seen = PredictionsAtEpochEnd(Xt)
    net = _clf(callbacks=[EpochScoring("accuracy", name="acc"), ("seen", seen)])
    net.fit(X, names[y], eval_set=(Xt, names[yt]))
    assert net.history[:, "acc"] == [accuracy_score(names[yt], pred) for pred in seen.seen]


@idiom
def epoch_scoring_with_a_callable(data, tmp_path):
    """skorch docs: a scoring callable ``(net, X, y) -> float`` (here with the cached predictions)."""
    X, y, Xt, yt = data

    def error_rate(net, X, y):
        return float(np.mean(net.predict(X) != y))

    seen = PredictionsAtEpochEnd(Xt)
    net = _clf(callbacks=[EpochScoring(error_rate), ("seen", seen)]).fit(X, y, eval_set=(Xt, yt))
    assert net.history[:, "error_rate"] == [float(np.mean(pred != yt)) for pred in seen.seen]


@idiom
def epoch_scoring_neg_log_loss_uses_predict_proba(data, tmp_path):
    X, y, Xt, yt = data

    class Probabilities(PredictionsAtEpochEnd):
        def on_epoch_end(self, net, **kwargs):
            self.seen.append(net.predict_proba(self.X))

    seen = Probabilities(Xt)
    net = _clf(callbacks=[EpochScoring("neg_log_loss", name="nll"), ("seen", seen)])
    net.fit(X, y, eval_set=(Xt, yt))
    expected = [-log_loss(yt, proba, labels=net.classes_) for proba in seen.seen]
    np.testing.assert_allclose(net.history[:, "nll"], expected, rtol=64 * np.finfo(np.float32).eps)


@idiom
def epoch_scoring_r2_on_a_regressor(data, tmp_path):
    X, _, Xt, _ = data
    y, yt = X[:, 0] * 0.5 - X[:, 1], Xt[:, 0] * 0.5 - Xt[:, 1]
    seen = PredictionsAtEpochEnd(Xt)
    scoring = EpochScoring("r2", lower_is_better=False)
    net = GrokMLPRegressor(hidden_layer_sizes=(8,), lr=1e-2, batch_size=20, measures=None, max_epochs=4,
                           random_state=0, callbacks=[scoring, ("seen", seen)])
    net.fit(X, y, eval_set=(Xt, yt))
    np.testing.assert_allclose(net.history[:, "r2"], [r2_score(yt, pred) for pred in seen.seen],
                               rtol=64 * np.finfo(np.float32).eps)


@idiom
def batch_scoring_on_validation_and_training_batches(data, tmp_path):
    """``BatchScoring`` averages per-minibatch scores, weighted by batch size, as skorch does."""
    X, y, Xt, yt = data
    seen = PredictionsAtEpochEnd(Xt)
    net = _clf(callbacks=[BatchScoring("accuracy", name="valid_bacc", lower_is_better=False),
                          BatchScoring("accuracy", name="train_bacc", on_train=True, lower_is_better=False),
                          ("seen", seen)])
    net.fit(X, y, eval_set=(Xt, yt))
    # weighted by batch size, the per-batch accuracies of the eval_set average to its accuracy
    np.testing.assert_allclose(net.history[:, "valid_bacc"], [accuracy_score(yt, p) for p in seen.seen],
                               rtol=4 * np.finfo(np.float64).eps)
    for row in net.history:
        train_rows = [b for b in row["batches"] if "train_bacc" in b]
        valid_rows = [b for b in row["batches"] if "valid_bacc" in b]
        assert [b["train_batch_size"] for b in train_rows] == [20, 20, 20]
        assert [b["valid_batch_size"] for b in valid_rows] == [20, 10]
        assert all(0 <= b["train_bacc"] <= 1 for b in train_rows)


@idiom
def set_params_of_a_named_callback(data, tmp_path):
    """skorch docs, *Callbacks*: ``net.set_params(callbacks__<name>__<param>=...)``."""
    X, y, Xt, yt = data
    net = _clf(callbacks=[("acc", EpochScoring("accuracy", lower_is_better=False))])
    net.set_params(callbacks__acc__name="valid_accuracy")
    net.fit(X, y, eval_set=(Xt, yt))
    assert "valid_accuracy" in net.history[-1] and "accuracy" not in net.history[-1]


@idiom
def replace_a_named_callback(data, tmp_path):
    X, y, Xt, yt = data
    net = _clf(callbacks=[("acc", EpochScoring("accuracy"))])
    net.set_params(callbacks__acc=EpochScoring("accuracy", name="replaced"))
    net.fit(X, y, eval_set=(Xt, yt))
    assert "replaced" in net.history[-1]


# ---------------------------------------------------------------- prefixed arguments
@idiom
def iterator_train_shuffle_false(data, tmp_path):
    X, y, _, _ = data

    class Batches(Callback):
        def initialize(self):
            self.firsts = []
            return self

        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            self.firsts.append(batch[0][0].clone())

    ordered = Batches()
    _clf(max_epochs=2, iterator_train__shuffle=False, callbacks=[ordered]).fit(X, y)
    expected = [torch.as_tensor(X[i]) for i in (0, 20, 40)] * 2
    assert all(torch.equal(a, b) for a, b in zip(ordered.firsts, expected, strict=True))
    shuffled = Batches()
    _clf(max_epochs=2, callbacks=[shuffled]).fit(X, y)
    assert not all(torch.equal(a, b) for a, b in zip(shuffled.firsts, expected, strict=True))


@idiom
def optimizer_prefix(data, tmp_path):
    X, y, _, _ = data
    net = _clf(optimizer__amsgrad=True, optimizer__eps=1e-6).fit(X, y)
    assert net.optimizer_.defaults["amsgrad"] is True and net.optimizer_.defaults["eps"] == 1e-6


@idiom
def criterion_prefix(data, tmp_path):
    X, y, _, _ = data
    net = _clf(criterion__label_smoothing=0.2).fit(X, y)
    assert net.criterion_.label_smoothing == 0.2
    plain = _clf().fit(X, y)
    assert net.history[0, "train_loss"] != plain.history[0, "train_loss"]


REFUSED = [
    (dict(module__bogus=3), "module__bogus=3 would have no effect: grokkit builds the module"),
    (dict(module__hidden_layer_sizes=(4,)), "module__hidden_layer_sizes=.* would have no effect"),
    (dict(iterator_train__num_workers=2), "iterator_train__num_workers=2 would have no effect: the "
                                          "training loop slices tensors"),
    (dict(iterator_train__shuffle="no"), "iterator_train__shuffle must be True or False; got 'no'"),
    (dict(iterator_valid__shuffle=False), "iterator_valid__shuffle=False would have no effect: evaluation"),
    (dict(iterator_train__batch_size=8), "iterator_train__batch_size sets batch_size a second way"),
    (dict(dataset__length=3), "dataset__length=3 would have no effect"),
    (dict(optimizer__lr=0.1), "optimizer__lr sets lr a second way"),
    (dict(optimizer__bogus=1), "optimizer__bogus went to AdamW, which refused them: .*unexpected keyword "
                               "argument 'bogus'"),
    (dict(criterion__bogus=1), "criterion__bogus went to CrossEntropyLoss, which refused them: .*unexpected "
                               "keyword argument 'bogus'"),
    (dict(callbacks__bogus__x=1), "callbacks__bogus__x=1 names no callback"),
    (dict(callbacks__progress__measure_every=3), "'progress' is one of grokkit's own callbacks"),
    (dict(callbacks__print_log=None), "callbacks__print_log=None names no callback"),
    (dict(foo__bar=1), "foo__bar=1 has an unknown prefix 'foo'"),
    (dict(compile__mode="reduce-overhead"),
     "compile__mode='reduce-overhead' would have no effect: compile is False"),
]


@pytest.mark.parametrize(("params", "message"), REFUSED, ids=[next(iter(p)) for p, _ in REFUSED])
def test_a_prefixed_argument_grokkit_cannot_honour_is_refused_by_name(data, params, message):
    X, y, _, _ = data
    with pytest.raises((ValueError, TypeError), match=message):
        _clf(**params).fit(X, y)


@pytest.mark.parametrize("name", sorted(IDIOMS))
def test_skorch_idiom(name, data, tmp_path):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
        IDIOMS[name](data, tmp_path)
