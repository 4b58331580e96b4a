r"""The reduced latent dynamics of a low-rank network, exact for states in the span of m and I.

For :math:`\tau\dot x = -x + \tfrac1N m\,n^\top\phi(x) + Iu(t)` a state
:math:`x = m\kappa + Iv` (:math:`\kappa \in \mathbb R^R`, :math:`v \in \mathbb R^M`) has
velocity :math:`m\,(-\kappa + \tfrac1N n^\top\phi(x)) + I\,(-v + u)`, again in the span.
So a network started there stays there, and when the columns of :math:`[m, I]` are
linearly independent its coordinates obey, exactly,

.. math::

    \tau\dot\kappa = -\kappa + \tfrac1N n^\top\phi(m\kappa + Iv), \qquad
    \tau\dot v = -v + u ,

a system of dimension R + M whatever N (``clamp_inputs=False``). For a constant input the
plane :math:`v = u` is invariant and attracts every state at rate :math:`1/\tau`; on it

.. math:: \tau\dot\kappa = -\kappa + \tfrac1N n^\top\phi(m\kappa + Iu) ,

a system of dimension R with input u (``clamp_inputs=True``), whose phase portrait
(:func:`~neurodyn.analysis.phase_plane`, R ≤ 2) is the exact flow of the network on that
plane. The Euler map (``kind="map"``) is the network's own Euler step in these
coordinates, so it reproduces the forward pass to round-off. The Jacobians are

.. math::

    \partial_\kappa \dot\kappa = \tfrac1\tau\left(\tfrac1N n^\top\operatorname{diag}\phi'(x)\,m
        - I_R\right),\quad
    \partial_v \dot\kappa = \tfrac1{\tau N} n^\top\operatorname{diag}\phi'(x)\,I, \quad
    \partial_v \dot v = -\tfrac1\tau I_M, \quad \partial_u \dot v = \tfrac1\tau I_M .
"""

from __future__ import annotations

import numpy as np

from ..._validation import check_choice, check_positive, to_numpy
from ...dynamics import Dynamics
from ...dynamics.nonlinearities import RATE_NONLINEARITIES, get_nonlinearity

__all__ = ["LatentDynamics", "latent_coordinates", "latent_dynamics"]


class LatentDynamics(Dynamics):
    r"""The latent dynamics :math:`(\kappa, v)` of a low-rank network (see the module).

    Parameters
    ----------
    m, n : array (N, R)
        Loadings.
    W_in : array (N, M)
        Input vectors I.
    tau, dt : float
        Time constant and Euler step in ms.
    nonlinearity : str
        φ: ``"tanh"``, ``"relu"``, ``"softplus"`` or ``"rectified_tanh"``.
    kind : {"ode", "map"}
        The ODE, or its Euler map with step ``dt``.
    clamp_inputs : bool
        State κ only, with :math:`v = u` (dimension R), instead of :math:`(\kappa, v)`.

    Examples
    --------
    :func:`latent_dynamics` builds it from a network; here from loadings drawn by hand
    (N = 500, R = 2, M = 1). For a network state in the span of :math:`[m, I]`, the
    latent velocity is the network's velocity in latent coordinates:

    >>> from neurodyn.analysis import latent_coordinates
    >>> from neurodyn.dynamics import RateDynamics
    >>> rng = np.random.default_rng(0)
    >>> m, n, I = rng.normal(size=(500, 2)), 2 * rng.normal(size=(500, 2)), rng.normal(size=(500, 1))
    >>> lat = LatentDynamics(m=m, n=n, W_in=I, tau=100.0, dt=10.0)
    >>> lat.n_state, lat.state_coords()["variable"].tolist()
    (3, ['kappa1', 'kappa2', 'v1'])
    >>> net = RateDynamics(W=m @ n.T / 500, W_in=I, tau=100.0, dt=10.0)
    >>> z, u = np.array([[0.5, -1.0, 0.3]]), np.array([[0.2]])
    >>> x = z[:, :2] @ m.T + z[:, 2:] @ I.T
    >>> dk, dv = latent_coordinates(lat, net.velocity(x, u))
    >>> bool(np.allclose(lat.velocity(z, u), np.concatenate([dk, dv], 1)))
    True
    """

    state_dim = "latent"

    def __init__(self, *, m, n, W_in, tau, dt, nonlinearity="tanh", kind="ode",
                 clamp_inputs=False):  # fmt: skip
        self.kind = check_choice("kind", kind, ("ode", "map"))
        self.phi = get_nonlinearity(nonlinearity, choices=RATE_NONLINEARITIES)
        self.m, self.n = np.asarray(m, np.float64), np.asarray(n, np.float64)
        self.W_in = np.asarray(W_in, np.float64).reshape(len(self.m), -1)
        self.rank, self.n_input = self.m.shape[1], self.W_in.shape[1]
        self.tau, self.dt = check_positive("tau", tau), check_positive("dt", dt)
        self.clamp_inputs = bool(clamp_inputs)
        self.n_state = self.rank + (0 if self.clamp_inputs else self.n_input)
        self.scale = 1.0 / self.tau if self.kind == "ode" else self.dt / self.tau
        self._n_scaled = self.n / len(self.n)

    def state_coords(self):
        names = [f"kappa{r + 1}" for r in range(self.rank)]
        if not self.clamp_inputs:
            names += [f"v{k + 1}" for k in range(self.n_input)]
        return {"variable": np.array(names)}

    def _arrays(self, ops, like):
        return self._on(ops, like, (self.m, self._n_scaled, self.W_in))

    def _split(self, ops, z, u):
        """``(κ, v, x)``: the latent coordinates and the network state they stand for."""
        m, _, w_in = self._arrays(ops, z)
        kappa = z[:, : self.rank]
        v = u if self.clamp_inputs else z[:, self.rank :]
        return kappa, v, kappa @ m.T + v @ w_in.T

    def _residual(self, ops, z, u):
        kappa, v, x = self._split(ops, z, u)
        _, n, _ = self._arrays(ops, z)
        r = -kappa + self.phi.value(ops, x) @ n
        if not self.clamp_inputs:
            r = ops.cat([r, u - v], axis=1)
        return self.scale * r

    def _residual_jacobian(self, ops, z, u):
        kappa, v, x = self._split(ops, z, u)
        m, n, w_in = self._arrays(ops, z)
        y, dy = self.phi.value_and_derivative(ops, x)
        eye_r = ops.eye(self.rank, z)[None]
        a_kk = ops.einsum("jr,nj,js->nrs", n, dy, m) - eye_r
        r = -kappa + y @ n
        if self.clamp_inputs:
            return self.scale * r, self.scale * a_kk
        a_kv = ops.einsum("jr,nj,jk->nrk", n, dy, w_in)
        zeros = ops.zeros((len(z), self.n_input, self.rank), z)
        a_vv = -ops.eye(self.n_input, z)[None] + ops.zeros((len(z), 1, 1), z)
        a = ops.cat([ops.cat([a_kk, a_kv], axis=2), ops.cat([zeros, a_vv], axis=2)], axis=1)
        return self.scale * ops.cat([r, u - v], axis=1), self.scale * a

    def _input_jacobian(self, ops, z, u):
        if self.clamp_inputs:
            _, _, x = self._split(ops, z, u)
            _, n, w_in = self._arrays(ops, z)
            dy = self.phi.derivative(ops, x)
            return self.scale * ops.einsum("jr,nj,jk->nrk", n, dy, w_in)
        top = ops.zeros((len(z), self.rank, self.n_input), z)
        bottom = ops.zeros((len(z), 1, 1), z) + ops.eye(self.n_input, z)[None]
        return self.scale * ops.cat([top, bottom], axis=1)


def latent_dynamics(model, *, kind: str = "ode", clamp_inputs: bool = False) -> LatentDynamics:
    r"""The exact latent dynamics of a low-rank network (see :mod:`.latent`).

    Parameters
    ----------
    model : LowRankRNN or LowRankDynamics
    kind : {"ode", "map"}
        The ODE, or the Euler map with the model's ``dt`` (the forward pass in latent
        coordinates).
    clamp_inputs : bool
        Dimension R with :math:`v = u` (for phase portraits under a constant input), or
        R + M with the filtered input :math:`v` as state variables.

    Returns
    -------
    LatentDynamics

    Examples
    --------
    >>> from neurodyn.rnn_models import LowRankRNN
    >>> from neurodyn.analysis import phase_plane
    >>> net = LowRankRNN(1, 200, 1, 2, seed=0)
    >>> lat = latent_dynamics(net, clamp_inputs=True)
    >>> lat.n_state, phase_plane(lat, xlim=(-2, 2), ylim=(-2, 2), n_grid=5).velocity.shape
    (2, (5, 5, 2))
    """
    for k in ("m", "n", "W_in", "tau", "dt", "nonlinearity"):
        if not hasattr(model, k):
            raise ValueError(
                f"model must be a low-rank network (LowRankRNN or LowRankDynamics); a "
                f"{type(model).__name__} has no {k!r}"
            )
    tau = model.tau if np.ndim(to_numpy(model.tau)) == 0 else to_numpy(model.tau)
    if np.ptp(np.atleast_1d(tau)) > 0:
        raise ValueError("the latent reduction needs one time constant for every unit")
    return LatentDynamics(
        m=to_numpy(model.m), n=to_numpy(model.n), W_in=to_numpy(model.W_in),
        tau=float(np.atleast_1d(tau)[0]), dt=model.dt, nonlinearity=model.nonlinearity,
        kind=kind, clamp_inputs=clamp_inputs,
    )  # fmt: skip


def latent_coordinates(model, states) -> tuple[np.ndarray, np.ndarray]:
    r"""The coordinates :math:`(\kappa, v)` of network states on the span of :math:`[m, I]`.

    The least-squares solution of :math:`x = m\kappa + Iv` for each state: exact for a
    state in the span, the orthogonal projection onto it otherwise.

    Parameters
    ----------
    model : LowRankRNN or LowRankDynamics
        The network (anything with loadings ``m`` (N, R) and input vectors ``W_in``
        (N, M)).
    states : array (..., N)
        Network states, e.g. the ``states`` of a :func:`neurodyn.simulate` result.

    Returns
    -------
    kappa : ndarray (..., R)
        Coordinates along the loadings m.
    v : ndarray (..., M)
        Coordinates along the input vectors I.

    Examples
    --------
    A state built from latent coordinates gives them back:

    >>> from neurodyn.rnn_models import LowRankRNN
    >>> net = LowRankRNN(1, 200, 1, 2, seed=0)
    >>> m, I = net.m.detach().numpy(), net.W_in.detach().numpy()
    >>> x = np.array([[0.5, -1.0]]) @ m.T + np.array([[0.3]]) @ I.T
    >>> kappa, v = latent_coordinates(net, x)
    >>> kappa.round(6).tolist(), v.round(6).tolist()
    ([[0.5, -1.0]], [[0.3]])
    """
    m, w_in = to_numpy(model.m).astype(np.float64), to_numpy(model.W_in).astype(np.float64)
    x = np.asarray(to_numpy(states), dtype=np.float64)
    if x.shape[-1] != len(m):
        raise ValueError(f"states has shape {x.shape}; expected (..., {len(m)})")
    basis = np.concatenate([m, w_in], axis=1)
    coef = np.linalg.lstsq(basis, x.reshape(-1, len(m)).T, rcond=None)[0].T
    coef = coef.reshape(*x.shape[:-1], basis.shape[1])
    return coef[..., : m.shape[1]], coef[..., m.shape[1] :]
