"""The ground-truth validation's references and claims (:mod:`neurodyn.reproduce.ground_truth`).

:data:`PAPER` holds the references the validation follows, each with its source;
:data:`CLAIMS` what a fit that recovers the teacher's mechanism must show, checked for
each student on every seed (:mod:`neurodyn.reproduce.claims`), or listed as not tested
with the reason.
"""

from __future__ import annotations

import numpy as np

from ..claims import Claim, Verdict, all_hold, greater, less
from ..runs import Runs

__all__ = ["CLAIMS", "LOCATION_TOLERANCE", "PAPER", "R2_THRESHOLD", "STUDENTS"]

#: The two students fitted to the teacher's spikes.
STUDENTS = ("rate", "low_rank")
_LABEL = {"rate": "rate RNN", "low_rank": "low-rank RNN"}

#: Rate R² a student must exceed on held-out trials.
R2_THRESHOLD = 0.9
#: Largest distance between a student's fixed point (mapped into the teacher's state
#: space) and its teacher's partner, as a fraction of the RMS spread of the teacher's
#: states: a tenth of the spread keeps every corner of the cube apart from its
#: neighbours (which lie about one spread apart) with a wide margin.
LOCATION_TOLERANCE = 0.1
#: Teacher accuracy on validation trials that counts as solving the flip-flop.
TEACHER_ACCURACY = 0.9

PAPER = {
    "citation": (
        "Versteeg, Sedler, McCart & Pandarinath, Computation-through-Dynamics Benchmark "
        "(CtDB); Sussillo & Barak, Neural Comput. 25:626-649 (2013) (the flip-flop teacher)"
    ),
    "rate_r2": {"value": R2_THRESHOLD, "source": "the validation's threshold (rate R² >= 0.9)"},
    "co_bps": {
        "value": "above the untrained student",
        "source": "Neural Latents Benchmark co-smoothing (Pei et al. 2021)",
    },
    "fixed_points": {
        "value": "8 stable, 12 + 6 + 1 saddles (3 bits); 4 stable, 4 + 1 saddles (2 bits)",
        "source": "Sussillo & Barak 2013, the flip-flop's cube",
    },
    "dsa": {
        "value": "student-teacher < student-control",
        "source": "Ostrow et al., NeurIPS 2023 (DSA)",
    },
}

_SEEDS_TEST = "one-sided t-test across seeds at 5 % (every seed with fewer than 3)"


def _get(student: str, *keys: str):
    def get(r):
        v = r[student]
        for k in keys:
            v = v[k]
        return v

    return get


def teacher_solves(runs: Runs) -> Verdict:
    """The teacher solves the flip-flop and holds one stable point per bit pattern."""
    n_stable = runs.values(lambda r: r["teacher"]["counts"].get(0, 0))
    n_patterns = 2 ** runs.first.get("n_bits", 3)
    return all_hold(
        greater(
            runs.values(lambda r: r["teacher"]["accuracy"]),
            TEACHER_ACCURACY,
            names=("teacher accuracy", "threshold"),
        ),
        Verdict(
            bool(np.all(n_stable == n_patterns)),
            f"stable points {n_stable.astype(int).tolist()} (needs {n_patterns} on every seed)",
        ),
    )


def _rate_r2(student: str):
    def check(runs: Runs) -> Verdict:
        return greater(runs.values(_get(student, "rate_r2")), R2_THRESHOLD,
                       names=(f"{_LABEL[student]} rate R²", "threshold"))  # fmt: skip

    return check


def _co_bps(student: str):
    def check(runs: Runs) -> Verdict:
        return greater(
            runs.values(_get(student, "co_bps")), runs.values(_get(student, "untrained_co_bps")),
            names=(f"{_LABEL[student]} co-bps", "untrained student's"),
        )  # fmt: skip

    return check


def _fp_counts(student: str):
    def check(runs: Runs) -> Verdict:
        match = runs.values(_get(student, "fixed_points", "counts_match"))
        shown = [
            f"seed {s}: student {r[student]['fixed_points']['counts']} teacher "
            f"{r['teacher']['counts']}"
            for s, r in zip(runs.seeds, runs, strict=True)
        ]
        return Verdict(bool(np.all(match == 1)), "; ".join(shown) + " (counts by unstable modes; "
                       "must match on every seed)")  # fmt: skip

    return check


def _fp_locations(student: str):
    def check(runs: Runs) -> Verdict:
        match = runs.values(_get(student, "fixed_points", "counts_match"))
        err = runs.values(_get(student, "fixed_points", "max_error"))
        err = np.where(match == 1, err, np.nan)  # locations speak only where the counts agree
        return less(err, LOCATION_TOLERANCE,
                    names=("largest mapped distance / teacher spread", "tolerance"))  # fmt: skip

    return check


def _dsa(student: str):
    def check(runs: Runs) -> Verdict:
        return less(
            runs.values(_get(student, "dsa_teacher")), runs.values(_get(student, "dsa_control")),
            names=(f"DSA {_LABEL[student]}-teacher", f"{_LABEL[student]}-untrained control"),
        )  # fmt: skip

    return check


def _student_claims(student: str) -> tuple[Claim, ...]:
    label = _LABEL[student]
    return (
        Claim(f"rate_r2_{student}",
              f"The {label} fitted to spikes predicts the held-in neurons' true rates on held-out "
              f"trials with R² >= {R2_THRESHOLD}", _rate_r2(student),
              threshold=f"R² {R2_THRESHOLD}, the validation's bar; " + _SEEDS_TEST),
        Claim(f"co_bps_{student}",
              f"The {label} predicts held-out neurons (co-smoothing) better than the same "
              "network untrained", _co_bps(student),
              threshold="the untrained student, the same readout fitted the same way; "
              + _SEEDS_TEST),
        Claim(f"fixed_point_counts_{student}",
              f"The {label} has the teacher's fixed-point structure at zero input: as many "
              "stable points, and saddles with the same numbers of unstable modes",
              _fp_counts(student),
              threshold="exact equality of the counts by unstable modes, on every seed"),
        Claim(f"fixed_point_locations_{student}",
              f"The {label}'s fixed points, mapped by the least-squares affine map between "
              "state spaces (fitted on trajectories), lie on the teacher's",
              _fp_locations(student),
              threshold=f"largest distance below {LOCATION_TOLERANCE} of the teacher's state "
              "spread (its corners lie about one spread apart); undefined where the counts "
              "differ; " + _SEEDS_TEST),
        Claim(f"dsa_{student}",
              f"The {label}'s dynamics are nearer the teacher's than an untrained network's "
              "(DSA)", _dsa(student),
              threshold="the untrained student driven by the same inputs; " + _SEEDS_TEST),
    )  # fmt: skip


CLAIMS = (
    Claim(
        "teacher_solves",
        "The teacher solves the flip-flop and stores each bit pattern as a stable point",
        teacher_solves,
        threshold=f"validation accuracy above {TEACHER_ACCURACY} and 2^bits stable points; "
        + _SEEDS_TEST,
    ),
    *_student_claims("rate"),
    *_student_claims("low_rank"),
    Claim(
        "context_integration_teacher",
        "The same recovery holds for a teacher trained on context-dependent integration",
        None,
        untested="a second teacher (its line attractors and selection vectors) doubles the "
        "run; not part of this validation at CPU scale",
    ),
)
