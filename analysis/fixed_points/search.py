r"""Find every fixed point of a network: :func:`find_fixed_points`.

A fixed point :math:`x^*` of a map :math:`x \mapsto F(x, u)` or an ODE
:math:`\dot x = f(x, u)` at a constant input u is a root of the residual
:math:`r(x) = F(x, u) - x` (per step) or :math:`r(x) = f(x, u)` (per ms). From many
initial states, each candidate is driven to a root of r by damped Newton steps with
a Levenberg–Marquardt safeguard and chord steps that reuse each Jacobian's LU factors
(:mod:`neurodyn.analysis.fixed_points.kernel`; compiled C++ built with neurodyn, so the
first call waits for no compiler), in float64 with analytic Jacobians, and ends as a
**root**, a **slow point** (a local minimum of
:math:`q = \tfrac12\|r\|^2` above tolerance, reported separately) or **failed**,
with the reason (among them ``left_state_set``: it wandered off the set of states
the model can reach, :meth:`~neurodyn.dynamics.Dynamics.state_bounds`).
A sample of the candidates is solved first; the others stop as soon as the geometric
tail of their last two steps places their own root within the de-duplication radius
of a root the sample found, or they enter that root's ball of convergence, where
Newton's method provably converges to it (``share_roots``). The distinct results are then
de-duplicated (:mod:`neurodyn.analysis.fixed_points.dedupe`) and linearized
(:mod:`neurodyn.analysis.linearization.linearize`).

``method="adam"`` instead runs the Sussillo–Barak / FixedPointFinder algorithm
(:mod:`neurodyn.analysis.fixed_points.adam`) for comparison.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, replace

import numpy as np

from ... import backends
from ..._validation import check_choice, check_int, check_positive
from ...dynamics import Dynamics
from ...dynamics import dynamics as as_dynamics
from ...dynamics.integrate import residual_field, scheme
from ...dynamics.ops import NUMPY, TORCH
from ...progress import check_progress, progress_bar, shows_bar
from ...threads import check_threads, limit, one_blas_thread
from ..linearization.linearize import linearize_prepared
from . import kernel
from .adam import AdamOptions, solve_adam
from .batched import solve_batched
from .dedupe import cluster, state_scale
from .options import KnownRoots, SolverOptions
from .outcomes import OUTCOMES, ROOT, SLOW
from .result import Candidates, FixedPoints

__all__ = ["AdamOptions", "SolverOptions", "find_fixed_points"]

logger = logging.getLogger(__name__)

METHODS = ("newton", "adam")
BACKENDS = ("auto", "cpp", "numpy", "torch")

# Status and failure reason of each solver code (see ``OUTCOMES``), as lookup tables
# indexed by the code, which runs from 0 (a gap in the codes is a KeyError here).
_STATUS = np.array([OUTCOMES[c][0] for c in range(len(OUTCOMES))])
_REASON = np.array([OUTCOMES[c][1] for c in range(len(OUTCOMES))])


def _is_gpu(dyn) -> bool:
    return str(getattr(dyn, "device", "cpu")).startswith("cuda")


def _pick_backend(dyn: Dynamics, backend: str, method: str) -> str:
    if backend == "numba":
        raise ValueError(
            'backend="numba" no longer exists: the Newton kernel is compiled C++ now; use '
            'backend="cpp" (or "auto", which picks it)'
        )
    backend = check_choice("backend", backend, BACKENDS)
    has_kernel = method == "newton" and dyn.kernel_spec() is not None
    if backend == "auto":
        if _is_gpu(dyn):
            return "torch"
        # resolve_backend logs once per process when neurodyn._C is missing.
        return "cpp" if has_kernel and backends.resolve_backend("auto") == "cpp" else "numpy"
    if backend == "cpp":
        if method != "newton":
            raise ValueError('backend="cpp" serves method="newton" only; use "numpy" or "torch"')
        if not has_kernel:
            raise ValueError(
                f"{type(dyn).__name__} has no compiled kernel; use backend='numpy' (or 'torch')"
            )
        backends.resolve_backend("cpp")  # raises, with the reason, where _C is missing
    return backend


#: With ``share_roots``, every SAMPLE_EVERY-th candidate is solved first (see
#: :func:`find_fixed_points`).
SAMPLE_EVERY = 8


def _shares_roots(n: int, snap_tol: float) -> bool:
    """Whether ``n`` candidates are solved in two passes (a sample first, then the rest)."""
    return snap_tol > 0 and n >= 2 * SAMPLE_EVERY


def _root_radii(dyn, x, C):
    """Balls of convergence and uniqueness ``(radii (K, 2), gate (2,), r, A)`` of the
    roots x (K, d) with inputs C (K, m), for models with a compiled kernel's structure
    and a Lipschitz bound on their Jacobian
    (:func:`neurodyn.analysis.fixed_points.kernel.root_radii`), with the residuals r
    (K, d) and Jacobians A (K, d, d) at x they were derived from; zero radii and no
    r and A (None) otherwise."""
    spec = dyn.kernel_spec()
    lip = kernel.jacobian_lipschitz(spec) if spec is not None and len(x) else np.inf
    if not np.isfinite(lip):
        return np.zeros((len(x), 2)), np.zeros(2), None, None
    r, A = (np.asarray(a) for a in dyn._residual_jacobian(NUMPY, x, dyn._prepare(NUMPY, C)))
    return (*kernel.radii_from_jacobians(r, A, lip), r, A)


def _work(method: str, backend: str, n: int, d: int, chunk: int) -> float:
    """Floating-point work per parallel operation, for the thread policy.

    The compiled kernel's call is one parallel operation over all n candidates, each
    about five iterations of a factorisation (2/3 d³), residuals and solves (about
    20 d²) and the nonlinearities (about 100 d, counting a tanh as 20 operations):
    5 (d³ + 20 d² + 100 d) per candidate, within a factor of two of the measured time
    of 16- and 64-unit networks at BLAS's rate. The batched backends' largest
    operation is one batched factorisation of a chunk; Adam's, one (n, d) × (d, d)
    product per step.
    """
    if method == "adam":
        return 2.0 * n * d * d
    if backend == "cpp":
        return 5.0 * n * (d**3 + 20.0 * d * d + 100.0 * d)
    return min(n, chunk) * d**3


@dataclass(frozen=True)
class _Plan:
    """How the search runs: the settings :func:`find_fixed_points` validated and derived.

    ``snap_tol`` is the de-duplication radius where candidates share the sample's
    roots (0: every candidate finds its own), ``tol`` the de-duplication radius,
    ``group`` the input group of each candidate (numbered from 0; its candidates share
    one input), ``n_groups`` how many there are.
    """

    method: str
    backend: str
    options: SolverOptions | AdamOptions
    chunk: int
    snap_tol: float
    tol: float
    scale: float
    group: np.ndarray
    n_groups: int


@dataclass(frozen=True)
class _SampleRoots:
    """The distinct roots of a shared-roots search's sample (its first pass), kept for
    the stages after the search.

    ``members`` are the sample's roots (candidate indices, ascending), ``labels`` their
    clusters at the de-duplication radius ``tol`` and ``reps`` (candidate indices) each
    cluster's representative, as :func:`~neurodyn.analysis.fixed_points.dedupe.cluster`
    formed them; ``residual`` (K, d) and ``jacobian`` (K, d, d) are the residuals and
    Jacobians at the representatives from which the balls of convergence were derived
    (None where none were).
    """

    members: np.ndarray
    labels: np.ndarray
    reps: np.ndarray
    tol: float
    residual: np.ndarray | None
    jacobian: np.ndarray | None


@dataclass
class _Solved:
    """Where every candidate ended: NumPy ``x (n, d), q, n_iter, code (n,)``, and
    ``source[i]``, the candidate whose root candidate i stopped at (-1 if none);
    ``sample``, the sample's roots where a first pass solved one."""

    x: np.ndarray
    q: np.ndarray
    n_iter: np.ndarray
    code: np.ndarray
    source: np.ndarray
    sample: _SampleRoots | None = None


def _run_adam(dyn, plan: _Plan, X, C) -> _Solved:
    """Adam on every candidate, on the torch device or in NumPy."""
    if plan.backend == "torch":
        ops = TORCH()
        xt = ops.asarray(X, ops.torch.zeros((), dtype=ops.torch.float64, device=dyn.device))
        out = solve_adam(dyn, ops, xt, dyn._prepare(ops, ops.asarray(C, xt)), plan.options)
        out = tuple(ops.to_numpy(a) for a in out)
    else:
        out = solve_adam(dyn, NUMPY, X, dyn._prepare(NUMPY, C), plan.options)
    return _Solved(*out, np.full(len(X), -1, dtype=np.int64))


class _Chunks:
    """Solves candidates chunk by chunk with the plan's Newton backend, updating the
    arrays x, q, n_iter, status and root (index of the known root a candidate stopped
    at) in place, and the progress bar."""

    def __init__(self, dyn, plan: _Plan, x, C, group, bar, threads):
        n = len(x)
        self.dyn, self.plan, self.x, self.C, self.group = dyn, plan, x, C, group
        self.bar, self.threads = bar, threads
        self.q = np.empty(n)
        self.n_iter, self.status = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
        self.root = np.full(n, -1, dtype=np.int64)
        bounds = dyn.state_bounds()
        if bounds is not None:  # float64, C-contiguous: as the compiled kernel reads them
            bounds = tuple(np.ascontiguousarray(b, dtype=np.float64) for b in bounds)
        self.bounds = bounds
        self.prepared = None  # the torch backend prepares each chunk on its device
        self.spec = dyn.kernel_spec() if plan.backend == "cpp" else None
        if plan.backend == "cpp":
            # One prepared input per input group: the kernel reads row group[k] for
            # candidate k. member[g] is some candidate of group g.
            member = np.zeros(plan.n_groups, dtype=np.int64)
            member[group] = np.arange(n)
            self.prepared = np.ascontiguousarray(dyn._prepare(NUMPY, C[member]))
        elif plan.backend == "numpy":
            self.prepared = np.ascontiguousarray(dyn._prepare(NUMPY, C))

    def __call__(self, begin: int, end: int, known: KnownRoots) -> None:
        for start in range(begin, end, self.plan.chunk):
            sl = slice(start, min(start + self.plan.chunk, end))
            self._solve(sl, known)
            if self.bar is not None:
                self.bar.update(sl.stop - sl.start)

    def _solve(self, sl: slice, known: KnownRoots) -> None:
        dyn, opts, backend = self.dyn, self.plan.options, self.plan.backend
        out = (self.q, self.n_iter, self.status, self.root)
        if backend == "cpp":  # the kernel writes into the arrays' slices
            views = tuple(a[sl] for a in out)
            kernel.solve(
                self.spec,
                self.prepared,
                self.group[sl],
                self.x[sl],
                opts,
                known,
                self.bounds,
                self.threads,
                views,
            )
            return
        if backend == "numpy":
            res = solve_batched(
                dyn, NUMPY, self.x[sl], self.prepared[sl], opts, known, self.group[sl], self.bounds
            )
        else:
            ops = TORCH()
            xt = ops.torch.as_tensor(self.x[sl], dtype=ops.torch.float64, device=dyn.device)
            ct = dyn._prepare(ops, ops.asarray(self.C[sl], xt))
            res = solve_batched(dyn, ops, xt, ct, opts, known, self.group[sl], self.bounds)
            res = tuple(ops.to_numpy(a) for a in res)
        for a, r in zip((self.x, *out), res, strict=True):
            a[sl] = r


def _run_newton(dyn, plan: _Plan, X, C, progress, threads) -> _Solved:
    """Newton on every candidate, on ``threads`` threads.

    With ``plan.snap_tol`` > 0, a sample of every ``SAMPLE_EVERY``-th candidate is
    solved first; its distinct roots become known roots at which the other candidates
    may stop (step 0 of :mod:`neurodyn.analysis.fixed_points.kernel`).
    """
    n = len(X)
    two_pass = _shares_roots(n, plan.snap_tol)
    order = np.arange(n)
    if two_pass:  # the sample first, then the rest
        rest = np.ones(n, dtype=bool)
        rest[::SAMPLE_EVERY] = False
        order = np.concatenate([order[::SAMPLE_EVERY], order[rest]])
    x, C, group = X[order], C[order], plan.group[order]
    # No bar at all where none is shown: even a disabled one costs 0.1 ms to set up.
    bar = (
        progress_bar(total=n, progress=progress, desc="fixed points", unit="candidate")
        if shows_bar(progress)
        else None
    )
    solve = _Chunks(dyn, plan, x, C, group, bar, threads)
    # The kernel's threads call LAPACK's LU (above kSmallLU = 48 units, newton_lu.h):
    # one BLAS thread inside each.
    blas = one_blas_thread() if plan.backend == "cpp" else contextlib.nullcontext()
    reps, sample = np.zeros(0, dtype=np.int64), None
    try:
        with blas:
            first = (n + SAMPLE_EVERY - 1) // SAMPLE_EVERY if two_pass else n
            solve(0, first, KnownRoots.none(dyn.n_state))
            if two_pass:
                roots = np.flatnonzero(solve.status[:first] == ROOT)
                groups = group[roots] if plan.n_groups > 1 else None  # None: one group
                labels, own = cluster(x[roots], solve.q[roots], plan.snap_tol, groups)
                reps = roots[own]
                radii, gate, r, A = _root_radii(dyn, x[reps], C[reps])
                known = KnownRoots(x[reps], solve.q[reps], group[reps], plan.snap_tol, radii, gate)
                solve(first, n, known)
                sample = _SampleRoots(order[roots], labels, order[reps], plan.snap_tol, r, A)
    finally:
        if bar is not None:
            bar.close()
    back = np.empty(n, dtype=np.int64)
    back[order] = np.arange(n)
    source = np.full(n, -1, dtype=np.int64)
    hit = solve.root >= 0
    source[hit] = order[reps[solve.root[hit]]]
    return _Solved(
        x[back], solve.q[back], solve.n_iter[back], solve.status[back], source[back], sample
    )


def find_fixed_points(
    dynamics,
    inputs=None,
    initial_states=None,
    *,
    method: str = "newton",
    backend: str = "auto",
    conditions=None,
    condition_names=None,
    input_names=None,
    tol_q: float | None = None,
    max_iter: int | None = None,
    unique_tol: float = 1e-3,
    marginal_tol: float = 1e-4,
    warmup: int = 0,
    share_roots: bool = True,
    options: SolverOptions | AdamOptions | None = None,
    chunk_size: int | None = None,
    linearize_points: bool = True,
    progress: bool = True,
    threads: int | None = None,
) -> FixedPoints:
    r"""Find the fixed points and slow points of ``dynamics`` from many initial states.

    Main arguments
    --------------
    dynamics : Dynamics or model
        A :class:`~neurodyn.dynamics.Dynamics`, or anything
        :func:`neurodyn.dynamics.dynamics` accepts (a RateRNN is analysed as its ODE).
    inputs : array (m,) or (n, m), optional
        Constant input of every candidate (one row each, or one for all); zero when
        omitted. See :func:`tile_conditions` for one input per condition.
    initial_states : array (n, d), n >= 1
        Where the candidates start; see :func:`sample_initial_states`.
    method : {"newton", "adam"}
        Damped Newton with a Levenberg–Marquardt safeguard and chord steps (default;
        see :class:`SolverOptions`), or
        FixedPointFinder's Adam on q (learning rate 1.0 with plateau decay, tol_q
        1e-12, up to 10 000 iterations) for comparison.
    backend : {"auto", "cpp", "numpy", "torch"}
        ``auto``: torch when the model lives on a GPU, else the compiled C++ kernel
        (``cpp``) where the model has its structure (rate RNNs, PyTorch RNN/GRU/LSTM)
        and neurodyn's extension is built, else NumPy (a build without a compiler
        says so once in the log). ``numpy`` is the plain reference implementation.
        The former ``"numba"`` is refused with a pointer to ``"cpp"``: it names code
        that no longer exists, and an alias would run something else under its name.

    Other arguments
    ---------------
    conditions : array of int (n,), optional
        Condition index of each candidate (labels only; de-duplication groups by input).
    condition_names, input_names : list of str, optional
        Labels for the result.
    tol_q : float, optional
        A candidate is a root when :math:`q = \tfrac12\|r\|^2 \le` ``tol_q``, in the
        residual's units: (state per step)² for maps, (state per ms)² for ODEs, so an
        ODE's tolerance does not depend on its time step. Default 1e-20 (Newton; a
        polishing step usually takes q far lower) or 1e-12 (Adam).
    max_iter : int, optional
        Iteration cap per candidate (default 200 for Newton, 10 000 for Adam). A
        Newton iteration is one Jacobian factorisation with the steps that use it.
    unique_tol : float
        Candidates closer than ``unique_tol`` × the RMS spread of the initial states
        (and with the same input and status) are one point; the one with the lowest q
        is kept. No point is ever dropped for being far from the others.
    marginal_tol : float
        Half-width of the marginal band of growth rates (per ms; per step without a
        time unit); see :func:`~neurodyn.analysis.linearize`.
    warmup : int
        Forward-iterate the initial states this many steps first (Euler steps for
        ODEs). This pulls candidates towards attractors, so it helps only when the
        stable points are all you want; the default 0 keeps saddles reachable.
    share_roots : bool
        Newton only: solve every ``SAMPLE_EVERY``-th (8th) candidate first, then let
        each of the others stop as soon as its own root lies within the de-duplication
        radius of a root found for the same input, and report that root (its
        ``n_iter`` counts the iterations it took). The distance to its own root is
        bounded by the geometric tail of its last two steps, the bound that also
        locates roots (it holds while the iteration keeps contracting). De-duplication
        would merge the two anyway, so the distinct fixed points are the same, for less
        work. For rate and Elman RNNs with smooth nonlinearities, whose Jacobians have
        a known Lipschitz constant L, a candidate also stops on entering a root's ball
        of convergence, radius :math:`2/(3\beta L)` with
        :math:`\beta \ge \|A(x^*)^{-1}\|`, from which Newton's iteration converges
        to that root. False carries every candidate to its own root. Fewer than
        ``2 * SAMPLE_EVERY`` candidates are always solved in one pass;
        ``info["share_roots"]`` says whether roots were shared.
    options : SolverOptions or AdamOptions, optional
        Full solver settings; ``tol_q`` and ``max_iter`` override them.
    chunk_size : int, optional
        Candidates per batch; bounds memory (batched backends hold chunk × d² Jacobians).
    linearize_points : bool
        Compute Jacobians, eigenmodes, stability and selection vectors.
    progress : bool or {"auto", "never", "always"}
        Show a progress bar (where the output is a terminal or a notebook; see
        :mod:`neurodyn.progress`).
    threads : int, optional
        Threads for the search and the linearization; by default chosen from the
        work (about 5 n d³ floating-point operations for Newton) and the cores other
        processes leave free (:mod:`neurodyn.threads`).

    Returns
    -------
    FixedPoints
        Distinct roots and slow points with their linearization, and every candidate
        (``.candidates``), failures included, each with its reason (``diverged``,
        ``singular``, ``stalled``, ``max_iter``, ``left_state_set``). ``info`` records
        the settings, the thread count, the failures by reason (``failures``) and the
        time spent in the search (``elapsed_s``) and in the linearization
        (``linearize_s``), in seconds.

    Raises
    ------
    ValueError
        On missing, empty or NaN initial states, inputs of the wrong size, an unknown
        method or backend, or a backend that cannot run this model here.

    Examples
    --------
    A linear map :math:`x \mapsto Mx + b` has one fixed point, :math:`(I - M)^{-1}b`:

    >>> from neurodyn.dynamics import FunctionDynamics
    >>> M, b = np.array([[0.5, 0.2], [0.0, 0.3]]), np.array([1.0, 2.0])
    >>> dyn = FunctionDynamics(lambda x, u: x @ M.T + b, n_state=2, jacobian=lambda x, u:
    ...                        np.broadcast_to(M, (len(x), 2, 2)))
    >>> fps = find_fixed_points(dyn, None, np.random.default_rng(0).normal(size=(8, 2)),
    ...                         progress=False)
    >>> np.allclose(fps.x, np.linalg.solve(np.eye(2) - M, b)), fps.summary()["stable"]
    (True, 1)
    """
    dyn = dynamics if isinstance(dynamics, Dynamics) else as_dynamics(dynamics)
    method = check_choice("method", method, METHODS)
    X0, U, cond, condition_names = _check_states_and_inputs(
        dyn, initial_states, inputs, conditions, condition_names, input_names
    )
    backend = _pick_backend(dyn, backend, method)
    check_positive("unique_tol", unique_tol, allow_zero=True)
    check_positive("marginal_tol", marginal_tol, allow_zero=True)
    if not isinstance(share_roots, (bool, np.bool_)):
        raise ValueError(f"share_roots must be True or False, got {share_roots!r}")
    check_int("warmup", warmup, low=0)
    threads = check_threads(threads)
    check_progress(progress)
    if chunk_size is not None:
        chunk_size = check_int("chunk_size", chunk_size)
    plan = _plan(
        dyn, method, backend, X0, U, options, tol_q, max_iter, unique_tol, share_roots, chunk_size
    )
    n, d = X0.shape
    work = _work(method, backend, n, d, plan.chunk)
    with limit(threads, work=work, what="find_fixed_points") as n_threads:
        start = time.perf_counter()
        X = _warmup(dyn, X0, U, warmup)
        if method == "adam":
            solved = _run_adam(dyn, plan, X, U)
        else:
            solved = _run_newton(dyn, plan, X, U, progress, n_threads)
        elapsed = time.perf_counter() - start
        fixed_point, reps = _distinct(solved, plan.group, plan.tol)
        lin_start = time.perf_counter()
        lin, speed = _linearize(
            dyn,
            solved.x[reps],
            U[reps],
            linearize_points,
            marginal_tol,
            n_threads,
            _evaluated(solved.sample, reps),
        )
        linearize_s = time.perf_counter() - lin_start
    info = {
        "method": method,
        "backend": backend,
        "threads": int(n_threads),
        "options": dict(vars(plan.options)),
        "unique_tol": unique_tol,
        "state_scale": plan.scale,
        "marginal_tol": marginal_tol,
        "warmup": int(warmup),
        "share_roots": _shares_roots(n, plan.snap_tol),
        "n_candidates": n,
        "failures": _failures(solved.code, n),
        "elapsed_s": elapsed,
        "linearize_s": linearize_s,
    }
    return _label(
        dyn, X0, U, cond, solved, fixed_point, reps, lin, speed, info, condition_names, input_names
    )


def _plan(
    dyn, method, backend, X0, U, options, tol_q, max_iter, unique_tol, share_roots, chunk_size
) -> _Plan:
    """The settings of the search, from the validated arguments."""
    scale = state_scale(X0)
    n, d = X0.shape
    if chunk_size is None:
        # Batched backends hold a few chunk × d × d arrays: keep them near 256 MB.
        chunk_size = 4096 if backend == "cpp" else int(np.clip(2**28 // (32 * d * d), 64, 1 << 16))
    if np.all(U[0] == U):  # one input for all: skip the row sort of np.unique
        group, n_groups = np.zeros(n, dtype=np.int64), 1
    else:
        group = np.unique(U, axis=0, return_inverse=True)[1].ravel()
        n_groups = int(group.max()) + 1
    return _Plan(
        method=method,
        backend=backend,
        options=_options(method, options, tol_q, max_iter, X0, scale),
        chunk=chunk_size,
        snap_tol=unique_tol * scale if share_roots and method == "newton" else 0.0,
        tol=unique_tol * scale,
        scale=scale,
        group=group,
        n_groups=n_groups,
    )


def _linearize(dyn, x, U, linearize_points, marginal_tol, threads, evaluated=None):
    """The linearization at the distinct points x with inputs U (None when not asked
    for) and their speed, the residual's norm per ms (per step for maps).

    ``evaluated``: the residuals and Jacobians at x where the search already has them
    (see :func:`_evaluated`), else None.
    """
    c = dyn._prepare(NUMPY, U)
    lin = None
    if linearize_points and len(x):
        # The residual comes with the Jacobian the linearization needs anyway.
        r, A = dyn._residual_jacobian(NUMPY, x, c) if evaluated is None else evaluated
        lin = linearize_prepared(dyn, x, c, A, marginal_tol, threads)
    else:
        r = dyn._residual(NUMPY, x, c) if evaluated is None else evaluated[0]
    r = np.asarray(r)
    return lin, np.sqrt(np.sum(r**2, axis=1)) / (dyn.dt if dyn.kind == "map" else 1.0)


def _evaluated(sample: _SampleRoots | None, reps):
    """``(residual, jacobian)`` at the distinct points ``reps`` (candidate indices)
    where they are the sample's representatives and the balls of convergence evaluated
    both there (the usual case: every other candidate stopped at one of them), else None."""
    if sample is None or sample.jacobian is None or not np.array_equal(reps, sample.reps):
        return None
    return sample.residual, sample.jacobian


def _failures(code, n: int) -> dict[str, int]:
    """The number of failed candidates by reason (logged where any failed)."""
    by_code = np.bincount(code, minlength=len(_REASON))
    failures = {str(k): int(by_code[c]) for c, k in enumerate(_REASON) if k}
    if any(failures.values()):
        counts = {k: v for k, v in failures.items() if v}
        logger.info("%d of %d candidates failed: %s", sum(counts.values()), n, counts)
    return failures


def _label(
    dyn,
    X0,
    U,
    cond,
    solved: _Solved,
    fixed_point,
    reps,
    lin,
    speed,
    info,
    condition_names,
    input_names,
) -> FixedPoints:
    """The result: the distinct points ``reps`` and every candidate, labelled."""
    status, reason = _STATUS[solved.code], _REASON[solved.code]
    x, q, n_iter = solved.x, solved.q, solved.n_iter
    good = fixed_point >= 0
    return FixedPoints(
        x=x[reps],
        inputs=U[reps],
        q=q[reps],
        speed=speed,
        status=status[reps],
        n_iter=n_iter[reps],
        n_candidates=np.bincount(fixed_point[good], minlength=len(reps)).astype(np.int64),
        condition=cond[reps],
        linearization=lin,
        candidates=Candidates(X0, x, U, q, n_iter, status, reason, fixed_point, cond),
        kind=dyn.kind,
        dt=dyn.dt,
        time_unit=dyn.time_unit,
        state_dim=dyn.state_dim,
        condition_names=list(condition_names),
        input_names=None if input_names is None else list(input_names),
        state_coords=dyn.state_coords(),
        info=info,
    )


def _check_states_and_inputs(dyn, initial_states, inputs, conditions, condition_names, input_names):
    """Validated ``(X0 (n, d), U (n, m), conditions (n,), condition_names)``."""
    if initial_states is None:
        raise ValueError(
            "initial_states is required: an array (n, n_state), e.g. from "
            "sample_initial_states(simulated_states, 1024)"
        )
    X0 = dyn.check_states(initial_states, "initial_states")
    n = len(X0)
    if n == 0:
        raise ValueError(
            f"initial_states has shape {np.shape(initial_states)}: no initial states; "
            f"expected at least one row of n_state={dyn.n_state} values"
        )
    U = dyn.check_inputs(inputs, n, "inputs")
    cond = np.zeros(n, dtype=np.int64) if conditions is None else np.asarray(conditions)
    if cond.shape != (n,):
        raise ValueError(f"conditions has shape {cond.shape}; expected ({n},)")
    if condition_names is None:
        condition_names = (
            [str(i) for i in range(int(cond.max()) + 1)] if conditions is not None else ["all"]
        )
    if input_names is not None and len(input_names) != dyn.n_input:
        raise ValueError(
            f"input_names has {len(input_names)} names; the system has {dyn.n_input} inputs"
        )
    return X0, U, cond, condition_names


def _options(method, options, tol_q, max_iter, X0, scale):
    """The solver settings: ``options`` or the defaults for ``method`` (state scale and
    magnitude from the initial states), with ``tol_q`` and ``max_iter`` applied."""
    default_cls = SolverOptions if method == "newton" else AdamOptions
    if options is None:
        options = (
            SolverOptions(
                max_step=2.0 * scale,
                length=scale,
                x_max=1e6 * max(1.0, float(np.abs(X0).max())),
            )
            if method == "newton"
            else AdamOptions()
        )
    elif not isinstance(options, default_cls):
        raise ValueError(f"options for method={method!r} must be a {default_cls.__name__}")
    overrides = {}
    if tol_q is not None:
        overrides["tol_q"] = check_positive("tol_q", tol_q, allow_zero=True)
    if max_iter is not None:
        overrides["max_iter"] = check_int("max_iter", max_iter)
    return replace(options, **overrides) if overrides else options


def _warmup(dyn, X0, U, warmup: int):
    """The initial states after ``warmup`` forward steps (Euler steps for ODEs); X0
    itself without (the search works on a reordered copy)."""
    if warmup == 0:
        return X0
    sch = scheme(dyn, "map" if dyn.kind == "map" else "euler")
    f = residual_field(dyn, U, len(X0))
    X = X0
    for _ in range(warmup):
        X = sch.step(f, X)
        if not np.all(np.isfinite(X)):
            raise ValueError("the warm-up diverged; use warmup=0 or smaller initial states")
    return X


def _distinct(solved: _Solved, input_group, tol):
    """De-duplicate the candidates that did not fail (solver ``code`` ROOT or SLOW):
    ``(fixed_point (n,), reps (k,))``, the cluster of each candidate (-1 for failures)
    and each cluster's representative.

    Candidates that stopped at a root of the sample hold a copy of that candidate's x
    and q, so they fall in its cluster: only the others are compared. Where those are
    the sample's roots alone (every other candidate stopped at one of them or failed),
    the clusters are the ones the search formed of them at the same radius: the same
    states and q in the same order, and roots all (of one status), so that their
    groups below (2 × input group) separate exactly as the input groups did.
    """
    x, q, code, source = solved.x, solved.q, solved.code, solved.source
    good = np.flatnonzero((code == ROOT) | (code == SLOW))
    own = good[source[good] < 0]
    sample = solved.sample
    if sample is not None and sample.tol == tol and np.array_equal(own, sample.members):
        labels, reps = sample.labels, sample.reps
    else:
        groups = input_group[own] * 2 + (code[own] == SLOW)
        labels, first = cluster(x[own], q[own], tol, groups)
        reps = own[first]
    fixed_point = np.full(len(x), -1, dtype=np.int64)
    fixed_point[own] = labels
    copies = good[source[good] >= 0]
    fixed_point[copies] = fixed_point[source[copies]]
    return fixed_point, reps
