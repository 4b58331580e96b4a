"""One BLAS thread, for code that already runs on several threads of its own.

The Numba kernels parallelise over candidates or matrices, and each of their threads
may call LAPACK; a multithreaded BLAS inside every one of them would oversubscribe the
cores. Small products called in a loop (a readout's L-BFGS fit) gain nothing from BLAS
threads either, and on a busy machine threads competing with other work slow them down
by orders of magnitude.
"""

from __future__ import annotations

import contextlib

__all__ = ["one_blas_thread"]

_CONTROLLER = None


def one_blas_thread():
    """A context manager that limits every loaded BLAS library to one thread.

    Uses threadpoolctl when it is installed (scikit-learn, a dependency, brings it) and
    restores the previous limits on exit; without it BLAS keeps its own setting. The
    controller, whose construction scans every loaded library (tens of microseconds),
    is built once, at the first call.

    Examples
    --------
    >>> import numpy as np
    >>> with one_blas_thread():
    ...     _ = np.ones((2, 2)) @ np.ones((2, 2))
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _CONTROLLER = False
        else:
            _CONTROLLER = ThreadpoolController()
    if _CONTROLLER is False:
        return contextlib.nullcontext()
    return _CONTROLLER.limit(limits=1, user_api="blas")
