"""Does Clauw et al.'s synergy peak precede generalisation, and in how many seeds?

Clauw, Stramaglia & Marinazzo (§6, Fig. 5) report a synergy peak (the most
negative O-information Ω over groups of hidden neurons) in an "emergence"
phase *before* test accuracy rises, for weight decay 0.1 and 2 and for α = 8
(wd 0, last layer at zero, constrained norm, §5.3). Their public code
checkpoints every 5 steps. This script trains the three runs of Fig. 5 that
generalise (the runs that never generalise, wd 10/50 and α 1/50, cannot have a
peak *before* generalisation), over seeds, keeps a checkpoint every 5 steps and
evaluates

.. math:: \\Omega(Z) = (n-2)H(Z) + \\sum_{j=1}^{n}\\big[H(Z_j) - H(Z_{\\setminus j})\\big]

(Gaussian copula, bits; 10 Ward bins of the 250 neurons fitted at the final
network, multiplets of 3..10 bins expanded to the union of their neurons) at
every 5th step up to generalisation + ``--margin`` steps and every 50th after.

For each run and seed it records the memorisation step (train ≥ 0.99), the
generalisation step (test ≥ 0.95), the global synergy peak and its step, the
deepest synergy before generalisation and after it, and whether the global peak
precedes generalisation; and, from the per-checkpoint table (:func:`onsets`),
the step where test accuracy passes 0.5 (the middle of its rise) and the step
where synergy first reaches half its peak (the onset of the synergy peak).
Writes OUT/synergy_grid.csv (per checkpoint), OUT/synergy_grid_summary.csv (per
run and seed) and OUT/synergy_grid.png. ``--from-csv`` re-reads an existing
OUT/synergy_grid.csv (e.g. of an interrupted run) and writes the summary and
the figure without training.

    python examples/clauw_synergy_grid.py [--seeds 5] [--steps 2500] [--out runs/clauw_grid] [--from-csv]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from grokkit import ModularMLPClassifier
from grokkit.analysis import OInformationAnalyzer
from grokkit.datasets import make_modular
from grokkit.experiments.synergy_across_weight_decay_and_alpha import ALPHA_RUN
from grokkit.plotting import pyplot

RUNS = {"wd=0.1": {"weight_decay": 0.1}, "wd=2": {"weight_decay": 2.0},
        "alpha=8": {"alpha": 8.0, **ALPHA_RUN}}


def first_step(progress: pd.DataFrame, column: str, threshold: float) -> int | None:
    hit = progress.loc[progress[column] >= threshold, "step"]
    return int(hit.iloc[0]) if len(hit) else None


def analysed_epochs(kept: list[int], steps_of: dict[int, int], until: int, sparse_every: int) -> list[int]:
    """Every kept epoch whose step is <= ``until``, then every ``sparse_every``-th step after."""
    return [e for e in kept if steps_of[e] <= until or steps_of[e] % sparse_every == 0]


def one_run(label: str, params: dict, data: tuple, seed: int, steps: int, every: int, margin: int,
            verbose: int) -> tuple[pd.DataFrame, dict]:
    clf = ModularMLPClassifier(p=97, hidden_layer_sizes=(250,), max_epochs=steps, measures=("weight_norm",),
                               measure_every=every, keep_checkpoints=True, on_divergence="warn",
                               random_state=seed, verbose=0, **params)
    clf.fit(data[0], data[1], eval_set=(data[2], data[3]))
    progress = clf.progress_
    memorised = first_step(progress, "train_acc", 0.99)
    generalised = first_step(progress, "test_acc", 0.95)
    steps_of = dict(zip(progress["epoch"].astype(int), progress["step"].astype(int), strict=True))
    kept = sorted(clf.checkpoints_)
    until = (generalised if generalised is not None else steps) + margin
    epochs = analysed_epochs(kept, steps_of, until, 50)
    table = OInformationAnalyzer(n_bins=10).fit_transform_run(clf, data[0], epochs=epochs)
    frame = progress.set_index("epoch")[["step", "train_acc", "test_acc", "weight_norm"]].join(
        table[["oinfo_min", "oinfo_max"]], how="inner").reset_index()
    frame.insert(0, "seed", seed)
    frame.insert(0, "run", label)
    peak = frame.loc[frame["oinfo_min"].idxmin()]
    before = frame[frame["step"] <= generalised] if generalised is not None else frame.iloc[:0]
    after = frame[frame["step"] > generalised] if generalised is not None else frame
    row = {"run": label, "seed": seed, "memorization_step": memorised, "generalization_step": generalised,
           "final_test_acc": float(progress["test_acc"].iloc[-1]), "checkpoints_analysed": len(frame),
           "peak_step": int(peak["step"]), "peak_bits": float(peak["oinfo_min"]),
           "peak_before_generalization": bool(generalised is not None and peak["step"] <= generalised),
           "min_before_generalization_bits": float(before["oinfo_min"].min()) if len(before) else np.nan,
           "min_before_generalization_step": (int(before.loc[before["oinfo_min"].idxmin(), "step"])
                                              if len(before) else None),
           "min_after_generalization_bits": float(after["oinfo_min"].min()) if len(after) else np.nan}
    if verbose:
        print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    return frame, row


def onsets(table: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """``summary`` with, per run and seed, ``test_0.5_step`` and ``synergy_half_peak_step``.

    ``synergy_half_peak_step`` is the first analysed step whose synergy is at
    most half the run's peak (most negative) value; ``onset_before_test_0.5``
    says whether it comes before test accuracy passes 0.5.
    """
    rows = []
    for (label, seed), frame in table.groupby(["run", "seed"], sort=False):
        frame = frame.sort_values("step")
        half = frame.loc[frame["oinfo_min"] <= 0.5 * frame["oinfo_min"].min(), "step"]
        mid = frame.loc[frame["test_acc"] >= 0.5, "step"]
        onset = int(half.iloc[0]) if len(half) else None
        test_mid = int(mid.iloc[0]) if len(mid) else None
        rows.append({"run": label, "seed": seed, "test_0.5_step": test_mid, "synergy_half_peak_step": onset,
                     "onset_before_test_0.5": bool(onset is not None and test_mid is not None
                                                   and onset < test_mid)})
    added = pd.DataFrame(rows)
    kept = summary.drop(columns=[c for c in summary.columns if c in added.columns and c not in ("run", "seed")
                                 or c.endswith(("_x", "_y"))])
    return kept.merge(added, on=["run", "seed"], how="left")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=2500)
    parser.add_argument("--every", type=int, default=5,
                        help="checkpoint every this many steps (public code: 5)")
    parser.add_argument("--margin", type=int, default=250,
                        help="dense checkpoints up to generalisation + this")
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    parser.add_argument("--out", default="runs/clauw_grid")
    parser.add_argument("--from-csv", action="store_true",
                        help="summarise OUT/synergy_grid.csv and draw the figure; train nothing")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.from_csv:
        table = pd.read_csv(out / "synergy_grid.csv")
        summary = pd.read_csv(out / "synergy_grid_summary.csv")
        summary = summary[summary.set_index(["run", "seed"]).index.isin(
            table.set_index(["run", "seed"]).index.unique())]
        args.runs = [r for r in RUNS if r in set(table["run"])]
    else:
        data = make_modular(p=97, train_fraction=0.4, random_state=0)
        frames, rows = [], []
        for seed in range(args.seeds):
            for label in args.runs:
                frame, row = one_run(label, RUNS[label], data, seed, args.steps, args.every, args.margin, 1)
                frames.append(frame)
                rows.append(row)
                pd.concat(frames).to_csv(out / "synergy_grid.csv", index=False)
                pd.DataFrame(rows).to_csv(out / "synergy_grid_summary.csv", index=False)
        summary, table = pd.DataFrame(rows), pd.concat(frames)
    summary = onsets(table, summary)
    summary.to_csv(out / "synergy_grid_summary.csv", index=False)
    columns = ["memorization_step", "test_0.5_step", "generalization_step", "synergy_half_peak_step",
               "peak_step", "peak_bits", "min_before_generalization_bits"]
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(summary.groupby("run", sort=False)[columns].mean().to_string(float_format=lambda v: f"{v:.4g}"))
    print(summary.groupby("run", sort=False)[["peak_before_generalization", "onset_before_test_0.5"]]
          .sum().astype(int).to_string(), f"of {summary.groupby('run').size().max()} seeds")
    plt = pyplot()
    fig, axes = plt.subplots(2, len(args.runs), figsize=(4.5 * len(args.runs), 6.5), sharex="col",
                             squeeze=False)
    for column, label in enumerate(args.runs):
        for seed, frame in table[table["run"] == label].groupby("seed"):
            line, = axes[0, column].plot(frame["step"].clip(lower=1), frame["test_acc"], lw=1)
            axes[1, column].plot(frame["step"].clip(lower=1), frame["oinfo_min"], lw=1,
                                 color=line.get_color(), label=f"seed {seed}")
            g = summary[(summary["run"] == label) & (summary["seed"] == seed)]["generalization_step"].iloc[0]
            if pd.notna(g):
                for ax in axes[:, column]:
                    ax.axvline(max(g, 1), color=line.get_color(), ls=":", lw=0.8)
        axes[0, column].set_title(label)
        axes[1, column].set_xscale("log")
        axes[1, column].set_xlabel("step (log); dotted: test ≥ 0.95")
        axes[1, column].legend(fontsize=7)
    axes[0, 0].set_ylabel("test accuracy")
    axes[1, 0].set_ylabel("synergy: min Ω (bits)")
    fig.suptitle("Clauw et al. Fig. 5: does the synergy peak precede generalisation?")
    fig.tight_layout()
    fig.savefig(out / "synergy_grid.png", dpi=110)
    print(f"wrote {out}/synergy_grid.csv, synergy_grid_summary.csv and synergy_grid.png")


if __name__ == "__main__":
    main()
