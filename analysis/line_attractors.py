r"""What a line attractor integrates: its slow mode, its direction and its selection vector.

Mante, Sussillo, Shenoy & Newsome (2013) open up a network that integrates one of two
inputs, chosen by a context cue, at the input it receives with no net evidence.
:func:`line_attractor` does the same for any system: states it visits (e.g. at the end
of a stimulus) are left to relax at that input; the fast modes decay and what remains
lies on the slow manifold. :func:`~neurodyn.analysis.find_slow_manifolds` strings the
relaxed states into lines of slow points whose slowest mode is separated from the next
and points along the line. At the points of the lines, the linearization
:math:`\dot{\delta x} = J\,\delta x + B\,\delta u` with :math:`J = R\Lambda L^H` gives

- the slow mode's time constant :math:`1/|\gamma_0|` and the next one's
  :math:`1/|\gamma_1|`;
- the right eigenvector :math:`r_0`, the line's direction, and its alignment with a given
  axis (e.g. the choice axis of :func:`~neurodyn.analysis.targeted_axes`);
- the left eigenvector :math:`l_0`, the **selection vector**: a brief input
  :math:`\delta u` moves the state along the line by :math:`r_0\, l_0^H B\,\delta u`, so
  an input direction :math:`e` (a modality's evidence, the difference of two channels)
  is integrated with gain :math:`|r_0|\,|l_0^H B e|`, invariant to the scaling of the
  eigenvector pair, and the rest of its push relaxes back to the line.
"""

from __future__ import annotations

import numpy as np

from ..dynamics.integrate import trajectory
from .linearization import linearize
from .manifolds import find_slow_manifolds

__all__ = ["line_attractor"]


def _unit_rows(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-300)


def _mean_direction(v: np.ndarray) -> np.ndarray:
    """The mean of unit vectors whose sign is arbitrary, each signed like the first."""
    v = _unit_rows(v)
    v = v * np.where(v @ v[0] < 0, -1.0, 1.0)[:, None]
    return _unit_rows(v.mean(axis=0))


def line_attractor(
    dynamics, states, inputs, *, evidence: dict, choice_axis, relax_steps: int
) -> dict:
    r"""The lines of slow points at one constant input, and what their slow mode integrates.

    Parameters
    ----------
    dynamics : Dynamics
        The network's dynamics.
    states : array (n, d)
        States the trials visit (e.g. at the end of the stimulus).
    inputs : array (m,)
        The context's input with no net evidence.
    evidence : dict
        ``{modality: (right channel, left channel)}``: each modality's evidence is the
        difference of the two input channels; ``(channel, None)`` is a single channel.
    choice_axis : array (d,)
        The direction the choice is read along (e.g. targeted dimensionality
        reduction's choice axis, in the same state space).
    relax_steps : int
        Steps the states relax at ``inputs`` before the lines are sought (several of
        the fast modes' time constants, few of the slow one's).

    Returns
    -------
    dict
        ``n_lines``, ``n_points`` (points on the lines), ``length`` (their summed arc
        length), ``alignment`` (mean ``|cos|`` of the slow mode with the lines' tangent,
        from :func:`~neurodyn.analysis.find_slow_manifolds`), ``drift_speed`` (mean
        speed on the lines, state units per time unit), ``time_constant`` and
        ``next_time_constant`` (medians of :math:`1/|\gamma_0|` and
        :math:`1/|\gamma_1|`, in the system's time unit), ``slow_growth`` (median
        :math:`\gamma_0`), ``choice_alignment`` (mean :math:`|\cos(r_0, \text{choice
        axis})|`), and per modality ``pickup`` (mean :math:`|r_0|\,|l_0^H B e|`: state
        units along the line per unit of input and per time unit for an ODE, per step
        for a map) and
        ``selection_cos`` (mean :math:`|\cos(l_0, B e)|`); ``right`` and ``selection``
        are the mean unit :math:`r_0` and :math:`l_0` (lists), ``_points`` the points
        on the lines (n, d) and ``_relaxed`` every relaxed state. Without a line, the
        numbers are NaN and ``n_lines`` is 0. The slow mode :math:`\gamma_0` is, at each
        point, the one nearest marginal (smallest :math:`|\gamma|`), as
        :func:`~neurodyn.analysis.find_slow_manifolds` takes it; :math:`\gamma_1` the
        next nearest.

    Examples
    --------
    A built-in line attractor: :math:`\dot x = A x + B u` with
    :math:`A = R\,\mathrm{diag}(0, -1, -2)\,R^{-1}`. The line is along :math:`r_0`, the
    first column of R, here (1, 1, 0); the selection vector is the first row of
    :math:`R^{-1}`, here (1, 0, 0). Input a, along (1, 0, 0), is integrated with gain
    :math:`|r_0|\,|l_0^H B e_a| = \sqrt 2`; input b, along (0, 1, 0), not at all, though it
    pushes the state partly along the line (the push relaxes back):

    >>> from neurodyn.analysis import line_attractor
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> R = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> A = R @ np.diag([0.0, -1.0, -2.0]) @ np.linalg.inv(R)
    >>> B = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])  # columns: inputs a and b
    >>> dyn = FunctionDynamics(lambda x, u: x @ A.T + u @ B.T, n_state=3, n_input=2,
    ...                        kind="ode", dt=0.1)
    >>> rng = np.random.default_rng(0)
    >>> start = np.outer(np.linspace(-1, 1, 40), [1.0, 1.0, 0.0]) + 0.3 * rng.normal(size=(40, 3))
    >>> out = line_attractor(dyn, start, np.zeros(2), evidence={"a": (0, None), "b": (1, None)},
    ...                      choice_axis=np.array([1.0, 1.0, 0.0]), relax_steps=100)
    >>> out["n_lines"], out["time_constant"] > 1e6, round(out["next_time_constant"], 3)
    (1, True, 1.0)
    >>> round(out["choice_alignment"], 6), round(out["pickup"]["a"], 6), round(out["pickup"]["b"], 6)
    (1.0, 1.414214, 0.0)
    """
    x = np.asarray(states, dtype=float)
    u = np.asarray(inputs, dtype=float)
    if x.ndim != 2 or x.shape[1] != dynamics.n_state:
        raise ValueError(f"states must be (n, {dynamics.n_state}), got shape {x.shape}")
    if u.shape != (dynamics.n_input,):
        raise ValueError(f"inputs must be one input of shape ({dynamics.n_input},), got {u.shape}")
    axis = np.asarray(choice_axis, dtype=float)
    if axis.shape != (dynamics.n_state,) or not np.linalg.norm(axis) > 0:
        raise ValueError(f"choice_axis must be a nonzero vector of {dynamics.n_state} values")
    for name, (right, left) in evidence.items():
        for ch in (right, left):
            if ch is not None and not 0 <= int(ch) < dynamics.n_input:
                raise ValueError(f"evidence[{name!r}] names channel {ch}; the system has "
                                 f"{dynamics.n_input} inputs")  # fmt: skip
    if int(relax_steps) < 0:
        raise ValueError(f"relax_steps must be >= 0, got {relax_steps}")
    if relax_steps:
        u_all = np.ascontiguousarray(np.broadcast_to(u, (len(x), dynamics.n_input)))
        relaxed = trajectory(dynamics, x, u_all, n_steps=int(relax_steps))[:, -1]
    else:
        relaxed = x.copy()
    relaxed = relaxed[np.all(np.isfinite(relaxed), axis=1)]
    found = find_slow_manifolds(relaxed, dynamics, inputs=u) if len(relaxed) >= 5 else None
    lines = [m for m in (found.manifolds if found is not None else []) if m.kind == "line"]
    nan = float("nan")
    out = {
        "n_lines": len(lines),
        "n_points": int(sum(len(m.indices) for m in lines)),
        "length": float(sum(m.length for m in lines)),
        "_relaxed": relaxed,
    }
    if not lines:
        out.update(
            alignment=nan, drift_speed=nan, time_constant=nan, next_time_constant=nan,
            slow_growth=nan, choice_alignment=nan, pickup=dict.fromkeys(evidence, nan),
            selection_cos=dict.fromkeys(evidence, nan), right=[], selection=[],
            _points=np.zeros((0, x.shape[1])),
        )  # fmt: skip
        return out
    points = np.concatenate([m.points for m in lines])
    weights = np.array([len(m.indices) for m in lines], dtype=float)
    lin = linearize(dynamics, points, u)
    # The slow mode is the one nearest marginal, as find_slow_manifolds picks it (mode 0,
    # the most unstable, differs at a point with an unstable mode).
    order = np.argsort(np.abs(lin.growth_rate), axis=1)
    k = np.arange(len(points))
    slow, nxt = order[:, 0], order[:, min(1, order.shape[1] - 1)]
    g0, g1 = lin.growth_rate[k, slow], lin.growth_rate[k, nxt]
    right0, left0 = lin.right[k, :, slow], lin.left[k, :, slow]
    r0, l0 = np.real(right0), np.real(left0)
    B = np.asarray(lin.input_jacobian)
    axis = axis / np.linalg.norm(axis)
    pickup, selection_cos = {}, {}
    for name, (right, left) in evidence.items():
        e = np.zeros(B.shape[-1])
        e[right] = 1.0
        if left is not None:
            e[left] = -1.0
        be = B @ e  # (k, d): the evidence's input vector at each point
        gain = np.abs(np.einsum("kd,kd->k", np.conj(left0), be))
        pickup[name] = float(np.mean(gain * np.linalg.norm(right0, axis=1)))
        selection_cos[name] = float(np.mean(np.abs(np.sum(_unit_rows(l0) * _unit_rows(be), 1))))
    with np.errstate(divide="ignore"):
        out.update(
            alignment=float(np.average([m.alignment for m in lines], weights=weights)),
            drift_speed=float(np.average([m.drift_speed for m in lines], weights=weights)),
            time_constant=float(np.median(1.0 / np.abs(g0))),
            next_time_constant=float(np.median(1.0 / np.abs(g1))),
        )  # fmt: skip
    out.update(
        slow_growth=float(np.median(g0)),
        choice_alignment=float(np.mean(np.abs(_unit_rows(r0) @ axis))),
        pickup=pickup,
        selection_cos=selection_cos,
        right=_mean_direction(r0).tolist(),
        selection=_mean_direction(l0).tolist(),
        _points=points,
    )
    return out
