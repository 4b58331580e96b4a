"""Status codes of solver candidates, shared by the C++ kernel (``Status`` in
``csrc/include/neurodyn/newton.h``) and the batched solver.

Kept apart from the solvers so that reading a result imports neither.
"""

RUNNING, ROOT, SLOW, DIVERGED, SINGULAR, STALLED, MAX_ITER, LEFT_STATE_SET = (
    -1,
    0,
    1,
    2,
    3,
    4,
    5,
    6,
)

#: Outcome of a candidate by code: ``(status, reason)``. Status is "root", "slow"
#: or "failed"; the reason says why a candidate failed.
OUTCOMES = {
    ROOT: ("root", ""),
    SLOW: ("slow", ""),
    DIVERGED: ("failed", "diverged"),
    SINGULAR: ("failed", "singular"),
    STALLED: ("failed", "stalled"),
    MAX_ITER: ("failed", "max_iter"),
    LEFT_STATE_SET: ("failed", "left_state_set"),
}
