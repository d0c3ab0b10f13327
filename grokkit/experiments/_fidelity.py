"""The fidelity table: every experiment's headline numbers over seeds beside the paper's reference.

``grokkit fidelity --size quick --seeds 5 --out runs/fidelity`` reproduces each
experiment into ``OUT/NAME`` (continuing an interrupted one, reusing a finished
one of the same size and seeds) and tabulates every finished reproduction in
``OUT``, whatever its size (each row says it), into ``OUT/fidelity.csv`` (one
row per headline number) and ``OUT/fidelity.md`` (one section per experiment:
its paper and figure, size and setting, wall time, the numbers as mean and
95 % t-interval over seeds, the paper's reference numbers and the verdict).
``--docs docs/fidelity.rst`` also writes the documentation page: one row per
panel with the paper's claim, grokkit's numbers, the data and the verdict
(reproduced / partly / not reproduced, and why), read from the headline by the
experiment's ``verdict`` (:mod:`grokkit.experiments._verdict`).
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from grokkit.experiments._kinds import kind_of
from grokkit.experiments._seeds import reaggregate
from grokkit.experiments._verdict import _is_interval
from grokkit.progress import GENERALISED

#: The columns of ``fidelity.csv``.
COLUMNS = ("experiment", "paper", "figure", "size", "seeds", "seconds", "verdict", "quantity", "kind", "mean",
           "low", "high", "n", "n_missing", "value")


def flatten(headline: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``(dotted key, value)`` for every leaf of a (nested) headline; an interval dict is one leaf."""
    leaves: list[tuple[str, Any]] = []
    for key, value in headline.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and not _is_interval(value):
            leaves.extend(flatten(value, f"{name}."))
        else:
            leaves.append((name, value))
    return leaves


def _number(value: Any) -> float:
    if value is None or isinstance(value, bool) or not isinstance(value, numbers.Real):
        return math.nan
    return float(value)


def judged(summary: Mapping[str, Any]) -> Any:
    """The experiment's :class:`~grokkit.experiments._verdict.Verdict` of a summary, or ``None``.

    ``None`` when the experiment is not (or no longer) registered or has no
    ``verdict``.
    """
    from grokkit.experiments import available_experiments, get_experiment

    name = summary.get("experiment")
    if name not in available_experiments():
        return None
    rule = get_experiment(name).verdict
    return None if rule is None else rule(summary.get("headline", {}))


def declared_kinds(name: Any) -> Mapping[str, str]:
    """The registered experiment ``name``'s :attr:`~grokkit.experiments.Experiment.kinds` ({} if none)."""
    from grokkit.experiments import available_experiments, get_experiment

    return get_experiment(name).kinds if name in available_experiments() else {}


def rows_of(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``fidelity.csv`` rows of one reproduction's ``summary.json``, each number with its kind."""
    seeds = summary.get("seeds", [summary.get("seed", 0)])
    ruling = judged(summary)
    kinds = declared_kinds(summary["experiment"])
    common = {"experiment": summary["experiment"], "paper": summary.get("paper", ""),
              "figure": summary.get("figure", ""), "size": summary.get("size", ""), "seeds": len(seeds),
              "seconds": summary.get("seconds", math.nan), "verdict": "" if ruling is None else ruling.label}
    rows = []
    for quantity, value in flatten(summary.get("headline", {})):
        row = {**common, "quantity": quantity, "kind": kind_of(kinds, quantity) or ""}
        if _is_interval(value):
            row.update(mean=_number(value["mean"]), low=_number(value["low"]), high=_number(value["high"]),
                       n=int(value["n"]), n_missing=int(value.get("n_missing", 0)), value="")
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            row.update(mean=float(value), low=math.nan, high=math.nan, n=1, n_missing=0, value="")
        else:
            row.update(mean=math.nan, low=math.nan, high=math.nan, n=0, n_missing=0,
                       value=json.dumps(value, default=str))
        rows.append(row)
    return rows


def _cell(row: Mapping[str, Any]) -> str:
    if row["value"]:
        return str(row["value"])
    if row["n"] == 0:
        return f"never ({row['n_missing']} of {row['n_missing']} seeds)"
    text = f"{row['mean']:.4g}"
    if math.isfinite(row["low"]):
        text += f" [{row['low']:.4g}, {row['high']:.4g}]"
    if row["n_missing"]:
        text += f" ({row['n_missing']} seeds never)"
    return text


def markdown(summaries: Sequence[Mapping[str, Any]]) -> str:
    """``fidelity.md``: a section per experiment with its numbers and the paper's reference."""
    lines = ["# grokkit fidelity table", "",
             "Headline numbers as mean [95 % t-interval] over seeds; the paper's reference below each.", ""]
    for summary in summaries:
        rows = rows_of(summary)
        seeds = rows[0]["seeds"] if rows else len(summary.get("seeds", [0]))
        lines += [f"## {summary['experiment']}: {summary.get('figure', '')}", "",
                  f"*{summary.get('paper', '')}*. Size **{summary.get('size', '')}** "
                  f"({summary.get('setting', '')}), {seeds} seeds, {summary.get('seconds', '?')} s; data: "
                  f"{summary.get('dataset', 'see the setting')}.", "",
                  "| quantity | grokkit | kind |", "|---|---|---|"]
        lines += [f"| {row['quantity']} | {_cell(row)} | {row['kind']} |" for row in rows]
        reference = json.dumps(summary.get("reference", {}), ensure_ascii=False, default=str)
        lines += ["", f"Paper: {reference}", ""]
        ruling = judged(summary)
        if ruling is not None:
            lines += [f"Verdict: **{ruling.label}**: {ruling.why}.", ""]
    return "\n".join(lines) + "\n"


def _rst_text(text: Any) -> str:
    """Plain text for an RST table cell: markup characters escaped, one line."""
    text = " ".join(str(text).split())
    for char in ("\\", "*", "`", "|"):
        text = text.replace(char, "\\" + char)
    return text.replace("_ ", "\\_ ").rstrip("_")


def _short_paper(paper: str) -> str:
    """A paper's short name for a table cell: its title word for Omnigrok, else its first author."""
    return "Omnigrok" if "Omnigrok" in paper else paper.split(",")[0].split("(")[0].strip()


def rst(summaries: Sequence[Mapping[str, Any]], missing: Sequence[str] = (), command: str = "") -> str:
    """``docs/fidelity.rst``: a row per panel with the claim, grokkit's numbers, the data and the verdict."""
    from grokkit.experiments import get_experiment

    title = "Fidelity: every panel against its paper"
    lines = [title, "=" * len(title), "",
             f"Generated by ``{command or 'grokkit fidelity --no-run --docs docs/fidelity.rst'}`` from the "
             "reproductions' ``summary.json`` files: do not edit by hand. Each row is one "
             "``grokkit reproduce NAME`` at the size and number of seeds it names; numbers are the mean "
             "[95 % Student-t interval] over seeds, clipped to the range the quantity can take (an "
             "accuracy to [0, 1], a correlation to [-1, 1], a step to >= 0) (\"never\": the level was not "
             "reached within the budget). The verdict is the experiment's ``verdict`` rule read on those "
             "numbers: "
             "**reproduced** (every part of the claim holds), **partly** (some part holds) or "
             "**not reproduced**; the reason quotes what it read. The *Data* column names the stand-in "
             "where the paper's data cannot be had offline. " + GENERALISED
             + " (Getting started: *Memorised and generalised*)", "",
             ".. list-table::", "   :header-rows: 1", "   :widths: 14 22 42 12 10", "",
             "   * - Panel", "     - The paper's claim", "     - grokkit: size, seeds, the numbers read",
             "     - Data", "     - Verdict"]
    for summary in summaries:
        name = summary["experiment"]
        seeds = len(summary.get("seeds", [summary.get("seed", 0)]))
        ruling = judged(summary)
        claim = get_experiment(name).title
        seconds = summary.get("seconds")
        took = f", {seconds / 60:.0f} min" if isinstance(seconds, numbers.Real) and seconds >= 60 else ""
        numbers_read = "—" if ruling is None else ruling.why
        lines += [f"   * - {_rst_text(_short_paper(summary.get('paper', '')))} "
                  f"{_rst_text(summary.get('figure', ''))}: ``{name}``",
                  f"     - {_rst_text(claim)} ({_rst_text(summary.get('paper', ''))})",
                  f"     - **{summary.get('size', '?')}**, {seeds} seed{'s' if seeds != 1 else ''}{took}: "
                  f"{_rst_text(numbers_read)}",
                  f"     - {_rst_text(summary.get('dataset', 'see the setting'))}",
                  f"     - **{'—' if ruling is None else ruling.label}**"]
    if missing:
        lines += ["", "Not yet reproduced into this table: " + ", ".join(f"``{m}``" for m in missing) + "."]
    return "\n".join(lines) + "\n"


def fidelity(out: str | Path, names: Sequence[str] | None = None, size: str = "quick", seeds: int = 5,
             seed: int = 0, device: str = "cpu", verbose: int = 1, run: bool = True,
             docs: str | Path | None = None) -> pd.DataFrame:
    """Reproduce every experiment (or ``names``) at ``size`` over ``seeds`` seeds; write the table.

    An experiment whose ``OUT/NAME/summary.json`` already has this size and
    these seeds is read, not re-run; an interrupted one is resumed. With
    ``run=False`` nothing is trained. The table holds every finished
    reproduction in ``out`` (of ``names`` when given), whatever its size and
    seeds; ``docs`` is a path for the RST page (:func:`rst`). Returns the rows
    of ``fidelity.csv``.
    """
    from grokkit._validation import check_number, check_output_dir
    from grokkit.experiments import _check_size, available_experiments, get_experiment, reproduce

    _check_size(size)
    check_number("seeds", seeds, low=1, integer=True)
    out = check_output_dir("out", out)
    chosen = names is not None
    names = available_experiments() if names is None else [get_experiment(n).name for n in names]
    wanted = list(range(seed, seed + int(seeds)))
    for name in names:
        done = _finished(out, name)
        if run and not (done is not None and done.get("size") == size
                        and done.get("seeds", [done.get("seed")]) == wanted):
            if verbose:
                print(f"== {name} ({size}, {seeds} seeds)", flush=True)
            reproduce(name, size=size, out=out / name, seed=seed, device=device, verbose=verbose,
                      resume=(out / name).exists(), seeds=int(seeds))
    shown = names if chosen else available_experiments()
    summaries = [s for s in (_finished(out, name) for name in shown) if s is not None]
    out.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame([row for s in summaries for row in rows_of(s)], columns=list(COLUMNS))
    table.to_csv(out / "fidelity.csv", index=False)
    (out / "fidelity.md").write_text(markdown(summaries), encoding="utf-8")
    if docs is not None:
        missing = [name for name in shown if _finished(out, name) is None]
        command = f"grokkit fidelity --no-run --out {out} --docs {docs}"
        Path(docs).write_text(rst(summaries, missing, command), encoding="utf-8")
    return table


def _finished(out: Path, name: str) -> dict[str, Any] | None:
    """``OUT/NAME/summary.json`` of a finished reproduction, or ``None``."""
    path = out / name / "summary.json"
    if not path.exists():
        return None
    summary = json.loads(path.read_text(encoding="utf-8"))
    # intervals from each seed's values by today's rule (clipped to the range of the declared kind)
    summary["headline"] = reaggregate(summary.get("headline", {}), declared_kinds(name))
    return summary
