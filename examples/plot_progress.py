"""Plot a run's progress_ with pandas and matplotlib.

    python examples/plot_progress.py [--epochs 3000] [--out progress.png]

``progress_`` is a plain DataFrame: plot any column against ``step`` on a log
axis, next to grokkit's own ``plot_progress`` figure.
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from grokkit import GrokMLPClassifier  # noqa: E402
from grokkit.datasets import load_digits_split  # noqa: E402
from grokkit.plotting import plot_progress  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=3000)
parser.add_argument("--out", default="progress.png")
args = parser.parse_args()

X, y, X_test, y_test = load_digits_split(n_train=300, random_state=0)
clf = GrokMLPClassifier(alpha=8.0, loss="mse", weight_decay=0.1, max_epochs=args.epochs,
                        random_state=0, verbose=1).fit(X, y, eval_set=(X_test, y_test))

fig, (acc, norm) = plt.subplots(2, 1, sharex=True, figsize=(6, 5))
clf.progress_.plot(x="step", y=["train_acc", "test_acc"], logx=True, ax=acc, ylabel="accuracy")
clf.progress_.plot(x="step", y="weight_norm", logx=True, ax=norm, ylabel="‖θ‖₂", legend=False)
norm.set_xlabel("step (log scale)")
fig.tight_layout()
fig.savefig(args.out, dpi=110)
plot_progress(clf.progress_, per_layer=True).savefig(args.out.replace(".png", "_measures.png"), dpi=110)
print("wrote", args.out)
