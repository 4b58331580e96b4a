"""The ring attractor's summary, tables and figure (:mod:`neurodyn.reproduce.ring_attractor`).

Every "ours" cell is a mean ± spread over seeds of a number measured on the run.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ...analysis.projection import pca_basis
from ..harness import Table
from ..runs import Runs
from .claims import ACCURACY, DRIFT, GAIN_TOL, GAP, HEADING_GAP, PAPER

__all__ = ["TABLES", "figure", "summary"]

_NO_RING = "no ring or line found"


def summary(runs: Runs, cfg) -> str:
    """The paragraph under the title.

    Parameters
    ----------
    runs : Runs
        The runs of every seed (:class:`~neurodyn.reproduce.runs.Runs`), each the
        results of one seed's run (the first seed's working data, keys starting with
        ``_``, included).
    cfg : RingConfig
        The sizes of the run.

    Returns
    -------
    str

    Examples
    --------
    One seed of a small run (16 units, 100 steps), then the report's opening paragraph:

    >>> from neurodyn.reproduce.ring_attractor.report import summary
    >>> from neurodyn.reproduce.runs import Runs
    >>> from neurodyn.reproduce.ring_attractor import RING_ATTRACTOR, RingConfig
    >>> cfg = RingConfig(seeds=1, n_hidden=16, steps=100, lr=1e-2, n_validation=16,
    ...                  val_every=50, n_test=16, n_states=128, move_ms=1000.0)
    >>> runs = Runs([RING_ATTRACTOR.run(cfg, seed=0, progress=False, device="cpu")], seeds=[0])
    >>> print(summary(runs, cfg).split(":")[0])
    A tanh rate network of 16 units (τ = 100 ms, Euler step 20 ms, recurrent noise 0.1) trained with Adam on head direction
    """
    seconds = runs.values(lambda r: r["train_seconds"] + r["analysis_seconds"])
    return (
        f"A tanh rate network of {cfg.n_hidden} units (τ = {cfg.tau:g} ms, Euler step "
        f"{cfg.dt:g} ms, recurrent noise {cfg.noise_rec:g}) trained with Adam on head "
        f"direction: after a cue of the initial heading, integrate angular velocity "
        f"(turning bouts of standard deviation {cfg.sigma_velocity:g} rad/s, still bouts "
        f"{cfg.p_still:.0%} of the time) into (cos θ, sin θ) for {cfg.move_ms:g} ms "
        f"({cfg.steps} Adam steps). At zero input: {cfg.n_states} states of the test trials "
        f"relaxed for {cfg.relax_ms:g} ms and strung by find_slow_manifolds; the headings "
        "the ring's points report; the drift of a held heading; and the heading's turn "
        f"under a constant velocity of {cfg.sigma_velocity:g} rad/s for {cfg.gain_ms:g} ms "
        f"from every point of the ring. {len(runs)} seed(s), {np.mean(seconds):.0f} s each."
    )


def _claims_rows(runs: Runs, cfg) -> list:
    p = PAPER

    def ring(key, spec=".3g"):
        return runs.cell(lambda r: r["ring"][key] if r["ring"]["kind"] != "none" else float("nan"),
                         spec, missing=_NO_RING)  # fmt: skip

    rows = [
        ["fraction of test trials within 15° at the end", f"our bar {ACCURACY:g}",
         runs.cell(lambda r: r["accuracy"])],
        ["median angular error over a trial (°)", "n/a", runs.cell(lambda r: r["error_deg"])],
        ["what find_slow_manifolds finds at rest", p["ring"]["value"] + f" ({p['ring']['source']})",
         runs.cell(lambda r: r["ring"]["kind"])],
        ["slow points on it", "n/a", ring("n_points")],
        ["|cos(slow mode, tangent)| on it", "1 (marginal direction along the ring)", ring("alignment")],
        ["slow mode's time constant (ms)", "∞ for a continuous attractor", ring("time_constant")],
        ["next mode's time constant (ms)", f"clearly faster; our bar: the slow one ≥ {GAP:g} × this",
         ring("next_time_constant")],
        ["winding of the headings along the ring", p["headings"]["value"]
         + f" ({p['headings']['source']}): ±1", runs.cell(lambda r: abs(r["winding"]))],
        ["largest gap between headings on the ring (°)", f"our bar {HEADING_GAP:g}",
         runs.cell(lambda r: r["largest_gap_deg"])],
        ["median |drift| of a held heading (°/s)", p["drift"]["value"]
         + f" ({p['drift']['source']}); our bar {DRIFT:g}",
         runs.cell(lambda r: r["drift_deg_s"], missing=_NO_RING)],
        ["largest |drift| on the ring (°/s)", "n/a", runs.cell(lambda r: r["max_drift_deg_s"],
                                                                missing=_NO_RING)],
        ["integration gain (median over the ring)", p["integration"]["value"]
         + f" ({p['integration']['source']}): 1; our bar ± {GAIN_TOL:g}",
         runs.cell(lambda r: r["gain"], missing=_NO_RING)],
        ["10–90 % spread of the gain over the ring", "n/a",
         runs.cell(lambda r: r["gain_spread"], missing=_NO_RING)],
        ["training + analysis (s)", "n/a",
         runs.cell(lambda r: r["train_seconds"] + r["analysis_seconds"], ".0f")],
    ]  # fmt: skip
    return rows


_CSV = ("accuracy", "error_deg", "final_error_deg", "winding", "largest_gap_deg",
        "drift_deg_s", "max_drift_deg_s", "gain", "gain_spread")  # fmt: skip
_RING = ("kind", "n_points", "length", "alignment", "support", "drift_speed", "time_constant",
         "next_time_constant")  # fmt: skip


def _csv_rows(runs: Runs, cfg) -> list:
    return runs.records(lambda r: [{**{k: r[k] for k in _CSV},
                                    **{f"ring_{k}": r["ring"][k] for k in _RING}}])  # fmt: skip


TABLES = (
    Table(
        header=("quantity", "paper (source)", "ours"),
        rows=_claims_rows,
        ours=("ours",),
        title="The claims beside ours",
    ),
    Table(
        header=("seed", *_CSV, *(f"ring_{k}" for k in _RING)),
        rows=_csv_rows,
        markdown=False,
        csv="",
    ),
)


def figure(runs: Runs, outcomes: dict, cfg) -> Figure:
    """The first seed's ring in its principal plane coloured by the heading it reports;
    that heading along the ring; the drift and the integration gain around it; a test
    trial; and every seed's time constants.

    Parameters
    ----------
    runs : Runs
        The runs of every seed (:class:`~neurodyn.reproduce.runs.Runs`), each the
        results of one seed's run (the first seed's working data, keys starting with
        ``_``, included).
    outcomes : dict
        Each claim's description mapped to its status (``"held"``, ``"not held"``,
        ``"not tested"``).
    cfg : RingConfig
        The sizes of the run.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    One seed of a small run (16 units, 100 steps), then the figure (a plain Figure, not
    held by pyplot):

    >>> from neurodyn.reproduce.ring_attractor.report import figure
    >>> from neurodyn.reproduce.runs import Runs
    >>> from neurodyn.reproduce.ring_attractor import RING_ATTRACTOR, RingConfig
    >>> cfg = RingConfig(seeds=1, n_hidden=16, steps=100, lr=1e-2, n_validation=16,
    ...                  val_every=50, n_test=16, n_states=128, move_ms=1000.0)
    >>> runs = Runs([RING_ATTRACTOR.run(cfg, seed=0, progress=False, device="cpu")], seeds=[0])
    >>> fig = figure(runs, {}, cfg)
    >>> len(fig.axes) >= 6, fig.axes[0].get_title()
    (True, 'ring of slow points at rest (first seed)')
    """
    fig = Figure(figsize=(16.0, 9.0), layout="constrained")
    axes = fig.subplots(2, 3)
    first = runs.first
    _ring_panel(fig, axes[0, 0], first)
    _heading_panel(axes[0, 1], first)
    _drift_panel(axes[0, 2], first)
    _gain_panel(axes[1, 0], first)
    _trial_panel(axes[1, 1], first)
    _time_constant_panel(axes[1, 2], runs, cfg)
    held = sum(o == "held" for o in outcomes.values())
    tested = sum(o != "not tested" for o in outcomes.values())
    fig.suptitle(f"A ring attractor from angular-velocity integration: {held} of {tested} "
                 "claims held")  # fmt: skip
    return fig


def _ring_panel(fig, ax, first) -> None:
    ax.set_title("ring of slow points at rest (first seed)")
    pts = first["_points"]
    if len(pts) < 3:
        return
    mean, comps = pca_basis(pts, 2)
    p = (pts - mean) @ comps.T
    dots = ax.scatter(p[:, 0], p[:, 1], c=np.degrees(first["_headings"]), cmap="twilight",
                      vmin=-180, vmax=180, s=8)  # fmt: skip
    fig.colorbar(dots, ax=ax, label="reported heading (°)")
    ax.set(xlabel="PC 1", ylabel="PC 2")


def _heading_panel(ax, first) -> None:
    h = np.degrees(np.unwrap(first["_headings"])) if len(first["_headings"]) else []
    ax.plot(h, ".", ms=3)
    ax.set(xlabel="point along the ring", ylabel="reported heading, unwrapped (°)",
           title=f"headings along the ring (winding {first['winding']})")  # fmt: skip


def _drift_panel(ax, first) -> None:
    if len(first["_drift"]):
        ax.plot(np.degrees(first["_headings"]), first["_drift"], ".", ms=3)
    ax.axhline(DRIFT, color="k", ls=":", lw=1, label=f"± bar {DRIFT:g}°/s")
    ax.axhline(-DRIFT, color="k", ls=":", lw=1)
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set(
        xlabel="reported heading (°)", ylabel="drift at rest (°/s)", title="drift of a held heading"
    )
    ax.legend(fontsize="small")


def _gain_panel(ax, first) -> None:
    if len(first["_gain"]):
        ax.plot(np.degrees(first["_headings"]), first["_gain"], ".", ms=3)
    ax.axhline(1.0, color="k", lw=1, label="perfect integration")
    ax.axhspan(1 - GAIN_TOL, 1 + GAIN_TOL, color="0.9", label=f"bar ± {GAIN_TOL:g}")
    ax.set(xlabel="reported heading (°)", ylabel="turn / input velocity",
           title="integration gain from the ring")  # fmt: skip
    ax.legend(fontsize="small")


def _trial_panel(ax, first) -> None:
    tr = first["_trial"]
    out = np.degrees(np.arctan2(tr["output"][:, 1], tr["output"][:, 0]))
    target = np.degrees(np.arctan2(tr["target"][:, 1], tr["target"][:, 0]))
    ax.plot(tr["time"], target, "k--", lw=1, label="heading")
    ax.plot(tr["time"], out, lw=1.2, label="network")
    ax2 = ax.twinx()
    ax2.plot(tr["time"], tr["velocity"], color="C2", lw=0.8, alpha=0.6)
    ax2.set_ylabel("angular velocity (rad/s)", color="C2")
    ax.set(xlabel="time (ms)", ylabel="heading (°)", title="a test trial")
    ax.legend(fontsize="small", loc="upper left")


def _time_constant_panel(ax, runs: Runs, cfg) -> None:
    for k, r in enumerate(runs):
        ax.plot(
            [k], [r["ring"]["time_constant"]], "o", color="C2", label="slow" if k == 0 else None
        )
        ax.plot(
            [k],
            [r["ring"]["next_time_constant"]],
            "s",
            color="C7",
            label="next" if k == 0 else None,
        )
    ax.axhline(cfg.tau, color="0.5", ls="--", lw=1, label="τ")
    ax.set_yscale("log")
    ax.set_xticks(range(len(runs)), [f"seed {s}" for s in runs.seeds])
    ax.set(ylabel="time constant on the ring (ms)", title="slow and next modes")
    ax.legend(fontsize="small")
