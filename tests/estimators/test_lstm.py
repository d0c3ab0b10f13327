"""GrokLSTMClassifier: raw-text pipeline, measures, clipping, noise, the scikit-learn contract.

sklearn's parametrize_with_checks does not apply: its checks feed real-valued
feature matrices, and this estimator's X is token indices in [0, vocab_size)
whose columns are positions in a sequence (the same holds for the pipeline,
whose input is strings). The contract is tested directly: clone, get/set_params,
pickling, GridSearchCV, Pipeline.
"""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from grokkit.datasets.imdb import make_sentiment_corpus
from grokkit.estimators.lstm import GrokLSTMClassifier
from grokkit.text import TextSequencer

TINY = dict(vocab_size=120, embedding_dim=8, hidden_size=8, num_layers=2, batch_size=20, lr=1e-2,
            random_state=0, measure_every=5)


# LSTM backward with two OpenMP threads on busy shared cores is ~100x slower.
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def corpus():
    docs, y = make_sentiment_corpus(n_documents=120, vocab_size=150, document_length=(8, 16),
                                    cue_fraction=0.3, cue_purity=0.95, random_state=0)
    return docs[:80], y[:80], docs[80:], y[80:]


@pytest.fixture(scope="module")
def tokens(corpus):
    docs, y, docs_test, y_test = corpus
    seq = TextSequencer(vocab_size=120, maxlen=16).fit(docs)
    return seq.transform(docs), y, seq.transform(docs_test), y_test


def test_pipeline_fits_raw_text_and_records_every_lstm_measure(corpus):
    docs, y, docs_test, y_test = corpus
    pipe = Pipeline([("seq", TextSequencer(vocab_size=120, maxlen=16)),
                     ("lstm", GrokLSTMClassifier(max_epochs=25, **TINY))])
    pipe.fit(docs, y)
    progress = pipe[-1].progress_
    for column in ("weight_norm", "weight_norm/lstm", "weight_entropy/lstm.weight_hh_l1",
                   "activation_sparsity/lstm1", "activation_sparsity/lstm2", "circuit_complexity/fc",
                   "circuit_complexity/lstm.weight_ih_l0", "circuit_complexity/embedding"):
        assert column in progress.columns, column
    assert progress.train_acc.iloc[-1] > 0.9
    assert progress["circuit_complexity/lstm.weight_ih_l0"].iloc[-1] > 0
    assert pipe.score(docs_test, y_test) > 0.7
    proba = pipe.predict_proba(docs_test)
    assert proba.shape == (len(docs_test), 2)
    np.testing.assert_allclose(proba.sum(1), 1)


def test_pipeline_pickles_and_grid_searches(corpus):
    docs, y, docs_test, _ = corpus
    pipe = Pipeline([("seq", TextSequencer(vocab_size=120, maxlen=16)),
                     ("lstm", GrokLSTMClassifier(max_epochs=6, **{**TINY, "measures": ["weight_norm"]}))])
    search = GridSearchCV(pipe, {"lstm__alpha": [1.0, 6.0], "lstm__weight_decay": [0.0, 1.0]}, cv=2)
    search.fit(docs, y)
    assert len(search.cv_results_["mean_test_score"]) == 4
    best = search.best_estimator_
    again = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(again.predict(docs_test), best.predict(docs_test))
    assert again[-1].progress_.equals(best[-1].progress_)
    twin = clone(pipe).set_params(lstm__hidden_size=4, seq__maxlen=10)
    assert twin[-1].hidden_size == 4 and pipe[-1].hidden_size == 8


def test_bce_loss_equals_binary_cross_entropy_and_defaults(tokens):
    X, y, _, _ = tokens
    clf = GrokLSTMClassifier(max_epochs=1, **{**TINY, "measures": None}).fit(X, y)
    with torch.no_grad():
        logits = clf.module_(torch.as_tensor(X))
        expected = torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 1],
                                                                        torch.as_tensor(y).float())
    assert clf.progress_.train_loss.iloc[-1] == pytest.approx(float(expected), rel=1e-5)
    defaults = GrokLSTMClassifier()
    assert (defaults.hidden_size, defaults.lr, defaults.batch_size, defaults.clip_grad_norm,
            defaults.loss, defaults.max_epochs) == (256, 3e-4, 50, 5.0, "bce", 5000)


def test_gradient_clipping_bounds_the_gradient_norm(tokens):
    X, y, _, _ = tokens
    seen = []

    from skorch.callbacks import Callback

    class GradNorm(Callback):
        def on_grad_computed(self, net, named_parameters, **kwargs):
            grads = [p.grad.norm() for _, p in named_parameters if p.grad is not None]
            seen.append(float(torch.stack(grads).norm()))

    common = {**TINY, "alpha": 6.0, "measures": None, "max_epochs": 2}
    GrokLSTMClassifier(clip_grad_norm=0.01, callbacks=[GradNorm()], **common).fit(X, y)
    assert max(seen) <= 0.01 * 1.001
    seen.clear()
    GrokLSTMClassifier(clip_grad_norm=None, callbacks=[GradNorm()], **common).fit(X, y)
    assert max(seen) > 0.01


def test_input_noise_reaches_the_embeddings(tokens):
    X, y, _, _ = tokens
    clf = GrokLSTMClassifier(max_epochs=3, input_noise=(2.0, 0.5), **{**TINY, "measures": None}).fit(X, y)
    assert clf.history[-1]["input_noise_std"] >= 0.5
    assert clf.module_.input_noise_std == 0.0  # reset after training
    quiet = GrokLSTMClassifier(max_epochs=3, **{**TINY, "measures": None}).fit(X, y)
    assert not np.allclose(clf.module_.fc.weight.detach(), quiet.module_.fc.weight.detach())


def test_multiclass_with_cross_entropy(tokens):
    X, y, _, _ = tokens
    y3 = (y + (X[:, -1] % 2)) % 3
    clf = GrokLSTMClassifier(loss="cross_entropy", max_epochs=2, **{**TINY, "measures": None}).fit(X, y3)
    assert clf.predict_proba(X).shape == (len(X), 3)


@pytest.mark.parametrize("params, match", [
    (dict(vocab_size=1), "vocab_size"), (dict(hidden_size=0), "hidden_size"),
    (dict(num_layers=1.5), "num_layers"), (dict(dropout=1.0), "dropout"),
    (dict(clip_grad_norm=0), "clip_grad_norm"), (dict(loss="hinge"), "loss"),
    (dict(embedding_dim=-2), "embedding_dim"),
])
def test_bad_parameters_name_themselves(tokens, params, match):
    X, y, _, _ = tokens
    with pytest.raises((ValueError, TypeError), match=match):
        GrokLSTMClassifier(**{**TINY, "max_epochs": 1, **params}).fit(X, y)


def test_bad_inputs(tokens, corpus):
    X, y, _, _ = tokens
    clf = GrokLSTMClassifier(**{**TINY, "max_epochs": 1, "measures": None})
    with pytest.raises(TypeError, match="TextSequencer"):
        clf.fit(corpus[0], y)
    with pytest.raises(ValueError, match="vocab_size"):
        clf.fit(X + 200, y)
    with pytest.raises(ValueError, match="integer"):
        clf.fit(X + 0.5, y)
    with pytest.raises(ValueError, match="2 classes"):
        clf.fit(X, np.arange(len(X)) % 3)
    clf.fit(X, y)
    with pytest.raises(ValueError, match="vocab_size"):
        clf.predict(X + 500)
