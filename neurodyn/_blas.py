"""One BLAS thread, for code that already runs on several threads of its own.

The Numba kernels parallelise over candidates or matrices, and each of their threads
may call LAPACK; a multithreaded BLAS inside every one of them would oversubscribe the
cores. Small products called in a loop (a readout's L-BFGS fit) gain nothing from BLAS
threads either, and on a busy machine threads competing with other work slow them down
by orders of magnitude.
"""

from __future__ import annotations

import contextlib

from threadpoolctl import ThreadpoolController

__all__ = ["one_blas_thread"]

_CONTROLLER = None


def one_blas_thread():
    """A context manager that limits every loaded BLAS library to one thread.

    Restores the previous limits on exit. The threadpoolctl controller, whose
    construction scans every loaded library (tens of microseconds), is built once, at
    the first call: a BLAS library first loaded after that is not limited. Where every
    BLAS library already runs one thread (``OPENBLAS_NUM_THREADS=1``, or inside another
    such limit), the context does nothing: setting and restoring the limits costs about
    0.1 ms, a few percent of a fixed-point search on a small network.

    Examples
    --------
    >>> import numpy as np
    >>> with one_blas_thread():
    ...     _ = np.ones((2, 2)) @ np.ones((2, 2))
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    blas = [lib for lib in _CONTROLLER.lib_controllers if lib.user_api == "blas"]
    if all(lib.num_threads == 1 for lib in blas):
        return contextlib.nullcontext()
    return _CONTROLLER.limit(limits=1, user_api="blas")
