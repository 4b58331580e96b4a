"""Status codes of solver candidates, shared by the Numba kernels and the batched solver.

Kept apart from the kernels so that reading a result never imports Numba.
"""

RUNNING, ROOT, SLOW, DIVERGED, SINGULAR, STALLED, MAX_ITER = -1, 0, 1, 2, 3, 4, 5

#: Outcome of a candidate by code: ``(status, reason)``. Status is "root", "slow"
#: or "failed"; the reason says why a candidate failed.
OUTCOMES = {
    ROOT: ("root", ""),
    SLOW: ("slow", ""),
    DIVERGED: ("failed", "diverged"),
    SINGULAR: ("failed", "singular"),
    STALLED: ("failed", "stalled"),
    MAX_ITER: ("failed", "max_iter"),
}
