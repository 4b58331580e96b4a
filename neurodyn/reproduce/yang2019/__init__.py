r"""Reproduce Yang et al. (2019) at CPU scale (``neurodyn reproduce yang2019``).

Yang, Joglekar, Song, Newsome & Wang, "Task representations in neural networks
trained to perform many cognitive tasks", Nature Neuroscience 22:297–306 (2019): one
recurrent network trained on 20 cognitive tasks, told which by a rule input, develops
clusters of units specialised for groups of tasks; the fractional task variance of its
units tells how two tasks share them; lesioning the units of the Anti tasks impairs
those tasks; and the representations of the tasks compose
(Anti − Go + Dly Go ≈ Dly Anti).

Here the 20 tasks are NeuroGym's ``yang19`` collection, adapted by
:func:`~neurodyn.tasks.from_neurogym` (two rings of 16 inputs, a fixation input and
the 20 rule inputs; 17 outputs, fixation and 16 directions; ``dt`` = 20 ms), with
the tasks interleaved trial by trial in every batch. Two rate networks
(:class:`~neurodyn.rnn_models.RateRNN`, ReLU, τ = 100 ms, recurrent noise 0.05, the
defaults of the authors' code) are trained with Adam on the same batches, one
unconstrained (the paper's) and one with Dale's law (80 % excitatory units); both are
analysed in the same way on ``n_eval`` trials of each task
(:mod:`neurodyn.analysis.multitask`: task variance, clustering and composition;
:func:`~neurodyn.analysis.silence_units` for the lesions).
The clustering is also run on each network before training, the baseline the claim
that clusters *develop* with training needs.

Sizes of the full run
---------------------
The paper's networks have 256 units and are trained on millions of trials at a
learning rate of 1e-3; here 128 units and ``n_steps`` = 1000 batches of 64 trials
(64 000 trials), so the learning rate is 5e-3 and every step of a trial weighs the same
in the loss (``fixation_weight`` = 1, as the authors' cost enforces fixation; NeuroGym's
yang19 example weighs fixation steps 0.05). Measured after 400 steps on one seed: mean
accuracy over the 20 tasks 0.11 with the paper's rate and NeuroGym's weighting (63 % of
trials broke fixation), 0.16 at 3e-3, 0.42 at 3e-3 with equal weights, 0.49 at 1e-2
with equal weights; but at 1e-2 one of the twelve networks of seeds 0-5 (seed 1, Dale's
law) diverged in its first steps, and none at 5e-3. Even so some tasks stay far from the
paper's performance (see the accuracy table; the first claim says so). Three seeds,
the fewest that let the claims use a t-test across seeds; the full run took 12 minutes
on the two shared cores (load average about 4).
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass

import numpy as np

from ... import simulate
from ...analysis import (
    cluster_task_variance,
    fractional_task_variance,
    silence_units,
    task_composition,
    task_representation,
    task_variance,
)
from ...rnn_models import RateRNN
from ...seeding import derive_seed, make_rng
from ...tasks import from_neurogym
from ...train import fit
from ..harness import Reproduction, Sizes
from .claims import ANTI, CLAIMS, COMPOSITION, CONDITIONS, FTV_PAIRS, PAPER
from .report import TABLES, figure, summary

logger = logging.getLogger(__name__)

__all__ = ["FULL", "QUICK", "YANG2019", "Yang2019Config", "reproduce_yang2019"]


@dataclass(frozen=True)
class Yang2019Config(Sizes):
    """Sizes of a run (every field validated by :class:`Sizes`).

    Attributes
    ----------
    n_hidden : int
        Recurrent units of each network.
    n_steps : int
        Training steps (batches of ``batch_size`` interleaved trials).
    batch_size : int
        Trials per training batch, drawn from the tasks interleaved.
    n_eval : int
        Trials of each task simulated for the analyses and the accuracy.
    dt, tau, noise_rec, lr : float
        Time step and time constant in ms, recurrent noise, learning rate.
    fixation_weight : float
        Loss weight of the fixation steps against the decision steps
        (:func:`~neurodyn.tasks.from_neurogym`).
    val_every : int
        Training steps between validations.
    n_validation : int
        Validation trials (of all tasks together).

    Examples
    --------
    >>> cfg = Yang2019Config(seeds=1, n_hidden=32, n_steps=100)
    >>> cfg.batch_size, cfg.dt, cfg.tau
    (64, 20.0, 100.0)
    >>> try:
    ...     Yang2019Config(noise_rec=-0.1)
    ... except ValueError as err:
    ...     print(err)
    noise_rec must be finite and > 0, got -0.1
    """

    seeds: int = 3
    n_hidden: int = 128
    n_steps: int = 1000
    batch_size: int = 64
    n_eval: int = 64
    dt: float = 20.0
    tau: float = 100.0
    noise_rec: float = 0.05
    lr: float = 5e-3
    fixation_weight: float = 1.0
    val_every: int = 250
    n_validation: int = 320


FULL = Yang2019Config()
QUICK = Yang2019Config(seeds=1, n_hidden=32, n_steps=30, n_eval=16, val_every=15, n_validation=64)


def make_task(cfg: Yang2019Config):
    """The 20 tasks of the ``yang19`` collection with a rule input, interleaved."""
    return from_neurogym("yang19", dt=cfg.dt, fixation_weight=cfg.fixation_weight)


def _network(task, cfg: Yang2019Config, condition: str, seed: int) -> RateRNN:
    return RateRNN(
        task.n_inputs, cfg.n_hidden, task.n_outputs, dt=cfg.dt, tau=cfg.tau,
        nonlinearity="relu", dale=condition == "dale", noise_rec=cfg.noise_rec,
        seed=derive_seed(seed, "init", CONDITIONS.index(condition)),
    )  # fmt: skip


def _activity(net, task, cfg: Yang2019Config, seed: int) -> dict:
    """Simulated trials of every task, one Dataset per task (the same trials and noise
    for every network of a seed)."""
    out = {}
    for i, rule in enumerate(task.rules):
        trials_seed = derive_seed(seed, "eval", i)
        out[rule] = simulate(net, task, n_trials=cfg.n_eval, seed=trials_seed, rule=rule)
    return out


def _accuracy(activity: dict) -> dict:
    """Per task: the fraction correct and the chance level, the fraction of trials whose
    answer is the task's most common one (a network that ignores the stimulus)."""
    out = {}
    for rule, ds in activity.items():
        target = np.asarray(ds["target_choice"].values)
        counts = np.unique(target, return_counts=True)[1]
        out[rule] = {
            "accuracy": float(np.mean(ds["correct"].values)),
            "chance": float(counts.max() / target.size),
        }
    return out


def _anti_units(tv) -> np.ndarray:
    """The authors' Anti units: active units with over half of their summed task
    variance in the Anti tasks (indices into all units)."""
    active = tv["active"].values
    variance = tv["task_variance"].values[active]
    share = variance[:, [list(tv["task"].values).index(t) for t in ANTI]].sum(1)
    share = share / variance.sum(1)
    return np.flatnonzero(active)[share > PAPER["anti_share"]["value"]]


def _by_family(acc: dict) -> dict:
    """Mean accuracy over the Anti tasks and over the others."""
    others = [r for r in acc if r not in ANTI]
    return {
        "anti": float(np.mean([acc[r]["accuracy"] for r in ANTI])),
        "other": float(np.mean([acc[r]["accuracy"] for r in others])),
    }


def _lesions(net, task, anti: np.ndarray, intact: dict, cfg: Yang2019Config, seed: int) -> dict:
    """Accuracy on the Anti and the other tasks, intact (``intact``: the accuracy already
    measured on the same trials and noise), without the Anti units, and without as many
    units drawn at random."""
    rng = make_rng(seed, "analysis", 1)
    random_group = np.sort(rng.choice(cfg.n_hidden, size=len(anti), replace=False))
    out = {"n_anti_units": int(len(anti)), "intact": _by_family(intact)}
    for name, units in (("anti_lesion", anti), ("random_lesion", random_group)):
        out[name] = _by_family(_accuracy(_activity(silence_units(net, units), task, cfg, seed)))
    return out


def _clusters(tv, seed: int) -> dict:
    n_active = int(tv.attrs["n_active"])
    if n_active < 4:
        return {"n_active": n_active, "n_clusters": float("nan"), "silhouette": float("nan")}
    k = range(2, min(30, n_active))
    cl = cluster_task_variance(tv, k=k, seed=seed, n_init=10)
    return {
        "n_active": n_active,
        "n_clusters": int(cl.attrs["n_clusters"]),
        "silhouette": float(np.nanmax(cl["silhouette"].values)),
        "_result": cl,
    }


def _composition(activity: dict) -> dict:
    tasks = [r for r, ds in activity.items() if "stimulus" in ds.attrs.get("periods", [])]
    rep = task_representation({t: activity[t] for t in tasks}, period="stimulus", at="end")
    comp = task_composition(rep, COMPOSITION["terms"], COMPOSITION["target"])
    return {
        "margin": float(comp.attrs["margin"]),
        "target_rank": int(comp.attrs["target_rank"]),
        "nearest": comp.attrs["nearest"],
        "n_tasks": len(tasks),
        "_result": comp,
    }


def _analyse(net, initial, task, cfg: Yang2019Config, seed: int) -> dict:
    activity = _activity(net, task, cfg, seed)
    tv = task_variance(activity)
    ftv = fractional_task_variance(tv, FTV_PAIRS)
    abs_ftv = np.nanmean(np.abs(ftv["ftv"].values), axis=1)
    anti = _anti_units(tv)
    accuracy = _accuracy(activity)
    return {
        "tasks": accuracy,
        "clusters": _clusters(tv, seed),
        "clusters_untrained": _clusters(task_variance(_activity(initial, task, cfg, seed)), seed),
        "mean_abs_ftv": {
            f"{a}-{b}": float(v) for (a, b), v in zip(FTV_PAIRS, abs_ftv, strict=True)
        },
        "lesions": _lesions(net, task, anti, accuracy, cfg, seed),
        "composition": _composition(activity),
        "_tv": tv,
        "_ftv": ftv,
    }


def _train_one(task, cfg: Yang2019Config, condition: str, seed: int, progress, device) -> dict:
    net = _network(task, cfg, condition, seed)
    initial = copy.deepcopy(net)
    start = time.perf_counter()
    result = fit(
        net, task, n_steps=cfg.n_steps, batch_size=cfg.batch_size, lr=cfg.lr,
        val_every=cfg.val_every, n_validation=cfg.n_validation, seed=seed,
        device=device, progress=progress,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    net = net.cpu().eval()
    logger.info("yang2019 seed %d, %s network trained in %.0f s", seed, condition, seconds)
    last = result.history[-1] if result.history else {}
    return {
        "train_seconds": seconds,
        "steps": int(result.steps),
        "val_loss": float(last.get("val_loss", np.nan)),
        "val_accuracy": float(last.get("val_accuracy", np.nan)),
        **_analyse(net, initial, task, cfg, seed),
    }


def run(cfg: Yang2019Config, *, seed: int, progress: bool, device) -> dict:
    """Train and analyse both networks of one seed."""
    task = make_task(cfg)
    out = {"rules": list(task.rules)}
    for condition in CONDITIONS:
        out[condition] = _train_one(task, cfg, condition, seed, progress, device)
    return out


def _work(cfg: Yang2019Config) -> float:
    # Forward and backward of one step: about 6 B T H (H + inputs) flops, T ~ 100 steps.
    return 6.0 * cfg.batch_size * 100 * cfg.n_hidden * (cfg.n_hidden + 53)


YANG2019 = Reproduction(
    name="yang2019",
    stem="yang2019",
    title="Yang et al. (2019): task representations in a network trained on 20 tasks",
    citation=PAPER["citation"],
    paper=PAPER,
    config_type=Yang2019Config,
    full=FULL,
    quick=QUICK,
    run=run,
    work=_work,
    summary=summary,
    tables=TABLES,
    claims=CLAIMS,
    figure=figure,
)


def reproduce_yang2019(out_dir, *, quick: bool = False, seed: int = 0, **kwargs) -> dict:
    """Run :data:`~neurodyn.reproduce.yang2019.YANG2019` (see :class:`~neurodyn.reproduce.harness.Reproduction`).

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
    Even the quick run trains a network on 20 tasks, so this shows what it runs;
    ``reproduce_yang2019("out/yang2019", quick=True)`` runs it.

    >>> quick = YANG2019.config(quick=True)
    >>> quick.seeds, quick.n_hidden, quick.n_steps
    (1, 32, 30)
    >>> len(YANG2019.claims), YANG2019.claims[0].name
    (8, 'tasks_learned')
    """
    return YANG2019(out_dir, quick=quick, seed=seed, **kwargs)
