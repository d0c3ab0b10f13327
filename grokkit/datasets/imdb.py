"""IMDb movie reviews (Omnigrok §4, App. A) and a synthetic labelled corpus for offline runs."""

from __future__ import annotations

import gzip
import os
import tarfile
import zlib
from pathlib import Path

import numpy as np

from grokkit._validation import check_bool, check_number, check_random_state
from grokkit.datasets._cache import corrupt_cache, download

#: The Large Movie Review Dataset (Maas et al., 2011).
IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
ARCHIVE = "aclImdb_v1.tar.gz"
FOLDER = "aclImdb"
#: Label of each review folder.
LABELS = {"neg": 0, "pos": 1}

POSITIVE_WORDS = (
    "great", "excellent", "wonderful", "superb", "brilliant", "moving", "delightful", "masterpiece",
    "charming", "gripping", "beautiful", "touching", "hilarious", "stunning", "terrific", "enjoyable",
    "fantastic", "memorable", "perfect", "captivating",
)
NEGATIVE_WORDS = (
    "awful", "terrible", "boring", "dull", "waste", "horrible", "mess", "stupid", "lame", "poorly",
    "pointless", "worst", "bland", "tedious", "clumsy", "dreadful", "annoying", "forgettable",
    "predictable", "disappointing",
)


def imdb_home(data_home: str | os.PathLike | None = None) -> Path:
    """Folder holding ``aclImdb/`` or ``aclImdb_v1.tar.gz``: ``data_home``, ``$GROKKIT_DATA/imdb``
    or ``~/.grokkit/imdb``."""
    if data_home is not None:
        return Path(data_home)
    root = os.environ.get("GROKKIT_DATA", Path.home() / ".grokkit")
    return Path(root) / "imdb"


def _download(folder: Path) -> Path:
    try:
        return download([IMDB_URL], folder / ARCHIVE, timeout=60)
    except OSError as exc:
        raise FileNotFoundError(
            f"IMDb: neither {FOLDER}/ nor {ARCHIVE!r} is in {folder}, and {IMDB_URL} could not be "
            f"downloaded ({exc}). Place the archive or its extracted {FOLDER}/ folder there (or pass "
            "data_home=...), or use grokkit.datasets.make_sentiment_corpus offline."
        ) from exc


def _read_folder(root: Path, split: str) -> tuple[list[str], list[int], list[str]]:
    texts, labels, names = [], [], []
    for label_name, label in LABELS.items():
        folder = root / split / label_name
        if not folder.is_dir():
            raise FileNotFoundError(f"IMDb folder {folder} is missing; expected {FOLDER}/{split}/"
                                    f"{{neg,pos}}/*.txt as in {ARCHIVE}.")
        for path in sorted(folder.glob("*.txt")):
            try:
                texts.append(path.read_text(encoding="utf-8"))
            except UnicodeDecodeError as exc:
                raise corrupt_cache(path, f"not UTF-8 text ({exc})") from exc
            labels.append(label)
            names.append(f"{split}/{label_name}/{path.name}")
    return texts, labels, names


def _read_archive(path: Path) -> dict[str, tuple[list[str], list[int], list[str]]]:
    try:
        return _read_archive_members(path)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise corrupt_cache(path, f"not a complete {ARCHIVE} archive ({exc or type(exc).__name__})") from exc


def _read_archive_members(path: Path) -> dict[str, tuple[list[str], list[int], list[str]]]:
    found: dict[str, list[tuple[str, str, int]]] = {"train": [], "test": []}
    with tarfile.open(path, "r:*") as archive:
        for member in archive:
            parts = member.name.split("/")
            if (not member.isfile() or len(parts) != 4 or parts[0] != FOLDER or parts[1] not in found
                    or parts[2] not in LABELS or not parts[3].endswith(".txt")):
                continue
            handle = archive.extractfile(member)
            text = handle.read().decode("utf-8") if handle is not None else ""
            found[parts[1]].append((f"{parts[1]}/{parts[2]}/{parts[3]}", text, LABELS[parts[2]]))
    out = {}
    for split, rows in found.items():
        if not rows:
            raise corrupt_cache(path, f"it holds no {FOLDER}/{split}/{{neg,pos}}/*.txt reviews")
        # Same order as reading the extracted folder: neg before pos, files sorted by name.
        rows.sort(key=lambda r: (LABELS[r[0].split("/")[1]], r[0]))
        out[split] = ([r[1] for r in rows], [r[2] for r in rows], [r[0] for r in rows])
    return out


def load_imdb(
    n_train: int | None = 1000,
    n_test: int | None = None,
    data_home: str | os.PathLike | None = None,
    download: bool = True,
    random_state: int | np.random.RandomState | None = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load the Large Movie Review Dataset as raw review strings and 0/1 labels.

    Reads ``aclImdb/`` (the extracted archive) if present in the folder, else
    ``aclImdb_v1.tar.gz``, downloading the archive (84 MB) when allowed.
    Each split (25 000 reviews, half positive) is shuffled with
    ``random_state`` and its first ``n_train``/``n_test`` reviews kept:
    Omnigrok's runs use 1 000 reviews (App. A; the public notebook takes the
    first 1 000 of a shuffled table) and hold back 25 % for testing.

    Parameters
    ----------
    n_train, n_test : int or None, default=1000 and None
        Reviews kept from the train and test splits (None: all 25 000).
    data_home : path, optional
        See :func:`imdb_home`.
    download : bool, default=True
        Fetch the archive when neither it nor the folder is there. With False,
        or offline, a missing dataset raises ``FileNotFoundError`` naming the
        expected file and folder.
    random_state : int, RandomState or None, default=0
        Order of the reviews before ``n_train``/``n_test`` are taken.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        Reviews as an object array of ``str`` (feed them to
        :class:`grokkit.text.TextSequencer`), labels as ``int64`` (1 = positive).
    """
    if n_train is not None:
        check_number("n_train", n_train, low=1, high=25000, integer=True)
    if n_test is not None:
        check_number("n_test", n_test, low=1, high=25000, integer=True)
    check_bool("download", download)
    folder = imdb_home(data_home)
    if (folder / FOLDER).is_dir():
        splits = {split: _read_folder(folder / FOLDER, split) for split in ("train", "test")}
    elif (folder / ARCHIVE).is_file():
        splits = _read_archive(folder / ARCHIVE)
    elif download:
        splits = _read_archive(_download(folder))
    else:
        raise FileNotFoundError(
            f"IMDb not found: expected the folder {folder / FOLDER} or the archive {folder / ARCHIVE} "
            f"({IMDB_URL}). Pass download=True, or data_home=... pointing at the folder holding one of them."
        )
    rng = check_random_state(random_state)
    out = []
    for split, limit in (("train", n_train), ("test", n_test)):
        texts, labels, _ = splits[split]
        order = rng.permutation(len(texts))[:limit]
        out.append(np.asarray([texts[i] for i in order], dtype=object))
        out.append(np.asarray(labels, dtype=np.int64)[order])
    return out[0], out[1], out[2], out[3]


def _pseudo_word(index: int) -> str:
    """A letters-only filler word, distinct for every index: ``ba``, ``be``, ... ``baba``."""
    consonants, vowels = "bcdfghjklmnprstvz", "aeiou"
    syllables = []
    index += len(consonants) * len(vowels)  # at least two syllables
    while index:
        index, rest = divmod(index, len(consonants) * len(vowels))
        syllables.append(consonants[rest // len(vowels)] + vowels[rest % len(vowels)])
    return "".join(reversed(syllables))


def make_sentiment_corpus(
    n_documents: int = 1000,
    vocab_size: int = 1000,
    n_cue_words: int = 20,
    document_length: tuple[int, int] = (20, 60),
    cue_fraction: float = 0.1,
    cue_purity: float = 0.8,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Synthetic labelled reviews: sentiment cue words in Zipf-distributed filler.

    Each document has a length drawn uniformly from ``document_length`` and a
    label 0/1 (balanced at random). Every word is a cue with probability
    ``cue_fraction``, else a filler word of rank *r* with probability
    :math:`\propto 1/r` (Zipf, as word frequencies in real reviews). A cue is
    drawn from the ``n_cue_words`` positive words (``great``, ``superb``, ...)
    for a positive document, the negative ones (``awful``, ``boring``, ...)
    for a negative one, but with probability ``1 − cue_purity`` from the
    opposite list, so documents with few cues are ambiguous and test accuracy
    saturates below 1 — a small, noisy task like Omnigrok's 1 000 IMDb reviews,
    where a large model can memorise the filler words before it learns the cues.

    Parameters
    ----------
    n_documents : int, default=1000
    vocab_size : int, default=1000
        Distinct words: 2·``n_cue_words`` cues plus filler words.
    n_cue_words : int, default=20
        Cue words per sentiment, at most 20.
    document_length : (int, int), default=(20, 60)
        Inclusive range of words per document.
    cue_fraction : float, default=0.1
        Probability that a word is a cue.
    cue_purity : float, default=0.8
        Probability that a cue agrees with the label.
    random_state : int, RandomState or None

    Returns
    -------
    documents : ndarray of str, shape (n_documents,)
    y : ndarray of int64, shape (n_documents,)
        1 = positive.

    Examples
    --------
    >>> docs, y = make_sentiment_corpus(n_documents=4, random_state=0)
    >>> docs.shape, sorted(set(y.tolist())) <= [0, 1]
    ((4,), True)
    """
    check_number("n_documents", n_documents, low=2, integer=True)
    check_number("n_cue_words", n_cue_words, low=1, high=len(POSITIVE_WORDS), integer=True)
    check_number("vocab_size", vocab_size, low=2 * n_cue_words + 1, integer=True)
    if (not isinstance(document_length, (tuple, list)) or len(document_length) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in document_length)
            or not 1 <= document_length[0] <= document_length[1]):
        raise ValueError(f"document_length must be a pair (min, max) of ints with 1 <= min <= max; "
                         f"got {document_length!r}.")
    check_number("cue_fraction", cue_fraction, low=0, high=1)
    check_number("cue_purity", cue_purity, low=0, high=1)
    rng = check_random_state(random_state)
    cues = {1: np.asarray(POSITIVE_WORDS[:n_cue_words]), 0: np.asarray(NEGATIVE_WORDS[:n_cue_words])}
    n_filler = vocab_size - 2 * n_cue_words
    taken = set(POSITIVE_WORDS) | set(NEGATIVE_WORDS)
    words_iter = (w for w in map(_pseudo_word, range(10 * vocab_size)) if w not in taken)
    filler = np.asarray([next(words_iter) for _ in range(n_filler)], dtype=object)
    zipf = 1.0 / np.arange(1, n_filler + 1)
    zipf /= zipf.sum()
    y = rng.randint(0, 2, size=n_documents).astype(np.int64)
    documents = []
    for label in y:
        length = rng.randint(document_length[0], document_length[1] + 1)
        words = filler[rng.choice(n_filler, size=length, p=zipf)]
        is_cue = rng.random_sample(length) < cue_fraction
        agrees = rng.random_sample(length) < cue_purity
        for position in np.flatnonzero(is_cue):
            side = int(label) if agrees[position] else 1 - int(label)
            words[position] = cues[side][rng.randint(n_cue_words)]
        documents.append(" ".join(words))
    return np.asarray(documents, dtype=object), y
