"""Shared test set-up: one intra-op thread, no GUI."""

import matplotlib
import torch

matplotlib.use("Agg")


def pytest_configure(config):
    # Two cores on CI, shared with Numba and BLAS: one torch thread keeps results
    # deterministic and avoids oversubscription. Set here, not in a fixture, so
    # module- and session-scoped fixtures (which train networks) get it too.
    torch.set_num_threads(1)
