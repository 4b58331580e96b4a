r"""Linearization at fixed points: eigenmodes, their time scales, stability and input selection.

Around a fixed point :math:`x^*` the dynamics are, to first order,

.. math::

    \text{map: } \delta x_{t+1} = J\,\delta x_t + B\,\delta u, \qquad
    \text{ODE: } \dot{\delta x} = J\,\delta x + B\,\delta u,

with :math:`J = \partial F/\partial x` (or :math:`\partial f/\partial x`) and
:math:`B = \partial F/\partial u`. Writing :math:`J = R\Lambda L^{H}` with right
eigenvectors :math:`r_k` (columns of R) and left eigenvectors :math:`l_k`
normalised so that :math:`l_k^{H} r_j = \delta_{kj}`, the component of the state
along mode k evolves on its own, and an input moves it by :math:`l_k^{H}B`: the
*selection vector* of Mante, Sussillo, Shenoy & Newsome (2013), which says which
inputs a slow mode integrates.

Each mode has a growth rate (per ms, or per step for systems without time units)
and a frequency (Hz):

.. math::

    \text{ODE: } \gamma = \operatorname{Re}\lambda,\quad \nu = \frac{\operatorname{Im}\lambda}{2\pi};
    \qquad
    \text{map: } \gamma = \frac{\ln|\lambda|}{\Delta t},\quad \nu = \frac{\arg\lambda}{2\pi\Delta t},

and time constant :math:`1/|\gamma|`. A mode is *unstable* when
:math:`\gamma >` ``marginal_tol``, *marginal* when :math:`|\gamma| \le` ``marginal_tol``
(the signature of line and ring attractors), stable otherwise. The tolerance band
makes the label of a line-attractor mode deterministic, where a bare
:math:`|\lambda| < 1` test labels it at random.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...dynamics.ops import NUMPY
from ...threads import check_threads, limit
from .kernel import modes, order_modes

__all__ = ["Linearization", "classify", "eigenmodes", "linearize", "spectrum"]


@dataclass
class Linearization:
    r"""Linearization of a system at k states (see the module docstring).

    Attributes
    ----------
    jacobian : ndarray (k, d, d)
        :math:`J = \partial F/\partial x` (maps) or :math:`\partial f/\partial x` (ODEs).
    input_jacobian : ndarray (k, d, m)
        :math:`B = \partial F/\partial u` or :math:`\partial f/\partial u`.
    eigenvalues : complex ndarray (k, d)
        Sorted by growth rate, most unstable (or slowest decaying) first.
    right, left : complex ndarray (k, d, d)
        Eigenvectors as columns (``right[i, :, j]`` is mode j of state i), with
        :math:`l_j^H r_j = 1`; right eigenvectors have unit norm.
    input_projection : complex ndarray (k, d, m)
        :math:`l_j^H B`: how much each input drives each mode (selection vectors).
    growth_rate : ndarray (k, d)
        Per ms (per step when the system has no time unit).
    frequency : ndarray (k, d)
        Hz (cycles per 1000 time units).
    n_unstable, n_marginal : ndarray of int (k,)
        Number of unstable and of marginal modes (see :func:`classify`).
    stability : ndarray of str (k,)
        ``"stable"``, ``"marginal"`` or ``"unstable_<n>"``.

    Examples
    --------
    :func:`linearize` returns it. The system :math:`\dot x = Ax + u` with
    :math:`A = \begin{pmatrix}0 & 0.5\\ 0 & -1\end{pmatrix}` has a line attractor along
    :math:`r_0 = (1, 0)`; the input it integrates is read by the left eigenvector
    :math:`l_0 = (1, 0.5)`, not by :math:`r_0` (the selection vector of Mante et al.
    2013):

    >>> from neurodyn.analysis import linearize
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> A = np.array([[0.0, 0.5], [0.0, -1.0]])
    >>> dyn = FunctionDynamics(lambda x, u: x @ A.T + u, n_state=2, n_input=2, kind="ode")
    >>> lin = linearize(dyn, np.zeros((1, 2)), np.zeros(2))
    >>> lin.stability.tolist(), lin.n_marginal.tolist(), lin.eigenvalues.real.tolist()
    (['marginal'], [1], [[0.0, -1.0]])
    >>> lin.right[0, :, 0].real.tolist(), lin.input_projection[0, 0].real.tolist()
    ([1.0, 0.0], [1.0, 0.5])
    >>> lin.time_constant.tolist()  # ms
    [[inf, 1.0]]
    """

    jacobian: np.ndarray
    input_jacobian: np.ndarray
    eigenvalues: np.ndarray
    right: np.ndarray
    left: np.ndarray
    input_projection: np.ndarray
    growth_rate: np.ndarray
    frequency: np.ndarray
    n_unstable: np.ndarray
    n_marginal: np.ndarray
    stability: np.ndarray

    @property
    def time_constant(self) -> np.ndarray:
        """:math:`1/|\\gamma|` of each mode (inf for a mode with zero growth rate)."""
        with np.errstate(divide="ignore"):
            return 1.0 / np.abs(self.growth_rate)


def _sort_modes(lam, kind: str, dt: float):
    """Order of the modes, most unstable first (ties, i.e. complex pairs, keep positive
    frequency first), with the sorted eigenvalues, growth rates and frequencies."""
    return order_modes(np.asarray(lam, dtype=np.complex128), kind == "map", float(dt))


def spectrum(jacobian, *, kind: str, dt: float = 1.0):
    """Sorted eigenvalues of a batch of Jacobians, without eigenvectors.

    The eigenvalues, growth rates and frequencies of :func:`eigenmodes`, in its order,
    for about half its cost (no eigenvectors, no inverse): enough to classify
    stability.

    Parameters
    ----------
    jacobian : array (k, d, d)
        Real Jacobians.
    kind : {"map", "ode"}
        Growth rates :math:`\\ln|\\lambda|/\\Delta t` (maps) or
        :math:`\\mathrm{Re}\\,\\lambda` (ODEs).
    dt : float
        Step duration of a map, in ms, to express growth rates per ms and frequencies
        in Hz.

    Returns
    -------
    eigenvalues (k, d), growth_rate (k, d), frequency (k, d)

    Examples
    --------
    >>> lam, growth, _ = spectrum(np.array([[[0.0, -1.0], [1.0, -0.5]]]), kind="ode")
    >>> lam.round(3).tolist(), growth.round(3).tolist()
    ([[(-0.25+0.968j), (-0.25-0.968j)]], [[-0.25, -0.25]])
    """
    # Complex even when every eigenvalue is real, as eigenmodes returns them.
    lam = np.linalg.eigvals(np.asarray(jacobian, dtype=np.float64)).astype(np.complex128)
    _, lam, growth, frequency = _sort_modes(lam, kind, dt)
    return lam, growth, frequency


def eigenmodes(jacobian, *, kind: str, dt: float = 1.0, threads: int | None = None):
    """Sorted eigenvalues, right and left eigenvectors of a batch of Jacobians.

    Parameters
    ----------
    jacobian : array (k, d, d)
    kind : {"map", "ode"}
    dt : float
        Step duration (maps), to express growth rates per time unit.
    threads : int, optional
        Threads to share the batch among; by default chosen from the work (about
        :math:`30 k d^3` floating-point operations) and the cores other processes leave
        free (:mod:`neurodyn.threads`).

    Returns
    -------
    eigenvalues (k, d), right (k, d, d), left (k, d, d), growth_rate (k, d), frequency (k, d)

    Examples
    --------
    >>> lam, *_ = eigenmodes(np.diag([0.5, 2.0])[None], kind="map")
    >>> lam.real
    array([[2. , 0.5]])
    """
    J = np.asarray(jacobian, dtype=np.float64)
    threads = check_threads(threads)
    with limit(threads, work=_work(J), what="eigenmodes") as n:
        lam, R, left, growth, frequency, _ = _modes(
            J, np.empty((len(J), J.shape[-1], 0)), kind, dt, n
        )
    return lam, R, left, growth, frequency


def _work(J) -> float:
    """Floating-point work of decomposing the batch J (k, d, d), for the thread policy:
    about 25 d³ for the Schur form with its vectors and 5 d³ for the eigenvectors and
    their inverse, per matrix."""
    return 30.0 * J.shape[0] * float(J.shape[-1]) ** 3


def _modes(J, B, kind: str, dt: float, threads: int):
    """:func:`eigenmodes` of J (k, d, d) on ``threads`` threads, with the input
    projections :math:`l_j^H B` of B (k, d, m) as a sixth result."""
    return modes(J, B, is_map=kind == "map", dt=float(dt), threads=threads)


def classify(growth_rate, marginal_tol: float):
    """Count unstable and marginal modes and name the stability class of each state.

    Returns ``(n_unstable, n_marginal, stability)``; ``stability`` is ``"stable"``,
    ``"marginal"`` (no unstable mode, at least one marginal) or ``"unstable_<n>"``.

    Parameters
    ----------
    growth_rate : array_like
        Growth rate of each mode, shape (..., d), as :func:`eigenmodes` gives them.
    marginal_tol : float
        Modes with ``|growth_rate| <= marginal_tol`` are marginal, those above it
        unstable.

    Examples
    --------
    >>> n_unstable, n_marginal, stability = classify(
    ...     np.array([[0.2, -1.0], [0.0, -1.0], [-0.5, -1.0], [0.3, 0.1]]), 1e-4)
    >>> stability.tolist(), n_unstable.tolist(), n_marginal.tolist()
    (['unstable_1', 'marginal', 'stable', 'unstable_2'], [1, 0, 0, 2], [0, 1, 0, 0])
    """
    g = np.asarray(growth_rate)
    n_unstable = np.sum(g > marginal_tol, axis=-1).astype(np.int32)
    n_marginal = np.sum(np.abs(g) <= marginal_tol, axis=-1).astype(np.int32)
    labels = [
        f"unstable_{u}" if u else ("marginal" if m else "stable")
        for u, m in zip(n_unstable.ravel().tolist(), n_marginal.ravel().tolist(), strict=True)
    ]
    return n_unstable, n_marginal, np.array(labels, dtype=str).reshape(n_unstable.shape)


def linearize(
    dynamics, x, u=None, *, marginal_tol: float = 1e-4, threads: int | None = None
) -> Linearization:
    """Linearize ``dynamics`` at states ``x`` (k, d) with inputs ``u`` (k, m) or (m,).

    Parameters
    ----------
    dynamics : Dynamics
    x : array (k, d)
    u : array (k, m) or (m,), optional
        Zero input when omitted.
    marginal_tol : float
        Half-width of the marginal band of growth rates, per ms (per step for systems
        without a time unit). The default 1e-4/ms calls modes with time constants
        beyond 10 s marginal.
    threads : int, optional
        Threads for the eigendecompositions (see :func:`eigenmodes`).

    Returns
    -------
    Linearization

    Examples
    --------
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> dyn = FunctionDynamics(lambda x, u: -x**3 + x, n_state=1, kind="ode")
    >>> lin = linearize(dyn, np.array([[0.0], [1.0]]))
    >>> lin.stability.tolist()
    ['unstable_1', 'stable']
    """
    x = dynamics.check_states(x)
    u = dynamics.check_inputs(u, len(x))
    threads = check_threads(threads)
    c = dynamics._prepare(NUMPY, u)
    _, A = dynamics._residual_jacobian(NUMPY, x, c)
    with limit(threads, work=_work(A), what="linearize") as n:
        return linearize_prepared(dynamics, x, c, A, marginal_tol, n)


def linearize_prepared(dynamics, x, c, A, marginal_tol: float, threads: int) -> Linearization:
    """:func:`linearize` of validated states x (k, d) with prepared inputs c and residual
    Jacobians A (k, d, d) already at hand (:func:`~neurodyn.analysis.find_fixed_points`
    has them), on ``threads`` threads: for callers inside neurodyn, which validate
    first and set the threads (not in ``__all__``)."""
    J = np.array(A, dtype=np.float64)
    if dynamics.kind == "map":  # A = J - I
        J += np.eye(J.shape[-1])
    B = np.asarray(dynamics._input_jacobian(NUMPY, x, c))
    lam, R, L, growth, freq, proj = _modes(J, B, dynamics.kind, dynamics.dt, threads)
    n_unstable, n_marginal, stability = classify(growth, marginal_tol)
    return Linearization(J, B, lam, R, L, proj, growth, freq, n_unstable, n_marginal, stability)
