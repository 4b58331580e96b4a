r"""Fixed-step integration of dynamical systems: Euler and RK4 steps and trajectories.

A map :math:`x_{t+1} = F(x_t, u)` is iterated as it is. An ODE :math:`\dot x = f(x, u)`
advances by a step h with

.. math::

    \text{Euler:}\quad x_{n+1} = x_n + h\,f(x_n),

    \text{RK4:}\quad
    \begin{aligned}
    k_1 &= f(x_n), & k_2 &= f(x_n + \tfrac h2 k_1), &
    k_3 &= f(x_n + \tfrac h2 k_2), & k_4 &= f(x_n + h k_3),
    \end{aligned}
    \quad x_{n+1} = x_n + \tfrac h6 (k_1 + 2k_2 + 2k_3 + k_4),

whose global errors over a fixed time are :math:`O(h)` and :math:`O(h^4)`.

Two layers:

* :func:`euler_step` and :func:`rk4_step` advance any vector field. The state is an
  array (n, d) of n states, or a tuple of arrays advanced together: a state and its
  tangent vectors :math:`V`, whose variational equation :math:`\dot V = A(x)V` then
  uses the same stages as the state (how the Lyapunov spectrum and the monodromy
  matrix of a periodic orbit are integrated).
* For a :class:`~neurodyn.dynamics.Dynamics`, :func:`scheme` resolves the method and
  step once (a :class:`Scheme`: ``"map"``, ``"euler"`` or ``"rk4"``),
  :func:`residual_field` gives its residual :math:`r(x, u)` as a function of the
  states (:math:`F(x) - x` for a map, :math:`f(x)` for an ODE, inputs prepared once),
  :meth:`Scheme.step` and :meth:`Scheme.tangent_step` advance states (and tangent
  vectors), :func:`advance` runs many steps, and :func:`step` and :func:`trajectory`
  do all of it with validated arguments.

Everything is float64 NumPy (a tuple's arrays keep their own dtypes), batched over the
first axis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import threads as _threads
from .._validation import check_choice, check_int, check_positive
from .factory import dynamics as as_dynamics
from .ops import NUMPY
from .protocol import Dynamics

__all__ = [
    "METHODS",
    "Scheme",
    "advance",
    "euler_step",
    "residual_field",
    "rk4_step",
    "scheme",
    "step",
    "trajectory",
]

#: Method names a :class:`Dynamics` can be stepped with ("auto": a map is iterated, an
#: ODE takes RK4 steps).
METHODS = ("auto", "map", "euler", "rk4")


# -- vector fields on arrays or tuples of arrays --------------------------------------
def _axpy(x, a: float, k):
    """x + a k, leaf by leaf."""
    if isinstance(x, tuple):
        return tuple([xi + a * ki for xi, ki in zip(x, k, strict=True)])
    return x + a * k


def _rk4_sum(x, k1, k2, k3, k4, *, h: float):
    """x + h/6 (k1 + 2 k2 + 2 k3 + k4) for one array, with one new array.

    Accumulated in place as (2 (k2 + k3) + k1 + k4) h/6 + x: one temporary and six
    passes over the data, which matters when x is a large block of tangent vectors.
    The stages themselves are never written to (a vector field may return a view of
    its argument).
    """
    acc = k2 + k3
    if not (acc.dtype == x.dtype == k1.dtype == k4.dtype):  # e.g. float32 stages
        acc = acc.astype(np.result_type(x, k1, acc, k4))
    acc *= 2.0
    acc += k1
    acc += k4
    acc *= h / 6.0
    acc += x
    return acc


def euler_step(f: Callable, x, h: float, k1=None):
    r"""One Euler step :math:`x + h\,f(x)`.

    Parameters
    ----------
    f : callable
        The vector field: ``f(x)`` has the structure of ``x``.
    x : ndarray or tuple of ndarray
        States, e.g. (n, d), or a tuple of arrays advanced together.
    h : float
        Step, in the time unit of ``f``.
    k1 : like ``x``, optional
        :math:`f(x)` when the caller has evaluated it already (together with a
        Jacobian, say); ``f`` is then not called.

    Returns
    -------
    ndarray or tuple of ndarray
        New arrays; ``x`` is not modified.

    Examples
    --------
    >>> euler_step(lambda x: -x, np.array([1.0]), 0.1)
    array([0.9])
    """
    return _axpy(x, h, f(x) if k1 is None else k1)


def rk4_step(f: Callable, x, h: float, k1=None):
    r"""One step of the classical fourth-order Runge–Kutta method.

    .. math::

        x + \tfrac h6 (k_1 + 2k_2 + 2k_3 + k_4), \quad k_1 = f(x),\;
        k_2 = f(x + \tfrac h2 k_1),\; k_3 = f(x + \tfrac h2 k_2),\; k_4 = f(x + h k_3).

    Parameters
    ----------
    f, x, h, k1
        As in :func:`euler_step`. With a tuple (a state and its tangent vectors) the
        variational equation shares the state's stages.

    Returns
    -------
    ndarray or tuple of ndarray
        New arrays; ``x`` is not modified.

    Examples
    --------
    One step of :math:`\dot x = -x` from 1 is the Taylor polynomial of :math:`e^{-h}`
    to fourth order:

    >>> h = 0.1
    >>> x1 = float(rk4_step(lambda x: -x, np.array([1.0]), h)[0])
    >>> abs(x1 - (1 - h + h**2 / 2 - h**3 / 6 + h**4 / 24)) < 1e-15  # rounding of 0.9
    True
    """
    k1 = f(x) if k1 is None else k1
    k2 = f(_axpy(x, 0.5 * h, k1))
    k3 = f(_axpy(x, 0.5 * h, k2))
    k4 = f(_axpy(x, h, k3))
    if isinstance(x, tuple):
        return tuple([_rk4_sum(*leaf, h=h) for leaf in zip(x, k1, k2, k3, k4, strict=True)])
    return _rk4_sum(x, k1, k2, k3, k4, h=h)


# -- a Dynamics ----------------------------------------------------------------------
@dataclass(frozen=True)
class Scheme:
    r"""How a system advances by one step: its method and step.

    Every function here takes the system's **residual** :math:`r(x)`
    (:func:`residual_field`): a map steps to :math:`F(x) = x + r(x)`, an ODE solves
    :math:`\dot x = r(x)`.

    Attributes
    ----------
    method : {"map", "euler", "rk4"}
    h : float
        The ODE step in the system's time unit (1.0 for a map: one iteration).
    time_per_step : float
        Duration of one step in the system's time unit (``h``; a map's ``dt``).

    Examples
    --------
    :func:`scheme` builds one. An Euler step of :math:`\dot x = -x` and of its
    variational equation :math:`\dot V = -V` multiplies both by :math:`1 - h`:

    >>> from neurodyn.dynamics import FunctionDynamics
    >>> decay = FunctionDynamics(lambda x, u: -x, n_state=1, kind="ode")
    >>> sch = scheme(decay, "euler", h=0.1)
    >>> sch
    Scheme(method='euler', h=0.1, time_per_step=0.1)
    >>> sch.step(residual_field(decay), np.array([[1.0]]))
    array([[0.9]])
    >>> def fj(x):  # the residual and its Jacobian A = -I, per state
    ...     return -x, np.broadcast_to(-np.eye(1), (len(x), 1, 1))
    >>> x1, V1 = sch.tangent_step(fj, np.array([[1.0]]), np.ones((1, 1, 1)))
    >>> x1, V1
    (array([[0.9]]), array([[[0.9]]]))
    """

    method: str
    h: float
    time_per_step: float

    def step(self, f: Callable, x, k1=None):
        """The states one step on (new arrays).

        Parameters
        ----------
        f : callable
            The residual as a function of the states.
        x : ndarray (n, d) or tuple of ndarray
        k1 : like ``x``, optional
            ``f(x)`` when already evaluated.
        """
        if self.method == "map":
            return _axpy(x, 1.0, f(x) if k1 is None else k1)
        if self.method == "euler":
            return euler_step(f, x, self.h, k1)
        return rk4_step(f, x, self.h, k1)

    def tangent_step(self, fj: Callable, x, V):
        r"""States and their tangent vectors one step on: ``(x', V')``.

        A map advances :math:`V' = J(x)V = (I + A(x))V`; an ODE solves the variational
        equation :math:`\dot V = A(x(t))V` with the state's own stages.

        Parameters
        ----------
        fj : callable
            ``fj(x) -> (r, A)``: the residual (n, d) and its Jacobian
            :math:`A = \partial r/\partial x` (n, d, d).
        x : ndarray (n, d)
        V : ndarray (n, d, k)
            k tangent vectors per state, as columns.
        """
        if self.method == "map":
            r, A = fj(x)
            return x + r, (A + np.eye(A.shape[-1], dtype=A.dtype)) @ V

        def field(state):
            r, A = fj(state[0])
            return r, A @ state[1]

        return self.step(field, (x, V))


def scheme(dynamics: Dynamics, method: str = "auto", h: float | None = None) -> Scheme:
    """The :class:`Scheme` of a system: method and step, validated.

    Parameters
    ----------
    dynamics : Dynamics
    method : {"auto", "map", "euler", "rk4"}
        ``"auto"``: a map is iterated (``"map"``), an ODE takes RK4 steps. ``"map"`` is
        for maps only, ``"euler"`` and ``"rk4"`` for ODEs only.
    h : float, optional
        ODE step in the system's time unit (default ``dynamics.dt``); not for maps,
        whose step is their own.

    Returns
    -------
    Scheme

    Raises
    ------
    ValueError
        For an unknown method, a method of the other kind of system, a step for a map
        or a step that is not positive.

    Examples
    --------
    An ODE takes RK4 steps of its own ``dt`` unless told otherwise; a map is iterated:

    >>> from neurodyn.dynamics import FunctionDynamics, RateDynamics
    >>> ode = FunctionDynamics(lambda x, u: -x, n_state=1, kind="ode", dt=0.5)
    >>> scheme(ode), scheme(ode, "euler", h=0.1).method
    (Scheme(method='rk4', h=0.5, time_per_step=0.5), 'euler')
    >>> euler_map = RateDynamics(W=np.zeros((2, 2)), W_in=np.eye(2), tau=10.0, dt=1.0,
    ...                          kind="map")
    >>> scheme(euler_map)
    Scheme(method='map', h=1.0, time_per_step=1.0)
    """
    method = check_choice("method", method, METHODS)
    if dynamics.kind == "map":
        if method not in ("auto", "map"):
            raise ValueError(f"method={method!r} is for ODEs; a map is iterated as it is")
        if h is not None:
            raise ValueError("h is for ODEs; a map's step is its own (dynamics.dt)")
        return Scheme("map", 1.0, float(dynamics.dt))
    if method == "map":
        raise ValueError("method='map' is for maps; an ODE takes 'euler' or 'rk4' steps")
    h = float(dynamics.dt) if h is None else check_positive("h", h)
    return Scheme("rk4" if method == "auto" else method, h, h)


def residual_field(dynamics: Dynamics, inputs=None, n: int = 1) -> Callable:
    r"""The residual r(x, u) of ``dynamics`` at fixed inputs, as a function of states.

    Parameters
    ----------
    dynamics : Dynamics
    inputs : array (m,) or (n, m), optional
        Zero when omitted; (m,) is shared by every state.
    n : int
        Number of states the function will be called with (rows of ``inputs``).

    Returns
    -------
    callable
        ``f(x)`` for states (n, d), a float64 array (n, d): :math:`F(x) - x` for a map,
        :math:`f(x)` for an ODE. The inputs are prepared once, not at every call.

    Examples
    --------
    The Euler map of uncoupled rate units, :math:`x' = x + \tfrac{\Delta t}{\tau}(-x + u)`,
    has its fixed point at :math:`x = u`, where the residual vanishes:

    >>> from neurodyn.dynamics import RateDynamics
    >>> dyn = RateDynamics(W=np.zeros((2, 2)), W_in=np.eye(2), tau=10.0, dt=1.0, kind="map")
    >>> f = residual_field(dyn, [1.0, -1.0])
    >>> f(np.array([[1.0, -1.0]])), f(np.zeros((1, 2)))  # Δt/τ (u - x)
    (array([[0., 0.]]), array([[ 0.1, -0.1]]))
    """
    c = dynamics._prepare(NUMPY, dynamics.check_inputs(inputs, n, "inputs"))

    def f(x):
        return np.asarray(dynamics._residual(NUMPY, x, c))

    return f


def advance(sch: Scheme, f: Callable, x0, n_steps: int, *, keep: bool = False):
    r"""Advance states ``n_steps`` steps; the last states or the whole trajectories.

    A state that overflows becomes NaN or infinite and stays so (no warning); once
    every state has, the remaining steps are not taken and are NaN.

    Parameters
    ----------
    sch : Scheme
    f : callable
        The residual as a function of the states (:func:`residual_field`).
    x0 : ndarray (n, d)
    n_steps : int
    keep : bool
        Return every state, (n, n_steps + 1, d), not only the last ones (n, d).

    Returns
    -------
    ndarray

    Examples
    --------
    Ten RK4 steps of h = 0.1 of :math:`\dot x = -x` reach :math:`e^{-1}` to about
    :math:`h^4/120`:

    >>> from neurodyn.dynamics import FunctionDynamics
    >>> decay = FunctionDynamics(lambda x, u: -x, n_state=1, kind="ode", dt=0.1)
    >>> sch, f = scheme(decay), residual_field(decay, n=2)
    >>> x = advance(sch, f, np.array([[1.0], [2.0]]), 10)
    >>> bool(np.allclose(x, np.exp(-1.0) * np.array([[1.0], [2.0]]), atol=1e-6))
    True
    >>> advance(sch, f, np.array([[1.0], [2.0]]), 10, keep=True).shape
    (2, 11, 1)
    """
    x = np.array(x0, dtype=np.float64)
    out = np.full((len(x), n_steps + 1, x.shape[1]), np.nan) if keep else None
    if keep:
        out[:, 0] = x
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(1, n_steps + 1):
            x = sch.step(f, x)
            if keep:
                out[:, i] = x
            if not np.any(np.isfinite(x)):
                x = np.full_like(x, np.nan)
                break
    return out if keep else x


def _work(dynamics: Dynamics, n: int) -> float:
    """Flops of one residual evaluation of n states (a d × d matrix product each)."""
    return 2.0 * n * dynamics.n_state**2


def step(dynamics, x, inputs=None, *, method: str = "auto", h: float | None = None,
         threads=None) -> np.ndarray:  # fmt: skip
    """Advance states one step: a map's own step, or an Euler or RK4 step of an ODE.

    Parameters
    ----------
    dynamics, inputs, method, h, threads
        As in :func:`trajectory`.
    x : array (d,) or (n, d)
        States.

    Returns
    -------
    ndarray, the shape of ``x``

    Examples
    --------
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> decay = FunctionDynamics(lambda x, u: -x, n_state=1, kind="ode", dt=0.5)
    >>> step(decay, [1.0], method="euler")
    array([0.5])
    """
    out = _run(dynamics, x, "x", inputs, 1, method, h, threads)[:, 1]
    return out[0] if np.ndim(x) == 1 else out


def trajectory(dynamics, x0, inputs=None, *, n_steps: int, method: str = "auto",
               h: float | None = None, threads=None) -> np.ndarray:  # fmt: skip
    r"""Trajectories from initial states at constant inputs, batched over the states.

    Parameters
    ----------
    dynamics : Dynamics or model
        Anything :func:`neurodyn.dynamics.dynamics` accepts.
    x0 : array (d,) or (n, d)
        Initial states.
    inputs : array (m,) or (n, m), optional
        Constant inputs; zero when omitted.
    n_steps : int
        Steps to take (a map's iterations, or ODE steps of ``h``).
    method : {"auto", "map", "euler", "rk4"}
        See :func:`scheme`.
    h : float, optional
        ODE step in the system's time unit (default ``dynamics.dt``).
    threads : int, optional
        Threads of the residual's matrix products (default: :mod:`neurodyn.threads`).

    Returns
    -------
    ndarray (n, n_steps + 1, d)
        The states at times :math:`0, \Delta, \dots, n_\text{steps}\Delta` (Δ = h, or a
        map's dt), initial states first. A trajectory that overflows holds NaN or
        infinite values from there on.

    Examples
    --------
    :math:`\dot x = -x` decays as :math:`e^{-t}`; RK4 with h = 0.1 agrees to about
    :math:`h^4/120` per unit time:

    >>> from neurodyn.dynamics import FunctionDynamics
    >>> decay = FunctionDynamics(lambda x, u: -x, n_state=1, kind="ode")
    >>> xs = trajectory(decay, [1.0], n_steps=10, h=0.1)
    >>> xs.shape, bool(abs(xs[0, -1, 0] - np.exp(-1.0)) < 1e-6)
    ((1, 11, 1), True)
    """
    return _run(dynamics, x0, "x0", inputs, n_steps, method, h, threads)


def _run(dynamics, x0, name, inputs, n_steps, method, h, threads):
    """Validate, then every state of the trajectories (n, n_steps + 1, d)."""
    dyn = dynamics if isinstance(dynamics, Dynamics) else as_dynamics(dynamics)
    xa = dyn.check_states(x0, name)
    n_steps = check_int("n_steps", n_steps, low=0)
    sch = scheme(dyn, method, h)
    f = residual_field(dyn, inputs, len(xa))
    with _threads.limit(threads, work=_work(dyn, len(xa)), what="trajectory"):
        return advance(sch, f, xa, n_steps, keep=True)
