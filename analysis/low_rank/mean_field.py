r"""Mean-field fixed points of a low-rank network beside the fixed points it actually has.

At a fixed point :math:`x^* = m\kappa + Iu` (every fixed point lies in that span, since
:math:`x^* = \tfrac1N m\,n^\top\phi(x^*) + Iu`) with :math:`\kappa = \tfrac1N n^\top\phi(x^*)`.
When the units' loadings :math:`\ell_i = (m_i, n_i, I_i)` are samples of a Gaussian
mixture (:class:`~.population.LoadingMixture`), the average over units becomes, as
:math:`N\to\infty`, an expectation (Mastrogiuseppe & Ostojic 2018; Beiran et al. 2021):

.. math::

    \kappa_r = G_r(\kappa, u) = \sum_p \alpha_p\,\mathbb E_p\!\left[n_r\,\phi(x)\right],
    \qquad x = m^\top\kappa + I^\top u \sim \mathcal N(a_p, \Delta_p),

with :math:`a_p = \mu_{m,p}^\top\kappa + \mu_{I,p}^\top u` and
:math:`\Delta_p = c^\top\Sigma_{(mI)(mI),p}\,c`, :math:`c = (\kappa, u)`. Conditioning
:math:`n_r` on the Gaussian :math:`x` (its regression on x is linear) gives

.. math::

    \mathbb E_p[n_r\phi(x)] = \mu_{n_r,p}\,\langle\phi\rangle_p
        + \frac{\sigma_{n_r x,p}}{\sqrt{\Delta_p}}\,\langle z\,\phi\rangle_p,
    \qquad \langle g\rangle_p = \int \mathcal Dz\; g(a_p + \sqrt{\Delta_p}\,z),

:math:`\sigma_{n_r x,p} = (\Sigma_{n(mI),p}\,c)_r` (Stein's lemma turns the second term
into :math:`\sigma_{n_r x}\langle\phi'\rangle`; the form above needs φ only, so a kink
does not enter through φ'). The one-dimensional Gaussian integrals are computed by
Gauss–Hermite quadrature with ``n_nodes`` nodes (exact for polynomials of degree
:math:`2n-1`; geometric convergence for an analytic φ such as tanh, algebraic for the
kink of relu). Where :math:`\Delta_p = 0`, :math:`|\sigma_{n_r x}| \le
\sqrt{\Sigma_{n_r n_r}\Delta_p} = 0` and the term vanishes.

The mean-field fixed points are the roots of the R-dimensional system
:math:`\tau\dot\kappa = -\kappa + G(\kappa, u)`, found by
:func:`~neurodyn.analysis.find_fixed_points`; their Jacobian
:math:`(\partial G/\partial\kappa - I)/\tau` is the large-N limit of the Jacobian of the
latent dynamics, so the same eigenvalues classify them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from numpy.polynomial.hermite_e import hermegauss

from ..._validation import check_int, check_positive
from ...dynamics import FunctionDynamics, LowRankDynamics
from ...dynamics.nonlinearities import RATE_NONLINEARITIES, get_nonlinearity
from ...dynamics.ops import NUMPY
from ..fixed_points.result import FixedPoints
from ..fixed_points.search import find_fixed_points
from .latent import latent_coordinates, latent_dynamics
from .population import LoadingMixture, loading_mixture

__all__ = ["LowRankFixedPoints", "low_rank_fixed_points", "mean_field_dynamics"]


def _population_average(mix: LoadingMixture, phi, kappa, u, nodes, weights) -> np.ndarray:
    """:math:`G(\\kappa, u)` of the module docstring for states (n, R) and inputs (n, M)."""
    r = mix.rank
    x_idx = np.r_[0:r, 2 * r : 2 * r + mix.n_input]  # the loadings that build x: m and I
    c = np.concatenate([kappa, u], axis=1)  # (n, R + M)
    mu_x, mu_n = mix.means[:, x_idx], mix.means[:, r : 2 * r]  # (P, R+M), (P, R)
    cov_xx = mix.covariances[:, x_idx][:, :, x_idx]  # (P, R+M, R+M)
    cov_nx = mix.covariances[:, r : 2 * r][:, :, x_idx]  # (P, R, R+M)
    a = c @ mu_x.T  # (n, P)
    s = np.sqrt(np.maximum(np.einsum("ni,pij,nj->np", c, cov_xx, c), 0.0))
    sig_nx = np.einsum("pri,ni->npr", cov_nx, c)  # (n, P, R)
    ratio = np.divide(sig_nx, s[..., None], out=np.zeros_like(sig_nx), where=s[..., None] > 0)
    y = phi.value(NUMPY, a[..., None] + s[..., None] * nodes)  # (n, P, Q)
    mean_phi, mean_zphi = y @ weights, y @ (weights * nodes)  # (n, P)
    per_pop = mu_n[None] * mean_phi[..., None] + ratio * mean_zphi[..., None]  # (n, P, R)
    return np.einsum("p,npr->nr", mix.weights, per_pop)


def mean_field_dynamics(
    mixture: LoadingMixture, *, tau: float, dt: float = 1.0, nonlinearity: str = "tanh",
    n_nodes: int = 80,
) -> FunctionDynamics:  # fmt: skip
    r"""The population-averaged latent dynamics :math:`\tau\dot\kappa = -\kappa + G(\kappa, u)`.

    Parameters
    ----------
    mixture : LoadingMixture
        The loadings' distribution (fitted by :func:`~.population.loading_mixture` or
        written by hand).
    tau, dt : float
        Time constant and Euler step in ms.
    nonlinearity : str
    n_nodes : int
        Gauss–Hermite nodes of each Gaussian integral.

    Returns
    -------
    FunctionDynamics
        An ODE with ``n_state = R`` and ``n_input = M``; its Jacobians are central
        differences of G (about 10 correct digits, see
        :class:`~neurodyn.dynamics.FunctionDynamics`).

    Examples
    --------
    Rank one, one population, :math:`n = 2m` (so :math:`\sigma_{nm} = 2 > 1`): the
    trivial state is unstable and two symmetric states appear.

    >>> cov = np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 1.0]])
    >>> mix = LoadingMixture(weights=[1.0], means=np.zeros(3), covariances=cov,
    ...                      rank=1, n_input=1)
    >>> mf = mean_field_dynamics(mix, tau=10.0)
    >>> float(mf.velocity([0.0], [0.0])[0]), round(float(mf.jacobian([0.0], [0.0])[0, 0]), 6)
    (0.0, 0.1)
    """
    if not isinstance(mixture, LoadingMixture):
        raise ValueError(f"mixture must be a LoadingMixture, got {type(mixture).__name__}")
    tau, dt = check_positive("tau", tau), check_positive("dt", dt)
    phi = get_nonlinearity(nonlinearity, choices=RATE_NONLINEARITIES)
    z, w = hermegauss(check_int("n_nodes", n_nodes, low=2))
    w = w / np.sqrt(2.0 * np.pi)  # weights of the standard normal density

    def velocity(kappa, u):
        return (_population_average(mixture, phi, kappa, u, z, w) - kappa) / tau

    return FunctionDynamics(
        velocity, n_state=mixture.rank, n_input=mixture.n_input, kind="ode", dt=dt
    )


@dataclass
class LowRankFixedPoints:
    r"""Mean-field fixed points of a low-rank network beside its own.

    Attributes
    ----------
    mean_field : FixedPoints
        Roots of :func:`mean_field_dynamics`, states κ (k, R).
    network : FixedPoints
        The network's fixed points: found on the network itself (states x, (k', N)) with
        ``search="network"``, or on its exact clamped latent dynamics (states κ) with
        ``search="latent"``.
    network_kappa : ndarray (k', R)
        The network's fixed points projected on m (:func:`~.latent.latent_coordinates`).
    network_speed : ndarray (k',)
        :math:`\|\dot x\|` of the full network at :math:`x = m\kappa + Iu`, per ms.
    mixture : LoadingMixture
        The loadings' distribution the mean field was computed from.

    Examples
    --------
    :func:`low_rank_fixed_points` returns it. A rank-one network of N = 500 units whose loadings are drawn from one Gaussian
    population with :math:`\sigma_{nm} = 2 > 1`: the mean field predicts an unstable
    trivial state and two symmetric stable states, :math:`\kappa \approx \pm 1.34`,
    which the finite network has within a few percent:

    >>> from neurodyn.analysis import LoadingMixture, low_rank_fixed_points
    >>> from neurodyn.dynamics import LowRankDynamics
    >>> cov = np.array([[1.0, 2.0, 0.0], [2.0, 4.25, 0.0], [0.0, 0.0, 1.0]])
    >>> mix = LoadingMixture(weights=[1.0], means=np.zeros(3), covariances=cov,
    ...                      rank=1, n_input=1)
    >>> z = np.random.default_rng(0).standard_normal((500, 3))
    >>> m, n, I = z[:, :1], 2 * z[:, :1] + 0.5 * z[:, 1:2], z[:, 2:]  # (m, n, I) ~ N(0, cov)
    >>> net = LowRankDynamics(m=m, n=n, W_in=I, tau=10.0, dt=1.0)
    >>> res = low_rank_fixed_points(net, mixture=mix)
    >>> res.mean_field.x.round(3).ravel().tolist(), res.mean_field.stability.tolist()
    ([-1.337, 0.0, 1.337], ['stable', 'unstable_1', 'stable'])
    >>> order = np.argsort(res.network_kappa.ravel())
    >>> res.network_kappa.ravel()[order].round(2).tolist(), res.network.stability[order].tolist()
    ([-1.27, 0.0, 1.27], ['stable', 'unstable_1', 'stable'])
    >>> res.distances().shape, bool(res.distances().min(axis=1).max() < 0.1)
    ((3, 3), True)
    >>> bool(res.network_speed.max() < 1e-10)  # fixed points of the full network too
    True
    """

    mean_field: FixedPoints
    network: FixedPoints
    network_kappa: np.ndarray
    network_speed: np.ndarray
    mixture: LoadingMixture

    def distances(self) -> np.ndarray:
        """:math:`\\|\\kappa^{mf}_a - \\kappa^{net}_b\\|`, shape (mean-field, network)."""
        d = self.mean_field.x[:, None, :] - self.network_kappa[None, :, :]
        return np.linalg.norm(d, axis=-1)

    def to_xarray(self) -> xr.Dataset:
        """κ and the number of unstable modes of both sets, side by side."""
        return xr.Dataset(
            {
                "mean_field_kappa": (("mean_field_point", "rank"), self.mean_field.x),
                "mean_field_n_unstable": ("mean_field_point", self.mean_field.n_unstable),
                "network_kappa": (("network_point", "rank"), self.network_kappa),
                "network_n_unstable": ("network_point", self.network.n_unstable),
                "network_speed": ("network_point", self.network_speed),
            },
            coords={"rank": np.arange(1, self.mixture.rank + 1)},
        )


def _starts(rank: int, kappa_max: float, n_starts: int, seed: int) -> np.ndarray:
    """Initial κ: a grid over the cube for R ≤ 2 (an odd number of points per side,
    about ``n_starts`` in all), uniform samples in it otherwise."""
    if rank <= 2:
        # An odd number of points per side puts a start at κ = 0, where a symmetric
        # network has its trivial state.
        side = int(round(n_starts ** (1.0 / rank))) | 1
        g = np.meshgrid(*[np.linspace(-kappa_max, kappa_max, side)] * rank)
        return np.stack([a.ravel() for a in g], axis=1)
    return np.random.default_rng(seed).uniform(-kappa_max, kappa_max, (n_starts, rank))


def low_rank_fixed_points(
    model, inputs=None, *, mixture: LoadingMixture | None = None, search: str = "latent",
    n_nodes: int = 80, n_starts: int = 41, kappa_max: float | None = None, seed: int = 0,
    threads=None,
) -> LowRankFixedPoints:  # fmt: skip
    r"""The mean-field fixed points of a low-rank network and the fixed points it has.

    Parameters
    ----------
    model : LowRankRNN
    inputs : array (M,), optional
        Constant input (zero when omitted).
    mixture : LoadingMixture, optional
        The loadings' distribution (default: :func:`~.population.loading_mixture` of the
        model, seeded with ``seed``).
    search : {"latent", "network"}
        Find the network's fixed points on its clamped latent dynamics (R variables;
        exact, since every fixed point is :math:`m\kappa + Iu`; the network's other N − R
        eigenvalues are :math:`-1/\tau`) or with
        :func:`~neurodyn.analysis.find_fixed_points` on the full network (N variables)
        from the same starts embedded as :math:`m\kappa + Iu`.
    n_nodes : int
        Gauss–Hermite nodes per Gaussian integral.
    n_starts : int
        Starts of each search (a grid for R ≤ 2; the mean-field roots are added to the
        network's starts).
    kappa_max : float, optional
        Half-width of the cube of starts (default: 1.5 × the largest RMS of a loading
        :math:`n_r`, which bounds :math:`|\kappa_r|` for a φ with :math:`|\phi| \le 1`).
    seed : int
        Seeds the fit of the mixture and the starts for R > 2.
    threads : int, optional
        Threads of the searches (default: chosen by :mod:`neurodyn.threads`).

    Returns
    -------
    LowRankFixedPoints

    Examples
    --------
    A rank-one network of N = 500 units whose loadings are drawn from one Gaussian
    population with :math:`\sigma_{nm} = 2 > 1`: the mean field predicts an unstable
    trivial state and two symmetric stable states, :math:`\kappa \approx \pm 1.34`,
    which the finite network has within a few percent:

    >>> from neurodyn.analysis import LoadingMixture, low_rank_fixed_points
    >>> from neurodyn.dynamics import LowRankDynamics
    >>> cov = np.array([[1.0, 2.0, 0.0], [2.0, 4.25, 0.0], [0.0, 0.0, 1.0]])
    >>> mix = LoadingMixture(weights=[1.0], means=np.zeros(3), covariances=cov,
    ...                      rank=1, n_input=1)
    >>> z = np.random.default_rng(0).standard_normal((500, 3))
    >>> m, n, I = z[:, :1], 2 * z[:, :1] + 0.5 * z[:, 1:2], z[:, 2:]  # (m, n, I) ~ N(0, cov)
    >>> net = LowRankDynamics(m=m, n=n, W_in=I, tau=10.0, dt=1.0)
    >>> res = low_rank_fixed_points(net, mixture=mix)
    >>> res.mean_field.x.round(3).ravel().tolist()
    [-1.337, 0.0, 1.337]
    >>> np.sort(res.network_kappa.ravel()).round(2).tolist()
    [-1.27, 0.0, 1.27]
    """
    if search not in ("latent", "network"):
        raise ValueError(f"search must be 'latent' or 'network', got {search!r}")
    dyn = model if isinstance(model, LowRankDynamics) else model.as_dynamics(kind="ode")
    u = dyn.check_inputs(inputs, 1, "inputs")[0]
    mix = loading_mixture(model, seed=seed) if mixture is None else mixture
    rank = dyn.rank
    if kappa_max is None:
        second = mix.means[:, rank : 2 * rank] ** 2 + np.einsum(
            "prr->pr", mix.covariances[:, rank : 2 * rank, rank : 2 * rank]
        )
        kappa_max = 1.5 * float(np.sqrt(mix.weights @ second).max())
    starts = _starts(rank, check_positive("kappa_max", kappa_max), n_starts, seed)
    opts = {"progress": False, "threads": threads}
    mf = mean_field_dynamics(mix, tau=float(dyn.tau[0]), dt=dyn.dt,
                             nonlinearity=dyn.nonlinearity, n_nodes=n_nodes)  # fmt: skip
    mean_field = find_fixed_points(mf, u, starts, **opts).roots
    k0 = np.concatenate([starts, mean_field.x], axis=0)
    if search == "latent":
        network = find_fixed_points(latent_dynamics(dyn, clamp_inputs=True), u, k0, **opts).roots
        kappa = network.x
    else:
        x0 = k0 @ dyn.m.T + u @ dyn.W_in.T
        network = find_fixed_points(dyn, u, x0, **opts).roots
        kappa = latent_coordinates(dyn, network.x)[0]
    x_star = kappa @ dyn.m.T + u @ dyn.W_in.T
    speed = np.linalg.norm(dyn.velocity(x_star, u), axis=-1) if len(kappa) else np.zeros(0)
    return LowRankFixedPoints(mean_field, network, kappa, speed, mix)
