r"""Procrustes analysis over vector fields: how far apart two linear operators are
once any orthogonal change of coordinates is allowed.

Two linear systems :math:`\dot v = A v` and :math:`\dot w = B w` are the same system
seen in rotated (or reflected) coordinates when :math:`A = C B C^\top` for an orthogonal
:math:`C`: the change of variables :math:`v = C w` acts on a vector field by
conjugation, not by one-sided rotation as it does on a point cloud. Ostrow et al.
(NeurIPS 2023) measure the distance between two operators, each scaled to unit
Frobenius norm (:math:`\hat A = A / \lVert A\rVert_F`), as

.. math::

    d_E(A, B) = \min_{C \in O(n)} \lVert \hat A - C \hat B C^\top \rVert_F, \qquad
    \theta(A, B) = \arccos \max_{C \in O(n)} \operatorname{tr}(\hat A^\top C \hat B C^\top)
    = 2 \arcsin\bigl(d_E / 2\bigr),

the Euclidean (``score="euclidean"``, in [0, 2]) and angular (``score="angular"``, in
[0, π]) forms; both are zero exactly when the two systems are conjugate by an
orthogonal map and a rescaling. Operators of different sizes are compared after
padding the smaller with zeros.

The minimisation has no closed form. It is solved by quasi-Newton descent (L-BFGS) on
the Lie algebra of skew-symmetric matrices :math:`K` through the Cayley map,

.. math::

    C = C_0 \,(I - K)^{-1} (I + K), \qquad
    \frac{\partial f}{\partial K} = 2\, W^\top C_0^\top G\, W^\top \ \text{(projected
    onto skew matrices)}, \quad W = (I - K)^{-1},

with :math:`f(C) = \tfrac12 \lVert R\rVert_F^2`, :math:`R = \hat A - C \hat B C^\top`,
and its Euclidean gradient :math:`G = -(R\, C \hat B^\top + R^\top C \hat B)`. Each
run is re-centred (:math:`C_0 \leftarrow C`, :math:`K = 0`, f rescaled to 1) until the
Riemannian gradient :math:`\lVert C^\top G - G^\top C\rVert_F` is small relative to
:math:`d_E` (:class:`AlignmentOptions`).

The objective has local minima, even between exactly conjugate operators (random
starts end at θ of 0.06–0.4 for random 5–64-dimensional ones). The runs therefore start
from three spectral guesses, which solve the conjugate case: if :math:`\hat A = C
\hat B C^\top`, the eigenvectors of :math:`\hat A + \hat A^\top`,
:math:`\hat A \hat A^\top` and :math:`\hat A^\top \hat A` are C times those of
:math:`\hat B`'s, up to signs that a leading eigenvector recovers; then from the
identity, a reflection of the first axis and Haar-random orthogonal matrices drawn
from ``seed``, alternately of det +1 and −1 (the Cayley map reaches only the component
of :math:`O(n)` that holds :math:`C_0`). The best run is kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.optimize import minimize
from scipy.stats import ortho_group

from ... import threads as _threads
from ..._validation import check_choice, check_finite, check_int, check_positive
from ...seeding import make_rng
from .procrustes import chord_angle

__all__ = ["AlignmentOptions", "VectorFieldProcrustes", "procrustes_vector_field_distance"]

logger = logging.getLogger(__name__)

SCORES = ("angular", "euclidean")


@dataclass(frozen=True)
class AlignmentOptions:
    """How the orthogonal alignment of two operators is searched for.

    Parameters
    ----------
    restarts : int
        Starting points (alternately det +1 and det −1; at least 2 cover both
        components of O(n)).
    max_iterations : int
        L-BFGS iterations per run between re-centrings.
    max_recentres : int
        Re-centrings of the Cayley map per start.
    tolerance : float
        Convergence: the Riemannian gradient norm
        :math:`g = \\lVert C^\\top G - G^\\top C\\rVert_F` of
        :math:`f = \\tfrac12 d_E^2` at most ``tolerance`` :math:`\\cdot\\, d_E` (plus
        :math:`16 n \\epsilon` for rounding). Near a minimum of curvature
        :math:`\\mu`, :math:`f - f^* \\approx g^2 / 2\\mu`, so :math:`d_E` is then within
        a relative :math:`\\text{tolerance}^2 / 2\\mu` of the minimum's.

    Examples
    --------
    Pass it as ``options`` of :func:`procrustes_vector_field_distance` or
    :func:`~neurodyn.analysis.dsa`. Each of the ``restarts`` adds one run to the three
    spectral guesses; a 4 × 4 operator and its conjugate by a random rotation are
    matched exactly:

    >>> from neurodyn.analysis import procrustes_vector_field_distance
    >>> rng = np.random.default_rng(0)
    >>> a, c = rng.normal(size=(4, 4)), np.linalg.qr(rng.normal(size=(4, 4)))[0]
    >>> res = procrustes_vector_field_distance(a, c.T @ a @ c,
    ...                                        options=AlignmentOptions(restarts=2))
    >>> len(res.restart_angles), res.distance < 1e-8, res.converged
    (5, True, True)
    """

    restarts: int = 4
    max_iterations: int = 500
    max_recentres: int = 20
    tolerance: float = 1e-6

    def __post_init__(self):
        check_int("restarts", self.restarts)
        check_int("max_iterations", self.max_iterations)
        check_int("max_recentres", self.max_recentres)
        check_positive("tolerance", self.tolerance)


@dataclass(frozen=True, eq=False)
class VectorFieldProcrustes:
    """What :func:`procrustes_vector_field_distance` returns.

    Attributes
    ----------
    distance : float
        In the requested ``score``: :attr:`angle` or :attr:`euclidean`.
    score : str
        ``"angular"`` or ``"euclidean"``: which of the two is ``distance``.
    angle : float
        :math:`\\theta \\in [0, \\pi]`.
    euclidean : float
        :math:`d_E \\in [0, 2]`.
    alignment : ndarray (n, n)
        The orthogonal :math:`C` with :math:`\\hat A \\approx C \\hat B C^\\top`.
    converged : bool
        Whether the best run met the tolerance.
    gradient_norm : float
        Its Riemannian gradient norm.
    n_iterations : int
        L-BFGS iterations over all runs.
    restart_angles : ndarray (3 + restarts,)
        :math:`\\theta` reached from each start, the three spectral guesses first (for
        n > 1) and then the ``restarts`` of :class:`AlignmentOptions`; their spread
        shows local minima.

    Examples
    --------
    :func:`procrustes_vector_field_distance` returns it. A rotation generator
    :math:`J` and the identity are orthogonal in every coordinate system,
    :math:`\\operatorname{tr}(\\hat J^\\top C I C^\\top) = \\operatorname{tr}\\hat J = 0`:
    they are π/2 apart, at Euclidean distance :math:`\\sqrt 2`:

    >>> from neurodyn.analysis import procrustes_vector_field_distance
    >>> res = procrustes_vector_field_distance(np.array([[0.0, -1.0], [1.0, 0.0]]), np.eye(2))
    >>> res.score, bool(np.isclose(res.angle, np.pi / 2)), bool(np.isclose(res.euclidean, np.sqrt(2)))
    ('angular', True, True)
    >>> res.alignment.shape, bool(np.allclose(res.alignment @ res.alignment.T, np.eye(2)))
    ((2, 2), True)
    """

    distance: float
    score: str
    angle: float
    euclidean: float
    alignment: np.ndarray
    converged: bool
    gradient_norm: float
    n_iterations: int
    restart_angles: np.ndarray

    def to_xarray(self) -> xr.Dataset:
        """Dataset with the alignment (mode_to, mode) and the distances as attrs."""
        n = len(self.alignment)
        ds = xr.Dataset(
            {
                "alignment": (("mode_to", "mode"), self.alignment),
                "restart_angles": ("restart", self.restart_angles),
            },
            coords={"mode": np.arange(n), "mode_to": np.arange(n)},
        )
        ds.attrs.update(
            distance=self.distance,
            score=self.score,
            angle=self.angle,
            euclidean=self.euclidean,
            converged=int(self.converged),
            gradient_norm=self.gradient_norm,
            n_iterations=self.n_iterations,
        )
        return ds


def procrustes_vector_field_distance(
    a,
    b,
    *,
    score: str = "angular",
    options: AlignmentOptions | None = None,
    seed: int = 0,
    threads: int | None = None,
) -> VectorFieldProcrustes:
    r"""Distance between two linear operators up to an orthogonal change of coordinates.

    Parameters
    ----------
    a, b : array (n, n) and (k, k)
        Operators (DMD matrices); the smaller is padded with zeros.
    score : {"angular", "euclidean"}
        :math:`\theta` or :math:`d_E` (module docstring).
    options : AlignmentOptions, optional
        Restarts, iterations and tolerance.
    seed : int
        Seeds the random starting points.
    threads : int, optional
        Threads; default: :mod:`neurodyn.threads`' policy for work of :math:`20 n^3`.

    Returns
    -------
    VectorFieldProcrustes

    Examples
    --------
    A rotation generator and the same generator in reflected coordinates:

    >>> a = np.array([[-0.1, -1.0], [1.0, -0.1]])
    >>> q = np.array([[1.0, 0.0], [0.0, -1.0]])
    >>> res = procrustes_vector_field_distance(a, q @ a @ q.T)
    >>> res.distance < 1e-8
    True
    """
    score = check_choice("score", score, SCORES)
    options = AlignmentOptions() if options is None else options
    if not isinstance(options, AlignmentOptions):
        raise ValueError(f"options must be an AlignmentOptions, got {options!r}")
    a_hat, b_hat = _unit_pair(a, b)
    n = len(a_hat)
    with _threads.limit(threads, work=20.0 * n**3, what="procrustes_vector_field_distance"):
        starts = _starts(a_hat, b_hat, options.restarts, seed)
        runs = [_align(a_hat, b_hat, c0, options) for c0 in starts]
    best = min(runs, key=lambda run: run[1])
    c, _, grad, _ = best
    euclidean = float(np.linalg.norm(a_hat - c @ b_hat @ c.T))
    angle = chord_angle(euclidean)
    logger.debug("vector-field Procrustes: restart angles %s", [chord_angle(r[1]) for r in runs])
    return VectorFieldProcrustes(
        distance=angle if score == "angular" else euclidean,
        score=score,
        angle=angle,
        euclidean=euclidean,
        alignment=c,
        converged=bool(grad <= _threshold(0.5 * euclidean**2, n, options.tolerance)),
        gradient_norm=grad,
        n_iterations=int(sum(r[3] for r in runs)),
        restart_angles=np.array([chord_angle(r[1]) for r in runs]),
    )


def _unit_pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Validate two square operators; pad to one size; scale each to unit norm."""
    out = []
    for name, m in (("a", a), ("b", b)):
        m = np.asarray(check_finite(name, m), dtype=float)
        if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < 1:
            raise ValueError(f"{name} has shape {m.shape}; expected a square matrix (n, n)")
        norm = np.linalg.norm(m)
        if norm == 0:
            raise ValueError(
                f"{name} is zero; a distance between directions needs a nonzero operator"
            )
        out.append(m / norm)
    n = max(len(m) for m in out)
    padded = []
    for m in out:
        p = np.zeros((n, n))
        p[: len(m), : len(m)] = m
        padded.append(p)
    return padded[0], padded[1]


def _starts(a: np.ndarray, b: np.ndarray, restarts: int, seed: int) -> list[np.ndarray]:
    """Spectral guesses, then the identity, a reflection and Haar-random matrices."""
    n = len(a)
    starts = _spectral_starts(a, b) if n > 1 else []
    rng = make_rng(seed, "analysis")
    for i in range(restarts):
        c0 = np.eye(n) if i < 2 or n == 1 else ortho_group.rvs(n, random_state=rng)
        if np.sign(np.linalg.det(c0)) != (1.0 if i % 2 == 0 else -1.0):
            c0 = c0.copy()
            c0[:, 0] *= -1.0
        starts.append(c0)
    return starts


def _spectral_starts(a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    r"""Alignments that match eigenvectors of symmetric companions of a and b.

    If :math:`a = C b C^\top`, every symmetric matrix built from the operators
    (:math:`a + a^\top`, :math:`a a^\top`, :math:`a^\top a`) is conjugated by the same C,
    so their eigenvectors (of distinct eigenvalues) agree up to signs:
    :math:`E_a = C E_b D`. The signs d maximise
    :math:`\sum_{ij} d_i d_j \tilde a_{ij} \tilde b_{ij}` with :math:`\tilde a = E_a^\top a E_a`;
    the leading eigenvector of that weight matrix gives them (exactly so when a and b are
    conjugate: the weights are then :math:`d_i d_j \tilde b_{ij}^2`).
    """
    starts = []
    for sym in (lambda m: m + m.T, lambda m: m @ m.T, lambda m: m.T @ m):
        ea, eb = np.linalg.eigh(sym(a))[1], np.linalg.eigh(sym(b))[1]
        at, bt = ea.T @ a @ ea, eb.T @ b @ eb
        w = at * bt
        w = w + w.T
        np.fill_diagonal(w, 0.0)
        d = np.sign(np.linalg.eigh(w)[1][:, -1])
        d[d == 0] = 1.0
        starts.append(ea @ (d[:, None] * eb.T))
    return starts


def _objective(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple[float, np.ndarray]:
    """f = ½‖a − c b cᵀ‖² and its Euclidean gradient in c.

    The residual is formed first, so that f and the gradient keep their relative
    accuracy as the distance goes to zero (1 − tr(aᵀ c b cᵀ) would lose it to rounding).
    """
    cb = c @ b
    r = a - cb @ c.T
    return 0.5 * float(np.sum(r * r)), -(r @ c @ b.T + r.T @ cb)


def _align(a, b, c0, options: AlignmentOptions):
    """One start: L-BFGS in Cayley coordinates, re-centred until the gradient is small.

    Each run's objective is divided by its value at the centre, so that L-BFGS's
    stopping rule on the decrease of f stays relative as f goes to zero.
    Returns (C, d_E, gradient norm, iterations).
    """
    n = len(a)
    iu = np.triu_indices(n, 1)
    c, iterations = c0, 0
    f, grad = _state(a, b, c)
    for _ in range(options.max_recentres):
        if n == 1 or f == 0.0 or grad <= _threshold(f, n, options.tolerance):
            break
        res = minimize(
            _cayley_objective,
            np.zeros(len(iu[0])),
            args=(a, b, c, iu, 1.0 / f),
            jac=True,
            method="L-BFGS-B",
            options={
                "maxiter": options.max_iterations,
                "gtol": 0.1 * _threshold(f, n, options.tolerance) / f,
                "ftol": 4.0 * np.finfo(float).eps,
                "maxcor": 20,
            },
        )
        iterations += int(res.nit)
        c_new = _polar(c @ _cayley(_skew(res.x, n, iu)))
        f_new, grad_new = _state(a, b, c_new)
        if f_new >= f:
            break  # no decrease is possible from here at this precision
        c, f, grad = c_new, f_new, grad_new
    return c, float(np.sqrt(2.0 * f)), grad, iterations


def _threshold(f: float, n: int, tolerance: float) -> float:
    """Gradient norm that counts as stationary: relative to d_E, above rounding (~n ε)."""
    return tolerance * np.sqrt(2.0 * f) + 16.0 * n * np.finfo(float).eps


def _state(a, b, c) -> tuple[float, float]:
    """The objective and the Riemannian gradient norm ‖cᵀG − Gᵀc‖_F at c."""
    f, g = _objective(a, b, c)
    omega = c.T @ g
    return f, float(np.linalg.norm(omega - omega.T))


def _skew(k: np.ndarray, n: int, iu) -> np.ndarray:
    u = np.zeros((n, n))
    u[iu] = k
    return u - u.T


def _cayley(k: np.ndarray) -> np.ndarray:
    eye = np.eye(len(k))
    return np.linalg.solve(eye - k, eye + k)


def _polar(c: np.ndarray) -> np.ndarray:
    """The orthogonal factor of c: removes the rounding drift of repeated products."""
    u, _, vt = np.linalg.svd(c)
    return u @ vt


def _cayley_objective(k, a, b, c0, iu, scale):
    n = len(a)
    skew = _skew(k, n, iu)
    w = np.linalg.inv(np.eye(n) - skew)
    c = c0 @ (w @ (np.eye(n) + skew))
    f, g = _objective(a, b, c)
    m = 2.0 * w.T @ (c0.T @ g) @ w.T
    return scale * f, scale * (m - m.T)[iu]
