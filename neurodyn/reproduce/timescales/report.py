"""The timescales reproduction's table rows, summary and figure (paper beside ours)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.figure import Figure

from ...io.tables import table_cell as _fmt
from ..runs import Measured, Runs
from .claims import (
    CURRICULA,
    PAPER,
    TAU_BAND,
    W_BAND,
    at_common_n,
    getter,
    paper_band,
)

__all__ = ["HEADER", "LONG_HEADER", "figure", "long_rows", "summary", "table_rows"]


def _interp(curve: dict, eps: float) -> float:
    x, y = np.asarray(curve["epsilon"]), np.asarray(curve["accuracy"])
    pos = x > 0
    return float(np.interp(np.log(eps), np.log(x[pos]), y[pos])) if eps > 0 else float(y[0])


# -- tables ------------------------------------------------------------------------------------
HEADER = (
    "quantity",
    "multi-head (ours)",
    "single-head (ours)",
    "multi-head (paper)",
    "single-head (paper)",
)
_NOT_REPORTED = "not reported"
_ONE_N = "fewer than two N reached"


def _row(runs: Runs, label: str, get: Callable, paper=(_NOT_REPORTED, _NOT_REPORTED), **kw):
    """A row: ``get(which)`` is the getter of each curriculum's number; ``paper`` the
    paper's multi- and single-head cells (or a mapping with those keys)."""
    if isinstance(paper, dict):
        paper = (paper["multi"], paper["single"])
    return [label, *(runs.cell(get(w), **kw) for w in CURRICULA), *paper]


def _joined(runs: Runs, label: str, getters: list[Callable], sep: str, paper, **kw) -> list:
    """A row whose ours cells join several numbers per curriculum (``getters(which)``)."""
    cells = [Measured.join(sep, [runs.cell(g(w), **kw) for g in getters]) for w in CURRICULA]
    return [label, *cells, paper["multi"], paper["single"]]


def _training_rows(runs: Runs, cfg) -> list[list]:
    steps = "600 per epoch"
    return [
        _row(
            runs, "largest N solved (same budget)", lambda w: getter(w, "max_n"), PAPER["training"]
        ),
        _row(runs, "steps trained", lambda w: getter(w, "steps"), (steps, steps)),
        _row(runs, "training time (s)", lambda w: getter(w, "train_seconds")),
        _row(
            runs,
            "accuracy on earlier N after each stage (mean)",
            lambda w: getter(w, "earlier_accuracy"),
            PAPER["forgetting"],
            missing="no stage with earlier N",
        ),
    ]


def _final(key: str) -> Callable[[str], Callable]:
    return lambda w: lambda r: r[w]["final"][key]


def _tau_net_at(index: int, key: str) -> Callable[[str], Callable]:
    return lambda w: lambda r: r[w]["tau_net"][index][key]


def _tau_rows(runs: Runs, cfg) -> list[list]:
    return [
        _joined(
            runs,
            "τ at the largest N: mean / 90th pct / max",
            [_final("tau_mean"), _final("tau_q90"), _final("tau_max")],
            " / ",
            PAPER["tau"],
        ),
        _row(
            runs,
            "share of τ in the initial range [1, 2] at the largest N",
            _final("frac_tau_in_initial_range"),
            PAPER["tau_in_range"],
        ),
        _joined(
            runs,
            "τ mean / max at the common N",
            [lambda w, k=k: at_common_n(w, k) for k in ("tau_mean", "tau_max")],
            " / ",
            {"multi": _NOT_REPORTED, "single": _NOT_REPORTED},
        ),
        _joined(
            runs,
            "change of τ mean / max per unit of N (linear fit over the N both reached)",
            [lambda w: getter(w, "tau_mean_slope"), lambda w: getter(w, "tau_max_slope")],
            " / ",
            PAPER["tau_slope"],
            missing=_ONE_N,
        ),
        _joined(
            runs,
            "τ_net, mean over fitted neurons: first → last N measured",
            [_tau_net_at(0, "tau_net_mean"), _tau_net_at(-1, "tau_net_mean")],
            " → ",
            PAPER["tau_net"],
        ),
        _joined(
            runs,
            "first → last N at which τ_net was measured",
            [_tau_net_at(0, "n"), _tau_net_at(-1, "n")],
            " → ",
            {"multi": _NOT_REPORTED, "single": _NOT_REPORTED},
        ),
        _joined(
            runs,
            f"neurons with a τ_net fit (of {cfg.n_hidden}): first → last N",
            [_tau_net_at(0, "n_units_fitted"), _tau_net_at(-1, "n_units_fitted")],
            " → ",
            {"multi": _NOT_REPORTED, "single": _NOT_REPORTED},
        ),
        _row(
            runs,
            "change of mean τ_net per unit of N",
            lambda w: getter(w, "tau_net_slope"),
            missing="τ_net measured at fewer than two N",
        ),
        _row(runs, "τ_net, median over fitted neurons, last N", _tau_net_at(-1, "tau_net_median")),
    ]


def _perturbation_rows(runs: Runs, key: str, what: str, band) -> list[list]:
    paper = PAPER[key]
    rows = [
        _row(
            runs,
            f"{what} perturbation ε = {e:g}: accuracy",
            lambda w, e=e: lambda r: _interp(r[w][key], e),
            (_fmt(paper["multi"][i]), _fmt(paper["single"][i])),
        )
        for i, e in enumerate(paper["epsilon"][1:], start=1)
    ]
    mean = paper_band(key, band)
    label = f"{what} perturbation: mean accuracy over ε = {band[0]:g}–{band[1]:g}"
    rows.append(
        _row(
            runs,
            label,
            lambda w: getter(w, f"{key}_band_mean"),
            (_fmt(mean["multi"]), _fmt(mean["single"])),
        )
    )
    return rows


def _common_n_rows(runs: Runs, cfg) -> list[list]:
    rows = [
        _row(
            runs,
            "common N (the largest N both solved; paper: N = 30)",
            lambda w: getter(w, "common_n"),
            ("30", "30"),
        ),
        _row(
            runs,
            "accuracy at the common N",
            lambda w: getter(w, "accuracy_common_n"),
            PAPER["accuracy_n30"],
        ),
    ]
    rows += _perturbation_rows(runs, "perturb_w", "W", W_BAND)
    rows += _perturbation_rows(runs, "perturb_tau", "τ", TAU_BAND)
    k = max(cfg.n_hidden // 16, 1)
    for end in ("slowest", "fastest"):
        rows.append(
            _joined(
                runs,
                f"ablate the {k} {end} neurons (paper: {PAPER['ablation']['k']}): accuracy",
                [lambda w, i=i, end=end: lambda r: r[w]["ablation"][end][i] for i in (0, 1)],
                " → ",
                PAPER["ablation"][end],
            )
        )
    rows += [
        _row(
            runs, "PCs for 90% variance (dimensionality)", lambda w: getter(w, "dimensionality_90")
        ),
        _row(
            runs,
            "slowest Jacobian timescale along trajectories (median)",
            lambda w: getter(w, "jacobian_slowest_tau_median"),
        ),
    ]
    return rows


def table_rows(runs: Runs, cfg) -> list[list]:
    """The report's table: training, network timescales and the common-N comparison.

    Parameters
    ----------
    runs : Runs
        The runs of every seed (:class:`~neurodyn.reproduce.runs.Runs`).
    cfg : ReproductionConfig
        The sizes of the run.

    Returns
    -------
    list of list
        One row per quantity, in :data:`HEADER` order.

    Examples
    --------
    One seed of a tiny run (4 neurons, each curriculum aiming at N = 3 within 80 steps;
    on seed 0 both solve N = 2, the least the analyses need, by step 30), then the
    report's table:

    >>> from neurodyn.reproduce.timescales.report import HEADER, table_rows
    >>> from neurodyn.reproduce.runs import Runs
    >>> from neurodyn.reproduce.timescales import TIMESCALES, ReproductionConfig
    >>> cfg = ReproductionConfig(
    ...     seeds=1, n_hidden=4, batch_size=32, lr=0.1, max_steps=80, n_stop=3,
    ...     val_every=10, n_validation=32, n_eval=32, tau_net_trials=1, tau_net_steps=400,
    ...     tau_net_points=2, n_repeats=1, n_score=16, jacobian_states=4, long_steps=80)
    >>> runs = Runs([TIMESCALES.run(cfg, seed=0, progress=False, device="cpu")], seeds=[0])
    >>> rows = table_rows(runs, cfg)
    >>> len(rows), all(len(row) == len(HEADER) for row in rows)
    (29, True)
    >>> rows[0][0], rows[0][3]
    ('largest N solved (same budget)', 'one new N per epoch: N = 2→12 in 12 epochs')
    """
    return _training_rows(runs, cfg) + _tau_rows(runs, cfg) + _common_n_rows(runs, cfg)


def summary(runs: Runs, cfg) -> str:
    """The paragraph under the report's title: the sizes of this run beside the paper's.

    Parameters
    ----------
    runs : Runs
        The runs of every seed (:class:`~neurodyn.reproduce.runs.Runs`).
    cfg : ReproductionConfig
        The sizes of the run.

    Returns
    -------
    str

    Examples
    --------
    One seed of a tiny run (4 neurons, each curriculum aiming at N = 3 within 80 steps;
    on seed 0 both solve N = 2, the least the analyses need, by step 30), then the
    report's opening paragraph:

    >>> from neurodyn.reproduce.timescales.report import summary
    >>> from neurodyn.reproduce.runs import Runs
    >>> from neurodyn.reproduce.timescales import TIMESCALES, ReproductionConfig
    >>> cfg = ReproductionConfig(
    ...     seeds=1, n_hidden=4, batch_size=32, lr=0.1, max_steps=80, n_stop=3,
    ...     val_every=10, n_validation=32, n_eval=32, tau_net_trials=1, tau_net_steps=400,
    ...     tau_net_points=2, n_repeats=1, n_score=16, jacobian_states=4, long_steps=80)
    >>> runs = Runs([TIMESCALES.run(cfg, seed=0, progress=False, device="cpu")], seeds=[0])
    >>> print(summary(runs, cfg).split(". ")[0])
    4 neurons, batch 32, Adam lr 0.1, at most 80 steps per curriculum, 1 seed(s)
    """
    return (
        f"{cfg.n_hidden} neurons, batch {cfg.batch_size}, Adam lr {cfg.lr:g}, at most "
        f"{cfg.max_steps} steps per curriculum, {len(runs)} seed(s). Paper: 500 neurons, batch "
        "256, SGD; effects at N = 30. The paper's columns cite their sources in "
        "neurodyn.reproduce.timescales.claims.PAPER (the abstract and the authors' result files)."
    )


LONG_HEADER = (
    "N",
    "seeds that reached N (ours)",
    "mean τ (ours)",
    "90th percentile of τ (ours)",
    "max τ (ours)",
    "max τ (paper)",
)
_NOT_REACHED = "not reached"


def long_rows(runs: Runs, cfg) -> list[list]:
    """τ against N in the longer single-head run: one row per N any seed reached, then
    the N at which the paper reports τ.

    Parameters
    ----------
    runs : Runs
        The runs of every seed; each has ``single_long`` with its ``stages``.
    cfg : ReproductionConfig
        The sizes of the run.

    Returns
    -------
    list of list
        Rows of :data:`LONG_HEADER`.

    Examples
    --------
    Two seeds, one of which reached N = 3 (only the numbers the table reads):

    >>> from neurodyn.reproduce.runs import Runs
    >>> def stage(n, mean):
    ...     return {"n": n, "tau_mean": mean, "tau_q90": mean + 0.5, "tau_max": mean + 1.0}
    >>> runs = Runs([{"single_long": {"max_n": 3, "stages": [stage(2, 1.4), stage(3, 1.6)]}},
    ...              {"single_long": {"max_n": 2, "stages": [stage(2, 1.2)]}}], seeds=[0, 1])
    >>> rows = long_rows(runs, None)
    >>> [row[0] for row in rows]
    ['2', '3', '30', '35']
    >>> rows[0][1], rows[0][2], rows[1][2]
    ('2 of 2', '1.3 ± 0.141', '1.6 (1 of 2 seeds; n/a on the others: not reached)')
    >>> rows[2][1:]
    ['0 of 2', 'n/a (not reached)', 'n/a (not reached)', 'n/a (not reached)', '7.1–14.9']
    """
    paper = {30: "7.1–14.9", 35: "10.7–19.4"}  # PAPER["tau"]["single"], networks 1–8
    top = max(int(r["single_long"]["max_n"]) for r in runs)
    rows = []
    for n in [*range(2, top + 1), *(m for m in sorted(paper) if m > top)]:

        def at(key, n=n):
            def get(res):
                st = [x for x in res["single_long"]["stages"] if x["n"] == n]
                return st[0][key] if st else float("nan")

            return get

        reached = sum(any(x["n"] == n for x in r["single_long"]["stages"]) for r in runs)
        cells = [runs.cell(at(k), missing=_NOT_REACHED) for k in ("tau_mean", "tau_q90", "tau_max")]
        rows.append(
            [str(n), Measured(f"{reached} of {len(runs)}"), *cells, paper.get(n, _NOT_REPORTED)]
        )
    return rows


# -- figure ------------------------------------------------------------------------------------
_COLORS = {"multi": "C0", "single": "C3"}
_LABELS = {"multi": "multi-head", "single": "single-head"}


def _draw_curriculum(ax, d: dict) -> None:
    """One curriculum's curves on the six panels (the first seed's run)."""
    c, lab = _COLORS[d["curriculum"]], _LABELS[d["curriculum"]]
    st = d["stages"]
    ns = [x["n"] for x in st]
    steps = [0, *[x["step"] for x in st], d["steps"]]
    ax[0, 0].step(steps, [1, *ns, ns[-1]], where="post", color=c, label=lab)
    bins = np.linspace(0.9, max(3.0, max(d["final_tau"])), 30)
    ax[0, 1].hist(d["final_tau"], bins=bins, color=c, alpha=0.5, label=f"{lab} (N = {d['max_n']})")
    ax[0, 2].plot(ns, [x["tau_mean"] for x in st], "-o", ms=3, color=c, label=f"{lab} mean")
    ax[0, 2].plot(ns, [x["tau_max"] for x in st], "--", color=c, label=f"{lab} max")
    tn = d["tau_net"]
    tn_n = [x["n"] for x in tn]
    ax[1, 0].plot(tn_n, [x["tau_net_mean"] for x in tn], "-o", color=c, label=f"{lab} mean")
    median = [x["tau_net_median"] for x in tn]
    ax[1, 0].plot(tn_n, median, "--s", ms=4, color=c, label=f"{lab} median")
    pw = d["perturb_w"]
    ours = f"{lab} (ours, N = {d['common_n']})"
    ax[1, 1].plot(pw["epsilon"][1:], pw["accuracy"][1:], "-o", ms=3, color=c, label=ours)
    earlier = [x["accuracy_earlier_mean"] for x in st[1:]]
    ax[1, 2].plot(ns[1:], earlier, "-o", ms=3, color=c, label=lab)


def figure(runs: Runs, outcomes: dict, cfg) -> Figure:
    """The report's figure: each curriculum's training, timescales and perturbations.

    Parameters
    ----------
    runs : Runs
        The runs of every seed (:class:`~neurodyn.reproduce.runs.Runs`).
    outcomes : dict
        Each claim's description mapped to its status.
    cfg : ReproductionConfig
        The sizes of the run.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    One seed of a tiny run (4 neurons, each curriculum aiming at N = 3 within 80 steps;
    on seed 0 both solve N = 2, the least the analyses need, by step 30), its claims
    checked as the harness checks them, then the figure (a plain Figure, not held by
    pyplot: ``fig.savefig(path)`` writes it and nothing needs closing):

    >>> from neurodyn.reproduce.timescales.report import figure
    >>> from neurodyn.reproduce.runs import Runs
    >>> from neurodyn.reproduce.timescales import TIMESCALES, ReproductionConfig
    >>> cfg = ReproductionConfig(
    ...     seeds=1, n_hidden=4, batch_size=32, lr=0.1, max_steps=80, n_stop=3,
    ...     val_every=10, n_validation=32, n_eval=32, tau_net_trials=1, tau_net_steps=400,
    ...     tau_net_points=2, n_repeats=1, n_score=16, jacobian_states=4, long_steps=80)
    >>> runs = Runs([TIMESCALES.run(cfg, seed=0, progress=False, device="cpu")], seeds=[0])
    >>> outcomes = {c["description"]: c["status"]
    ...             for c in TIMESCALES.check_claims(runs).values()}
    >>> fig = figure(runs, outcomes, cfg)
    >>> len(fig.axes), [ax.get_title() for ax in fig.axes[:3]]
    (6, ['Curriculum progress', 'Trained time constants', 'τ against N'])
    """
    fig = Figure(figsize=(13, 7.5), layout="constrained")
    ax = fig.subplots(2, 3)
    for which in CURRICULA:
        _draw_curriculum(ax, runs.first[which])
    long = runs.first["single_long"]
    if long["steps"] > runs.first["single"]["steps"]:
        st = long["stages"]
        label = f"single-head, {long['steps']} steps"
        ax[0, 2].plot([x["n"] for x in st], [x["tau_mean"] for x in st], ":o", ms=3,
                      color="C1", label=f"{label} mean")  # fmt: skip
        ax[0, 2].plot([x["n"] for x in st], [x["tau_max"] for x in st], ":", color="C1",
                      label=f"{label} max")  # fmt: skip
    paper = PAPER["perturb_w"]
    for w in CURRICULA:
        label = f"{_LABELS[w]} (paper, N = 30)"
        ax[1, 1].plot(paper["epsilon"][1:], paper[w][1:], ":s", ms=3, color=_COLORS[w], label=label)
    ax[0, 1].axvspan(1.0, 2.0, color="0.9", zorder=0, label="initial range")
    ax[0, 0].set(xlabel="training step", ylabel="largest N solved", title="Curriculum progress")
    ax[0, 1].set(xlabel="τ (bits)", ylabel="neurons", title="Trained time constants")
    ax[0, 2].set(xlabel="N", ylabel="τ (bits)", title="τ against N")
    ax[1, 0].set(xlabel="N", ylabel="τ_net (bits) over neurons", title="Network timescale")
    ax[1, 1].set(
        xscale="log",
        xlabel="ε (normalised W perturbation)",
        ylabel="accuracy",
        title="Robustness to W perturbation",
        ylim=(0.4, 1.02),
    )
    ax[1, 2].set(xlabel="N reached", ylabel="accuracy on earlier N", title="Forgetting")
    ax[1, 2].set_ylim(0.4, 1.02)
    for a in ax.flat:
        a.legend(fontsize="x-small")
    held = sum(s == "held" for s in outcomes.values())
    tested = sum(s != "not tested" for s in outcomes.values())
    fig.suptitle(f"seed {runs.seeds[0]} of {len(runs)}; {held} of {tested} claims held")
    return fig
