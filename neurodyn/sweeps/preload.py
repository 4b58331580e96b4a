"""Everything a sweep's run needs, loaded once in the process its workers are forked from.

A training run's first call in a new process costs seconds before the first step:
importing neurodyn, PyTorch and xarray (about 2 s on one core), ``torch._dynamo``
(about 1 s, which every :mod:`torch.optim` optimizer imports on its first call),
matplotlib's pyplot and its first text layout (about 0.5 s), and the dask.array module
that xarray loads when it first builds a Dataset. Nothing of it is compiled code that
a build step could produce ahead of time (a run calls no Numba function, and PyTorch
compiles nothing here): it is module loading and first-call set-up, repeated by every
fresh Python process.

The local cluster of :func:`neurodyn.sweep` therefore starts its workers with
multiprocessing's ``forkserver`` method and names this module in the server's preload
list: the server imports it once, and every worker process (the first ones, those that
replace a worker that died, and those of later sweeps from the same Python process) is
a fork of the server and starts with all of it loaded, sharing its memory pages.

Importing this module does that work and nothing else: it starts no thread (a process
that forks should have one only; in the server, the environment dask gives worker
processes holds the BLAS libraries at one thread), leaves no file behind, and enters no
parallel region of the thread pools (a fork after an OpenMP region is unsafe with GNU
OpenMP). A step of the warm-up that fails is left to the runs, which do the same work
themselves.
"""

from __future__ import annotations

import io
import logging
import tempfile
from pathlib import Path

__all__ = ["warm_up"]

logger = logging.getLogger(__name__)


def warm_up() -> None:
    """Import what a run imports and make its first calls, on objects of size one.

    Meant for the fork server (importing this module calls it): it also selects
    matplotlib's file-only backend, Agg, for the process.

    Examples
    --------
    Calling it again does the same cheap work once more and leaves matplotlib on Agg:

    >>> import sys
    >>> import matplotlib
    >>> warm_up()
    >>> matplotlib.get_backend().lower(), "torch._dynamo" in sys.modules
    ('agg', True)
    """
    # Imported here, not at the top of the module, so that the failure of any step (a
    # broken matplotlib installation, say) leaves the fork server working: it survives
    # an ImportError of a module it preloads, and nothing else.
    import matplotlib

    matplotlib.use("Agg")  # the workers draw into files only; no GUI toolkit is looked for
    import matplotlib.pyplot as plt
    import numpy as np
    import torch
    import xarray as xr

    # What ``neurodyn.sweeps.point`` imports, and the modules of the figures a run
    # folder holds (training, then the analyses').
    from ..io.datasets import save_dataset
    from ..plotting import files, fixed_points, phase_portraits, training, trials  # noqa: F401
    from . import point  # noqa: F401

    # An optimizer's first call imports torch._dynamo (torch.optim wraps its methods
    # so that the compiler skips them), its first step the profiler's hooks. No
    # parameter has a gradient: the step changes nothing.
    weight = torch.zeros(1, requires_grad=True)
    torch.optim.Adam([weight]).step()
    torch.save({"weight": weight.detach()}, io.BytesIO())  # checkpoints
    # Building a Dataset checks its data against the duck-array types installed
    # (dask's), which imports them; writing it loads the netCDF engine.
    with tempfile.TemporaryDirectory() as tmp:
        save_dataset(xr.Dataset({"x": ("t", np.zeros(1))}), Path(tmp) / "warm-up.nc")
    # A figure with a title and tick labels, drawn: font lookup and text layout.
    fig, ax = plt.subplots()
    ax.plot([0.0, 1.0])
    ax.set_title("$x$")
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


try:
    warm_up()
except Exception:  # the warm-up only saves time: each run does the same work itself
    logger.debug("warm-up of worker processes incomplete", exc_info=True)
