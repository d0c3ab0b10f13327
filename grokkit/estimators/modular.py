"""Estimators for modular arithmetic: integer pairs (a, b) in, a ∘ b mod p out.

Algorithmic data is where grokking is most dramatic (Power et al.; Omnigrok §5;
Nanda et al.; Tan & Huang §5; Clauw et al.). Both estimators take ``X`` as
integer pairs of shape (n, 2) and have all ``p`` residues as classes; they know
``p`` and the ``operation``, so the group-law measures (``commutativity``,
``identity_law``, ...) work by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral
from typing import Any

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from grokkit.datasets.modular import resolve_operation, validate_pairs
from grokkit.estimators.classifier import GrokClassifier
from grokkit.estimators.loop import best_scores
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
from grokkit.models.hooked_format import (
    hooked_config,
    net_params_from_hooked,
    state_dict_from_hooked,
    state_dict_to_hooked,
)
from grokkit.models.mlp import ACTIVATIONS
from grokkit.models.onehot_mlp import OneHotPairMLP
from grokkit.models.transformer import ModularTransformerNet
from grokkit.progress import progress_frame


def _known_operation(name: Any) -> bool:
    resolve_operation(name)
    return True


class _ModularClassifier(GrokClassifier):
    """Input validation, classes and task facts shared by the modular estimators."""

    _input_dtype = np.int64
    _params = {
        "p": Param(None, (Interval(Integral, 2, None, closed="left"), None), doc="""int or None
        The modulus: inputs are pairs of residues 0..p−1 and so are the classes.
        ``None`` infers it from the training data of the first ``fit`` as the
        largest residue in ``X`` or ``y`` plus one (``make_modular(p=23)`` data
        gives 23), kept as ``p_``. Pass ``p`` when the training data may lack
        the top residue (a small sample), or to fix the model's size before
        seeing data.""", stacked=SHARED),
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
        if reset:
            self.p_ = self._infer_modulus(X, y)
        X = validate_pairs(X, self._modulus(), name="X")
        return X if y is None else (X, y)

    def _infer_modulus(self, X: np.ndarray, y: Any) -> int:
        """``p`` when given, else the largest residue of ``X`` and ``y`` plus one."""
        if self.p is not None:
            return int(self.p)
        values = [np.asarray(X).max()] if np.size(X) else []
        labels = np.asarray(y) if y is not None else np.empty(0)
        if labels.size and labels.dtype.kind in "iuf":
            values.append(labels.max())
        largest = max(values, default=0)
        if largest < 1:
            raise ValueError(f"p=None infers the modulus from the data as its largest residue + 1, but X and "
                             f"y hold no residue above {largest}; pass p=... (the modulus).")
        return int(largest) + 1

    def _modulus(self) -> int:
        """The modulus in use: ``p``, or the ``p_`` inferred by the first fit."""
        if self.p is not None:
            return int(self.p)
        if not hasattr(self, "p_"):
            raise ValueError(f"{type(self).__name__}(p=None) infers the modulus from the training data; "
                             "fit first, or pass p=... (the modulus) to build the model before seeing data.")
        return int(self.p_)

    def _validate_predict_inputs(self, X: Any) -> Any:
        """Prediction inputs are checked as training inputs: integer pairs of residues."""
        return self._validate_inputs(X, reset=False)

    def _classes_from(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y)
        if y.dtype.kind not in "iuf" or (y.dtype.kind == "f" and not np.array_equal(y, np.round(y))):
            raise ValueError(f"y must hold the residues 0..{self._modulus() - 1} as integers; got "
                             f"{'non-integer' if y.dtype.kind == 'f' else y.dtype.name} labels.")
        return np.arange(self._modulus())

    def _encode_labels(self, y: np.ndarray, name: str) -> np.ndarray:
        y = np.asarray(y)
        if y.dtype.kind not in "iuf":
            raise ValueError(f"{name} must hold the residues 0..{self._modulus() - 1} as integers; got "
                             f"{y.dtype.name} labels.")
        return super()._encode_labels(y, name)

    def _classes_text(self) -> str:
        return f"0..{self._modulus() - 1} (p = {self._modulus()})"

    def task_info(self) -> dict[str, Any]:
        return {**super().task_info(), "p": self._modulus(), "operation": resolve_operation(self.operation)}

    def _mi_input(self, X: torch.Tensor) -> torch.Tensor:
        """onehot(a) || onehot(b): the pairs as the float matrix the MI penalty reads."""
        return torch.nn.functional.one_hot(X, self._modulus()).reshape(len(X), -1).to(self.module_dtype_)

    def _embedding(self, X: torch.Tensor) -> torch.Tensor:
        """The last hidden layer's output on ``X``, with its graph (what ``barlow_penalty`` compares)."""
        return last_hidden_output(self.module_, self.module_, X)


class ModularMLPClassifier(MLPParams, _ModularClassifier):
    __doc__ = """One-hot MLP on modular arithmetic: the setting of Clauw et al.

    The input is onehot(a) ‖ onehot(b) (2p dims); the first layer applied to
    it is a row gather (two rows of the first weight matrix summed), equal to
    the matmul up to float rounding and several times cheaper. The defaults are
    Clauw et al.'s (their p = 97 is what ``p=None`` infers from their data):
    one hidden layer of 250 ReLU units without biases, full-batch AdamW lr
    0.03, betas (0.9, 0.98), weight decay 0.1 (they also use 2), 4 000 steps on
    40 % of the pairs.

    Grokking in under a minute on one CPU thread: at ``weight_decay=2``, on 40 %
    of the pairs of addition mod 97, train accuracy reaches 0.99 at step 32 and
    test accuracy 0.95 at step 316 (seed 0; ``grokkit reproduce
    modular_addition_groks_in_a_minute --quick``)::

        X, y, X_test, y_test = make_modular(p=97, train_fraction=0.4, random_state=0)
        clf = ModularMLPClassifier(weight_decay=2.0, max_epochs=400, random_state=0)
        clf.fit(X, y, eval_set=(X_test, y_test)).grokking_summary()

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
        return OneHotPairMLP(self._modulus(), as_sizes(self.hidden_layer_sizes), self.activation,
                             bias=self.bias, zero_last=self.zero_last, dropout=self.dropout)


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

    TransformerLens: :meth:`hooked` gives the fitted model with
    TransformerLens's hook points (``run_with_cache``, activation patching);
    :meth:`from_hooked_transformer` and :meth:`to_hooked_transformer` read and
    write ``HookedTransformer`` checkpoints (the format of the circulating
    grokking checkpoints).

    The default size takes hours of CPU to grok at p = 113. A small setting
    that groks in seconds of CPU time (15 s on one torch thread, start-up
    included; seed 0): p = 31 on half of the pairs, d_model 64, d_mlp 256,
    lr 3e-3, the default weight decay 1 and betas (0.9, 0.98). Train accuracy
    reaches 0.99 at step 56 while test accuracy stalls near 0.45; test
    accuracy passes 0.95 at step 1 000 (recorded steps; 0.99 at step 1 200)::

        X, y, X_test, y_test = make_modular(p=31, train_fraction=0.5, random_state=0)
        clf = ModularTransformer(d_model=64, d_mlp=256, lr=3e-3, max_epochs=1200, random_state=0)
        clf.fit(X, y, eval_set=(X_test, y_test)).grokking_summary()

    A smaller p leaves fewer training pairs and groks later: at p = 23 on half
    of the pairs (default width, lr 3e-3) test accuracy is only 0.64 after
    2 000 steps.

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
    _defaults = {"lr": 1e-3, "weight_decay": 1.0, "max_epochs": 15000,
                 "measures": TRANSFORMER_MEASURES}

    def build_module(self) -> nn.Module:
        return ModularTransformerNet(p=self._modulus(), d_model=self.d_model, n_heads=self.n_heads,
                                     d_mlp=self.d_mlp, n_layers=self.n_layers, act=self.act,
                                     use_layernorm=self.use_layernorm)

    # ------------------------------------------------ TransformerLens interop
    def hooked(self) -> nn.Module:
        """The fitted model as a TransformerLens ``HookedRootModule`` with TransformerLens's hook names.

        A :class:`grokkit.interp.hooked.HookedModularTransformer` over
        ``module_``'s own parameters (shared, not copied: training or loading
        weights into either changes both), so ``run_with_cache``,
        ``run_with_hooks`` and ``transformer_lens.patching`` work on it. Its
        hook points are ``hook_embed``, ``hook_pos_embed``, and per block
        ``blocks.0.hook_resid_pre``, ``blocks.0.attn.hook_q``/``hook_k``/
        ``hook_v``/``hook_attn_scores``/``hook_pattern``/``hook_z``,
        ``blocks.0.hook_attn_out``, ``blocks.0.hook_resid_mid``,
        ``blocks.0.mlp.hook_pre``/``hook_post``, ``blocks.0.hook_mlp_out``,
        ``blocks.0.hook_resid_post``. Its input is the tokens ``[a, b, =]``
        (shape (n, 3)) or the pairs ``(a, b)``; its output the logits at every
        position, (n, 3, p). ``blocks.0.mlp.hook_post[:, -1]`` is the
        activation grokkit's measures read (``blocks.0.mlp.act``).

        Call it again after a new ``fit`` (which builds a new ``module_``).

        Raises
        ------
        ImportError
            TransformerLens >= 4 is not installed: ``pip install "grokkit[interp]"``.
        """
        check_is_fitted(self, "module_")
        from grokkit.interp import hooked_transformer

        return hooked_transformer(self.module_)

    def to_hooked_transformer(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The fitted model as a TransformerLens 3.x ``HookedTransformer`` checkpoint: state dict, config.

        ``HookedTransformer(HookedTransformerConfig(**config)).load_state_dict(state_dict)``
        loads it (strict: the state dict holds the zero attention and
        unembedding biases and the ``mask`` and ``IGNORE`` buffers
        TransformerLens registers), and that model's logits at the last
        position equal this estimator's up to float rounding. The tensors are
        CPU copies; ``config["dtype"]`` is the estimator's dtype. No
        TransformerLens is needed. See :mod:`grokkit.models.hooked_format`.

        Raises
        ------
        ValueError
            The activation (``act``) is one TransformerLens does not compute
            the same way ("tanh", "leaky_relu").
        """
        check_is_fitted(self, "module_")
        return state_dict_to_hooked(self.module_), hooked_config(self.module_)

    @classmethod
    def from_hooked_transformer(cls, state_dict: Mapping[str, torch.Tensor], config: Any,
                                **params: Any) -> ModularTransformer:
        """A fitted estimator holding a TransformerLens ``HookedTransformer``'s weights.

        The circulating grokking checkpoints (Nanda et al.'s p = 113 model, the
        TransformerLens grokking demo) are TransformerLens 3.x state dicts with
        their configs; no TransformerLens is needed to read them. The
        architecture parameters (``p = d_vocab − 1``, ``d_model``, ``n_heads``,
        ``d_mlp``, ``n_layers``, ``act``, ``use_layernorm``) and the dtype come
        from ``config``; ``params`` sets any other parameter (``measures``,
        ``loss``, ``device``...). The result predicts, measures and feeds
        :class:`~grokkit.analysis.OInformationAnalyzer` as a fitted
        estimator does; its logits equal the HookedTransformer's logits at
        the last position up to float rounding. It has not seen data, so
        ``progress_`` is empty (build one over a series of checkpoints with
        :func:`grokkit.analysis.progress_from_checkpoints`).

        Parameters
        ----------
        state_dict : mapping of str to Tensor
            ``HookedTransformer.state_dict()``.
        config : dict or HookedTransformerConfig-like object
            Its config (a dict, or any object with the config's attributes).
        **params
            Other estimator parameters; ones the config fixes must agree with it.

        Raises
        ------
        ValueError
            The model is one grokkit's transformer cannot hold; the message
            names what differs (normalisation, activation, context length,
            vocabulary, non-zero attention biases, layers...). Or ``params``
            contradicts the config.
        """
        architecture = net_params_from_hooked(config)
        dtype = architecture.pop("dtype")
        weights = state_dict_from_hooked(state_dict, config)
        dtype = dtype if dtype is not None else weights["embed.W_E"].dtype
        names = {torch.float32: "float32", torch.float64: "float64"}
        if dtype not in names:
            raise ValueError(f"the HookedTransformer's dtype is {dtype}; ModularTransformer holds "
                             f"{sorted(names.values())}.")
        clash = [f"{k}={params[k]!r} (the config says {v!r})" for k, v in architecture.items()
                 if k in params and params[k] != v]
        if clash:
            raise ValueError(f"from_hooked_transformer: {', '.join(clash)}; leave them out.")
        estimator = cls(**{**architecture, "dtype": names[dtype], **params})
        p = architecture["p"]
        estimator._initialize_from({"n_features_in_": 2, "n_outputs_": p, "classes_": list(range(p)),
                                    "initial_record": {}, "n_steps": 0}, "from_hooked_transformer")
        with torch.no_grad():
            estimator.module_.load_state_dict(weights)
        estimator.initial_record_ = {}
        estimator.n_steps_ = 0
        estimator._best_scores = best_scores(estimator.history)
        estimator.progress_ = progress_frame(estimator.history, estimator.initial_record_)
        return estimator
