r"""Reproduce Sussillo & Barak (2013)'s sine-wave generator at CPU scale
(``neurodyn reproduce sussillo2013``): beyond the flip-flop, a network whose static
input selects the frequency of its oscillation, opened up level by level.

A :class:`~neurodyn.rnn_models.RateRNN` (tanh, 64 units, τ = 100 ms, Euler step
Δt = 10 ms) is trained on :class:`~neurodyn.tasks.SineWaveGenerator`: on a trial of
level j the input is the constant :math:`u_j = j/51 + 0.25` and the output must be
:math:`\sin(\omega_j t)`, :math:`\omega_j` from 0.1 to 0.6 radians per τ over the 51
levels (the paper's time unit read as the units' time constant). Trials grow from
15 τ to 100 τ over a curriculum (each stage until the validation error is below
``advance_nmse``): from rest, a network learns the first rise of a slow sine long before
a whole period of it. Trained at once on trials of 100 τ (Δt = τ/5, 6 levels), a
network was still at a normalised error of 0.58 after 1000 steps of Adam at 1e-2 (0.76
after 300 at 3e-3), where the curriculum at 2e-3 reached 0.05 in 525.

Then, at every level, on the network's ODE :math:`\tau\dot x = -x + W\tanh(x) + W_{in}u_j + b`
(:mod:`~neurodyn.reproduce.sussillo2013.mechanism`):

* the output's frequency on a free run three times the trial's length (the Euler map
  as trained), measured after the trained length, where only an attractor keeps it;
* the fixed point whose linearization has an unstable complex pair γ ± iω, found from
  the limit cycle's states and centre, and ω against the target :math:`\omega_j` (the
  paper's Fig. 7 as a table);
* the limit cycle from :func:`~neurodyn.analysis.find_limit_cycle`, its frequency
  :math:`2\pi/T` against :math:`\omega_j`, and its Floquet multipliers;
* the top two Lyapunov exponents on the cycle (0 and the cycle's attraction rate).

The claims (:mod:`~neurodyn.reproduce.sussillo2013.claims`) are checked on three seeds;
the tables and figure are in :mod:`~neurodyn.reproduce.sussillo2013.report`.

Differences from the paper: 64 units trained by Adam with a curriculum of trial
lengths (the paper trained with Hessian-free optimisation); the ODE
analysed is the one the trained Euler map discretises, and the two differ by about
:math:`\alpha\omega/2` of the frequency (α = Δt/τ = 0.1), which the report shows
beside the cycle's.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from ...rnn_models import RateRNN
from ...seeding import derive_seed
from ...tasks import SineWaveGenerator
from ...threads import limit
from ...train import Criterion, Curriculum, Stage, fit
from ..harness import Reproduction, Sizes
from ..training import Trained, analyse_trained
from .claims import CLAIMS, PAPER
from .mechanism import LevelOptions, analyze_level, oscillatory_mode, winding_number
from .report import TABLES, figure, summary

__all__ = [
    "FULL",
    "QUICK",
    "SUSSILLO2013",
    "Sussillo2013Config",
    "analyze_level",
    "oscillatory_mode",
    "reproduce_sussillo2013",
    "winding_number",
]


@dataclass(frozen=True)
class Sussillo2013Config(Sizes):
    """Sizes of a run (every field validated by :class:`Sizes`).

    Attributes
    ----------
    n_hidden : int
        Units of the network.
    n_levels : int
        Input levels (the paper's 51); every one is trained and analysed.
    tau, dt : float
        Time constant (the time unit of every frequency) and Euler step, ms.
    batch_size, lr : int, float
        Adam's mini-batches (fresh trials of random levels) and learning rate.
    stage_ms : tuple of float
        Trial lengths of the curriculum's stages (ms); the last is the training length.
    stage_steps : tuple of int
        Most steps of each stage.
    advance_nmse : float
        A stage ends when the validation trials' mean normalised error is at most this.
    final_nmse : float
        The last stage ends at this error (or after its steps).
    n_validation, val_every : int
        Validation trials, and steps between validations.
    free_periods : float
        Free runs last this many training lengths; the output's frequency is measured
        after the first.
    n_inits, cycle_steps, lyapunov_steps, lyapunov_transient : int
        Of each level's analysis (:class:`~.mechanism.LevelOptions`).
    n_shown : int
        Levels whose cycles the figure draws.

    Examples
    --------
    >>> cfg = Sussillo2013Config(seeds=1, n_levels=8)
    >>> cfg.n_hidden, len(cfg.stage_ms), cfg.stage_ms[-1]
    (64, 6, 10000.0)
    >>> try:
    ...     Sussillo2013Config(stage_ms=(1000.0,), stage_steps=(100, 200))
    ... except ValueError as err:
    ...     print(err)
    stage_ms and stage_steps must have one entry per stage, got 1 and 2
    """

    seeds: int = 3
    n_hidden: int = 64
    n_levels: int = 51
    tau: float = 100.0
    dt: float = 10.0
    batch_size: int = 32
    lr: float = 2e-3
    stage_ms: tuple[float, ...] = (1500.0, 3000.0, 4500.0, 6000.0, 8000.0, 10000.0)
    stage_steps: tuple[int, ...] = (200, 200, 200, 200, 200, 1500)
    advance_nmse: float = 0.1
    final_nmse: float = 0.02
    n_validation: int = 64
    val_every: int = 50
    free_periods: float = 3.0
    n_inits: int = 128
    cycle_steps: int = 400
    lyapunov_steps: int = 4000
    lyapunov_transient: int = 500
    n_shown: int = 6

    def __post_init__(self):
        super().__post_init__()
        if len(self.stage_ms) != len(self.stage_steps):
            raise ValueError(
                f"stage_ms and stage_steps must have one entry per stage, got "
                f"{len(self.stage_ms)} and {len(self.stage_steps)}"
            )
        if self.dt > self.tau:
            raise ValueError(f"dt={self.dt} must be <= tau={self.tau} (Euler stability)")
        if self.free_periods <= 1.0:
            raise ValueError(f"free_periods must exceed 1 (a run past the training length), "
                             f"got {self.free_periods}")  # fmt: skip


FULL = Sussillo2013Config()
QUICK = Sussillo2013Config(
    seeds=1, n_hidden=32, n_levels=4, dt=20.0, stage_ms=(1500.0, 3000.0, 5000.0),
    stage_steps=(100, 100, 300), advance_nmse=0.15, final_nmse=0.1, n_validation=16,
    val_every=20, n_inits=32, lyapunov_steps=1500, lyapunov_transient=250, n_shown=4,
)  # fmt: skip


def make_task(cfg: Sussillo2013Config, trial_ms: float, transient_ms: float = 0.0):
    """The task with trials of ``trial_ms`` scored after ``transient_ms``."""
    return SineWaveGenerator(
        dt=cfg.dt, n_levels=cfg.n_levels, time_unit_ms=cfg.tau,
        timing={"transient": transient_ms, "generate": trial_ms - transient_ms},
    )  # fmt: skip


def _curriculum(cfg: Sussillo2013Config) -> Curriculum:
    last = len(cfg.stage_ms) - 1
    stages = [
        Stage(make_task(cfg, ms), Criterion("val_nmse", "<=",
              cfg.final_nmse if i == last else cfg.advance_nmse),
              max_steps=steps, name=f"{ms / cfg.tau:g} tau")
        for i, (ms, steps) in enumerate(zip(cfg.stage_ms, cfg.stage_steps, strict=True))
    ]  # fmt: skip
    return Curriculum(stages)


def train(cfg: Sussillo2013Config, *, seed: int, progress: bool, device) -> Trained:
    """The trained network (on the CPU, in eval mode), its fit result and the seconds."""
    net = RateRNN(1, cfg.n_hidden, 1, dt=cfg.dt, tau=cfg.tau, seed=derive_seed(seed, "init"))
    start = time.perf_counter()
    result = fit(
        net, _curriculum(cfg), n_steps=sum(cfg.stage_steps), lr=cfg.lr,
        batch_size=cfg.batch_size, val_every=cfg.val_every, n_validation=cfg.n_validation,
        seed=seed, device=device, progress=progress,
    )  # fmt: skip
    return Trained(net.cpu().eval(), result, time.perf_counter() - start)


@torch.no_grad()
def _every_level(net, task: SineWaveGenerator):
    """One trial per level: the batch, its evaluation and the states (float64)."""
    batch = task.batch(len(task.levels), seed=0, level=task.levels.tolist())
    out = net(torch.as_tensor(batch.inputs), noise=False)
    scores = task.evaluate(out.outputs.numpy(), batch)
    return batch, scores, out.states.double().numpy(), out.outputs.numpy()[..., 0]


def _level_options(cfg: Sussillo2013Config) -> LevelOptions:
    return LevelOptions(n_inits=cfg.n_inits, cycle_steps=cfg.cycle_steps,
                        lyapunov_steps=cfg.lyapunov_steps,
                        lyapunov_transient=cfg.lyapunov_transient)  # fmt: skip


def _shown(cfg: Sussillo2013Config) -> np.ndarray:
    """The levels the figure draws, spread over the range."""
    spread = np.linspace(1, cfg.n_levels, min(cfg.n_shown, cfg.n_levels))
    return np.unique(np.rint(spread).astype(int))


def analyze(net, cfg: Sussillo2013Config, *, seed: int) -> dict:
    """Every level of the trained network: the task's scores, a free run, and the
    mechanism (:func:`~.mechanism.analyze_level`)."""
    trained = make_task(cfg, cfg.stage_ms[-1])
    batch, scores, _, _ = _every_level(net, trained)
    length = cfg.stage_ms[-1]
    free = make_task(cfg, cfg.free_periods * length, transient_ms=length)
    free_batch, free_scores, states, outputs = _every_level(net, free)
    dyn, opts = net.as_dynamics(), _level_options(cfg)
    levels = {"level": batch.variables["level"].astype(int).tolist(),
              "input": batch.variables["level_input"].tolist(),
              "omega": batch.variables["omega"].tolist(),
              "nmse": scores["nmse"].tolist(), "omega_output": free_scores["omega_out"].tolist()}  # fmt: skip
    shown, orbits, points = _shown(cfg), {}, {}
    # One thread pool setting for all levels: each analysis is small work (d³ products).
    with limit(None, work=2.0 * dyn.n_state**3, what="sussillo2013 levels"):
        for i, level in enumerate(levels["level"]):
            out = analyze_level(
                dyn, free_batch.inputs[i, 0].astype(float), states[i, -1],
                period_guess=2.0 * math.pi * cfg.tau / levels["omega"][i], time_unit=cfg.tau,
                options=opts, seed=derive_seed(seed, "analysis", level),
            )  # fmt: skip
            for key, value in out.items():
                if not key.startswith("_") and key != "lyapunov":
                    levels.setdefault(key, []).append(value)
            levels.setdefault("lyapunov_top", []).append(out["lyapunov"][0])
            levels.setdefault("lyapunov_second", []).append(out["lyapunov"][1])
            if level in shown and out["cycle_status"] == "converged":
                orbits[level], points[level] = out["_orbit"], out["_x"]
    keep = np.isin(levels["level"], shown)
    return {
        "levels": levels,
        "accuracy": float(np.mean(scores["correct"])),
        "_orbits": orbits,
        "_points": points,
        "_traces": {
            "time": free_batch.time / cfg.tau,
            "output": outputs[keep],
            "target": free_batch.targets[keep, :, 0],
            "level": shown,
        },
    }


def run(cfg: Sussillo2013Config, *, seed: int, progress: bool, device) -> dict:
    """One seed: train, then analyse every level."""
    trained = train(cfg, seed=seed, progress=progress, device=device)
    result = trained.result
    return analyse_trained(
        "sussillo2013", trained, lambda net: analyze(net, cfg, seed=seed), seed=seed,
        n_levels=cfg.n_levels,
        train_steps=int(result.steps),
        stage_steps=[int(n) for n in result.stage_steps],
        trained=bool(result.success),
    )  # fmt: skip


SUSSILLO2013 = Reproduction(
    name="sussillo2013",
    stem="sussillo2013",
    title="Sussillo & Barak (2013), the sine-wave generator: fixed points with an unstable "
    "complex pair, and the limit cycles around them",
    citation=PAPER["citation"],
    paper=PAPER,
    config_type=Sussillo2013Config,
    full=FULL,
    quick=QUICK,
    run=run,
    work=None,
    summary=summary,
    tables=TABLES,
    claims=CLAIMS,
    figure=figure,
)


def reproduce_sussillo2013(out_dir, *, quick: bool = False, seed: int = 0, **kwargs) -> dict:
    """Run :data:`~neurodyn.reproduce.sussillo2013.SUSSILLO2013` (see :class:`~neurodyn.reproduce.harness.Reproduction`).

    Parameters
    ----------
    out_dir : path-like
        Folder for the figure and the Markdown, CSV and JSON reports (created; each
        file written atomically) and each seed's results (``seeds/``, to resume).
    quick : bool
        The small configuration (one seed; the tests use it) instead of the full one.
    seed : int
        The first seed; the run uses ``seed, seed + 1, ...`` (``config.seeds``).
    **kwargs
        ``progress``, ``device``, ``threads``, ``config`` and ``resume``, as
        :class:`~neurodyn.reproduce.harness.Reproduction` takes them.

    Returns
    -------
    dict
        The harness's record: ``runs`` (each seed's results), ``claims``,
        ``claims_line``, ``config``, ``files`` and the rest.

    Examples
    --------
    Even the quick run trains a network and analyses four levels, so this shows what it
    runs; ``reproduce_sussillo2013("out/sine", quick=True)`` runs it.

    >>> quick = SUSSILLO2013.config(quick=True)
    >>> quick.seeds, quick.n_hidden, quick.n_levels, quick.stage_steps
    (1, 32, 4, (100, 100, 300))
    >>> [claim.name for claim in SUSSILLO2013.claims][:2]
    ['task_learned', 'fixed_point_every_level']
    """
    return SUSSILLO2013(out_dir, quick=quick, seed=seed, **kwargs)
