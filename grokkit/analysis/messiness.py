r"""Omnigrok's representation-messiness toy (§5.1, App. D): the reduced landscape over (w, m).

Addition base p: symbols 0 ≤ i, j < p are embedded as E_i, E_j and a decoder
MLP maps E_i + E_j to a fixed random 30-d vector :math:`\hat{\mathbf Y}_{i+j}`
(MSE). The representation interpolates between a linear and a random one,

.. math:: \mathbf R = m\,\mathbf R_{\rm random} + (1 - m)\,\mathbf R_{\rm linear}
   \quad\text{(eq. 4)},\qquad \mathbf R_{\rm linear}: E_k = [k, 0, \dots],
   \quad \mathbf R_{\rm random}: E_k \sim \mathcal N(0, I),

with m ∈ [0, 1] the *representation messiness*. In the landscape analysis the
representation and the decoder norm w are fixed and only the decoder direction
is trained (App. D, Table 1), giving :math:`\tilde\ell_{\rm train}(w, m)` and
:math:`\tilde\ell_{\rm test}(w, m)` (eq. 5, Fig. 6a–b). With R fixed the toy is a
regression on inputs x = E_i + E_j, so each (w, m) point is a
:class:`~grokkit.analysis.landscape.ReducedLandscape` point.

Two layouts. ``layout="paper"`` follows the text of App. D (scalar
embeddings, R_linear = [k], R_random ~ N(0, 1), 2p − 1 targets indexed by
i + j, a ReLU decoder, Adam 10⁻³ for 10⁴ steps); at these settings the
decoder does not fit the 45 pairs in 3 000–15 000 steps (train loss ≥ 0.4).
``layout="code"`` follows the public notebook that drew Fig. 6
(``mod-addition/landscape/addition-landscape.ipynb``): a 2-d latent whose
linear part is ``linspace(-1, 1, p)`` in the first coordinate and
U(−0.3, 0.3) in the second, a U(−1, 1) random part, p targets indexed by
(i + j) mod p, Adam lr 10⁻² with betas (0.9, 0.99) and ×0.2 every 5 000 of
15 000 steps, and (there) LeakyReLU(0.2), which grokkit's decoder replaces by
LeakyReLU(0.01). The notebook reports the final losses; grokkit reports the
best recorded ones, as :class:`ReducedLandscape` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from grokkit._interrupts import multi_run
from grokkit._validation import check_number, check_options, check_random_state
from grokkit.analysis._checks import (
    check_grok_estimator,
    check_n_jobs,
    check_positive_grid,
    interrupt_hint,
    warn_diverged,
)
from grokkit.analysis.landscape import (
    Convergence,
    fit_reduced_points,
    warn_replaced_budget,
    warn_unconverged,
)

LAYOUTS = ("paper", "code")


def messy_representation(p: int = 10, messiness: float = 0.0, embedding_dim: int = 1,
                         random_state: int | np.random.RandomState | None = None,
                         layout: str = "paper") -> np.ndarray:
    r"""The embeddings R = m·R_random + (1 − m)·R_linear of the symbols 0 … p−1 (Omnigrok eq. 4).

    Parameters
    ----------
    p : int, default=10
    messiness : float in [0, 1], default=0.0
        m: 0 gives the linear representation E_k = [k, 0, …], 1 a random one.
    embedding_dim : int, default=1
        1 = the scalar embeddings of App. D (the public notebook uses 2).
    random_state : int, RandomState or None
        Seeds R_random (the same draw for every m with the same seed).
    layout : {"paper", "code"}, default="paper"
        ``"paper"``: R_linear = [k, 0, …], R_random ~ N(0, I). ``"code"`` (the
        public notebook): R_linear = [linspace(−1, 1, p)_k, U(−0.3, 0.3), …],
        R_random ~ U(−1, 1).

    Returns
    -------
    ndarray of shape (p, embedding_dim)
    """
    check_number("p", p, low=2, integer=True)
    check_number("messiness", messiness, low=0, high=1)
    check_number("embedding_dim", embedding_dim, low=1, integer=True)
    check_options("layout", layout, LAYOUTS)
    rng = check_random_state(random_state)
    if layout == "paper":
        random = rng.standard_normal((p, embedding_dim))
        linear = np.zeros((p, embedding_dim))
        linear[:, 0] = np.arange(p)
    else:
        linear = rng.uniform(-0.3, 0.3, (p, embedding_dim))
        linear[:, 0] = np.linspace(-1.0, 1.0, p)
        random = rng.uniform(-1.0, 1.0, (p, embedding_dim))
    return messiness * random + (1.0 - messiness) * linear


def make_messy_addition(p: int = 10, messiness: float = 0.0, train_size: int = 45, output_dim: int = 30,
                        embedding_dim: int | None = None,
                        random_state: int | np.random.RandomState | None = None, layout: str = "paper"
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Addition base p on a fixed representation: x = E_i + E_j → Ŷ_{i+j} (Omnigrok App. D).

    The samples are the p(p+1)/2 unordered pairs i ≤ j (addition commutes, and
    the decoder sees only E_i + E_j); ``train_size`` of them, drawn at random,
    form the training set and the rest the test set. Targets Ŷ_k,
    k = 0 … 2(p−1), are ``output_dim``-dimensional N(0, I) vectors. One seed fixes
    R_random, the targets and the split, so datasets that differ in m differ
    only in the representation.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray of float32
        Inputs of shape (n, embedding_dim), targets of shape (n, output_dim).
    """
    check_options("layout", layout, LAYOUTS)
    if embedding_dim is None:
        embedding_dim = 1 if layout == "paper" else 2
    check_number("p", p, low=2, integer=True)
    n_pairs = p * (p + 1) // 2
    check_number("train_size", train_size, low=1, high=n_pairs - 1, integer=True)
    check_number("output_dim", output_dim, low=1, integer=True)
    seed = check_random_state(random_state).randint(0, 2**31 - 1)
    rng = np.random.RandomState(seed)
    embeddings = messy_representation(p, messiness, embedding_dim, rng, layout=layout)
    i, j = np.triu_indices(p)
    if layout == "paper":
        targets = rng.standard_normal((2 * p - 1, output_dim))
        y = targets[i + j].astype(np.float32)
    else:
        targets = rng.standard_normal((p, output_dim))
        y = targets[(i + j) % p].astype(np.float32)
    X = (embeddings[i] + embeddings[j]).astype(np.float32)
    order = rng.permutation(n_pairs)
    train, test = np.sort(order[:train_size]), np.sort(order[train_size:])
    return X[train], y[train], X[test], y[test]


def default_decoder(layout: str = "paper") -> Any:
    """The decoder: a d-200-200-30 MLP trained full batch on MSE.

    ``"paper"``: App. D's ReLU decoder, Adam lr 10⁻³, 10⁴ steps. ``"code"``: the
    public notebook's Adam lr 10⁻², betas (0.9, 0.99), ×0.2 every 5 000 of
    15 000 steps, with LeakyReLU(0.01) for its LeakyReLU(0.2).
    """
    from grokkit.estimators.mlp import GrokMLPRegressor

    check_options("layout", layout, LAYOUTS)
    if layout == "paper":
        return GrokMLPRegressor(hidden_layer_sizes=(200, 200), activation="relu", optimizer="adam", lr=1e-3,
                                weight_decay=0.0, batch_size=None, max_epochs=10_000, measure_every=50,
                                measures=None)
    from skorch.callbacks import LRScheduler
    from torch.optim.lr_scheduler import StepLR

    return GrokMLPRegressor(hidden_layer_sizes=(200, 200), activation="leaky_relu", optimizer="adam",
                            lr=1e-2, betas=(0.9, 0.99), weight_decay=0.0, batch_size=None, max_epochs=15_000,
                            measure_every=50, measures=None, flush_denormal=True,
                            callbacks=[LRScheduler(StepLR, step_size=5000, gamma=0.2)])


class MessinessLandscape(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    r"""Reduced train/test loss over decoder norm w = α·w₀ and representation messiness m (Fig. 6a–b).

    For every m a dataset :func:`make_messy_addition` is built (same seed, so
    only R changes) and for every α the decoder is trained at fixed norm on
    directions only, as in :class:`~grokkit.analysis.landscape.ReducedLandscape`.
    The paper finds the train loss depends weakly on m and the test loss
    strongly: small for small m at w near w_c, large for messy representations.

    Parameters
    ----------
    estimator : grokkit regressor or None, default=None
        The decoder; ``None`` = :func:`default_decoder` of ``layout``.
        ``embedding_dim`` decides its input width.
    messiness : sequence of float in [0, 1], default=(0, 0.25, 0.5, 0.75, 1)
    alphas : sequence of float, default=``np.logspace(-1, 1, 9)``
    p : int, default=10
    train_size : int, default=45
        Training pairs out of p(p+1)/2 = 55 (Fig. 6e compares 25 … 55).
    output_dim : int, default=30
    embedding_dim : int or None, default=None
        1 for ``layout="paper"``, 2 for ``"code"``.
    layout : {"paper", "code"}, default="paper"
        See the module docstring: App. D's text or the notebook behind Fig. 6.
    n_jobs, random_state, verbose
        As for ReducedLandscape: one seed for every (m, α); identical tables
        whatever ``n_jobs``.
    window : int or None, default=None
        ``None``: every point trains the decoder's fixed schedule
        (``max_epochs``). An int: each point trains until its train loss has
        converged, as in ReducedLandscape (the best train loss improved by at
        most ``rtol`` of itself plus ``atol`` over the last ``window`` steps),
        or ``max_steps`` are spent, and the table gains ``converged`` and
        ``steps``; points that did not converge are named in a
        ``ConvergenceWarning`` and hatched by
        :func:`~grokkit.plotting.plot_landscape_heatmap`.
    rtol, atol, max_steps
        The convergence rule and step budget of ReducedLandscape, used when
        ``window`` is set (``max_steps=None``: the decoder's ``max_epochs``;
        a ``max_steps`` that replaces a ``max_epochs`` set on the decoder is
        named in a warning).
    memory : str, path or joblib.Memory, default=None
        As for ReducedLandscape: finished points are kept there, and a fit
        interrupted by Ctrl-C (which stops as a whole) resumes from them.

    Attributes
    ----------
    landscape_ : pandas.DataFrame
        ``messiness`` then the ReducedLandscape columns (``alpha``,
        ``weight_norm``, ``n_train``, ``train_loss``, ``test_loss``,
        ``train_acc``, ``test_acc``, ``diverged``, and with ``window`` set
        ``converged`` and ``steps``); the accuracies use the estimator's
        ``accuracy_threshold``.
    seed_ : int
    """

    def __init__(self, estimator: Any = None, messiness: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
                 alphas: Sequence[float] | None = None, p: int = 10, train_size: int = 45,
                 output_dim: int = 30, embedding_dim: int | None = None, n_jobs: int | None = None,
                 random_state: int | np.random.RandomState | None = None, verbose: int = 0,
                 layout: str = "paper", window: int | None = None, rtol: float = 1e-3,
                 atol: float = 1e-6, max_steps: int | None = None, memory: Any = None) -> None:
        self.estimator = estimator
        self.messiness = messiness
        self.alphas = alphas
        self.p = p
        self.train_size = train_size
        self.output_dim = output_dim
        self.embedding_dim = embedding_dim
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.layout = layout
        self.window = window
        self.rtol = rtol
        self.atol = atol
        self.max_steps = max_steps
        self.memory = memory

    def fit(self, X: Any = None, y: Any = None) -> MessinessLandscape:
        """Build the datasets and train every (m, α) point; ``X`` and ``y`` are ignored."""
        check_options("layout", self.layout, LAYOUTS)
        estimator = default_decoder(self.layout) if self.estimator is None else self.estimator
        check_grok_estimator("estimator", estimator)
        ms = check_positive_grid("messiness", self.messiness, allow_zero=True)
        if np.any(ms > 1):
            raise ValueError(f"messiness must be a non-empty sequence of floats in [0, 1]; "
                             f"got {self.messiness!r}.")
        alphas = check_positive_grid("alphas", np.logspace(-1, 1, 9) if self.alphas is None
                                     else self.alphas)
        check_n_jobs(self.n_jobs)
        check_number("verbose", self.verbose, low=0, integer=True)
        convergence = None if self.window is None else Convergence.checked(
            self.rtol, self.atol, self.window, self.max_steps)
        rng = check_random_state(self.random_state)
        data_seed = int(rng.randint(0, 2**31 - 1))
        self.seed_ = int(rng.randint(0, 2**31 - 1))
        warn_replaced_budget("MessinessLandscape", estimator, convergence)
        frames: list[pd.DataFrame] = []
        hint = interrupt_hint("MessinessLandscape", lambda: len(frames) * len(alphas), len(ms) * len(alphas),
                              self.memory)
        with multi_run(hint):
            for m in ms:
                X_tr, y_tr, X_te, y_te = make_messy_addition(self.p, float(m), self.train_size,
                                                             self.output_dim, self.embedding_dim, data_seed,
                                                             layout=self.layout)
                # every α at this m through one grokkit.Sweep (stacked when the decoder allows it)
                rows = fit_reduced_points(estimator, alphas, len(X_tr), X_tr, y_tr, (X_te, y_te),
                                          self.seed_, scale_lr=False, convergence=convergence,
                                          n_jobs=self.n_jobs, verbose=self.verbose, memory=self.memory)
                frames.append(pd.DataFrame(rows).assign(messiness=float(m)))
        table = pd.concat(frames, ignore_index=True)
        table = table[["messiness", *[c for c in table.columns if c != "messiness"]]]
        self.landscape_ = table
        warn_diverged("MessinessLandscape", table, ("messiness", "alpha"))
        if convergence is not None:
            warn_unconverged("MessinessLandscape", table, ("messiness", "alpha"), convergence)
        return self

    def transform(self, X: Any = None) -> pd.DataFrame:
        """The fitted ``landscape_`` (a copy); ``X`` is ignored."""
        check_is_fitted(self, "landscape_")
        return self.landscape_.copy()

    def fit_transform(self, X: Any = None, y: Any = None, **fit_params: Any) -> pd.DataFrame:
        return self.fit(X, y).transform()
