"""Shared test set-up: one thread, no GUI, and the test systems of ``tests/support``."""

import os
import sys
from pathlib import Path

import matplotlib
import torch

matplotlib.use("Agg")

# Systems and networks several test folders share (``toolbox_systems``,
# ``lyapunov_systems``, ``spiking_nets``), importable by name from any of them.
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))


def pytest_configure(config):
    # Two cores on CI, shared with Numba and BLAS: one torch thread keeps results
    # deterministic and avoids oversubscription. Set here, not in a fixture, so
    # module- and session-scoped fixtures (which train networks) get it too.
    torch.set_num_threads(1)
    # neurodyn's thread policy (neurodyn.threads) never exceeds OMP_NUM_THREADS, so
    # every call runs on one thread too and two runs of the same training match
    # bit for bit whatever the machine's load. tests/test_threads.py checks the
    # policy itself, and tests that need several threads ask for them (threads=2).
    # A value already set is kept, so the suite can also be run with more threads.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
