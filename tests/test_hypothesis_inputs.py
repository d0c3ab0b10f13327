"""Bad and odd inputs for every public analyzer, transformer, dataset loader and the CLI (issue 16, point 2).

Each drawn call either works, returning no NaN where the result has no documented NaN, or raises
``ValueError``/``TypeError`` whose message names the parameter or the input: never another exception
type. Profiles: ``ci`` (the default; few examples, derandomized so CI is reproducible) and ``dev``
(``HYPOTHESIS_PROFILE=dev``: ten times as many). Estimator constructor parameters are drawn in
tests/estimators/.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grokkit import GrokMLPClassifier, GrokMLPRegressor
from grokkit.analysis import (
    HiddenActivations,
    MessinessLandscape,
    OInformationAnalyzer,
    ReducedLandscape,
    TimeToGeneralize,
    hidden_activations,
    loglog_slope,
    make_messy_addition,
    messy_representation,
    retrain_masked,
)
from grokkit.datasets import (
    load_digits_split,
    load_imdb,
    load_mnist,
    load_qm9,
    make_modular,
    make_molecular_graphs,
    make_sentiment_corpus,
    make_teacher_student,
    modular_targets,
    read_idx,
)
from grokkit.datasets.parity import make_sparse_parity
from grokkit.datasets.permutations import make_permutation_composition
from grokkit.text import TextSequencer

_COMMON = dict(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("ci", max_examples=25, **_COMMON)
settings.register_profile("dev", max_examples=250, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
#: Entry points that train a model per example draw a fifth as many.
TRAINING = settings(max_examples=max(5, settings().max_examples // 5))


# ----------------------------------------------------------------------------- the property
def _assert_no_nan(result, where="result"):
    if isinstance(result, dict):
        for key, value in result.items():
            _assert_no_nan(value, f"{where}[{key!r}]")
    elif isinstance(result, (tuple, list)) and not isinstance(result, str):
        for i, value in enumerate(result):
            _assert_no_nan(value, f"{where}[{i}]")
    elif isinstance(result, pd.DataFrame):
        numeric = result.select_dtypes("number")
        assert not numeric.isna().any().any(), f"NaN in {where}: {numeric.isna().any().to_dict()}"
    elif isinstance(result, (np.ndarray, float, np.floating)):
        array = np.asarray(result)
        if array.dtype.kind in "fc":
            assert not np.isnan(array).any(), f"NaN in {where}"


def outcome(call, names, check_nan=True):
    """Run ``call``: it works (no NaN in its result), or raises ValueError/TypeError naming one of
    ``names``. Any other exception propagates and fails the test."""
    try:
        result = call()
    except (ValueError, TypeError) as exc:
        message = str(exc)
        assert any(name in message for name in names), (
            f"{type(exc).__name__} names none of {names}: {message}"
        )
        event(f"rejected with {type(exc).__name__}")
        return None
    event("worked")
    if check_nan:
        _assert_no_nan(result)
    return result


# ----------------------------------------------------------------------------- strategies
odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.lists(st.integers(-1, 3), max_size=3),
    st.just(np.nan),
    st.just(np.float32(2)),
    st.just(np.int64(3)),
    st.just({"a": 1}),
    st.just(b"x"),
)


def maybe_odd(*valid):
    """Mostly a valid value, sometimes an odd one: with several parameters per call, most examples
    get at most one odd parameter, so the calls that should work are drawn too."""
    # (st.one_of flattens nested one_ofs, so repeating `valid` would not outweigh odd_values' 11 branches.)
    return st.integers(0, 4).flatmap(lambda k: odd_values if k == 0 else st.one_of(*valid))


float_elements = st.floats(allow_nan=True, allow_infinity=True, width=32)


def floats_in(low, high):
    """Floats in [low, high], and NaN and inf."""
    return st.one_of(st.floats(low, high), st.sampled_from([np.nan, np.inf, -np.inf]))


@st.composite
def odd_arrays(draw, max_rows=6, max_cols=5, min_rows=0, min_cols=0):
    """Arrays of odd dtypes and shapes, with NaN/inf anywhere in the float ones."""
    shape = draw(
        st.one_of(
            st.tuples(st.integers(min_rows, max_rows), st.integers(min_cols, max_cols)),
            st.tuples(st.integers(0, max_rows)),
            st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
        )
    )
    kind = draw(st.sampled_from(["float32", "float64", "int64", "bool", "str", "object"]))
    if kind in ("float32", "float64"):
        return draw(hnp.arrays(kind, shape, elements=float_elements))
    if kind == "int64":
        return draw(hnp.arrays(kind, shape, elements=st.integers(-5, 20)))
    if kind == "bool":
        return draw(hnp.arrays(kind, shape))
    if kind == "str":
        return draw(hnp.arrays("U3", shape, elements=st.sampled_from(["a", "1.5", "", "nan"])))
    return draw(hnp.arrays(object, shape, elements=st.sampled_from([None, "a", 1, 2.5, np.nan])))


def finite_features(n_rows, n_cols):
    return hnp.arrays(np.float32, (n_rows, n_cols), elements=st.floats(-3, 3, width=32))


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def trained():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 3)).astype(np.float32)
    y = rng.randint(0, 2, size=30)
    clf = GrokMLPClassifier(
        hidden_layer_sizes=(4,),
        max_epochs=2,
        batch_size=None,
        measures=None,
        keep_checkpoints=True,
        random_state=0,
    ).fit(X, y)
    return clf, X, y


def tiny_regressor(**kwargs):
    return GrokMLPRegressor(
        hidden_layer_sizes=(2,), max_epochs=1, batch_size=None, measures=None, random_state=0, **kwargs
    )


# ----------------------------------------------------------------------------- text
words = st.lists(st.sampled_from(["good", "film", "bad", "plot", "the"]), max_size=6).map(" ".join)
documents_or_odd = st.lists(
    st.one_of(
        st.text(max_size=12),
        st.none(),
        st.integers(),
        st.floats(),
        st.just(b"bytes"),
        st.lists(st.text(max_size=3), max_size=2),
    ),
    max_size=5,
)


@given(
    X=st.integers(0, 2).flatmap(
        lambda k: (
            st.lists(words, max_size=5)
            if k
            else st.one_of(documents_or_odd, odd_arrays(), st.text(max_size=5), st.none(), st.integers())
        )
    ),
    vocab_size=maybe_odd(st.integers(0, 6)),
    maxlen=maybe_odd(st.integers(0, 4)),
    padding=maybe_odd(st.sampled_from(["pre", "post"])),
    lowercase=maybe_odd(st.booleans()),
    stop_words=maybe_odd(st.none(), st.just("english"), st.lists(st.text(max_size=3), max_size=2)),
)
def test_text_sequencer(X, vocab_size, maxlen, padding, lowercase, stop_words):
    seq = TextSequencer(
        vocab_size=vocab_size, maxlen=maxlen, padding=padding, lowercase=lowercase, stop_words=stop_words
    )
    names = ("X", "vocab_size", "maxlen", "padding", "lowercase", "stop_words")
    fitted = outcome(lambda: seq.fit(X), names)
    if fitted is not None:
        out = outcome(lambda: fitted.transform(X), names)
        assert out is None or (
            out.shape == (len(list(X)), maxlen) and out.min() >= 0 and out.max() < vocab_size
        )


# ----------------------------------------------------------------------------- activations
@given(
    X=odd_arrays(max_cols=5),
    epoch=maybe_odd(st.none(), st.sampled_from([0, 1, 2])),
    layer=maybe_odd(st.none(), st.just("act1")),
)
def test_hidden_activations(trained, X, epoch, layer):
    clf, X_fit, _ = trained
    names = ("X", "epoch", "layer", "checkpoint")
    outcome(lambda: hidden_activations(clf, X, epoch=epoch), names)
    transformer = outcome(lambda: HiddenActivations(clf, layer=layer, epoch=epoch).fit(X_fit), names)
    if transformer is not None:
        out = outcome(lambda: transformer.transform(X), names)
        assert out is None or out.shape == (len(X), 4)


# ----------------------------------------------------------------------------- O-information
@given(
    X=st.one_of(
        odd_arrays(max_rows=8, max_cols=6), st.integers(2, 8).flatmap(lambda n: finite_features(n, 4))
    ),
    n_bins=maybe_odd(st.integers(0, 5)),
    min_order=maybe_odd(st.integers(0, 4)),
    max_order=maybe_odd(st.none(), st.integers(0, 5)),
    copula=maybe_odd(st.booleans()),
    linkage=maybe_odd(st.sampled_from(["ward", "average"])),
)
def test_oinformation_analyzer(X, n_bins, min_order, max_order, copula, linkage):
    analyzer = OInformationAnalyzer(
        n_bins=n_bins, min_order=min_order, max_order=max_order, copula=copula, linkage=linkage
    )
    names = ("X", "n_bins", "min_order", "max_order", "copula", "linkage", "sample", "feature")
    fitted = outcome(lambda: analyzer.fit(X), names)
    if fitted is not None:
        outcome(lambda: fitted.transform(X), names)


# ----------------------------------------------------------------------------- analyzers that train
grids = maybe_odd(
    st.lists(st.floats(0.1, 4), min_size=1, max_size=2, unique=True),
    st.lists(floats_in(-1, 4), min_size=0, max_size=2),
)


@TRAINING
@given(
    X=st.one_of(
        odd_arrays(max_rows=6, max_cols=3, min_rows=1),
        st.integers(1, 6).flatmap(lambda n: finite_features(n, 2)),
    ),
    alphas=grids,
    train_sizes=maybe_odd(st.none(), st.lists(st.integers(-1, 7), max_size=2)),
    n_jobs=maybe_odd(st.none(), st.just(1)),
    scale_lr=maybe_odd(st.booleans()),
    verbose=maybe_odd(st.just(0)),
    rtol=maybe_odd(st.floats(0, 1)),
    atol=maybe_odd(st.floats(0, 1e-3)),
    window=maybe_odd(st.just(1)),
    max_steps=maybe_odd(st.none(), st.integers(1, 3)),
)
def test_reduced_landscape(X, alphas, train_sizes, n_jobs, scale_lr, verbose, rtol, atol, window, max_steps):
    y = np.arange(len(X), dtype=np.float32).reshape(-1, 1) if np.ndim(X) else None
    landscape = ReducedLandscape(
        tiny_regressor(),
        alphas=alphas,
        train_sizes=train_sizes,
        n_jobs=n_jobs,
        scale_lr=scale_lr,
        verbose=verbose,
        random_state=0,
        rtol=rtol,
        atol=atol,
        window=window,
        max_steps=max_steps,
    )
    names = ("X", "y", "alphas", "train_sizes", "n_jobs", "scale_lr", "verbose", "rtol", "atol", "window",
             "max_steps", "sample", "feature")
    fitted = outcome(lambda: landscape.fit(X, y), names, check_nan=False)
    if fitted is not None:
        table = fitted.landscape_
        # No eval_set: the test columns are NaN by design; the train columns of a run that did
        # not diverge must be numbers.
        healthy = table[~table["diverged"]]
        assert healthy[["weight_norm", "train_loss"]].notna().all().all()


@TRAINING
@given(
    weight_decays=st.one_of(st.none(), grids),
    thresholds=st.tuples(odd_values, odd_values),
    X=st.one_of(
        odd_arrays(max_rows=5, max_cols=3, min_rows=1),
        st.integers(2, 6).flatmap(lambda n: finite_features(n, 2)),
    ),
    eval_set=maybe_odd(st.none(), st.just("train")),
)
def test_time_to_generalize(weight_decays, thresholds, X, eval_set):
    y = np.arange(len(X), dtype=np.float32).reshape(-1, 1) if np.ndim(X) else None
    if isinstance(eval_set, str) and eval_set == "train":
        eval_set = (X, y)
    timing = TimeToGeneralize(
        tiny_regressor(),
        weight_decays=weight_decays,
        train_threshold=thresholds[0],
        test_threshold=thresholds[1],
        random_state=0,
    )
    names = ("X", "y", "weight_decays", "train_threshold", "test_threshold", "eval_set", "sample", "feature")
    fitted = outcome(lambda: timing.fit(X, y, eval_set=eval_set), names, check_nan=False)
    if fitted is not None:
        assert fitted.times_["diverged"].dtype == bool


@TRAINING
@given(
    messiness=maybe_odd(st.lists(floats_in(-0.5, 1.5), min_size=0, max_size=2)),
    p=maybe_odd(st.integers(-1, 6)),
    train_size=maybe_odd(st.integers(-1, 30)),
    layout=maybe_odd(st.sampled_from(["paper", "code"])),
)
def test_messiness_landscape(messiness, p, train_size, layout):
    landscape = MessinessLandscape(
        tiny_regressor(),
        messiness=messiness,
        alphas=[1.0],
        p=p,
        train_size=train_size,
        output_dim=3,
        layout=layout,
        random_state=0,
    )
    names = ("messiness", "p", "train_size", "layout", "alphas")
    outcome(lambda: landscape.fit(), names, check_nan=False)


@TRAINING
@given(
    keep=maybe_odd(st.lists(st.integers(-2, 6), max_size=4), odd_arrays(max_rows=5, max_cols=1)),
    layer=maybe_odd(st.none(), st.just("act1")),
    max_epochs=maybe_odd(st.none(), st.integers(-1, 2)),
)
def test_retrain_masked(trained, keep, layer, max_epochs):
    clf, X, y = trained
    names = ("keep", "layer", "max_epochs", "X", "y")
    outcome(
        lambda: retrain_masked(clf, X, y, keep, layer=layer, max_epochs=max_epochs), names, check_nan=False
    )


# ----------------------------------------------------------------------------- slopes
@given(
    x=maybe_odd(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=5)),
    t=maybe_odd(st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)), max_size=5)),
)
def test_loglog_slope(x, t):
    result = outcome(lambda: loglog_slope(x, t), ("x", "t"), check_nan=False)
    if result is not None:
        xs = np.asarray(x, dtype=float)
        ts = np.asarray(pd.to_numeric(pd.Series(t, dtype=object), errors="coerce"), dtype=float)
        usable = np.isfinite(xs) & np.isfinite(ts) & (xs > 0) & (ts > 0)
        # NaN is the documented answer exactly when fewer than two pairs are usable.
        assert np.isnan(result[0]) == (usable.sum() < 2 or len(np.unique(xs[usable])) < 2)


# ----------------------------------------------------------------------------- generators
@given(
    p=maybe_odd(st.integers(-1, 12)),
    operation=maybe_odd(st.sampled_from(["add", "subtract", "multiply", "divide"])),
    train_fraction=maybe_odd(floats_in(-0.5, 1.5)),
    random_state=maybe_odd(st.none(), st.integers(0, 5)),
)
def test_make_modular(p, operation, train_fraction, random_state):
    names = ("p", "operation", "train_fraction", "random_state")
    out = outcome(
        lambda: make_modular(
            p=p, operation=operation, train_fraction=train_fraction, random_state=random_state
        ),
        names,
    )
    if out is not None:
        X, y, X_test, y_test = out
        np.testing.assert_array_equal(modular_targets(X, p, operation), y)
        assert len(X) + len(X_test) > 0


@given(X=odd_arrays(max_rows=4, max_cols=3), p=maybe_odd(st.integers(-1, 7)))
def test_modular_targets(X, p):
    outcome(lambda: modular_targets(X, p), ("X", "p"))


@given(
    n_train=maybe_odd(st.integers(-1, 5)),
    d_in=maybe_odd(st.integers(-1, 4)),
    widths=maybe_odd(st.lists(st.integers(-1, 4), max_size=2)),
    activation=maybe_odd(st.sampled_from(["tanh", "relu"])),
)
def test_make_teacher_student(n_train, d_in, widths, activation):
    names = ("n_train", "d_in", "widths", "activation")
    outcome(
        lambda: make_teacher_student(
            n_train=n_train,
            n_test=3,
            d_in=d_in,
            d_out=2,
            widths=widths,
            activation=activation,
            random_state=0,
        ),
        names,
    )


@given(
    n_documents=maybe_odd(st.integers(-1, 6)),
    vocab_size=maybe_odd(st.integers(0, 60)),
    document_length=maybe_odd(st.tuples(st.integers(-1, 5), st.integers(-1, 5))),
    cue_purity=maybe_odd(floats_in(-1, 2)),
)
def test_make_sentiment_corpus(n_documents, vocab_size, document_length, cue_purity):
    names = ("n_documents", "vocab_size", "document_length", "cue_purity", "n_cue_words")
    outcome(
        lambda: make_sentiment_corpus(
            n_documents=n_documents,
            vocab_size=vocab_size,
            document_length=document_length,
            cue_purity=cue_purity,
            random_state=0,
        ),
        names,
    )


@given(
    n_graphs=maybe_odd(st.integers(-1, 4)),
    n_atoms=maybe_odd(st.tuples(st.integers(-1, 6), st.integers(-1, 6))),
    ring_probability=maybe_odd(floats_in(-1, 2)),
)
def test_make_molecular_graphs(n_graphs, n_atoms, ring_probability):
    names = ("n_graphs", "n_atoms", "ring_probability")
    outcome(
        lambda: make_molecular_graphs(
            n_graphs=n_graphs, n_atoms=n_atoms, ring_probability=ring_probability, random_state=0
        ),
        names,
    )


@given(
    n_bits=maybe_odd(st.integers(-1, 8)),
    k=maybe_odd(st.integers(-1, 9)),
    n_samples=maybe_odd(st.integers(-1, 5)),
    encoding=maybe_odd(st.sampled_from(["pm1", "01"])),
)
def test_make_sparse_parity(n_bits, k, n_samples, encoding):
    names = ("n_bits", "k", "n_samples", "encoding", "n_test")
    outcome(
        lambda: make_sparse_parity(
            n_bits=n_bits, k=k, n_samples=n_samples, n_test=3, encoding=encoding, random_state=0
        ),
        names,
    )


@given(n=maybe_odd(st.integers(-1, 5)), train_fraction=maybe_odd(floats_in(-1, 2)))
def test_make_permutation_composition(n, train_fraction):
    outcome(
        lambda: make_permutation_composition(n=n, train_fraction=train_fraction, random_state=0),
        ("n", "train_fraction"),
    )


@given(
    p=maybe_odd(st.integers(-1, 8)),
    messiness=maybe_odd(floats_in(-1, 2)),
    train_size=maybe_odd(st.integers(-1, 40)),
    embedding_dim=maybe_odd(st.none(), st.integers(-1, 3)),
    layout=maybe_odd(st.sampled_from(["paper", "code"])),
)
def test_messy_generators(p, messiness, train_size, embedding_dim, layout):
    names = ("p", "messiness", "train_size", "embedding_dim", "layout", "output_dim")
    outcome(
        lambda: make_messy_addition(
            p=p,
            messiness=messiness,
            train_size=train_size,
            output_dim=3,
            embedding_dim=embedding_dim,
            random_state=0,
            layout=layout,
        ),
        names,
    )
    outcome(
        lambda: messy_representation(
            p=p, messiness=messiness, embedding_dim=embedding_dim or 1, random_state=0, layout=layout
        ),
        names,
    )


@given(
    n_train=maybe_odd(st.integers(-1, 1800)),
    random_state=maybe_odd(st.integers(0, 3)),
)
def test_load_digits_split(n_train, random_state):
    outcome(
        lambda: load_digits_split(n_train=n_train, random_state=random_state), ("n_train", "random_state")
    )


# ----------------------------------------------------------------------------- loaders reading files
def _idx_bytes(array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


@given(
    data=st.one_of(
        st.binary(max_size=40),
        st.builds(
            lambda a, cut: _idx_bytes(a)[:cut],
            hnp.arrays(np.uint8, hnp.array_shapes(max_dims=3, max_side=3)),
            st.integers(0, 60),
        ),
    ),
    gzipped=st.booleans(),
)
def test_read_idx(tmp_path_factory, data, gzipped):
    import gzip

    path = tmp_path_factory.mktemp("idx") / ("file.gz" if gzipped else "file")
    path.write_bytes(gzip.compress(data) if gzipped and len(data) % 2 else data)
    outcome(lambda: read_idx(path), (str(path),))


@given(
    n_images=st.integers(0, 3),
    n_labels=st.integers(0, 3),
    side=st.sampled_from([28, 5]),
    label=st.integers(0, 12),
    n_train=maybe_odd(st.none(), st.integers(-1, 3)),
    download=maybe_odd(st.just(False)),
)
def test_load_mnist_cache(tmp_path_factory, n_images, n_labels, side, label, n_train, download):
    import gzip

    from grokkit.datasets import mnist

    folder = tmp_path_factory.mktemp("mnist")
    for key, name in mnist.FILES.items():
        array = (
            np.zeros((n_images, side, side), np.uint8)
            if key.endswith("images")
            else np.full(n_labels, label, np.uint8)
        )
        (folder / name).write_bytes(gzip.compress(_idx_bytes(array)))
    names = ("n_train", "download", str(folder))
    out = outcome(lambda: load_mnist(n_train=n_train, data_home=folder, download=download), names)
    if out is not None:
        assert len(out[0]) == len(out[1]) and len(out[2]) == len(out[3])


@given(
    n_train=maybe_odd(st.none(), st.integers(-1, 3)),
    download=maybe_odd(st.just(False)),
    archive=st.binary(max_size=30),
)
def test_load_imdb_cache(tmp_path_factory, n_train, download, archive):
    folder = tmp_path_factory.mktemp("imdb")
    (folder / "aclImdb_v1.tar.gz").write_bytes(archive)
    outcome(
        lambda: load_imdb(n_train=n_train, data_home=folder, download=download),
        ("n_train", "download", "aclImdb_v1.tar.gz"),
    )


@given(
    target=maybe_odd(st.sampled_from(["alpha", "mu"])),
    n_molecules=maybe_odd(st.none(), st.integers(-1, 2)),
    text=st.one_of(st.text(max_size=30), st.just("1\n gdb 1 " + " ".join(["1.0"] * 15) + "\nC 0 0 0\n")),
)
def test_load_qm9(tmp_path_factory, target, n_molecules, text):
    folder = tmp_path_factory.mktemp("qm9")
    (folder / "dsgdb9nsd_000001.xyz").write_text(text)
    outcome(
        lambda: load_qm9(folder, target=target, n_molecules=n_molecules),
        ("target", "n_molecules", "dsgdb9nsd_000001.xyz", "QM9"),
    )


# ----------------------------------------------------------------------------- the command line
flag_values = st.one_of(
    st.sampled_from(["0", "-5", "1", "cpu", "cuda", "bogus", "auto", "cuda:0", "", "1e3", "4294967296"]),
    st.text(max_size=4),
)


@given(
    seed=flag_values,
    device=flag_values,
    out=st.sampled_from(["new", "existing_dir", "file", "under_file", "/proc/grokkit-out"]),
    size=st.sampled_from(["smoke", "quick", "huge"]),
)
def test_cli_flags(tmp_path_factory, monkeypatch, capsys, seed, device, out, size):
    """Any flags: exit 2 with one line on stderr before any training, or a run that writes its files."""
    from grokkit import experiments
    from grokkit.cli import main

    root = tmp_path_factory.mktemp("cli")
    (root / "existing_dir").mkdir()
    (root / "file").write_text("x")
    out_path = {"under_file": str(root / "file" / "sub")}.get(
        out, out if out.startswith("/") else str(root / out)
    )
    trained_runs = []

    def run(size, seed, device, verbose):
        trained_runs.append(seed)
        return experiments.ExperimentResult(runs={"r": pd.DataFrame({"epoch": [0]})}, summary={})

    registry = experiments._registry()
    monkeypatch.setitem(registry, "abelian_test", dataclasses.replace(registry["abelian_test"], run=run))
    argv = [
        "reproduce",
        "abelian_test",
        "--size",
        size,
        "--seed",
        seed,
        "--device",
        device,
        "--out",
        out_path,
        "--quiet",
    ]
    try:
        status = main(argv)
    except SystemExit as exc:
        status = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    if status == 0:
        assert trained_runs and os.path.isfile(os.path.join(out_path, "summary.json"))
    else:
        assert status == 2 and not trained_runs
        # argparse's own errors print the usage block first; ours are one line.
        assert err[-1].startswith(
            "grokkit reproduce: error:" if err[0].startswith("usage") else "grokkit: error:"
        )
        if not err[0].startswith("usage"):
            assert len(err) == 1 and any(flag in err[0] for flag in ("--seed", "--device", "--out"))
