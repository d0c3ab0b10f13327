"""Synergy and redundancy over a grokking run (Clauw et al., Figs 2-5).

Trains Clauw et al.'s one-hot MLP on modular addition (p = 97, 40 % of the pairs,
weight decay 0.1 by default) keeping a checkpoint at every recorded epoch, then
runs OInformationAnalyzer over the checkpoints: the 250 hidden neurons are
binned into 10 groups (Ward clustering at the trained network) and every
multiplet of 3..10 bins is searched at each checkpoint. Prints the per-epoch
table and writes OUT/oinformation.csv and OUT/oinformation.png (synergy and
redundancy against epochs, with the accuracies; and the synergy-redundancy plane).

    python examples/oinformation_phases.py [--epochs 3000] [--weight-decay 0.1]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from grokkit import ModularMLPClassifier
from grokkit.analysis import OInformationAnalyzer
from grokkit.datasets import make_modular
from grokkit.plotting import pyplot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3000)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/oinformation")
    args = parser.parse_args()

    X, y, X_test, y_test = make_modular(p=97, train_fraction=0.4, random_state=args.seed)
    clf = ModularMLPClassifier(p=97, weight_decay=args.weight_decay, max_epochs=args.epochs,
                               keep_checkpoints=True, measures=None, random_state=args.seed,
                               verbose=1)
    clf.fit(X, y, eval_set=(X_test, y_test))
    analyzer = OInformationAnalyzer(n_bins=10, min_order=3, max_order=10)
    table = analyzer.fit_transform_run(clf, X)
    progress = clf.progress_.set_index("epoch")
    table = table.join(progress[["train_acc", "test_acc", "test_loss"]])
    print(table[["train_acc", "test_acc", "oinfo_min", "oinfo_max", "oinfo_min_n_neurons"]]
          .iloc[:: max(1, len(table) // 25)].to_string(float_format=lambda v: f"{v:.4g}"))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "oinformation.csv")
    plt = pyplot()
    fig, (ax_time, ax_plane) = plt.subplots(1, 2, figsize=(12, 4.5))
    epochs = table.index.to_numpy().astype(float)
    epochs[epochs == 0] = 0.5
    ax_time.plot(epochs, table["oinfo_min"], label="min O-info (synergy where < 0)", color="tab:purple")
    ax_time.plot(epochs, table["oinfo_max"], label="max O-info (redundancy where > 0)", color="tab:green")
    ax_time.set_xscale("log")
    ax_time.set_xlabel("epoch (log scale)")
    ax_time.set_ylabel("O-information (bits)")
    acc = ax_time.twinx()
    acc.plot(epochs, table["train_acc"], "--", color="tab:blue", label="train acc")
    acc.plot(epochs, table["test_acc"], "--", color="tab:red", label="test acc")
    acc.set_ylabel("accuracy")
    lines = ax_time.get_lines() + acc.get_lines()
    ax_time.legend(lines, [line.get_label() for line in lines], fontsize=8, loc="center left")
    points = ax_plane.scatter(table["oinfo_max"], table["oinfo_min"], c=epochs, cmap="viridis",
                              norm=plt.matplotlib.colors.LogNorm())
    ax_plane.set_xlabel("max O-information (bits)")
    ax_plane.set_ylabel("min O-information (bits)")
    fig.colorbar(points, ax=ax_plane, label="epoch")
    fig.suptitle(f"Clauw setting, p = 97, weight decay {args.weight_decay}")
    fig.tight_layout()
    fig.savefig(out / "oinformation.png", dpi=110)
    print(f"wrote {out / 'oinformation.csv'} and {out / 'oinformation.png'}")


if __name__ == "__main__":
    main()
