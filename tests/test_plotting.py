import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from grokkit.plotting import measure_families, plot_progress  # noqa: E402


@pytest.fixture
def progress():
    return pd.DataFrame({
        "epoch": [0, 1, 10, 100], "step": [0, 2, 20, 200], "train_loss": [1, 0.5, 0.1, 0.01],
        "train_acc": [0.1, 0.5, 1.0, 1.0], "test_loss": [1, 0.9, 0.8, 0.1],
        "test_acc": [0.1, 0.2, 0.3, 0.9], "weight_norm": [10, 9, 8, 5],
        "weight_norm/fc1": [7, 6, 5, 3], "activation_sparsity/act1": [0.1, 0.2, 0.3, 0.4],
    })


def test_figure_has_accuracy_loss_and_one_axis_per_measure(progress):
    assert measure_families(progress) == {
        "weight_norm": ["weight_norm", "weight_norm/fc1"],
        "activation_sparsity": ["activation_sparsity/act1"],
    }
    fig = plot_progress(progress, per_layer=True)
    axes = fig.axes
    assert len(axes) == 4
    assert axes[-1].get_xscale() == "log" and axes[1].get_yscale() == "log"
    assert [line.get_label() for line in axes[0].lines] == ["train", "test"]
    assert len(axes[2].lines) == 2  # total and fc1
    assert axes[0].lines[0].get_xdata()[0] == 1.0  # step 0 drawn at half the first step


def test_unknown_measure_and_axis(progress):
    with pytest.raises(ValueError, match="measures"):
        plot_progress(progress, measures=["weight_entropy"])
    with pytest.raises(ValueError, match="x must be"):
        plot_progress(progress, x="time")
