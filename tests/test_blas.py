"""BLAS runs on one thread wherever Numba threads call LAPACK, and the limit is undone after."""

import numpy as np
import pytest
import threadpoolctl

from neurodyn._blas import one_blas_thread
from neurodyn.analysis import _eig, _newton, find_fixed_points


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


def test_no_limit_is_set_where_blas_already_runs_one_thread(monkeypatch):
    """Already on one thread: nothing to set or restore (the limit would cost 0.1 ms)."""
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        calls = []
        monkeypatch.setattr(
            threadpoolctl.ThreadpoolController, "limit", lambda *a, **k: calls.append(k)
        )
        with one_blas_thread():
            assert set(blas_threads().values()) == {1}
        assert calls == []


def recording(monkeypatch, module, name):
    """Replace module.name by a wrapper that records BLAS's threads at each call."""
    seen, original = [], getattr(module, name)

    def wrapper(*args):
        seen.append(set(blas_threads().values()))
        return original(*args)

    monkeypatch.setattr(module, name, wrapper)
    return seen


def test_parallel_eig_runs_with_one_blas_thread(two_blas_threads, monkeypatch):
    seen = recording(monkeypatch, _eig, "_decompose_parallel")
    J = np.random.default_rng(0).normal(size=(4, 70, 70))
    assert J.shape[-1] > _eig.SMALL  # each thread calls LAPACK's dgeev
    lam, _ = _eig.eig(J)
    assert seen == [{1}]
    np.testing.assert_allclose(
        np.sort_complex(lam), np.sort_complex(np.linalg.eigvals(J)), atol=1e-12
    )
    assert blas_threads() == two_blas_threads


def test_newton_kernel_runs_with_one_blas_thread(two_blas_threads, monkeypatch):
    from neurodyn.rnn_models import RateRNN

    seen = recording(monkeypatch, _newton, "solve_batch")
    net = RateRNN(2, 6, 1, dt=10.0, tau=30.0, seed=0)
    x0 = np.random.default_rng(1).normal(size=(64, 6))
    fps = find_fixed_points(net, [0.5, 0.0], x0, progress=False)
    assert fps.info["backend"] == "numba" and fps.info["share_roots"]
    assert seen == [{1}, {1}]  # the sample, then the rest
    assert len(fps.roots) >= 1 and np.all(fps.roots.q < 1e-20)
    assert blas_threads() == two_blas_threads
