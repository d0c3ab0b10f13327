"""Figures from ``progress_`` tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from grokkit.progress import BASE_COLUMNS
from grokkit.stats import loglog_slope, seed_band, seed_curves  # the seed statistics live in grokkit.stats


def pyplot() -> Any:
    """matplotlib.pyplot, switched to the Agg backend when no display can show a window.

    The one pyplot getter of grokkit (the figures here and the experiments' own).
    An Agg or inline backend is kept; any other backend is kept only when
    ``$DISPLAY`` is set.
    """
    try:
        import matplotlib

        if matplotlib.get_backend().lower() not in {"agg", "module://matplotlib_inline.backend_inline"}:
            import os

            if not os.environ.get("DISPLAY"):
                matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise ImportError("grokkit.plotting needs matplotlib: pip install matplotlib") from exc
    return plt


def measure_families(progress: pd.DataFrame) -> dict[str, list[str]]:
    """Measure columns grouped by measure (``weight_norm`` -> its total and per-layer columns)."""
    families: dict[str, list[str]] = {}
    for column in progress.columns:
        if column in BASE_COLUMNS:
            continue
        families.setdefault(column.split("/")[0], []).append(column)
    return families


def plot_progress(
    progress: pd.DataFrame,
    measures: Sequence[str] | None = None,
    x: str = "step",
    title: str | None = None,
    per_layer: bool = False,
) -> Any:
    """The grokking figure: accuracies over log steps, losses, then each measure below.

    Parameters
    ----------
    progress : DataFrame
        An estimator's ``progress_``.
    measures : list of str, optional
        Measure names to draw (default: every measure in ``progress``).
    x : {"step", "epoch"}, default="step"
        The horizontal axis, on a log scale as in every grokking paper; the
        row at step 0 is drawn at the first positive value's half.
    per_layer : bool, default=False
        Also draw the per-layer columns (``name/layer``) of each measure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    if x not in ("step", "epoch"):
        raise ValueError(f"x must be 'step' or 'epoch'; got {x!r}.")
    families = measure_families(progress)
    names = list(families) if measures is None else list(measures)
    unknown = [n for n in names if n not in families]
    if unknown:
        raise ValueError(f"measures {unknown} are not in progress; it has {list(families)}.")
    xs = progress[x].astype(float).to_numpy().copy()
    positive = xs[xs > 0]
    if len(positive):
        xs[xs <= 0] = positive.min() / 2
    rows = 2 + len(names)
    fig, axes = plt.subplots(rows, 1, figsize=(7, 2.2 * rows + 0.6), sharex=True, squeeze=False,
                             layout="constrained")
    axes = axes[:, 0]
    ax = axes[0]
    ax.plot(xs, progress["train_acc"], label="train", color="tab:blue")
    if "test_acc" in progress:
        ax.plot(xs, progress["test_acc"], label="test", color="tab:red")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="lower right")
    ax = axes[1]
    ax.plot(xs, progress["train_loss"], label="train", color="tab:blue")
    if "test_loss" in progress:
        ax.plot(xs, progress["test_loss"], label="test", color="tab:red")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.legend(loc="upper right")
    for ax, name in zip(axes[2:], names, strict=True):
        columns = families[name] if per_layer else [c for c in families[name] if "/" not in c] \
            or families[name]
        for column in columns:
            ax.plot(xs, progress[column], label=column)
        ax.set_ylabel(name.replace("_", " "), fontsize=9)
        if len(columns) > 1:
            ax.legend(fontsize=7, loc="best")
    axes[-1].set_xscale("log")
    axes[-1].set_xlabel(f"{x} (log scale)")
    if title:
        fig.suptitle(title)
    return fig


# ---------------------------------------------------------------- Omnigrok landscapes and timing
def plot_lu(landscape: pd.DataFrame, x: str = "alpha", loss: bool = True, title: str | None = None,
            by: str = "n_train", symbol: str = "N") -> Any:
    """The LU figure (Omnigrok Fig. 1b, 2a): reduced train and test loss against weight norm.

    Parameters
    ----------
    landscape : DataFrame
        ``ReducedLandscape.landscape_`` (or any table with ``alpha``,
        ``weight_norm``, ``train_loss``, ``test_loss`` and optionally
        ``n_train`` and ``converged``); one pair of curves per training size.
        Points with ``converged`` False are circled in red ("not
        converged"): their values are those of an unfinished run.
    x : {"alpha", "weight_norm"}, default="alpha"
        Horizontal axis (log scale): α = w/w₀ or the norm w itself.
    loss : bool, default=True
        Plot losses (log scale); ``False`` plots the reduced accuracies.
    by : str, default="n_train"
        The column whose values get one pair of curves each (a training size, a messiness m, a
        train fraction f); with several values each gets its own colour, train dashed and test solid.
    symbol : str, default="N"
        How the legend names ``by`` (``"m"``, ``"f"``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    if x not in ("alpha", "weight_norm"):
        raise ValueError(f"x must be 'alpha' or 'weight_norm'; got {x!r}.")
    kind = "loss" if loss else "acc"
    import numpy as np

    fig, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    groups = list(landscape.groupby(by)) if by in landscape else [(None, landscape)]
    many = len(groups) > 1
    palette = plt.cm.viridis(np.linspace(0, 0.9, len(groups)))
    flagged = False
    for (n, table), shade in zip(groups, palette, strict=True):
        table = table.sort_values(x)
        suffix = f", {symbol}={n:g}" if many else ""
        train_color, test_color = (shade, shade) if many else ("tab:orange", "tab:gray")
        ax.plot(table[x], table[f"train_{kind}"], "o--" if many else "o-", color=train_color,
                ms=3 if many else 6, label=f"train{suffix}", alpha=0.9)
        columns = [f"train_{kind}"]
        if table[f"test_{kind}"].notna().any():
            ax.plot(table[x], table[f"test_{kind}"], "s-", color=test_color, ms=3 if many else 6,
                    label=f"test{suffix}", alpha=0.9)
            columns.append(f"test_{kind}")
        late = table[~table["converged"].astype(bool)] if "converged" in table else table.iloc[:0]
        for column in columns if len(late) else ():
            ax.scatter(late[x], late[column], s=150, facecolors="none", edgecolors="tab:red",
                       linewidths=1.6, zorder=3, label=None if flagged else "not converged")
            flagged = True
    ax.set_xscale("log")
    if loss:
        ax.set_yscale("log")
    ax.set_xlabel("α = w/w₀" if x == "alpha" else "weight norm w")
    ax.set_ylabel(f"reduced {'loss' if loss else 'accuracy'}")
    ax.legend(fontsize=6 if many else 8, ncol=2 if many else 1)
    if title:
        ax.set_title(title, fontsize=9 if many else None)
    return fig


def plot_landscape_heatmap(landscape: pd.DataFrame, value: str = "test_loss", x: str = "alpha",
                           y: str = "n_train", log_value: bool = True, ax: Any = None,
                           title: str | None = None) -> Any:
    """A reduced landscape as a heat map (Omnigrok Fig. 3a–b, 4a–b over (w, N); Fig. 6a–b over (w, m)).

    Parameters
    ----------
    landscape : DataFrame
        A tidy table with columns ``x``, ``y`` and ``value``, e.g.
        ``ReducedLandscape.landscape_`` or ``MessinessLandscape.landscape_``.
        With a ``converged`` column, cells holding a point that did not
        converge are hatched (and the title says so).
    value : str, default="test_loss"
        The coloured column; an accuracy column is drawn as error (1 − acc),
        as in Omnigrok's figures.
    x, y : str, default="alpha", "n_train"
        Axis columns; ``alpha``, ``weight_norm`` and ``n_train`` are drawn on
        log scales.
    log_value : bool, default=True
        Colour by log₁₀ of the value (losses span decades).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import numpy as np

    plt = pyplot()
    for column in (x, y, value):
        if column not in landscape.columns:
            raise ValueError(f"{column!r} is not a column of the landscape; "
                             f"it has {list(landscape.columns)}.")
    table = landscape.pivot_table(index=y, columns=x, values=value, aggfunc="mean").sort_index()
    table = table[sorted(table.columns)]
    label = value
    data = table.to_numpy(dtype=float)
    if value.endswith("_acc"):
        data, label = 1.0 - data, value.replace("_acc", " error")
    if log_value:
        data = np.log10(np.clip(data, 1e-12, None))
        label = f"log10 {label}"
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 4.2), layout="constrained")
    else:
        fig = ax.figure
    xs, ys = table.columns.to_numpy(dtype=float), table.index.to_numpy(dtype=float)
    mesh = ax.pcolormesh(_edges(xs, x), _edges(ys, y), data, shading="flat", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label=label)
    n_late = _hatch_unconverged(ax, landscape, table, x, y) if "converged" in landscape else 0
    axes = ((ax.xaxis, ax.set_xscale, x, xs), (ax.yaxis, ax.set_yscale, y, ys))
    for axis, set_scale, name, centres in axes:
        if name in ("alpha", "weight_norm", "n_train"):
            set_scale("log")
            _label_grid_axis(axis, centres)
    ax.set_xlabel({"alpha": "α = w/w₀", "weight_norm": "weight norm w"}.get(x, x))
    ax.set_ylabel({"n_train": "training size N", "messiness": "messiness m"}.get(y, y))
    if title or n_late:
        note = f"hatched: {n_late} point{'s' * (n_late != 1)} not converged" if n_late else ""
        ax.set_title("\n".join(part for part in (title, note) if part))
    return fig


def _label_grid_axis(axis: Any, centres: Any, most: int = 6) -> None:
    """Tick a log axis at the grid's own values (at most ``most`` of them, evenly thinned), written
    plainly (``0.316``, ``4.5``, ``3000``): matplotlib's log ticks label the minor ticks of a narrow
    range as ``2×10⁰ 3×10⁰ …``, which run into each other."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    step = -(-len(centres) // most)
    axis.set_major_locator(FixedLocator(list(centres[::step])))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}" if v < 1000 else f"{v:.0f}"))
    axis.set_minor_locator(NullLocator())


def _hatch_unconverged(ax: Any, landscape: pd.DataFrame, table: pd.DataFrame, x: str, y: str) -> int:
    """Hatch the heat-map cells that hold a point with ``converged`` False; return how many."""
    import numpy as np
    from matplotlib.patches import Rectangle

    late = landscape.assign(_late=(~landscape["converged"].astype(bool)).astype(float)).pivot_table(
        index=y, columns=x, values="_late", aggfunc="max").reindex(index=table.index, columns=table.columns)
    x_edges = _edges(table.columns.to_numpy(dtype=float), x)
    y_edges = _edges(table.index.to_numpy(dtype=float), y)
    cells = np.argwhere(np.nan_to_num(late.to_numpy(dtype=float)) > 0)
    for row, col in cells:
        ax.add_patch(Rectangle((x_edges[col], y_edges[row]), x_edges[col + 1] - x_edges[col],
                               y_edges[row + 1] - y_edges[row], fill=False, hatch="///",
                               edgecolor="tab:red", linewidth=0.0, label="not converged"))
    return len(cells)


def _edges(centers: Any, name: str) -> Any:
    """Cell edges around sorted centres (geometric midpoints on log axes)."""
    import numpy as np

    c = np.asarray(centers, dtype=float)
    log = name in ("alpha", "weight_norm", "n_train") and np.all(c > 0)
    v = np.log(c) if log else c
    if len(v) == 1:
        mids = np.array([v[0] - 0.5, v[0] + 0.5])
    else:
        inner = (v[1:] + v[:-1]) / 2
        mids = np.concatenate([[2 * v[0] - inner[0]], inner, [2 * v[-1] - inner[-1]]])
    return np.exp(mids) if log else mids


def plot_time_to_generalize(times: pd.DataFrame, title: str | None = None) -> Any:
    """Steps to the train and test accuracy levels against weight decay, log–log (Omnigrok Fig. 2c, 10a–b).

    Parameters
    ----------
    times : DataFrame
        ``TimeToGeneralize.times_`` (``weight_decay``, ``train_step``, ``test_step``).
        The fitted lines of log t against log γ are drawn with their slopes.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import numpy as np

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 4), layout="constrained")
    gamma = times["weight_decay"].to_numpy(dtype=float)
    for column, color, name in (("train_step", "tab:blue", "train"), ("test_step", "tab:red", "test")):
        steps = pd.to_numeric(times[column], errors="coerce").to_numpy(dtype=float)
        shown = np.isfinite(steps) & (steps > 0) & (gamma > 0)
        if not shown.any():
            continue
        ax.plot(gamma[shown], steps[shown], "o", color=color)
        slope, intercept = loglog_slope(gamma, steps)
        if np.isfinite(slope):
            grid = np.geomspace(gamma[shown].min(), gamma[shown].max(), 50)
            ax.plot(grid, 10 ** (intercept + slope * np.log10(grid)), "-", color=color,
                    label=f"{name}: slope {slope:.2f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("weight decay γ")
    ax.set_ylabel("steps to accuracy level")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def plot_grouped_seed_bands(progress: pd.DataFrame, y: str, x: str = "step", by: Sequence[str] = (),
                            unit: str = "run", ax: Any = None, confidence: float = 0.95,
                            bounds: tuple[float, float] | None = None) -> Any:
    """One line per group of ``by`` in a long frame: the mean over its curves with a t-interval band.

    ``progress`` is a long frame in which ``unit`` names one curve (a
    :class:`~grokkit.Sweep`'s ``progress_`` and its ``run`` column; an
    experiment's runs over seeds and ``seed``). Curves are aligned on ``x`` by
    :func:`seed_curves` (a run stopped by a rule holds its last value) and
    banded by :func:`seed_band`. ``bounds`` clips the band to the range the
    quantity can take (default ``(0, 1)`` for ``*_acc`` columns): a t-interval
    over two or three seeds is wide. Returns the figure.
    """
    import numpy as np

    if bounds is None and y.endswith("_acc"):
        bounds = (0.0, 1.0)
    for column in (y, x, unit, *by):
        if column not in progress.columns:
            raise ValueError(f"progress has no {column!r} column; columns are {list(progress.columns)}.")
    plt = pyplot()
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
    groups = progress.groupby(list(by), sort=False) if by else [((), progress)]
    for key, group in groups:
        xs, values = seed_curves({u: f.sort_values(x) for u, f in group.groupby(unit, sort=False)}, y, x)
        mean, low, high, n = seed_band(values, confidence)
        xs = np.where(xs > 0, xs, xs[xs > 0].min() / 2 if (xs > 0).any() else 1.0)
        key = key if isinstance(key, tuple) else (key,)
        named = list(by) == ["run"]  # an experiment's run labels already say what they are
        label = str(key[0]) if named else ", ".join(f"{b}={k}" for b, k in zip(by, key, strict=True)) or y
        line, = ax.plot(xs, mean, label=f"{label} (n={int(n.max())})")
        if bounds is not None:
            low, high = np.clip(low, *bounds), np.clip(high, *bounds)
        ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xscale("log")
    ax.set_xlabel(f"{x} (log scale)")
    ax.set_ylabel(y.replace("_", " "))
    ax.legend(fontsize=7, loc="best")
    return ax.figure if fig is None else fig


def plot_seed_bands(
    runs: Mapping[str, Mapping[Any, pd.DataFrame]],
    panels: Mapping[str, Sequence[str]],
    column: str = "test_acc",
    x: str = "step",
    reference: str | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    band: str = "range",
    confidence: float = 0.95,
) -> Any:
    """One panel per group of settings: the seeds' mean of ``column`` and a band over seeds.

    The band runs from the lowest to the highest seed (``band="range"``) or is
    the Student-t ``confidence`` interval of the mean (``band="t"``,
    :func:`seed_band`).

    Parameters
    ----------
    runs : mapping of setting -> (mapping of seed -> progress_)
        Several seeds of each setting (:func:`seed_curves` aligns them).
    panels : mapping of panel title -> settings
        Which settings share a panel.
    column : str, default="test_acc"
    x : str, default="step"
        Drawn on a log axis (non-positive values are moved to half the smallest positive one).
    reference : str, optional
        A setting drawn in every panel as a grey dashed line (e.g. plain training).
    labels : mapping, optional
        Legend text per setting (default: the setting's key).
    band : {"range", "t"}, default="range"
    confidence : float, default=0.95
        The t-interval's level (``band="t"``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import numpy as np

    if band not in ("range", "t"):
        raise ValueError(f"band must be 'range' or 't'; got {band!r}.")
    unknown = sorted({name for names in panels.values() for name in names} - set(runs))
    if reference is not None and reference not in runs:
        unknown.append(reference)
    if unknown:
        raise ValueError(f"panels name settings without runs: {unknown}; runs has {sorted(runs)}.")
    plt = pyplot()
    labels = dict(labels or {})
    n = len(panels)
    columns = min(n, 2)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.4 * rows + 0.5), sharex=True,
                             sharey=True, squeeze=False, layout="constrained")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    def draw(ax: Any, name: str, color: Any, dashed: bool = False) -> None:
        grid, values = seed_curves(runs[name], column, x)
        positive = grid[grid > 0]
        grid = np.where(grid > 0, grid, positive.min() / 2 if len(positive) else 1.0)
        text = f"{labels.get(name, name)} ({len(values)} seeds)"
        mean, low, high, _ = seed_band(values, confidence)
        if band == "range":
            low, high = values.min(axis=0), values.max(axis=0)
        ax.plot(grid, mean, color=color, ls="--" if dashed else "-", lw=1.2 if dashed else 1.6, label=text)
        if not dashed:
            ax.fill_between(grid, low, high, color=color, alpha=0.2, lw=0)

    for ax, (panel, names) in zip(axes.flat, panels.items(), strict=False):
        if reference is not None and reference not in names:
            draw(ax, reference, "0.45", dashed=True)
        for name, color in zip(names, colors, strict=False):
            draw(ax, name, color)
        ax.set_title(panel, fontsize=10)
        ax.set_xscale("log")
        if column.endswith("_acc"):
            ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=7, loc="upper left")
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(column.replace("_", " "))
    for ax in axes[-1, :]:
        ax.set_xlabel(f"{x} (log scale)")
    if title:
        fig.suptitle(title)
    return fig


#: Colours of the three training phases of Nanda et al. (memorisation, circuit formation, cleanup).
PHASE_COLORS = {"memorisation": "tab:blue", "circuit formation": "tab:orange", "cleanup": "tab:green"}


def shade_phases(ax: Any, phases: dict[str, tuple[float, float]], label: bool = True) -> None:
    """Shade each phase ``name -> (start, end)`` (x units) on ``ax``, in :data:`PHASE_COLORS`."""
    for name, (start, end) in phases.items():
        if start is None or end is None or not end > start:
            continue
        ax.axvspan(start, end, color=PHASE_COLORS.get(name, "0.8"), alpha=0.12, lw=0,
                   label=name if label else None)


def plot_fourier_progress(
    progress: pd.DataFrame,
    phases: dict[str, tuple[float, float]] | None = None,
    restricted: str = "restricted_loss",
    excluded: str = "excluded_loss",
    oinfo: pd.DataFrame | None = None,
    x: str = "epoch",
    title: str | None = None,
) -> Any:
    """Nanda et al.'s Fig. 7: train, test, restricted and excluded loss over log ``x``, phases shaded.

    A second panel shows the embedding's Fourier sparsity (``fourier_gini``)
    and number of key frequencies when recorded; a third, when ``oinfo`` (one
    row per epoch, columns ``oinfo_min`` and ``oinfo_max`` of
    :class:`~grokkit.analysis.OInformationAnalyzer`, index the epoch) is
    given, the O-information of the hidden neurons over the same axis.
    """
    plt = pyplot()
    sparsity = [c for c in ("fourier_gini", "n_key_frequencies") if c in progress]
    rows = 1 + bool(sparsity) + (oinfo is not None)
    fig, axes = plt.subplots(rows, 1, figsize=(7.5, 3.0 * rows + 0.6), sharex=True, squeeze=False,
                             layout="constrained")
    axes = axes[:, 0]
    xs = progress[x].astype(float).clip(lower=0.5)
    ax = axes[0]
    for column, style in (("train_loss", "--"), ("test_loss", "-"), (restricted, "-"), (excluded, "-")):
        if column in progress:
            ax.plot(xs, progress[column], ls=style, label=column.replace("_", " "))
    ax.set_yscale("log")
    ax.set_ylabel("cross-entropy (nats)")
    for axis in axes:
        shade_phases(axis, phases or {}, label=axis is ax)
    ax.legend(fontsize=7, loc="lower left", ncol=2)
    panel = 1
    if sparsity:
        left = axes[panel]
        if "fourier_gini" in progress:
            left.plot(xs, progress["fourier_gini"], color="tab:purple", label="Gini of W_E's Fourier norms")
            left.set_ylabel("Gini")
        if "n_key_frequencies" in progress:
            right = left.twinx()
            right.step(xs, progress["n_key_frequencies"], where="post", color="tab:gray",
                       label="key frequencies")
            right.set_ylabel("key frequencies")
            right.set_yscale("log")
            right.legend(fontsize=7, loc="center right")
        left.legend(fontsize=7, loc="center left")
        panel += 1
    if oinfo is not None:
        ox = oinfo.index.to_numpy(dtype=float).clip(min=0.5)
        axes[panel].plot(ox, oinfo["oinfo_min"], marker=".", color="tab:red",
                         label="min Ω (synergy where < 0)")
        axes[panel].plot(ox, oinfo["oinfo_max"], marker=".", color="tab:blue",
                         label="max Ω (redundancy where > 0)")
        axes[panel].axhline(0, color="0.5", lw=0.6)
        axes[panel].set_ylabel("O-information (bits)")
        axes[panel].legend(fontsize=7, loc="best")
    axes[-1].set_xscale("log")
    axes[-1].set_xlabel(f"{x} (log scale)")
    fig.suptitle(title or "Restricted and excluded loss")
    return fig


def _spectrum_columns(progress: pd.DataFrame, prefix: str) -> list[str]:
    columns = [c for c in progress if c.startswith(f"{prefix}/")]
    if not columns:
        raise ValueError(
            f"progress has no {prefix}/k columns; record the measure {prefix!r} (measures=[{prefix!r}])."
        )
    return sorted(columns, key=lambda c: int(c.split("/")[1]))


def plot_fourier_spectrum_heatmap(
    progress: pd.DataFrame, prefix: str = "embedding_fourier_norms", x: str = "epoch",
    phases: dict[str, tuple[float, float]] | None = None, title: str | None = None,
) -> Any:
    """The embedding's Fourier spectrum over training: frequency × ``x`` (log), colour = norm.

    Reads the ``embedding_fourier_norms/k`` columns; each column (recorded
    epoch) is drawn up to the next one. Phase boundaries are drawn as lines.
    """
    import numpy as np

    plt = pyplot()
    columns = _spectrum_columns(progress, prefix)
    frequencies = np.array([int(c.split("/")[1]) for c in columns])
    values = progress[columns].to_numpy(dtype=float).T
    xs = progress[x].astype(float).clip(lower=0.5).to_numpy()
    edges = np.concatenate([xs, [xs[-1] * 1.05]])
    fig, ax = plt.subplots(figsize=(7.5, 4.2), layout="constrained")
    mesh = ax.pcolormesh(edges, np.concatenate([frequencies - 0.5, [frequencies[-1] + 0.5]]), values,
                         cmap="viridis", shading="flat")
    fig.colorbar(mesh, ax=ax, label="norm of W_E in frequency k")
    for name, (start, _end) in (phases or {}).items():
        if start is not None and start > 0.5:
            ax.axvline(start, color="white", ls="--", lw=0.8)
            ax.text(start, frequencies[-1], f" {name}", color="white", fontsize=7, va="top")
    ax.set_xscale("log")
    ax.set_xlabel(f"{x} (log scale)")
    ax.set_ylabel("frequency k")
    ax.set_title(title or "Embedding Fourier spectrum over training")
    return fig


def plot_fourier_spectrum(
    norms: dict[str, float] | pd.Series, key_frequencies: Sequence[int] = (), title: str | None = None,
) -> Any:
    """Bars of the norm of the embedding in each frequency (Nanda et al. Fig. 3a), key frequencies marked."""
    plt = pyplot()
    items = sorted(((int(str(k).split("/")[-1]), float(v)) for k, v in dict(norms).items()))
    keys = set(int(k) for k in key_frequencies)
    fig, ax = plt.subplots(figsize=(7.5, 3.4), layout="constrained")
    ax.bar([k for k, _ in items], [v for _, v in items],
           color=["tab:red" if k in keys else "tab:gray" for k, _ in items])
    for k, v in items:
        if k in keys:
            ax.annotate(str(k), (k, v), ha="center", va="bottom", fontsize=8, color="tab:red")
    ax.set_xlabel("frequency k (0 = constant)")
    ax.set_ylabel("norm of W_E in frequency k")
    ax.set_title(title or f"Final embedding spectrum; key frequencies (red): {sorted(keys)}")
    return fig
