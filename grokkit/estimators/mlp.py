"""MLP estimators: Omnigrok's MNIST setting and Golechha's progress-measure runs."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data
from torch import nn

from grokkit.callbacks import SplitData
from grokkit.estimators.classifier import GrokClassifier, check_eval_set
from grokkit.estimators.params import SHARED, Param, as_sizes, sizes_constraint
from grokkit.estimators.regressor import GrokRegressor
from grokkit.models.mlp import ACTIVATIONS, MLP


class MLPParams:
    """The parameters of the feed-forward networks (declared once for both MLP estimators)."""

    _params = {
        "hidden_layer_sizes": Param((200, 200), (sizes_constraint(),),
                  doc="""sequence of int""", stacked=SHARED),
        "activation": Param("relu", (StrOptions(set(ACTIVATIONS)),),
                  doc="""{"relu", "tanh", "leaky_relu", "gelu"}""", stacked=SHARED),
        "dropout": Param(0.0, (Interval(Real, 0, 1, closed="left"),), doc="""float
        Golechha App. C: dropout removes the grokking delay.""", stacked=SHARED),
        "zero_last": Param(False, ("boolean",), doc="""bool
        Initialise the last layer at zero (Clauw et al. for α = 8).""", stacked=SHARED),
    }

    def build_module(self) -> nn.Module:
        return MLP(self.n_features_in_, self.n_outputs_, as_sizes(self.hidden_layer_sizes),
                   self.activation, self.dropout, zero_last=self.zero_last)


class GrokMLPClassifier(MLPParams, GrokClassifier):
    __doc__ = """Multi-layer perceptron classifier that can grok.

    The Omnigrok MNIST setting (Liu, Michaud & Tegmark §4, App. A) is
    ``GrokMLPClassifier(hidden_layer_sizes=(200, 200), alpha=8, loss="mse",
    weight_decay=0.01, batch_size=200)`` on 1 000 training images; Golechha's
    runs use the same network with cross-entropy.

    Parameters
    ----------

    Attributes
    ----------
    classes_ : ndarray
    n_features_in_ : int
    module_ : grokkit.models.MLP
    progress_ : pandas.DataFrame
        One row per recorded epoch: ``epoch``, ``step``, ``train_loss``,
        ``train_acc``, ``test_loss``, ``test_acc`` (with an eval_set), then one
        column per measure (``name`` or ``name/layer``).
    history_ : skorch.History
    n_steps_ : int
        Optimizer steps taken.
    diverged_ : bool
    interrupted_ : bool
        True when Ctrl-C (SIGINT) stopped the fit: as in skorch, ``fit``
        warns and returns with the epochs run so far; grokkit's multi-runs
        (``Sweep``, the analyzers, ``grokkit reproduce``) then stop as a whole.
    stopped_by_ : str or None
        The name of the callback that stopped the fit early (``EarlyStopping``,
        ``StopWhenGrokked``...); such a stop is not an interruption.

    Examples
    --------
    >>> from grokkit import GrokMLPClassifier
    >>> from grokkit.datasets import load_digits_split
    >>> X, y, X_test, y_test = load_digits_split(n_train=300, random_state=0)
    >>> clf = GrokMLPClassifier(alpha=8, loss="mse", weight_decay=0.1, max_epochs=5,
    ...                         random_state=0).fit(X, y, eval_set=(X_test, y_test))
    >>> list(clf.progress_.columns[:6])
    ['epoch', 'step', 'train_loss', 'train_acc', 'test_loss', 'test_acc']
    """



class GrokMLPRegressor(MLPParams, GrokRegressor):
    __doc__ = """Multi-layer perceptron regressor that can grok (Omnigrok's teacher–student, §3).

    Regression has no accuracy of its own; as in Omnigrok §3, a sample counts
    as correct when its mean squared error is below ``accuracy_threshold``, and
    ``train_acc``/``test_acc`` are the fractions of correct samples.

    Parameters
    ----------

    Attributes
    ----------
    n_features_in_ : int
    n_outputs_ : int
    module_, progress_, history_, n_steps_, diverged_, interrupted_, stopped_by_
        As for :class:`GrokMLPClassifier`.
    """


    def _encode_train(self, X: Any, y: Any, reset: bool = True) -> SplitData:
        X, y = validate_data(self, X, y, dtype=self._input_dtype, multi_output=True,
                             y_numeric=True, reset=reset)
        y_is_1d = y.ndim == 1
        y = np.asarray(y, dtype=np.float32).reshape(len(y), -1)
        if not reset:
            if y.shape[1] != self.n_outputs_:
                raise ValueError(f"y has {y.shape[1]} outputs; the first fit had {self.n_outputs_}.")
            return self._split(X, y)
        self._y_is_1d = y_is_1d
        self.n_outputs_ = y.shape[1]
        return self._split(X, y)

    def _encode_eval(self, eval_set: Any) -> SplitData | None:
        if eval_set is None:
            return None
        X, y = check_eval_set(eval_set)
        X = validate_data(self, X, reset=False, dtype=self._input_dtype)
        y = np.asarray(y, dtype=np.float32).reshape(len(y), -1) if len(np.shape(y)) else None
        if y is None or len(y) != len(X) or y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"eval_set y_test must have {len(X)} rows and {self.n_outputs_} output(s); "
                f"got shape {np.shape(eval_set[1])}."
            )
        if not np.isfinite(y).all():
            raise ValueError("eval_set y_test contains NaN or infinity.")
        return self._split(X, y)
