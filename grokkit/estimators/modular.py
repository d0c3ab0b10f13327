"""Estimators for modular arithmetic: integer pairs (a, b) in, a ∘ b mod p out.

Algorithmic data is where grokking is most dramatic (Power et al.; Omnigrok §5;
Nanda et al.; Tan & Huang §5; Clauw et al.). Both estimators take ``X`` as
integer pairs of shape (n, 2) and have all ``p`` residues as classes; they know
``p`` and the ``operation``, so the group-law measures (``commutativity``,
``identity_law``, ...) work by name.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data
from torch import nn

from grokkit.datasets.modular import resolve_operation, validate_pairs
from grokkit.estimators.classifier import GrokClassifier
from grokkit.estimators.mlp import MLPParams
from grokkit.estimators.params import (
    MODULAR_MLP_MEASURES,
    SHARED,
    TRANSFORMER_MEASURES,
    Param,
    Satisfies,
    as_sizes,
)
from grokkit.estimators.penalties import last_hidden_output, penalty_params
from grokkit.losses import barlow_twins_loss  # noqa: F401  (its home before grokkit.losses)
from grokkit.models.mlp import ACTIVATIONS
from grokkit.models.onehot_mlp import OneHotPairMLP
from grokkit.models.transformer import ModularTransformerNet


def _known_operation(name: Any) -> bool:
    resolve_operation(name)
    return True


class _ModularClassifier(GrokClassifier):
    """Input validation, classes and task facts shared by the modular estimators."""

    _input_dtype = np.int64
    _params = {
        "p": Param(97, (Interval(Integral, 2, None, closed="left"),), doc="""int
        The modulus: inputs are pairs of residues 0..p−1 and so are the classes.""", stacked=SHARED),
        "operation": Param("add", (Satisfies(_known_operation, "a name of grokkit.datasets.OPERATIONS"),),
                  doc="""str
        What ``y`` computes (see :data:`grokkit.datasets.OPERATIONS`). Used by
        the group-law measures only; ``y`` itself is whatever you pass.""", stacked=SHARED),
        **penalty_params("modular"),
    }
    _defaults = {"betas": (0.9, 0.98), "batch_size": -1}

    def _validate_inputs(self, X: Any, y: Any = None, reset: bool = True) -> Any:
        if y is None:
            X = validate_data(self, X, reset=reset, dtype=None)
        else:
            X, y = validate_data(self, X, y, reset=reset, dtype=None)
        X = np.asarray(X)
        if X.dtype.kind == "f":
            if not np.array_equal(X, np.round(X)):
                raise ValueError("X must hold integer pairs (a, b); got non-integer values.")
            X = X.astype(np.int64)
        X = validate_pairs(X, int(self.p), name="X")
        return X if y is None else (X, y)

    def _validate_predict_inputs(self, X: Any) -> Any:
        """Prediction inputs are checked as training inputs: integer pairs of residues."""
        return self._validate_inputs(X, reset=False)

    def _classes_from(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y)
        if y.dtype.kind not in "iuf" or (y.dtype.kind == "f" and not np.array_equal(y, np.round(y))):
            raise ValueError(f"y must hold the residues 0..{self.p - 1} as integers; got "
                             f"{'non-integer' if y.dtype.kind == 'f' else y.dtype.name} labels.")
        return np.arange(int(self.p))

    def _encode_labels(self, y: np.ndarray, name: str) -> np.ndarray:
        y = np.asarray(y)
        if y.dtype.kind not in "iuf":
            raise ValueError(f"{name} must hold the residues 0..{self.p - 1} as integers; got "
                             f"{y.dtype.name} labels.")
        return super()._encode_labels(y, name)

    def _classes_text(self) -> str:
        return f"0..{int(self.p) - 1} (p = {self.p})"

    def task_info(self) -> dict[str, Any]:
        return {**super().task_info(), "p": int(self.p), "operation": resolve_operation(self.operation)}

    def _mi_input(self, X: torch.Tensor) -> torch.Tensor:
        """onehot(a) || onehot(b): the pairs as the float matrix the MI penalty reads."""
        return torch.nn.functional.one_hot(X, int(self.p)).reshape(len(X), -1).to(self.module_dtype_)

    def _embedding(self, X: torch.Tensor) -> torch.Tensor:
        """The last hidden layer's output on ``X``, with its graph (what ``barlow_penalty`` compares)."""
        return last_hidden_output(self.module_, self.module_, X)


class ModularMLPClassifier(MLPParams, _ModularClassifier):
    __doc__ = """One-hot MLP on modular arithmetic: the setting of Clauw et al.

    The input is onehot(a) ‖ onehot(b) (2p dims); the first layer applied to
    it is a row gather (two rows of the first weight matrix summed), equal to
    the matmul up to float rounding and several times cheaper. The defaults are
    Clauw et al.'s: p = 97, one hidden layer of 250 ReLU units without biases,
    full-batch AdamW lr 0.03, betas (0.9, 0.98), weight decay 0.1 (they also
    use 2), 4 000 steps on 40 % of the pairs.

    Parameters
    ----------

    Examples
    --------
    >>> from grokkit.datasets import make_modular
    >>> X, y, X_test, y_test = make_modular(p=23, train_fraction=0.5, random_state=0)
    >>> clf = ModularMLPClassifier(p=23, max_epochs=20, random_state=0)
    >>> clf.fit(X, y, eval_set=(X_test, y_test)).progress_["train_acc"].iloc[-1] > 0.5
    True
    """

    _docs = {"zero_last": """        Clauw et al. start the last layer at zero for α = 8."""}
    _params = {"bias": Param(False, ("boolean",), doc="""bool""", stacked=SHARED)}
    _defaults = {"hidden_layer_sizes": (250,), "lr": 0.03, "weight_decay": 0.1, "max_epochs": 4000,
                 "measures": MODULAR_MLP_MEASURES}

    def build_module(self) -> nn.Module:
        return OneHotPairMLP(int(self.p), as_sizes(self.hidden_layer_sizes), self.activation, bias=self.bias,
                             zero_last=self.zero_last, dropout=self.dropout)


class ModularTransformer(_ModularClassifier):
    __doc__ = """The one-layer transformer of Nanda et al. on modular arithmetic.

    Tokens ``a``, ``b``, ``=``; learned token and positional embeddings;
    ``n_heads`` attention heads; a ReLU MLP; no LayerNorm; logits read at the
    last position. Defaults are Omnigrok §5 / App. B–C and Nanda et al.: p = 113,
    d_model 128, 4 heads of 32, d_mlp 512, full-batch AdamW lr 1e-3, betas
    (0.9, 0.98), weight decay 1, on 30 % of the pairs. Omnigrok's constrained
    run (Fig. 7b) is ``alpha=0.8, constrain_norm=True, weight_decay=0``.
    Differences from Nanda's code: no 10-step learning-rate warm-up, and p
    output logits (the ``=`` token is never a target).

    Parameters
    ----------
    """

    _params = {
        "d_model": Param(128, (Interval(Integral, 1, None, closed="left"),), doc="""int""", stacked=SHARED),
        "n_heads": Param(4, (Interval(Integral, 1, None, closed="left"),), doc="""int""", stacked=SHARED),
        "d_mlp": Param(512, (Interval(Integral, 1, None, closed="left"),), doc="""int""", stacked=SHARED),
        "n_layers": Param(1, (Interval(Integral, 1, None, closed="left"),), doc="""int""", stacked=SHARED),
        "act": Param("relu", (StrOptions(set(ACTIVATIONS)),), doc="""str""", stacked=SHARED),
        "use_layernorm": Param(False, ("boolean",), doc="""bool""", stacked=SHARED),
    }
    _defaults = {"p": 113, "lr": 1e-3, "weight_decay": 1.0, "max_epochs": 15000,
                 "measures": TRANSFORMER_MEASURES}

    def build_module(self) -> nn.Module:
        return ModularTransformerNet(p=int(self.p), d_model=self.d_model, n_heads=self.n_heads,
                                     d_mlp=self.d_mlp, n_layers=self.n_layers, act=self.act,
                                     use_layernorm=self.use_layernorm)
