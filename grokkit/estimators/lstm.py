"""LSTM text classifier that can grok: Omnigrok's IMDb setting (§4, Fig. 4; App. A)."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import validate_data
from skorch.callbacks import Callback, GradientNormClipping
from torch import nn

from grokkit.estimators.classifier import GrokClassifier
from grokkit.estimators.params import Param, positive
from grokkit.models.lstm import LSTMTextNet

#: Documents run through the LSTM at once when evaluating (outputs are
#: (chunk, maxlen, hidden) per layer).
LSTM_EVAL_CHUNK = 256


def check_token_indices(X: np.ndarray, vocab_size: int, name: str = "X") -> np.ndarray:
    """Check a 2-d array of token indices in ``[0, vocab_size)``; return it as ``int64``."""
    if X.dtype.kind in "OUS":
        raise TypeError(f"{name} must hold token indices (integers); got {X.dtype.kind!r} data such as "
                        "strings. Put grokkit.text.TextSequencer in front of the classifier in a Pipeline.")
    if X.dtype.kind == "f":
        if not np.array_equal(X, np.round(X)):
            raise ValueError(f"{name} must hold integer token indices; got non-integer values.")
    elif X.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer token indices; got dtype {X.dtype}.")
    X = X.astype(np.int64)
    if X.size and (X.min() < 0 or X.max() >= vocab_size):
        raise ValueError(
            f"{name} must hold token indices in [0, vocab_size) = [0, {vocab_size}); got values from "
            f"{X.min()} to {X.max()}. Raise vocab_size or use TextSequencer(vocab_size={vocab_size})."
        )
    return X


class GrokLSTMClassifier(GrokClassifier):
    __doc__ = """LSTM text classifier on padded token indices (Omnigrok §4, Fig. 4d).

    ``X`` is an integer array (n_documents, maxlen) of token indices in
    ``[0, vocab_size)``, 0 being padding: the output of
    :class:`grokkit.text.TextSequencer`, so ::

        Pipeline([("seq", TextSequencer()), ("lstm", GrokLSTMClassifier(alpha=6, weight_decay=1))])

    fits on raw strings. The model is :class:`grokkit.models.LSTMTextNet`:
    embedding, ``num_layers`` LSTM layers, a linear readout of the last
    position.

    Omnigrok's Fig. 4d compares ``alpha=6, weight_decay=1`` (weak grokking:
    training fits within ~10² steps, generalisation starts near 10³) with
    ``alpha=1, weight_decay=0`` (generalises early). Paper and public code
    differ; the defaults follow the code, which produced the figure:

    ============== ====================== ==========================
    setting        paper (App. A)         public notebook (default)
    ============== ====================== ==========================
    hidden size    128                    256
    optimizer      Adam, lr 1e-3          AdamW, lr 3e-4
    batch          —                      50
    grad clipping  —                      norm 5
    epochs         —                      5 000
    data           1 000 reviews, 25 %    first 1 000 reviews, top-1 000
                   held out               words, padded to 500
    ============== ====================== ==========================

    Both use embedding 64, 2 layers and binary cross-entropy. For the paper's
    setting pass ``hidden_size=128, optimizer="adam", lr=1e-3``.

    Parameters
    ----------

    Notes
    -----
    ``input_noise`` perturbs the token embeddings in training mode. The
    ``mi_penalty`` reads each document as its normalised bag of words.

    Attributes
    ----------
    classes_ : ndarray
    n_features_in_ : int
        Sequence length (``maxlen``) seen in fit.
    module_ : grokkit.models.LSTMTextNet
    progress_, history_, n_steps_, diverged_
        As for :class:`GrokMLPClassifier`.

    Examples
    --------
    >>> from sklearn.pipeline import Pipeline
    >>> from grokkit.datasets.imdb import make_sentiment_corpus
    >>> from grokkit.text import TextSequencer
    >>> docs, y = make_sentiment_corpus(n_documents=60, random_state=0)
    >>> pipe = Pipeline([("seq", TextSequencer(vocab_size=200, maxlen=20)),
    ...                  ("lstm", GrokLSTMClassifier(vocab_size=200, embedding_dim=8, hidden_size=8,
    ...                                              max_epochs=2, random_state=0))])
    >>> pipe.fit(docs, y).predict(docs[:3]).shape
    (3,)
    """

    _losses = ("bce", "cross_entropy", "mse", "stablemax")
    _input_dtype = np.int64
    _eval_chunk = LSTM_EVAL_CHUNK

    _docs = {
        "loss": """        ``"bce"``: binary cross-entropy σ(z) of one output unit (needs exactly
        2 classes); the module returns logits ``[0, z]``, so probabilities,
        predictions and measures read two classes. ``"cross_entropy"``/
        ``"mse"``/``"stablemax"``: one logit per class (any number of classes);
        ``"stablemax"`` is Prieto et al.'s StableMax cross-entropy (see
        :class:`GrokMLPClassifier`).""",
        "measures": """        Names from :func:`grokkit.measures.available_measures`, ``(name,
        params)`` pairs, or callables ``f(module, X, y) -> float | dict``.
        Each becomes one or more ``progress_`` columns.
        ``activation_sparsity`` is over each LSTM layer's final hidden state
        (columns ``activation_sparsity/lstm1``, ``/lstm2``); it counts values
        below τ = 0.1, and LSTM outputs lie in (−1, 1), so negative outputs count
        as inactive. ``circuit_complexity`` ablates every weight matrix in turn
        (embedding, the LSTM's ``weight_ih_l*``/``weight_hh_l*``, fc).""",
    }
    _params = {
        "vocab_size": Param(1000, (Interval(Integral, 2, None, closed="left"),), doc="""int
        Rows of the embedding table (padding index included), the
        ``vocab_size`` of the ``TextSequencer`` in front."""),
        "embedding_dim": Param(64, (Interval(Integral, 1, None, closed="left"),), doc="""int"""),
        "hidden_size": Param(256, (Interval(Integral, 1, None, closed="left"),), doc="""int"""),
        "num_layers": Param(2, (Interval(Integral, 1, None, closed="left"),), doc="""int"""),
        "dropout": Param(0.0, (Interval(Real, 0, 1, closed="left"),), doc="""float
        Between LSTM layers and before the readout (the notebook has 0.3
        before the readout; Golechha App. C: dropout removes the delay)."""),
        "clip_grad_norm": Param(5.0, (None, positive()), doc="""float or None
        Clip the L2 norm of all gradients together to this value before every
        step (skorch's ``GradientNormClipping``), after the ``grokfast`` filter;
        None: no clipping."""),
    }
    _defaults = {"lr": 3e-4, "weight_decay": 0.0, "batch_size": 50, "max_epochs": 5000}

    # ------------------------------------------------------------------ inputs
    def _validate_inputs(self, X: Any, y: Any = None, reset: bool = True) -> Any:
        if isinstance(X, str) or (len(np.shape(X)) == 1 and len(X) and isinstance(X[0], str)):
            raise TypeError("X must be a 2-d array of token indices; got raw text. Put "
                            "grokkit.text.TextSequencer in front of the classifier in a Pipeline.")
        if y is None:
            X = validate_data(self, X, reset=reset, dtype=None)
        else:
            X, y = validate_data(self, X, y, reset=reset, dtype=None)
        X = check_token_indices(np.asarray(X), int(self.vocab_size))
        return X if y is None else (X, y)

    def _encode_train(self, X: Any, y: Any, reset: bool = True) -> Any:
        split = super()._encode_train(X, y, reset=reset)
        if self.loss == "bce" and self.n_outputs_ != 2:
            raise ValueError(f"loss='bce' needs exactly 2 classes; y holds {self.n_outputs_}. "
                             "Use loss='cross_entropy' for more.")
        return split

    # ---------------------------------------------------------------- building
    def build_module(self) -> nn.Module:
        return LSTMTextNet(int(self.vocab_size), int(self.embedding_dim), int(self.hidden_size),
                           int(self.num_layers), n_outputs=self.n_outputs_, binary=self.loss == "bce",
                           dropout=float(self.dropout))

    def get_default_callbacks(self) -> list[tuple[str, Callback]]:
        callbacks = super().get_default_callbacks()
        if self.clip_grad_norm is not None:
            # after the Grokfast filter, so that the clipped gradient is the one stepped on
            at = int(bool(callbacks) and callbacks[0][0] == "grokfast")
            callbacks.insert(at, ("gradient_clipping",
                                  GradientNormClipping(gradient_clip_value=float(self.clip_grad_norm))))
        return callbacks

    def _mi_input(self, X: torch.Tensor) -> torch.Tensor:
        """Each document as its bag of words (padding excluded), normalised to sum 1."""
        counts = torch.zeros(len(X), int(self.vocab_size), device=X.device, dtype=self.module_dtype_)
        counts.scatter_add_(1, X, torch.ones_like(X, dtype=self.module_dtype_))
        counts[:, 0] = 0
        return counts / counts.sum(dim=1, keepdim=True).clamp_min(1)

    # -------------------------------------------------------------- evaluation
    def _validate_predict_inputs(self, X: Any) -> Any:
        return self._validate_inputs(X, reset=False)

