"""estimate_period reads the period off its trajectory under the thread policy too: the
principal axis of a long trajectory is an SVD, which a second BLAS thread on a busy
core slows by orders of magnitude (1 s instead of 2 ms for 2500 × 64 states)."""

import numpy as np
from threadpoolctl import threadpool_info

from neurodyn.analysis import limit_cycles
from neurodyn.dynamics import FunctionDynamics


def _blas_threads() -> set:
    return {d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"}


def test_the_period_is_read_under_the_callers_thread_count(monkeypatch):
    seen = []
    pca = limit_cycles.pca_basis

    def recording(x, n):
        seen.append(_blas_threads())
        return pca(x, n)

    monkeypatch.setattr(limit_cycles, "pca_basis", recording)
    # A rotation at ω = 1 (period 2π): a circle of radius 1.
    dyn = FunctionDynamics(lambda x, u: np.stack([-x[:, 1], x[:, 0]], 1), n_state=2, kind="ode",
                           dt=0.01)  # fmt: skip
    _, period = limit_cycles.estimate_period(dyn, [1.0, 0.0], t_transient=0.0, t_max=20.0,
                                             threads=1)  # fmt: skip
    # Crossing times interpolated linearly between RK4 steps of 0.01: O(h²) = 1e-4.
    assert abs(period - 2 * np.pi) < 1e-3
    assert seen and all(s == {1} for s in seen)
