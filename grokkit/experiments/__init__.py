"""Reproductions of the papers' figures, one module per experiment.

Each module in this package defines a module-level ``EXPERIMENT``
(:class:`Experiment`): its name, the paper and figure it reproduces, the
paper's reference numbers and a ``run(size, seed, device, verbose)`` function
returning an :class:`ExperimentResult`. The registry finds the modules by
itself, so adding an experiment is adding one module::

    # grokkit/experiments/my_experiment.py
    from grokkit.experiments import Experiment, ExperimentResult

    def run(size, seed, device, verbose):
        ...
        return ExperimentResult(runs={"alpha8": clf.progress_}, summary={...}, figures={...})

    EXPERIMENT = Experiment(name="my_experiment", title="...", paper="...", figure="...",
                            reference={...}, run=run)

:func:`reproduce` runs one and writes ``progress.csv`` (the ``progress_`` of
every run, with a ``run`` column), ``summary.json`` (headline numbers, each
run's :func:`~grokkit.analysis.grokking_summary`, the paper's reference values
and how the run was made) and one PNG per figure. ``grokkit reproduce NAME``
(:mod:`grokkit.cli`) is the command-line form.

Sizes: ``"full"`` is the paper's setting, ``"quick"`` a reduced version that
runs in under two minutes on two CPU cores, ``"smoke"`` a few-second version
for the tests (it checks the plumbing, not the science).
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from grokkit._interrupts import multi_run
from grokkit._validation import check_bool, check_number, check_output_dir, resolve_device
from grokkit.experiments._kinds import check_kinds

#: Run sizes, smallest first.
SIZES = ("smoke", "quick", "full")


@dataclass
class ExperimentResult:
    """What an experiment's ``run`` returns.

    Attributes
    ----------
    runs : dict of str to DataFrame
        The ``progress_`` of every training run, by run label.
    summary : dict
        Headline numbers (JSON-serialisable); :func:`reproduce` adds the
        reference values and run metadata.
    figures : dict of str to matplotlib Figure
        Saved as ``<key>.png``.
    tables : dict of str to DataFrame
        Extra tables saved as ``<key>.csv`` (e.g. O-information per epoch).
    """

    runs: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    """One reproduced figure: its description and the function that runs it.

    Attributes
    ----------
    name : str
        Command-line name, saying what the experiment shows.
    title : str
        One line for ``grokkit list``.
    paper : str
        Short citation, e.g. ``"Liu, Michaud & Tegmark (Omnigrok)"``.
    figure : str
        The paper's figure(s) reproduced, e.g. ``"Fig. 7b"``.
    reference : dict
        The paper's (or its public code's) numbers to compare with.
    run : callable
        ``run(size, seed, device, verbose) -> ExperimentResult``.
    settings : dict
        Human-readable description of each size's setting.
    verdict : callable, optional
        ``verdict(headline) -> Verdict``: the headline (one seed's, or the
        ``--seeds`` intervals) read against the paper's claim, for the fidelity
        table (:mod:`grokkit.experiments._verdict`).
    kinds : dict
        The kind of every headline number: pattern of its dotted key ->
        ``"accuracy"``, ``"fraction"``, ``"correlation"``, ``"step"``,
        ``"count"``, ``"ratio"``, ``"nonnegative"`` or ``"real"``, the first
        matching pattern winning (:mod:`grokkit.experiments._kinds`). ``--seeds``
        clips each interval to its kind's range; the fidelity table shows it.
    sweeps_seeds : bool, default=False
        Whether ``run`` trains several seeds itself, in one :class:`grokkit.Sweep`:
        it then takes ``seeds`` (a list, passed by ``--seeds N``) and
        ``vectorize``, and returns every seed's runs and its headline over them.
        Otherwise ``--seeds N`` runs it once per seed (its ``fit_run`` calls
        then train all seeds in one sweep, see :func:`reproduce`).
    """

    name: str
    title: str
    paper: str
    figure: str
    reference: Mapping[str, Any]
    run: Callable[..., ExperimentResult]
    settings: Mapping[str, str] = field(default_factory=dict)
    verdict: Callable[[Mapping[str, Any]], Any] | None = None
    kinds: Mapping[str, str] = field(default_factory=dict)
    sweeps_seeds: bool = False

    def __post_init__(self) -> None:
        check_kinds(self.kinds)
        check_bool("sweeps_seeds", self.sweeps_seeds)


def _discover() -> dict[str, Experiment]:
    experiments = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        experiment = getattr(module, "EXPERIMENT", None)
        if isinstance(experiment, Experiment):
            experiments[experiment.name] = experiment
    return dict(sorted(experiments.items()))


_REGISTRY: dict[str, Experiment] | None = None


def available_experiments() -> list[str]:
    """Names of every registered experiment, sorted."""
    return list(_registry())


def _registry() -> dict[str, Experiment]:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _discover()
    return _REGISTRY


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid names.
    """
    registry = _registry()
    if name not in registry:
        raise ValueError(f"Unknown experiment {name!r}. Valid names: {', '.join(registry)}.")
    return registry[name]


def _check_size(size: str) -> None:
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(map(repr, SIZES))}; got {size!r}.")


def _jsonable(value: Any) -> Any:
    """Numpy scalars and tuples as plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


class ResultsNotMoved(OSError):
    """A finished run's files could not be moved into ``out``; they are kept in ``staging``."""

    def __init__(self, message: str, staging: Path) -> None:
        super().__init__(message)
        self.staging = staging


def check_reproduction(name: str, size: str, out: str | Path | None, seed: int, device: str
                       ) -> tuple[Experiment, Path]:
    """Validate every argument of :func:`reproduce` before any training; return the experiment and
    the output folder (``runs/<name>`` by default)."""
    experiment = get_experiment(name)
    _check_size(size)
    check_number("seed", seed, low=0, high=2**32 - 1, integer=True)
    resolve_device(device)
    out = check_output_dir("out", Path("runs") / name if out is None else out)
    return experiment, out


def _staging_dir(out: Path) -> Path:
    """A fresh hidden folder next to the files' final place: inside ``out`` when it exists (its
    parent may not be writable), else in its parent (created), so the final move is a rename."""
    home = out if out.is_dir() else out.parent
    home.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name or 'run'}.partial-", dir=home))


def _move_into_place(staging: Path, out: Path) -> None:
    """Rename ``staging`` to ``out``, or, when ``out`` is an existing folder, each file into it."""
    try:
        if not out.exists():
            os.replace(staging, out)
            return
        for file in sorted(staging.iterdir()):
            os.replace(file, out / file.name)
        staging.rmdir()
    except OSError as exc:
        raise ResultsNotMoved(f"the finished run could not be moved into {str(out)!r} ({exc}); its files "
                              f"are kept in {str(staging)!r}.", staging) from exc


_SECONDS = "seconds.json"


def _earlier_seconds(out: Path) -> float:
    """Seconds spent by earlier calls on ``out`` (interrupted or finished), from ``out/checkpoints``."""
    try:
        return float(json.loads((out / "checkpoints" / _SECONDS).read_text())["seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def _record_seconds(out: Path, seconds: float) -> None:
    """Keep the time spent on ``out`` so far beside its checkpoints, for a ``resume`` call to add to.

    A run killed outright (SIGKILL, power loss) records nothing: its resumed
    call then counts from its own start.
    """
    try:
        folder = out / "checkpoints"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / _SECONDS).write_text(json.dumps({"seconds": round(seconds, 1)}))
    except OSError as exc:
        warnings.warn(f"could not record the time spent on {str(out)!r} ({exc}); a resumed call will "
                      "count its seconds from its own start.", RuntimeWarning, stacklevel=3)


def reproduce(
    name: str,
    size: str = "full",
    out: str | Path | None = None,
    seed: int = 0,
    device: str = "cpu",
    verbose: int = 1,
    resume: bool = False,
    seeds: int = 1,
    vectorize: Any = "auto",
) -> dict[str, Any]:
    """Run one experiment and write its CSV, JSON and PNG files.

    Every argument, ``out`` included, is checked before any training
    (:func:`check_reproduction`). The files are written into a hidden staging
    folder next to ``out`` and moved into place when all are written, so an
    output error never loses a finished run: it raises
    :class:`ResultsNotMoved` naming the folder that holds the files.

    Parameters
    ----------
    name : str
        An experiment name (see :func:`available_experiments`).
    size : {"full", "quick", "smoke"}, default="full"
        ``"full"`` is the paper's setting; ``"quick"`` runs in under two minutes
        on two CPU cores; ``"smoke"`` in seconds (for tests).
    out : path, optional
        Output folder (created; files of an existing one are replaced); default ``runs/<name>``.
    seed : int, default=0
        Seeds the data split and every estimator (0 … 2³² − 1).
    device : str, default="cpu"
        Passed to every estimator (``"cuda"``, ``"auto"``...).
    verbose : int, default=1
        ``1`` shows a tqdm bar per training run and prints what is written.
    resume : bool, default=False
        Continue an interrupted call with the same ``out``: every training run
        writes a resumable checkpoint under ``out/checkpoints/<run>`` at each
        recorded epoch (and ``out/progress.csv`` gains each run as it
        finishes), so a resumed call skips the finished runs and continues the
        interrupted one where its last checkpoint left it; its results equal an
        uninterrupted call's, and ``summary.json``'s ``seconds`` adds the time
        of the interrupted calls. Without it, old checkpoints in ``out`` are cleared.
    seeds : int, default=1
        Run the experiment with seeds ``seed, seed + 1, ...`` (Clauw et al. use
        5). ``summary.json``'s headline then gives each number as its mean, 95 %
        t-interval and per-seed values (:func:`grokkit.sweep.seed_interval`),
        ``progress.csv`` has a ``seed`` column, and ``seed_bands.png`` draws
        every run's accuracy with seed bands; the other figures are seed
        ``seed``'s. An experiment declared with ``sweeps_seeds=True`` trains
        them together in its own :class:`grokkit.Sweep`; the others run once per
        seed, every run they fit trained at all seeds in one sweep.
    vectorize : "auto", bool, default="auto"
        Passed to the :class:`grokkit.Sweep` of every run over seeds (to ``run``
        of an experiment with ``sweeps_seeds=True``): stacked runs or joblib.

    Returns
    -------
    dict
        The content of ``summary.json``.
    """
    experiment, out = check_reproduction(name, size, out, seed, device)
    check_bool("resume", resume)
    check_number("seeds", seeds, low=1, integer=True)
    if vectorize not in ("auto", True, False):
        raise ValueError(f"vectorize must be 'auto', True or False; got {vectorize!r}.")
    staging = _staging_dir(out)
    earlier = _earlier_seconds(out) if resume else 0.0
    start = time.perf_counter()
    def hint() -> str:
        return (f"reproduce({name!r}) interrupted; the runs so far are checkpointed in {out}/checkpoints. "
                f"Continue with the same arguments and resume=True: reproduce({name!r}, size={size!r}, "
                f"out={str(out)!r}, seed={seed}, seeds={seeds}, resume=True).")

    try:
        with multi_run(hint):
            result = _run_seeds(experiment, size, out, seed, int(seeds), device, verbose, resume, vectorize)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _record_seconds(out, earlier + time.perf_counter() - start)
        raise
    seconds = earlier + time.perf_counter() - start
    _record_seconds(out, seconds)
    try:
        summary = _write_result(experiment, result, staging, size=size, seed=seed, device=device,
                                seconds=seconds)
    except OSError as exc:
        raise ResultsNotMoved(f"writing the finished run failed ({exc}); the files written so far are "
                              f"in {str(staging)!r}.", staging) from exc
    _move_into_place(staging, out)
    if verbose:
        print(f"wrote {', '.join(str(out / f) for f in summary['files'])}")
    return summary


def _run_seeds(experiment: Experiment, size: str, out: Path, seed: int, seeds: int, device: str,
               verbose: int, resume: bool, vectorize: Any) -> ExperimentResult:
    """The experiment at one seed, or at ``seeds`` seeds with its numbers aggregated over them."""
    from grokkit.experiments import _seeds
    from grokkit.experiments._common import checkpointed_runs, over_seeds, seed_executors

    kwargs = {"vectorize": vectorize} if experiment.sweeps_seeds else {}
    listed = list(range(seed, seed + seeds))
    if seeds == 1 or experiment.sweeps_seeds:
        if seeds > 1:
            kwargs["seeds"] = listed
        with checkpointed_runs(out, resume):
            result = experiment.run(size=size, seed=seed, device=device, verbose=verbose, **kwargs)
        result.summary.setdefault("seeds", listed)
        if seeds > 1:  # its own intervals, clipped to the declared kinds as the framework's are
            result.summary["headline"] = _seeds.reaggregate(result.summary.get("headline", {}),
                                                            experiment.kinds)
        return result
    # Every run the experiment fits (through _common.fit_run) trains at all seeds in one grokkit.Sweep
    # on the first seed's data; the other seeds' calls return their runs from it.
    memory = out / "checkpoints" / "sweep"
    if memory.exists() and not resume:
        shutil.rmtree(memory)
    results = {}
    with over_seeds(listed, vectorize=vectorize, memory=memory) as context:
        for s in listed:
            if verbose:
                print(f"== seed {s} ({s - seed + 1} of {seeds})", flush=True)
            context.current = s
            results[s] = experiment.run(size=size, seed=s, device=device, verbose=verbose, **kwargs)
        executors = seed_executors()
    first = results[seed]
    runs = _seeds.combine_runs({s: r.runs for s, r in results.items()})
    summary = dict(first.summary)
    summary["headline"] = _seeds.aggregate_headline([r.summary.get("headline", {}) for r in results.values()],
                                                    experiment.kinds)
    summary["seeds"] = listed
    summary["data_seed"] = seed
    summary["executors"] = executors
    summary["per_seed"] = {str(s): r.summary for s, r in results.items()}
    figures = {**first.figures, "seed_bands": _seeds.seed_band_figure(runs, experiment.name)}
    return ExperimentResult(runs=runs, summary=summary, figures=figures, tables=first.tables)


def _write_result(experiment: Experiment, result: ExperimentResult, folder: Path, *, size: str,
                  seed: int, device: str, seconds: float) -> dict[str, Any]:
    frames = [frame.assign(run=label)[["run", *frame.columns]] for label, frame in result.runs.items()]
    pd.concat(frames, ignore_index=True).to_csv(folder / "progress.csv", index=False)
    files = ["progress.csv", "summary.json"]
    for key, table in result.tables.items():
        table.to_csv(folder / f"{key}.csv")
        files.append(f"{key}.csv")
    import matplotlib.pyplot as plt

    for key, figure in result.figures.items():
        figure.savefig(folder / f"{key}.png", dpi=110)
        plt.close(figure)
        files.append(f"{key}.png")
    summary = {
        "experiment": experiment.name,
        "paper": experiment.paper,
        "figure": experiment.figure,
        "size": size,
        "setting": experiment.settings.get(size, ""),
        "seed": seed,
        "device": device,
        "seconds": round(seconds, 1),
        **result.summary,
        "reference": dict(experiment.reference),
        "files": files,
    }
    summary = _jsonable(summary)
    if experiment.verdict is not None:
        # the verdict read when the run finished; the fidelity page re-reads it with the current rule
        label, why = experiment.verdict(summary.get("headline", {}))
        summary["verdict"] = {"label": label, "why": why}
    (folder / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


__all__ = ["SIZES", "Experiment", "ExperimentResult", "ResultsNotMoved", "available_experiments",
           "check_reproduction", "get_experiment", "reproduce"]
