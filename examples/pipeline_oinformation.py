"""A Pipeline composing an analyzer: hidden activations -> O-information (Clauw et al.).

    python examples/pipeline_oinformation.py [--epochs 1500]

Train the one-hot MLP on modular addition, then a scikit-learn Pipeline reads
its hidden layer on the training pairs and searches all multiplets of 10
neuron bins for synergy and redundancy (bits).
"""

import argparse

from sklearn.pipeline import make_pipeline

from grokkit import ModularMLPClassifier
from grokkit.analysis import HiddenActivations, OInformationAnalyzer
from grokkit.datasets import make_modular

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=1500)
args = parser.parse_args()

X, y, X_test, y_test = make_modular(p=97, train_fraction=0.4, random_state=0)
clf = ModularMLPClassifier(p=97, max_epochs=args.epochs, measures=["weight_norm"], random_state=0,
                           verbose=1).fit(X, y, eval_set=(X_test, y_test))
print("test accuracy", clf.score(X_test, y_test))

pipeline = make_pipeline(HiddenActivations(clf), OInformationAnalyzer(n_bins=10))
features = pipeline.fit_transform(X)
for name, value in zip(pipeline.get_feature_names_out(), features[0], strict=True):
    print(f"{name:>24s} {value:8.3f}")
analyzer = pipeline[-1]
print("synergistic sub-network:", len(analyzer.synergistic_neurons_), "neurons")
