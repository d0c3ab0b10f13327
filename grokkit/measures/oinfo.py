r"""O-information with Gaussian-copula entropies, and a fast exhaustive multiplet search.

The O-information of :math:`n` variables :math:`Z = (Z_1, \dots, Z_n)` (Rosas et al.
2019; Clauw et al. §3) is

.. math::
    \Omega_n(Z) = (n - 2)\,H(Z) + \sum_{j=1}^{n}\big[H(Z_j) - H(Z_{\setminus j})\big]

with :math:`Z_{\setminus j}` every variable but :math:`Z_j`. :math:`\Omega > 0`: the
variables are redundancy-dominated; :math:`\Omega < 0`: synergy-dominated.

Entropies are Gaussian-copula estimates (Ince et al. 2017): each column is
rank-transformed to a standard normal (:func:`gaussian_copula`), and the entropy
of a set :math:`S` of columns is that of a Gaussian with the sample covariance,

.. math:: H(Z_S) = \tfrac12\log\det C_S + \tfrac{|S|}{2}\log(2\pi e) - b(|S|, N),

:math:`b` being the optional bias correction for :math:`N` samples (see
:func:`gaussian_entropy`). Every entropy is thus ½ log det of a sub-block of
*one* covariance matrix. The multiplet searches compute that matrix once, batch
small blocks of equal size into one ``slogdet`` and one ``inv`` call (larger
blocks, e.g. unions of neuron clusters, get one Cholesky factorisation each), and
obtain the leave-one-out terms without further factorisations from

.. math:: \log\det C_{S\setminus j} = \log\det C_S + \log\big(C_S^{-1}\big)_{jj}.

Results are in bits by default (``base=2``), like hoi (Combrisson et al.), the
toolbox Clauw et al. used.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.linalg import lapack
from scipy.special import digamma, ndtri

from grokkit._validation import check_number


def _as_data(Z: Any, name: str = "Z") -> np.ndarray:
    """``Z`` as a finite float64 array of shape (n_samples, n_variables)."""
    if torch.is_tensor(Z):
        Z = Z.detach().cpu().numpy()
    try:
        array = np.asarray(Z)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array or a tensor; got {type(Z).__name__}.") from exc
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ) or np.iscomplexobj(array):
        raise TypeError(f"{name} must hold real numbers; got an array of dtype {array.dtype}.")
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_variables); got shape {array.shape}."
        )
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return array


def _check_base(base: Any) -> float:
    check_number("base", base, low=0.0, low_inclusive=False)
    if base == 1 or not math.isfinite(base):
        raise ValueError(f"base must be a positive finite number other than 1; got {base!r}.")
    return float(base)


def gaussian_copula(Z: Any) -> np.ndarray:
    r"""Gaussian-copula normalisation of every column (Ince et al. 2017).

    Each column is replaced by its ranks :math:`r_i \in \{1..N\}`, mapped to
    :math:`u_i = r_i/(N+1) \in (0, 1)`, then to :math:`\Phi^{-1}(u_i)` with the
    inverse standard-normal CDF (:func:`scipy.special.ndtri`), and demeaned. The
    result has standard-normal marginals and the same copula (rank dependence) as
    ``Z``, so any entropy difference computed on it is invariant to monotone
    increasing transforms of the columns.

    Ties get distinct ranks in order of appearance (a stable sort), as in Ince et
    al.'s ``copnorm`` and in hoi: a ReLU unit's zeros are ordered by sample index.

    Parameters
    ----------
    Z : array or tensor of shape (n_samples, n_variables)

    Returns
    -------
    ndarray of shape (n_samples, n_variables)
        float64, each column of mean zero.

    Examples
    --------
    >>> import numpy as np
    >>> g = gaussian_copula(np.arange(5.0)[:, None] ** 3)
    >>> bool(np.allclose(g.ravel(), -g.ravel()[::-1]))
    True
    """
    Z = _as_data(Z)
    if Z.shape[0] < 2:
        raise ValueError(f"Z needs at least 2 samples; got shape {Z.shape}.")
    ranks = np.argsort(np.argsort(Z, axis=0, kind="stable"), axis=0, kind="stable")
    gaussian = ndtri((ranks + 1.0) / (Z.shape[0] + 1.0))
    return gaussian - gaussian.mean(axis=0)


def _entropy_from_logdet(
    logdet: np.ndarray | float,
    n_dims: int,
    n_samples: int,
    bias_correction: bool,
) -> np.ndarray:
    """Gaussian entropy in nats from ``log det`` of sample covariances of ``n_dims`` dims."""
    entropy = 0.5 * np.asarray(logdet) + 0.5 * n_dims * (math.log(2.0 * math.pi) + 1.0)
    if bias_correction:
        entropy = entropy - _bias(n_dims, n_samples)
    return entropy


def _bias(n_dims: int, n_samples: int) -> float:
    r"""Expected excess of the plug-in Gaussian entropy, :math:`b(d, N)` in nats."""
    psi_terms = digamma((n_samples - np.arange(1, n_dims + 1)) / 2.0).sum() / 2.0
    return n_dims * (math.log(2.0) - math.log(n_samples - 1.0)) / 2.0 + psi_terms


def gaussian_entropy(
    Z: Any, *, copula: bool = False, bias_correction: bool = True, base: float = 2
) -> float:
    r"""Entropy of a Gaussian with the sample covariance of ``Z``.

    .. math::
        \hat H(Z) = \tfrac12\log\det\hat C + \tfrac d2\log(2\pi e) - b(d, N),
        \qquad
        b(d, N) = \tfrac d2\log\tfrac{2}{N-1}
                  + \tfrac12\sum_{i=1}^{d}\psi\!\left(\tfrac{N-i}{2}\right)

    with :math:`\hat C = Z_c^\top Z_c/(N-1)` the covariance of the :math:`N`
    demeaned samples in :math:`d` dimensions and :math:`\psi` the digamma function.
    :math:`b` is the expected bias of the plug-in estimate for Gaussian data
    (Ince et al. 2017, following Oyman et al.), so the corrected estimate is
    unbiased; ``bias_correction=False`` drops it. With ``copula=True`` the columns
    are first passed through :func:`gaussian_copula`, giving the Gaussian-copula
    entropy (the copula entropy plus the marginal entropies of standard normals).

    Parameters
    ----------
    Z : array or tensor of shape (n_samples, n_variables)
        Needs more samples than variables.
    copula : bool, default=False
        Apply :func:`gaussian_copula` first.
    bias_correction : bool, default=True
        Subtract :math:`b(d, N)`.
    base : float, default=2
        Logarithm base: 2 gives bits, ``math.e`` nats.

    Returns
    -------
    float
    """
    base = _check_base(base)
    Z = _as_data(Z)
    n_samples, n_dims = Z.shape
    _check_enough_samples(n_samples, n_dims)
    data = gaussian_copula(Z) if copula else Z - Z.mean(axis=0)
    cov = data.T @ data / (n_samples - 1)
    sign, logdet = np.linalg.slogdet(cov)
    if sign <= 0:
        raise ValueError(
            "Z has a singular covariance (constant or linearly dependent columns); "
            "its Gaussian entropy is -inf."
        )
    return float(_entropy_from_logdet(logdet, n_dims, n_samples, bias_correction)) / math.log(
        base
    )


def _check_enough_samples(n_samples: int, n_dims: int) -> None:
    if n_samples <= n_dims:
        raise ValueError(
            f"Z has {n_samples} samples for {n_dims} variables; Gaussian entropies "
            "need more samples than variables."
        )


def _covariance(Z: np.ndarray, copula: bool) -> np.ndarray:
    """Sample covariance of the (copula-normalised) columns."""
    data = gaussian_copula(Z) if copula else Z - Z.mean(axis=0)
    return data.T @ data / (Z.shape[0] - 1)


#: Blocks smaller than this are factorised together in one batched numpy call per
#: size (call overhead dominates); larger ones one at a time by LAPACK's Cholesky
#: (``dpotrf`` + ``dtrtri``: ~2/3 k^3 flops against ~8/3 k^3 for ``slogdet`` + ``inv``).
_BATCH_LIMIT = 32

#: Largest variance inflation 1 / (1 - R^2) accepted before a block counts as singular.
_MAX_INFLATION = 1e12


def _singular(columns: np.ndarray) -> ValueError:
    return ValueError(
        f"Z has a singular covariance on columns {columns.tolist()}: some are constant or "
        "linear combinations of others (e.g. duplicated or dead units); remove them."
    )


def _logdet_and_inverse_diagonal(
    cov: np.ndarray, index: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``log det`` and diagonal of the inverse of every block ``cov[s][:, s]``, s in ``index``."""
    n_blocks, size = index.shape
    if size < _BATCH_LIMIT:
        blocks = cov[index[:, :, None], index[:, None, :]]
        sign, logdet = np.linalg.slogdet(blocks)
        if (sign <= 0).any():
            raise _singular(index[np.flatnonzero(sign <= 0)[0]])
        return logdet, np.diagonal(np.linalg.inv(blocks), axis1=1, axis2=2)
    logdet = np.empty(n_blocks)
    inverse_diagonal = np.empty((n_blocks, size))
    for row, members in enumerate(index):
        factor, info = lapack.dpotrf(cov[np.ix_(members, members)], lower=1, clean=0)
        if info != 0:
            raise _singular(members)
        inverse_factor, info = lapack.dtrtri(factor, lower=1)
        if info != 0:
            raise _singular(members)
        logdet[row] = 2.0 * np.log(np.diagonal(factor)).sum()
        # C = L L^T, so (C^-1)_jj = sum_i (L^-1)_ij^2 over the lower triangle.
        inverse_diagonal[row] = np.square(np.tril(inverse_factor)).sum(axis=0)
    return logdet, inverse_diagonal


def _o_information_of_sets(
    cov: np.ndarray,
    sets: Sequence[np.ndarray],
    n_samples: int,
    bias_correction: bool,
) -> np.ndarray:
    r"""O-information (nats) of each set of variable indices, grouping sets of one size.

    All entropies come from sub-blocks of ``cov``: one factorisation per set gives
    :math:`\log\det C_S` and the diagonal of :math:`C_S^{-1}`, hence every
    leave-one-out determinant :math:`\log\det C_S + \log(C_S^{-1})_{jj}`.
    """
    sizes = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    out = np.empty(len(sets))
    single = _entropy_from_logdet(np.log(np.diag(cov)), 1, n_samples, bias_correction)
    for size in np.unique(sizes):
        positions = np.flatnonzero(sizes == size)
        index = np.stack([sets[p] for p in positions])
        logdet, inverse_diagonal = _logdet_and_inverse_diagonal(cov, index)
        # C_jj (C^-1)_jj = 1 / (1 - R_j^2): variance inflation of each column given the
        # others; beyond 1e12 a column is a linear function of the others to rounding.
        inflation = inverse_diagonal * np.diag(cov)[index]
        collinear = ~((inflation > 0) & (inflation < _MAX_INFLATION))
        if collinear.any():
            raise _singular(index[np.flatnonzero(collinear.any(axis=1))[0]])
        joint = _entropy_from_logdet(logdet, int(size), n_samples, bias_correction)
        leave_one_out = _entropy_from_logdet(
            logdet[:, None] + np.log(inverse_diagonal), int(size) - 1, n_samples, bias_correction
        )
        out[positions] = (size - 2) * joint + (single[index] - leave_one_out).sum(axis=1)
    return out


def o_information(
    Z: Any, *, copula: bool = True, bias_correction: bool = True, base: float = 2
) -> float:
    r"""O-information of the columns of ``Z`` (Rosas et al. 2019; Clauw et al. §3).

    .. math::
        \Omega_n(Z) = (n - 2)\,H(Z) + \sum_{j=1}^{n}\big[H(Z_j) - H(Z_{\setminus j})\big]

    with Gaussian-copula entropies (:func:`gaussian_entropy`). :math:`\Omega > 0`
    means redundancy dominates (e.g. noisy copies of one signal), :math:`\Omega < 0`
    synergy (e.g. :math:`Z_3 = Z_1 + Z_2`: the pair determines :math:`Z_3`, no single
    one does). :math:`\Omega_2 \equiv 0`, and adding an independent variable leaves
    :math:`\Omega` unchanged.

    Parameters
    ----------
    Z : array or tensor of shape (n_samples, n_variables)
        At least 2 variables and more samples than variables.
    copula : bool, default=True
        Gaussian-copula normalise the columns first (Clauw et al., hoi); False
        treats ``Z`` as Gaussian.
    bias_correction : bool, default=True
        Bias-correct every entropy (Ince et al. 2017), as hoi does by default.
    base : float, default=2
        2 gives bits (hoi's unit), ``math.e`` nats.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> signal = rng.standard_normal((2000, 1))
    >>> copies = signal + 0.1 * rng.standard_normal((2000, 3))
    >>> o_information(copies) > 0
    True
    """
    base = _check_base(base)
    Z = _as_data(Z)
    n_samples, n_variables = Z.shape
    if n_variables < 2:
        raise ValueError(f"Z needs at least 2 variables (columns); got shape {Z.shape}.")
    _check_enough_samples(n_samples, n_variables)
    cov = _covariance(Z, copula)
    value = _o_information_of_sets(cov, [np.arange(n_variables)], n_samples, bias_correction)
    return float(value[0]) / math.log(base)


def _check_orders(min_order: Any, max_order: Any, n_items: int, what: str) -> tuple[int, int]:
    check_number("min_order", min_order, low=2, integer=True)
    if min_order > n_items:
        raise ValueError(f"min_order must be at most the number of {what} ({n_items}); "
                         f"got {min_order}.")
    if max_order is None:
        return int(min_order), n_items
    check_number("max_order", max_order, low=min_order, high=n_items, integer=True)
    return int(min_order), int(max_order)


def _combinations(n_items: int, order: int) -> np.ndarray:
    return np.fromiter(
        itertools.chain.from_iterable(itertools.combinations(range(n_items), order)),
        dtype=np.int64,
    ).reshape(-1, order)


def o_information_multiplets(
    Z: Any,
    min_order: int = 3,
    max_order: int | None = None,
    *,
    copula: bool = True,
    bias_correction: bool = True,
    base: float = 2,
) -> pd.DataFrame:
    r"""O-information of every multiplet of columns, sizes ``min_order`` to ``max_order``.

    An exhaustive search (Clauw et al. §3): for every subset :math:`S` of the
    columns with :math:`\text{min\_order} \le |S| \le \text{max\_order}`, the value
    :math:`\Omega_{|S|}(Z_S)` of :func:`o_information`. The most negative value of
    an order is its synergy, the most positive its redundancy.

    One covariance matrix is computed (the copula is per column, so it is the same
    for every subset), and every entropy is read from its sub-blocks, batched by
    size, with the leave-one-out identity
    :math:`\log\det C_{S\setminus j} = \log\det C_S + \log(C_S^{-1})_{jj}`. All 968
    multiplets of sizes 3..10 of 10 variables with 1 000 samples take a few
    milliseconds (hoi 0.0.7: 3.9 s warm); ``benchmarks/bench_oinfo.py`` times it.

    Parameters
    ----------
    Z : array or tensor of shape (n_samples, n_variables)
    min_order : int, default=3
        Smallest multiplet size, :math:`\ge 2` (size-2 multiplets are identically 0).
    max_order : int or None, default=None
        Largest size; None means ``n_variables``.
    copula, bias_correction, base
        As in :func:`o_information`.

    Returns
    -------
    pandas.DataFrame
        One row per multiplet, ordered by size then lexicographically, with
        columns ``multiplet`` (tuple of column indices), ``order`` (its size) and
        ``oinfo``.
    """
    base = _check_base(base)
    Z = _as_data(Z)
    n_samples, n_variables = Z.shape
    min_order, max_order = _check_orders(min_order, max_order, n_variables, "columns of Z")
    _check_enough_samples(n_samples, max_order)
    cov = _covariance(Z, copula)
    sets: list[np.ndarray] = []
    for order in range(min_order, max_order + 1):
        sets.extend(_combinations(n_variables, order))
    values = _o_information_of_sets(cov, sets, n_samples, bias_correction) / math.log(base)
    return pd.DataFrame(
        {
            "multiplet": [tuple(s.tolist()) for s in sets],
            "order": np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets)),
            "oinfo": values,
        }
    )


def _check_groups(groups: Any, n_variables: int) -> list[np.ndarray]:
    if isinstance(groups, (str, bytes)) or not isinstance(groups, Sequence) or not groups:
        raise ValueError(
            f"groups must be a non-empty list of lists of column indices; got {groups!r}."
        )
    checked: list[np.ndarray] = []
    seen: set[int] = set()
    for position, group in enumerate(groups):
        members = np.asarray(group)
        if members.ndim != 1 or members.size == 0 or not np.issubdtype(members.dtype, np.integer):
            raise ValueError(
                f"groups[{position}] must be a non-empty list of integer column indices; "
                f"got {group!r}."
            )
        if members.min() < 0 or members.max() >= n_variables:
            raise ValueError(
                f"groups[{position}] holds column indices outside [0, {n_variables - 1}]: "
                f"{group!r}."
            )
        overlap = seen.intersection(members.tolist())
        if overlap or len(set(members.tolist())) != members.size:
            raise ValueError(
                f"groups must be disjoint and without repeats; column(s) "
                f"{sorted(overlap) or sorted(members.tolist())} appear more than once."
            )
        seen.update(members.tolist())
        checked.append(np.sort(members.astype(np.int64)))
    return checked


def o_information_group_multiplets(
    Z: Any,
    groups: Sequence[Sequence[int]],
    min_order: int = 2,
    max_order: int | None = None,
    *,
    copula: bool = True,
    bias_correction: bool = True,
    base: float = 2,
) -> pd.DataFrame:
    r"""O-information of every multiplet of *groups* of columns (Clauw et al. §3 pipeline).

    Clauw et al. bin the neurons of a layer into clusters and search multiplets of
    clusters; as in their code, a multiplet of groups expands to the **union of
    its columns** and the O-information is taken over those individual columns,
    with leave-one-column-out terms:

    .. math::
        \Omega(G_{i_1} \cup \dots \cup G_{i_k}) \quad \text{for every }
        \{i_1 < \dots < i_k\},\ \text{min\_order} \le k \le \text{max\_order}.

    Unions with the same number of columns are evaluated in one batched
    factorisation, as in :func:`o_information_multiplets`.

    Parameters
    ----------
    Z : array or tensor of shape (n_samples, n_variables)
        E.g. hidden activations, one column per neuron. Needs more samples than
        the columns of the largest union.
    groups : list of list of int
        Disjoint, non-empty groups of column indices (e.g. the neurons of each
        cluster). Columns in no group are ignored.
    min_order : int, default=2
        Smallest number of groups in a multiplet (Clauw et al. search from 2: a
        pair of groups is a multiplet of many columns).
    max_order : int or None, default=None
        Largest number of groups; None means ``len(groups)``.
    copula, bias_correction, base
        As in :func:`o_information`.

    Returns
    -------
    pandas.DataFrame
        One row per multiplet of groups, ordered by size then lexicographically:
        ``multiplet`` (tuple of group indices), ``order`` (number of groups),
        ``n_neurons`` (columns in the union) and ``oinfo``.
    """
    base = _check_base(base)
    Z = _as_data(Z)
    n_samples, n_variables = Z.shape
    members = _check_groups(groups, n_variables)
    min_order, max_order = _check_orders(min_order, max_order, len(members), "groups")
    multiplets = [
        combination
        for order in range(min_order, max_order + 1)
        for combination in itertools.combinations(range(len(members)), order)
    ]
    sets = [np.concatenate([members[g] for g in combination]) for combination in multiplets]
    _check_enough_samples(n_samples, max(len(s) for s in sets))
    used = np.unique(np.concatenate(sets))
    cov = _covariance(Z[:, used], copula)
    position = np.full(n_variables, -1, dtype=np.int64)
    position[used] = np.arange(len(used))
    values = _o_information_of_sets(
        cov, [position[s] for s in sets], n_samples, bias_correction
    ) / math.log(base)
    return pd.DataFrame(
        {
            "multiplet": multiplets,
            "order": np.fromiter((len(m) for m in multiplets), dtype=np.int64),
            "n_neurons": np.fromiter((len(s) for s in sets), dtype=np.int64),
            "oinfo": values,
        }
    )
