"""Context-dependent integration's summary, tables and figure (:mod:`neurodyn.reproduce.mante2013`).

Every "ours" cell is a mean ± spread over seeds of a number measured on the run.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..harness import Table
from ..runs import Measured, Runs
from .claims import (
    ACCURACY_GAP,
    CHOICE_ALIGNMENT,
    GAP,
    GATING,
    PAPER,
    SELECTION,
    SLOW,
    gating_ratio,
    selection_ratio,
)

__all__ = ["TABLES", "figure", "summary"]

_CONTEXTS = ("motion", "color")
_OTHER = {"motion": "color", "color": "motion"}
_NO_LINE = "no line found"
_NO_CHOICE = "the network chose one side only"


def summary(runs: Runs, cfg) -> str:
    """The paragraph under the title.

    Parameters
    ----------
    runs : Runs
        The runs of every seed (:class:`~neurodyn.reproduce.runs.Runs`), each the
        results of one seed's run (the first seed's working data, keys starting with
        ``_``, included).
    cfg : Mante2013Config
        The sizes of the run.

    Returns
    -------
    str

    Examples
    --------
    One seed of a small run (16 units, 100 steps), then the report's opening paragraph:

    >>> from neurodyn.reproduce.mante2013.report import summary
    >>> from neurodyn.reproduce.runs import Runs
    >>> from neurodyn.reproduce.mante2013 import MANTE2013, Mante2013Config
    >>> cfg = Mante2013Config(seeds=1, n_hidden=16, steps=100, lr=1e-2, n_validation=16,
    ...                       val_every=50, n_test=128, n_repeats=1, n_components=8)
    >>> runs = Runs([MANTE2013.run(cfg, seed=0, progress=False, device="cpu")], seeds=[0])
    >>> text = summary(runs, cfg)
    >>> print(text.split(":")[0])
    A tanh rate network of 16 units (τ = 100 ms, Euler step 20 ms, recurrent noise 0.1) trained with Adam on context-dependent integration
    >>> "1 seed(s)" in text
    True
    """
    seconds = runs.values(lambda r: r["train_seconds"] + r["analysis_seconds"])
    lo, hi = cfg.stimulus_ms
    return (
        f"A tanh rate network of {cfg.n_hidden} units (τ = {cfg.tau:g} ms, Euler step "
        f"{cfg.dt:g} ms, recurrent noise {cfg.noise_rec:g}) trained with Adam on "
        f"context-dependent integration: motion and colour evidence at coherences "
        f"{', '.join(f'{c:g}' for c in cfg.coherences)} % (input noise {cfg.sigma:g} per √ms), "
        f"a stimulus of {lo:g} to {hi:g} ms, the choice after it ({cfg.steps} Adam steps). In each "
        "context, at the input with no net evidence: the lines of slow points on which the "
        f"states at the end of the stimulus settle within {cfg.relax_ms:g} ms, the slow "
        "mode's time constant, its right eigenvector against the choice axis of targeted "
        "dimensionality reduction, and its left eigenvector (the selection vector) against "
        "each modality's input. Time constants in ms. "
        f"{len(runs)} seed(s), {np.mean(seconds):.0f} s each."
    )


def _per_context(runs: Runs, get, spec=".3g", missing=_NO_LINE) -> Measured:
    return Measured(" / ".join(runs.cell(lambda r, c=c: get(r, c), spec, missing=missing)
                               for c in _CONTEXTS))  # fmt: skip


def _line(key):
    return lambda r, c: r["lines"][c][key]


def _pickup(relevant: bool):
    return lambda r, c: r["lines"][c]["pickup"][c if relevant else _OTHER[c]]


def _selection_cos(relevant: bool):
    return lambda r, c: r["lines"][c]["selection_cos"][c if relevant else _OTHER[c]]


def _claims_rows(runs: Runs, cfg) -> list:
    p = PAPER
    both = " (motion context / colour context)"
    rows = [
        ["network", p["network"]["value"] + f" ({p['network']['source']})",
         runs.cell(lambda r: f"{cfg.n_hidden} tanh units, Adam, {r['train_steps']} steps")],
        ["accuracy on test trials (network)", "n/a (the network's is not given)",
         runs.cell(lambda r: r["accuracy"])],
        ["accuracy of the ideal observer of the relevant evidence, same trials",
         f"n/a; our bar: the network within {ACCURACY_GAP:g}",
         runs.cell(lambda r: r["ideal_accuracy"])],
        ["logistic slope of the choice on the relevant coherence (per %)" + both,
         p["behaviour"]["value"] + f" ({p['behaviour']['source']})",
         _per_context(runs, lambda r, c: r["choice_weights"][c]["relevant"],
                      missing=_NO_CHOICE)],
        ["logistic slope on the irrelevant coherence (per %)" + both, "≈ 0 (Fig. 1, 5)",
         _per_context(runs, lambda r, c: r["choice_weights"][c]["irrelevant"],
                      missing=_NO_CHOICE)],
        ["|irrelevant slope| / |relevant slope|, worse context", f"our bar {GATING:g}",
         runs.cell(gating_ratio, missing=_NO_CHOICE)],
        ["lines of slow points found" + both,
         p["line_attractor"]["value"] + f" ({p['line_attractor']['source']})",
         _per_context(runs, lambda r, c: r["lines"][c]["n_lines"], ".3g")],
        ["slow mode's time constant on the lines (ms)" + both,
         f"eigenvalue near zero; our bar {SLOW:g} τ = {SLOW * cfg.tau:g} ms",
         _per_context(runs, _line("time_constant"))],
        ["next mode's time constant (ms)" + both,
         f"clearly stable; our bar: the slow one ≥ {GAP:g} × this",
         _per_context(runs, _line("next_time_constant"))],
        ["|cos(slow mode, choice axis)|" + both,
         p["choice_axis"]["value"] + f" ({p['choice_axis']['source']}); our bar "
         f"{CHOICE_ALIGNMENT:g}", _per_context(runs, _line("choice_alignment"))],
        ["pickup |r₀||l₀ᴴBe| of the relevant modality" + both,
         p["selection"]["value"] + f" ({p['selection']['source']})",
         _per_context(runs, _pickup(True))],
        ["pickup of the irrelevant modality" + both, "small (Fig. 6)",
         _per_context(runs, _pickup(False))],
        ["relevant / irrelevant pickup, worse context", f"our bar {SELECTION:g}",
         runs.cell(selection_ratio, missing=_NO_LINE)],
        ["|cos(selection vector, relevant input vector)|" + both,
         "large (Fig. 6)", _per_context(runs, _selection_cos(True))],
        ["|cos(selection vector, irrelevant input vector)|" + both,
         "small (Fig. 6)", _per_context(runs, _selection_cos(False))],
        ["|cos| of the two contexts' line directions", "similar across contexts (Fig. 6)",
         runs.cell(lambda r: r["cross_context"]["right_cos"], missing=_NO_LINE)],
        ["|cos| of the two contexts' selection vectors", "changes with the context (Fig. 6)",
         runs.cell(lambda r: r["cross_context"]["selection_cos"], missing=_NO_LINE)],
        ["training + analysis (s)", "n/a", runs.cell(
            lambda r: r["train_seconds"] + r["analysis_seconds"], ".0f")],
    ]  # fmt: skip
    return rows


_LINE_KEYS = ("n_lines", "n_points", "length", "time_constant", "next_time_constant",
              "slow_growth", "drift_speed", "alignment", "choice_alignment")  # fmt: skip


_CSV_HEADER = (
    "seed", "context", *_LINE_KEYS, "pickup_motion", "pickup_color", "selection_cos_motion",
    "selection_cos_color", "slope_relevant", "slope_irrelevant", "accuracy", "ideal_accuracy",
)  # fmt: skip


def _csv_rows(runs: Runs, cfg) -> list:
    def get(r):
        rows = []
        for c in _CONTEXTS:
            line, w = r["lines"][c], r["choice_weights"][c]
            rows.append({
                "context": c, **{k: line[k] for k in _LINE_KEYS},
                "pickup_motion": line["pickup"]["motion"], "pickup_color": line["pickup"]["color"],
                "selection_cos_motion": line["selection_cos"]["motion"],
                "selection_cos_color": line["selection_cos"]["color"],
                "slope_relevant": w["relevant"], "slope_irrelevant": w["irrelevant"],
                "accuracy": r["accuracy"], "ideal_accuracy": r["ideal_accuracy"],
            })  # fmt: skip
        return rows

    return runs.records(get)


TABLES = (
    Table(
        header=("quantity", "paper (source)", "ours"),
        rows=_claims_rows,
        ours=("ours",),
        title="The paper's claims beside ours",
    ),
    Table(header=_CSV_HEADER, rows=_csv_rows, markdown=False, csv=""),
)


# -- figure ----------------------------------------------------------------------------
_AXIS = {"choice": 0, "motion": 1, "color": 2}


def figure(runs: Runs, outcomes: dict, cfg) -> Figure:
    """Top: the first seed's condition-averaged trajectories in each context, sorted by
    choice and the coherence of one modality and projected on the choice axis and that
    modality's axis, with the context's line attractor (the paper's Fig. 2 and 5).
    Bottom: per context, the pickup of each modality by the slow mode, the slow and
    next time constants, and the logistic slopes of the choice, every seed.

    Parameters
    ----------
    runs : Runs
        The runs of every seed (:class:`~neurodyn.reproduce.runs.Runs`), each the
        results of one seed's run (the first seed's working data, keys starting with
        ``_``, included).
    outcomes : dict
        Each claim's description mapped to its status (``"held"``, ``"not held"``,
        ``"not tested"``).
    cfg : Mante2013Config
        The sizes of the run.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    One seed of a small run (16 units, 100 steps), its claims checked as the harness
    checks them, then the figure (a plain Figure, not held by pyplot):

    >>> from neurodyn.reproduce.mante2013.report import figure
    >>> from neurodyn.reproduce.runs import Runs
    >>> from neurodyn.reproduce.mante2013 import MANTE2013, Mante2013Config
    >>> cfg = Mante2013Config(seeds=1, n_hidden=16, steps=100, lr=1e-2, n_validation=16,
    ...                       val_every=50, n_test=128, n_repeats=1, n_components=8)
    >>> runs = Runs([MANTE2013.run(cfg, seed=0, progress=False, device="cpu")], seeds=[0])
    >>> outcomes = {c["description"]: c["status"]
    ...             for c in MANTE2013.check_claims(runs).values()}
    >>> fig = figure(runs, outcomes, cfg)
    >>> len(fig.axes), fig.axes[0].get_title()
    (7, 'motion context, sorted by motion')
    """
    fig = Figure(figsize=(18.0, 9.0), layout="constrained")
    grid = fig.add_gridspec(2, 4)
    first = runs.first
    for k, (context, modality) in enumerate([(c, m) for c in _CONTEXTS for m in _CONTEXTS]):
        _state_space(fig.add_subplot(grid[0, k]), first, context, modality)
    _pickup_panel(fig.add_subplot(grid[1, 0:2]), runs)
    _time_constant_panel(fig.add_subplot(grid[1, 2]), runs, cfg)
    _slopes_panel(fig.add_subplot(grid[1, 3]), runs)
    held = sum(o == "held" for o in outcomes.values())
    tested = sum(o != "not tested" for o in outcomes.values())
    fig.suptitle(f"Mante et al. (2013), context-dependent integration: {held} of {tested} "
                 "claims held")  # fmt: skip
    return fig


def _state_space(ax, first: dict, context: str, modality: str) -> None:
    rows = first["_paths"][(context, modality)]
    cohs = sorted({abs(r["coherence"]) for r in rows}) or [1.0]
    for r in rows:
        shade = 0.35 + 0.65 * abs(r["coherence"]) / max(cohs)
        colour = (0.0, 0.0, shade) if r["coherence"] > 0 else (shade, 0.0, 0.0)
        style = "-" if r["choice"] > 0 else "--"
        path = r["path"]
        ax.plot(path[:, _AXIS["choice"]], path[:, _AXIS[modality]], style, color=colour, lw=1)
        ax.plot(path[-1, _AXIS["choice"]], path[-1, _AXIS[modality]], "o", color=colour, ms=3)
    pts = first["_line_points"][context]
    if len(pts):
        ax.plot(pts[:, _AXIS["choice"]], pts[:, _AXIS[modality]], ".", color="0.3", ms=3,
                label="line attractor (slow points)")  # fmt: skip
        ax.legend(fontsize="small", loc="best")
    ax.set(xlabel="choice axis", ylabel=f"{modality} axis",
           title=f"{context} context, sorted by {modality}")  # fmt: skip


def _pickup_panel(ax, runs: Runs) -> None:
    xs = np.arange(len(_CONTEXTS))
    for j, modality in enumerate(_CONTEXTS):
        for k, r in enumerate(runs):
            vals = [r["lines"][c]["pickup"][modality] for c in _CONTEXTS]
            ax.plot(xs + (j - 0.5) * 0.3 + 0.04 * k, vals, "o", color=f"C{j}", ms=6,
                    label=f"{modality} evidence" if k == 0 else None)  # fmt: skip
    ax.set_xticks(xs, [f"{c} context" for c in _CONTEXTS])
    ax.set_yscale("log")
    ax.set(ylabel="pickup |r₀||l₀ᴴBe| (per unit evidence, per ms)",
           title="what the slow mode integrates (selection vector)")  # fmt: skip
    ax.legend(fontsize="small")


def _time_constant_panel(ax, runs: Runs, cfg) -> None:
    xs = np.arange(len(_CONTEXTS))
    for k, r in enumerate(runs):
        for key, marker, label in (("time_constant", "o", "slow mode"),
                                   ("next_time_constant", "s", "next mode")):  # fmt: skip
            vals = [r["lines"][c][key] for c in _CONTEXTS]
            ax.plot(xs + 0.05 * k, vals, marker, color="C2" if key == "time_constant" else "C7",
                    label=label if k == 0 else None)  # fmt: skip
    ax.axhline(SLOW * cfg.tau, color="k", ls=":", lw=1, label=f"bar {SLOW:g} τ")
    ax.axhline(cfg.tau, color="0.5", ls="--", lw=1, label="τ")
    ax.set_yscale("log")
    ax.set_xticks(xs, [f"{c} context" for c in _CONTEXTS])
    ax.set(ylabel="time constant (ms)", title="slow and next modes on the lines")
    ax.legend(fontsize="small")


def _slopes_panel(ax, runs: Runs) -> None:
    xs = np.arange(len(_CONTEXTS))
    for k, r in enumerate(runs):
        for key, colour in (("relevant", "C3"), ("irrelevant", "C0")):
            vals = [r["choice_weights"][c][key] for c in _CONTEXTS]
            ax.plot(xs + 0.05 * k, vals, "o", color=colour,
                    label=f"{key} coherence" if k == 0 else None)  # fmt: skip
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xticks(xs, [f"{c} context" for c in _CONTEXTS])
    ax.set(ylabel="logistic slope of the choice (per %)", title="behaviour (Fig. 1)")
    ax.legend(fontsize="small")
