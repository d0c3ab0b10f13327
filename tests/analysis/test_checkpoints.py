"""progress_from_checkpoints: the progress_ table of a checkpoint series equals what the run recorded."""

from __future__ import annotations

from functools import partial

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

from grokkit import ModularTransformer
from grokkit.analysis import load_kept_checkpoints, progress_from_checkpoints
from grokkit.datasets import make_modular
from grokkit.models.hooked_format import state_dict_from_hooked, state_dict_to_hooked
from grokkit.plotting import plot_fourier_progress, plot_fourier_spectrum_heatmap

matplotlib.use("Agg")

MEASURES = ("weight_norm", "embedding_fourier_norms", "n_key_frequencies", "fourier_gini", "restricted_loss",
            "excluded_loss", "activation_sparsity", "commutativity")


@pytest.fixture(scope="module")
def run(one_torch_thread, tmp_path_factory):
    X, y, X_test, y_test = make_modular(p=11, train_fraction=0.5, random_state=0)
    directory = tmp_path_factory.mktemp("run")
    est = ModularTransformer(p=11, d_model=16, n_heads=2, d_mlp=32, max_epochs=25, lr=3e-3, measures=MEASURES,
                             keep_checkpoints=True, checkpoint_dir=directory, random_state=0)
    est.fit(X, y, eval_set=(X_test, y_test))
    return est, (X, y), (X_test, y_test), directory


def assert_same_progress(rebuilt: pd.DataFrame, recorded: pd.DataFrame, dtype: torch.dtype) -> None:
    assert list(rebuilt.columns) == list(recorded.columns)
    np.testing.assert_array_equal(rebuilt["epoch"], recorded["epoch"])
    np.testing.assert_array_equal(rebuilt["step"], recorded["step"])
    eps = torch.finfo(dtype).eps
    for column in recorded.columns:
        scale = max(1.0, float(np.abs(recorded[column]).max()))
        np.testing.assert_allclose(rebuilt[column], recorded[column], rtol=0, atol=4 * eps * scale,
                                   err_msg=column)


def test_rebuilt_from_kept_checkpoints_equals_recorded(run):
    est, train, test, _ = run
    rebuilt = progress_from_checkpoints(est, est.checkpoints_, *train, eval_set=test)
    assert len(rebuilt) == len(est.progress_) > 5
    assert {"restricted_loss", "excluded_loss", "n_key_frequencies", "embedding_fourier_norms/1"} \
        <= set(rebuilt.columns)
    assert_same_progress(rebuilt, est.progress_, torch.float32)


def test_rebuilt_from_checkpoint_dir_equals_recorded(run):
    est, train, test, directory = run
    kept = load_kept_checkpoints(directory)
    assert sorted(kept) == sorted(est.checkpoints_)
    rebuilt = progress_from_checkpoints(est, directory, *train, eval_set=test)
    assert_same_progress(rebuilt, est.progress_, torch.float32)


def test_foreign_hooked_series_with_convert(run):
    """The run's checkpoints as TransformerLens state dicts, read by an estimator made from one of them."""
    est, train, test, _ = run
    series = []
    for epoch in sorted(est.checkpoints_):
        series.append((epoch, state_dict_to_hooked(est.module_at(epoch))))
    config = est.to_hooked_transformer()[1]
    foreign = ModularTransformer.from_hooked_transformer(series[-1][1], config, measures=MEASURES)
    rebuilt = progress_from_checkpoints(foreign, series, *train, eval_set=test,
                                        convert=partial(state_dict_from_hooked, config=config))
    assert_same_progress(rebuilt, est.progress_, torch.float32)


def test_fourier_plots_draw_the_rebuilt_progress(run):
    est, train, test, _ = run
    rebuilt = progress_from_checkpoints(est, est.checkpoints_, *train, eval_set=test)
    figure = plot_fourier_progress(rebuilt)
    lines = {line.get_label(): line for line in figure.axes[0].get_lines()}
    np.testing.assert_array_equal(lines["restricted loss"].get_ydata(), rebuilt["restricted_loss"])
    np.testing.assert_array_equal(lines["test loss"].get_ydata(), rebuilt["test_loss"])
    heatmap = plot_fourier_spectrum_heatmap(rebuilt)
    assert heatmap.axes
    import matplotlib.pyplot as plt

    plt.close("all")


def test_steps_and_parameters(run):
    est, train, test, _ = run
    before = {k: v.clone() for k, v in est.module_.state_dict().items()}
    epochs = sorted(est.checkpoints_)[:2]
    rebuilt = progress_from_checkpoints(est, {e: est.checkpoints_[e] for e in epochs}, *train,
                                        steps={e: 10 * e for e in epochs}, measures=["weight_norm"])
    assert rebuilt["step"].tolist() == [10 * e for e in epochs]
    assert list(rebuilt.columns[:5]) == ["epoch", "step", "train_loss", "train_acc", "weight_norm"]
    assert "test_loss" not in rebuilt and "restricted_loss" not in rebuilt
    for key, value in est.module_.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_bad_checkpoints_are_refused(run, tmp_path):
    est, train, _, _ = run
    state = est.checkpoints_[0]
    with pytest.raises(ValueError, match="checkpoints is empty"):
        progress_from_checkpoints(est, {}, *train)
    with pytest.raises(ValueError, match="distinct"):
        progress_from_checkpoints(est, [(1, state), (1, state)], *train)
    with pytest.raises(TypeError, match=r"\(epoch, state_dict\) pairs"):
        progress_from_checkpoints(est, [state], *train)
    with pytest.raises(ValueError, match="integers >= 0"):
        progress_from_checkpoints(est, [(-1, state)], *train)
    with pytest.raises(ValueError, match=r"steps has no entry for the checkpoint epochs \[0\]"):
        progress_from_checkpoints(est, {0: state}, *train, steps={1: 1})
    with pytest.raises(ValueError, match="no kept/ folder"):
        progress_from_checkpoints(est, tmp_path, *train)
    with pytest.raises(TypeError, match="convert must be callable"):
        progress_from_checkpoints(est, {0: state}, *train, convert=3)
