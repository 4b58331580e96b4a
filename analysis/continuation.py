r"""Pseudo-arclength continuation of fixed points, with fold and Hopf detection.

A branch of fixed points of :math:`r(x, p) = 0` (the residual of a map or an ODE, see
:class:`~neurodyn.dynamics.Dynamics`) is followed through a scalar parameter p: a
constant input :math:`u(p) = u_0 + p\,e` (``input_direction`` e), or any parameter of the
model through ``parameter(p) -> Dynamics``. Points :math:`y = (x, p) \in \mathbb R^{d+1}`
are advanced by a tangent predictor and a Newton corrector on the extended system

.. math::

    \begin{pmatrix} r(x, p) \\ \tau^\top (y - y_0 - \Delta s\,\tau) \end{pmatrix} = 0,
    \qquad
    \begin{pmatrix} A & r_p \\ \tau_0^\top \end{pmatrix} \tau = \begin{pmatrix} 0 \\ 1
    \end{pmatrix},

with :math:`A = \partial r/\partial x`, :math:`r_p = \partial r/\partial p` and τ the unit
tangent, so the branch is followed around folds where p turns back (Keller 1977).

Bifurcations are located between consecutive points and refined by bisection along
the arc:

* **fold** (saddle-node, limit point): the p-component of the tangent changes sign
  (equivalently :math:`\det A` does);
* **Hopf** (ODEs; Neimark–Sacker for maps): the number of unstable modes
  (:math:`\operatorname{Re}\lambda > 0`, or :math:`|\lambda| > 1`) changes and the
  eigenvalue on the boundary is complex (:math:`\pm i\omega`, or :math:`e^{\pm i\theta}`);
  a complex pair that merges into a real pair off the axis changes nothing;
* **period doubling** (maps): the count changes through a real eigenvalue at −1.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_interval, check_positive
from ..dynamics import Dynamics
from ..dynamics import dynamics as as_dynamics
from ..progress import check_progress, progress_bar
from ..threads import policy, state_size
from .linearization.linearize import classify, spectrum

__all__ = ["Bifurcation", "Branch", "continue_fixed_points"]

logger = logging.getLogger(__name__)


@dataclass
class Bifurcation:
    r"""A bifurcation located on a branch.

    Attributes
    ----------
    kind : str
        ``"fold"``, ``"hopf"``, ``"neimark_sacker"`` or ``"period_doubling"``.
    parameter : float
    x : ndarray (d,)
    eigenvalue : complex
        The eigenvalue on the stability boundary (0 or ±iω for ODEs; 1, −1 or
        :math:`e^{\pm i\theta}` for maps).
    index : int
        The bifurcation lies between points ``index`` and ``index + 1`` of the branch.

    Examples
    --------
    :func:`continue_fixed_points` locates them. The Hopf normal form
    :math:`\dot z = (\mu + i) z - |z|^2 z` (:math:`z = x_1 + i x_2`, μ the input)
    loses the stability of its origin at μ = 0 through the pair :math:`\pm i`:

    >>> from neurodyn.analysis import continue_fixed_points
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> def hopf(x, u):
    ...     r2, mu = x[:, 0]**2 + x[:, 1]**2, u[:, 0]
    ...     return np.stack([mu * x[:, 0] - x[:, 1] - x[:, 0] * r2,
    ...                      x[:, 0] + mu * x[:, 1] - x[:, 1] * r2], 1)
    >>> dyn = FunctionDynamics(hopf, n_state=2, n_input=1, kind="ode")
    >>> br = continue_fixed_points(dyn, [0.0, 0.0], p0=-0.5, p_range=(-0.5, 0.5),
    ...                            progress=False)
    >>> b = br.bifurcations[0]
    >>> b.kind, round(b.parameter, 6), round(abs(b.eigenvalue.imag), 6)
    ('hopf', 0.0, 1.0)
    >>> br.stability[b.index:b.index + 2].tolist()
    ['stable', 'unstable_2']
    """

    kind: str
    parameter: float
    x: np.ndarray
    eigenvalue: complex
    index: int


@dataclass
class Branch:
    r"""A continued branch of fixed points.

    Attributes
    ----------
    parameter : ndarray (n,)
        Parameter value at each point, in the order traced (the last one may lie just
        outside ``p_range``: the point that left it).
    x : ndarray (n, d)
        The fixed point at each parameter value.
    eigenvalues : complex ndarray (n, d)
        Eigenvalues of the Jacobian at each point, most unstable first.
    growth_rate : ndarray (n, d)
        Growth rate of each mode (:math:`\operatorname{Re}\lambda` for ODEs,
        :math:`\log|\lambda|/\Delta t` for maps).
    stability : ndarray of str (n,)
        ``"stable"``, ``"unstable_<k>"`` or ``"marginal"`` (see
        :func:`~neurodyn.analysis.classify`).
    n_unstable : ndarray of int (n,)
        Number of unstable modes at each point.
    arclength : ndarray (n,)
        Pseudo-arclength from the start in (state, parameter) space.
    bifurcations : list of Bifurcation
        Bifurcations located between consecutive points, in the order met.
    status : str
        Why continuation stopped: ``"parameter_range"``, ``"max_points"``,
        ``"step_underflow"`` (the corrector kept failing) or ``"diverged"``.
    kind : str
        ``"ode"`` or ``"map"``: the kind of the dynamics.
    parameter_name : str
        Name of the parameter: the ``parameter_name`` given, else ``"input"`` (a
        constant input) or ``"p"`` (a ``parameter`` callable).
    info : dict
        The settings: ``p0``, ``p_range``, ``ds``, ``direction`` and ``tol``.

    Examples
    --------
    :func:`continue_fixed_points` returns it. The bistable unit
    :math:`\dot x = u + x - x^3` has an S-shaped branch with two folds at
    :math:`u = \pm 2/(3\sqrt 3) \approx \pm 0.3849`, where :math:`x = \mp 1/\sqrt 3`;
    the middle part, between the folds, is unstable:

    >>> from neurodyn.analysis import continue_fixed_points
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> dyn = FunctionDynamics(lambda x, u: u + x - x**3, n_state=1, n_input=1, kind="ode")
    >>> br = continue_fixed_points(dyn, [-1.5], p0=-1.0, p_range=(-1, 1), progress=False)
    >>> br.status, br.parameter_name
    ('parameter_range', 'input')
    >>> [(b.kind, round(b.parameter, 4), round(float(b.x[0]), 3)) for b in br.folds()]
    [('fold', 0.3849, -0.577), ('fold', -0.3849, 0.577)]
    >>> sorted(set(br.stability.tolist())), int(br.n_unstable.max())
    (['stable', 'unstable_1'], 1)
    """

    parameter: np.ndarray
    x: np.ndarray
    eigenvalues: np.ndarray
    growth_rate: np.ndarray
    stability: np.ndarray
    n_unstable: np.ndarray
    arclength: np.ndarray
    bifurcations: list
    status: str
    kind: str = "ode"
    parameter_name: str = "p"
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.parameter)

    def __repr__(self) -> str:
        bifs = ", ".join(f"{b.kind}@{b.parameter:.4g}" for b in self.bifurcations) or "none"
        return (
            f"Branch({len(self)} points, {self.parameter_name} in "
            f"[{self.parameter.min():.4g}, {self.parameter.max():.4g}], bifurcations: {bifs}, "
            f"status={self.status!r})"
        )

    def folds(self) -> list:
        """The fold points."""
        return [b for b in self.bifurcations if b.kind == "fold"]

    def hopf_points(self) -> list:
        """The Hopf (ODE) or Neimark–Sacker (map) points."""
        return [b for b in self.bifurcations if b.kind in ("hopf", "neimark_sacker")]

    def to_xarray(self):
        """A Dataset with dims ``point``, ``state``, ``mode`` and ``bifurcation``."""
        import json

        import xarray as xr

        from .._version import __version__

        n, d = self.x.shape
        nb = len(self.bifurcations)
        bx = np.array([b.x for b in self.bifurcations]).reshape(nb, d)
        ev = np.array([b.eigenvalue for b in self.bifurcations], dtype=complex)
        ds = xr.Dataset(
            {
                "x": (("point", "state"), self.x),
                "eigenvalues_real": (("point", "mode"), self.eigenvalues.real),
                "eigenvalues_imag": (("point", "mode"), self.eigenvalues.imag),
                "growth_rate": (("point", "mode"), self.growth_rate),
                "stability": (("point",), self.stability.astype(str)),
                "n_unstable": (("point",), self.n_unstable),
                "arclength": (("point",), self.arclength),
                "bifurcation_kind": (
                    ("bifurcation",),
                    np.array([b.kind for b in self.bifurcations], dtype=str),
                ),
                "bifurcation_parameter": (
                    ("bifurcation",),
                    np.array([b.parameter for b in self.bifurcations]),
                ),
                "bifurcation_x": (("bifurcation", "state"), bx),
                "bifurcation_eigenvalue_real": (("bifurcation",), ev.real),
                "bifurcation_eigenvalue_imag": (("bifurcation",), ev.imag),
            },
            coords={
                "point": np.arange(n, dtype=np.int32),
                "parameter": (("point",), self.parameter),
                "state": np.arange(d, dtype=np.int32),
                "mode": np.arange(d, dtype=np.int32),
                "bifurcation": np.arange(nb, dtype=np.int32),
            },
        )
        ds.attrs.update(
            status=self.status,
            kind=self.kind,
            parameter_name=self.parameter_name,
            info=json.dumps(self.info, default=str),
            neurodyn_version=__version__,
        )
        return ds


class _System:
    """r(x, p), A = ∂r/∂x and r_p = ∂r/∂p for one parameterisation."""

    def __init__(self, dyn, parameter, u0, direction, fd_step):
        self.dyn, self.parameter, self.u0, self.e, self.fd = dyn, parameter, u0, direction, fd_step

    def at(self, p):
        if self.parameter is None:
            return self.dyn, self.u0 + p * self.e
        d = self.parameter(p)
        d = d if isinstance(d, Dynamics) else as_dynamics(d)
        if d.n_state != self.dyn.n_state:
            raise ValueError(
                f"parameter({p!r}) returned a system with n_state={d.n_state}; expected "
                f"{self.dyn.n_state}"
            )
        return d, self.u0

    def residual(self, x, p):
        d, u = self.at(p)
        return d.residual(x, u)

    def all(self, x, p):
        """(r, A, r_p)."""
        d, u = self.at(p)
        r = d.residual(x, u)
        A = d.residual_jacobian(x, u)
        if self.parameter is None:
            B = d.input_jacobian(x, u)
            rp = B @ self.e  # ∂F/∂u = ∂(F − x)/∂u for maps; ∂f/∂u for ODEs
        else:
            h = self.fd * max(1.0, abs(p))
            rp = (self.residual(x, p + h) - self.residual(x, p - h)) / (2 * h)
        return r, A, rp

    def modes(self, x, p, A=None):
        """Sorted eigenvalues and growth rates at (x, p); ``A``: the residual Jacobian
        there, when already computed (J = A + I for maps, A for ODEs)."""
        d, u = self.at(p)
        if A is None:
            J = d.jacobian(x, u)
        else:
            J = A + np.eye(len(x)) if d.kind == "map" else A
        lam, growth, _ = spectrum(J[None], kind=d.kind, dt=d.dt)
        return lam[0], growth[0]


def _tangent(A, rp, prev):
    """Unit tangent of the branch, oriented along ``prev``."""
    d = A.shape[0]
    M = np.zeros((d + 1, d + 1))
    M[:d, :d], M[:d, d], M[d] = A, rp, prev
    rhs = np.zeros(d + 1)
    rhs[d] = 1.0
    try:
        t = np.linalg.solve(M, rhs)
    except np.linalg.LinAlgError:
        t = np.linalg.lstsq(M, rhs, rcond=None)[0]
    t /= np.linalg.norm(t)
    return t if t @ prev >= 0 else -t


def _correct(sys, y_pred, tau, tol, max_newton):
    """Newton on (r(x, p) = 0, τ·(y − y_pred) = 0); returns (y, ok, iterations)."""
    y = y_pred.copy()
    d = len(y) - 1
    M = np.zeros((d + 1, d + 1))
    F = np.zeros(d + 1)
    for it in range(1, max_newton + 1):
        r, A, rp = sys.all(y[:d], y[d])
        F[:d], F[d] = r, tau @ (y - y_pred)
        M[:d, :d], M[:d, d], M[d] = A, rp, tau
        try:
            delta = np.linalg.solve(M, -F)
        except np.linalg.LinAlgError:
            return y, False, it
        y = y + delta
        if not np.all(np.isfinite(y)):
            return y, False, it
        if np.linalg.norm(delta) <= tol * (1.0 + np.linalg.norm(y)):
            r = sys.residual(y[:d], y[d])
            if np.linalg.norm(r) <= 1e3 * tol * (1.0 + np.linalg.norm(y)):
                return y, True, it
    return y, False, max_newton


def _tests(sys, y, tau, A):
    """Test functions at a branch point: the sign of dp/ds and the number of unstable modes.

    ``A``: the residual Jacobian at y, from which the tangent τ was computed.
    """
    d = len(y) - 1
    lam, growth = sys.modes(y[:d], y[d], A)
    return {"fold": np.sign(tau[d]), "stability": int(np.sum(growth > 0))}, lam, growth


def _crossing_kind(lam, growth, kind):
    """Name the bifurcation from the eigenvalue on the stability boundary (None: a fold)."""
    i = int(np.argmin(np.abs(growth)))
    crit = lam[i]
    if abs(crit.imag) > 1e-7 * (1.0 + abs(crit)):
        return ("hopf" if kind == "ode" else "neimark_sacker"), crit
    if kind == "map" and crit.real < 0:
        return "period_doubling", crit
    # A real eigenvalue at 0 (ODE) or +1 (map): the fold, found by its own test.
    return None, crit


def _refine(sys, y0, tau0, ds, name, left, tol, max_newton, n_bisect=40):
    """Bisect along the arc from y0 for where test ``name`` changes from ``left``."""
    lo, hi = 0.0, ds
    best = None
    d = len(y0) - 1
    for _ in range(n_bisect):
        mid = 0.5 * (lo + hi)
        y, ok, _ = _correct(sys, y0 + mid * tau0, tau0, tol, max_newton)
        if not ok:
            break
        _r, A, rp = sys.all(y[:d], y[d])
        tau = _tangent(A, rp, tau0)
        tests, lam, growth = _tests(sys, y, tau, A)
        if tests[name] == left:
            lo = mid
        else:
            hi = mid
            best = (y, lam, growth)
        if hi - lo <= 1e-12 * (1.0 + abs(ds)):
            break
    if best is None:
        y, ok, _ = _correct(sys, y0 + hi * tau0, tau0, tol, max_newton)
        lam, growth = sys.modes(y[:d], y[d])
        best = (y, lam, growth)
    return best


@policy(work=lambda a: 2.0 * state_size(a["dynamics"]) ** 3)
def continue_fixed_points(
    dynamics,
    x0,
    *,
    p0: float = 0.0,
    p_range=(-1.0, 1.0),
    inputs=None,
    input_direction=None,
    parameter=None,
    parameter_name: str | None = None,
    ds: float = 0.02,
    ds_min: float = 1e-8,
    ds_max: float = 0.2,
    direction: int = 1,
    max_points: int = 2000,
    tol: float = 1e-10,
    max_newton: int = 10,
    marginal_tol: float = 1e-8,
    fd_step: float = 1e-6,
    max_turn: float = 0.95,
    progress: bool | str = True,
    threads: int | None = None,
) -> Branch:
    r"""Follow a branch of fixed points through a parameter and locate its bifurcations.

    Main arguments
    --------------
    dynamics : Dynamics or model
        The system at every parameter value (when ``parameter`` is None), or at ``p0``.
    x0 : array (d,)
        A state near a fixed point at ``p0``; it is corrected first.
    p0 : float
        Starting parameter value.
    p_range : (float, float)
        Continuation stops when p leaves this interval.
    inputs : array (m,), optional
        Base input :math:`u_0` (zero when omitted).
    input_direction : array (m,), optional
        The parameter is the input :math:`u = u_0 + p\,e` along this direction; it may be
        omitted for systems with one input.
    parameter : callable, optional
        ``parameter(p)`` returns the system (a Dynamics or model) at parameter value p,
        for parameters other than the input (a gain, a weight); :math:`\partial r/\partial
        p` is then a central difference with step ``fd_step``·``max(1, |p|)``.
    parameter_name : str, optional
        Name of the parameter in the result (:attr:`Branch.parameter_name`) and the log;
        default ``"input"``, or ``"p"`` with ``parameter``.

    Other arguments
    ---------------
    ds, ds_min, ds_max : float
        Initial, smallest and largest arclength step in (state, parameter) space; the
        step halves when the corrector fails and grows 1.5× after quick convergence.
    direction : {1, -1}
        Start towards increasing or decreasing p.
    max_points : int
    tol : float
        Newton tolerance on the correction (relative to 1 + ‖y‖).
    max_newton : int
    marginal_tol : float
        Half-width of the marginal band of growth rates for the stability labels.
    fd_step : float
        Relative step of the central difference in p (``parameter`` only).
    max_turn : float
        Smallest cosine between successive tangents; a sharper turn halves the step,
        which keeps the predictor from cutting across a fold onto another branch.
    progress : bool or {"auto", "never", "always"}
        Show a progress bar (True: when the output is interactive; see
        :mod:`neurodyn.progress`).
    threads : int, optional
        Threads for the computation; default: chosen by :mod:`neurodyn.threads` from
        the work and the cores other processes leave free.

    Returns
    -------
    Branch

    Raises
    ------
    ValueError
        On a NaN start, an empty parameter range or a start outside it, non-positive
        steps, a missing ``input_direction`` for a system with several inputs, or a start
        that does not converge to a fixed point.

    Examples
    --------
    The saddle-node :math:`\dot x = \mu - x^2` folds at μ = 0:

    >>> from neurodyn.dynamics import FunctionDynamics
    >>> dyn = FunctionDynamics(lambda x, u: u - x**2, n_state=1, n_input=1, kind="ode")
    >>> br = continue_fixed_points(dyn, [1.0], p0=1.0, p_range=(-1, 2), direction=-1,
    ...                            progress=False)
    >>> [(b.kind, round(b.parameter, 6)) for b in br.bifurcations]
    [('fold', 0.0)]
    """
    check_progress(progress)
    dyn = dynamics if isinstance(dynamics, Dynamics) else as_dynamics(dynamics)
    x = dyn.check_states(x0, "x0")
    if len(x) != 1:
        raise ValueError(f"x0 has {len(x)} states; expected one state (n_state,)")
    lo, hi = check_interval("p_range", p_range)
    p0 = float(p0)
    if not (lo <= p0 <= hi):
        raise ValueError(f"p0={p0} lies outside p_range={p_range!r}")
    if direction not in (1, -1):
        raise ValueError(f"direction must be 1 or -1, got {direction!r}")
    steps = _Steps(ds=check_positive("ds", ds), ds_min=check_positive("ds_min", ds_min),
                   ds_max=check_positive("ds_max", ds_max), tol=check_positive("tol", tol),
                   max_newton=max_newton, max_turn=max_turn, max_points=max_points,
                   p_range=(lo, hi))  # fmt: skip
    sys, pname = _parameterisation(dyn, inputs, input_direction, parameter, fd_step)
    y = np.append(_start(sys, x[0], p0, tol), p0)
    bar = progress_bar(total=max_points, progress=progress, desc="continuation", unit="point")
    with bar:
        trace = _trace(sys, y, direction, steps, bar, parameter_name or pname)
    n_unstable, _, stability = classify(trace.growth, marginal_tol)
    return Branch(
        parameter=np.array(trace.p),
        x=np.array(trace.x),
        eigenvalues=np.array(trace.eigenvalues),
        growth_rate=trace.growth,
        stability=stability,
        n_unstable=n_unstable,
        arclength=np.array(trace.arclength),
        bifurcations=trace.bifurcations,
        status=trace.status,
        kind=dyn.kind,
        parameter_name=parameter_name or pname,
        info={"p0": p0, "p_range": [lo, hi], "ds": ds, "direction": direction, "tol": tol},
    )


@dataclass(frozen=True)
class _Steps:
    """The step control of a continuation (validated)."""

    ds: float
    ds_min: float
    ds_max: float
    tol: float
    max_newton: int
    max_turn: float
    max_points: int
    p_range: tuple[float, float]


@dataclass
class _Trace:
    """The branch as it is traced: one entry per accepted point."""

    p: list
    x: list
    eigenvalues: list
    growth_list: list
    arclength: list
    bifurcations: list = field(default_factory=list)
    status: str = "max_points"

    @property
    def growth(self) -> np.ndarray:
        return np.array(self.growth_list)

    def add(self, y, lam, growth, h) -> None:
        self.p.append(y[-1])
        self.x.append(y[:-1].copy())
        self.eigenvalues.append(lam)
        self.growth_list.append(growth)
        self.arclength.append(self.arclength[-1] + h)


def _parameterisation(dyn, inputs, input_direction, parameter, fd_step):
    """The system r(x, p) (a :class:`_System`) and the parameter's default name."""
    u0 = dyn.check_inputs(inputs, 1, "inputs")[0]
    if parameter is not None:
        if not callable(parameter):
            raise ValueError(
                f"parameter must be callable p -> Dynamics, got {type(parameter).__name__}"
            )
        return _System(dyn, parameter, u0, None, fd_step), "p"
    if input_direction is None:
        if dyn.n_input != 1:
            raise ValueError(
                f"input_direction is needed for a system with n_input={dyn.n_input} "
                "(or pass parameter=callable)"
            )
        e = np.ones(1)
    else:
        e = dyn.check_inputs(input_direction, 1, "input_direction")[0]
        if not np.any(e):
            raise ValueError("input_direction must not be zero")
    return _System(dyn, None, u0, e, fd_step), "input"


def _start(sys, x, p0, tol):
    """The fixed point at p0 nearest x (Newton on r(x, p0) = 0); ValueError if none."""
    for _ in range(50):
        r, A, _ = sys.all(x, p0)
        try:
            step = np.linalg.solve(A, -r)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(A, -r, rcond=None)[0]
        x = x + step
        if np.linalg.norm(step) <= tol * (1 + np.linalg.norm(x)):
            break
    r = sys.residual(x, p0)
    if not np.all(np.isfinite(x)) or np.linalg.norm(r) > 1e-6 * (1 + np.linalg.norm(x)):
        raise ValueError(
            f"x0 does not converge to a fixed point at p0={p0} (|r| = {np.linalg.norm(r):.3g}); "
            "start from a fixed point (e.g. from find_fixed_points)"
        )
    return x


def _trace(sys, y, direction, steps, bar, pname) -> _Trace:
    """Predictor-corrector steps from y until p leaves its range, the step underflows or
    max_points are reached; bifurcations are located between accepted points."""
    d = len(y) - 1
    prev = np.zeros(d + 1)
    prev[d] = direction
    _, A, rp = sys.all(y[:d], y[d])
    tau = _tangent(A, rp, prev)
    tests, lam, growth = _tests(sys, y, tau, A)
    trace = _Trace([y[d]], [y[:d].copy()], [lam], [growth], [0.0])
    h = steps.ds
    lo, hi = steps.p_range
    while len(trace.p) < steps.max_points:
        y_new, ok, its = _correct(sys, y + h * tau, tau, steps.tol, steps.max_newton)
        if not ok:
            h *= 0.5
            if h < steps.ds_min:
                trace.status = "step_underflow"
                logger.info("continuation stopped at p=%.6g: step below ds_min", y[d])
                break
            continue
        _, A, rp = sys.all(y_new[:d], y_new[d])
        tau_new = _tangent(A, rp, tau)
        # A sharp turn of the tangent means the step cut a corner of the branch (and
        # may have jumped to another branch): retry shorter.
        if tau_new @ tau < steps.max_turn and h > steps.ds_min:
            h *= 0.5
            continue
        tests_new, lam, growth = _tests(sys, y_new, tau_new, A)
        for name in ("fold", "stability"):
            if tests_new[name] != tests[name]:
                bif = _locate(sys, y, tau, h, name, tests[name], steps, len(trace.p) - 1)
                if bif is not None:
                    trace.bifurcations.append(bif)
                    logger.info("%s at %s=%.8g", bif.kind, pname, bif.parameter)
        trace.add(y_new, lam, growth, h)
        y, tau, tests = y_new, tau_new, tests_new
        bar.update(1)
        if not (lo <= y[d] <= hi):
            trace.status = "parameter_range"
            break
        if its <= 3:
            h = min(steps.ds_max, 1.5 * h)
    return trace


def _locate(sys, y, tau, h, name, left, steps, index):
    """The bifurcation where test ``name`` changes between y and the arc step h from it
    (None: an eigenvalue crossing that is the fold, found by its own test)."""
    d = len(y) - 1
    yb, lb, gb = _refine(sys, y, tau, h, name, left, steps.tol, steps.max_newton)
    if name == "fold":
        kind, crit = "fold", lb[np.argmin(np.abs(gb))]
    else:
        kind, crit = _crossing_kind(lb, gb, sys.dyn.kind)
        if kind is None:
            return None
    return Bifurcation(kind, float(yb[d]), yb[:d].copy(), complex(crit), index)
