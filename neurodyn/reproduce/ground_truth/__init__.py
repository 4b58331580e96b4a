r"""Ground truth end to end (``neurodyn reproduce ground-truth``): does a network fitted
to spikes alone recover the mechanism of the network that produced them?

A validation in the manner of the Computation-through-Dynamics Benchmark (CtDB;
Versteeg, Sedler, McCart & Pandarinath): a *teacher* whose mechanism is known, data
simulated from it, and *students* fitted to the data alone, scored on how much of the
teacher they recover. Two teachers (:data:`~.claims.TEACHERS`), each with its own data
and students:

* **flip-flop**: a rate network (:class:`~neurodyn.rnn_models.RateRNN`, softplus, so its
  rates are positive) trained on the 3-bit flip-flop (:class:`~neurodyn.tasks.FlipFlop`);
  its mechanism is the cube of 27 fixed points at zero input (8 stable memories,
  12 + 6 + 1 saddles with 1, 2, 3 unstable modes);
* **context**: a softplus rate network trained with recurrent noise on
  context-dependent integration (:class:`~neurodyn.tasks.ContextDecisionMaking`,
  Mante, Sussillo, Shenoy & Newsome 2013); its mechanism, at the input it receives
  during the stimulus in each context, is either a saddle between two choice attractors,
  whose unstable mode integrates the evidence, or a single memory (a stable point, or
  the slow point of a fixed point's ghost) whose slowest mode does; either way the
  mode's selection vector turned toward the relevant modality
  (:func:`~.structure.integrating_mode`). Fixed and slow points are counted alike: which
  of the two a network has depends on how nearly marginal its integrating mode is. Only
  those within :data:`VISITED` (a quarter) of the state spread of a state the test
  trials visit count: the 4000-step teacher of seed 0 held, in one context, a ghost
  0.03 spreads from its trajectories and a stable point 6.0 spreads away whose slowest
  mode picked up the irrelevant evidence; in the other, a stable point at 0.05 and a
  slow point at 0.29. Nothing in the data speaks to the flow far from the trials.

For each teacher:

1. **Data**: the teacher simulated (without its training noise) on ``n_trials`` trials; Poisson spike counts
   per bin, :math:`k \sim \mathrm{Poisson}(\phi(x_j)\,\Delta t)` (the rate read in
   spikes per ms), from ``n_held_in + n_held_out`` of its units drawn at random, as a
   recording (:func:`~neurodyn.io.recording`, ``kind="counts"``, with the task's
   inputs); the last ``n_test`` trials are held out.
2. **Students** fitted on the held-in neurons' spikes of the training trials
   (:func:`~neurodyn.train.fit`, ``objective="poisson"``): a rate network of the
   teacher's size and a :class:`~neurodyn.rnn_models.LowRankRNN` of rank 8, both
   softplus (a smooth non-negative rate keeps the gradient where a rectified unit would
   be silent), each recorded neuron being one of the student's units
   (``observed="units"``, CURBD style): the student is asked for the neurons' rates
   themselves, which is what rate :math:`R^2` scores.
3. **Scores** on the held-out trials: rate :math:`R^2` against the true rates
   (:func:`~neurodyn.train.fit_metrics.rate_r2`), co-smoothing bits per spike on the
   held-out neurons (:func:`~neurodyn.train.fit_metrics.co_bps`) beside the untrained
   student's; the fixed points of teacher and student at the teacher's inputs (zero
   for the flip-flop; one per context for the integrator): their counts by number of
   unstable modes, and their locations after the least-squares affine map from the
   student's states to the teacher's fitted on the training trials' trajectories (a
   claim for the flip-flop only, over its points in the region the trials visit, see
   :data:`~.claims.LOCATED`); for the integrator, the
   integrating mode's growth rate and selection in each context; and
   the DSA distance (:func:`~neurodyn.analysis.similarity.dsa`) of the student's
   dynamics to the teacher's and to a control, the untrained student.

Sizes of the full run
---------------------
Teacher: 64 softplus units trained 2500 steps on trials of 1 s (validation accuracy
0.99-1.0 and the 27-point cube on seeds 0-2; after 1500 steps one seed of three held
6 stable points at accuracy 0.87, and a cosine learning rate left it at 0.72). Data: 320 trials of 2 s (200 bins of
10 ms), 64 held out; 32 held-in and 8 held-out neurons. Each student fitted 3000 steps
of 64 trials (cosine learning rate). Three seeds, the fewest that let the claims use a
t-test across seeds. Each choice was measured on seed 0 (one process, two shared cores):

- A ReLU teacher trained on trials of 0.5 s held only 7 stable points, its eighth
  memory a slow point, where trials of 1 s gave the cube; but a softplus student then
  reached rate R² 0.86-0.88 only, its Poisson loss well above the teacher's own (the
  teacher's rates are exactly 0 more than half of the time, which a softplus unit
  approaches only slowly). A softplus teacher (600 steps left it at accuracy 0.55)
  is matched by the student at R² 0.99.
- On trials of 1 s the rate student's fixed points differed from the teacher's
  (7 stable points, saddles 8 + 2); on trials of 2 s, 3000 steps, it had the teacher's
  whole cube, every point within 0.093 of the teacher's spread after the affine map.
- The teacher's saddles between memories were found from 8192 initial states on
  trajectories but not always from 1024: the search starts again from the states
  between the stable points found (:func:`~neurodyn.analysis.between_attractors`),
  which finds all 19 from 99 states.
- The low-rank student: rank 3 (the cube's dimension) reached R² 0.76 and 2 stable
  points (0.55 and one with a learning rate of 5e-3); rank 8 reached R² 0.91, 6 stable
  points and DSA nearer the teacher than the control.

The integrator: 64 softplus units, dt 20 ms and τ 100 ms (the task's own step), recurrent
noise 0.05 in training, 4000 steps with a cosine learning rate from 3e-3 (the ideal
observer's accuracy is 0.944). With 2500 steps seeds 0 and 1 reached 0.91 and 0.86, seed
1 with no fixed or slow point found in one context; with 4000 steps seeds 1 and 2
reached 0.93 and 0.94. A constant rate of 3e-3 fell from 0.92 to 0.81 between 1500 and
2000 steps on one seed. The teachers differ in how they integrate: one memory per
context, a fixed point's ghost, on seed 0 (2500 steps); two choice attractors and the
saddle between them in both contexts on seed 1, and in one on seed 2; everywhere the
saddle's unstable mode selected the relevant modality, where the attractors' slowest
modes did not always. Trials have a fixed 300-ms delay (1.65 s, 83 bins), as the teacher
was trained; the data are 320 of them, like the flip-flop's.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass

import numpy as np
import torch

from ... import simulate
from ..._validation import check_choice
from ...analysis import condition_inputs
from ...analysis.similarity import dsa
from ...io import recording
from ...rnn_models import LowRankRNN, RateRNN
from ...seeding import derive_seed, make_rng
from ...tasks import ContextDecisionMaking, FlipFlop, Task
from ...train import fit
from ...train.fit_metrics import co_bps, rate_r2
from ..harness import Reproduction, Sizes
from .claims import CLAIMS, PAPER, STUDENTS, TEACHERS
from .report import TABLES, figure, summary
from .structure import fixed_point_structure, integrating_mode, match_fixed_points, state_map

logger = logging.getLogger(__name__)

__all__ = [
    "FULL",
    "GROUND_TRUTH",
    "QUICK",
    "GroundTruthConfig",
    "match_fixed_points",
    "principal_components",
    "reproduce_ground_truth",
    "state_map",
]


#: The region the test trials visit: within this fraction of the state spread of one of
#: their states. The integrator's fixed and slow points count only there; the
#: flip-flop's are counted everywhere and located there (see the module).
VISITED = 0.25

#: Nonlinearities whose rates are never negative (a Poisson rate needs that).
RATE_PHI = ("relu", "softplus", "sigmoid", "rectified_tanh")


@dataclass(frozen=True)
class GroundTruthConfig(Sizes):
    """Sizes of a run (every field validated by :class:`Sizes`).

    Attributes
    ----------
    n_bits : int
        Bits of the flip-flop.
    n_hidden : int
        Units of each teacher and of each student.
    teacher_steps, student_steps : int
        Training steps of the flip-flop teacher (on the task) and of each student (on
        the spikes).
    batch_size : int
    teacher_lr, student_lr : float
    n_trials, n_test : int
        Simulated trials of each teacher, and how many of them (the last) are held out.
    trial_ms : float
        Length of a simulated flip-flop trial (ms).
    teacher_trial_ms : float
        Length of the flip-flop teacher's training trials (ms).
    teacher_nonlinearity, student_nonlinearity : str
        φ of the teachers and of the students (non-negative: rates).
    n_held_in, n_held_out : int
        Recorded neurons the students are fitted to, and those kept for co-smoothing.
    rank : int
        Rank of the low-rank student.
    n_inits : int
        Initial states of every fixed-point search (per condition).
    n_components : int
        Leading principal components of each system's trajectories the DSA compares
        (the dynamics of a flip-flop live in a few dimensions; the trailing ones hold
        only slow decay toward the attractors, which every network shares).
    n_delays, delay_interval : int
        Delay embedding of the DSA.
    dt, tau : float
        Time step and time constant (ms) of the flip-flop's networks.
    context_steps : int
        Training steps of the integrator (cosine learning rate from ``context_lr``).
    context_lr : float
    context_dt, context_tau : float
        Time step and time constant (ms) of the integrator's networks.
    context_noise : float
        Recurrent noise of the integrator in training (none in the simulated data).
    context_delay_ms : float
        The fixed delay between stimulus and go cue (ms).

    Examples
    --------
    >>> cfg = GroundTruthConfig(seeds=1, n_hidden=32, n_held_in=16, n_held_out=4, rank=2)
    >>> cfg.n_bits, cfg.teacher_nonlinearity
    (3, 'softplus')
    >>> try:
    ...     GroundTruthConfig(student_nonlinearity="tanh")
    ... except ValueError as err:
    ...     "student_nonlinearity" in str(err)
    True
    """

    seeds: int = 3
    n_bits: int = 3
    n_hidden: int = 64
    teacher_steps: int = 2500
    student_steps: int = 3000
    batch_size: int = 64
    teacher_lr: float = 1e-2
    student_lr: float = 2e-2
    n_trials: int = 320
    n_test: int = 64
    trial_ms: float = 2000.0
    teacher_trial_ms: float = 1000.0
    teacher_nonlinearity: str = "softplus"
    student_nonlinearity: str = "softplus"
    n_held_in: int = 32
    n_held_out: int = 8
    rank: int = 8
    n_inits: int = 1024
    n_components: int = 8
    n_delays: int = 1
    delay_interval: int = 1
    dt: float = 10.0
    tau: float = 50.0
    context_steps: int = 4000
    context_lr: float = 3e-3
    context_dt: float = 20.0
    context_tau: float = 100.0
    context_noise: float = 0.05
    context_delay_ms: float = 300.0

    def __post_init__(self):
        super().__post_init__()
        if self.n_test >= self.n_trials:
            raise ValueError(f"n_test={self.n_test} must be < n_trials={self.n_trials}")
        if self.n_held_in + self.n_held_out > self.n_hidden:
            raise ValueError("n_held_in + n_held_out must be <= n_hidden (units recorded)")
        if self.rank > self.n_hidden:
            raise ValueError(f"rank={self.rank} must be <= n_hidden={self.n_hidden}")
        for name in ("teacher_nonlinearity", "student_nonlinearity"):
            # Rates are read as spikes per ms: φ must not go below 0.
            check_choice(name, getattr(self, name), RATE_PHI)


FULL = GroundTruthConfig()
QUICK = GroundTruthConfig(
    seeds=1, n_bits=2, n_hidden=32, teacher_steps=250, student_steps=150, n_trials=64,
    n_test=16, trial_ms=400.0, teacher_trial_ms=400.0, n_held_in=16, n_held_out=4, rank=2,
    n_inits=64, n_components=4, context_steps=150,
)  # fmt: skip


@dataclass(frozen=True)
class Setting:
    """What differs between the two teachers.

    Attributes
    ----------
    teacher : str
        A name of :data:`~.claims.TEACHERS`.
    train_task, data_task : Task
        The teacher's training task, and the task of the simulated trials.
    dt, tau : float
        Time step and time constant of the teacher and its students (ms).
    noise : float
        The teacher's recurrent noise in training.
    steps : int
    lr : float
    lr_schedule : str
        The teacher's training.
    """

    teacher: str
    train_task: Task
    data_task: Task
    dt: float
    tau: float
    noise: float
    steps: int
    lr: float
    lr_schedule: str


def setting(cfg: GroundTruthConfig, teacher: str) -> Setting:
    """The :class:`Setting` of ``teacher`` under ``cfg``."""
    if check_choice("teacher", teacher, TEACHERS) == "flipflop":
        return Setting(
            teacher, FlipFlop(n_bits=cfg.n_bits, dt=cfg.dt, timing={"trial": cfg.teacher_trial_ms}),
            FlipFlop(n_bits=cfg.n_bits, dt=cfg.dt, timing={"trial": cfg.trial_ms}),
            cfg.dt, cfg.tau, 0.0, cfg.teacher_steps, cfg.teacher_lr, "constant",
        )  # fmt: skip
    task = ContextDecisionMaking(dt=cfg.context_dt, timing={"delay": cfg.context_delay_ms})
    return Setting(teacher, task, task, cfg.context_dt, cfg.context_tau, cfg.context_noise,
                   cfg.context_steps, cfg.context_lr, "cosine")  # fmt: skip


def _streams(s: Setting) -> tuple:
    # The flip-flop's streams keep the keys they had before the second teacher came.
    return () if s.teacher == "flipflop" else (TEACHERS.index(s.teacher),)


def _network(cls, s: Setting, nonlinearity: str, n_hidden: int, seed: int, **kw):
    task = s.train_task
    return cls(
        len(task.input_names), n_hidden, len(task.output_names), dt=s.dt, tau=s.tau,
        nonlinearity=nonlinearity, seed=seed, **kw,
    )  # fmt: skip


# -- the structure compared ---------------------------------------------------------------
def _conditions(teacher, s: Setting, seed: int):
    """Constant inputs at which fixed points are compared, with their names: none (zero
    input) for the flip-flop; for the integrator, the mean input over the stimulus of
    noiseless zero-coherence trials in each context (the evidence channels at their
    zero-evidence level, the fixation and that context's cue on)."""
    if s.teacher == "flipflop":
        return None, None
    quiet = ContextDecisionMaking(dt=s.dt, timing=s.data_task.timing, sigma=0.0)
    zero = simulate(teacher, quiet, n_trials=8, seed=derive_seed(seed, "data", 3, *_streams(s)),
                    noise=False, coherence_motion=0.0, coherence_color=0.0)  # fmt: skip
    return condition_inputs(zero, by="context", period="stimulus")


def _evidence(s: Setting) -> dict:
    names = list(s.train_task.input_names)
    return {m: (names.index(f"{m}_right"), names.index(f"{m}_left")) for m in ("motion", "color")}


def _structure(model, states, s: Setting, conditions, cfg, seed: int) -> dict:
    # The integrator's memory along its choice axis may be a ghost, and only the points
    # in the region its trials visit are its mechanism (see the module).
    context = s.teacher == "context"
    fp = fixed_point_structure(model, states, cfg.n_inits, seed, *conditions,
                               slow_points=context,
                               visited=VISITED if context else None)  # fmt: skip
    if s.teacher == "context":
        fp["integrator"] = integrating_mode(fp, _evidence(s))
    return fp


# -- the pipeline -------------------------------------------------------------------------
def _teacher(s: Setting, cfg: GroundTruthConfig, seed: int, progress, device) -> tuple:
    net = _network(RateRNN, s, cfg.teacher_nonlinearity, cfg.n_hidden,
                   derive_seed(seed, "init", 0, *_streams(s)), noise_rec=s.noise)  # fmt: skip
    result = fit(
        net, s.train_task, n_steps=s.steps, lr=s.lr, batch_size=cfg.batch_size,
        val_every=max(s.steps // 4, 1), lr_schedule=s.lr_schedule, seed=seed, device=device,
        progress=progress,
    )  # fmt: skip
    return net.cpu().eval(), float(result.history[-1].get("val_accuracy", np.nan))


def _data(teacher, s: Setting, cfg: GroundTruthConfig, seed: int) -> dict:
    """Simulated trials, the recorded units and their Poisson counts as a recording."""
    sim = simulate(teacher, s.data_task, n_trials=cfg.n_trials, noise=False,
                   seed=derive_seed(seed, "data", 0, *_streams(s)))  # fmt: skip
    rates = np.asarray(sim["rates"].values, dtype=float)
    units = make_rng(seed, "data", 1, *_streams(s)).permutation(cfg.n_hidden)[
        : cfg.n_held_in + cfg.n_held_out
    ]
    counts = make_rng(seed, "data", 2, *_streams(s)).poisson(rates[..., units] * s.dt).astype(float)
    inputs = np.asarray(sim["inputs"].values, dtype=float)
    rec = recording(counts, inputs, dt=s.dt, kind="counts", neurons=units)
    split = cfg.n_trials - cfg.n_test
    return {
        "recording": rec,
        "rates": rates[..., units[: cfg.n_held_in]],
        "states": np.asarray(sim["states"].values, dtype=float),
        "inputs": inputs,
        "train": np.arange(split),
        "test": np.arange(split, cfg.n_trials),
        "units": units,
    }


@torch.no_grad()
def _forward(model, inputs: np.ndarray):
    out = model(torch.as_tensor(inputs, dtype=torch.float32), noise=False)
    return out.states.double().numpy(), out.rates.double().numpy()


def _student(kind: str, s: Setting, cfg: GroundTruthConfig, seed: int):
    init = derive_seed(seed, "init", 1 + STUDENTS.index(kind), *_streams(s))
    if kind == "rate":
        return _network(RateRNN, s, cfg.student_nonlinearity, cfg.n_hidden, init)
    return _network(LowRankRNN, s, cfg.student_nonlinearity, cfg.n_hidden, init, rank=cfg.rank)


def _held_out(cfg: GroundTruthConfig) -> np.ndarray:
    return np.arange(cfg.n_held_in, cfg.n_held_in + cfg.n_held_out)


def _score(model, data: dict, teacher_fp: dict, s: Setting, conditions, cfg, seed: int) -> dict:
    """Rate R², co-bps, structure against the teacher's, and the states (test trials)."""
    held_in = np.arange(cfg.n_held_in)
    tr, te = data["train"], data["test"]
    states, rates = _forward(model, data["inputs"])
    out = {
        "rate_r2": rate_r2(rates[te][..., held_in], data["rates"][te]),
        "co_bps": co_bps(model, data["recording"], _held_out(cfg), tr, te),
    }
    fp = _structure(model, states[te], s, conditions, cfg, seed)
    scale = float(np.sqrt(np.mean(np.sum((data["states"][tr] - data["states"][tr].mean((0, 1)))
                                         ** 2, axis=-1))))  # fmt: skip
    mapped = state_map(states[tr], data["states"][tr])(fp["x"]) if len(fp["x"]) else fp["x"]
    out["fixed_points"] = {
        "counts": fp["counts"],
        **match_fixed_points(teacher_fp, {**fp, "x": mapped}, scale, region=VISITED),
    }
    if "integrator" in fp:
        out["integrator"] = fp["integrator"]
    out["_states"], out["_rates"], out["_mapped"] = states[te], rates[te], mapped
    out["_n_unstable"], out["_condition"] = fp["n_unstable"], fp["condition"]
    return out


def principal_components(x: np.ndarray, k: int) -> np.ndarray:
    """Trajectories (…, d) projected on their ``k`` leading principal components (centred).

    Parameters
    ----------
    x : array (..., d)
        States; every leading axis (trial, time...) is pooled for the PCA.
    k : int
        Components kept.

    Returns
    -------
    array (..., k)
        The centred states in the basis of the ``k`` leading right singular vectors.

    Examples
    --------
    States on a plane embedded in 5-D keep all their variance in two components:

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(4, 50, 2)) @ rng.normal(size=(2, 5))
    >>> y = principal_components(x, 2)
    >>> y.shape
    (4, 50, 2)
    >>> bool(np.isclose((y**2).sum(), ((x - x.reshape(-1, 5).mean(0)) ** 2).sum()))
    True
    """
    flat = x.reshape(-1, x.shape[-1])
    mean = flat.mean(0)
    basis = np.linalg.svd(flat - mean, full_matrices=False)[2][:k].T
    return (x - mean) @ basis


def _dsa(a: np.ndarray, b: np.ndarray, cfg: GroundTruthConfig, seed: int) -> float:
    a, b = (principal_components(x, cfg.n_components) for x in (a, b))
    return float(dsa(a, b, n_delays=cfg.n_delays, delay_interval=cfg.delay_interval,
                     seed=seed).distance)  # fmt: skip


def _fit_student(kind: str, s: Setting, data: dict, teacher_fp: dict, conditions, cfg,
                 seed: int, progress, device):  # fmt: skip
    net = _student(kind, s, cfg, seed)
    untrained = copy.deepcopy(net)
    rec = data["recording"].isel(trial=data["train"], neuron=np.arange(cfg.n_held_in))
    start = time.perf_counter()
    result = fit(
        net, rec, objective="poisson", observed="units", n_steps=cfg.student_steps,
        lr=cfg.student_lr, batch_size=cfg.batch_size, val_every=max(cfg.student_steps // 5, 1),
        lr_schedule="cosine", seed=seed, device=device, progress=progress,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    net = net.cpu().eval()
    logger.info("ground-truth seed %d: %s student of the %s teacher fitted in %.0f s",
                seed, kind, s.teacher, seconds)  # fmt: skip
    trained = _score(net, data, teacher_fp, s, conditions, cfg, seed)
    te = data["test"]
    control_states, control_rates = _forward(untrained, data["inputs"][te])
    return {
        **trained,
        "fit_seconds": seconds,
        "val_loss": float(result.history[-1].get("val_loss", np.nan)),
        "untrained_rate_r2": rate_r2(control_rates[..., : cfg.n_held_in], data["rates"][te]),
        "untrained_co_bps": co_bps(untrained, data["recording"], _held_out(cfg), data["train"], te),
        "dsa_teacher": _dsa(trained["_states"], data["states"][te], cfg, seed),
        "dsa_control": _dsa(trained["_states"], control_states, cfg, seed),
    }


def run_teacher(teacher_name: str, cfg: GroundTruthConfig, *, seed: int, progress: bool,
                device) -> dict:  # fmt: skip
    """One teacher of one seed, its data and both students, scored on held-out trials."""
    s = setting(cfg, teacher_name)
    teacher, accuracy = _teacher(s, cfg, seed, progress, device)
    data = _data(teacher, s, cfg, seed)
    conditions = _conditions(teacher, s, seed)
    te = data["test"]
    teacher_fp = _structure(teacher, data["states"][te], s, conditions, cfg, seed)
    out = {
        "teacher": {
            "accuracy": accuracy,
            "counts": teacher_fp["counts"],
            "co_bps": co_bps(teacher, data["recording"], _held_out(cfg), data["train"], te),
            "mean_count": float(data["recording"]["activity"].mean()),
            "_x": teacher_fp["x"],
            "_n_unstable": teacher_fp["n_unstable"],
            "_condition": teacher_fp["condition"],
            "_states": data["states"][te],
            "_rates": data["rates"][te],
        },
    }
    if "integrator" in teacher_fp:
        out["teacher"]["integrator"] = teacher_fp["integrator"]
        out["teacher"]["ideal_accuracy"] = s.train_task.ideal_accuracy()
        out["stimulus_ms"] = float(s.data_task.timing["stimulus"])
    for kind in STUDENTS:
        out[kind] = _fit_student(kind, s, data, teacher_fp, conditions, cfg, seed, progress,
                                 device)  # fmt: skip
    return out


def run(cfg: GroundTruthConfig, *, seed: int, progress: bool, device) -> dict:
    """Both teachers of one seed (:func:`run_teacher`)."""
    start = time.perf_counter()
    out = {"n_bits": cfg.n_bits}
    for name in TEACHERS:
        out[name] = run_teacher(name, cfg, seed=seed, progress=progress, device=device)
    out["seconds"] = time.perf_counter() - start
    return out


def _work(cfg: GroundTruthConfig) -> float:
    # Forward and backward of one step: about 6 B T H (H + inputs) flops, per training.
    def per(steps, trial_ms, dt, n_in):
        return 6.0 * steps * cfg.batch_size * trial_ms / dt * cfg.n_hidden * (cfg.n_hidden + n_in)

    context_ms = 300.0 + 750.0 + cfg.context_delay_ms + 300.0
    return (
        per(cfg.teacher_steps, cfg.teacher_trial_ms, cfg.dt, cfg.n_bits)
        + 2 * per(cfg.student_steps, cfg.trial_ms, cfg.dt, cfg.n_bits)
        + per(cfg.context_steps, context_ms, cfg.context_dt, 7)
        + 2 * per(cfg.student_steps, context_ms, cfg.context_dt, 7)
    )


GROUND_TRUTH = Reproduction(
    name="ground-truth",
    stem="ground_truth",
    title="Ground truth end to end: students fitted to the spikes of a flip-flop and of a "
    "context-dependent integrator",
    citation=PAPER["citation"],
    paper=PAPER,
    config_type=GroundTruthConfig,
    full=FULL,
    quick=QUICK,
    run=run,
    work=_work,
    summary=summary,
    tables=TABLES,
    claims=CLAIMS,
    figure=figure,
)


def reproduce_ground_truth(out_dir, *, quick: bool = False, seed: int = 0, **kwargs) -> dict:
    """Run :data:`~neurodyn.reproduce.ground_truth.GROUND_TRUTH` (see :class:`~neurodyn.reproduce.harness.Reproduction`).

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
    Even the quick run trains teachers and students, so this shows what it runs;
    ``reproduce_ground_truth("out/ground-truth", quick=True)`` runs it.

    >>> quick = GROUND_TRUTH.config(quick=True)
    >>> quick.seeds, quick.n_bits, quick.n_hidden, quick.student_steps
    (1, 2, 32, 150)
    >>> len(GROUND_TRUTH.claims), GROUND_TRUTH.claims[0].name
    (22, 'teacher_solves')
    """
    return GROUND_TRUTH(out_dir, quick=quick, seed=seed, **kwargs)
