"""grokkit.Sweep (issue 14): stacked runs equal separate fits; memory; summaries; bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from grokkit import GrokLSTMClassifier, GrokMLPClassifier, ModularMLPClassifier, ModularTransformer, Sweep
from grokkit.callbacks import StopWhenGrokked
from grokkit.datasets import load_digits_split, make_modular
from grokkit.estimators.stacked import fit_stacked
from grokkit.optim import StackedAdamW
from grokkit.sweep import seed_interval

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: Relative agreement of a stacked run with its own fit. The stacked forward is
#: a batched matmul whose sums may round differently from the single run's
#: matmul (a few ulps a step); 30 epochs of training amplify that to well under
#: 10³ ulps in float32 and float64 alike (measured: 2e-7 and 3e-15).
RTOL = {"float32": 1e3 * float(torch.finfo(torch.float32).eps),
        "float64": 1e3 * float(torch.finfo(torch.float64).eps)}


@pytest.fixture(scope="module")
def small_digits():
    return load_digits_split(n_train=120, random_state=0)


def _mlp(dtype="float32", **kw):
    params = dict(hidden_layer_sizes=(32, 32), alpha=4.0, loss="mse", batch_size=50, max_epochs=12,
                  lr=3e-3, dtype=dtype)
    return GrokMLPClassifier(**{**params, **kw})


def _assert_same_progress(single: pd.DataFrame, stacked: pd.DataFrame, rtol: float) -> None:
    assert list(single.columns) == list(stacked.columns)
    pd.testing.assert_frame_equal(single[["epoch", "step"]], stacked[["epoch", "step"]])
    pd.testing.assert_frame_equal(single, stacked, check_exact=False, rtol=rtol, atol=rtol)


def _separate(sweep, base, X, y, eval_set):
    return [clone(base).set_params(**run).fit(X, y, eval_set=eval_set) for run in sweep.runs_]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_stacked_weight_decay_by_seed_equals_six_fits(small_digits, dtype):
    """Issue 14, point 1: 3 weight decays × 2 seeds, stacked, against six separate fits."""
    X, y, Xt, yt = small_digits
    base = _mlp(dtype)
    sweep = Sweep(base, {"weight_decay": [0.0, 0.1, 1.0]}, seeds=2).fit(X, y, eval_set=(Xt, yt))
    assert (sweep.results_["executor"] == "stacked").all() and len(sweep.runs_) == 6
    for single, stacked in zip(_separate(sweep, base, X, y, (Xt, yt)), sweep.estimators_, strict=True):
        _assert_same_progress(single.progress_, stacked.progress_, RTOL[dtype])
        for p, q in zip(single.module_.parameters(), stacked.module_.parameters(), strict=True):
            torch.testing.assert_close(q, p, rtol=RTOL[dtype], atol=RTOL[dtype])
        assert stacked.n_steps_ == single.n_steps_ == 12 * 3


def test_stacked_alpha_by_seed_with_constrained_norm_equals_fits(small_digits):
    X, y, Xt, yt = small_digits
    base = _mlp(constrain_norm=True, weight_decay=0.0, max_epochs=20)
    sweep = Sweep(base, {"alpha": [1.0, 4.0]}, seeds=2).fit(X, y, eval_set=(Xt, yt))
    assert (sweep.results_["executor"] == "stacked").all()
    for single, stacked in zip(_separate(sweep, base, X, y, (Xt, yt)), sweep.estimators_, strict=True):
        _assert_same_progress(single.progress_, stacked.progress_, RTOL["float32"])
        # the norm stays at its initial value in both (Omnigrok's constrained runs)
        norms = stacked.progress_["weight_norm"]
        np.testing.assert_allclose(norms, norms.iloc[0], rtol=RTOL["float32"])


def test_stacked_transformer_two_seeds_equals_fits():
    X, y, Xt, yt = make_modular(p=13, train_fraction=0.5, random_state=0)
    base = ModularTransformer(p=13, d_model=16, n_heads=2, d_mlp=32, max_epochs=15, lr=1e-2)
    sweep = Sweep(base, seeds=2).fit(X, y, eval_set=(Xt, yt))
    assert (sweep.results_["executor"] == "stacked").all()
    for single, stacked in zip(_separate(sweep, base, X, y, (Xt, yt)), sweep.estimators_, strict=True):
        _assert_same_progress(single.progress_, stacked.progress_, RTOL["float32"])
        assert stacked.progress_["train_loss"].iloc[-1] < stacked.progress_["train_loss"].iloc[0]


def test_stacked_adamw_equals_torch_adamw_slice_by_slice():
    """The per-run step against ``torch.optim.AdamW`` on each slice, with per-run lr and decay."""
    torch.manual_seed(0)
    lrs, decays = [1e-3, 3e-2, 0.1], [0.0, 0.1, 2.0]
    stacked = [torch.randn(3, 5, 4), torch.randn(3, 7)]
    singles = [[p[k].clone().requires_grad_() for p in stacked] for k in range(3)]
    stacked = [p.clone().requires_grad_() for p in stacked]
    ours = StackedAdamW(stacked, lrs, decays, betas=(0.9, 0.98), eps=1e-8)
    theirs = [torch.optim.AdamW(singles[k], lr=lrs[k], weight_decay=decays[k], betas=(0.9, 0.98))
              for k in range(3)]
    for _ in range(25):
        grads = [torch.randn_like(p) for p in stacked]
        for p, g in zip(stacked, grads, strict=True):
            p.grad = g.clone()
        ours.step()
        for k in range(3):
            for p, g in zip(singles[k], grads, strict=True):
                p.grad = g[k].clone()
            theirs[k].step()
    eps = float(torch.finfo(torch.float32).eps)
    for k in range(3):
        for p, q in zip(singles[k], stacked, strict=True):
            torch.testing.assert_close(q[k], p, rtol=8 * eps, atol=8 * eps)
        state = ours.state_of(k)
        for p, s in zip(singles[k], state, strict=True):
            torch.testing.assert_close(s["exp_avg"], theirs[k].state[p]["exp_avg"])
            assert float(s["step"]) == float(theirs[k].state[p]["step"]) == 25


def test_a_stacked_run_continues_with_partial_fit_like_its_own_fit(small_digits):
    """The optimizer state written back into each run makes partial_fit continue it exactly."""
    X, y, Xt, yt = small_digits
    base = _mlp("float64", max_epochs=10)
    sweep = Sweep(base, {"weight_decay": [0.0, 0.5]}, seeds=1).fit(X, y, eval_set=(Xt, yt))
    single = clone(base).set_params(**sweep.runs_[1]).fit(X, y, eval_set=(Xt, yt))
    stacked = sweep.estimators_[1]
    single.partial_fit(X, y, eval_set=(Xt, yt))
    stacked.partial_fit(X, y, eval_set=(Xt, yt))
    _assert_same_progress(single.progress_, stacked.progress_, RTOL["float64"])


def test_noise_and_dropout_are_drawn_per_run(small_digits):
    X, y, Xt, yt = small_digits
    base = _mlp(input_noise=(0.5, 0.1), dropout=0.2, max_epochs=6)
    sweep = Sweep(base, seeds=2).fit(X, y, eval_set=(Xt, yt))
    assert (sweep.results_["executor"] == "stacked").all()
    sigmas = [[row["input_noise_std"] for row in est.history] for est in sweep.estimators_]
    assert all(0.1 <= s <= 0.5 for run in sigmas for s in run)  # σ = max(λ1 (1 − acc), λ2)
    quiet = Sweep(_mlp(max_epochs=6), seeds=2).fit(X, y, eval_set=(Xt, yt))
    noisy_loss = sweep.results_["final_train_loss"].to_numpy()
    assert not np.allclose(noisy_loss, quiet.results_["final_train_loss"].to_numpy())


def test_a_diverging_run_does_not_stop_the_others(small_digits):
    X, y, Xt, yt = small_digits
    base = _mlp(loss="cross_entropy", on_divergence="warn", max_epochs=8, measures=None)
    with pytest.warns(RuntimeWarning, match="1 of 2 runs diverged"):
        sweep = Sweep(base, {"lr": [1e-3, 1e9]}).fit(X, y, eval_set=(Xt, yt))
    assert sweep.results_["diverged"].tolist() == [False, True]
    assert sweep.estimators_[0].n_steps_ == 8 * 3
    assert np.isfinite(sweep.results_.loc[0, "final_train_loss"])


def test_a_stop_rule_ends_its_run_only(small_digits):
    X, y, Xt, yt = small_digits
    stop = StopWhenGrokked(train_threshold=0.5, test_threshold=0.3, patience=1)
    base = _mlp(callbacks=[stop], max_epochs=40, measure_every=1)
    sweep = Sweep(base, {"lr": [1e-5, 1e-2]}).fit(X, y, eval_set=(Xt, yt))
    assert (sweep.results_["executor"] == "stacked").all()
    slow, fast = sweep.estimators_
    assert fast.stopped_by_ is not None and fast.n_steps_ < 40 * 3
    assert slow.stopped_by_ is None and slow.n_steps_ == 40 * 3
    single = clone(base).set_params(**sweep.runs_[1]).fit(X, y, eval_set=(Xt, yt))
    assert single.n_steps_ == fast.n_steps_


def test_finished_runs_leave_the_stack_and_the_others_train_on_as_their_own_fits(small_digits, monkeypatch):
    """Compaction: once a run stops, its rows leave every stacked tensor and the AdamW state."""
    X, y, Xt, yt = small_digits
    stop = StopWhenGrokked(train_threshold=0.5, test_threshold=0.3, patience=1)
    base = _mlp("float64", callbacks=[stop], max_epochs=30, measure_every=1, alpha=1.0, constrain_norm=True)
    kept = []
    original = StackedAdamW.keep
    monkeypatch.setattr(StackedAdamW, "keep", lambda self, rows, params: kept.append(rows.tolist())
                        or original(self, rows, params))
    grid = {"lr": [3e-2, 1e-2, 1e-6], "weight_decay": [0.1]}
    sweep = Sweep(base, grid, seeds=1).fit(X, y, eval_set=(Xt, yt))
    steps = sweep.results_["n_steps"].tolist()
    assert steps[2] == 30 * 3 and min(steps) < 30 * 3  # the slowest run trains its whole budget
    assert kept and len(kept[-1]) < 3  # the stack shrank once runs stopped
    for run, stacked in zip(sweep.runs_, sweep.estimators_, strict=True):
        single = clone(base).set_params(**run).fit(X, y, eval_set=(Xt, yt))
        assert single.n_steps_ == stacked.n_steps_
        _assert_same_progress(single.progress_, stacked.progress_, RTOL["float64"])
    alone = clone(base).set_params(**sweep.runs_[2]).fit(X, y, eval_set=(Xt, yt))
    survivor = sweep.estimators_[2]
    alone.set_params(max_epochs=3).partial_fit(X, y, eval_set=(Xt, yt))  # its AdamW state came back
    survivor.set_params(max_epochs=3).partial_fit(X, y, eval_set=(Xt, yt))
    _assert_same_progress(alone.progress_, survivor.progress_, RTOL["float64"])


@pytest.mark.slow  # joblib worker processes: CI's slow step
def test_joblib_and_stacked_give_the_same_results(small_digits):
    X, y, Xt, yt = small_digits
    base = _mlp("float64", max_epochs=10)
    grid = {"lr": [1e-3, 1e-2]}
    stacked = Sweep(base, grid, seeds=2).fit(X, y, eval_set=(Xt, yt))
    joblib = Sweep(base, grid, seeds=2, vectorize=False, n_jobs=2).fit(X, y, eval_set=(Xt, yt))
    assert set(joblib.results_["executor"]) == {"joblib"}
    columns = ["final_train_loss", "final_test_loss", "final_test_acc", "n_steps"]
    pd.testing.assert_frame_equal(stacked.results_[columns], joblib.results_[columns],
                                  rtol=RTOL["float64"])
    assert len(stacked.progress_) == len(joblib.progress_)
    assert {"run", "seed", "lr"} <= set(stacked.progress_.columns)


def test_auto_falls_back_to_joblib_with_a_note(small_digits):
    X, y, Xt, yt = small_digits
    sweep = Sweep(_mlp(optimizer="sgd", max_epochs=2, measures=None), seeds=2).fit(X, y)
    assert set(sweep.results_["executor"]) == {"joblib"}
    assert sweep.results_["note"].str.contains("optimizer='sgd'").all()
    with pytest.raises(ValueError, match="vectorize=True, but these runs cannot be stacked"):
        Sweep(GrokLSTMClassifier(max_epochs=1), seeds=2, vectorize=True).fit(["a b", "b a"], [0, 1])


def test_memory_trains_only_the_missing_runs(small_digits, tmp_path):
    X, y, Xt, yt = small_digits
    base = _mlp(max_epochs=4, measures=None)
    first = Sweep(base, {"weight_decay": [0.0, 0.1]}, seeds=2, memory=tmp_path).fit(X, y, eval_set=(Xt, yt))
    assert first.n_trained_ == 4
    grown = Sweep(base, {"weight_decay": [0.0, 0.1, 1.0]}, seeds=2, memory=tmp_path)
    grown.fit(X, y, eval_set=(Xt, yt))
    assert grown.n_trained_ == 2
    assert grown.results_["executor"].tolist() == ["memory"] * 4 + ["stacked"] * 2
    columns = ["final_train_loss", "final_test_acc", "n_steps"]
    pd.testing.assert_frame_equal(grown.results_[columns].iloc[:4], first.results_[columns])


def test_summary_is_the_t_interval_over_seeds(small_digits):
    X, y, Xt, yt = small_digits
    sweep = Sweep(_mlp(max_epochs=3, measures=None), {"lr": [1e-3, 1e-2]}, seeds=3).fit(X, y)
    table = sweep.summary(columns=["final_train_loss"])
    for lr in (1e-3, 1e-2):
        values = sweep.results_.loc[sweep.results_["lr"] == lr, "final_train_loss"].to_numpy()
        # Student's t with 2 degrees of freedom has the closed-form quantile (2q − 1) / sqrt(2q(1 − q))
        q = 0.975
        half = (2 * q - 1) / np.sqrt(2 * q * (1 - q)) * values.std(ddof=1) / np.sqrt(3)
        row = table.loc[lr, "final_train_loss"]
        np.testing.assert_allclose([row["mean"], row["low"], row["high"]],
                                   [values.mean(), values.mean() - half, values.mean() + half], rtol=1e-12)
        assert row["n"] == 3
    fig = sweep.plot("train_loss")
    assert len(fig.axes[0].lines) == 2


def test_seed_interval_leaves_out_missing_values():
    stat = seed_interval([1.0, None, 3.0, float("nan")])
    assert stat["n"] == 2 and stat["n_missing"] == 2 and stat["mean"] == 2.0
    # one degree of freedom: Cauchy, quantile tan(π (q − 1/2)); s = sqrt(2), n = 2
    assert stat["high"] - 2.0 == pytest.approx(np.tan(np.pi * 0.475) * np.sqrt(2) / np.sqrt(2), rel=1e-12)
    assert np.isnan(seed_interval([5.0])["low"])


def test_seed_interval_is_clipped_to_the_range_given():
    values = [1.0, 1.0, 0.9]
    free, clipped = seed_interval(values), seed_interval(values, bounds=(0.0, 1.0))
    assert free["high"] > 1.0 and clipped["high"] == 1.0  # an accuracy cannot exceed 1
    assert clipped["low"] == free["low"] and clipped["mean"] == free["mean"]
    with pytest.raises(ValueError, match=r"bounds must be \(low, high\)"):
        seed_interval(values, bounds=(1.0, 0.0))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"param_grid": {"random_state": [0, 1]}}, ValueError, "pass the seeds as seeds="),
    ({"param_grid": {"bogus": [1]}}, ValueError, r"names \['bogus'\]"),
    ({"seeds": 0}, ValueError, "seeds must be a positive int"),
    ({"seeds": "3"}, TypeError, "seeds must be"),
    ({"seeds": [0, 0]}, ValueError, "must not repeat"),
    ({"vectorize": "yes"}, ValueError, "vectorize must be"),
    ({"max_stacked": 0}, ValueError, "max_stacked must be"),
    ({"memory": 3}, TypeError, "memory must be"),
])
def test_bad_sweep_parameters_are_named(small_digits, kwargs, error, match):
    X, y, _, _ = small_digits
    with pytest.raises(error, match=match):
        Sweep(_mlp(max_epochs=1), **kwargs).fit(X, y)


def test_fit_stacked_on_the_modular_mlp_minibatched():
    """Token inputs gathered per run (batched under vmap) skip only the value-range check."""
    X, y, Xt, yt = make_modular(p=11, train_fraction=0.6, random_state=0)
    base = ModularMLPClassifier(p=11, hidden_layer_sizes=(16,), batch_size=20, max_epochs=5, measures=None)
    runs = [clone(base).set_params(random_state=s) for s in (0, 1)]
    for single, stacked in zip([clone(r).fit(X, y, eval_set=(Xt, yt)) for r in runs],
                               fit_stacked(runs, X, y, (Xt, yt)), strict=True):
        _assert_same_progress(single.progress_, stacked.progress_, RTOL["float32"])
    with pytest.raises(ValueError, match=r"X must hold integers in \[0, p\)"):
        ModularMLPClassifier(p=11).fit(X + 11, y)
