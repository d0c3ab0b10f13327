"""Grokking on real images, offline: sklearn digits at Omnigrok's α = 8 (Omnigrok §4).

300 training images, the other 1 497 as test set, MSE on one-hot targets,
AdamW lr 1e-3 with weight decay 0.1, batch 200, α = 8. The network fits the
training set around step 2 500 while test accuracy is still ~0.25, and
generalises (test > 0.9) only near step 9 500.

    python examples/digits_grokking.py            # 5 000 epochs = 10 000 steps
    python examples/digits_grokking.py --quick    # 1 500 epochs: fitting, not yet grokking

Writes OUT/progress.csv, OUT/summary.json and OUT/grokking.png.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from grokkit import GrokMLPClassifier
from grokkit.datasets import load_digits_split
from grokkit.plotting import plot_progress


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5000)
    parser.add_argument("--quick", action="store_true", help="1 500 epochs only")
    parser.add_argument("--out", default="runs/digits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    epochs = 1500 if args.quick else args.epochs

    X, y, X_test, y_test = load_digits_split(n_train=300, random_state=args.seed)
    clf = GrokMLPClassifier(
        hidden_layer_sizes=(200, 200), alpha=8.0, loss="mse", weight_decay=0.1, lr=1e-3,
        batch_size=200, max_epochs=epochs, random_state=args.seed, device=args.device, verbose=1,
    )
    clf.fit(X, y, eval_set=(X_test, y_test))

    progress = clf.progress_
    shown = progress.iloc[:: max(1, len(progress) // 15)]
    columns = ["epoch", "step", "train_acc", "test_acc", "weight_norm", "weight_entropy",
               "activation_sparsity"]
    print(shown[columns].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    summary = clf.grokking_summary()
    print(json.dumps(summary, indent=2))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    progress.to_csv(out / "progress.csv", index=False)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    fig = plot_progress(progress, measures=["weight_norm", "weight_entropy",
                                            "activation_sparsity", "circuit_complexity"],
                        title="digits, α = 8, wd 0.1 (Omnigrok §4 setting)", per_layer=True)
    fig.savefig(out / "grokking.png", dpi=110)
    print(f"wrote {out / 'progress.csv'}, {out / 'summary.json'}, {out / 'grokking.png'}")


if __name__ == "__main__":
    main()
