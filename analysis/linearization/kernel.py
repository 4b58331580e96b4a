r"""Eigendecomposition of a batch of real matrices: compiled, on threads, with a NumPy reference.

Private; :func:`neurodyn.analysis.linearization.linearize.eigenmodes` and
:func:`~neurodyn.analysis.linearize` call :func:`modes`. ``np.linalg.eig`` runs its
batch on one thread, one LAPACK ``dgeev`` call per matrix, and for the few dozen
small Jacobians of a network's fixed points most of ``dgeev``'s time is overhead
(about 75 µs for a 16 × 16 matrix). The compiled kernel (``csrc/cpu/eig_cpu.cpp``,
built with neurodyn) shares the matrices among OpenMP threads and decomposes each
up to ``SMALL`` × ``SMALL`` with its own Hessenberg reduction, Francis double-shift
QR and back substitution (``csrc/cpu/hqr_cpu.cpp``), and above that, or should that
QR iteration not converge, with the same ``dgeev`` as NumPy (SciPy's LAPACK).

Either way each eigenvector has unit Euclidean norm and its largest component real
and positive (the *standard phase*: the eigen-equation leaves the phase free, and
fixing it makes the result independent of the routine), a complex pair's vectors
are conjugate, and :math:`R^{-1}` comes with them: computed from the real
eigenvector matrix V of ``dgeev``'s layout (a pair :math:`v_r \pm i v_i` as the
columns :math:`(v_r, v_i)`), as :math:`R = VS` with
:math:`S = \begin{pmatrix}1 & 1\\ i & -i\end{pmatrix}` on each pair's columns, so
:math:`R^{-1} = S^{-1}V^{-1}` from V's real LU factors. Where R is singular to
working precision, :math:`\|R\|_\infty\|R^{-1}\|_\infty \ge 1/\varepsilon` (a
defective matrix, whose computed eigenvectors are equal or nearly so), the
pseudo-inverse takes its place: it still gives left vectors for the modes that exist.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ... import backends
from ...threads import one_blas_thread

__all__ = ["SMALL", "modes", "modes_numpy", "order_modes"]

#: Matrices up to this order are decomposed by the compiled QR of ``hqr_cpu.cpp``,
#: larger ones by LAPACK's ``dgeev``: measured against SciPy's OpenBLAS ``dgeev``, the
#: compiled one is several times faster at 16 × 16 and still ahead at 64, where
#: LAPACK's blocked algorithms start to pay.
SMALL = 64

#: QR sweeps allowed per eigenvalue (on average) before the compiled QR hands a matrix
#: to ``dgeev``; the Francis iteration needs about two.
SWEEPS = 30

#: Above this order the compiled kernels (this one's eigenvector inverse and the
#: fixed-point kernel) factor matrices with LAPACK (``kSmallLU`` in
#: ``csrc/include/neurodyn/newton_lu.h``), below with their own LU: only then do their
#: threads call BLAS.
LAPACK_LU = 48

#: Below this much work (k d³) the batch stays on the calling thread: a parallel
#: region costs microseconds, and on a shared machine it may wait for a thread that
#: another process displaced.
MIN_PARALLEL_WORK = 10_000


def modes(J, B=None, *, is_map: bool, dt: float = 1.0, threads: int = 1, backend: str = "auto"):
    r"""Sorted eigenmodes of a batch of real matrices, with left vectors and selection vectors.

    Parameters
    ----------
    J : array (k, d, d)
        Real matrices (Jacobians).
    B : array (k, d, m), optional
        Input Jacobians; ``proj`` is then :math:`R^{-1}B` (m = 0 when omitted).
    is_map, dt
        Growth rates are :math:`\ln|\lambda|/\Delta t` for a map and
        :math:`\mathrm{Re}\,\lambda` for an ODE; frequencies in Hz
        (:mod:`neurodyn.analysis.linearization.linearize`).
    threads : int
        Threads to share the batch among (the compiled kernel).
    backend : {"auto", "cpp", "numpy"}
        ``auto``: the compiled kernel where neurodyn's extension is built, else NumPy
        (:func:`modes_numpy`).

    Returns
    -------
    eigenvalues : complex (k, d)
        Sorted by growth rate, most unstable first (:func:`order_modes`).
    right, left : complex (k, d, d)
        Unit right eigenvectors (standard phase) and left eigenvectors as columns,
        :math:`l_j^H r_i = \delta_{ij}`.
    growth_rate, frequency : (k, d)
    proj : complex (k, d, m)
        :math:`l_j^H B`.

    Raises
    ------
    numpy.linalg.LinAlgError
        On NaN or infinite entries, or where the QR algorithm fails to converge.

    Examples
    --------
    >>> lam, *_ = modes(np.array([[[0.0, -1.0], [1.0, 0.0]]]), is_map=False)
    >>> lam.round(12).tolist()
    [[1j, -1j]]
    """
    J = np.ascontiguousarray(J, dtype=np.float64)
    k, d = J.shape[0], J.shape[-1]
    B = np.zeros((k, d, 0)) if B is None else np.ascontiguousarray(B, dtype=np.float64)
    module = backends.get_module("cpp") if backend != "numpy" else None
    if module is None:
        if backend == "auto":
            backends.resolve_backend("auto")  # says once that the extension is missing
        return modes_numpy(J, B, is_map=is_map, dt=dt)
    m = B.shape[-1]
    if k == 0 or d == 0:
        c = np.complex128
        return (
            np.empty((k, d), c),
            np.empty((k, d, d), c),
            np.empty((k, d, d), c),
            np.empty((k, d)),
            np.empty((k, d)),
            np.empty((k, d, m), c),
        )
    lam = np.empty((k, d), dtype=np.complex128)
    growth, freq = np.empty((k, d)), np.empty((k, d))
    right = np.empty((k, d, d), dtype=np.complex128)
    left = np.empty((k, d, d), dtype=np.complex128)
    proj = np.empty((k, d, m), dtype=np.complex128)
    info = np.zeros(k, dtype=np.int32)
    singular = np.zeros(k, dtype=np.uint8)
    n = int(threads) if k >= 2 and k * d**3 >= MIN_PARALLEL_WORK else 1
    # LAPACK, where called (dgeev above SMALL, the LU of the inverse above LAPACK_LU),
    # runs inside the kernel's threads: one BLAS thread in each. (A multithreaded
    # OpenBLAS called from OpenMP threads warns that it may hang, and oversubscribes.)
    lapack = d > min(SMALL, LAPACK_LU)
    blas = one_blas_thread() if n > 1 and lapack else contextlib.nullcontext()
    with blas:
        module.eig_modes(
            J,
            B,
            bool(is_map),
            float(dt),
            lam,
            growth,
            freq,
            right,
            left,
            proj,
            info,
            singular,
            SMALL,
            SWEEPS,
            n,
        )
    if np.any(info != 0):
        bad = info != 0
        if np.any(info[bad] < 0):
            raise np.linalg.LinAlgError("Array must not contain infs or NaNs")
        raise np.linalg.LinAlgError(
            f"eigenvalues did not converge for {int(np.sum(bad))} of {k} matrices"
        )
    bad = np.flatnonzero(singular)
    if len(bad):
        # The pseudo-inverse of the sorted vectors is R⁻¹ with its rows sorted alike.
        Rinv = np.linalg.pinv(right[bad])
        left[bad] = np.conj(np.swapaxes(Rinv, 1, 2))
        proj[bad] = Rinv @ B[bad]
    return lam, right, left, growth, freq, proj


def growth_and_frequency(lam, is_map: bool, dt: float):
    """Growth rate and frequency (Hz) of each eigenvalue, as in
    :mod:`neurodyn.analysis.linearization.linearize`."""
    if is_map:
        with np.errstate(divide="ignore"):  # λ = 0: growth -inf
            growth = np.log(np.abs(lam)) / dt
        return growth, np.angle(lam) / (2.0 * np.pi * dt) * 1000.0
    return lam.real.copy(), lam.imag / (2.0 * np.pi) * 1000.0


def order_modes(lam, is_map: bool, dt: float):
    r"""Sort each row of eigenvalues, most unstable first.

    Returns ``(order, eigenvalues, growth_rate, frequency)``, all sorted. Ties in growth
    (complex pairs, repeated eigenvalues) put the larger imaginary part first and
    otherwise keep the solver's order (a stable lexicographic sort).

    Parameters
    ----------
    lam : complex array (k, d)
        Eigenvalues, one row per matrix, in any order.
    is_map : bool
        True for the Jacobians of a map :math:`x_{t+1} = F(x_t)`: growth rate
        :math:`\ln|\lambda|/\Delta t` and frequency :math:`\arg\lambda/(2\pi\Delta t)`;
        False for an ODE: :math:`\mathrm{Re}\,\lambda` and
        :math:`\mathrm{Im}\,\lambda/(2\pi)`.
    dt : float
        Time step Δt of a map, in ms (frequencies are in Hz: per 1000 time units).

    Returns
    -------
    order : int array (k, d)
        The permutation that sorts each row.
    eigenvalues : complex array (k, d)
    growth_rate, frequency : array (k, d)
        Per time unit, and in Hz.

    Examples
    --------
    The eigenvalues of a map with a 10 ms step; the pair :math:`0.6 \pm 0.6i` turns by
    π/4 per step, 12.5 turns a second:

    >>> order, lam, growth, freq = order_modes(np.array([[0.5, 1.2, 0.6 + 0.6j, 0.6 - 0.6j]]),
    ...                                        is_map=True, dt=10.0)
    >>> order.tolist(), lam.tolist()
    ([[1, 2, 3, 0]], [[(1.2+0j), (0.6+0.6j), (0.6-0.6j), (0.5+0j)]])
    >>> bool(np.allclose(growth, np.log(np.abs(lam)) / 10.0)), freq.round(6).tolist()
    (True, [[0.0, 12.5, -12.5, 0.0]])
    """
    growth, freq = growth_and_frequency(lam, is_map, dt)
    order = np.lexsort((-lam.imag, -growth), axis=-1)
    rows = np.arange(len(lam))[:, None]
    return order, lam[rows, order], growth[rows, order], freq[rows, order]


def standard_phase(R):
    """Eigenvectors (columns of each R[k]) scaled so that the largest component of each
    is real and positive (the first of equal largest ones). A complex pair's vectors
    stay conjugate: their largest components sit at the same place."""
    big = np.argmax(np.abs(R) ** 2, axis=1)  # (k, d): row of each column's largest entry
    z = np.take_along_axis(R, big[:, None, :], axis=1)  # (k, 1, d)
    return R * (np.conj(z) / np.abs(z))


def inverse_numpy(R):
    """R⁻¹ of each eigenvector matrix; the pseudo-inverse where R is singular to working
    precision (see the module docstring)."""
    k = len(R)
    Rinv = np.empty_like(R)
    singular = np.zeros(k, dtype=bool)
    try:
        Rinv[:] = np.linalg.inv(R)
    except np.linalg.LinAlgError:  # one exactly singular matrix fails the batch
        for m in range(k):
            try:
                Rinv[m] = np.linalg.inv(R[m])
            except np.linalg.LinAlgError:
                singular[m] = True
    with np.errstate(invalid="ignore", over="ignore"):
        cond = np.max(np.sum(np.abs(R), axis=2), axis=1) * np.max(
            np.sum(np.abs(Rinv), axis=2), axis=1
        )
    singular |= ~(cond * np.finfo(np.float64).eps < 1.0)  # NaN counts as singular
    if singular.any():
        Rinv[singular] = np.linalg.pinv(R[singular])
    return Rinv


def modes_numpy(J, B=None, *, is_map: bool, dt: float = 1.0):
    r""":func:`modes` by NumPy (LAPACK's ``dgeev`` per matrix): the reference, and the
    path of a build without the compiled kernels.

    Parameters
    ----------
    J : array (k, d, d)
        Real matrices (Jacobians).
    B : array (k, d, m), optional
        Input Jacobians; ``proj`` is then :math:`R^{-1}B` (m = 0 when omitted).
    is_map : bool
        Growth rates :math:`\ln|\lambda|/\Delta t` for a map, :math:`\mathrm{Re}\,\lambda`
        for an ODE (see :func:`order_modes`).
    dt : float
        Time step Δt of a map, in ms; frequencies are in Hz.

    Returns
    -------
    eigenvalues, right, left, growth_rate, frequency, proj
        As :func:`modes` returns them.

    Examples
    --------
    A damped rotation, :math:`\lambda = -0.1 \pm 2\pi \cdot 0.005\,i` per ms, turns at
    5 Hz; its left and right eigenvectors are biorthogonal, :math:`L^H R = I`:

    >>> w = 2 * np.pi * 0.005
    >>> J = np.array([[[-0.1, -w], [w, -0.1]], [[0.5, 0.0], [0.0, -1.0]]])
    >>> lam, right, left, growth, freq, proj = modes_numpy(J, is_map=False)
    >>> growth.round(6).tolist(), freq.round(6).tolist()
    ([[-0.1, -0.1], [0.5, -1.0]], [[5.0, -5.0], [0.0, 0.0]])
    >>> bool(np.allclose(np.conj(np.swapaxes(left, 1, 2)) @ right, np.eye(2)))
    True
    >>> bool(np.allclose(J @ right, right * lam[:, None, :])), proj.shape
    (True, (2, 2, 0))
    """
    J = np.asarray(J, dtype=np.float64)
    B = np.zeros((len(J), J.shape[-1], 0)) if B is None else np.asarray(B, dtype=np.float64)
    lam, R = np.linalg.eig(J)
    R = standard_phase(R.astype(np.complex128))
    Rinv = inverse_numpy(R)
    order, lam, growth, freq = order_modes(lam.astype(np.complex128), is_map, float(dt))
    # Sorting permutes R's columns, and so R⁻¹'s rows; left vectors are their conjugates.
    right = np.take_along_axis(R, order[:, None, :], axis=2)
    Rinv = np.take_along_axis(Rinv, order[:, :, None], axis=1)
    left = np.conj(np.swapaxes(Rinv, 1, 2))
    return lam, right, left, growth, freq, Rinv @ B
