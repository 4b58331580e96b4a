"""Shared test set-up: float64 where precision matters, quiet threads, no GUI."""

import matplotlib
import pytest
import torch

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _few_threads():
    # Two cores on CI: one intra-op thread keeps timings and results stable.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
