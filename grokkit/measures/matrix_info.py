r"""Matrix-based information theory of representations (Tan & Huang §2.2, §4, App. A).

A representation :math:`Z \in \mathbb{R}^{n\times d}` (one row per sample) is
summarised by the Gram matrix of its L2-normalised rows,
:math:`R_{ij} = \langle z_i/\|z_i\|, z_j/\|z_j\|\rangle` (so :math:`R_{ii} = 1`), and
every quantity is a function of the spectrum of the trace-normalised
:math:`A = R/\operatorname{tr}R = R/n`, a density matrix (positive semi-definite,
unit trace). All logarithms are natural (nats).

The public functions take numpy arrays or torch tensors and return floats; the
computation runs in torch on the input's device (CUDA tensors stay on the GPU).
:func:`_matrix_mutual_information_torch` keeps the autograd graph, for the
MI-regularised training of Tan & Huang §4.3.

The robustness measures of Tan & Huang Defs. 4.1-4.4 read a module on a fixed,
seeded subsample of the data:

========  ==========================================  =====================================
short     function                                    quantity
========  ==========================================  =====================================
PMI       :func:`perturb_mutual_information`        :math:`I(X+\Delta;\, f(X+\Delta))`
PE        :func:`perturb_entropy`                   :math:`H(f(X+\Delta))`
MID       :func:`mutual_information_difference`       :math:`|PMI_\sigma - PMI_0|`
ED        :func:`entropy_difference`                  :math:`|PE_\sigma - PE_0|`
========  ==========================================  =====================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from grokkit._validation import check_number
from grokkit.measures._capture import as_module_tensor, capture, evaluation, hidden_modules, recording
from grokkit.measures.registry import measure


def _as_representation(Z: Any, name: str) -> torch.Tensor:
    """``Z`` as a finite float64 tensor of shape (n_samples, n_features), on its device."""
    if torch.is_tensor(Z):
        tensor = Z.detach()
    else:
        try:
            array = np.asarray(Z)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} must be a numpy array or a torch tensor; got {type(Z).__name__}."
            ) from exc
        if array.dtype == object or not (
            np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
        ):
            raise TypeError(f"{name} must hold numbers; got an array of dtype {array.dtype}.")
        tensor = torch.as_tensor(array)
    if tensor.is_complex():
        raise TypeError(f"{name} must be real; got a tensor of dtype {tensor.dtype}.")
    if tensor.dim() != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features); got shape {tuple(tensor.shape)}."
        )
    if tensor.shape[0] < 1 or tensor.shape[1] < 1:
        raise ValueError(
            f"{name} needs at least one sample and one feature; got shape {tuple(tensor.shape)}."
        )
    tensor = tensor.to(torch.float64)
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return tensor


def _check_order(order: Any) -> float:
    check_number("order", order, low=0.0, low_inclusive=False)
    if not np.isfinite(order):
        raise ValueError(f"order must be a finite positive number; got {order!r}.")
    return float(order)


def _check_same_samples(Z1: torch.Tensor, Z2: torch.Tensor) -> None:
    if Z1.shape[0] != Z2.shape[0]:
        raise ValueError(
            "Z1 and Z2 must have the same number of samples (rows); got "
            f"{Z1.shape[0]} and {Z2.shape[0]}."
        )
    if Z1.device != Z2.device:
        raise ValueError(f"Z1 and Z2 must be on the same device; got {Z1.device} and {Z2.device}.")


def _unit_rows(Z: torch.Tensor) -> torch.Tensor:
    """Rows scaled to unit L2 norm; all-zero rows become one shared extra unit vector.

    A zero row has no direction. Giving every zero row the same new axis,
    orthogonal to the other rows, keeps :math:`R_{ii} = 1` (the paper's
    assumption) and makes an all-zero representation (e.g. the logits of a network
    whose last layer starts at zero) a constant one, of entropy 0, instead of NaN.
    """
    norms = torch.linalg.vector_norm(Z, dim=1, keepdim=True)
    zero = norms == 0
    rows = Z / torch.where(zero, torch.ones_like(norms), norms)
    if bool(zero.any()):
        rows = torch.cat([rows, zero.to(rows.dtype)], dim=1)
    return rows


def _normalised_gram(Z: torch.Tensor) -> torch.Tensor:
    """Gram matrix :math:`R` of the L2-normalised rows (unit diagonal)."""
    rows = _unit_rows(Z)
    return rows @ rows.T


def _spectral_entropy(eigenvalues: torch.Tensor, order: float) -> torch.Tensor:
    """Rényi entropy of a spectrum summing to one, with finite gradients at zero eigenvalues."""
    tiny = torch.finfo(eigenvalues.dtype).eps * eigenvalues.shape[-1]
    positive = eigenvalues > tiny
    # Masked eigenvalues are replaced by 1 *before* log/pow, so their gradient is
    # exactly zero rather than 0 * inf = NaN.
    safe = torch.where(positive, eigenvalues, torch.ones_like(eigenvalues))
    if order == 1.0:
        terms = torch.where(positive, safe * torch.log(safe), torch.zeros_like(safe))
        return -terms.sum()
    terms = torch.where(positive, safe.pow(order), torch.zeros_like(safe))
    return torch.log(terms.sum()) / (1.0 - order)


def _density_entropy(gram: torch.Tensor, order: float) -> torch.Tensor:
    """:math:`H_\\alpha(R/\\operatorname{tr} R)` of a symmetric PSD matrix ``R``."""
    density = gram / torch.trace(gram)
    if order == 2.0:
        # tr(A^2) = ||A||_F^2 for symmetric A: no eigendecomposition needed.
        return -torch.log(density.pow(2).sum())
    eigenvalues = torch.linalg.eigvalsh(density)
    return _spectral_entropy(eigenvalues.clamp(min=0.0), order)


def _matrix_entropy_torch(Z: torch.Tensor, order: float = 1.0) -> torch.Tensor:
    """Differentiable :func:`matrix_entropy` of a tensor; returns a 0-d tensor in Z's dtype.

    Uses the smaller of the ``n x n`` and ``d x d`` Gram matrices, which share
    their non-zero spectrum.
    """
    rows = _unit_rows(Z)
    gram = rows.T @ rows if rows.shape[1] < rows.shape[0] else rows @ rows.T
    return _density_entropy(gram, order)


def _matrix_joint_entropy_torch(
    Z1: torch.Tensor, Z2: torch.Tensor, order: float = 1.0
) -> torch.Tensor:
    """Differentiable :func:`matrix_joint_entropy`; returns a 0-d tensor."""
    return _density_entropy(_normalised_gram(Z1) * _normalised_gram(Z2), order)


def _matrix_mutual_information_torch(
    Z1: torch.Tensor, Z2: torch.Tensor, order: float = 1.0
) -> torch.Tensor:
    r"""Differentiable matrix mutual information :math:`I_\alpha(Z_1; Z_2)`; a 0-d tensor.

    The autograd graph is kept, so ``loss - weight * _matrix_mutual_information_torch(X, logits)``
    is the MI-regularised objective of Tan & Huang §4.3. No input checks: the
    caller passes 2-D floating tensors with the same number of rows.
    """
    return (
        _matrix_entropy_torch(Z1, order)
        + _matrix_entropy_torch(Z2, order)
        - _matrix_joint_entropy_torch(Z1, Z2, order)
    )


KERNELS = ("cosine", "covariance")


def _covariance_entropy_torch(Z: torch.Tensor, order: float = 1.0) -> torch.Tensor:
    """:math:`H_\\alpha(\\Sigma/\\operatorname{tr}\\Sigma)` of the feature covariance of ``Z``; 0 if constant.

    Uses the smaller of :math:`Z_c^\\top Z_c` and :math:`Z_c Z_c^\\top` (same non-zero spectrum). A
    representation whose centred rows are rounding noise (below ``n·eps·‖Z‖_F``) counts as constant.
    """
    centred = Z - Z.mean(dim=0, keepdim=True)
    floor = Z.shape[0] * torch.finfo(Z.dtype).eps * torch.linalg.matrix_norm(Z)
    if float(torch.linalg.matrix_norm(centred)) <= float(floor):
        return Z.new_zeros(())
    gram = centred.T @ centred if centred.shape[1] < centred.shape[0] else centred @ centred.T
    return _density_entropy(gram, order)


def matrix_entropy(Z: Any, order: float = 1, kernel: str = "cosine") -> float:
    r"""Matrix-based Rényi entropy of a representation (Tan & Huang Def. 2.1).

    .. math::
        H_\alpha(R) = \frac{1}{1-\alpha}\log\operatorname{tr}\big[(R/n)^\alpha\big]
                    = \frac{1}{1-\alpha}\log\sum_i \lambda_i^\alpha,
        \qquad
        H_1(R) = -\operatorname{tr}\big[(R/n)\log(R/n)\big] = -\sum_i \lambda_i\log\lambda_i

    where :math:`R` is the Gram matrix of the L2-normalised rows of ``Z`` and
    :math:`\lambda_i` the eigenvalues of :math:`R/\operatorname{tr}R` (Skean et al.
    2023). It ranges from 0 (all rows parallel) to :math:`\log n` (rows
    orthogonal). All-zero rows count as one shared direction orthogonal to the
    other rows, so an all-zero representation has entropy 0.

    Parameters
    ----------
    Z : array or tensor of shape (n_samples, n_features)
        The representation; rows are samples.
    order : float, default=1
        :math:`\alpha > 0`; 1 is the von Neumann entropy used throughout the paper,
        2 is :math:`-\log\|R/n\|_F^2` (the case of its §4.2 analysis).
    kernel : {"cosine", "covariance"}, default="cosine"
        ``"cosine"``: :math:`R` as above (Def. 2.1). ``"covariance"``: the
        *covariance entropy* of Tan & Huang Fig. 21,
        :math:`H_\alpha(\Sigma/\operatorname{tr}\Sigma)` with
        :math:`\Sigma = Z_c^\top Z_c/n` the covariance of the centred features
        (columns); it ranges from 0 (one direction of variance, or a constant
        representation) to :math:`\log\min(n - 1, d)`.

    Returns
    -------
    float
        Entropy in nats.

    Examples
    --------
    >>> import numpy as np
    >>> round(matrix_entropy(np.eye(4)), 6) == round(float(np.log(4)), 6)
    True
    >>> round(matrix_entropy(np.eye(4), kernel="covariance"), 6) == round(float(np.log(3)), 6)
    True
    """
    order = _check_order(order)
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {', '.join(map(repr, KERNELS))}; got {kernel!r}.")
    Z = _as_representation(Z, "Z")
    with torch.no_grad():
        if kernel == "covariance":
            return float(_covariance_entropy_torch(Z, order))
        return float(_matrix_entropy_torch(Z, order))


def matrix_joint_entropy(Z1: Any, Z2: Any, order: float = 1) -> float:
    r"""Matrix-based joint entropy of two representations (Tan & Huang Def. A.1).

    .. math::
        H_\alpha(R_1, R_2) = H_\alpha\!\left(
            \frac{R_1\odot R_2}{\operatorname{tr}(R_1\odot R_2)}\right)

    with :math:`\odot` the Hadamard (element-wise) product of the two normalised
    Gram matrices. :math:`H_\alpha(R_1, R_2) \ge \max(H_\alpha(R_1), H_\alpha(R_2))`.

    Parameters
    ----------
    Z1, Z2 : array or tensor of shape (n_samples, n_features_1 | n_features_2)
        Two representations of the same ``n_samples`` samples, in the same order.
    order : float, default=1
        :math:`\alpha > 0`.

    Returns
    -------
    float
        Joint entropy in nats.
    """
    order = _check_order(order)
    Z1 = _as_representation(Z1, "Z1")
    Z2 = _as_representation(Z2, "Z2")
    _check_same_samples(Z1, Z2)
    with torch.no_grad():
        return float(_matrix_joint_entropy_torch(Z1, Z2, order))


def matrix_mutual_information(Z1: Any, Z2: Any, order: float = 1) -> float:
    r"""Matrix-based mutual information of two representations (Tan & Huang Def. 2.2).

    .. math:: I_\alpha(R_1; R_2) = H_\alpha(R_1) + H_\alpha(R_2) - H_\alpha(R_1 \odot R_2)

    It is 0 when either representation is constant (all rows parallel) and
    equals :math:`H_\alpha(R_2)` when :math:`Z_1` has orthogonal rows. Unlike
    Shannon's, :math:`I(Z; Z) = 2H(R) - H(R\odot R) \le H(R)`, with equality when
    :math:`R` has entries in {0, 1} (e.g. one-hot labels). For the differentiable
    version used as a training penalty see :func:`_matrix_mutual_information_torch`.

    Parameters
    ----------
    Z1, Z2 : array or tensor of shape (n_samples, n_features_1 | n_features_2)
        Two representations of the same samples, in the same order.
    order : float, default=1
        :math:`\alpha > 0`.

    Returns
    -------
    float
        Mutual information in nats.
    """
    order = _check_order(order)
    Z1 = _as_representation(Z1, "Z1")
    Z2 = _as_representation(Z2, "Z2")
    _check_same_samples(Z1, Z2)
    with torch.no_grad():
        return float(_matrix_mutual_information_torch(Z1, Z2, order))


def matrix_js_divergence(Z1: Any, Z2: Any) -> float:
    r"""Matrix-based Jensen-Shannon divergence of two representations (Tan & Huang Def. A.2).

    .. math::
        \mathrm{JS}(R_1 \,\|\, R_2) = H_1\!\left(\frac{R_1 + R_2}{2}\right)
                                    - \frac{H_1(R_1) + H_1(R_2)}{2}

    (Hoyos-Osorio & Sanchez-Giraldo 2023), with von Neumann entropies of the
    trace-normalised Gram matrices of L2-normalised rows. It is symmetric, 0 for
    identical Gram matrices and lies in :math:`[0, \log 2]`.

    Parameters
    ----------
    Z1, Z2 : array or tensor of shape (n_samples, n_features_1 | n_features_2)
        Two representations of the same samples, in the same order.

    Returns
    -------
    float
        Divergence in nats.
    """
    Z1 = _as_representation(Z1, "Z1")
    Z2 = _as_representation(Z2, "Z2")
    _check_same_samples(Z1, Z2)
    with torch.no_grad():
        gram1 = _normalised_gram(Z1)
        gram2 = _normalised_gram(Z2)
        mixture = _density_entropy((gram1 + gram2) / 2.0, 1.0)
        value = mixture - (_density_entropy(gram1, 1.0) + _density_entropy(gram2, 1.0)) / 2.0
        return float(value)


def _subsample_indices(n_total: int, n_samples: int | None, random_state: int) -> np.ndarray:
    """Sorted indices of a seeded subsample without replacement (all rows when it is larger)."""
    if n_samples is None or n_samples >= n_total:
        return np.arange(n_total)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n_total, size=n_samples, replace=False))


def _check_subsample_params(n_samples: Any, random_state: Any) -> None:
    if n_samples is not None:
        check_number("n_samples", n_samples, low=2, integer=True)
    check_number("random_state", random_state, low=0, integer=True)


def _check_sigma(sigma: Any, *, positive: bool = False) -> None:
    check_number("sigma", sigma, low=0.0, low_inclusive=not positive)
    if not np.isfinite(sigma):
        raise ValueError(f"sigma must be finite; got {sigma!r}.")


def _check_layer(module: nn.Module, layer: Any) -> None:
    """``layer`` must be ``"input"``, ``"logits"`` or a hidden layer of ``module``."""
    valid = ("input", "logits", *hidden_modules(module))
    if layer not in valid:
        raise ValueError(f"layer must be one of {', '.join(map(repr, valid))}; got {layer!r}.")


def _layer_output(module: nn.Module, inputs: torch.Tensor, layer: str) -> torch.Tensor:
    """The representation of ``inputs`` at ``layer``: the inputs, a hidden layer's output or the logits."""
    if layer == "input":
        return inputs
    if layer == "logits":
        return module(inputs)
    with recording(module, {layer: hidden_modules(module)[layer]}) as store:
        module(inputs)
    return store[layer]


def _perturbed(module: nn.Module, X: Any, sigma: Any, n_samples: Any, order: Any, random_state: Any,
               positive_sigma: bool = False, layer: str = "logits") -> tuple[float, tuple[torch.Tensor, ...]]:
    """The argument checks and the clean/noisy forward shared by PMI, PE, MID and ED.

    Returns the checked order and (inputs, outputs, noisy inputs, noisy outputs), the outputs read
    at ``layer``.
    """
    _check_sigma(sigma, positive=positive_sigma)
    order = _check_order(order)
    _check_subsample_params(n_samples, random_state)
    _check_layer(module, layer)
    return order, _input_and_outputs(module, X, sigma=sigma, n_samples=n_samples,
                                     random_state=random_state, layer=layer)


def _input_and_outputs(
    module: nn.Module,
    X: Any,
    *,
    sigma: float,
    n_samples: int | None,
    random_state: int,
    layer: str = "logits",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Clean and perturbed inputs of a seeded subsample, and the module's outputs on both.

    Returns ``(inputs, outputs, perturbed_inputs, perturbed_outputs)``, each flattened
    to (n, -1); the outputs are read at ``layer`` (see :func:`_layer_output`). The noise is
    drawn on the CPU from ``random_state``, so the same seed perturbs the same rows by the same
    amount on every call and device.
    """
    X = as_module_tensor(X, module)
    if X.dim() < 2 or X.shape[0] < 2:
        raise ValueError(
            f"X must hold at least 2 samples of shape (n_samples, ...); got shape {tuple(X.shape)}."
        )
    if sigma > 0 and not X.is_floating_point():
        raise TypeError(
            f"X must be floating point to be perturbed by Gaussian noise (sigma={sigma!r}); "
            f"got {X.dtype}. Integer inputs (token indices) cannot be perturbed."
        )
    index = torch.as_tensor(_subsample_indices(X.shape[0], n_samples, random_state))
    clean = X[index.to(X.device)]
    perturbed = clean
    if sigma > 0:
        generator = torch.Generator(device="cpu").manual_seed(int(random_state))
        noise = torch.randn(clean.shape, generator=generator, dtype=torch.float64)
        perturbed = clean + (sigma * noise).to(device=clean.device, dtype=clean.dtype)
    with evaluation(module):
        outputs = _layer_output(module, clean, layer)
        perturbed_outputs = outputs if sigma == 0 else _layer_output(module, perturbed, layer)

    def flat(tensor: torch.Tensor) -> torch.Tensor:
        return tensor.reshape(tensor.shape[0], -1).to(torch.float64)

    return flat(clean), flat(outputs), flat(perturbed), flat(perturbed_outputs)


@measure(needs=("X",))
def perturb_mutual_information(
    module: nn.Module,
    X: Any,
    *,
    sigma: float = 0.1,
    n_samples: int | None = 512,
    order: float = 1,
    random_state: int = 0,
) -> float:
    r"""PMI: matrix mutual information of the input and logit layers under input noise.

    Tan & Huang Def. 4.1:

    .. math:: \mathrm{PMI}(f, \mathcal{D}, \sigma) = I_\alpha\big(X + \Delta;\; f(X + \Delta)\big),
              \qquad \Delta \sim \mathcal{N}(0, \sigma^2 I)

    with :math:`I_\alpha` the matrix mutual information of
    :func:`matrix_mutual_information` (Gram matrices of the L2-normalised rows).
    The "input layer" is the perturbed input the network actually sees. Tan &
    Huang find PMI changes sharply exactly when the network groks (§4.1, Fig. 4).

    Parameters
    ----------
    module : nn.Module
        Read in eval mode under ``no_grad``; never modified.
    X : array or tensor of shape (n_samples, ...)
        Floating-point inputs (the training set in ``progress_``), flattened per sample.
    sigma : float, default=0.1
        Standard deviation of the input noise, :math:`\ge 0`. The paper writes
        :math:`\mathcal{N}(0, \sigma I)`; here ``sigma`` is the standard deviation.
    n_samples : int or None, default=512
        Size of the seeded subsample of ``X`` (the Gram matrices are
        ``n_samples x n_samples``); None or a size above ``len(X)`` uses all rows.
    order : float, default=1
        Rényi order :math:`\alpha`.
    random_state : int, default=0
        Seed of the subsample and of the noise: the same seed reads the same rows
        with the same noise at every recorded epoch, so the curve is not noise.

    Returns
    -------
    float
        PMI in nats.
    """
    order, (_, _, inputs, outputs) = _perturbed(module, X, sigma, n_samples, order, random_state)
    with torch.no_grad():
        return float(_matrix_mutual_information_torch(inputs, outputs, order))


@measure(needs=("X",))
def perturb_entropy(
    module: nn.Module,
    X: Any,
    *,
    sigma: float = 0.1,
    n_samples: int | None = 512,
    order: float = 1,
    random_state: int = 0,
    layer: str = "logits",
) -> float:
    r"""PE: matrix entropy of the logit layer (or another layer) under input noise.

    Tan & Huang Def. 4.2:

    .. math:: \mathrm{PE}(f, \mathcal{D}, \sigma) = H_\alpha\big(f(X + \Delta)\big),
              \qquad \Delta \sim \mathcal{N}(0, \sigma^2 I)

    with :math:`H_\alpha` of :func:`matrix_entropy`. Tan & Huang find PE changes
    sharply exactly at grokking (§4.1, Fig. 5); App. A, Fig. 17 reads it on the
    input, embedding and logit layers: ``layer`` replaces :math:`f` by the
    representation of :math:`X + \Delta` at that layer.

    Parameters
    ----------
    module, X, sigma, n_samples, order, random_state
        As in :func:`perturb_mutual_information`.
    layer : str, default="logits"
        ``"logits"`` (the module's output, Def. 4.2), ``"input"`` (the perturbed
        input :math:`X + \Delta` itself) or a hidden layer of
        :func:`grokkit.measures.hidden_modules` (``"act1"``, ...).

    Returns
    -------
    float
        PE in nats.
    """
    order, (_, _, _, outputs) = _perturbed(module, X, sigma, n_samples, order, random_state, layer=layer)
    with torch.no_grad():
        return float(_matrix_entropy_torch(outputs, order))


@measure(needs=("X",))
def mutual_information_difference(
    module: nn.Module,
    X: Any,
    *,
    sigma: float = 0.1,
    n_samples: int | None = 512,
    order: float = 1,
    random_state: int = 0,
) -> float:
    r"""MID: change of PMI under input noise (Tan & Huang Def. 4.3).

    .. math:: \mathrm{MID}(f, \mathcal{D}, \sigma) =
              \big|\mathrm{PMI}(f, \mathcal{D}, \sigma) - \mathrm{PMI}(f, \mathcal{D}, 0)\big|

    Both terms use the same subsample. A small or steadily decreasing MID
    before the training accuracy reaches 100 % signals that the network will
    generalise (§4.2, Fig. 6): a robust network's representations barely move.

    Parameters
    ----------
    module, X, order, n_samples, random_state
        As in :func:`perturb_mutual_information`.
    sigma : float, default=0.1
        Noise standard deviation, :math:`> 0`.

    Returns
    -------
    float
        MID in nats.
    """
    order, (inputs, outputs, noisy_inputs, noisy_outputs) = _perturbed(
        module, X, sigma, n_samples, order, random_state, positive_sigma=True)
    with torch.no_grad():
        noisy = _matrix_mutual_information_torch(noisy_inputs, noisy_outputs, order)
        clean = _matrix_mutual_information_torch(inputs, outputs, order)
        return abs(float(noisy - clean))


@measure(needs=("X",))
def entropy_difference(
    module: nn.Module,
    X: Any,
    *,
    sigma: float = 0.1,
    n_samples: int | None = 512,
    order: float = 1,
    random_state: int = 0,
) -> float:
    r"""ED: change of PE under input noise (Tan & Huang Def. 4.4).

    .. math:: \mathrm{ED}(f, \mathcal{D}, \sigma) =
              \big|\mathrm{PE}(f, \mathcal{D}, \sigma) - \mathrm{PE}(f, \mathcal{D}, 0)\big|

    Both terms use the same subsample; see :func:`mutual_information_difference`
    for its reading (§4.2, Fig. 7).

    Parameters
    ----------
    module, X, order, n_samples, random_state
        As in :func:`perturb_mutual_information`.
    sigma : float, default=0.1
        Noise standard deviation, :math:`> 0`.

    Returns
    -------
    float
        ED in nats.
    """
    order, (_, outputs, _, noisy_outputs) = _perturbed(
        module, X, sigma, n_samples, order, random_state, positive_sigma=True)
    with torch.no_grad():
        noisy = _matrix_entropy_torch(noisy_outputs, order)
        clean = _matrix_entropy_torch(outputs, order)
        return abs(float(noisy - clean))


@measure(needs=("X", "activations", "logits"))
def representation_entropy(
    module: nn.Module,
    X: Any,
    *,
    order: float = 1,
    n_samples: int | None = 512,
    random_state: int = 0,
    activations: Mapping[str, torch.Tensor] | None = None,
    logits: torch.Tensor | None = None,
) -> dict[str, float]:
    r"""Matrix entropy of every hidden layer and of the logits (Tan & Huang Figs. 12, 17, 22).

    .. math:: H_\alpha(Z_\ell) \text{ for each layer } \ell, \text{ on a seeded subsample of } X

    with :math:`H_\alpha` of :func:`matrix_entropy` (no input noise: this is PE at
    :math:`\sigma = 0` for the logits, extended to the hidden layers).

    Parameters
    ----------
    module : nn.Module
    X : array or tensor of shape (n_samples, ...)
        Inputs (the training set in ``progress_``).
    order : float, default=1
        Rényi order :math:`\alpha`.
    n_samples : int or None, default=512
        Size of the seeded subsample; None uses every row.
    random_state : int, default=0
        Seed of the subsample (the same rows at every call).
    activations, logits : optional
        Hidden activations and outputs already computed on the whole of ``X``
        (the recorder passes them); their rows are subsampled the same way.

    Returns
    -------
    dict
        One entry per hidden layer (``act1``, ...) and ``"logits"``, in nats.
    """
    order = _check_order(order)
    _check_subsample_params(n_samples, random_state)
    if activations is None or logits is None:
        logits, activations = capture(module, X)
    n_total = logits.shape[0]
    if n_total < 2:
        raise ValueError(f"X must hold at least 2 samples; got {n_total}.")
    index = torch.as_tensor(_subsample_indices(n_total, n_samples, random_state))
    layers = {**activations, "logits": logits}
    out: dict[str, float] = {}
    with torch.no_grad():
        for name, value in layers.items():
            rows = value[index.to(value.device)].reshape(len(index), -1).to(torch.float64)
            out[name] = float(_matrix_entropy_torch(rows, order))
    return out
