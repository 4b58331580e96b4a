"""One BLAS thread, for code that already runs on several threads of its own.

The Numba kernels parallelise over candidates or matrices, and each of their threads
may call LAPACK; a multithreaded BLAS inside every one of them would oversubscribe the
cores. Small products called in a loop (a readout's L-BFGS fit) gain nothing from BLAS
threads either, and on a busy machine threads competing with other work slow them down
by orders of magnitude.
"""

from __future__ import annotations

from threadpoolctl import ThreadpoolController

__all__ = ["one_blas_thread"]

_CONTROLLER = None


def one_blas_thread():
    """A context manager that limits every loaded BLAS library to one thread.

    Restores the previous limits on exit. The threadpoolctl controller, whose
    construction scans every loaded library (tens of microseconds), is built once, at
    the first call: a BLAS library first loaded after that is not limited.

    Examples
    --------
    >>> import numpy as np
    >>> with one_blas_thread():
    ...     _ = np.ones((2, 2)) @ np.ones((2, 2))
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")
