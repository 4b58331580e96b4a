"""The sine-wave generator's summary, tables and figure (:mod:`neurodyn.reproduce.sussillo2013`).

Every "ours" cell is a mean ± spread over seeds of a number measured on the run.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from ...analysis.projection import pca_basis
from ..harness import Table
from ..runs import Runs
from .claims import (
    CYCLE_BAR,
    LINEAR_BAR,
    PAPER,
    TRIVIAL_TOL,
    cycle_error,
    linear_error,
    rank_correlation,
    relative_errors,
)

__all__ = ["TABLES", "figure", "summary"]


def _levels(r, key: str) -> np.ndarray:
    return np.asarray(r["levels"][key], dtype=float)


def _fraction(r, ok) -> float:
    return float(np.mean(ok(r)))


def _with_pair(r) -> np.ndarray:
    return (_levels(r, "n_with_pair") > 0) & (np.abs(_levels(r, "winding")) == 1)


def _stable(r) -> np.ndarray:
    return np.asarray(r["levels"]["cycle_stable"], dtype=bool) & (
        _levels(r, "trivial_error") <= TRIVIAL_TOL
    )


def _output_error(r) -> float:
    return float(np.median(relative_errors(_levels(r, "omega_output"), _levels(r, "omega"))))


#: Levels whose pair grows slower than this fraction of its frequency count as near the
#: Hopf bifurcation, where the linear prediction is first-order accurate.
NEAR_HOPF = 0.25


def _twist_ratio(r) -> np.ndarray:
    """γ/ω of each level's unstable pair (NaN where there is none)."""
    return _levels(r, "growth_linear") / _levels(r, "omega_linear")


def _near_hopf_error(r) -> float:
    """Median linear error over the levels whose pair has γ/ω below NEAR_HOPF."""
    near = _twist_ratio(r) < NEAR_HOPF
    err = relative_errors(_levels(r, "omega_linear"), _levels(r, "omega"))
    return float(np.median(err[near])) if near.any() else float("nan")


def _error_follows_growth(r) -> float:
    """Spearman correlation, over levels, of the linear error with γ/ω."""
    ratio = _twist_ratio(r)
    ok = np.isfinite(ratio)
    if ok.sum() < 3:
        return float("nan")
    err = relative_errors(_levels(r, "omega_linear"), _levels(r, "omega"))
    return float(stats.spearmanr(err[ok], ratio[ok]).statistic)


def _largest(values: np.ndarray) -> float:
    """The largest finite value (NaN when there is none)."""
    values = values[np.isfinite(values)]
    return float(values.max()) if len(values) else float("nan")


def summary(runs: Runs, cfg) -> str:
    """The paragraph under the title.

    Parameters
    ----------
    runs : Runs
        The runs of every seed (:class:`~neurodyn.reproduce.runs.Runs`), each the
        results of one seed's run (the first seed's working data, keys starting with
        ``_``, included).
    cfg : Sussillo2013Config
        The sizes of the run.

    Returns
    -------
    str

    Examples
    --------
    One seed of a small run (16 units, two input levels, at most 300 steps on trials of
    20 τ), then the report's opening paragraph:

    >>> from neurodyn.reproduce.sussillo2013.report import summary
    >>> from neurodyn.reproduce.runs import Runs
    >>> from neurodyn.reproduce.sussillo2013 import SUSSILLO2013, Sussillo2013Config
    >>> cfg = Sussillo2013Config(
    ...     seeds=1, n_hidden=16, n_levels=2, dt=20.0, batch_size=16, lr=1e-2,
    ...     stage_ms=(2000.0,), stage_steps=(300,), n_validation=8, val_every=25,
    ...     free_periods=2.0, n_inits=16, cycle_steps=100, lyapunov_steps=200,
    ...     lyapunov_transient=20, n_shown=2)
    >>> runs = Runs([SUSSILLO2013.run(cfg, seed=0, progress=False, device="cpu")], seeds=[0])
    >>> text = summary(runs, cfg)
    >>> print(text.split(":")[0])
    A tanh rate network of 16 units (τ = 100 ms, Euler step 20 ms) trained with Adam on the sine-wave generator
    >>> "2 static input levels" in text, "1 seed(s)" in text
    (True, True)
    """
    steps = runs.values(lambda r: r["train_steps"])
    seconds = runs.values(lambda r: r["train_seconds"] + r["analysis_seconds"])
    return (
        f"A tanh rate network of {cfg.n_hidden} units (τ = {cfg.tau:g} ms, Euler step "
        f"{cfg.dt:g} ms) trained with Adam on the sine-wave generator: {cfg.n_levels} static "
        f"input levels u_j = j/{cfg.n_levels} + 0.25, each asking for sin(ω_j t) with ω_j "
        f"from 0.1 to 0.6 radians per τ, on trials growing from {cfg.stage_ms[0] / cfg.tau:g} τ "
        f"to {cfg.stage_ms[-1] / cfg.tau:g} τ ({np.mean(steps):.0f} steps on average). At every "
        "level, on the network's ODE: the fixed point whose linearization has an unstable "
        "complex pair γ ± iω, the limit cycle (Newton shooting) with its Floquet multipliers, "
        "and the top Lyapunov exponents on it; the output's frequency is measured on free "
        f"runs {cfg.free_periods:g} times the trial's length, after the trained length. "
        f"Frequencies in radians per τ. {len(runs)} seed(s), {np.mean(seconds):.0f} s each."
    )


def _claims_rows(runs: Runs, cfg) -> list:
    def median(key):
        return runs.cell(lambda r: float(np.nanmedian(_levels(r, key))))

    p = PAPER
    rows = [
        ["input levels", p["levels"]["value"] + f" ({p['levels']['source']})",
         runs.cell(lambda r: r["n_levels"])],
        ["target frequencies ω_j (rad/τ)", p["frequencies"]["value"]
         + f" ({p['frequencies']['source']})",
         runs.cell(lambda r: f"{min(r['levels']['omega']):.3g} to {max(r['levels']['omega']):.3g}")],
        ["fraction of levels generated (normalised error ≤ 0.2, training length)",
         "trained to generate sin(ω_j t)", runs.cell(lambda r: r["accuracy"])],
        ["fraction of levels with a fixed point with an unstable complex pair, inside the cycle",
         p["fixed_points"]["value"] + f" ({p['fixed_points']['source']})",
         runs.cell(lambda r: _fraction(r, _with_pair))],
        ["fixed points found per level (median)", "n/a (not reported)", median("n_roots")],
        ["the pair's growth rate γ (per τ, median over levels)", "γ > 0 (unstable)",
         median("growth_linear")],
        ["median |Im λ − ω_j| / ω_j (linear prediction)",
         p["linear_frequency"]["value"] + f" ({p['linear_frequency']['source']}); "
         f"our bar {LINEAR_BAR:g}", runs.cell(linear_error)],
        ["Spearman correlation of Im λ with ω_j", "follows ω_j (Fig. 7)",
         runs.cell(rank_correlation)],
        [f"median |Im λ − ω_j| / ω_j over the levels near the bifurcation (γ < {NEAR_HOPF:g} ω)",
         "n/a (not reported)",
         runs.cell(_near_hopf_error, missing="no level that near")],
        ["Spearman correlation of that error with γ/ω over levels",
         "n/a (the Hopf normal form's error grows with γ/ω)",
         runs.cell(_error_follows_growth)],
        ["fraction of levels with a stable limit cycle (Floquet)",
         "an oscillation at every level", runs.cell(lambda r: _fraction(r, _stable))],
        ["median |2π/T − ω_j| / ω_j (limit cycle of the ODE)",
         f"oscillates at ω_j; our bar {CYCLE_BAR:g}", runs.cell(cycle_error)],
        ["median |ω_out − ω_j| / ω_j (output, free run past the trained length)",
         "oscillates at ω_j", runs.cell(_output_error)],
        ["largest nontrivial Floquet multiplier |μ₂| (over levels)", "n/a (not in the paper)",
         runs.cell(lambda r: _largest(_levels(r, "max_multiplier")))],
        ["largest |top Lyapunov exponent| (per τ, over levels)", "0 on a limit cycle (theory)",
         runs.cell(lambda r: _largest(np.abs(_levels(r, "lyapunov_top"))))],
        ["training steps", "n/a (Hessian-free optimisation in the paper)",
         runs.cell(lambda r: r["train_steps"], ".4g")],
    ]  # fmt: skip
    return rows


def _level_rows(runs: Runs, cfg) -> list:
    first = runs.first["levels"]
    rows = []
    for i, level in enumerate(first["level"]):

        def at(key, i=i):
            return runs.cell(lambda r: r["levels"][key][i], ".3g", missing="no oscillation")

        rows.append([
            str(level), f"{first['input'][i]:.4f}", f"{first['omega'][i]:.3f}",
            at("omega_linear"), at("growth_linear"), at("omega_cycle"), at("omega_output"),
            at("max_multiplier"), at("lyapunov_top"),
        ])  # fmt: skip
    return rows


_LEVEL_KEYS = (
    "level", "input", "omega", "nmse", "omega_output", "omega_linear", "growth_linear",
    "n_roots", "n_with_pair", "winding", "centre_distance", "n_unstable", "cycle_status",
    "cycle_stable", "omega_cycle", "trivial_error", "max_multiplier", "floquet_rate",
    "lyapunov_top", "lyapunov_second",
)  # fmt: skip


def _csv_rows(runs: Runs, cfg) -> list:
    def get(r):
        lv = r["levels"]
        return [{k: lv[k][i] for k in _LEVEL_KEYS} for i in range(len(lv["level"]))]

    return runs.records(get)


_LEVEL_OURS = ("Im λ (ours)", "γ (ours)", "2π/T (ours)", "output ω (ours)", "|μ₂| (ours)",
               "λ₁ per τ (ours)")  # fmt: skip

TABLES = (
    Table(
        header=("quantity", "paper (source)", "ours"),
        rows=_claims_rows,
        ours=("ours",),
        title="The paper's claims beside ours",
    ),
    Table(
        header=("level j", "u_j", "ω_j (paper's target)", *_LEVEL_OURS),
        rows=_level_rows,
        ours=_LEVEL_OURS,
        title="Every level: target frequency against the unstable pair's (the paper's Fig. 7), "
        "the limit cycle's and the output's, in radians per τ",
    ),
    Table(header=("seed", *_LEVEL_KEYS), rows=_csv_rows, markdown=False, csv=""),
)


# -- figure ----------------------------------------------------------------------------
_STYLE = {
    "omega_linear": ("o", "C0", "Im λ of the unstable pair"),
    "omega_cycle": ("x", "C3", "limit cycle 2π/T"),
    "omega_output": (".", "C2", "output (free run)"),
}


def figure(runs: Runs, outcomes: dict, cfg) -> Figure:
    """Top: predicted against target frequency with the diagonal; relative errors per
    level; cycles and fixed points in the cycles' principal plane (first seed). Bottom:
    outputs of a free run against their targets; Floquet multipliers; the second
    Lyapunov exponent against the Floquet attraction rate.

    Parameters
    ----------
    runs : Runs
        The runs of every seed (:class:`~neurodyn.reproduce.runs.Runs`), each the
        results of one seed's run (the first seed's working data, keys starting with
        ``_``, included).
    outcomes : dict
        Each claim's description mapped to its status (``"held"``, ``"not held"``,
        ``"not tested"``).
    cfg : Sussillo2013Config
        The sizes of the run.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    One seed of a small run (16 units, two input levels, at most 300 steps on trials of
    20 τ), its claims checked as the harness checks them, then the figure (a plain
    Figure, not held by pyplot: ``fig.savefig(path)`` writes it and nothing needs
    closing):

    >>> from neurodyn.reproduce.sussillo2013.report import figure
    >>> from neurodyn.reproduce.runs import Runs
    >>> from neurodyn.reproduce.sussillo2013 import SUSSILLO2013, Sussillo2013Config
    >>> cfg = Sussillo2013Config(
    ...     seeds=1, n_hidden=16, n_levels=2, dt=20.0, batch_size=16, lr=1e-2,
    ...     stage_ms=(2000.0,), stage_steps=(300,), n_validation=8, val_every=25,
    ...     free_periods=2.0, n_inits=16, cycle_steps=100, lyapunov_steps=200,
    ...     lyapunov_transient=20, n_shown=2)
    >>> runs = Runs([SUSSILLO2013.run(cfg, seed=0, progress=False, device="cpu")], seeds=[0])
    >>> outcomes = {c["description"]: c["status"]
    ...             for c in SUSSILLO2013.check_claims(runs).values()}
    >>> fig = figure(runs, outcomes, cfg)
    >>> len(fig.axes), fig.axes[0].get_title()
    (6, 'frequency against target (Fig. 7)')
    """
    fig = Figure(figsize=(16.0, 9.5), layout="constrained")
    axes = fig.subplots(2, 3)
    _frequency_panel(axes[0, 0], runs)
    _error_panel(axes[0, 1], runs)
    _cycles_panel(axes[0, 2], runs.first)
    _traces_panel(axes[1, 0], runs.first, cfg)
    _floquet_panel(axes[1, 1], runs)
    _lyapunov_panel(axes[1, 2], runs)
    held = sum(o == "held" for o in outcomes.values())
    tested = sum(o != "not tested" for o in outcomes.values())
    fig.suptitle(f"Sussillo & Barak (2013), the sine-wave generator: {held} of {tested} "
                 "claims held")  # fmt: skip
    return fig


def _frequency_panel(ax, runs: Runs) -> None:
    lo, hi = np.inf, -np.inf
    for key, (marker, colour, label) in _STYLE.items():
        for k, r in enumerate(runs):
            w, est = _levels(r, "omega"), _levels(r, key)
            lo, hi = min(lo, np.nanmin([w.min(), *est])), max(hi, np.nanmax([w.max(), *est]))
            ax.plot(w, est, marker, color=colour, ms=5, alpha=0.7, ls="none",
                    label=label if k == 0 else None)  # fmt: skip
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="diagonal")
    ax.set(xlabel="target ω_j (rad/τ)", ylabel="frequency (rad/τ)",
           title="frequency against target (Fig. 7)")  # fmt: skip
    ax.legend(fontsize="small")


def _error_panel(ax, runs: Runs) -> None:
    for key, (marker, colour, label) in _STYLE.items():
        for k, r in enumerate(runs):
            err = relative_errors(_levels(r, key), _levels(r, "omega"))
            ax.plot(_levels(r, "omega"), np.where(np.isfinite(err), err, np.nan), marker,
                    color=colour, ms=5, alpha=0.7, label=label if k == 0 else None)  # fmt: skip
    ax.axhline(LINEAR_BAR, color="C0", ls=":", lw=1, label=f"linear bar {LINEAR_BAR:g}")
    ax.axhline(CYCLE_BAR, color="C3", ls=":", lw=1, label=f"cycle bar {CYCLE_BAR:g}")
    ax.set_yscale("log")
    ax.set(xlabel="target ω_j (rad/τ)", ylabel="|ω − ω_j| / ω_j", title="relative errors")
    ax.legend(fontsize="small")


def _cycles_panel(ax, first: dict) -> None:
    orbits = first["_orbits"]
    if not orbits:
        ax.set_title("no limit cycle to draw")
        return
    mean, comps = pca_basis(np.vstack(list(orbits.values())), 2)
    levels = sorted(orbits)
    colours = {lv: f"C{i % 10}" for i, lv in enumerate(levels)}
    for level in levels:
        p = (orbits[level] - mean) @ comps.T
        ax.plot(p[:, 0], p[:, 1], color=colours[level], lw=1.2, label=f"level {level}")
        x = first["_points"].get(level)
        if x is not None:
            q = (x - mean) @ comps.T
            ax.plot(q[0], q[1], "x", color=colours[level], ms=9, mew=2)
    ax.set(xlabel="PC 1", ylabel="PC 2",
           title="limit cycles and their fixed points (×), first seed")  # fmt: skip
    ax.legend(fontsize="small")


def _traces_panel(ax, first: dict, cfg) -> None:
    tr = first["_traces"]
    # Three of the drawn levels, spread over the range.
    for k in np.unique(np.rint(np.linspace(0, len(tr["level"]) - 1, 3)).astype(int)):
        line = ax.plot(tr["time"], tr["output"][k], lw=1, label=f"level {int(tr['level'][k])}")[0]
        ax.plot(tr["time"], tr["target"][k], ls="--", lw=0.8, color=line.get_color())
    trained = cfg.stage_ms[-1] / cfg.tau
    ax.axvline(trained, color="k", lw=1, ls=":", label="trained length")
    # Around the end of the trained length, where a transient would stop and a cycle not.
    ax.set_xlim(0.8 * trained, 1.6 * trained)
    ax.set(xlabel="time (τ)", ylabel="output", title="free runs (dashed: target)")
    ax.legend(fontsize="small", loc="lower left")


def _floquet_panel(ax, runs: Runs) -> None:
    for k, r in enumerate(runs):
        ax.semilogy(_levels(r, "omega"), _levels(r, "max_multiplier"), "o", color="C4",
                    ms=4, alpha=0.7, label="largest nontrivial |μ|" if k == 0 else None)  # fmt: skip
        ax.semilogy(_levels(r, "omega"), np.maximum(_levels(r, "trivial_error"), 1e-16), "s",
                    color="0.5", ms=3, alpha=0.7,
                    label="|μ_trivial − 1|" if k == 0 else None)  # fmt: skip
    ax.axhline(1.0, color="k", lw=1)
    ax.set(xlabel="target ω_j (rad/τ)", ylabel="modulus",
           title="Floquet multipliers (stable: nontrivial < 1)")  # fmt: skip
    ax.legend(fontsize="small")


def _lyapunov_panel(ax, runs: Runs) -> None:
    for k, r in enumerate(runs):
        rho = _levels(r, "floquet_rate")
        ax.plot(rho, _levels(r, "lyapunov_second"), "o", color="C1", ms=4, alpha=0.7,
                label="second exponent λ₂" if k == 0 else None)  # fmt: skip
        ax.plot(rho, _levels(r, "lyapunov_top"), "^", color="C5", ms=4, alpha=0.7,
                label="top exponent λ₁" if k == 0 else None)  # fmt: skip
    finite = np.concatenate([_levels(r, "floquet_rate") for r in runs])
    finite = finite[np.isfinite(finite)]
    if len(finite):
        lo = min(float(finite.min()), 0.0)
        ax.plot([lo, 0.0], [lo, 0.0], "k--", lw=1, label="λ = ln|μ₂|/T")
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set(xlabel="ln|μ₂| / T (per τ, Floquet)", ylabel="Lyapunov exponent (per τ)",
           title="Lyapunov exponents against the Floquet rate")  # fmt: skip
    ax.legend(fontsize="small")
