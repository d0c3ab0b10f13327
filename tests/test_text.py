"""TextSequencer: vocabulary, padding, truncation, the scikit-learn contract."""

import pickle
import re
from collections import Counter

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from grokkit.datasets.imdb import make_sentiment_corpus
from grokkit.text import DEFAULT_TOKEN_PATTERN, TextSequencer


@pytest.fixture(scope="module")
def corpus():
    return make_sentiment_corpus(n_documents=200, vocab_size=300, random_state=0)


def test_vocabulary_is_the_most_common_words_of_a_counter(corpus):
    docs, _ = corpus
    seq = TextSequencer(vocab_size=50, maxlen=10).fit(docs)
    counts = Counter(w for d in docs for w in re.findall(DEFAULT_TOKEN_PATTERN, d.lower()))
    expected = {w: i + 1 for i, (w, _) in enumerate(counts.most_common(49))}
    assert seq.vocabulary_ == expected
    assert seq.word_counts_ == dict(counts.most_common(49))


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_transform_drops_rare_words_then_pads_and_truncates(padding, truncating):
    docs = ["b a c", "a b a", "a d", "Rare words, a!"]
    seq = TextSequencer(vocab_size=3, maxlen=2, padding=padding, truncating=truncating,
                        token_pattern=r"\w+").fit(docs)
    assert seq.vocabulary_ == {"a": 1, "b": 2}  # a: 5, b: 2; c, d, rare, words dropped
    out = seq.transform(["b a a b", "a", "zzz"])
    assert out.dtype == np.int64 and out.shape == (3, 2)
    first = [2, 1] if truncating == "post" else [1, 2]
    assert out[0].tolist() == first
    assert out[1].tolist() == ([0, 1] if padding == "pre" else [1, 0])
    assert out[2].tolist() == [0, 0]
    assert out.max() < seq.vocab_size


def test_default_width_is_the_longest_training_document_capped_at_maxlen(corpus):
    docs, _ = corpus
    seq = TextSequencer(vocab_size=50).fit(docs)
    kept = [sum(w in seq.vocabulary_ for w in seq.tokenize(d)) for d in docs]
    assert seq.maxlen_ == max(kept) < 500  # not Omnigrok's fixed 500
    out = seq.transform(docs)
    assert out.shape == (len(docs), max(kept))
    assert (out != 0).sum(axis=1).tolist() == kept  # nothing truncated in the training documents
    # a longer new document is cut to the fitted width
    assert seq.transform([" ".join(docs)]).shape == (1, max(kept))
    assert TextSequencer(vocab_size=50, maxlen=5).fit(docs).maxlen_ == 5  # the cap
    assert TextSequencer(vocab_size=50).fit(["", "zzz"]).maxlen_ == 1  # at least one column


def test_pad_to_maxlen_is_omnigroks_fixed_width(corpus):
    docs, _ = corpus
    seq = TextSequencer(vocab_size=50, maxlen=500, pad_to="maxlen").fit(docs)
    assert seq.maxlen_ == 500 and seq.transform(docs[:3]).shape == (3, 500)
    assert seq.get_feature_names_out()[-1] == "position499"


def test_stop_words_lowercase_and_inverse_transform():
    seq = TextSequencer(vocab_size=10, maxlen=4, stop_words="english").fit(["The FILM was great", "the film"])
    assert "the" not in seq.vocabulary_ and seq.vocabulary_["film"] == 1
    assert seq.inverse_transform(seq.transform(["a great film"])) == ["great film"]
    custom = TextSequencer(stop_words=["film"]).fit(["film great"])
    assert list(custom.vocabulary_) == ["great"]


@pytest.mark.parametrize("params, match", [
    (dict(vocab_size=1), "vocab_size"), (dict(vocab_size=2.5), "vocab_size"), (dict(maxlen=0), "maxlen"),
    (dict(padding="left"), "padding"), (dict(truncating="x"), "truncating"), (dict(pad_to=500), "pad_to"),
    (dict(stop_words="french"), "stop_words"), (dict(token_pattern="("), "token_pattern"),
])
def test_bad_parameters_name_themselves(params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        TextSequencer(**params).fit(["some text here"])


@pytest.mark.parametrize("X", ["one string", [1, 2, 3], np.zeros((3, 2))])
def test_non_text_input_is_a_type_error(X):
    with pytest.raises(TypeError, match="X must"):
        TextSequencer().fit(X)


def test_transform_before_fit_and_empty_corpus():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TextSequencer().transform(["a b"])
    with pytest.raises(ValueError, match="no documents"):
        TextSequencer().fit([])


# sklearn's parametrize_with_checks yields no checks for string-input estimators
# (input_tags.two_d_array=False; CountVectorizer is in the same position): its
# checks feed numeric arrays. The API checks that need no data run here.
@pytest.mark.parametrize("check", [check_no_attributes_set_in_init, check_get_params_invariance,
                                   check_set_params])
def test_sklearn_api_checks(check):
    check("TextSequencer", TextSequencer())


def test_sklearn_default_constructible():
    check_parameters_default_constructible("TextSequencer", TextSequencer())


def test_clone_pickle_and_feature_names(corpus):
    docs, _ = corpus
    seq = TextSequencer(vocab_size=40, maxlen=7).fit(docs)
    again = pickle.loads(pickle.dumps(seq))
    np.testing.assert_array_equal(again.transform(docs), seq.transform(docs))
    assert clone(seq).get_params() == seq.get_params() and not hasattr(clone(seq), "vocabulary_")
    assert seq.get_feature_names_out()[[0, -1]].tolist() == ["position0", "position6"]
    np.testing.assert_array_equal(seq.fit_transform(docs), seq.transform(docs))


@pytest.mark.parametrize("X, index, error", [
    (["good film", None], 1, ValueError),
    ([None, "good film"], 0, ValueError),
    (["good film", float("nan")], 1, ValueError),
    (["good film", "bad plot", 7], 2, TypeError),
])
def test_missing_or_non_text_document_names_x_and_its_index(X, index, error):
    """Issue 16 #2: a None among the documents raised AttributeError from str.lower."""
    with pytest.raises(error, match=rf"X\[{index}\]"):
        TextSequencer().fit(X)
    fitted = TextSequencer().fit(["good film"])
    with pytest.raises(error, match=rf"X\[{index}\]"):
        fitted.transform(X)


def test_lowercase_and_stop_words_are_checked():
    with pytest.raises(TypeError, match="lowercase"):
        TextSequencer(lowercase="no").fit(["a film"])
    with pytest.raises(TypeError, match="stop_words"):
        TextSequencer(stop_words=[1, 2]).fit(["a film"])
    with pytest.raises(TypeError, match="stop_words"):
        TextSequencer(stop_words=5).fit(["a film"])


def test_stop_words_iterator_is_read_once():
    seq = TextSequencer(stop_words=(w for w in ["film"])).fit(["film great plot"])
    assert "film" not in seq.vocabulary_ and "great" in seq.vocabulary_
