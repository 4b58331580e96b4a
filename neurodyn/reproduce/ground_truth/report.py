"""The ground-truth validation's summary, tables and figure (:mod:`neurodyn.reproduce.ground_truth`).

Every "ours" cell is a mean ± spread over seeds of a number measured on the run.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..harness import Table
from ..runs import Measured, Runs
from .claims import LOCATED, LOCATION_TOLERANCE, PAPER, R2_THRESHOLD, RELEVANT, STUDENTS, TEACHERS

__all__ = ["TABLES", "figure", "summary"]

_LABEL = {"teacher": "teacher", "rate": "rate RNN", "low_rank": "low-rank RNN"}
_TITLE = {"flipflop": "flip-flop", "context": "context-dependent integration"}
_SHORT = {"flipflop": "flip-flop", "context": "integrator"}


def summary(runs: Runs, cfg) -> str:
    """The paragraph under the title.

    Parameters
    ----------
    runs : Runs
        The runs of every seed (:class:`~neurodyn.reproduce.runs.Runs`), each the
        results of one seed's run (the first seed's working data, keys starting with
        ``_``, included).
    cfg : GroundTruthConfig
        The sizes of the run.

    Returns
    -------
    str

    Examples
    --------
    One seed at the smallest sizes (teachers and students of 4 units trained for two
    steps: the pipeline, not the science; 5 trials, 2 of them held out, since co-bps's
    cross-validated readout needs 3 training trials), then the report's opening
    paragraph:

    >>> from neurodyn.reproduce.ground_truth import GROUND_TRUTH, GroundTruthConfig
    >>> from neurodyn.reproduce.ground_truth.report import summary
    >>> from neurodyn.reproduce.runs import Runs
    >>> cfg = GroundTruthConfig(
    ...     seeds=1, n_bits=1, n_hidden=4, teacher_steps=2, student_steps=2, context_steps=2,
    ...     batch_size=2, n_trials=5, n_test=2, trial_ms=100.0, teacher_trial_ms=100.0,
    ...     n_held_in=2, n_held_out=1, rank=1, n_inits=4, n_components=2, context_delay_ms=20.0)
    >>> runs = Runs([GROUND_TRUTH.run(cfg, seed=0, progress=False, device="cpu")], seeds=[0])
    >>> text = summary(runs, cfg)
    >>> print(text.split(" (")[0])
    Two teacher rate networks of 4 softplus units: one trained 2 steps on the 1-bit flip-flop
    >>> text.endswith("held-in neurons alone; 1 seed(s).")
    True
    """
    acc = {t: np.mean(runs.values(lambda r, t=t: r[t]["teacher"]["accuracy"])) for t in TEACHERS}
    return (
        f"Two teacher rate networks of {cfg.n_hidden} {cfg.teacher_nonlinearity} units: one "
        f"trained {cfg.teacher_steps} steps on the {cfg.n_bits}-bit flip-flop (trials of "
        f"{cfg.teacher_trial_ms:g} ms; validation accuracy {acc['flipflop']:.2f}), one "
        f"trained {cfg.context_steps} steps with recurrent noise {cfg.context_noise:g} on "
        f"context-dependent integration (accuracy {acc['context']:.2f}). Of each, Poisson "
        f"spikes of {cfg.n_held_in} + {cfg.n_held_out} units on {cfg.n_trials} trials "
        f"(flip-flop trials of {cfg.trial_ms:g} ms in {cfg.dt:g}-ms bins; integration "
        f"trials in {cfg.context_dt:g}-ms bins), the last {cfg.n_test} held out; students (a "
        f"{cfg.student_nonlinearity} rate RNN and a rank-{cfg.rank} low-rank RNN of "
        f"{cfg.n_hidden} units, the recorded neurons being their first units) fitted "
        f"{cfg.student_steps} steps with the Poisson objective on the held-in neurons "
        f"alone; {len(runs)} seed(s)."
    )


def _counts_text(counts: dict) -> str:
    def one(c):
        return ", ".join(f"{n}×{k}u" for k, n in sorted(c.items())) or "none"

    if len(counts) == 1:
        return one(next(iter(counts.values())))
    return "; ".join(f"{name}: {one(c)}" for name, c in counts.items())


def _per(runs: Runs, teacher: str, who: str, *keys, spec=".3g"):
    def get(r):
        v = r[teacher][who]
        for k in keys:
            v = v[k]
        return v

    return runs.cell(get, spec)


def _rows(teacher: str):
    def rows(runs: Runs, cfg) -> list:
        fp_ref = PAPER["fixed_points" if teacher == "flipflop" else "integrator"]["value"]
        out = [
            ["teacher accuracy (validation)", "solves the task",
             _per(runs, teacher, "teacher", "accuracy"), "", ""],
            ["teacher co-bps (its own rates, ceiling)", "n/a (reference)",
             _per(runs, teacher, "teacher", "co_bps"), "", ""],
            ["fixed points (count × unstable modes)",
             fp_ref if teacher == "flipflop" else "the teacher's",
             runs.cell(lambda r: _counts_text(r[teacher]["teacher"]["counts"])),
             *[runs.cell(lambda r, s=s: _counts_text(r[teacher][s]["fixed_points"]["counts"]))
               for s in STUDENTS]],
        ]  # fmt: skip
        if teacher == "context":
            out.insert(1, ["ideal observer's accuracy", "ceiling of the task",
                           _per(runs, teacher, "teacher", "ideal_accuracy"), "", ""])  # fmt: skip
            for c, (rel, irr) in RELEVANT.items():
                out.append([
                    f"{c}: integrating mode at", "a saddle between choices, or one memory",
                    *[runs.cell(lambda r, w=w, c=c: r["context"][w]["integrator"][c]["at"])
                      for w in ("teacher", *STUDENTS)],
                ])  # fmt: skip
                for m, what in ((rel, "relevant"), (irr, "irrelevant")):
                    out.append([
                        f"{c}: integrating mode's pickup of {m} evidence ({what})",
                        fp_ref if what == "relevant" else "below the relevant",
                        *[_per(runs, "context", w, "integrator", c, m)
                          for w in ("teacher", *STUDENTS)],
                    ])  # fmt: skip
                out.append([
                    f"{c}: integrating mode's growth rate (1/s)", "near 0 (integrates)",
                    *[runs.cell(lambda r, w=w, c=c: 1e3 * r["context"][w]["integrator"][c]
                                ["growth_rate"], ".3g") for w in ("teacher", *STUDENTS)],
                ])  # fmt: skip
        quantities = [
            ("rate R² (held-out trials)", f">= {R2_THRESHOLD}", ("rate_r2",)),
            ("rate R², untrained student", "baseline", ("untrained_rate_r2",)),
            ("co-bps (held-out neurons)", "above the untrained student", ("co_bps",)),
            ("co-bps, untrained student", "baseline", ("untrained_co_bps",)),
            ("fixed-point counts match the teacher's", "yes (1)",
             ("fixed_points", "counts_match")),
            ("largest mapped fixed-point distance / teacher spread, points the trials "
             "visit", f"< {LOCATION_TOLERANCE}" if teacher in LOCATED else "n/a (reported; "
             "not identifiable along the integrating mode)",
             ("fixed_points", "max_error_visited")),
            ("largest mapped fixed-point distance / teacher spread, all points",
             "n/a (reported)", ("fixed_points", "max_error")),
            ("median mapped fixed-point distance / teacher spread", "n/a (reported)",
             ("fixed_points", "median_error")),
            ("DSA angle student–teacher", "below student–control", ("dsa_teacher",)),
            ("DSA angle student–untrained control", "n/a (reference)", ("dsa_control",)),
            ("fit time (s)", "n/a", ("fit_seconds",)),
        ]  # fmt: skip
        for name, ref, keys in quantities:
            out.append([name, ref, Measured("n/a (teacher)"),
                        *[_per(runs, teacher, s, *keys) for s in STUDENTS]])  # fmt: skip
        for row in out:
            for j in (3, 4):
                if row[j] == "":
                    row[j] = Measured("n/a (teacher only)")
        return out

    return rows


def _csv_rows(runs: Runs, cfg) -> list:
    def get(r):
        return [
            {
                "teacher": t,
                "student": s,
                "rate_r2": r[t][s]["rate_r2"],
                "co_bps": r[t][s]["co_bps"],
                "untrained_co_bps": r[t][s]["untrained_co_bps"],
                "counts_match": r[t][s]["fixed_points"]["counts_match"],
                "max_fp_error": r[t][s]["fixed_points"]["max_error"],
                "max_fp_error_visited": r[t][s]["fixed_points"]["max_error_visited"],
                "dsa_teacher": r[t][s]["dsa_teacher"],
                "dsa_control": r[t][s]["dsa_control"],
            }
            for t in TEACHERS
            for s in STUDENTS
        ]

    return runs.records(get)


_OURS = ("teacher (ours)", *(f"{_LABEL[s]} (ours)" for s in STUDENTS))

TABLES = (
    *(
        Table(
            header=("quantity", "reference", *_OURS),
            rows=_rows(t),
            ours=_OURS,
            title=f"The {_TITLE[t]} teacher and its students on held-out trials",
        )
        for t in TEACHERS
    ),
    Table(
        header=(
            "seed",
            "teacher",
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
    """First row, the flip-flop: true and predicted rates of one neuron, the fixed points
    in the teacher's first two principal components with the students' mapped onto them.
    Second row, the integrator: one neuron's rates, each context's selection, and the
    integrating modes' growth rates. Third row: the scores of every student.

    Parameters
    ----------
    runs : Runs
        The runs of every seed (:class:`~neurodyn.reproduce.runs.Runs`), each the
        results of one seed's run (the first seed's working data, keys starting with
        ``_``, included).
    outcomes : dict
        Each claim's description mapped to its status (``"held"``, ``"not held"``,
        ``"not tested"``).
    cfg : GroundTruthConfig
        The sizes of the run.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    One seed at the smallest sizes (teachers and students of 4 units trained for two
    steps: the pipeline, not the science; 5 trials, 2 of them held out, since co-bps's
    cross-validated readout needs 3 training trials), its claims checked as the harness
    checks them, then the figure (a plain Figure, not held by pyplot:
    ``fig.savefig(path)`` writes it and nothing needs closing):

    >>> from neurodyn.reproduce.ground_truth import GROUND_TRUTH, GroundTruthConfig
    >>> from neurodyn.reproduce.ground_truth.report import figure
    >>> from neurodyn.reproduce.runs import Runs
    >>> cfg = GroundTruthConfig(
    ...     seeds=1, n_bits=1, n_hidden=4, teacher_steps=2, student_steps=2, context_steps=2,
    ...     batch_size=2, n_trials=5, n_test=2, trial_ms=100.0, teacher_trial_ms=100.0,
    ...     n_held_in=2, n_held_out=1, rank=1, n_inits=4, n_components=2, context_delay_ms=20.0)
    >>> runs = Runs([GROUND_TRUTH.run(cfg, seed=0, progress=False, device="cpu")], seeds=[0])
    >>> outcomes = {c["description"]: c["status"]
    ...             for c in GROUND_TRUTH.check_claims(runs).values()}
    >>> fig = figure(runs, outcomes, cfg)
    >>> len(fig.axes), fig.axes[0].get_title()
    (9, 'flip-flop: neuron 0, a held-out trial')
    """
    fig = Figure(figsize=(15.0, 12.0), layout="constrained")
    axes = fig.subplots(3, 3)
    first = runs.first
    _trace(axes[0, 0], first["flipflop"], cfg.dt, "flip-flop")
    for ax, s in zip(axes[0, 1:], STUDENTS, strict=True):
        _fixed_point_panel(ax, first["flipflop"], s)
    _trace(axes[1, 0], first["context"], cfg.context_dt, "integration")
    _selection_panel(axes[1, 1], runs)
    _growth_panel(axes[1, 2], runs)
    _bars(axes[2, 0], runs, ("rate_r2", "untrained_rate_r2"), "rate R²", R2_THRESHOLD)
    _bars(axes[2, 1], runs, ("co_bps", "untrained_co_bps"), "co-bps", None)
    _bars(axes[2, 2], runs, ("dsa_teacher", "dsa_control"), "DSA angle", None)
    held = sum(o == "held" for o in outcomes.values())
    tested = sum(o != "not tested" for o in outcomes.values())
    fig.suptitle(f"Ground truth end to end: {held} of {tested} claims held")
    return fig


def _trace(ax, first: dict, dt: float, name: str) -> None:
    t = np.arange(first["teacher"]["_rates"].shape[1]) * dt
    ax.plot(t, first["teacher"]["_rates"][0, :, 0], "k", lw=2, label="teacher (true)")
    for s in STUDENTS:
        ax.plot(t, first[s]["_rates"][0, :, 0], lw=1, label=_LABEL[s])
    ax.set(xlabel="time (ms)", ylabel="rate (spikes/ms)",
           title=f"{name}: neuron 0, a held-out trial")  # fmt: skip
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
           title=f"flip-flop fixed points, {_LABEL[student]} mapped\n(colour: unstable modes)")  # fmt: skip
    ax.legend(fontsize="small")


def _who() -> tuple:
    return ("teacher", *STUDENTS)


def _selection_panel(ax, runs: Runs) -> None:
    # Relevant over irrelevant pickup per context: above 1 where the mode selects.
    x = np.arange(len(RELEVANT))
    width = 0.8 / len(_who())
    for i, w in enumerate(_who()):
        ratios = [
            runs.mean(lambda r, w=w, c=c, m=m: r["context"][w]["integrator"][c][m[0]]
                      / r["context"][w]["integrator"][c][m[1]])
            for c, m in RELEVANT.items()
        ]  # fmt: skip
        ax.bar(x + (i - 1) * width, ratios, width, label=_LABEL[w])
    ax.axhline(1.0, color="k", ls="--", lw=1)
    ax.set_yscale("log")
    ax.set_xticks(x, list(RELEVANT))
    ax.set(ylabel="relevant / irrelevant pickup", title="integration: selection per context")
    ax.legend(fontsize="small")


def _growth_panel(ax, runs: Runs) -> None:
    x = np.arange(len(RELEVANT))
    width = 0.8 / len(_who())
    for i, w in enumerate(_who()):
        g = [runs.mean(lambda r, w=w, c=c: 1e3 * r["context"][w]["integrator"][c]["growth_rate"])
             for c in RELEVANT]  # fmt: skip
        ax.bar(x + (i - 1) * width, g, width, label=_LABEL[w])
    ax.axhline(0.0, color="k", lw=1)
    ax.set_xticks(x, list(RELEVANT))
    ax.set(ylabel="growth rate (1/s)", title="integration: the integrating mode's growth")
    ax.legend(fontsize="small")


def _bars(ax, runs: Runs, keys: tuple[str, str], label: str, line) -> None:
    groups = [(t, s) for t in TEACHERS for s in STUDENTS]
    x = np.arange(len(groups))
    for i, key in enumerate(keys):
        get = [lambda r, t=t, s=s, k=key: r[t][s][k] for t, s in groups]
        ax.bar(
            x + (i - 0.5) * 0.4,
            [runs.mean(g) for g in get],
            0.4,
            yerr=[runs.spread(g) for g in get],
            label="trained" if i == 0 else ("untrained" if "untrained" in key else "control"),
        )
    if line is not None:
        ax.axhline(line, color="k", ls="--", lw=1)
    ax.set_xticks(x, [f"{_SHORT[t]}\n{_LABEL[s]}" for t, s in groups])
    ax.set(ylabel=label, title=label)
    ax.legend(fontsize="small")
