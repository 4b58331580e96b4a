"""Reproduce Khajehabdollahi et al. (ICLR 2024) at CPU scale (``neurodyn reproduce timescales``).

Two :class:`~neurodyn.rnn_models.TimescaleRNN` networks (64 neurons, batch 64) are
trained on N-parity from N = 2 from the same initialisation, one with the single-head
and one with the multi-head curriculum, under the same budget: the same number of
optimisation steps, or, with ``budget_s``, the same wall-clock time. A snapshot of each
network is kept at the end of every stage. Then, for both curricula:

* the largest N solved and the accuracy left on earlier N (catastrophic forgetting);
* the trained time constants τ at every N, and their change per unit of N (a linear
  fit per seed over the N both curricula reached);
* the network timescale τ_net (autocorrelation fits) at several N, and its change per
  unit of N;
* at the largest N both solved (the common N): accuracy, accuracy under normalised
  perturbations of W and of τ, under ablation of the fastest / slowest neurons, the
  dimensionality of the activity and the Jacobian timescales along driven trajectories.

The full run repeats this on three seeds; every number the claims use is measured on
each seed, and each claim is decided across seeds (:mod:`neurodyn.reproduce.claims`).
The paper's numbers and claims, each with its source, are in
:mod:`neurodyn.reproduce.timescales.claims`; the tables and the figure, with the
paper's numbers beside ours, in :mod:`neurodyn.reproduce.timescales.report`.

Differences from the paper, all for CPU scale: 64 instead of 500 neurons, batch 64
instead of 256, an "epoch" of 100 instead of 600 steps with validation on 256 trials
of 4 sequence lengths, at most 3000 steps per curriculum (the paper trains up to 1000
epochs of 600 steps), Adam (lr 5e-3, gradients clipped at 2.0) instead of SGD with
Nesterov momentum (``fit`` trains with Adam), and τ_net from 10 × 2·10⁴ instead of
10 × 10⁵ steps. The networks therefore reach N ≈ 10–25, not the paper's N ≥ 30: the
paper's effects at N = 30 are compared with ours at the largest N both curricula
reach, and its claims about τ and τ_net growing with N are tested for their direction
(a positive change per unit of N, significant across seeds), not for its size. A
longer single-head run (``long_steps``, 12 000 steps, from the same initialisation)
follows τ to larger N than the equal budget reaches: its mean τ against N is the
report's second table, beside the paper's τ at N = 30 and 35.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...analysis.dimensionality import dimensionality
from ...analysis.robustness import (
    TAU_EPSILONS,
    W_EPSILONS,
    ablate_by_tau,
    perturb_tau,
    perturb_weights,
    task_accuracy,
)
from ...analysis.timescales import drive, jacobian_timescales, network_timescales
from ...rnn_models import TimescaleRNN
from ...seeding import make_rng
from ...tasks import NParity
from ...train import fit, multi_head_curriculum, single_head_curriculum
from ...train.resources import recurrent_flops
from ..harness import Reproduction, Sizes, Table
from .claims import CLAIMS, CURRICULA, PAPER, TAU_BAND, W_BAND, band_mean
from .report import HEADER, LONG_HEADER, figure, long_rows, summary, table_rows

__all__ = ["PAPER", "TIMESCALES", "ReproductionConfig", "reproduce_timescales"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReproductionConfig(Sizes):
    """Sizes of one reproduction run (see :func:`reproduce_timescales`), validated at
    construction.

    Parameters
    ----------
    seeds : int
        How many seeds the run trains (three in the full run: the fewest for the
        one-sided t-tests of the claims).
    n_hidden : int
        Neurons of each :class:`~neurodyn.rnn_models.TimescaleRNN` (500 in the paper).
    batch_size : int
        Training batch size, also the trials per shared sequence length.
    lr : float
        Adam's learning rate.
    clip_grad : float
        Gradient-norm clipping bound.
    val_every : int
        Training steps between validations (and between the curriculum's checks).
    n_validation : int
        Validation trials.
    n_eval : int
        Sequences per N for the curriculum's probe of each stage.
    max_steps : int
        Training steps per curriculum (the step budget; see ``budget_s``).
    n_stop : int
        The largest N of the curricula (N = 2 … ``n_stop``; ``n_stop - 1`` heads).
    tau_net_trials : int
        Trials of free activity for the network timescales τ_net.
    tau_net_steps : int
        Steps per such trial.
    tau_net_points : int
        At how many of the N solved τ_net is measured.
    n_repeats : int
        Repeats of each random perturbation of the weights and of τ.
    n_score : int
        Trials scoring the accuracy at the common N (perturbations, ablations).
    jacobian_states : int
        Driven states at which the Jacobian's slowest timescale is measured.
    budget_s : float or None
        Wall-clock seconds per curriculum instead of the step budget ``max_steps``
        (``None``: the step budget, which makes the run deterministic).
    long_steps : int
        Steps of a longer single-head run from the same initialisation, which follows
        τ to larger N than the equal budget reaches (the paper's single-head τ grows
        with N, which a short run sees only in its upper tail); at most ``max_steps``,
        the main single-head run is that run.

    Examples
    --------
    >>> cfg = ReproductionConfig()
    >>> cfg.seeds, cfg.n_hidden, cfg.max_steps
    (3, 64, 3000)
    >>> quick = ReproductionConfig.quick()
    >>> quick.seeds, quick.max_steps, quick.tau_net_steps
    (1, 2000, 5000)
    >>> try:
    ...     ReproductionConfig(n_hidden=0)
    ... except ValueError as err:
    ...     print(err)
    n_hidden must be an integer >= 1, got 0
    """

    seeds: int = 3
    n_hidden: int = 64
    batch_size: int = 64
    lr: float = 5e-3
    clip_grad: float = 2.0
    val_every: int = 100
    n_validation: int = 256
    n_eval: int = 256
    max_steps: int = 3000
    n_stop: int = 60
    tau_net_trials: int = 10
    tau_net_steps: int = 20_000
    tau_net_points: int = 6
    n_repeats: int = 10
    n_score: int = 512
    jacobian_states: int = 64
    budget_s: float | None = None
    long_steps: int = 12_000

    @classmethod
    def quick(cls) -> ReproductionConfig:
        """A small run on one seed for tests (about a minute on 2 cores)."""
        return cls(
            seeds=1,
            n_validation=128,
            n_eval=128,
            max_steps=2000,
            tau_net_trials=4,
            tau_net_steps=5000,
            tau_net_points=3,
            n_repeats=3,
            n_score=256,
            jacobian_states=16,
            long_steps=2000,
        )


# -- training -------------------------------------------------------------------------------
def _train(which, cfg: ReproductionConfig, seed: int, budget_s, progress: bool, device="auto"):
    """Train one curriculum on ``device``; return the fit result, the model (on the CPU,
    where the analyses run) and snapshots by N."""
    n_heads = cfg.n_stop - 1
    model = TimescaleRNN(1, cfg.n_hidden, n_heads=n_heads, seed=seed)
    snapshots: dict[int, dict] = {}

    def keep(net, ns):
        snapshots[max(ns)] = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
        t = net.tau.detach().cpu().numpy()
        return {"tau_q90": float(np.quantile(t, 0.9))}

    builder = multi_head_curriculum if which == "multi" else single_head_curriculum
    curriculum = builder(
        "parity",
        n_stop=cfg.n_stop,
        n_heads=n_heads,
        length_block=cfg.batch_size,
        n_eval=cfg.n_eval,
        seed=seed,
        callback=keep,
    )
    kwargs = dict(
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        clip_grad=cfg.clip_grad,
        val_every=cfg.val_every,
        n_validation=cfg.n_validation,
        seed=seed,
        device=device,
        progress=progress,
    )
    start = time.monotonic()
    if budget_s is None:
        result = fit(model, curriculum, n_steps=cfg.max_steps, **kwargs)
    else:
        # A wall-clock budget: train in chunks, each resuming the previous one from its
        # checkpoint (exactly, optimiser state included), until the time is spent.
        chunk = 5 * cfg.val_every
        with tempfile.TemporaryDirectory(prefix="neurodyn_timescales_") as tmp:
            ckpt = Path(tmp) / f"{which}.pt"
            n_steps = chunk
            while True:
                result = fit(
                    model,
                    curriculum,
                    n_steps=n_steps,
                    checkpoint=ckpt,
                    checkpoint_every=chunk,
                    resume=True,
                    **kwargs,
                )
                if result.success or time.monotonic() - start >= budget_s:
                    break
                n_steps += chunk
    elapsed = time.monotonic() - start
    return result, model.cpu(), snapshots, elapsed


def _model_at(model, state):
    net = TimescaleRNN(**model.config())
    net.load_state_dict(state)
    net.eval()
    return net


def _tau_stats(tau: np.ndarray) -> dict[str, float]:
    return {
        "tau_mean": float(tau.mean()),
        "tau_median": float(np.median(tau)),
        "tau_q90": float(np.quantile(tau, 0.9)),
        "tau_max": float(tau.max()),
        "frac_tau_in_initial_range": float(np.mean((tau >= 1.0) & (tau <= 2.0 + 1e-6))),
    }


def _points(ns: list[int], k: int) -> list[int]:
    """Up to ``k`` values of ``ns`` spread evenly, first and last included."""
    if len(ns) <= k:
        return list(ns)
    idx = np.unique(np.round(np.linspace(0, len(ns) - 1, k)).astype(int))
    return [ns[i] for i in idx]


def _slope(points: list[dict], key: str, n_max: float = np.inf) -> float:
    r"""Least-squares change of ``key`` per unit of N over the points with N ≤ ``n_max``:
    :math:`\hat b` of :math:`y_N \approx a + b N` (NaN with fewer than two points or a
    value undefined)."""
    pts = [(p["n"], p[key]) for p in points if p["n"] <= n_max]
    if len(pts) < 2:
        return float("nan")
    n, y = np.asarray(pts, dtype=float).T
    return float(np.polyfit(n, y, 1)[0]) if np.all(np.isfinite(y)) else float("nan")


# -- analyses ----------------------------------------------------------------------------------
def _stages(log: list[dict], model, snapshots) -> list[dict]:
    """Per stage: its N, the step it ended, the accuracy on its N and on earlier N, and τ."""
    stages = []
    for r in log:
        n = int(r["n"])
        tau = _model_at(model, snapshots[n]).tau.detach().numpy()
        earlier = [r[f"accuracy_n{m}"] for m in range(2, n)]
        stages.append(
            {
                "n": n,
                "step": int(r["step"]),
                "accuracy_current": float(r[f"accuracy_n{n}"]),
                "accuracy_earlier_mean": float(np.mean(earlier)) if earlier else float("nan"),
                **_tau_stats(tau),
            }
        )
    return stages


def _tau_net(model, snapshots, solved: list[int], cfg, seed: int) -> list[dict]:
    """τ_net at up to ``cfg.tau_net_points`` of the N solved; the mean and median are over
    the neurons whose autocorrelation could be fitted (their count is kept)."""
    out = []
    for n in _points(solved, cfg.tau_net_points):
        net = _model_at(model, snapshots[n])
        ts = network_timescales(
            net, n_trials=cfg.tau_net_trials, n_steps=cfg.tau_net_steps, seed=seed
        )
        tn = ts.tau_net[np.isfinite(ts.tau_net)]
        out.append(
            {
                "n": n,
                "tau_net_mean": float(tn.mean()) if tn.size else float("nan"),
                "tau_net_median": float(np.median(tn)) if tn.size else float("nan"),
                "population_tau_net": ts.population_tau,
                "n_units_fitted": int(tn.size),
                "tau_mean": float(net.tau.detach().numpy().mean()),
            }
        )
    return out


def _robustness(which, net, cfg, seed: int, common_n: int) -> dict:
    """Accuracy at the common N, under perturbations of W and τ and under ablation."""
    head = 0 if which == "single" else common_n - 2
    task = NParity(ns=[common_n], heads=[head], n_heads=net.n_heads, length_block=64)
    score = task_accuracy(task, n_trials=cfg.n_score, key=f"correct_n{common_n}", seed=seed)
    pw = perturb_weights(net, score, epsilons=W_EPSILONS, n_repeats=cfg.n_repeats, seed=seed)
    pt = perturb_tau(net, score, epsilons=TAU_EPSILONS, n_repeats=cfg.n_repeats, seed=seed)
    k = max(cfg.n_hidden // 16, 1)
    ab = ablate_by_tau(net, score, ks=[0, k, 2 * k, 4 * k])
    out = {
        "accuracy_common_n": float(pw["accuracy_mean"].values[0]),
        "perturb_w": {
            "epsilon": pw["epsilon"].values.tolist(),
            "accuracy": pw["accuracy_mean"].values.tolist(),
        },
        "perturb_tau": {
            "epsilon": pt["epsilon"].values.tolist(),
            "accuracy": pt["accuracy_mean"].values.tolist(),
        },
        "ablation": {
            "k": ab["k"].values.tolist(),
            "fastest": ab["accuracy"].sel(which="fastest").values.tolist(),
            "slowest": ab["accuracy"].sel(which="slowest").values.tolist(),
        },
    }
    out["perturb_w_band_mean"] = band_mean(out["perturb_w"], W_BAND)
    out["perturb_tau_band_mean"] = band_mean(out["perturb_tau"], TAU_BAND)
    for which_end in ("slowest", "fastest"):
        acc = out["ablation"][which_end]
        out[f"ablation_{which_end}_drop"] = float(acc[0] - acc[1])
    return out


def _dynamics(net, cfg, seed: int) -> dict:
    """Dimensionality of driven activity and the slowest Jacobian timescale along it."""
    act = drive(net, n_trials=4, n_steps=4000, seed=seed)
    dim = dimensionality(act, threshold=0.9)
    rng = make_rng(seed, "analysis", 99)
    flat = act.reshape(-1, act.shape[-1])
    pick = rng.choice(len(flat), size=min(cfg.jacobian_states, len(flat)), replace=False)
    # The input at a sampled state is unknown here; linearise at the two bit values.
    jt = [jacobian_timescales(net, flat[pick], np.full((len(pick), 1), b)) for b in (0.0, 1.0)]
    slowest = np.concatenate([j.time_constant[:, 0] for j in jt])
    return {
        "dimensionality_90": int(dim.n_components),
        "participation_ratio": float(dim.participation_ratio),
        "jacobian_slowest_tau_median": float(np.median(slowest)),
        "jacobian_slowest_tau_q90": float(np.quantile(slowest, 0.9)),
    }


def _analyse(which, result, model, snapshots, cfg, seed, common_n, elapsed) -> dict:
    solved = [int(r["n"]) for r in result.stage_log]
    stages = _stages(result.stage_log, model, snapshots)
    final_tau = model.tau.detach().numpy()
    tau_net = _tau_net(model, snapshots, solved, cfg, seed)
    net = _model_at(model, snapshots[common_n])
    return {
        "curriculum": which,
        "max_n": max(solved) if solved else 1,
        "steps": int(result.steps),
        "train_seconds": round(elapsed, 1),
        "stage_steps": [int(s) for s in result.stage_steps],
        "stages": stages,
        "earlier_accuracy": _earlier(stages),
        # Changes per unit of N over the N both curricula reached, so that the two
        # curricula's slopes are fitted on the same N.
        "tau_mean_slope": _slope(stages, "tau_mean", common_n),
        "tau_max_slope": _slope(stages, "tau_max", common_n),
        "final_tau": final_tau.tolist(),
        "final": _tau_stats(final_tau),
        "tau_net": tau_net,
        "tau_net_slope": _slope(tau_net, "tau_net_mean"),
        "common_n": common_n,
        "tau_at_common_n": _tau_stats(net.tau.detach().numpy()),
        **_robustness(which, net, cfg, seed, common_n),
        **_dynamics(net, cfg, seed),
    }


def _earlier(stages: list[dict]) -> float:
    """Mean accuracy on earlier N over the stages that have earlier N (NaN if none)."""
    values = [st["accuracy_earlier_mean"] for st in stages[1:]]
    return float(np.mean(values)) if values else float("nan")


def _run(cfg: ReproductionConfig, *, seed: int, progress: bool, device) -> dict:
    trained = {}
    for which in CURRICULA:
        logger.info("seed %d: training the %s-head curriculum", seed, which)
        trained[which] = _train(which, cfg, seed, cfg.budget_s, progress, device)
    max_n = {w: max([int(r["n"]) for r in t[0].stage_log] or [1]) for w, t in trained.items()}
    common_n = min(max_n.values())
    if common_n < 2:
        raise RuntimeError(
            "a curriculum did not solve even N = 2 within the budget; raise budget_s or max_steps"
        )
    out = {w: _analyse(w, t[0], t[1], t[2], cfg, seed, common_n, t[3]) for w, t in trained.items()}
    out["single_long"] = _long_run(cfg, seed, progress, device, trained["single"])
    return out


def _long_run(cfg: ReproductionConfig, seed: int, progress: bool, device, single) -> dict:
    """τ against N over ``cfg.long_steps`` steps of the single-head curriculum: a run of
    its own when that is longer than the main one (same seed, so the same start)."""
    if cfg.long_steps > cfg.max_steps or cfg.budget_s is not None:
        logger.info("seed %d: training the single-head curriculum for %d steps", seed,
                    cfg.long_steps)  # fmt: skip
        longer = dataclasses.replace(cfg, max_steps=cfg.long_steps)
        single = _train("single", longer, seed, None, progress, device)
    result, model, snapshots, elapsed = single
    stages = _stages(result.stage_log, model, snapshots)
    return {
        "steps": int(result.steps),
        "train_seconds": round(elapsed, 1),
        "max_n": max([st["n"] for st in stages] or [1]),
        "stages": stages,
        "tau_mean_slope": _slope(stages, "tau_mean"),
        "tau_max_slope": _slope(stages, "tau_max"),
    }


#: The reproduction (``neurodyn reproduce timescales``).
TIMESCALES = Reproduction(
    name="timescales",
    stem="timescales",
    title="Timescale RNNs: single-head vs multi-head curricula (Khajehabdollahi et al., ICLR 2024)",
    citation="Khajehabdollahi et al. (2024). Emergent mechanisms for long timescales depend "
    "on training curriculum and affect performance in memory tasks. ICLR 2024.",
    paper=PAPER,
    config_type=ReproductionConfig,
    full=ReproductionConfig(),
    quick=ReproductionConfig.quick(),
    run=_run,
    work=lambda cfg: recurrent_flops(cfg.batch_size, cfg.n_hidden, 1),
    summary=summary,
    tables=(
        Table(HEADER, table_rows, ours=HEADER[1:3], csv=""),
        Table(
            LONG_HEADER,
            long_rows,
            ours=LONG_HEADER[1:5],
            title="τ against N: the single-head curriculum over a longer run",
        ),
    ),
    claims=CLAIMS,
    figure=figure,
)


def reproduce_timescales(
    out_dir: str | os.PathLike,
    *,
    quick: bool = False,
    seed: int = 0,
    budget_s: float | None = None,
    progress: bool = True,
    config: ReproductionConfig | None = None,
    device="auto",
    threads: int | None = None,
) -> dict:
    """Train both curricula on every seed, run every analysis, check the paper's claims
    and write the figure and tables.

    Parameters
    ----------
    out_dir : path-like
        Folder for ``timescales.png``, ``timescales.csv``, ``timescales.md`` and
        ``timescales.json`` (each written atomically; the folder is created), and each
        seed's results in ``seeds/`` (an interrupted run resumes from them).
    quick : bool
        A small run on one seed (about a minute on 2 cores; the tests use it) instead
        of the full one (three seeds, about 15 minutes).
    seed : int
        The first seed; seed ``s`` seeds both networks' initialisation (the same for
        both), data and analyses.
    budget_s : float, optional
        Wall-clock seconds *per curriculum*. Default: an equal step budget
        (``ReproductionConfig.max_steps``), which makes the run deterministic.
    progress : bool
        Show training progress bars.
    config : ReproductionConfig, optional
        Every size explicitly (overrides ``quick``).
    device : str or torch.device
        Where the networks train (``"auto"``: a GPU when present); the analyses run on
        the CPU.
    threads : int, optional
        CPU threads for the whole reproduction (default: :mod:`neurodyn.threads`'
        policy for a training step's work).

    Returns
    -------
    dict
        ``runs``: one entry per seed with ``multi`` and ``single`` (every number
        measured on that seed); ``claims``: each claim of the paper by name, with its
        ``status`` (held, not held, not tested), ``evidence`` and ``threshold``;
        ``claims_line`` ("7 of 13 claims held; 3 not tested at this scale");
        ``seeds``, ``config``, ``seconds``, ``files`` and the rest of
        :class:`~neurodyn.reproduce.harness.Reproduction`'s record.

    Examples
    --------
    Even the quick run trains two networks for minutes, so this shows what it runs;
    ``reproduce_timescales("out/timescales", quick=True)`` runs it.

    >>> from neurodyn.reproduce.timescales import TIMESCALES
    >>> quick = TIMESCALES.config(quick=True)
    >>> quick.seeds, quick.n_hidden, quick.max_steps, quick.n_stop
    (1, 64, 2000, 60)
    >>> len(TIMESCALES.claims), sum(claim.check is None for claim in TIMESCALES.claims)
    (17, 3)
    >>> TIMESCALES.claims[0].name
    'multi_head_reaches_larger_n'
    """
    cfg = TIMESCALES.config(quick, config)
    if budget_s is not None:
        cfg = dataclasses.replace(cfg, budget_s=budget_s)
    return TIMESCALES(
        out_dir,
        quick=quick,
        seed=seed,
        progress=progress,
        device=device,
        threads=threads,
        config=cfg,
    )
