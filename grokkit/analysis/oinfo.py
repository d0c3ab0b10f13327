"""Synergy and redundancy among a layer's neurons (Clauw, Stramaglia & Marinazzo §3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import AgglomerativeClustering
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from grokkit._validation import input_named
from grokkit.measures.oinfo import o_information_group_multiplets


class OInformationAnalyzer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    r"""Bin a layer's neurons and search every multiplet of bins for synergy and redundancy.

    The pipeline of Clauw et al. (§3, and their public code):

    1. cluster the neurons (columns of an activation matrix) into ``n_bins`` groups
       with :class:`~sklearn.cluster.AgglomerativeClustering` on the transposed,
       neuron x sample matrix (Ward linkage, sklearn's default configuration);
    2. for every multiplet of bins of size ``min_order`` .. ``max_order``, expand it to
       the **union of its neurons** and compute the O-information over those
       individual neurons (leave-one-neuron-out terms), with Gaussian-copula
       entropies in bits (:func:`grokkit.measures.oinfo.o_information_group_multiplets`):

       .. math:: \Omega(Z) = (n-2)H(Z) + \sum_{j=1}^{n}\big[H(Z_j) - H(Z_{\setminus j})\big];

    3. per order, the lowest O-information (Clauw et al.'s synergy value) and the
       highest (their redundancy value).

    O-information is negative where synergy dominates a multiplet and positive
    where redundancy does (Rosas et al. 2019). The lowest value over the
    multiplets is therefore synergy only when it is negative: a layer whose
    every multiplet is redundancy-dominated has a positive minimum. The
    outputs keep the raw extremes under their own names (``oinfo_min``,
    ``oinfo_max``) and report ``synergy = min(0, oinfo_min)`` and
    ``redundancy = max(0, oinfo_max)``, in bits: Clauw et al.'s sign (synergy
    is negative O-information, deeper is more synergistic), zero where there
    is none.

    Clauw et al. find an early synergy peak ("emergence" phase) predicts grokking.

    Neurons that are constant on the fitting data (dead ReLUs) carry no
    information and would make the covariance singular, so they are left out of
    the clustering and of every multiplet (``labels_`` is -1 for them).

    ``fit`` takes one activation matrix. :meth:`fit_transform_checkpoints` takes one
    matrix per recorded checkpoint and returns one row of summary numbers per
    checkpoint, with the bins fitted on one chosen checkpoint;
    :meth:`fit_transform_run` does the same over the checkpoints a grokkit
    estimator kept (``keep_checkpoints=True``), reading its hidden layer itself.

    Parameters
    ----------
    n_bins : int, default=10
        Number of neuron clusters (Clauw et al.: 10).
    min_order : int, default=3
        Smallest number of bins in a multiplet. Clauw et al. start at 2 (a pair of
        bins is already a multiplet of many neurons); 3 is hoi's default.
    max_order : int or None, default=None
        Largest number of bins; None means ``n_bins`` (10 with the defaults, as in
        Clauw et al.).
    layer : str or None, default=None
        When ``X`` is a dict of activations by layer name (e.g. the second output
        of :func:`grokkit.measures.capture`), the layer to analyse; may be None when
        the dict has one entry. Must be None for array input.
    linkage : {"ward", "complete", "average", "single"}, default="ward"
        Linkage of the agglomerative clustering.
    copula : bool, default=True
        Gaussian-copula normalise each neuron first (Clauw et al., hoi).
    bias_correction : bool, default=True
        Bias-correct the Gaussian entropies (Ince et al. 2017; hoi's default).

    Attributes
    ----------
    n_features_in_ : int
        Number of neurons seen in ``fit``.
    active_neurons_ : ndarray of int
        Neurons not constant on the fitting data; the only ones analysed.
    labels_ : ndarray of shape (n_features_in_,)
        Bin of each neuron (bins numbered by their lowest neuron), -1 for
        constant neurons.
    groups_ : list of ndarray
        Neuron indices of each bin.
    multiplets_ : pandas.DataFrame
        One row per multiplet of bins: ``multiplet`` (tuple of bins), ``order``,
        ``n_neurons`` (size of the union) and ``oinfo`` (bits).
    synergy_, redundancy_ : pandas.DataFrame
        Indexed by order: the multiplet with the lowest (Clauw et al.'s synergy
        search) or highest (their redundancy search) O-information of that
        order, its ``n_neurons`` and ``oinfo`` (raw, of either sign).
    most_synergistic_, most_redundant_ : tuple of int
        Bins of the multiplet with the lowest / highest O-information overall.
    synergistic_neurons_, redundant_neurons_ : ndarray of int
        Their neurons: the synergistic sub-network of Clauw et al. §7.

    Notes
    -----
    ``transform`` does not return one row per sample: it summarises a whole
    activation matrix, so it returns one row per matrix (a single matrix: one
    row; a list or a 3-d array of matrices: one row each). Its features, named
    by :meth:`get_feature_names_out`, are ``oinfo_min`` and ``oinfo_max`` (the
    lowest and highest O-information over all multiplets, bits, of either
    sign), ``oinfo_min_n_neurons`` and ``oinfo_max_n_neurons`` (the size of
    those multiplets' unions), ``oinfo_min_order{k}`` and ``oinfo_max_order{k}``
    for each searched order ``k``, then ``synergy`` = min(0, ``oinfo_min``) and
    ``redundancy`` = max(0, ``oinfo_max``). (Before, ``synergy`` and
    ``redundancy`` were the raw extremes, a positive "synergy" included, and
    the per-order and size columns were named ``synergy_*``/``redundancy_*``;
    ``synergy`` and ``redundancy`` agree with the old values wherever the
    minimum is negative and the maximum positive.)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> activations = np.maximum(rng.standard_normal((300, 12)), 0)
    >>> analyzer = OInformationAnalyzer(n_bins=4).fit(activations)
    >>> analyzer.transform(activations).shape
    (1, 10)
    >>> names = list(analyzer.get_feature_names_out())
    >>> names[:2], names[-2:]
    (['oinfo_min', 'oinfo_max'], ['synergy', 'redundancy'])
    """

    _parameter_constraints: dict = {
        "n_bins": [Interval(Integral, 2, None, closed="left")],
        "min_order": [Interval(Integral, 2, None, closed="left")],
        "max_order": [Interval(Integral, 2, None, closed="left"), None],
        "layer": [str, None],
        "linkage": [StrOptions({"ward", "complete", "average", "single"})],
        "copula": ["boolean"],
        "bias_correction": ["boolean"],
    }

    def __init__(
        self,
        n_bins: int = 10,
        min_order: int = 3,
        max_order: int | None = None,
        layer: str | None = None,
        linkage: str = "ward",
        copula: bool = True,
        bias_correction: bool = True,
    ) -> None:
        self.n_bins = n_bins
        self.min_order = min_order
        self.max_order = max_order
        self.layer = layer
        self.linkage = linkage
        self.copula = copula
        self.bias_correction = bias_correction

    def _select_layer(self, X: Any) -> Any:
        if isinstance(X, Mapping):
            if self.layer is None:
                if len(X) != 1:
                    raise ValueError(
                        "X is a dict of several layers; set layer to one of "
                        f"{', '.join(map(repr, X))}."
                    )
                return next(iter(X.values()))
            if self.layer not in X:
                raise ValueError(
                    f"layer must be one of {', '.join(map(repr, X))}; got {self.layer!r}."
                )
            return X[self.layer]
        if self.layer is not None:
            raise ValueError(
                f"layer={self.layer!r} selects an entry of a dict of activations; X is not "
                "a dict. Pass layer=None with an array."
            )
        return X

    @staticmethod
    def _to_numpy(X: Any) -> Any:
        return X.detach().cpu().numpy() if torch.is_tensor(X) else X

    def fit(self, X: Any, y: Any = None) -> OInformationAnalyzer:
        """Bin the neurons of ``X`` and search every multiplet of bins.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_neurons), or dict of such by layer
            Activations of one layer, one row per input (Clauw et al.: the hidden
            layer on the training set).
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._validate_params()
        data = self._to_numpy(self._select_layer(X))
        with input_named("X"):
            data = validate_data(
                self, data, dtype=np.float64, ensure_min_samples=2, ensure_min_features=2
            )
        active = np.flatnonzero(np.ptp(data, axis=0) > 0)
        if len(active) < self.n_bins:
            raise ValueError(
                f"n_bins must be at most the number of non-constant neurons ({len(active)} of "
                f"{data.shape[1]}); got {self.n_bins}."
            )
        max_order = self.n_bins if self.max_order is None else self.max_order
        if max_order > self.n_bins:
            raise ValueError(f"max_order must be at most n_bins ({self.n_bins}); got {max_order}.")
        if self.min_order > max_order:
            raise ValueError(
                f"min_order must be at most max_order ({max_order}); got {self.min_order}."
            )
        clustering = AgglomerativeClustering(n_clusters=self.n_bins, linkage=self.linkage)
        raw_labels = clustering.fit_predict(data[:, active].T)
        # Number the bins by their lowest neuron, so labels do not depend on the
        # clustering's internal order.
        _, first = np.unique(raw_labels, return_index=True)
        renumber = np.empty(self.n_bins, dtype=np.int64)
        renumber[raw_labels[np.sort(first)]] = np.arange(self.n_bins)
        self.active_neurons_ = active
        self.labels_ = np.full(data.shape[1], -1, dtype=np.int64)
        self.labels_[active] = renumber[raw_labels]
        self.groups_ = [np.flatnonzero(self.labels_ == b) for b in range(self.n_bins)]
        self.max_order_ = max_order
        self.multiplets_ = self._search(data)
        self._summarise_fit()
        return self

    def _search(self, data: np.ndarray) -> pd.DataFrame:
        return o_information_group_multiplets(
            data,
            [group.tolist() for group in self.groups_],
            min_order=self.min_order,
            max_order=self.max_order_,
            copula=self.copula,
            bias_correction=self.bias_correction,
            base=2,
        )

    def _summarise_fit(self) -> None:
        table = self.multiplets_
        by_order = table.groupby("order")["oinfo"]
        columns = ["multiplet", "n_neurons", "oinfo"]
        self.synergy_ = table.loc[by_order.idxmin(), ["order", *columns]].set_index("order")
        self.redundancy_ = table.loc[by_order.idxmax(), ["order", *columns]].set_index("order")
        self.most_synergistic_ = tuple(table.loc[table["oinfo"].idxmin(), "multiplet"])
        self.most_redundant_ = tuple(table.loc[table["oinfo"].idxmax(), "multiplet"])
        self.synergistic_neurons_ = self._neurons(self.most_synergistic_)
        self.redundant_neurons_ = self._neurons(self.most_redundant_)

    def _neurons(self, multiplet: Sequence[int]) -> np.ndarray:
        return np.sort(np.concatenate([self.groups_[b] for b in multiplet]))

    def _features(self, table: pd.DataFrame) -> np.ndarray:
        lowest = table["oinfo"].idxmin()
        highest = table["oinfo"].idxmax()
        by_order = table.groupby("order")["oinfo"]
        per_order = np.column_stack([by_order.min().to_numpy(), by_order.max().to_numpy()])
        minimum, maximum = table.at[lowest, "oinfo"], table.at[highest, "oinfo"]
        return np.concatenate(
            [
                [minimum, maximum, table.at[lowest, "n_neurons"], table.at[highest, "n_neurons"]],
                per_order.ravel(),
                [min(0.0, minimum), max(0.0, maximum)],
            ]
        ).astype(np.float64)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the summary features returned by :meth:`transform`.

        Parameters
        ----------
        input_features : ignored
            The outputs do not correspond to input neurons.

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self, "multiplets_")
        names = ["oinfo_min", "oinfo_max", "oinfo_min_n_neurons", "oinfo_max_n_neurons"]
        for order in range(self.min_order, self.max_order_ + 1):
            names += [f"oinfo_min_order{order}", f"oinfo_max_order{order}"]
        names += ["synergy", "redundancy"]
        return np.asarray(names, dtype=object)

    def _as_arrays(self, X: Any) -> list[np.ndarray]:
        if isinstance(X, Mapping):
            return [self._select_layer(X)]
        if isinstance(X, (list, tuple)) and len(X) > 0 and np.ndim(self._to_numpy(X[0])) == 2:
            return [self._to_numpy(x) for x in X]
        X = self._to_numpy(X)
        array = np.asarray(X)
        if array.ndim == 3:
            return list(array)
        return [array]

    def transform(self, X: Any) -> np.ndarray:
        """Summary O-information features of new activations of the same neurons.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_neurons), a dict of such by layer, a
            list of such arrays, or an array of shape (n_arrays, n_samples, n_neurons)
            Activations of the neurons seen in ``fit`` (same columns).

        Returns
        -------
        ndarray of shape (n_arrays, n_features_out)
            One row per activation matrix (one row for a single matrix); columns
            named by :meth:`get_feature_names_out`.
        """
        check_is_fitted(self, "multiplets_")
        rows = []
        for array in self._as_arrays(X):
            with input_named("X"):
                data = validate_data(
                    self, array, dtype=np.float64, ensure_min_samples=2, reset=False
                )
            rows.append(self._features(self._search(data)))
        return np.vstack(rows)

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit on ``X`` and return its summary features (one row), reusing the search.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_neurons), or dict of such by layer
        y : None
            Ignored.

        Returns
        -------
        ndarray of shape (1, n_features_out)
        """
        return self.fit(X, y)._features(self.multiplets_)[None, :]

    def fit_transform_checkpoints(
        self, activations: Sequence[Any], fit_on: int = -1
    ) -> pd.DataFrame:
        """Bin the neurons at one checkpoint, then summarise every checkpoint.

        The clustering (``labels_``, ``groups_``) is fitted on ``activations[fit_on]``
        (by default the last checkpoint, the trained network) and kept fixed, so
        every checkpoint is read through the same bins and the curves are
        comparable over training.

        Parameters
        ----------
        activations : sequence of array-like of shape (n_samples, n_neurons)
            One activation matrix per checkpoint, same neurons (and typically the
            same inputs) in each.
        fit_on : int, default=-1
            Position of the checkpoint to fit the bins on.

        Returns
        -------
        pandas.DataFrame
            One row per checkpoint (index ``checkpoint``), columns named by
            :meth:`get_feature_names_out`.
        """
        if isinstance(activations, Mapping) or not isinstance(activations, Sequence) or len(
            activations
        ) == 0:
            raise ValueError(
                "activations must be a non-empty list of activation arrays, one per "
                f"checkpoint; got {type(activations).__name__}."
            )
        if isinstance(fit_on, bool) or not isinstance(fit_on, Integral):
            raise TypeError(f"fit_on must be an int; got {fit_on!r}.")
        if not -len(activations) <= fit_on < len(activations):
            raise ValueError(
                f"fit_on must index one of the {len(activations)} checkpoints; got {fit_on}."
            )
        self.fit(activations[fit_on])
        fitted = fit_on % len(activations)
        rows = [
            self._features(self.multiplets_)
            if position == fitted
            else self.transform(self._to_numpy(array))[0]
            for position, array in enumerate(activations)
        ]
        return pd.DataFrame(
            np.vstack(rows),
            columns=self.get_feature_names_out(),
            index=pd.RangeIndex(len(activations), name="checkpoint"),
        )

    def fit_transform_run(
        self,
        estimator: Any,
        X: Any,
        epochs: Sequence[int] | None = None,
        fit_on: int = -1,
    ) -> pd.DataFrame:
        """Synergy and redundancy at every kept checkpoint of a run (Clauw et al. Figs 2-5).

        The estimator must have been fitted with ``keep_checkpoints=True``. The
        hidden layer ``self.layer`` (or the only one) is read on ``X`` at each
        checkpoint; the bins are fitted at ``epochs[fit_on]`` (default: the last,
        trained network) and kept for all, so the rows are comparable. Only one
        checkpoint's activations are held at a time.

        Returns
        -------
        pandas.DataFrame
            One row per epoch (index ``epoch``), columns of :meth:`get_feature_names_out`.
        """
        from grokkit.analysis.activations import hidden_activations

        kept = sorted(getattr(estimator, "checkpoints_", {}) or {})
        if not kept:
            raise ValueError("estimator has no checkpoints; fit it with keep_checkpoints=True.")
        epochs = kept if epochs is None else list(epochs)
        missing = [e for e in epochs if e not in estimator.checkpoints_]
        if missing:
            raise ValueError(f"epochs {missing[:5]} have no checkpoint; kept: {kept[:3]}...{kept[-3:]}.")
        if isinstance(fit_on, bool) or not isinstance(fit_on, Integral) or \
                not -len(epochs) <= fit_on < len(epochs):
            raise ValueError(f"fit_on must index one of the {len(epochs)} epochs; got {fit_on!r}.")

        def layer_at(epoch: int) -> np.ndarray:
            return self._select_layer(hidden_activations(estimator, X, epoch))

        self.fit(layer_at(epochs[fit_on]))
        rows = [self.transform(layer_at(epoch))[0] for epoch in epochs]
        return pd.DataFrame(np.vstack(rows), columns=self.get_feature_names_out(),
                            index=pd.Index(epochs, name="epoch"))
