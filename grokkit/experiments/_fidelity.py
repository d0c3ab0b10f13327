"""The fidelity table: every experiment's headline numbers over seeds beside the paper's reference.

``grokkit fidelity --size quick --seeds 5 --out runs/fidelity`` reproduces each
experiment into ``OUT/NAME`` (continuing an interrupted one, reusing a finished
one of the same size and seeds) and writes ``OUT/fidelity.csv`` (one row per
headline number) and ``OUT/fidelity.md`` (one section per experiment: its
paper and figure, size and setting, wall time, the numbers as mean and 95 %
t-interval over seeds, and the paper's reference numbers).
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

#: The columns of ``fidelity.csv``.
COLUMNS = ("experiment", "paper", "figure", "size", "seeds", "seconds", "quantity", "mean", "low", "high",
           "n", "n_missing", "value")


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


def _is_interval(value: Any) -> bool:
    return isinstance(value, Mapping) and {"mean", "low", "high", "n"} <= set(value)


def _number(value: Any) -> float:
    if value is None or isinstance(value, bool) or not isinstance(value, numbers.Real):
        return math.nan
    return float(value)


def rows_of(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``fidelity.csv`` rows of one reproduction's ``summary.json``."""
    seeds = summary.get("seeds", [summary.get("seed", 0)])
    common = {"experiment": summary["experiment"], "paper": summary.get("paper", ""),
              "figure": summary.get("figure", ""), "size": summary.get("size", ""), "seeds": len(seeds),
              "seconds": summary.get("seconds", math.nan)}
    rows = []
    for quantity, value in flatten(summary.get("headline", {})):
        row = {**common, "quantity": quantity}
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
                  "| quantity | grokkit |", "|---|---|"]
        lines += [f"| {row['quantity']} | {_cell(row)} |" for row in rows]
        reference = json.dumps(summary.get("reference", {}), ensure_ascii=False, default=str)
        lines += ["", f"Paper: {reference}", ""]
    return "\n".join(lines) + "\n"


def fidelity(out: str | Path, names: Sequence[str] | None = None, size: str = "quick", seeds: int = 5,
             seed: int = 0, device: str = "cpu", verbose: int = 1, run: bool = True) -> pd.DataFrame:
    """Reproduce every experiment (or ``names``) at ``size`` over ``seeds`` seeds; write the table.

    An experiment whose ``OUT/NAME/summary.json`` already has this size and
    these seeds is read, not re-run; an interrupted one is resumed. With
    ``run=False`` only finished reproductions are tabulated. Returns the rows
    of ``fidelity.csv``.
    """
    from grokkit._validation import check_number, check_output_dir
    from grokkit.experiments import _check_size, available_experiments, get_experiment, reproduce

    _check_size(size)
    check_number("seeds", seeds, low=1, integer=True)
    out = check_output_dir("out", out)
    names = available_experiments() if names is None else [get_experiment(n).name for n in names]
    wanted = list(range(seed, seed + int(seeds)))
    summaries = []
    for name in names:
        path = out / name / "summary.json"
        done = json.loads(path.read_text()) if path.exists() else None
        if done is not None and done.get("size") == size and done.get("seeds", [done.get("seed")]) == wanted:
            summaries.append(done)
        elif run:
            if verbose:
                print(f"== {name} ({size}, {seeds} seeds)", flush=True)
            summaries.append(reproduce(name, size=size, out=out / name, seed=seed, device=device,
                                       verbose=verbose, resume=(out / name).exists(), seeds=int(seeds)))
    out.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame([row for s in summaries for row in rows_of(s)], columns=list(COLUMNS))
    table.to_csv(out / "fidelity.csv", index=False)
    (out / "fidelity.md").write_text(markdown(summaries), encoding="utf-8")
    return table
