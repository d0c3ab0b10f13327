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


@pytest.fixture
def fourier_progress():
    rows = {"epoch": [0, 10, 100, 1000], "train_loss": [4.0, 1.0, 0.01, 0.001],
            "test_loss": [4.0, 9.0, 8.0, 0.01], "restricted_loss": [4.0, 3.9, 1.0, 0.01],
            "excluded_loss": [4.0, 1.0, 2.0, 4.0], "fourier_gini": [0.1, 0.1, 0.3, 0.8],
            "n_key_frequencies": [20, 20, 8, 5]}
    for k in range(4):
        rows[f"embedding_fourier_norms/{k}"] = [1.0, 1.0, 2.0 * k, 3.0 * k]
    return pd.DataFrame(rows)


def test_fourier_progress_shades_phases_and_adds_oinformation(fourier_progress):
    from grokkit.plotting import plot_fourier_progress

    oinfo = pd.DataFrame({"oinfo_min": [-1.0, -3.0], "oinfo_max": [2.0, 1.0]},
                         index=pd.Index([10, 1000], name="epoch"))
    phases = {"memorisation": (0.5, 10), "circuit formation": (10, 100), "cleanup": (100, 1000)}
    fig = plot_fourier_progress(fourier_progress, phases, oinfo=oinfo)
    losses = fig.axes[0]
    assert [line.get_label() for line in losses.lines] == [
        "train loss", "test loss", "restricted loss", "excluded loss"]
    assert losses.get_yscale() == "log" and losses.get_xscale() == "log"
    assert len(losses.patches) == 3  # one shaded span per phase
    assert any("O-information" in ax.get_ylabel() for ax in fig.axes)


def test_spectrum_heatmap_and_bars(fourier_progress):
    from grokkit.plotting import plot_fourier_spectrum, plot_fourier_spectrum_heatmap

    fig = plot_fourier_spectrum_heatmap(fourier_progress)
    mesh = fig.axes[0].collections[0]
    assert mesh.get_array().shape == (4, 4)  # frequencies x recorded epochs
    bars = plot_fourier_spectrum({"0": 0.1, "1": 3.0, "2": 0.2, "3": 2.5}, key_frequencies=[1, 3])
    colours = [tuple(p.get_facecolor()) for p in bars.axes[0].patches]
    assert colours[1] == colours[3] != colours[0]
    with pytest.raises(ValueError, match="embedding_fourier_norms"):
        plot_fourier_spectrum_heatmap(fourier_progress.drop(
            columns=[c for c in fourier_progress if c.startswith("embedding")]))


def test_seed_curves_interpolate_and_carry_the_last_value_forward():
    import numpy as np

    from grokkit.plotting import seed_curves

    early_stop = pd.DataFrame({"step": [0, 10, 20], "test_acc": [0.0, 0.5, 1.0]})
    longer = pd.DataFrame({"step": [0, 20, 40], "test_acc": [0.0, 0.2, 0.6]})
    grid, values = seed_curves({0: early_stop, 1: longer})
    assert grid.tolist() == [0, 10, 20, 40]
    assert values[0].tolist() == [0.0, 0.5, 1.0, 1.0]      # stopped at 20, held its value
    np.testing.assert_array_equal(values[1], [0.0, 0.1, 0.2, 0.6])
    with pytest.raises(ValueError, match="test_acc"):
        seed_curves({0: early_stop.drop(columns="test_acc")})


def test_seed_bands_one_panel_per_group_with_the_reference_in_each():
    from grokkit.plotting import plot_seed_bands

    def run(scale):
        return {s: pd.DataFrame({"step": [0, 10, 100], "test_acc": [0.0, scale * s / 3, scale]})
                for s in (1, 2)}

    runs = {"plain": run(0.5), "a": run(1.0), "b": run(0.9)}
    fig = plot_seed_bands(runs, {"first": ["plain", "a"], "second": ["b"]}, reference="plain",
                          labels={"a": "control a"})
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["first", "second"]
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in axes]
    assert legends == [["plain (2 seeds)", "control a (2 seeds)"], ["plain (2 seeds)", "b (2 seeds)"]]
    assert axes[0].get_xscale() == "log" and axes[0].get_ylim() == (-0.02, 1.02)
    with pytest.raises(ValueError, match="missing"):
        plot_seed_bands(runs, {"first": ["missing"]})


def test_seed_band_is_the_t_interval_of_the_mean_in_closed_form():
    import numpy as np

    from grokkit.plotting import seed_band

    values = np.array([[0.0, 1.0, np.nan], [2.0, 3.0, 5.0], [4.0, 5.0, np.nan]])
    mean, low, high, n = seed_band(values, 0.95)
    # t quantile for 2 degrees of freedom in closed form: t = (2q − 1) / sqrt(2q(1 − q)), q = 0.975
    half = 0.95 / np.sqrt(2 * 0.975 * 0.025) * 2.0 / np.sqrt(3)
    eps = 10 * np.finfo(float).eps
    np.testing.assert_allclose(mean, [2.0, 3.0, 5.0], rtol=eps)
    np.testing.assert_allclose(high[:2] - mean[:2], [half, half], rtol=1e3 * eps)
    assert n.tolist() == [3, 3, 1] and low[2] == high[2] == 5.0  # one finite seed: no band


def test_t_bands_and_grouped_bands_draw_the_seed_interval():
    import numpy as np

    from grokkit.plotting import plot_grouped_seed_bands, plot_seed_bands, seed_band

    runs = {"a": {s: pd.DataFrame({"step": [1, 10], "test_acc": [0.1 * s, 0.2 * s]}) for s in (1, 2, 3)}}
    fig = plot_seed_bands(runs, {"only": ["a"]}, band="t")
    band = fig.axes[0].collections[0].get_paths()[0].vertices[:, 1]
    _, low, high, _ = seed_band(np.array([[0.1, 0.2], [0.2, 0.4], [0.3, 0.6]]))
    assert np.isclose(band.min(), low.min()) and np.isclose(band.max(), high.max())
    with pytest.raises(ValueError, match="band"):
        plot_seed_bands(runs, {"only": ["a"]}, band="sd")
    long = pd.concat([f.assign(seed=s, run="a") for s, f in runs["a"].items()])
    fig = plot_grouped_seed_bands(long, y="test_acc", by=["run"], unit="seed")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["a (n=3)"]
    with pytest.raises(ValueError, match="'lr'"):
        plot_grouped_seed_bands(long, y="test_acc", by=["lr"], unit="seed")


@pytest.fixture
def landscape():
    """Two training sizes × three α; the α = 4 points did not converge (and one at N = 10 too)."""
    rows = [{"alpha": a, "weight_norm": 2.0 * a, "n_train": n, "train_loss": 0.1 / a, "test_loss": 0.1 * a,
             "train_acc": 0.9, "test_acc": 0.8, "diverged": False,
             "converged": not (a == 4.0 or (n == 10 and a == 0.5))}
            for n in (10, 20) for a in (0.5, 1.0, 4.0)]
    return pd.DataFrame(rows)


def test_lu_circles_the_points_that_did_not_converge(landscape):
    import numpy as np

    from grokkit.plotting import plot_lu

    fig = plot_lu(landscape.query("n_train == 20"))
    ax = fig.axes[0]
    flagged = [c for c in ax.collections if c.get_label() == "not converged"]
    assert len(flagged) == 1  # one legend entry...
    late = np.vstack([c.get_offsets() for c in ax.collections])  # ...over the train and the test point
    np.testing.assert_allclose(late, [[4.0, 0.1 / 4.0], [4.0, 0.1 * 4.0]])
    assert "not converged" in [t.get_text() for t in ax.get_legend().get_texts()]
    quiet = plot_lu(landscape.query("n_train == 20").drop(columns="converged"))
    assert not quiet.axes[0].collections


def test_heatmap_hatches_the_cells_that_did_not_converge(landscape):
    from matplotlib.patches import Rectangle

    from grokkit.plotting import plot_landscape_heatmap

    fig = plot_landscape_heatmap(landscape, "test_loss", title="digits")
    ax = fig.axes[0]
    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch() == "///"]
    late = {(4.0, 10), (4.0, 20), (0.5, 10)}
    points = {(a, n) for a in (0.5, 1.0, 4.0) for n in (10, 20)}
    inside = [{(a, n) for a, n in points if p.get_x() < a < p.get_x() + p.get_width()
               and p.get_y() < n < p.get_y() + p.get_height()} for p in hatched]
    assert len(hatched) == 3 and all(len(cell) == 1 for cell in inside) and set().union(*inside) == late
    assert ax.get_title() == "digits\nhatched: 3 points not converged"
    plain = plot_landscape_heatmap(landscape.drop(columns="converged"), "test_loss")
    assert not plain.axes[0].patches


def test_lu_draws_one_coloured_pair_per_group_of_any_column(landscape):
    from grokkit.plotting import plot_lu

    fig = plot_lu(landscape.rename(columns={"n_train": "messiness"}), by="messiness", symbol="m")
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["train, m=10", "test, m=10", "not converged", "train, m=20", "test, m=20"]
    lines = ax.get_lines()
    assert len(lines) == 4 and lines[0].get_color() is not None
    assert tuple(lines[0].get_color()) == tuple(lines[1].get_color())  # one colour per group...
    assert tuple(lines[0].get_color()) != tuple(lines[2].get_color())  # ...different between groups


def _inside_canvas(fig, artist):
    """Whether ``artist`` is drawn entirely inside ``fig``'s canvas by a plain ``savefig``."""
    import io

    fig.savefig(io.BytesIO(), format="png")  # no bbox_inches: what the user's plain savefig writes
    box = artist.get_window_extent(fig.canvas.get_renderer())
    canvas = fig.bbox
    return box.x0 >= canvas.x0 and box.y0 >= canvas.y0 and box.x1 <= canvas.x1 and box.y1 <= canvas.y1


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def test_sweep_style_band_plot_keeps_its_x_label_on_a_plain_savefig():
    """Sweep.plot draws through plot_grouped_seed_bands; its x-label must not be clipped."""
    import numpy as np

    from grokkit.plotting import plot_grouped_seed_bands

    steps = np.array([0, 1, 10, 100, 1000])
    frame = pd.concat([pd.DataFrame({"run": r, "step": steps, "weight_decay": wd,
                                     "test_acc": np.linspace(0, 1, 5) ** (1 + r)})
                       for r, wd in enumerate([0.1, 0.1, 1.0, 1.0])], ignore_index=True)
    fig = plot_grouped_seed_bands(frame, "test_acc", by=["weight_decay"])
    assert fig.get_layout_engine() is not None  # constrained layout, not a fixed margin
    ax = fig.axes[0]
    assert _inside_canvas(fig, ax.xaxis.label) and _inside_canvas(fig, ax.yaxis.label)


def test_progress_figure_keeps_its_labels_on_a_plain_savefig(progress):
    fig = plot_progress(progress, per_layer=True)
    assert _inside_canvas(fig, fig.axes[-1].xaxis.label)
    assert all(_inside_canvas(fig, ax.yaxis.label) for ax in fig.axes)


@pytest.mark.parametrize("sizes", [(30, 60, 120, 240, 480), (30, 60, 120, 240, 480, 800),
                                   (100, 200, 400, 1_000, 2_000, 4_000, 8_000)])
def test_fig3e_tick_labels_do_not_collide(sizes):
    import numpy as np

    from grokkit.experiments.critical_data_size import TEST_LEVELS, critical_data_size, plot_time_vs_size

    steps = [None] + [1.0 / (3e-4 * np.log(n / (sizes[0] * 1.5))) for n in sizes[1:]]
    times = pd.DataFrame({"n_train": sizes, **{f"steps_to_test_{lv:g}": steps for lv in TEST_LEVELS}})
    estimates = {f"{lv:g}": critical_data_size(sizes, steps) for lv in TEST_LEVELS}
    fig = plot_time_vs_size(times, estimates, max_steps=4000)
    import io

    fig.savefig(io.BytesIO(), format="png")
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    labels = [t for t in ax.get_xticklabels(minor=False) + ax.get_xticklabels(minor=True)
              if t.get_visible() and t.get_text()]
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"{n:g}" for n in sizes]
    boxes = sorted((t.get_window_extent(renderer) for t in labels), key=lambda b: b.x0)
    assert all(a.x1 <= b.x0 for a, b in zip(boxes, boxes[1:], strict=False))  # no two labels overlap
