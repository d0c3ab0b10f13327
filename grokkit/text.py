"""Raw text to padded token indices: the preprocessing of Omnigrok's IMDb runs (App. A).

``TextSequencer`` is a scikit-learn transformer, so a text classifier is one
pipeline that fits on raw strings::

    Pipeline([("seq", TextSequencer()), ("lstm", GrokLSTMClassifier(alpha=6, weight_decay=1))])
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from grokkit._validation import check_bool, check_number, check_options

#: Index of the padding token; real words get 1 … vocab_size − 1.
PAD_INDEX = 0
#: Letters-only words of two or more characters (digits and punctuation dropped,
#: as in the preprocessing Omnigrok's IMDb notebook builds on).
DEFAULT_TOKEN_PATTERN = r"(?u)\b[^\W\d_]{2,}\b"


class TextSequencer(TransformerMixin, BaseEstimator):
    r"""Map documents to equal-length arrays of word indices, most frequent words kept.

    ``fit`` counts the words of the training documents and keeps the
    ``vocab_size − 1`` most frequent ones (ties: first occurrence in the corpus,
    i.e. :meth:`collections.Counter.most_common` order); word of rank *r*
    (1-based) gets index *r*. ``transform`` drops every other word (Omnigrok
    App. A: "less frequent words are ignored"), then pads or truncates each
    document to ``maxlen_`` indices with :data:`PAD_INDEX` = 0. By default
    ``maxlen_`` is the longest training document (in kept words), capped at
    ``maxlen``: 20–60-word documents become 60 columns, not 500, and an LSTM
    epoch runs that much shorter. ``pad_to="maxlen"`` always pads to
    ``maxlen``: Omnigrok's IMDb setting is ``TextSequencer(maxlen=500,
    pad_to="maxlen")``.

    The output indices lie in ``[0, vocab_size)``, so
    ``GrokLSTMClassifier(vocab_size=...)`` takes the same number (the
    convention of Keras' ``Tokenizer(num_words=...)``). Omnigrok keeps 1 000
    words *plus* the padding index; ``TextSequencer(vocab_size=1001)`` with
    ``GrokLSTMClassifier(vocab_size=1001)`` is that exact setting.

    Parameters
    ----------
    vocab_size : int, default=1000
        Size of the index space, padding included (≥ 2).
    maxlen : int, default=500
        The longest output row: documents with more kept words are truncated
        (Omnigrok pads and truncates IMDb reviews to 500).
    pad_to : {"longest", "maxlen"}, default="longest"
        Width of the output: the longest training document capped at
        ``maxlen`` (``"longest"``), or ``maxlen`` itself (``"maxlen"``,
        Omnigrok's fixed 500). Fixed by ``fit``: ``transform`` pads and
        truncates new documents to the same width.
    padding : {"pre", "post"}, default="pre"
        Where padding goes. ``"pre"`` (Omnigrok's notebook) puts the words at
        the end, next to the final LSTM state that the classifier reads.
    truncating : {"pre", "post"}, default="post"
        Which end of a long document is cut: ``"post"`` keeps its first
        ``maxlen`` words (Omnigrok's notebook).
    lowercase : bool, default=True
    token_pattern : str, default=DEFAULT_TOKEN_PATTERN
        Regular expression whose matches are the words.
    stop_words : "english", iterable of str or None, default=None
        Words never kept (``"english"``: scikit-learn's English list).

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Kept word -> index (1 … vocab_size − 1).
    maxlen_ : int
        Width of every output row (at least 1).
    word_counts_ : dict of str to int
        Counts of the kept words in the training documents.

    Examples
    --------
    >>> seq = TextSequencer(vocab_size=4, maxlen=5).fit(["a good film", "good good plot", "bad plot"])
    >>> seq.vocabulary_
    {'good': 1, 'plot': 2, 'film': 3}
    >>> seq.maxlen_  # the longest training document: "good good plot"
    3
    >>> seq.transform(["good plot twist"]).tolist()
    [[0, 1, 2]]
    >>> omnigrok = TextSequencer(vocab_size=4, maxlen=5, pad_to="maxlen").fit(["good plot"])
    >>> omnigrok.transform(["good plot"]).tolist()
    [[0, 0, 0, 1, 2]]
    """

    def __init__(
        self,
        vocab_size: int = 1000,
        maxlen: int = 500,
        pad_to: str = "longest",
        padding: str = "pre",
        truncating: str = "post",
        lowercase: bool = True,
        token_pattern: str = DEFAULT_TOKEN_PATTERN,
        stop_words: str | Iterable[str] | None = None,
    ) -> None:
        self.vocab_size = vocab_size
        self.maxlen = maxlen
        self.pad_to = pad_to
        self.padding = padding
        self.truncating = truncating
        self.lowercase = lowercase
        self.token_pattern = token_pattern
        self.stop_words = stop_words

    def _check_params(self) -> frozenset[str]:
        """Check every parameter; return the stop words (read once: ``stop_words`` may be an iterator)."""
        check_number("vocab_size", self.vocab_size, low=2, integer=True)
        check_number("maxlen", self.maxlen, low=1, integer=True)
        check_options("pad_to", self.pad_to, ("longest", "maxlen"))
        check_options("padding", self.padding, ("pre", "post"))
        check_options("truncating", self.truncating, ("pre", "post"))
        check_bool("lowercase", self.lowercase)
        if not isinstance(self.token_pattern, str):
            raise TypeError(f"token_pattern must be a regular expression string; got {self.token_pattern!r}.")
        try:
            re.compile(self.token_pattern)
        except re.error as exc:
            raise ValueError(f"token_pattern {self.token_pattern!r} is not a valid regular expression: "
                             f"{exc}.") from exc
        return self._stop_words()

    def _stop_words(self) -> frozenset[str]:
        if self.stop_words is None:
            return frozenset()
        if isinstance(self.stop_words, str):
            if self.stop_words != "english":
                raise ValueError(f"stop_words must be 'english', a list of words or None; "
                                 f"got {self.stop_words!r}.")
            from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

            return frozenset(ENGLISH_STOP_WORDS)
        try:
            words = frozenset(self.stop_words)
        except TypeError as exc:
            raise TypeError(f"stop_words must be 'english', an iterable of words or None; "
                            f"got {self.stop_words!r}.") from exc
        if not all(isinstance(w, str) for w in words):
            raise TypeError(f"stop_words must hold strings; got {self.stop_words!r}.")
        return words

    def _documents(self, X: Any) -> list[str]:
        if isinstance(X, str):
            raise TypeError("X must be an iterable of documents (strings); got a single string. "
                            "Wrap it in a list.")
        if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        try:
            documents = list(X)
        except TypeError as exc:
            raise TypeError(f"X must be an iterable of documents (strings); got {type(X).__name__}.") from exc
        for index, document in enumerate(documents):
            if isinstance(document, str):
                continue
            if document is None or (isinstance(document, float) and document != document):
                raise ValueError(f"X[{index}] is a missing document ({document!r}); every element of X "
                                 "must be a string (use '' for an empty document).")
            raise TypeError(f"X must hold documents as strings; X[{index}] is {document!r} of type "
                            f"{type(document).__name__}. Token indices go straight to GrokLSTMClassifier.")
        return documents

    def tokenize(self, document: str) -> list[str]:
        """The words of one document, in order (stop words removed)."""
        text = document.lower() if self.lowercase else document
        stop = self._stop_words_
        return [w for w in self._pattern_.findall(text) if w not in stop]

    def fit(self, X: Iterable[str], y: Any = None) -> TextSequencer:
        """Learn the vocabulary of the ``vocab_size − 1`` most frequent words of ``X``."""
        stop_words = self._check_params()
        documents = self._documents(X)
        if not documents:
            raise ValueError("X holds no documents; TextSequencer needs at least one to fit.")
        self._pattern_ = re.compile(self.token_pattern)
        self._stop_words_ = stop_words
        counts: Counter[str] = Counter()
        tokenized = [self.tokenize(document) for document in documents]
        for words in tokenized:
            counts.update(words)
        kept = counts.most_common(int(self.vocab_size) - 1)
        self.vocabulary_ = {word: rank for rank, (word, _) in enumerate(kept, start=1)}
        self.word_counts_ = dict(kept)
        if self.pad_to == "maxlen":
            self.maxlen_ = int(self.maxlen)
        else:
            longest = max(sum(w in self.vocabulary_ for w in words) for words in tokenized)
            self.maxlen_ = max(1, min(int(self.maxlen), longest))
        return self

    def transform(self, X: Iterable[str]) -> np.ndarray:
        """Documents -> ``int64`` array of shape (n_documents, maxlen_)."""
        check_is_fitted(self, "vocabulary_")
        documents = self._documents(X)
        maxlen = self.maxlen_
        out = np.full((len(documents), maxlen), PAD_INDEX, dtype=np.int64)
        vocabulary = self.vocabulary_
        for row, document in enumerate(documents):
            indices = [vocabulary[w] for w in self.tokenize(document) if w in vocabulary]
            if len(indices) > maxlen:
                indices = indices[:maxlen] if self.truncating == "post" else indices[-maxlen:]
            if indices:
                if self.padding == "pre":
                    out[row, maxlen - len(indices):] = indices
                else:
                    out[row, :len(indices)] = indices
        return out

    def inverse_transform(self, X: Any) -> list[str]:
        """Index rows -> the kept words as space-joined strings (padding dropped)."""
        check_is_fitted(self, "vocabulary_")
        words = {index: word for word, index in self.vocabulary_.items()}
        return [" ".join(words[int(i)] for i in row if int(i) in words) for row in np.asarray(X)]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns: ``position0`` … ``position{maxlen_-1}``."""
        check_is_fitted(self, "vocabulary_")
        return np.asarray([f"position{i}" for i in range(self.maxlen_)], dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags
