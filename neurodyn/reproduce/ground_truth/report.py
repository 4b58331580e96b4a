"""The ground-truth validation's summary, table and figure (:mod:`neurodyn.reproduce.ground_truth`).

Every "ours" cell is a mean ± spread over seeds of a number measured on the run.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..harness import Table
from ..runs import Measured, Runs
from .claims import LOCATION_TOLERANCE, PAPER, R2_THRESHOLD, STUDENTS

__all__ = ["TABLES", "figure", "summary"]

_LABEL = {"teacher": "teacher", "rate": "rate RNN", "low_rank": "low-rank RNN"}


def summary(runs: Runs, cfg) -> str:
    """The paragraph under the title."""
    acc = runs.values(lambda r: r["teacher"]["accuracy"])
    return (
        f"A teacher rate network of {cfg.n_hidden} {cfg.teacher_nonlinearity} units trained "
        f"{cfg.teacher_steps} steps on the {cfg.n_bits}-bit flip-flop (trials of "
        f"{cfg.teacher_trial_ms:g} ms; validation accuracy {np.mean(acc):.2f}); "
        f"Poisson spikes of {cfg.n_held_in} + {cfg.n_held_out} of its units on "
        f"{cfg.n_trials} trials of {cfg.trial_ms:g} ms in {cfg.dt:g}-ms bins, the last "
        f"{cfg.n_test} held out; students (a {cfg.student_nonlinearity} rate RNN and a "
        f"rank-{cfg.rank} "
        f"low-rank RNN of {cfg.n_hidden} units, the recorded neurons being their first "
        f"units) fitted {cfg.student_steps} steps with the Poisson objective on the held-in "
        f"neurons alone; {len(runs)} seed(s)."
    )


def _counts_text(counts: dict) -> str:
    return ", ".join(f"{n}×{k}u" for k, n in sorted(counts.items())) or "none"


def _rows(runs: Runs, cfg) -> list:
    def per(student, *keys, spec=".3g"):
        def get(r):
            v = r[student]
            for k in keys:
                v = v[k]
            return v

        return runs.cell(get, spec)

    rows = [
        ["teacher accuracy (validation)", "solves the task", per("teacher", "accuracy"), "", ""],
        ["teacher co-bps (its own rates, ceiling)", "n/a (reference)",
         per("teacher", "co_bps"), "", ""],
        ["fixed points (count × unstable modes)", PAPER["fixed_points"]["value"],
         runs.cell(lambda r: _counts_text(r["teacher"]["counts"])),
         *[runs.cell(lambda r, s=s: _counts_text(r[s]["fixed_points"]["counts"]))
           for s in STUDENTS]],
    ]  # fmt: skip
    quantities = [
        ("rate R² (held-out trials)", f">= {R2_THRESHOLD}", ("rate_r2",)),
        ("rate R², untrained student", "baseline", ("untrained_rate_r2",)),
        ("co-bps (held-out neurons)", "above the untrained student", ("co_bps",)),
        ("co-bps, untrained student", "baseline", ("untrained_co_bps",)),
        ("fixed-point counts match the teacher's", "yes (1)", ("fixed_points", "counts_match")),
        ("largest mapped fixed-point distance / teacher spread", f"< {LOCATION_TOLERANCE}",
         ("fixed_points", "max_error")),
        ("median mapped fixed-point distance / teacher spread", "n/a (reported)",
         ("fixed_points", "median_error")),
        ("DSA angle student–teacher", "below student–control", ("dsa_teacher",)),
        ("DSA angle student–untrained control", "n/a (reference)", ("dsa_control",)),
        ("fit time (s)", "n/a", ("fit_seconds",)),
    ]  # fmt: skip
    for name, ref, keys in quantities:
        rows.append([name, ref, Measured("n/a (teacher)"), *[per(s, *keys) for s in STUDENTS]])
    for row in rows:
        for j in (3, 4):
            if row[j] == "":
                row[j] = Measured("n/a (teacher only)")
    return rows


def _csv_rows(runs: Runs, cfg) -> list:
    def get(r):
        return [
            {
                "student": s,
                "rate_r2": r[s]["rate_r2"],
                "co_bps": r[s]["co_bps"],
                "untrained_co_bps": r[s]["untrained_co_bps"],
                "counts_match": r[s]["fixed_points"]["counts_match"],
                "max_fp_error": r[s]["fixed_points"]["max_error"],
                "dsa_teacher": r[s]["dsa_teacher"],
                "dsa_control": r[s]["dsa_control"],
            }
            for s in STUDENTS
        ]

    return runs.records(get)


_OURS = ("teacher (ours)", *(f"{_LABEL[s]} (ours)" for s in STUDENTS))

TABLES = (
    Table(
        header=("quantity", "reference", *_OURS),
        rows=_rows,
        ours=_OURS,
        title="Teacher and students on held-out trials",
    ),
    Table(
        header=(
            "seed",
            "student",
            "rate_r2",
            "co_bps",
            "untrained_co_bps",
            "counts_match",
            "max_fp_error",
            "dsa_teacher",
            "dsa_control",
        ),
        rows=_csv_rows,
        markdown=False,
        csv="",
    ),
)


# -- figure ----------------------------------------------------------------------------
def figure(runs: Runs, outcomes: dict, cfg) -> Figure:
    """True and predicted rates of one neuron; the fixed points in the teacher's first
    two principal components with the students' mapped onto them; the scores."""
    fig = Figure(figsize=(14.0, 8.0), layout="constrained")
    axes = fig.subplots(2, 3)
    first = runs.first
    _trace(axes[0, 0], first, cfg)
    for ax, s in zip(axes[0, 1:], STUDENTS, strict=True):
        _fixed_point_panel(ax, first, s)
    _bars(axes[1, 0], runs, ("rate_r2", "untrained_rate_r2"), "rate R²", R2_THRESHOLD)
    _bars(axes[1, 1], runs, ("co_bps", "untrained_co_bps"), "co-bps", None)
    _bars(axes[1, 2], runs, ("dsa_teacher", "dsa_control"), "DSA angle", None)
    held = sum(o == "held" for o in outcomes.values())
    tested = sum(o != "not tested" for o in outcomes.values())
    fig.suptitle(f"Ground truth end to end: {held} of {tested} claims held")
    return fig


def _trace(ax, first: dict, cfg) -> None:
    t = np.arange(first["teacher"]["_rates"].shape[1]) * cfg.dt
    ax.plot(t, first["teacher"]["_rates"][0, :, 0], "k", lw=2, label="teacher (true)")
    for s in STUDENTS:
        ax.plot(t, first[s]["_rates"][0, :, 0], lw=1, label=_LABEL[s])
    ax.set(xlabel="time (ms)", ylabel="rate (spikes/ms)", title="neuron 0, a held-out trial")
    ax.legend(fontsize="small")


def _fixed_point_panel(ax, first: dict, student: str) -> None:
    states = first["teacher"]["_states"].reshape(-1, first["teacher"]["_states"].shape[-1])
    mean = states.mean(0)
    pcs = np.linalg.svd(states - mean, full_matrices=False)[2][:2].T
    ax.plot(*((states[:2000] - mean) @ pcs).T, ".", color="0.85", ms=1)
    for key, marker, label in (("teacher", "o", "teacher"), (student, "x", _LABEL[student])):
        x = first[key]["_x"] if key == "teacher" else first[key]["_mapped"]
        k = first[key]["_n_unstable"]
        if len(x):
            p = (x - mean) @ pcs
            ax.scatter(p[:, 0], p[:, 1], c=k, cmap="viridis", vmin=0, vmax=3, marker=marker,
                       s=60 if marker == "o" else 40, label=label)  # fmt: skip
    ax.set(xlabel="teacher PC 1", ylabel="teacher PC 2",
           title=f"fixed points (colour: unstable modes), {_LABEL[student]} mapped")  # fmt: skip
    ax.legend(fontsize="small")


def _bars(ax, runs: Runs, keys: tuple[str, str], label: str, line) -> None:
    x = np.arange(len(STUDENTS))
    for i, key in enumerate(keys):
        get = [lambda r, s=s, k=key: r[s][k] for s in STUDENTS]
        ax.bar(
            x + (i - 0.5) * 0.4,
            [runs.mean(g) for g in get],
            0.4,
            yerr=[runs.spread(g) for g in get],
            label="trained" if i == 0 else ("untrained" if "untrained" in key else "control"),
        )
    if line is not None:
        ax.axhline(line, color="k", ls="--", lw=1)
    ax.set_xticks(x, [_LABEL[s] for s in STUDENTS])
    ax.set(ylabel=label, title=label)
    ax.legend(fontsize="small")
