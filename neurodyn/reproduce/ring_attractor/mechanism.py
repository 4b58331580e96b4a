r"""The ring attractor of a head-direction network (:mod:`neurodyn.reproduce.ring_attractor`).

A network that integrates angular velocity must hold any heading when still: at zero
input its states at the headings it can report form a closed curve of slow points, a
ring, along which the slowest mode points (the flip side of a line attractor). Given the
network's dynamics and a ``decode`` function from states to the reported heading,

* :func:`ring_of_slow_points` relaxes visited states at zero input and strings them into
  a ring with :func:`~neurodyn.analysis.find_slow_manifolds`;
* :func:`decoded_ring` reads the heading at each of its points: a ring that represents
  every heading once winds around the circle once, :math:`w = \pm 1`, without a large
  gap between consecutive headings;
* :func:`heading_drift` is how fast the heading moves at zero input,
  :math:`\dot\theta = \nabla\theta(x) \cdot f(x)` (a central difference along the flow);
* :func:`integration_gain` is how fast it moves under a constant angular velocity
  :math:`\omega`, relative to :math:`\omega`: 1 for a perfect integrator.

Every function takes any :class:`~neurodyn.dynamics.Dynamics` and any ``decode``; the
examples use the planar ring :math:`\dot r = r(1 - r^2)`, :math:`\dot\phi = \omega`,
whose heading is :math:`\phi`.
"""

from __future__ import annotations

import numpy as np

from ...analysis import find_slow_manifolds, linearize
from ...dynamics.integrate import trajectory
from ..sussillo2013.mechanism import winding_number

__all__ = ["decoded_ring", "heading_drift", "integration_gain", "ring_of_slow_points"]


def _wrap(angle):
    return np.pi - np.mod(np.pi - np.asarray(angle, dtype=float), 2.0 * np.pi)


def _headings(decode, x) -> np.ndarray:
    out = np.asarray(decode(np.asarray(x, dtype=float)), dtype=float)
    return np.arctan2(out[:, 1], out[:, 0])


def ring_of_slow_points(dynamics, states, inputs, relax_steps: int) -> dict:
    r"""The largest line or ring of slow points on which the states settle at ``inputs``.

    Parameters
    ----------
    dynamics : Dynamics
        The network's dynamics.
    states : array (n, d)
        Visited states.
    inputs : array (m,)
        The constant input (e.g. zero: no cue, no velocity).
    relax_steps : int
        Steps the states relax first (several fast time constants).

    Returns
    -------
    dict
        ``kind`` (``"ring"``, ``"line"`` or ``"none"``), ``n_points``, ``length``,
        ``alignment`` (mean ``|cos|`` of the slowest mode with the tangent),
        ``support``, ``drift_speed`` (state units per time unit), ``time_constant`` and
        ``next_time_constant`` (medians on its points of :math:`1/|\gamma|` of the modes
        nearest and next nearest marginal), and ``_points`` (ordered).

    Examples
    --------
    States near the unit circle of :math:`\dot r = r(1 - r^2)`, :math:`\dot\phi = 0`,
    :math:`\dot z = -z` settle on it: a ring of perimeter about 2π whose slow mode
    (marginal: zero growth rate) runs along it, the next decaying at rate 1 (z):

    >>> from neurodyn.dynamics import FunctionDynamics
    >>> def f(x, u):
    ...     r2 = x[:, 0] ** 2 + x[:, 1] ** 2
    ...     return np.stack([x[:, 0] * (1 - r2), x[:, 1] * (1 - r2), -x[:, 2]], 1)
    >>> dyn = FunctionDynamics(f, n_state=3, n_input=1, kind="ode", dt=0.1)
    >>> phi = np.random.default_rng(0).uniform(0, 2 * np.pi, 200)
    >>> x0 = np.stack([1.2 * np.cos(phi), 1.2 * np.sin(phi), 0.5 + 0 * phi], 1)
    >>> out = ring_of_slow_points(dyn, x0, np.zeros(1), relax_steps=100)
    >>> out["kind"], out["n_points"], round(out["length"], 1), round(out["next_time_constant"], 3)
    ('ring', 200, 6.3, 1.0)
    """
    x = np.asarray(states, dtype=float)
    u = np.ascontiguousarray(np.broadcast_to(np.asarray(inputs, float), (len(x), dynamics.n_input)))
    relaxed = trajectory(dynamics, x, u, n_steps=int(relax_steps))[:, -1] if relax_steps else x
    relaxed = relaxed[np.all(np.isfinite(relaxed), axis=1)]
    found = find_slow_manifolds(relaxed, dynamics, inputs=u[0]) if len(relaxed) >= 5 else None
    manifolds = sorted(found.manifolds if found is not None else [], key=lambda m: -len(m.indices))
    nan = float("nan")
    if not manifolds:
        return {"kind": "none", "n_points": 0, "length": 0.0, "alignment": nan, "support": nan,
                "drift_speed": nan, "time_constant": nan, "next_time_constant": nan,
                "_points": np.zeros((0, x.shape[1]))}  # fmt: skip
    m = manifolds[0]
    lin = linearize(dynamics, m.points, u[0])
    # The slow mode is the one nearest marginal, as find_slow_manifolds takes it.
    rates = np.sort(np.abs(lin.growth_rate), axis=1)
    with np.errstate(divide="ignore"):
        tau0 = float(np.median(1.0 / rates[:, 0]))
        tau1 = float(np.median(1.0 / rates[:, min(1, rates.shape[1] - 1)]))
    return {
        "kind": m.kind,
        "n_points": len(m.indices),
        "length": float(m.length),
        "alignment": float(m.alignment),
        "support": float(m.support),
        "drift_speed": float(m.drift_speed),
        "time_constant": tau0,
        "next_time_constant": tau1,
        "_points": m.points,
    }


def decoded_ring(decode, points) -> dict:
    r"""The headings the ordered points of a ring report, and how they cover the circle.

    Parameters
    ----------
    decode : callable
        ``decode(states (n, d)) -> (n, 2)``: the network's (cos, sin) output.
    points : array (n, d)
        The ring's points in order along it (closed from the last to the first).

    Returns
    -------
    dict
        ``winding`` (times the decoded (cos, sin) path winds around the origin: ±1 when
        the ring represents every heading once, in order), ``largest_gap_deg`` (the
        largest angle between consecutive headings, sorted around the circle: 360 / n
        for evenly spread headings) and ``_headings`` (radians, in the ring's order).

    Examples
    --------
    A ring decoded as the angle of its first two coordinates, every 10°:

    >>> t = np.radians(np.arange(0, 360, 10.0))
    >>> ring = np.stack([np.cos(t), np.sin(t), 0 * t], 1)
    >>> out = decoded_ring(lambda x: x[:, :2], ring)
    >>> out["winding"], round(out["largest_gap_deg"], 6)
    (1, 10.0)
    """
    pts = np.asarray(points, dtype=float)
    if len(pts) < 3:
        return {"winding": 0, "largest_gap_deg": 360.0, "_headings": np.zeros(len(pts))}
    out = np.asarray(decode(pts), dtype=float)
    theta = np.arctan2(out[:, 1], out[:, 0])
    ordered = np.sort(np.mod(theta, 2.0 * np.pi))
    gaps = np.diff(np.append(ordered, ordered[0] + 2.0 * np.pi))
    return {
        "winding": winding_number(out, [0.0, 0.0]),
        "largest_gap_deg": float(np.degrees(gaps.max())),
        "_headings": theta,
    }


def heading_drift(dynamics, decode, points, inputs, *, eps: float = 1e-3) -> np.ndarray:
    r"""How fast the decoded heading moves at each point, :math:`\dot\theta = \nabla\theta
    \cdot f(x)`, in radians per time unit of the dynamics.

    A central difference along the flow: :math:`(\theta(x + \epsilon f) - \theta(x -
    \epsilon f)) / 2\epsilon`, exact to :math:`O(\epsilon^2)`.

    Parameters
    ----------
    dynamics : Dynamics
        The network's dynamics (its ``velocity`` is f).
    decode : callable
        ``decode(states (n, d)) -> (n, 2)``: the (cos, sin) output.
    points : array (n, d)
        Where to measure.
    inputs : array (m,)
        The constant input.
    eps : float
        The difference's step, in time units.

    Returns
    -------
    ndarray (n,)

    Examples
    --------
    On :math:`\dot r = r(1 - r^2)`, :math:`\dot\phi = 0.3`, the heading turns at 0.3:

    >>> from neurodyn.dynamics import FunctionDynamics
    >>> def f(x, u):
    ...     r2 = x[:, 0] ** 2 + x[:, 1] ** 2
    ...     return np.stack([x[:, 0] * (1 - r2) - 0.3 * x[:, 1], x[:, 1] * (1 - r2) + 0.3 * x[:, 0]], 1)
    >>> dyn = FunctionDynamics(f, n_state=2, n_input=1, kind="ode")
    >>> t = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    >>> heading_drift(dyn, lambda x: x, np.stack([np.cos(t), np.sin(t)], 1), np.zeros(1)).round(6)
    array([0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3])
    """
    x = np.asarray(points, dtype=float)
    u = np.broadcast_to(np.asarray(inputs, float), (len(x), dynamics.n_input))
    v = np.asarray(dynamics.velocity(x, u), dtype=float)
    ahead, behind = _headings(decode, x + eps * v), _headings(decode, x - eps * v)
    return _wrap(ahead - behind) / (2.0 * eps)


def integration_gain(dynamics, decode, points, *, channel: int, omega: float, n_steps: int,
                     time_scale: float = 1.0) -> np.ndarray:  # fmt: skip
    r"""The heading's turn under a constant velocity input, relative to the input.

    From each point the system runs ``n_steps`` at input ``omega`` on ``channel`` (the
    others zero), then at ``-omega``; the gain is

    .. math:: g = \frac{\Delta\theta(\omega) - \Delta\theta(-\omega)}{2\,\omega\,T\,s},

    with :math:`\Delta\theta` the unwrapped change of the decoded heading, T the
    duration in the dynamics' time unit and s = ``time_scale`` (the input's velocity
    unit per the dynamics' time unit; 1e-3 for rad/s on a network in ms). The
    difference of the two directions cancels the drift at zero input; 1 is a perfect
    integrator.

    Parameters
    ----------
    dynamics : Dynamics
        The network's dynamics (a map runs its own steps; an ODE RK4 steps of its dt).
    decode : callable
        ``decode(states (n, d)) -> (n, 2)``: the (cos, sin) output.
    points : array (n, d)
        Starting states (e.g. the ring's points).
    channel : int
        The velocity input.
    omega : float
        The velocity, in the input's unit.
    n_steps : int
        Steps to run.
    time_scale : float
        Converts the input's velocity unit to radians per time unit of the dynamics.

    Returns
    -------
    ndarray (n,)
        One gain per starting point.

    Examples
    --------
    A perfect planar integrator, :math:`\dot\phi = u`, with a radial pull to the circle:

    >>> from neurodyn.dynamics import FunctionDynamics
    >>> def f(x, u):
    ...     r2 = x[:, 0] ** 2 + x[:, 1] ** 2
    ...     w = u[:, 0]
    ...     return np.stack([x[:, 0] * (1 - r2) - w * x[:, 1], x[:, 1] * (1 - r2) + w * x[:, 0]], 1)
    >>> dyn = FunctionDynamics(f, n_state=2, n_input=1, kind="ode", dt=0.01)
    >>> t = np.linspace(0, 2 * np.pi, 4, endpoint=False)
    >>> g = integration_gain(dyn, lambda x: x, np.stack([np.cos(t), np.sin(t)], 1),
    ...                      channel=0, omega=1.0, n_steps=100)
    >>> bool(np.abs(g - 1).max() < 1e-8)
    True
    """
    x = np.asarray(points, dtype=float)
    turn = []
    for w in (omega, -omega):
        u = np.zeros((len(x), dynamics.n_input))
        u[:, channel] = w
        path = trajectory(dynamics, x, u, n_steps=int(n_steps))
        theta = np.stack([_headings(decode, path[:, k]) for k in range(path.shape[1])], 1)
        turn.append(np.unwrap(theta, axis=1)[:, -1] - theta[:, 0])
    duration = n_steps * dynamics.dt
    return (turn[0] - turn[1]) / (2.0 * omega * duration * time_scale)
