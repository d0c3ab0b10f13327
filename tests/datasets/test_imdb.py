"""load_imdb on a tiny fake aclImdb tree and tarball; the synthetic sentiment corpus."""

import tarfile

import numpy as np
import pytest

from grokkit.datasets.imdb import NEGATIVE_WORDS, POSITIVE_WORDS, load_imdb, make_sentiment_corpus

REVIEWS = {
    ("train", "pos"): ["Great film.", "Loved it<br />truly"],
    ("train", "neg"): ["Awful.", "Boring plot", "Waste of time"],
    ("test", "pos"): ["Superb"],
    ("test", "neg"): ["Dull"],
}


@pytest.fixture
def fake_tree(tmp_path):
    root = tmp_path / "data"
    for (split, label), texts in REVIEWS.items():
        folder = root / "aclImdb" / split / label
        folder.mkdir(parents=True)
        for i, text in enumerate(texts):
            (folder / f"{i}_{7 if label == 'pos' else 2}.txt").write_text(text, encoding="utf-8")
    (root / "aclImdb" / "train" / "unsup").mkdir()
    (root / "aclImdb" / "train" / "unsup" / "0_0.txt").write_text("unlabelled", encoding="utf-8")
    return root


def _as_set(texts, labels):
    return sorted(zip(texts.tolist(), labels.tolist(), strict=True))


def test_reads_the_extracted_folder_with_labels(fake_tree):
    X, y, Xt, yt = load_imdb(n_train=None, data_home=fake_tree, download=False)
    expected = sorted((t, int(lab == "pos")) for (s, lab), ts in REVIEWS.items() if s == "train" for t in ts)
    assert _as_set(X, y) == expected
    assert _as_set(Xt, yt) == [("Dull", 0), ("Superb", 1)]
    assert X.dtype == object and y.dtype == np.int64


def test_reads_the_tarball_identically_and_subsamples(fake_tree, tmp_path):
    other = tmp_path / "archive_only"
    other.mkdir()
    with tarfile.open(other / "aclImdb_v1.tar.gz", "w:gz") as archive:
        archive.add(fake_tree / "aclImdb", arcname="aclImdb")
    from_tar = load_imdb(n_train=None, data_home=other, download=False)
    from_tree = load_imdb(n_train=None, data_home=fake_tree, download=False)
    for a, b in zip(from_tar, from_tree, strict=True):
        np.testing.assert_array_equal(a, b)
    X, y, _, _ = load_imdb(n_train=3, data_home=other, download=False, random_state=1)
    assert len(X) == 3 and set(_as_set(X, y)) <= set(_as_set(from_tree[0], from_tree[1]))


def test_missing_data_names_the_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"aclImdb_v1\.tar\.gz") as info:
        load_imdb(data_home=tmp_path, download=False)
    assert str(tmp_path) in str(info.value)


@pytest.mark.parametrize("kwargs, match", [(dict(n_train=0), "n_train"), (dict(n_test=2.5), "n_test")])
def test_bad_sizes(tmp_path, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        load_imdb(data_home=tmp_path, download=False, **kwargs)


def test_sentiment_corpus_is_seeded_and_its_cues_carry_the_label():
    docs, y = make_sentiment_corpus(n_documents=400, random_state=0, cue_purity=0.8)
    again, y_again = make_sentiment_corpus(n_documents=400, random_state=0, cue_purity=0.8)
    np.testing.assert_array_equal(docs, again)
    np.testing.assert_array_equal(y, y_again)
    assert 0.4 < y.mean() < 0.6
    words = [d.split() for d in docs]
    assert all(20 <= len(w) <= 60 for w in words)
    pos = np.array([sum(t in POSITIVE_WORDS for t in w) for w in words])
    neg = np.array([sum(t in NEGATIVE_WORDS for t in w) for w in words])
    share = (pos.sum() + neg.sum()) / sum(map(len, words))
    assert 0.07 < share < 0.13  # cue_fraction = 0.1
    agree = np.where(y == 1, pos, neg).sum() / (pos.sum() + neg.sum())
    assert 0.75 < agree < 0.85  # cue_purity = 0.8
    assert len({t for w in words for t in w}) <= 1000


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_cue_words=21), "n_cue_words"), (dict(vocab_size=10), "vocab_size"),
    (dict(document_length=(5, 2)), "document_length"), (dict(cue_purity=1.5), "cue_purity"),
])
def test_sentiment_corpus_bad_parameters(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make_sentiment_corpus(**kwargs)


def test_truncated_archive_names_the_file_and_the_fix(fake_tree, tmp_path):
    """Issue 16 #11 for the IMDb cache: a cut-off archive names itself and says how to refetch."""
    other = tmp_path / "truncated"
    other.mkdir()
    archive_path = other / "aclImdb_v1.tar.gz"
    with tarfile.open(archive_path, "w:gz") as archive:
        archive.add(fake_tree / "aclImdb", arcname="aclImdb")
    archive_path.write_bytes(archive_path.read_bytes()[:60])
    with pytest.raises(ValueError, match=r"aclImdb_v1\.tar\.gz.*corrupt.*Delete it.*download=True"):
        load_imdb(data_home=other, download=False)


def test_archive_without_reviews_is_corrupt(tmp_path):
    with tarfile.open(tmp_path / "aclImdb_v1.tar.gz", "w:gz"):
        pass
    with pytest.raises(ValueError, match=r"aclImdb_v1\.tar\.gz.*holds no aclImdb/train"):
        load_imdb(data_home=tmp_path, download=False)
