"""Omnigrok's teacher–student regression task (Liu, Michaud & Tegmark, §3)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from grokkit._validation import check_number, check_options, check_random_state

#: Activations of the teacher network, as numpy functions.
TEACHER_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "identity": lambda z: z,
}


def _torch_default_linear(fan_in: int, fan_out: int, rng: np.random.RandomState
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Weights and bias drawn as PyTorch's default ``nn.Linear`` init draws them.

    ``kaiming_uniform_(a=√5)`` on the weight and the bias rule of
    ``nn.Linear.reset_parameters`` both give U(−1/√fan_in, 1/√fan_in).
    """
    bound = 1.0 / np.sqrt(fan_in)
    weight = rng.uniform(-bound, bound, size=(fan_out, fan_in))
    bias = rng.uniform(-bound, bound, size=fan_out)
    return weight, bias


def teacher_forward(teacher: Sequence[tuple[np.ndarray, np.ndarray]], X: np.ndarray,
                    activation: str = "tanh") -> np.ndarray:
    """Outputs of a teacher network ``[(W1, b1), ..., (WK, bK)]`` on ``X`` (float64).

    h₀ = X, h_k = σ(h_{k−1} W_kᵀ + b_k) for k < K, output h_{K−1} W_Kᵀ + b_K
    (no activation after the last layer, as in :class:`grokkit.models.MLP`).
    """
    check_options("activation", activation, TEACHER_ACTIVATIONS)
    act = TEACHER_ACTIVATIONS[activation]
    h = np.asarray(X, dtype=np.float64)
    for k, (weight, bias) in enumerate(teacher):
        h = h @ weight.T + bias
        if k < len(teacher) - 1:
            h = act(h)
    return h


def make_teacher_student(
    n_train: int = 100,
    n_test: int = 100,
    d_in: int = 5,
    d_out: int = 5,
    widths: Sequence[int] = (100, 100),
    activation: str = "tanh",
    random_state: int | np.random.RandomState | None = None,
    return_teacher: bool = False,
) -> tuple[np.ndarray, ...]:
    r"""Inputs x ~ N(0, I) labelled by a randomly initialised teacher MLP (Omnigrok §3).

    The teacher is a ``d_in``-``widths``-``d_out`` MLP with PyTorch's default
    initialisation (every weight and bias ~ U(−1/√fan_in, 1/√fan_in)), i.e.
    α_teacher = 1; the targets are its outputs
    :math:`y = W_K\,\sigma(\dots\sigma(W_1 x + b_1)\dots) + b_K`. A student of
    the same architecture (:class:`grokkit.GrokMLPRegressor` with
    ``hidden_layer_sizes=widths, activation="tanh", alpha=2``) trained on the
    100 training samples groks with weight decay (Omnigrok Fig. 2b). Its
    "accuracy" is the fraction of samples with per-sample MSE below the
    regressor's ``accuracy_threshold`` (§3 uses an error threshold θ = 0.01;
    the Omnigrok notebook that produced Fig. 2 uses MSE < 10⁻³, the default).

    Parameters
    ----------
    n_train, n_test : int, default=100
        Sample counts (Omnigrok: 100 and 100).
    d_in, d_out : int, default=5
    widths : sequence of int, default=(100, 100)
        Hidden widths of the teacher (5-100-100-5 in Omnigrok).
    activation : {"tanh", "relu", "identity"}, default="tanh"
    random_state : int, RandomState or None
        Seeds the teacher and the inputs (numpy only; torch's RNG is untouched).
    return_teacher : bool, default=False
        Also return the teacher as a list of ``(weight, bias)`` float64 arrays,
        ``weight`` of shape ``(fan_out, fan_in)`` as in ``nn.Linear``.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray of float32
        Shapes ``(n_train, d_in)``, ``(n_train, d_out)``, ``(n_test, d_in)``,
        ``(n_test, d_out)``.
    teacher : list of (ndarray, ndarray)
        Only with ``return_teacher=True``; :func:`teacher_forward` evaluates it.

    Examples
    --------
    >>> from grokkit.datasets import make_teacher_student
    >>> X, y, X_test, y_test = make_teacher_student(random_state=0)
    >>> X.shape, y.shape, X_test.shape
    ((100, 5), (100, 5), (100, 5))
    """
    check_number("n_train", n_train, low=1, integer=True)
    check_number("n_test", n_test, low=0, integer=True)
    check_number("d_in", d_in, low=1, integer=True)
    check_number("d_out", d_out, low=1, integer=True)
    if isinstance(widths, (int, np.integer)):
        widths = (int(widths),)
    if not isinstance(widths, Sequence) or not all(
        isinstance(w, (int, np.integer)) and not isinstance(w, bool) and w > 0 for w in widths
    ):
        raise ValueError(f"widths must be a sequence of positive ints; got {widths!r}.")
    check_options("activation", activation, TEACHER_ACTIVATIONS)
    rng = check_random_state(random_state)
    sizes = [int(d_in), *map(int, widths), int(d_out)]
    teacher = [_torch_default_linear(sizes[k], sizes[k + 1], rng) for k in range(len(sizes) - 1)]
    X = rng.standard_normal((n_train + n_test, d_in))
    y = teacher_forward(teacher, X, activation)
    X, y = X.astype(np.float32), y.astype(np.float32)
    out = (X[:n_train], y[:n_train], X[n_train:], y[n_train:])
    return (*out, teacher) if return_teacher else out
