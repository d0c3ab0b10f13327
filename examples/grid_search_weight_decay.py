"""GridSearchCV over weight decay: read cv_results_ and the best model's progress_.

    python examples/grid_search_weight_decay.py [--epochs 1500]

Omnigrok: time to generalise ∝ 1/weight decay. Each candidate is a full
grokking run on digits (α = 8, MSE); the best model's ``progress_`` is the
curve of its refit on the whole training set.
"""

import argparse

import pandas as pd
from sklearn.model_selection import GridSearchCV

from grokkit import GrokMLPClassifier
from grokkit.datasets import load_digits_split

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=1500)
args = parser.parse_args()

X, y, X_test, y_test = load_digits_split(n_train=300, random_state=0)
search = GridSearchCV(
    GrokMLPClassifier(alpha=8.0, loss="mse", batch_size=200, max_epochs=args.epochs,
                      measures=["weight_norm"], random_state=0),
    param_grid={"weight_decay": [0.03, 0.1, 0.3]},
    cv=3, n_jobs=1,
)
search.fit(X, y)
results = pd.DataFrame(search.cv_results_)
print(results[["param_weight_decay", "mean_test_score", "std_test_score", "mean_fit_time"]])
print("best:", search.best_params_, "held-out accuracy", search.best_estimator_.score(X_test, y_test))
progress = search.best_estimator_.progress_
print(progress[["epoch", "step", "train_acc", "weight_norm"]].iloc[:: max(1, len(progress) // 10)])
