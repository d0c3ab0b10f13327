"""Training claims checked against actual runs (small, fast versions of the paper settings)."""

import numpy as np
import pytest
import torch

from grokkit import GrokMLPClassifier, GrokMLPRegressor, TrainingDiverged
from grokkit.analysis import grokking_summary


@pytest.fixture(scope="module")
def digits_run():
    """Omnigrok's α = 8 setting on digits, 1 500 epochs = 3 000 steps: fitted, not yet grokked."""
    from grokkit.datasets import load_digits_split

    X, y, Xt, yt = load_digits_split(n_train=300, random_state=0)
    clf = GrokMLPClassifier(alpha=8.0, loss="mse", weight_decay=0.1, lr=1e-3, batch_size=200,
                            max_epochs=1500, random_state=0, measure_every=50,
                            measures=["weight_norm", "weight_entropy"])
    return clf.fit(X, y, eval_set=(Xt, yt))


def test_digits_train_fits_while_test_lags(digits_run):
    last = digits_run.progress_.iloc[-1]
    assert last.step == 3000
    assert last.train_acc == 1.0
    assert last.test_acc < 0.5  # hand-measured plain PyTorch: 0.30 at step 3 000
    summary = digits_run.grokking_summary()
    assert summary["memorization_step"] <= 3000
    assert summary["generalization_epoch"] is None


def test_digits_weight_norm_and_entropy_fall(digits_run):
    p = digits_run.progress_
    assert p.weight_norm.iloc[-1] < 0.9 * p.weight_norm.iloc[0]
    assert p.weight_entropy.iloc[-1] < p.weight_entropy.iloc[0]
    # the norm falls monotonically under weight decay once fitting starts
    assert (np.diff(p.weight_norm.to_numpy()[5:]) < 0).all()


def test_progress_columns_and_steps(digits_run):
    p = digits_run.progress_
    assert list(p.columns[:6]) == ["epoch", "step", "train_loss", "train_acc", "test_loss",
                                   "test_acc"]
    assert "weight_norm/fc1" in p.columns and "weight_entropy/fc3" in p.columns
    assert p.epoch.iloc[0] == 0 and p.step.iloc[0] == 0
    assert (p.step == 2 * p.epoch).all()  # 300 samples, batch 200: 2 steps an epoch
    assert digits_run.n_steps_ == 3000


def test_progress_matches_the_final_model(digits_run, digits):
    _, _, Xt, yt = digits
    assert digits_run.score(Xt, yt) == pytest.approx(digits_run.progress_.test_acc.iloc[-1])


def test_constrain_norm_keeps_the_initial_norm(blobs):
    X, y = blobs
    clf = GrokMLPClassifier(hidden_layer_sizes=(32, 32), alpha=3.0, weight_decay=0.0,
                            constrain_norm=True, max_epochs=150, batch_size=16, lr=1e-2,
                            measures=["weight_norm"], measure_every=1, random_state=0).fit(X, y)
    norms = clf.progress_.weight_norm.to_numpy()
    assert np.abs(norms / norms[0] - 1).max() < 1e-4
    assert clf.progress_.train_acc.iloc[-1] > 0.9  # it still learns, by direction only


def test_constrain_norm_to_a_value(blobs):
    X, y = blobs
    clf = GrokMLPClassifier(hidden_layer_sizes=(16,), weight_decay=0.0, constrain_norm=25.0,
                            max_epochs=30, measures=["weight_norm"], measure_every=1,
                            random_state=0).fit(X, y)
    assert np.allclose(clf.progress_.weight_norm, 25.0, rtol=1e-4)


def test_negative_norm_penalty_pushes_the_norm_up(blobs):
    X, y = blobs
    common = dict(hidden_layer_sizes=(16,), weight_decay=0.0, max_epochs=100, lr=1e-2,
                  measures=["weight_norm"], random_state=0, batch_size=-1)
    plain = GrokMLPClassifier(norm_penalty=0.0, **common).fit(X, y).progress_.weight_norm
    pushed = GrokMLPClassifier(norm_penalty=-1e-2, **common).fit(X, y).progress_.weight_norm
    assert pushed.iloc[-1] > plain.iloc[-1]
    assert pushed.iloc[-1] > pushed.iloc[0]


def test_same_random_state_same_run_and_global_rng_untouched(blobs):
    X, y = blobs
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a = GrokMLPClassifier(hidden_layer_sizes=(8,), max_epochs=20, batch_size=30,
                          random_state=5).fit(X, y)
    assert torch.equal(torch.rand(1), expected_next)
    b = GrokMLPClassifier(hidden_layer_sizes=(8,), max_epochs=20, batch_size=30,
                          random_state=5).fit(X, y)
    assert a.progress_.equals(b.progress_)


def test_no_eval_set_means_no_test_columns(blobs):
    X, y = blobs
    p = GrokMLPClassifier(hidden_layer_sizes=(8,), max_epochs=5, measures=None).fit(X, y).progress_
    assert "test_acc" not in p.columns and list(p.columns) == ["epoch", "step", "train_loss",
                                                               "train_acc"]


def test_user_callable_measure_becomes_a_column(blobs):
    X, y = blobs

    def first_logit(module, X, y):
        return {"mean": float(module(X)[:, 0].mean()), "total": 1.0}

    p = GrokMLPClassifier(hidden_layer_sizes=(8,), max_epochs=3, measures=[first_logit],
                          measure_every=1).fit(X, y).progress_
    assert {"first_logit", "first_logit/mean"} <= set(p.columns) and len(p) == 4


def test_partial_fit_continues_the_run(blobs):
    X, y = blobs
    clf = GrokMLPClassifier(hidden_layer_sizes=(8,), max_epochs=10, batch_size=-1,
                            measure_every=5, measures=None, random_state=0).fit(X, y)
    clf.partial_fit(X, y)
    assert clf.n_steps_ == 20
    assert clf.progress_.epoch.tolist() == [0, 5, 10, 15, 20]


def test_divergence_raises_and_keeps_progress(blobs):
    X, y = blobs
    clf = GrokMLPClassifier(hidden_layer_sizes=(8,), optimizer="sgd", lr=1e30, alpha=50.0,
                            loss="mse", max_epochs=50, measure_every=1, measures=["weight_norm"],
                            random_state=0)
    with pytest.raises(TrainingDiverged, match="diverged at epoch"):
        clf.fit(X, y)
    assert clf.diverged_
    assert len(clf.progress_) >= 2 and clf.progress_.epoch.iloc[0] == 0
    assert clf.progress_.epoch.iloc[-1] < 50


def test_divergence_warns_when_asked(blobs):
    X, y = blobs
    clf = GrokMLPClassifier(hidden_layer_sizes=(8,), optimizer="sgd", lr=1e30, alpha=50.0,
                            loss="mse", max_epochs=50, on_divergence="warn", random_state=0)
    with pytest.warns(RuntimeWarning, match="diverged"):
        clf.fit(X, y)
    assert clf.diverged_ and clf.progress_.epoch.iloc[-1] < 50


def test_verbose_shows_a_progress_bar(blobs, capsys):
    X, y = blobs
    GrokMLPClassifier(hidden_layer_sizes=(8,), max_epochs=5, verbose=1, measures=None).fit(X, y)
    assert "5/5" in capsys.readouterr().err


def test_regressor_learns_and_reports_threshold_accuracy():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(64, 3)).astype(np.float32)
    y = np.stack([X[:, 0] * X[:, 1], np.sin(X[:, 2])], axis=1)
    reg = GrokMLPRegressor(hidden_layer_sizes=(32,), activation="tanh", lr=1e-2, max_epochs=300,
                           batch_size=-1, weight_decay=0.0, accuracy_threshold=1e-2,
                           random_state=0).fit(X, y, eval_set=(X[:8], y[:8]))
    p = reg.progress_
    assert p.train_acc.iloc[-1] > p.train_acc.iloc[0]
    pred = reg.predict(X)
    per_sample = ((pred - y) ** 2).mean(axis=1)
    assert p.train_acc.iloc[-1] == pytest.approx((per_sample < 1e-2).mean(), abs=1e-6)
    assert pred.shape == y.shape
    assert reg.predict(X).ndim == 2 and GrokMLPRegressor(max_epochs=1).fit(X, y[:, 0]).predict(
        X).ndim == 1


def test_grokking_summary_on_a_hand_made_curve():
    import pandas as pd

    p = pd.DataFrame({"epoch": [0, 10, 100, 1000], "step": [0, 20, 200, 2000],
                      "train_acc": [0.1, 0.995, 1.0, 1.0], "test_acc": [0.1, 0.2, 0.5, 0.95]})
    s = grokking_summary(p)
    assert (s["memorization_epoch"], s["generalization_epoch"]) == (10, 1000)
    assert s["delay"] == 990 and s["ratio"] == 100 and s["grokked"]
    assert s["generalization_step"] == 2000
    with pytest.raises(ValueError, match="test_threshold"):
        grokking_summary(p, test_threshold=2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_training_and_pickling_back_to_cpu(blobs):
    import pickle

    X, y = blobs
    clf = GrokMLPClassifier(hidden_layer_sizes=(8,), max_epochs=20, device="cuda",
                            constrain_norm=True, weight_decay=0.0, random_state=0).fit(X, y)
    assert next(clf.module_.parameters()).is_cuda
    again = pickle.loads(pickle.dumps(clf))
    assert (again.predict(X) == clf.predict(X)).all()


def test_checkpoints_rebuild_the_module_at_recorded_epochs(blobs):
    X, y = blobs
    clf = GrokMLPClassifier(hidden_layer_sizes=(8,), max_epochs=12, measure_every=4,
                            keep_checkpoints=True, measures=["weight_norm"],
                            random_state=0).fit(X, y)
    assert sorted(clf.checkpoints_) == [0, 4, 8, 12]
    from grokkit.measures import weight_norm

    for epoch, row in clf.progress_.set_index("epoch").iterrows():
        assert weight_norm(clf.module_at(epoch))["total"] == pytest.approx(row.weight_norm, rel=1e-6)
    final = clf.module_at(12)
    with torch.no_grad():
        assert torch.equal(final(torch.as_tensor(X)), clf.module_(torch.as_tensor(X)))
    with pytest.raises(ValueError, match="no checkpoint"):
        clf.module_at(5)
    none_kept = GrokMLPClassifier(hidden_layer_sizes=(8,), max_epochs=2).fit(X, y)
    assert none_kept.checkpoints_ == {}


def mean_first_logit(module, X, y):
    """A user's module-level measure (picklable by reference, as any module-level function)."""
    return float(module(X)[:, 0].mean())


def test_a_run_recording_a_user_measure_pickles_and_sweeps_through_memory(blobs, tmp_path):
    import pickle

    from grokkit import Sweep

    X, y = blobs
    base = GrokMLPClassifier(hidden_layer_sizes=(8,), max_epochs=3, measures=[mean_first_logit],
                             measure_every=1)
    clf = pickle.loads(pickle.dumps(base.fit(X, y)))
    assert "mean_first_logit" in clf.progress_ and len(clf.get_params()["measures"]) == 1
    first = Sweep(base, seeds=2, memory=tmp_path).fit(X, y)
    again = Sweep(base, seeds=2, memory=tmp_path).fit(X, y)
    assert first.n_trained_ == 2 and again.n_trained_ == 0  # both runs came back from the memory
    assert again.progress_["mean_first_logit"].tolist() == first.progress_["mean_first_logit"].tolist()
