r"""A ring attractor from angular-velocity integration (``neurodyn reproduce ring-attractor``):
the head-direction network's ring of slow points, the flip side of the line attractor.

A :class:`~neurodyn.rnn_models.RateRNN` (tanh, 100 units, τ = 100 ms, Euler step 20 ms,
recurrent noise) is trained with Adam on :class:`~neurodyn.tasks.HeadDirection`: a cue
gives the initial heading, then the input is the angular velocity (bouts of turning at
velocities of standard deviation 1.5 rad/s, and still bouts), and the output must be the
heading as (cos θ, sin θ). Cueva, Wang, Chin & Wei (2020) trained networks on this task
and found the ring attractor that theory proposed for the head-direction system
(Skaggs, Knierim, Kudrimoti & McNaughton 1995; Zhang 1996). Then, at zero input (no
cue, no velocity; :mod:`~neurodyn.reproduce.ring_attractor.mechanism`):

* the **ring of slow points**: states of the test trials, left to relax, strung into a
  closed chain by :func:`~neurodyn.analysis.find_slow_manifolds`, whose slowest mode is
  marginal and points along it; its time constant against the next one's;
* **every heading, once, in order**: the headings the ring's points report wind once
  around the circle, with no large gap;
* the **drift** along it: how fast the reported heading moves with no velocity input
  (degrees per second), against the velocities it integrates;
* the **integration gain**: the heading's turn under a constant velocity input, relative
  to the input (1 for a perfect integrator), from every point of the ring.

The claims (:mod:`~neurodyn.reproduce.ring_attractor.claims`) are checked on three seeds;
the tables and figure are in :mod:`~neurodyn.reproduce.ring_attractor.report`.

Differences from Cueva et al.: a tanh rate network trained by Adam on (cos θ, sin θ)
rather than their networks of rectified units with a population readout; no
regularisation of the weights or rates. The ring and the drift are measured on the
network's continuous-time ODE, the gain on the Euler map it runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...seeding import derive_seed, make_rng
from ...tasks import HeadDirection
from ..harness import Reproduction, Sizes
from ..training import Trained, analyse_trained, train_rate_rnn
from .claims import CLAIMS, PAPER
from .mechanism import decoded_ring, heading_drift, integration_gain, ring_of_slow_points
from .report import TABLES, figure, summary

__all__ = [
    "FULL",
    "QUICK",
    "RING_ATTRACTOR",
    "RingConfig",
    "decoded_ring",
    "heading_drift",
    "integration_gain",
    "readout",
    "reproduce_ring_attractor",
    "ring_of_slow_points",
]


@dataclass(frozen=True)
class RingConfig(Sizes):
    """Sizes of a run (every field validated by :class:`Sizes`).

    Attributes
    ----------
    n_hidden : int
        Units of the network.
    tau, dt : float
        Time constant and Euler step, ms.
    noise_rec : float
        Recurrent noise in training (none in the analysis).
    sigma_velocity, bout_ms, p_still : float
        The task's velocity bouts (:class:`~neurodyn.tasks.HeadDirection`).
    move_ms : float
        Duration of a trial after the cue.
    steps, batch_size, lr : int, int, float
        Adam's steps (cosine learning rate from ``lr``) and mini-batches.
    n_validation, val_every : int
        Validation trials, and steps between validations.
    n_test : int
        Test trials for the accuracy and the states the ring is sought from.
    n_states : int
        States sampled from the test trials (evenly over trials and times after the
        cue) that relax onto the ring: enough to string a ring, few enough that the
        slow drift's clustering leaves no gap longer than the links.
    relax_ms : float
        How long they relax at zero input (ten of the fast modes' time constants, about
        200 ms).
    gain_ms : float
        How long the integration gain's runs last, at the velocity ``sigma_velocity``.

    Examples
    --------
    >>> cfg = RingConfig(seeds=1)
    >>> cfg.n_hidden, cfg.sigma_velocity, cfg.n_states
    (100, 1.5, 768)
    """

    seeds: int = 3
    n_hidden: int = 100
    tau: float = 100.0
    dt: float = 20.0
    noise_rec: float = 0.1
    sigma_velocity: float = 1.5
    bout_ms: float = 250.0
    p_still: float = 0.3
    move_ms: float = 2000.0
    steps: int = 2000
    batch_size: int = 64
    lr: float = 3e-3
    n_validation: int = 256
    val_every: int = 250
    n_test: int = 256
    n_states: int = 768
    relax_ms: float = 2000.0
    gain_ms: float = 500.0

    def __post_init__(self):
        super().__post_init__()
        if self.dt > self.tau:
            raise ValueError(f"dt={self.dt} must be <= tau={self.tau} (Euler stability)")


FULL = RingConfig()
QUICK = RingConfig(seeds=1, n_hidden=32, steps=300, lr=1e-2, n_validation=64, val_every=100,
                   n_test=64, n_states=256)  # fmt: skip


def make_task(cfg: RingConfig) -> HeadDirection:
    """The task of a run.

    Parameters
    ----------
    cfg : RingConfig
        The run's sizes.

    Returns
    -------
    HeadDirection

    Examples
    --------
    >>> make_task(QUICK).timing["move"], make_task(QUICK).params["sigma_velocity"]
    (2000.0, 1.5)
    """
    return HeadDirection(dt=cfg.dt, timing={"move": cfg.move_ms},
                         sigma_velocity=cfg.sigma_velocity, bout_ms=cfg.bout_ms,
                         p_still=cfg.p_still)  # fmt: skip


def readout(net):
    """``decode(states) -> outputs``: the network's (cos, sin) output at states (n, N),
    :math:`W_{out}\\tanh(x) + b_{out}`, in float64.

    Parameters
    ----------
    net : RateRNN
        A tanh rate network with two outputs.

    Returns
    -------
    callable

    Examples
    --------
    >>> from neurodyn.rnn_models import RateRNN
    >>> net = RateRNN(3, 4, 2, seed=0)
    >>> out = readout(net)(np.zeros((1, 4)))
    >>> np.allclose(out, net.bias_out.detach().numpy())
    True
    """
    W = net.W_out.detach().double().numpy()
    b = net.bias_out.detach().double().numpy()
    return lambda x: np.tanh(np.asarray(x, dtype=float)) @ W.T + b


def train(cfg: RingConfig, *, seed: int, progress: bool, device) -> Trained:
    """The trained network (on the CPU, in eval mode), its fit result and the seconds."""
    return train_rate_rnn(
        make_task(cfg), n_hidden=cfg.n_hidden, dt=cfg.dt, tau=cfg.tau, noise_rec=cfg.noise_rec,
        steps=cfg.steps, lr=cfg.lr, batch_size=cfg.batch_size, val_every=cfg.val_every,
        n_validation=cfg.n_validation, seed=seed, progress=progress, device=device,
    )  # fmt: skip


def _sample_states(states, batch, n: int, seed: int) -> np.ndarray:
    """``n`` states after the cue, drawn without replacement over trials and times."""
    _, cue_end = batch.period_steps("cue")
    valid = [(i, t) for i in range(batch.n_trials) for t in range(cue_end[i], batch.lengths[i])]
    pick = make_rng(seed, "analysis", 0).choice(len(valid), size=min(n, len(valid)), replace=False)
    idx = np.array(valid)[np.sort(pick)]
    return states[idx[:, 0], idx[:, 1]]


def analyze(net, cfg: RingConfig, *, seed: int) -> dict:
    """The task's scores, and the ring at zero input (module docstring)."""
    task = make_task(cfg)
    batch = task.batch(cfg.n_test, seed=derive_seed(seed, "eval", 0))
    with torch.no_grad():
        out = net(torch.as_tensor(batch.inputs), noise=False)
    scores = task.evaluate(out.outputs.numpy(), batch)
    states = _sample_states(out.states.double().numpy(), batch, cfg.n_states, seed)
    dyn = net.as_dynamics()
    zero = np.zeros(task.n_inputs)
    ring = ring_of_slow_points(dyn, states, zero, max(1, round(cfg.relax_ms / cfg.dt)))
    decode = readout(net)
    points = ring.pop("_points")
    coverage = decoded_ring(decode, points)
    headings = coverage.pop("_headings")
    if len(points):
        drift = np.degrees(heading_drift(dyn, decode, points, zero)) * 1000.0  # deg/s
        gain = integration_gain(net.as_dynamics(kind="map"), decode, points,
                                channel=list(task.input_names).index("velocity"),
                                omega=cfg.sigma_velocity, n_steps=max(1, round(cfg.gain_ms / cfg.dt)),
                                time_scale=1e-3)  # fmt: skip
    else:
        drift = gain = np.zeros(0)
    nan = float("nan")
    return {
        "accuracy": float(np.mean(scores["correct"])),
        "error_deg": float(np.median(scores["error_deg"])),
        "final_error_deg": float(np.median(scores["final_error_deg"])),
        "ring": ring,
        **coverage,
        "drift_deg_s": float(np.median(np.abs(drift))) if len(drift) else nan,
        "max_drift_deg_s": float(np.max(np.abs(drift))) if len(drift) else nan,
        "gain": float(np.median(gain)) if len(gain) else nan,
        "gain_spread": float(np.percentile(gain, 90) - np.percentile(gain, 10))
        if len(gain)
        else nan,
        "_points": points,
        "_headings": headings,
        "_drift": drift,
        "_gain": gain,
        "_trial": {
            "time": batch.time,
            "output": out.outputs.numpy()[0],
            "target": batch.targets[0],
            "velocity": batch.inputs[0, :, 2],
        },
    }


def run(cfg: RingConfig, *, seed: int, progress: bool, device) -> dict:
    """One seed: train, then analyse the ring."""
    trained = train(cfg, seed=seed, progress=progress, device=device)
    return analyse_trained(
        "ring-attractor", trained, lambda net: analyze(net, cfg, seed=seed), seed=seed,
        tau=cfg.tau,
        sigma_velocity_deg_s=float(np.degrees(cfg.sigma_velocity)),
        train_steps=int(trained.result.steps),
    )  # fmt: skip


RING_ATTRACTOR = Reproduction(
    name="ring-attractor",
    stem="ring_attractor",
    title="A ring attractor from angular-velocity integration (Cueva et al. 2020; Zhang "
    "1996): a ring of slow points that holds every heading and integrates velocity",
    citation=PAPER["citation"],
    paper=PAPER,
    config_type=RingConfig,
    full=FULL,
    quick=QUICK,
    run=run,
    work=None,
    summary=summary,
    tables=TABLES,
    claims=CLAIMS,
    figure=figure,
)


def reproduce_ring_attractor(out_dir, *, quick: bool = False, seed: int = 0, **kwargs) -> dict:
    """Run :data:`~neurodyn.reproduce.ring_attractor.RING_ATTRACTOR` (see :class:`~neurodyn.reproduce.harness.Reproduction`).

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
    ``reproduce_ring_attractor("out/ring", quick=True)`` runs it.

    >>> quick = RING_ATTRACTOR.config(quick=True)
    >>> quick.seeds, quick.n_hidden, quick.steps
    (1, 32, 300)
    >>> [claim.name for claim in RING_ATTRACTOR.claims][:2]
    ['task_learned', 'ring_of_slow_points']
    """
    return RING_ATTRACTOR(out_dir, quick=quick, seed=seed, **kwargs)
