"""Settings of the Newton/LM fixed-point solver, and the roots it may stop at.

Both are frozen dataclasses shared by the solvers (the compiled kernel, the array
solver and the reference), so each takes one configuration object rather than a
list of scalars.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["KnownRoots", "SolverOptions"]


@dataclass(frozen=True)
class SolverOptions:
    """Numerical settings of the Newton/LM solver (:mod:`neurodyn.analysis.fixed_points.kernel`).

    Attributes
    ----------
    tol_q : float
        Root when q ≤ tol_q (and the Newton step is below ``root_xtol``).
    xtol : float
        Root when the Newton step is below ``xtol`` (1 + ‖x‖): rounding level.
    root_xtol : float
        How small (relative to 1 + ‖x‖) the Newton step must be to accept q ≤ tol_q.
    gtol, gtol_stall : float
        Slow point when the first-order decrease of q over a move of ``length`` is below
        this fraction of q (``gtol_stall`` once progress has stalled).
    length : float
        The state scale L of that test.
    max_iter : int
        Iterations per candidate.
    max_step : float
        Longest step (state units).
    x_max : float
        A candidate with a coordinate beyond this has diverged.
    n_backtrack, lm_tries : int
        Step halvings of the Newton line search; damping increases per LM attempt.
    patience : int
        Iterations of negligible progress before a candidate counts as stalled.
    armijo : float
        Sufficient-decrease constant of the line search.
    chord_steps : int
        Chord steps per factorisation: after a full Newton step, at most this many
        steps :math:`-A^{-1}r` that reuse the factors of the last Jacobian A.
    chord_ratio : float
        A chord step is taken only while it is at most this fraction of the step
        before it (the chord iteration contracts).
    state_margin : float
        A candidate has left the state set the model can reach (``state_bounds``) when
        its excursion outside it exceeds its starting excursion by more than this, in
        state units (the bounds are 0 and ±1). Newton's iterates are not states of the
        network: a damped step (up to ``max_step``) from inside the set may overshoot it
        and come back. Measured on the trained flip-flop networks of the tests, a margin
        of 1e-6 stopped 25 % (tanh RNN, LSTM) to 40 % (GRU) of the candidates that go
        on to converge, and found 1 of the 17 roots of a saturated random RNN; at 2 no
        root was lost and at most 1 % of the converging candidates were stopped, while
        GRU candidates that wander off (to ``|h|`` of 28 to 195) stop early (3.4x fewer
        iterations on the flip-flop GRU).
    state_tol : float
        A root or slow point must lie in the state set up to this (state units):
        far above the rounding of states of order one (1e-16) and above the distance
        to which roots are located (``root_xtol`` (1 + ‖x‖), 1e-7 at 256 units), so a
        root on a bound (a saturated or silent unit) is never rejected.

    :func:`find_fixed_points` sets ``length`` and ``max_step`` (2 L) from the spread L
    of the initial states and ``x_max`` from their magnitude, unless ``options`` is given.

    Examples
    --------
    Pass it as ``options`` of :func:`~neurodyn.analysis.find_fixed_points`. Two
    uncoupled bistable units, :math:`\\tau\\dot x = -x + 2\\tanh x`, have nine fixed
    points, which Newton's method finds from a grid in at most three iterations; one
    iteration is too few for all but the candidate that starts on the origin:

    >>> from neurodyn.analysis import SolverOptions, find_fixed_points
    >>> from neurodyn.dynamics import RateDynamics
    >>> dyn = RateDynamics(W=2 * np.eye(2), W_in=np.ones((2, 1)), tau=10.0, dt=1.0)
    >>> g = np.linspace(-3, 3, 5)
    >>> X0 = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    >>> fps = find_fixed_points(dyn, [0.0], X0, progress=False)
    >>> len(fps.x), fps.info["options"]["length"], fps.info["options"]["max_step"]
    (9, 3.0, 6.0)
    >>> short = find_fixed_points(dyn, [0.0], X0, options=SolverOptions(max_iter=1),
    ...                           progress=False)
    >>> len(short.x), short.info["failures"]["max_iter"]
    (1, 24)
    """

    tol_q: float = 1e-20
    xtol: float = 1e-14
    root_xtol: float = 1e-8
    gtol: float = 1e-10
    gtol_stall: float = 1e-4
    length: float = 1.0
    max_iter: int = 200
    max_step: float = 1.0
    x_max: float = 1e6
    n_backtrack: int = 6
    lm_tries: int = 8
    patience: int = 10
    armijo: float = 1e-4
    chord_steps: int = 4
    chord_ratio: float = 0.75
    state_margin: float = 2.0
    state_tol: float = 1e-6


@dataclass(frozen=True)
class KnownRoots:
    """Roots found in an earlier pass, where candidates may stop (step 0 of
    :mod:`neurodyn.analysis.fixed_points.kernel`).

    Attributes
    ----------
    x : ndarray (K, d)
    q : ndarray (K,)
    group : ndarray of int (K,)
        Input group of each root; a candidate stops only at a root of its own group.
    snap_tol : float
        The de-duplication radius.
    radii : ndarray (K, 2)
        Each root's balls of convergence and of uniqueness, (ρ, 3ρ); zeros where no
        bound is known (see :func:`neurodyn.analysis.fixed_points.kernel.root_radii`).
    gate : ndarray (2,)
        (q_max, 3ρ_max): no candidate with a larger q lies in a ball of convergence.

    The arrays are float64 (``group`` int64) and C-contiguous, as the compiled kernel
    reads them without a copy (it raises ValueError otherwise).

    Examples
    --------
    :func:`~neurodyn.analysis.find_fixed_points` builds them from the roots of a first
    pass over a sample of the candidates. For two uncoupled bistable units,
    :math:`\\tau\\dot x = -x + 2\\tanh x`, with the known root (1.915, 1.915), the
    four candidates of a grid that start near it stop there, by its index (0):

    >>> from neurodyn.analysis import SolverOptions
    >>> from neurodyn.analysis.fixed_points import kernel
    >>> from neurodyn.analysis.fixed_points.batched import solve_batched
    >>> from neurodyn.dynamics import RateDynamics
    >>> from neurodyn.dynamics.ops import NUMPY
    >>> dyn = RateDynamics(W=2 * np.eye(2), W_in=np.ones((2, 1)), tau=10.0, dt=1.0)
    >>> g = np.linspace(-3, 3, 5)
    >>> X0 = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    >>> C = dyn._prepare(NUMPY, np.zeros((25, 1)))
    >>> x_star = np.array([[1.915007, 1.915007]])
    >>> r, A = dyn._residual_jacobian(NUMPY, x_star, C[:1])
    >>> lip = kernel.jacobian_lipschitz(dyn.kernel_spec())
    >>> radii, gate = kernel.radii_from_jacobians(r, A, lip)
    >>> known = KnownRoots(x_star, 0.5 * (r * r).sum(1), np.zeros(1, dtype=np.int64),
    ...                    1e-6, radii, gate)
    >>> group = np.zeros(25, dtype=np.int64)  # one input: one group
    >>> x, q, n_iter, status, root = solve_batched(dyn, NUMPY, X0, C, SolverOptions(),
    ...                                            known, group)
    >>> np.flatnonzero(root == 0).tolist(), X0[root == 0].min(0).tolist()
    ([18, 19, 23, 24], [1.5, 1.5])
    >>> KnownRoots.none(2).x.shape
    (0, 2)
    """

    x: np.ndarray
    q: np.ndarray
    group: np.ndarray
    snap_tol: float
    radii: np.ndarray
    gate: np.ndarray

    @classmethod
    def none(cls, d: int) -> KnownRoots:
        """No known roots (of states of size d).

        Parameters
        ----------
        d : int
            Size of the state.

        Returns
        -------
        KnownRoots
            With empty arrays of the right shapes and a zero gate.
        """
        empty = np.empty(0)
        return cls(
            np.empty((0, d)), empty, empty.astype(np.int64), 0.0, np.empty((0, 2)), np.zeros(2)
        )
