r"""The population of loading vectors of a low-rank network and its Gaussian-mixture structure.

Every unit *i* of a network :math:`J = mn^\top/N` is one point
:math:`\ell_i = (m_{i1..R}, n_{i1..R}, I_{i1..M}) \in \mathbb R^{2R+M}`. In the large-N
theory (Mastrogiuseppe & Ostojic 2018; Beiran et al. 2021; Dubreuil et al. 2022) the
:math:`\ell_i` are samples of a mixture of P Gaussians, one per population,

.. math:: p(\ell) = \sum_{p=1}^{P} \alpha_p\,\mathcal N(\ell;\,\mu_p,\,\Sigma_p),

and the network's dynamics depend on the loadings only through
:math:`(\alpha_p, \mu_p, \Sigma_p)` (:mod:`.mean_field`). :func:`loading_mixture` fits the
mixture with scikit-learn's ``GaussianMixture`` for P = 1 … ``max_populations`` and
keeps the P with the lowest Bayesian information criterion
:math:`\mathrm{BIC} = -2\log\hat L + k\log N`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..._validation import check_int, to_numpy

__all__ = ["LoadingMixture", "loading_mixture", "loading_population"]


def _loadings(obj) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(m, n, I)`` as float64 arrays from a LowRankRNN, a LowRankDynamics or a
    Dataset of :func:`loading_population`."""
    if isinstance(obj, xr.Dataset):
        if not {"m", "n", "I"} <= set(obj.data_vars):
            raise ValueError(
                f"loadings Dataset has variables {sorted(obj.data_vars)}; expected m, n and I "
                "(see loading_population)"
            )
        return tuple(np.asarray(obj[k].values, dtype=np.float64) for k in ("m", "n", "I"))
    if not all(hasattr(obj, k) for k in ("m", "n", "W_in")):
        raise ValueError(
            f"expected a low-rank network (LowRankRNN or LowRankDynamics) or a loadings "
            f"Dataset, got {type(obj).__name__}"
        )
    return tuple(
        np.asarray(to_numpy(getattr(obj, k)), dtype=np.float64) for k in ("m", "n", "W_in")
    )


def feature_names(rank: int, n_input: int) -> list[str]:
    """Names of the coordinates of :math:`\\ell_i`: ``m1.., n1.., I1..``."""
    return (
        [f"m{r + 1}" for r in range(rank)]
        + [f"n{r + 1}" for r in range(rank)]
        + [f"I{k + 1}" for k in range(n_input)]
    )


def loading_population(model) -> xr.Dataset:
    """The loading vectors of every unit as a labelled Dataset.

    Parameters
    ----------
    model : LowRankRNN or LowRankDynamics

    Returns
    -------
    xarray.Dataset
        ``m`` and ``n`` (unit, rank), ``I`` (unit, input), and ``w`` (unit, output) for a
        model with a read-out (its :math:`w`, so that :math:`y = w^\\top\\phi(x)/N`); the
        ``ei`` unit coordinate under Dale's law; ``attrs``: ``n_hidden``, ``rank``.

    Examples
    --------
    >>> from neurodyn.rnn_models import LowRankRNN
    >>> ds = loading_population(LowRankRNN(1, 30, 1, 2, seed=0))
    >>> dict(ds.sizes)
    {'unit': 30, 'rank': 2, 'input': 1, 'output': 1}
    """
    m, n, inputs = _loadings(model)
    ds = xr.Dataset(
        {"m": (("unit", "rank"), m), "n": (("unit", "rank"), n), "I": (("unit", "input"), inputs)},
        coords={"unit": np.arange(len(m)), "rank": np.arange(1, m.shape[1] + 1)},
        attrs={"n_hidden": len(m), "rank": m.shape[1]},
    )
    if hasattr(model, "W_out"):
        # W_out = w/N: the read-out vectors are stored at the scale of m and n.
        w = to_numpy(model.W_out).astype(np.float64).T * len(m)
        ds["w"] = (("unit", "output"), w)
    coords = model.unit_coords() if hasattr(model, "unit_coords") else {}
    if "ei" in coords:
        ds = ds.assign_coords(ei=("unit", coords["ei"]))
    return ds


@dataclass
class LoadingMixture:
    r"""A Gaussian mixture over the loadings :math:`\ell = (m, n, I)` of the units.

    Attributes
    ----------
    weights : ndarray (P,)
        :math:`\alpha_p`, summing to one.
    means : ndarray (P, D)
        :math:`\mu_p`, D = 2R + M, ordered as :attr:`features`.
    covariances : ndarray (P, D, D)
        :math:`\Sigma_p`.
    rank, n_input : int
        Rank R of the connectivity and number M of inputs.
    labels : ndarray of int (N,) or None
        The most probable population of each unit (None for a mixture written by hand).
    bic : ndarray (K,) or None
        BIC of each number of populations tried, ``n_tried``.
    n_tried : ndarray of int (K,) or None
        The numbers of populations tried by :func:`loading_mixture`.

    Examples
    --------
    Written by hand, for :func:`~neurodyn.analysis.mean_field_dynamics`: two equal
    populations of a rank-one network with one input, whose :math:`m` and :math:`n`
    covary positively in one and negatively in the other:

    >>> c = np.array([[[1.0, 2.0, 0.0], [2.0, 5.0, 0.0], [0.0, 0.0, 1.0]],
    ...               [[1.0, -1.0, 0.0], [-1.0, 2.0, 0.0], [0.0, 0.0, 1.0]]])
    >>> mix = LoadingMixture(weights=[0.5, 0.5], means=np.zeros((2, 3)), covariances=c,
    ...                      rank=1, n_input=1)
    >>> mix.n_populations, mix.features, dict(mix.to_xarray().sizes)
    (2, ['m1', 'n1', 'I1'], {'population': 2, 'feature': 3, 'feature_2': 3})

    Fitted by :func:`loading_mixture` to 200 units of two well separated populations,
    it labels each unit:

    >>> from neurodyn.analysis import loading_mixture
    >>> rng = np.random.default_rng(0)
    >>> m = np.r_[rng.normal(-3, 0.5, (100, 1)), rng.normal(3, 0.5, (100, 1))]
    >>> ds = xr.Dataset({"m": (("unit", "rank"), m), "n": (("unit", "rank"), m),
    ...                  "I": (("unit", "input"), rng.normal(size=(200, 1)))})
    >>> fit = loading_mixture(ds, max_populations=2)
    >>> fit.n_populations, fit.n_tried.tolist(), bool(fit.bic[1] < fit.bic[0])
    (2, [1, 2], True)
    >>> len(set(fit.labels[:100].tolist())), bool(fit.labels[0] != fit.labels[-1])
    (1, True)
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    rank: int
    n_input: int
    labels: np.ndarray | None = None
    bic: np.ndarray | None = None
    n_tried: np.ndarray | None = None

    def __post_init__(self):
        d = 2 * self.rank + self.n_input
        self.weights = np.asarray(self.weights, dtype=np.float64).reshape(-1)
        p = len(self.weights)
        self.means = np.asarray(self.means, dtype=np.float64).reshape(p, d)
        self.covariances = np.asarray(self.covariances, dtype=np.float64).reshape(p, d, d)
        if np.any(self.weights < 0) or not np.isclose(self.weights.sum(), 1.0):
            raise ValueError(f"weights must be >= 0 and sum to 1, got {self.weights}")
        sym = np.abs(self.covariances - self.covariances.transpose(0, 2, 1)).max()
        if sym > 1e-10 * max(np.abs(self.covariances).max(), 1.0):
            raise ValueError("covariances must be symmetric matrices (P, D, D)")

    @property
    def n_populations(self) -> int:
        return len(self.weights)

    @property
    def features(self) -> list[str]:
        return feature_names(self.rank, self.n_input)

    def to_xarray(self) -> xr.Dataset:
        """``weight`` (population), ``mean`` (population, feature), ``covariance``
        (population, feature, feature_2), ``label`` (unit) and ``bic`` (n_populations)."""
        f = self.features
        ds = xr.Dataset(
            {
                "weight": ("population", self.weights),
                "mean": (("population", "feature"), self.means),
                "covariance": (("population", "feature", "feature_2"), self.covariances),
            },
            coords={"feature": f, "feature_2": f},
            attrs={"rank": self.rank, "n_input": self.n_input},
        )
        if self.labels is not None:
            ds["label"] = ("unit", self.labels)
        if self.bic is not None:
            ds["bic"] = ("n_populations", self.bic)
            ds = ds.assign_coords(n_populations=self.n_tried)
        return ds


def loading_mixture(
    loadings, *, max_populations: int = 5, seed: int = 0, n_init: int = 3
) -> LoadingMixture:
    r"""Fit Gaussian mixtures to the units' loadings and keep the number of populations
    with the lowest BIC.

    Parameters
    ----------
    loadings : LowRankRNN, LowRankDynamics or Dataset of :func:`loading_population`
    max_populations : int
        Largest number of populations tried (1 … ``max_populations``, at most N).
    seed : int
        Seed of the mixtures' k-means initialisation (``random_state``).
    n_init : int
        Initialisations per number of populations; the best likelihood is kept.

    Returns
    -------
    LoadingMixture

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> m = np.r_[rng.normal(-3, 0.5, (100, 1)), rng.normal(3, 0.5, (100, 1))]
    >>> ds = xr.Dataset({"m": (("unit", "rank"), m), "n": (("unit", "rank"), m),
    ...                  "I": (("unit", "input"), rng.normal(size=(200, 1)))})
    >>> loading_mixture(ds, max_populations=3).n_populations
    2
    """
    # scikit-learn is imported here: it takes a second to load, and neurodyn.analysis
    # loads without it.
    from sklearn.mixture import GaussianMixture

    m, n, inputs = _loadings(loadings)
    features = np.concatenate([m, n, inputs], axis=1)
    check_int("max_populations", max_populations)
    check_int("n_init", n_init)
    tried = np.arange(1, min(max_populations, len(features)) + 1)
    fits = [
        GaussianMixture(k, covariance_type="full", n_init=n_init, random_state=seed).fit(features)
        for k in tried
    ]
    bic = np.array([g.bic(features) for g in fits])
    best = fits[int(np.argmin(bic))]
    return LoadingMixture(
        weights=best.weights_,
        means=best.means_,
        covariances=best.covariances_,
        rank=m.shape[1],
        n_input=inputs.shape[1],
        labels=best.predict(features),
        bic=bic,
        n_tried=tried,
    )
