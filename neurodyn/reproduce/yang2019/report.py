"""The multitask reproduction's summary, tables and figure (:mod:`neurodyn.reproduce.yang2019`).

Every "ours" cell is a mean ± spread over seeds of a number measured on the run
(:class:`~neurodyn.reproduce.runs.Runs`); the paper's cells read
:data:`~neurodyn.reproduce.yang2019.claims.PAPER`.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ...plotting.multitask import plot_task_composition, plot_task_variance
from ..harness import Table
from ..runs import Runs
from .claims import ANTI, CONDITIONS, FTV_PAIRS, PAPER

__all__ = ["TABLES", "figure", "summary"]

_LABEL = {"free": "unconstrained", "dale": "Dale's law"}


def summary(runs: Runs, cfg) -> str:
    """The paragraph under the title.

    Parameters
    ----------
    runs : Runs
        The runs of every seed (:class:`~neurodyn.reproduce.runs.Runs`), each the
        results of one seed's run (the first seed's working data, keys starting with
        ``_``, included).
    cfg : Yang2019Config
        The sizes of the run.

    Returns
    -------
    str

    Examples
    --------
    One seed at the smallest sizes (two networks of 8 units trained for one step; the
    20 tasks' trials make it take about 10 s):

    >>> from neurodyn.reproduce.runs import Runs
    >>> from neurodyn.reproduce.yang2019 import YANG2019, Yang2019Config
    >>> cfg = Yang2019Config(seeds=1, n_hidden=8, n_steps=1, batch_size=4, n_eval=4,
    ...                      val_every=1, n_validation=4)
    >>> runs = Runs([YANG2019.run(cfg, seed=0, progress=False, device="cpu")], seeds=[0])
    >>> summary(runs, cfg).split(",")[0]
    'Two rate networks of 8 ReLU units (the paper: 256)'
    """
    free = runs.values(lambda r: np.mean([t["accuracy"] for t in r["free"]["tasks"].values()]))
    dale = runs.values(lambda r: np.mean([t["accuracy"] for t in r["dale"]["tasks"].values()]))
    return (
        f"Two rate networks of {cfg.n_hidden} ReLU units (the paper: "
        f"{PAPER['n_hidden']['value']}), one unconstrained and one with Dale's law, trained "
        f"for {cfg.n_steps} steps of {cfg.batch_size} trials of NeuroGym's yang19 tasks "
        f"interleaved with a rule input (dt = {cfg.dt:g} ms, tau = {cfg.tau:g} ms), "
        f"{len(runs)} seed(s). Mean accuracy over the 20 tasks: {np.mean(free):.2f} "
        f"(unconstrained), {np.mean(dale):.2f} (Dale's law). The paper's networks are "
        "trained on millions of trials; at this scale some tasks stay near chance, and the "
        "claims are checked on the networks as trained."
    )


# -- tables ----------------------------------------------------------------------------
def _task_rows(runs: Runs, cfg) -> list:
    rows = []
    for rule in runs.first["rules"]:
        cells = [
            runs.cell(lambda r, c=c, t=rule: r[c]["tasks"][t]["accuracy"], ".2f")
            for c in CONDITIONS
        ]
        chance = runs.cell(lambda r, t=rule: r["free"]["tasks"][t]["chance"], ".2f")
        rows.append([rule, chance, *cells])
    return rows


def _quantities(cfg) -> list[tuple[str, str, object]]:
    """(quantity, paper cell, getter of one condition's results) of the analysis table."""

    def lesion(which: str, tasks: str):
        return lambda c: c["lesions"][which][tasks]

    return [
        (f"active units (of {cfg.n_hidden})", f"summed TV > {PAPER['active_threshold']['value']:g}",
         lambda c: c["clusters"]["n_active"]),
        ("clusters (k of the best silhouette)", f"k-means, k = {PAPER['k_range']['value']}",
         lambda c: c["clusters"]["n_clusters"]),
        ("best silhouette, trained", "n/a (not reported as a number)",
         lambda c: c["clusters"]["silhouette"]),
        ("best silhouette, before training", "n/a (not reported)",
         lambda c: c["clusters_untrained"]["silhouette"]),
        *[
            (f"mean |FTV| {a} vs {b}", "n/a (histograms only)",
             lambda c, p=f"{a}-{b}": c["mean_abs_ftv"][p])
            for a, b in FTV_PAIRS
        ],
        ("Anti units", f"TV share in {', '.join(ANTI)} > {PAPER['anti_share']['value']:g}",
         lambda c: c["lesions"]["n_anti_units"]),
        ("Anti-task accuracy, intact", "n/a (figure only)", lesion("intact", "anti")),
        ("Anti-task accuracy, Anti units lesioned", "lower (antitask.py)",
         lesion("anti_lesion", "anti")),
        ("Anti-task accuracy, random units lesioned", "n/a (figure only)",
         lesion("random_lesion", "anti")),
        ("other tasks' accuracy, intact", "n/a (figure only)", lesion("intact", "other")),
        ("other tasks' accuracy, Anti units lesioned", "n/a (figure only)",
         lesion("anti_lesion", "other")),
        ("rank of Dly Anti for Anti − Go + Dly Go", "1 (nearest)",
         lambda c: c["composition"]["target_rank"]),
        ("distance ratio, Dly Anti / nearest other", "below 1",
         lambda c: c["composition"]["margin"]),
        ("training time (s)", "n/a (GPU hours)", lambda c: c["train_seconds"]),
    ]  # fmt: skip


def _analysis_rows(runs: Runs, cfg) -> list:
    rows = []
    for name, paper, get in _quantities(cfg):
        cells = [runs.cell(lambda r, c=c, g=get: g(r[c]), ".3g") for c in CONDITIONS]
        rows.append([name, paper, *cells])
    return rows


def _csv_rows(runs: Runs, cfg) -> list:
    def per_task(r):
        return [
            {"condition": c, "task": t, **r[c]["tasks"][t]} for c in CONDITIONS for t in r["rules"]
        ]

    return runs.records(per_task)


_OURS = tuple(f"{_LABEL[c]} (ours)" for c in CONDITIONS)

TABLES = (
    Table(
        header=("task", "chance (ours)", *_OURS),
        rows=_task_rows,
        ours=("chance (ours)", *_OURS),
        title="Accuracy per task (NeuroGym's criterion: fixation held, first response "
        "the target's direction of 16; the paper's: " + PAPER["criterion"]["value"] + ")",
    ),
    Table(
        header=("quantity", "paper", *_OURS),
        rows=_analysis_rows,
        ours=_OURS,
        title="Task variance, clusters, lesions and composition",
    ),
    Table(
        header=("seed", "condition", "task", "accuracy", "chance"),
        rows=_csv_rows,
        markdown=False,
        csv="",
    ),
)


# -- figure ----------------------------------------------------------------------------
def figure(runs: Runs, outcomes: dict, cfg) -> Figure:
    """Accuracy per task; the normalised task variance by cluster; silhouette curves;
    FTV histograms; the lesions; the composition (the first seed's networks where one
    network is drawn).

    Parameters
    ----------
    runs : Runs
        The runs of every seed (:class:`~neurodyn.reproduce.runs.Runs`), each the
        results of one seed's run (the first seed's working data, keys starting with
        ``_``, included).
    outcomes : dict
        Each claim's description mapped to its status (``"held"``, ``"not held"``,
        ``"not tested"``).
    cfg : Yang2019Config
        The sizes of the run.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    One seed at the smallest sizes (two networks of 8 units trained for one step; the
    20 tasks' trials make it take about 10 s):

    >>> from neurodyn.reproduce.runs import Runs
    >>> from neurodyn.reproduce.yang2019 import YANG2019, Yang2019Config
    >>> cfg = Yang2019Config(seeds=1, n_hidden=8, n_steps=1, batch_size=4, n_eval=4,
    ...                      val_every=1, n_validation=4)
    >>> runs = Runs([YANG2019.run(cfg, seed=0, progress=False, device="cpu")], seeds=[0])
    >>> outcomes = {c["description"]: c["status"]
    ...             for c in YANG2019.check_claims(runs).values()}
    >>> fig = figure(runs, outcomes, cfg)  # fig.savefig("yang2019.png") writes it
    >>> len(fig.axes), fig.axes[0].get_title()
    (7, 'accuracy per task')
    """
    fig = Figure(figsize=(15.0, 9.0), layout="constrained")
    axes = fig.subplots(2, 3)
    _accuracy_bars(axes[0, 0], runs)
    free = runs.first["free"]
    if "_result" in free["clusters"]:
        plot_task_variance(free["clusters"]["_result"], ax=axes[0, 1])
        axes[0, 1].set_title(
            f"normalised task variance, seed {runs.seeds[0]}, unconstrained", pad=16
        )
    _silhouettes(axes[0, 2], free)
    _ftv_histograms(axes[1, 0], free["_ftv"])
    _lesion_bars(axes[1, 1], runs)
    plot_task_composition(free["composition"]["_result"], ax=axes[1, 2])
    held = sum(o == "held" for o in outcomes.values())
    tested = sum(o != "not tested" for o in outcomes.values())
    fig.suptitle(f"Yang et al. (2019) at CPU scale: {held} of {tested} claims held")
    return fig


def _accuracy_bars(ax, runs: Runs) -> None:
    rules = runs.first["rules"]
    x = np.arange(len(rules))
    for i, c in enumerate(CONDITIONS):
        get = [lambda r, t=t, c=c: r[c]["tasks"][t]["accuracy"] for t in rules]
        ax.bar(x + (i - 0.5) * 0.4, [runs.mean(g) for g in get], 0.4,
               yerr=[runs.spread(g) for g in get], label=_LABEL[c])  # fmt: skip
    chance = [runs.mean(lambda r, t=t: r["free"]["tasks"][t]["chance"]) for t in rules]
    ax.plot(x, chance, "_", color="k", ms=10, label="chance")
    ax.set_xticks(x, rules, rotation=90, fontsize="small")
    ax.set(ylim=(0, 1.02), ylabel="accuracy", title="accuracy per task")
    ax.legend(fontsize="small")


def _silhouettes(ax, free: dict) -> None:
    for key, label in (("clusters", "trained"), ("clusters_untrained", "before training")):
        result = free[key].get("_result")
        if result is not None:
            ax.plot(result["k"], result["silhouette"], "-o", ms=3, label=label)
    ax.set(xlabel="number of clusters k", ylabel="silhouette score", title="silhouette")
    ax.legend(fontsize="small")


def _ftv_histograms(ax, ftv) -> None:
    width = float(ftv["bin_high"][0] - ftv["bin_low"][0])
    for i in range(ftv.sizes["pair"]):
        name = f"{ftv['task_a'].values[i]} vs {ftv['task_b'].values[i]}"
        ax.step(ftv["bin"], ftv["count"][i], where="mid", label=name)
    ax.set(xlabel="fractional task variance", ylabel="units", xlim=(-1 - width, 1 + width),
           title="fractional task variance")  # fmt: skip
    ax.legend(fontsize="small")


def _lesion_bars(ax, runs: Runs) -> None:
    lesions = ("intact", "anti_lesion", "random_lesion")
    x = np.arange(2)
    for i, which in enumerate(lesions):
        get = [lambda r, w=which, t=t: r["free"]["lesions"][w][t] for t in ("anti", "other")]
        ax.bar(x + (i - 1) * 0.27, [runs.mean(g) for g in get], 0.27,
               yerr=[runs.spread(g) for g in get], label=which.replace("_", " "))  # fmt: skip
    ax.set_xticks(x, ["Anti tasks", "other tasks"])
    ax.set(ylim=(0, 1.02), ylabel="accuracy", title="lesions (unconstrained)")
    ax.legend(fontsize="small")
