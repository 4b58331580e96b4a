r"""Reproduce Mante, Sussillo, Shenoy & Newsome (2013) at CPU scale
(``neurodyn reproduce mante2013``): context-dependent integration by a line attractor
whose selection vector turns with the context.

A :class:`~neurodyn.rnn_models.RateRNN` (tanh, 100 units as in the paper, τ = 100 ms,
Euler step 20 ms, recurrent noise) is trained with Adam on
:class:`~neurodyn.tasks.ContextDecisionMaking`: two noisy streams of evidence, motion
and colour, arrive together; a context cue says which one to report at the go cue, after
the stimulus (fixation until then, no delay). The coherences (2, 4, 8 and 16 %) leave
the ideal observer of the relevant stream at about 85 % correct, so every part of the
stimulus counts.

**The stimulus lasts 300 to 1500 ms, drawn per trial.** With the paper's fixed 750 ms
(``Mante2013Config(stimulus_ms=(750.0, 750.0))``, three seeds, 3000 steps), the trained
networks match the ideal observer with a leaky integrator: one stable point per context,
slowest time constant 400 to 650 ms, enough to weigh the whole of a 750-ms stimulus.
With the duration drawn per trial, a leaky integrator loses the start of the long
stimuli (one of 0.5 s is about 2 points below the ideal observer), and the same
configuration gives time constants beyond a second (see the full run).

Then, in each context, at the input with no net evidence
(:func:`~neurodyn.analysis.line_attractor`):

* the **line attractor**: the states the test trials end their stimulus in, left to
  relax for :attr:`Mante2013Config.relax_ms`, strung into lines of slow points by
  :func:`~neurodyn.analysis.find_slow_manifolds`; the slow mode's time constant and the
  next one's;
* its **direction**: the slow mode's right eigenvector against the choice axis of
  :func:`~neurodyn.analysis.targeted_axes` (Mante et al.'s targeted dimensionality
  reduction, here on the network's states, the space its eigenvectors live in);
* the **selection vector**: the left eigenvector, and how much of each modality's
  evidence it passes onto the line, :math:`|r_0|\,|l_0^H B e|`;
* the **behaviour**: the logistic slopes of the choice on the relevant and the
  irrelevant coherence (:mod:`~neurodyn.reproduce.mante2013.behaviour`);
* the paper's **state-space figure**: condition-averaged trajectories sorted by choice
  and coherence, projected on the choice, motion and colour axes, in each context, with
  the line attractor's points.

The claims (:mod:`~neurodyn.reproduce.mante2013.claims`) are checked on three seeds;
the tables and figure are in :mod:`~neurodyn.reproduce.mante2013.report`.

Differences from the paper: the network is trained by Adam on the rate network's Euler
map (the paper used Hessian-free optimisation); the evidence of each modality comes as
two channels, toward the left and toward the right target (the paper used one signed
input per modality; the difference of the two is that input); the stimulus duration
varies, for the reason above; the axes are found on the network's states, not on its
rates, and from simulated trials rather than recorded ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...analysis import line_attractor, project_targeted, targeted_axes
from ...seeding import derive_seed
from ...tasks import ContextDecisionMaking
from ..harness import Reproduction, Sizes
from ..training import Trained, analyse_trained, train_rate_rnn
from .behaviour import choice_weights
from .claims import CLAIMS, PAPER
from .report import TABLES, figure, summary

__all__ = [
    "CONTEXTS",
    "FULL",
    "MANTE2013",
    "MODALITIES",
    "QUICK",
    "Mante2013Config",
    "choice_weights",
    "evidence_channels",
    "make_task",
    "reproduce_mante2013",
    "zero_evidence_inputs",
]

#: The two contexts, in the task's coding (``context`` 0 and 1).
CONTEXTS = ("motion", "color")
#: The two modalities, each the difference of its right and left channels.
MODALITIES = ("motion", "color")


@dataclass(frozen=True)
class Mante2013Config(Sizes):
    """Sizes of a run (every field validated by :class:`Sizes`).

    Attributes
    ----------
    n_hidden : int
        Units of the network (100 in the paper).
    tau, dt : float
        Time constant and Euler step, ms.
    noise_rec : float
        Recurrent noise in training (none in the analysis).
    sigma : float
        Input noise of each evidence channel, per √ms.
    coherences : tuple of float
        Unsigned coherences (percent), each given a random sign per modality.
    fixation_ms, decision_ms : float
        Periods before the stimulus and after the go cue.
    stimulus_ms : tuple of float
        The stimulus lasts a duration drawn uniformly between these two (ms).
    figure_stimulus_ms : float
        Stimulus of the trials the axes and the figure are made of (the paper's 750).
    steps, batch_size, lr : int, int, float
        Adam's steps (cosine learning rate from ``lr``) and mini-batches.
    n_validation, val_every : int
        Validation trials, and steps between validations.
    n_test : int
        Test trials (random conditions) for the accuracy, the behaviour and the states
        the line attractor is sought from.
    n_repeats : int
        Trials per condition (context × motion coherence × colour coherence, signed) of
        the axes and the figure.
    relax_ms : float
        How long the end-of-stimulus states relax before the lines are sought: ten of
        the fast modes' time constants (about 200 ms), so that what is left of them is
        well below the spread along the line; about the slow one's. Shorter relaxations
        (1 s) leave the states off the line where units saturate, where the slowest time
        constant is about half its value on the line.
    n_components : int
        Principal axes kept by the denoising of targeted dimensionality reduction (12
        in the paper).

    Examples
    --------
    >>> cfg = Mante2013Config(seeds=1)
    >>> cfg.n_hidden, cfg.coherences, cfg.stimulus_ms
    (100, (2.0, 4.0, 8.0, 16.0), (300.0, 1500.0))
    >>> try:
    ...     Mante2013Config(stimulus_ms=(1500.0, 300.0))
    ... except ValueError as err:
    ...     print(err)
    stimulus_ms must be (shortest, longest) with shortest <= longest, got (1500.0, 300.0)
    """

    seeds: int = 3
    n_hidden: int = 100
    tau: float = 100.0
    dt: float = 20.0
    noise_rec: float = 0.1
    sigma: float = 1.0
    coherences: tuple[float, ...] = (2.0, 4.0, 8.0, 16.0)
    fixation_ms: float = 200.0
    decision_ms: float = 300.0
    stimulus_ms: tuple[float, ...] = (300.0, 1500.0)
    figure_stimulus_ms: float = 750.0
    steps: int = 3000
    batch_size: int = 64
    lr: float = 3e-3
    n_validation: int = 256
    val_every: int = 250
    n_test: int = 1024
    n_repeats: int = 4
    relax_ms: float = 2000.0
    n_components: int = 12

    def __post_init__(self):
        super().__post_init__()
        if len(self.stimulus_ms) != 2 or self.stimulus_ms[0] > self.stimulus_ms[1]:
            raise ValueError(f"stimulus_ms must be (shortest, longest) with shortest <= "
                             f"longest, got {self.stimulus_ms}")  # fmt: skip
        if self.dt > self.tau:
            raise ValueError(f"dt={self.dt} must be <= tau={self.tau} (Euler stability)")
        if self.n_components > self.n_hidden:
            raise ValueError(f"n_components={self.n_components} exceeds n_hidden="
                             f"{self.n_hidden}")  # fmt: skip


FULL = Mante2013Config()
QUICK = Mante2013Config(
    seeds=1, n_hidden=32, steps=300, lr=1e-2, n_validation=64, val_every=100, n_test=256,
    n_repeats=1, n_components=8,
)  # fmt: skip


def make_task(cfg: Mante2013Config, stimulus=None, **params) -> ContextDecisionMaking:
    """The training task (a stimulus of random duration), or one with a fixed stimulus.

    Parameters
    ----------
    cfg : Mante2013Config
        The run's sizes (coherences, noise, periods).
    stimulus : float, optional
        A fixed stimulus duration (ms); by default drawn uniformly from
        ``cfg.stimulus_ms`` per trial.
    **params
        Override the task's parameters (e.g. ``sigma=0.0`` for noiseless trials).

    Returns
    -------
    ContextDecisionMaking

    Examples
    --------
    >>> task = make_task(QUICK)
    >>> task.timing["stimulus"], task.timing["delay"], task.params["coherences"]
    (('uniform', 300.0, 1500.0), 0.0, (2.0, 4.0, 8.0, 16.0))
    >>> make_task(QUICK, 750.0, sigma=0.0).timing["stimulus"]
    750.0
    """
    timing = {
        "fixation": cfg.fixation_ms,
        "stimulus": ("uniform", *cfg.stimulus_ms) if stimulus is None else stimulus,
        "delay": 0.0,
        "decision": cfg.decision_ms,
    }
    kwargs = {"coherences": cfg.coherences, "sigma": cfg.sigma, **params}
    return ContextDecisionMaking(dt=cfg.dt, timing=timing, **kwargs)


def train(cfg: Mante2013Config, *, seed: int, progress: bool, device) -> Trained:
    """The trained network (on the CPU, in eval mode), its fit result and the seconds."""
    return train_rate_rnn(
        make_task(cfg), n_hidden=cfg.n_hidden, dt=cfg.dt, tau=cfg.tau, noise_rec=cfg.noise_rec,
        steps=cfg.steps, lr=cfg.lr, batch_size=cfg.batch_size, val_every=cfg.val_every,
        n_validation=cfg.n_validation, seed=seed, progress=progress, device=device,
    )  # fmt: skip


def evidence_channels(task) -> dict:
    """``{modality: (right channel, left channel)}`` of the task's inputs.

    Parameters
    ----------
    task : ContextDecisionMaking
        The task (its ``input_names``).

    Returns
    -------
    dict

    Examples
    --------
    >>> evidence_channels(make_task(QUICK))
    {'motion': (2, 1), 'color': (4, 3)}
    """
    names = list(task.input_names)
    return {m: (names.index(f"{m}_right"), names.index(f"{m}_left")) for m in MODALITIES}


def zero_evidence_inputs(cfg: Mante2013Config) -> np.ndarray:
    """One input per context: the stimulus period's input of a noiseless trial at zero
    coherence (fixation on, both modalities at their zero-evidence level, the context's
    cue on), where each context's line attractor is sought.

    Parameters
    ----------
    cfg : Mante2013Config
        The run's sizes.

    Returns
    -------
    ndarray (2, n_inputs)
        Row c for context c (0 motion, 1 colour), in the task's input order.

    Examples
    --------
    >>> list(make_task(QUICK).input_names)
    ['fixation', 'motion_left', 'motion_right', 'color_left', 'color_right', 'context_motion', 'context_color']
    >>> zero_evidence_inputs(QUICK).tolist()
    [[1.0, 0.5, 0.5, 0.5, 0.5, 1.0, 0.0], [1.0, 0.5, 0.5, 0.5, 0.5, 0.0, 1.0]]
    """
    quiet = make_task(cfg, cfg.figure_stimulus_ms, sigma=0.0)
    b = quiet.batch(2, seed=0, context=[0, 1], coherence_motion=0.0, coherence_color=0.0)
    on, _ = b.period_steps("stimulus")
    return b.inputs[np.arange(2), on].astype(np.float64)


@torch.no_grad()
def _run_trials(net, batch):
    out = net(torch.as_tensor(batch.inputs), noise=False)
    return out.outputs.numpy(), out.states.double().numpy()


def _ideal_correct(batch, channels) -> np.ndarray:
    """Whether the ideal observer (the sign of the relevant evidence summed over the
    stimulus) answers each trial correctly; a tie is half right."""
    on, off = batch.period_steps("stimulus")
    ctx = np.asarray(batch.variables["context"]).astype(int)
    gt = np.asarray(batch.variables["ground_truth"]).astype(int)
    out = np.empty(batch.n_trials)
    for i in range(batch.n_trials):
        right, left = channels[MODALITIES[ctx[i]]]
        total = float(np.sum(batch.inputs[i, on[i]:off[i], right]
                             - batch.inputs[i, on[i]:off[i], left]))  # fmt: skip
        out[i] = 0.5 if total == 0 else float(np.sign(total) == gt[i])
    return out


def _behaviour(task, net, cfg, seed: int) -> tuple:
    batch = task.batch(cfg.n_test, seed=derive_seed(seed, "eval", 0))
    outputs, states = _run_trials(net, batch)
    scores = task.evaluate(outputs, batch)
    ctx = np.asarray(batch.variables["context"]).astype(int)
    coh = {m: np.asarray(batch.variables[f"coherence_{m}"], float) for m in MODALITIES}
    weights = {}
    for c, name in enumerate(CONTEXTS):
        sel = ctx == c
        other = MODALITIES[1 - c]
        weights[name] = choice_weights(scores["choice"][sel], coh[name][sel], coh[other][sel])
    go, _ = batch.period_steps("decision")
    end = states[np.arange(batch.n_trials), go - 1]  # the last step of the stimulus
    ideal = _ideal_correct(batch, evidence_channels(task))
    return {"accuracy": float(np.mean(scores["correct"])), "ideal_accuracy": float(ideal.mean()),
            "choice_weights": weights}, end, ctx  # fmt: skip


def _figure_trials(net, cfg, seed: int) -> tuple:
    """Every condition (context × signed motion × signed colour coherence) ``n_repeats``
    times, with the paper's fixed stimulus: the states over the stimulus, the network's
    choices, the correct ones and the conditions."""
    task = make_task(cfg, cfg.figure_stimulus_ms)
    signed = np.concatenate([-np.asarray(cfg.coherences)[::-1], cfg.coherences])
    grid = np.array([(c, m, k) for c in (0, 1) for m in signed for k in signed])
    grid = np.repeat(grid, cfg.n_repeats, axis=0)
    batch = task.batch(len(grid), seed=derive_seed(seed, "eval", 1),
                       context=grid[:, 0].astype(int), coherence_motion=grid[:, 1],
                       coherence_color=grid[:, 2])  # fmt: skip
    outputs, states = _run_trials(net, batch)
    choice = task.evaluate(outputs, batch)["choice"]
    truth = np.asarray(batch.variables["ground_truth"]).astype(int)
    on, off = batch.period_steps("stimulus")
    return states[:, on[0]:off[0]], choice, truth, grid  # fmt: skip


def _axes(stim_states, choice, truth, grid, cfg):
    """Targeted dimensionality reduction: axes in the order choice, motion, colour,
    context, and which choice was regressed on. The network's choice is, on the trials
    where it made one (Mante et al. regress on the monkey's); where those choices cannot
    be told apart from the coherences and context (an untrained network answering one
    side), the correct one."""

    def design(which, keep):
        return {"choice": which[keep].astype(float), "motion": grid[keep, 1],
                "color": grid[keep, 2], "context": np.where(grid[keep, 0] == 0, 1.0, -1.0)}  # fmt: skip

    ok = choice != 0
    regs = design(choice, ok)
    columns = np.column_stack([*regs.values(), np.ones(int(ok.sum()))])
    used = "network"
    if not ok.any() or np.linalg.matrix_rank(columns) < columns.shape[1]:
        ok, used = np.ones(len(choice), bool), "correct"
        regs = design(truth, ok)
    tdr = targeted_axes(stim_states[ok], regs, n_components=cfg.n_components, standardize=False)
    return tdr, used


def _condition_averages(stim_states, choice, grid, tdr) -> dict:
    """Per context and sorting modality: the trajectories averaged over the trials of
    each (choice, signed coherence of that modality), on the three task axes (the
    paper's Fig. 2)."""
    proj = project_targeted(stim_states, tdr).sel(regressor=["choice", "motion", "color"])
    proj = np.asarray(proj.values)
    out = {}
    for c, name in enumerate(CONTEXTS):
        for k, modality in enumerate(MODALITIES):
            rows = []
            for side in (-1, 1):
                for coh in np.unique(grid[:, 1 + k]):
                    sel = (grid[:, 0] == c) & (choice == side) & (grid[:, 1 + k] == coh)
                    if sel.any():
                        rows.append({"choice": side, "coherence": float(coh),
                                     "path": proj[sel].mean(axis=0)})  # fmt: skip
            out[(name, modality)] = rows
    return out


def _cross_context(lines: dict) -> dict:
    """|cos| between the two contexts' line directions and between their selection
    vectors (NaN where a context has no line)."""

    def cos(key):
        a, b = (np.asarray(lines[c][key]) for c in CONTEXTS)
        return float(abs(a @ b)) if a.size and b.size else float("nan")

    return {"right_cos": cos("right"), "selection_cos": cos("selection")}


def analyze(net, cfg: Mante2013Config, *, seed: int) -> dict:
    """The behaviour, the axes, and each context's line attractor (module docstring)."""
    task = make_task(cfg)
    behaviour, end, ctx = _behaviour(task, net, cfg, seed)
    stim_states, choice, truth, grid = _figure_trials(net, cfg, seed)
    tdr, regressed = _axes(stim_states, choice, truth, grid, cfg)
    choice_axis = tdr["axes"].sel(regressor="choice").values
    dyn = net.as_dynamics()
    inputs = zero_evidence_inputs(cfg)
    steps = max(1, round(cfg.relax_ms / cfg.dt))
    lines, points = {}, {}
    for c, name in enumerate(CONTEXTS):
        found = line_attractor(dyn, end[ctx == c], inputs[c], evidence=evidence_channels(task),
                               choice_axis=choice_axis, relax_steps=steps)  # fmt: skip
        points[name] = np.asarray(project_targeted(found["_points"], tdr).values)
        lines[name] = {k: v for k, v in found.items() if not k.startswith("_")}
    return {
        **behaviour,
        "lines": lines,
        "cross_context": _cross_context(lines),
        "choice_regressor": regressed,
        "_paths": _condition_averages(stim_states, choice, grid, tdr),
        "_line_points": points,
        "_time": (np.arange(stim_states.shape[1]) + 1) * cfg.dt,
    }


def run(cfg: Mante2013Config, *, seed: int, progress: bool, device) -> dict:
    """One seed: train, then analyse both contexts."""
    trained = train(cfg, seed=seed, progress=progress, device=device)
    last = trained.result.history[-1] if trained.result.history else {}
    return analyse_trained(
        "mante2013", trained, lambda net: analyze(net, cfg, seed=seed), seed=seed, tau=cfg.tau,
        train_steps=int(trained.result.steps),
        val_accuracy=float(last.get("val_accuracy", float("nan"))),
    )  # fmt: skip


MANTE2013 = Reproduction(
    name="mante2013",
    stem="mante2013",
    title="Mante, Sussillo, Shenoy & Newsome (2013), context-dependent integration: a line "
    "attractor per context, selected by its left eigenvector",
    citation=PAPER["citation"],
    paper=PAPER,
    config_type=Mante2013Config,
    full=FULL,
    quick=QUICK,
    run=run,
    work=None,
    summary=summary,
    tables=TABLES,
    claims=CLAIMS,
    figure=figure,
)


def reproduce_mante2013(out_dir, *, quick: bool = False, seed: int = 0, **kwargs) -> dict:
    """Run :data:`~neurodyn.reproduce.mante2013.MANTE2013` (see :class:`~neurodyn.reproduce.harness.Reproduction`).

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
    Even the quick run trains a network, so this shows what it runs;
    ``reproduce_mante2013("out/mante", quick=True)`` runs it.

    >>> quick = MANTE2013.config(quick=True)
    >>> quick.seeds, quick.n_hidden, quick.steps
    (1, 32, 300)
    >>> [claim.name for claim in MANTE2013.claims][:2]
    ['task_learned', 'context_gating']
    """
    return MANTE2013(out_dir, quick=quick, seed=seed, **kwargs)
