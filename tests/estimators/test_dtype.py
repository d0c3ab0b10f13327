"""``dtype="float64"``: every estimator trains and predicts in double precision from the same start."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grokkit import GrokMLPClassifier, GrokMLPRegressor, ModularMLPClassifier, ModularTransformer
from grokkit.datasets import make_modular, make_teacher_student
from grokkit.datasets.molecules import make_molecular_graphs
from grokkit.estimators.gcn import GrokGCNRegressor
from grokkit.estimators.lstm import GrokLSTMClassifier


def test_float64_starts_where_float32_starts_and_tracks_it(digits):
    X, y, Xt, yt = digits
    runs = {dt: GrokMLPClassifier(alpha=2.0, max_epochs=6, measure_every=1, dtype=dt, random_state=0,
                                  measures=("weight_norm",)).fit(X, y, eval_set=(Xt, yt))
            for dt in ("float32", "float64")}
    double = runs["float64"]
    assert all(p.dtype == torch.float64 for p in double.module_.parameters())
    assert double.predict_proba(Xt).dtype == np.float64
    single, double = runs["float32"].progress_, double.progress_
    # same initial parameters (cast), so the same norm at epoch 0 to float32 rounding
    assert double.weight_norm.iloc[0] == pytest.approx(single.weight_norm.iloc[0], rel=1e-7)
    np.testing.assert_allclose(double.train_loss, single.train_loss, rtol=1e-4)
    assert not np.array_equal(double.train_loss.to_numpy(), single.train_loss.to_numpy())


def test_float64_regressor_targets_and_predictions():
    X, y, Xt, yt = make_teacher_student(n_train=30, n_test=30, widths=(16,), random_state=0)
    reg = GrokMLPRegressor(hidden_layer_sizes=(16,), max_epochs=5, batch_size=None, dtype="float64",
                           random_state=0).fit(X, y, eval_set=(Xt, yt))
    assert reg.predict(Xt).dtype == np.float64
    assert np.isfinite(reg.progress_.test_loss).all()


@pytest.mark.parametrize("make", [
    lambda: ModularTransformer(p=11, d_model=16, n_heads=2, d_mlp=16, max_epochs=3),
    lambda: ModularMLPClassifier(p=11, hidden_layer_sizes=(16,), max_epochs=3, input_noise=(0.1, 0.01),
                                 mi_penalty=0.1, abelian_penalty=0.1),
])
def test_float64_modular_estimators(make):
    X, y, Xt, yt = make_modular(p=11, train_fraction=0.5, random_state=0)
    est = make().set_params(dtype="float64", random_state=0).fit(X, y, eval_set=(Xt, yt))
    assert est.module_dtype_ == torch.float64
    # every recorded value after the start is finite (input_noise_std is NaN at epoch 0: no step yet)
    assert np.isfinite(est.progress_.iloc[1:].drop(columns=["epoch", "step"]).to_numpy(dtype=float)).all()
    assert est.predict_proba(Xt).dtype == np.float64


def test_float64_graph_and_text_estimators():
    graphs, y = make_molecular_graphs(n_graphs=30, n_atoms=(3, 6), random_state=0)
    reg = GrokGCNRegressor(hidden_channels=(8,), max_epochs=3, batch_size=10, dtype="float64",
                           random_state=0).fit(graphs, y)
    assert reg.predict(graphs).dtype == np.float64
    rng = np.random.RandomState(0)
    tokens, labels = rng.randint(1, 50, size=(40, 12)), rng.randint(0, 2, size=40)
    clf = GrokLSTMClassifier(vocab_size=50, embedding_dim=8, hidden_size=8, max_epochs=3, batch_size=20,
                             dtype="float64", random_state=0).fit(tokens, labels)
    assert clf.module_dtype_ == torch.float64
    assert clf.predict_proba(tokens).dtype == np.float64


def test_unknown_dtype_is_a_clear_error(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="'dtype' parameter .* a str among .*float32.* Got 'float16'"):
        GrokMLPClassifier(dtype="float16", max_epochs=1).fit(X, y)
