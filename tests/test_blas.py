"""BLAS runs on one thread wherever the compiled kernel's threads call LAPACK, and the
limit is undone after."""

import numpy as np
import pytest
import threadpoolctl

from neurodyn.analysis import find_fixed_points
from neurodyn.analysis.fixed_points import kernel as _newton
from neurodyn.threads import one_blas_thread


def blas_threads():
    return {
        info["filepath"]: info["num_threads"]
        for info in threadpoolctl.threadpool_info()
        if info["user_api"] == "blas"
    }


@pytest.fixture
def two_blas_threads():
    """BLAS set to two threads around the test, so that a missing limit shows."""
    # NumPy and SciPy always load one (OpenBLAS in their wheels): with none found the
    # limit would do nothing, and the tests below could not tell.
    assert blas_threads(), "threadpoolctl finds no BLAS library to limit"
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        before = blas_threads()
        yield before


def test_limit_inside_and_restored_after(two_blas_threads):
    with one_blas_thread():
        assert set(blas_threads().values()) == {1}
    assert blas_threads() == two_blas_threads


def recording(monkeypatch):
    """Wrap the kernel's entry point so that it records BLAS's threads at each call."""
    seen, module = [], _newton._module()

    class Recorder:
        def __getattr__(self, name):
            return getattr(module, name)

        def newton_solve(self, *args):
            seen.append(set(blas_threads().values()))
            return module.newton_solve(*args)

    monkeypatch.setattr(_newton, "_module", Recorder)
    return seen


@pytest.mark.parametrize("d", [6, 60])  # the kernel's own LU, and LAPACK's above 48 units
def test_compiled_kernel_runs_with_one_blas_thread(two_blas_threads, monkeypatch, d):
    from neurodyn.rnn_models import RateRNN

    seen = recording(monkeypatch)
    net = RateRNN(2, d, 1, dt=10.0, tau=30.0, seed=0)
    x0 = np.random.default_rng(1).normal(size=(64, d))
    fps = find_fixed_points(net, [0.5, 0.0], x0, progress=False, threads=2)
    assert fps.info["backend"] == "cpp" and fps.info["share_roots"]
    assert seen == [{1}, {1}]  # the sample, then the rest
    assert len(fps.roots) >= 1 and np.all(fps.roots.q < 1e-20)
    assert blas_threads() == two_blas_threads
