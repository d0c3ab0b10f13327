import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from grokkit import GrokMLPClassifier, ModularMLPClassifier
from grokkit.analysis import HiddenActivations, OInformationAnalyzer, hidden_activations
from grokkit.datasets import make_modular


@pytest.fixture(scope="module")
def modular_run():
    X, y, Xt, yt = make_modular(p=13, train_fraction=0.6, random_state=0)
    clf = ModularMLPClassifier(p=13, hidden_layer_sizes=(40,), max_epochs=30, measure_every=10,
                               keep_checkpoints=True, measures=None, random_state=0)
    return clf.fit(X, y, eval_set=(Xt, yt)), X


def test_hidden_activations_match_a_manual_forward(modular_run):
    import torch

    clf, X = modular_run
    acts = hidden_activations(clf, X)
    net = clf.module_
    with torch.no_grad():
        manual = torch.relu(net.fc1(torch.as_tensor(X))).numpy()
    np.testing.assert_allclose(acts["act1"], manual, rtol=1e-6)
    early = hidden_activations(clf, X, epoch=0)["act1"]
    assert not np.allclose(early, acts["act1"])


def test_transformer_in_a_pipeline(modular_run):
    clf, X = modular_run
    pipe = make_pipeline(HiddenActivations(clf), OInformationAnalyzer(n_bins=4, min_order=3))
    features = pipe.fit_transform(X)
    assert features.shape[0] == 1
    assert list(pipe.get_feature_names_out())[:2] == ["oinfo_min", "oinfo_max"]


def test_run_table_has_one_row_per_checkpoint(modular_run):
    clf, X = modular_run
    analyzer = OInformationAnalyzer(n_bins=4, min_order=3)
    table = analyzer.fit_transform_run(clf, X)
    assert list(table.index) == [0, 10, 20, 30]
    assert (table["oinfo_min"] <= table["oinfo_max"]).all()
    assert (table["synergy"] <= 0).all() and (table["redundancy"] >= 0).all()
    last = analyzer.transform(hidden_activations(clf, X)["act1"])[0]
    np.testing.assert_allclose(table.iloc[-1].to_numpy(), last)


def test_run_without_checkpoints_is_an_error():
    X, y = np.random.default_rng(0).normal(size=(30, 4)), np.arange(30) % 2
    clf = GrokMLPClassifier(hidden_layer_sizes=(6,), max_epochs=2, measures=None).fit(X, y)
    with pytest.raises(ValueError, match="keep_checkpoints"):
        OInformationAnalyzer(n_bins=3).fit_transform_run(clf, X)
    with pytest.raises(ValueError, match="layer"):
        HiddenActivations(clf, layer="act7").fit(X)


@pytest.fixture(scope="module")
def feature_clf():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 20)).astype(np.float32)
    y = rng.randint(0, 2, size=40)
    return GrokMLPClassifier(hidden_layer_sizes=(8,), max_epochs=2, batch_size=None, measures=None,
                             random_state=0).fit(X, y), X


@pytest.mark.parametrize("case, error, match", [
    ("narrow", ValueError, "X has 10 features, but GrokMLPClassifier is expecting 20"),
    ("all_nan", ValueError, "Input X contains NaN"),
    ("one_inf", ValueError, "Input X contains infinity"),
    ("strings", TypeError, "X must be numeric"),
    ("words", TypeError, "X must be numeric; got text such as 'a'"),
    ("sparse", TypeError, "dense"),
])
def test_bad_input_is_rejected_as_predict_rejects_it(feature_clf, case, error, match):
    """Issue 16 #5: a torch shape error, NaN returned silently, a torch TypeError."""
    import scipy.sparse

    clf, X = feature_clf
    bad = {
        "narrow": X[:, :10],
        "all_nan": np.full_like(X, np.nan),
        "one_inf": np.where(np.arange(X.size).reshape(X.shape) == 7, np.inf, X),
        "strings": X.astype(str),
        "words": np.full(X.shape, "a", dtype=object),
        "sparse": scipy.sparse.csr_matrix(X),
    }[case]
    fitted = HiddenActivations(clf).fit(X)
    with pytest.raises(error, match=match):
        fitted.transform(bad)
    with pytest.raises(error, match=match):
        hidden_activations(clf, bad)


def test_float_pairs_are_accepted_where_predict_accepts_them(modular_run):
    clf, X = modular_run
    np.testing.assert_array_equal(clf.predict(X.astype(float)), clf.predict(X))
    np.testing.assert_array_equal(hidden_activations(clf, X.astype(float))["act1"],
                                  hidden_activations(clf, X)["act1"])


def test_unfitted_or_foreign_estimator(feature_clf):
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import LogisticRegression

    _, X = feature_clf
    with pytest.raises(NotFittedError):
        HiddenActivations(GrokMLPClassifier()).fit(X)
    with pytest.raises(TypeError, match="estimator must be a fitted grokkit estimator"):
        HiddenActivations(LogisticRegression()).fit(X)
    with pytest.raises(TypeError, match="estimator"):
        HiddenActivations().fit(X)


def test_clone_keeps_the_trained_estimator(modular_run):
    """Found by sklearn's checks: clone() unfitted the wrapped model, so a Pipeline holding
    HiddenActivations failed with NotFittedError under cross_val_score or GridSearchCV."""
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf, X = modular_run
    twin = clone(HiddenActivations(clf))
    assert twin.estimator is clf and not hasattr(twin, "layer_")
    y = clf.predict(X) % 2
    pipe = make_pipeline(HiddenActivations(clf), StandardScaler(), LogisticRegression(max_iter=200))
    assert len(cross_val_score(pipe, X, y, cv=2)) == 2


@pytest.mark.parametrize("bad, match", [
    (np.zeros((0, 3), dtype=np.float32), "X: Found array with 0 sample"),
    (np.zeros(3, dtype=np.float32), "X: Expected 2D array"),
    (np.zeros((2, 3, 3), dtype=np.float32), "X: Found array with dim 3"),
])
def test_empty_and_misshapen_input_names_x(feature_clf, bad, match):
    """Found by the hypothesis module: sklearn's messages for these did not say which input."""
    clf, _ = feature_clf
    with pytest.raises(ValueError, match=match):
        hidden_activations(clf, bad)


def test_layer_and_epoch_types(feature_clf):
    """Found by the hypothesis module: layer={...} raised 'unhashable type: dict'."""
    clf, X = feature_clf
    with pytest.raises(TypeError, match="layer must be"):
        HiddenActivations(clf, layer={"a": 1}).fit(X)
    with pytest.raises(TypeError, match="epoch must be an int"):
        hidden_activations(clf, X, epoch={"a": 1})
