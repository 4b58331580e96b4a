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
The paper's numbers (:data:`PAPER`, each with its source) are written beside ours.

Differences from the paper, all for CPU scale: 64 instead of 500 neurons, batch 64
instead of 256, an "epoch" of 100 instead of 600 steps with validation on 256 trials
of 4 sequence lengths, at most 3000 steps per curriculum (the paper trains up to 1000
epochs of 600 steps), Adam (lr 5e-3, gradients clipped at 2.0) instead of SGD with
Nesterov momentum (``fit`` trains with Adam), and τ_net from 10 × 2·10⁴ instead of
10 × 10⁵ steps. The networks therefore reach N ≈ 10–25, not the paper's N ≥ 30: the
paper's effects at N = 30 are compared with ours at the largest N both curricula
reach, and its claims about τ and τ_net growing with N are tested for their direction
(a positive change per unit of N, significant across seeds), not for its size.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..analysis.dimensionality import dimensionality
from ..analysis.robustness import (
    TAU_EPSILONS,
    W_EPSILONS,
    ablate_by_tau,
    perturb_tau,
    perturb_weights,
    task_accuracy,
)
from ..analysis.timescales import drive, jacobian_timescales, network_timescales
from ..io.tables import table_cell as _fmt
from ..rnn_models import TimescaleRNN
from ..seeding import make_rng
from ..tasks import NParity
from ..train import fit, multi_head_curriculum, single_head_curriculum
from ..train.resources import recurrent_flops
from .claims import Claim, Verdict, all_hold, greater, less
from .harness import Reproduction, Sizes, Table
from .runs import Measured, Runs

__all__ = ["PAPER", "TIMESCALES", "ReproductionConfig", "reproduce_timescales"]

logger = logging.getLogger(__name__)

#: The authors' repository, whose result files are cited below.
_REPO = "LevinaLab/rnn_timescale_public"

#: The paper's numbers, each with its source: the paper's abstract, or the authors'
#: logs and result files in :data:`_REPO` (500 neurons, batch 256, 600 steps per epoch,
#: networks 1–8; effects at N = 30).
PAPER = {
    "training": {
        "multi": "one new N per epoch: N = 2→12 in 12 epochs",
        "single": "slows down: N = 20 at epoch 98, N = 28 at epoch 241",
        "source": f"{_REPO}: trained_models/{{cumulative,single}}_parity_network_1/stats.npy; "
        "abstract: the multi-head curriculum increases training speed",
    },
    "forgetting": {
        "multi": "earlier N kept",
        "single": "earlier N forgotten",
        "source": "abstract: single-head networks suffer from catastrophic forgetting",
    },
    "tau": {
        "multi": "stays in the initial range [1, 2] (N = 30, 35)",
        "single": "max τ 7.1–14.9 at N = 30, 10.7–19.4 at N = 35",
        "source": f"{_REPO}: results/df_ablate_tau.pkl (networks 1–8); abstract: single-head "
        "networks increase their τ with N, multi-head networks keep τ constant",
    },
    "tau_in_range": {
        "multi": "1 (all neurons)",
        "single": "< 1",
        "source": f"{_REPO}: results/df_ablate_tau.pkl (networks 1–8, N = 30 and 35)",
    },
    "tau_slope": {
        "multi": "≈ 0 (τ constant)",
        "single": "> 0 (max τ from ≤ 2 at N = 2 to 7.1–14.9 at N = 30)",
        "source": f"{_REPO}: results/df_ablate_tau.pkl; abstract",
    },
    "tau_net": {
        "multi": "grows with N, through recurrent connectivity",
        "single": "grows with N",
        "source": "abstract: RNNs develop longer timescales with increasing N; multi-head "
        "networks develop longer timescales through recurrent connectivity",
    },
    "accuracy_n30": {
        "multi": "0.983–0.998",
        "single": "0.944–0.971",
        "source": f"{_REPO}: results/df_ablate_tau.pkl (in-time accuracy, N = 30, nothing ablated)",
    },
    "perturb_w": {
        "epsilon": [0.0, 0.1, 0.215, 0.464, 1.0],
        "multi": [0.994, 0.992, 0.976, 0.819, 0.508],
        "single": [0.960, 0.944, 0.845, 0.575, 0.497],
        "source": f"{_REPO}: results/df_perturb_rnn_normalized.pkl (N = 30, mean over networks)",
    },
    "perturb_tau": {
        "epsilon": [0.0, 0.0215, 0.046, 0.1, 0.215],
        "multi": [0.993, 0.992, 0.986, 0.941, 0.705],
        "single": [0.960, 0.929, 0.829, 0.675, 0.521],
        "source": f"{_REPO}: results/df_perturb_tau_normalized_abs.pkl (N = 30, mean over "
        "networks)",
    },
    "ablation": {
        "slowest": {"multi": "unchanged", "single": "≈0.96 → 0.67–0.74"},
        "fastest": {"multi": "≈0.86–0.91", "single": "≈0.89–0.95"},
        "k": "20 of 500 neurons",
        "source": f"{_REPO}: results/df_ablate_tau.pkl (N = 30)",
    },
}

CURRICULA = ("multi", "single")

#: The W perturbations whose mean accuracy measures robustness: the paper's ε from 0.1
#: to 1, where its two curricula separate (:data:`PAPER` ``perturb_w``).
W_BAND = (0.1, 1.0)
#: The τ perturbations likewise (ε from 0.0215 to 0.215).
TAU_BAND = (0.0215, 0.215)


@dataclass(frozen=True)
class ReproductionConfig(Sizes):
    """Sizes of one reproduction run (see :func:`reproduce_timescales`), validated at
    construction. ``budget_s``: wall-clock seconds per curriculum instead of the step
    budget ``max_steps``; ``seeds``: how many seeds the full run trains (three: the
    fewest for the one-sided t-tests of the claims)."""

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
    out["perturb_w_band_mean"] = _band_mean(out["perturb_w"], W_BAND)
    out["perturb_tau_band_mean"] = _band_mean(out["perturb_tau"], TAU_BAND)
    for which_end in ("slowest", "fastest"):
        acc = out["ablation"][which_end]
        out[f"ablation_{which_end}_drop"] = float(acc[0] - acc[1])
    return out


def _band_mean(curve: dict, band: tuple[float, float]) -> float:
    """Mean accuracy over the perturbations with ε in ``band`` (ends included within 1 %:
    the paper gives its ε to three digits)."""
    eps, acc = np.asarray(curve["epsilon"]), np.asarray(curve["accuracy"])
    inside = (eps >= band[0] * 0.99) & (eps <= band[1] * 1.01)
    return float(np.mean(acc[inside]))


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
    return {w: _analyse(w, t[0], t[1], t[2], cfg, seed, common_n, t[3]) for w, t in trained.items()}


# -- the paper's claims -------------------------------------------------------------------------
def _of(which: str, key: str) -> Callable[[dict], float]:
    """The getter of one curriculum's number in a seed's results."""
    return lambda r: r[which][key]


def _both(runs: Runs, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-seed values of ``key`` for the multi- and the single-head network."""
    return runs.values(_of("multi", key)), runs.values(_of("single", key))


def _in_range(which: str) -> Callable[[dict], float]:
    return lambda r: r[which]["final"]["frac_tau_in_initial_range"]


def _at_common_n(which: str, key: str) -> Callable[[dict], float]:
    return lambda r: r[which]["tau_at_common_n"][key]


def _reaches_larger_n(runs: Runs) -> Verdict:
    m, s = _both(runs, "max_n")
    return greater(m, s, names=("multi-head largest N", "single-head largest N"))


def _forgets(runs: Runs) -> Verdict:
    m, s = _both(runs, "earlier_accuracy")
    return less(s, m, names=("single-head accuracy on earlier N", "multi-head"))


#: The share of neurons that may leave [1, 2] while "τ stays in the initial range":
#: the paper finds all of them inside; 5 % allows 3 of 64 neurons to drift out.
IN_RANGE = 0.95


def _multi_in_range(runs: Runs) -> Verdict:
    frac = runs.values(_in_range("multi"))
    return greater(frac, IN_RANGE, names=("multi-head share of τ in [1, 2]", "0.95"))


def _single_leaves_range(runs: Runs) -> Verdict:
    top = runs.values(lambda r: r["single"]["final"]["tau_max"])
    return greater(top, 2.0, names=("single-head max τ at its largest N", "2"))


def _single_longer_tau(runs: Runs) -> Verdict:
    parts = [
        greater(
            runs.values(_at_common_n("single", key)),
            runs.values(_at_common_n("multi", key)),
            names=(f"single-head {label} at the common N", "multi-head"),
        )
        for key, label in (("tau_mean", "mean τ"), ("tau_q90", "90th percentile of τ"))
    ]
    return all_hold(*parts)


def _single_max_tau_grows(runs: Runs) -> Verdict:
    m, s = _both(runs, "tau_max_slope")
    return all_hold(
        greater(s, 0.0, names=("single-head max τ per unit of N", "0")),
        greater(s, m, names=("single-head max τ per unit of N", "multi-head")),
    )


def _gap_grows(runs: Runs) -> Verdict:
    m, s = _both(runs, "tau_mean_slope")
    # The slope of the gap is the difference of the slopes (one fit on the same N);
    # the paper's gap grows because single-head τ rises, so that rise is required too.
    return all_hold(
        greater(s, m, names=("single-head mean τ per unit of N", "multi-head")),
        greater(s, 0.0, names=("single-head mean τ per unit of N", "0")),
    )


def _tau_net_grows(which: str) -> Callable[[Runs], Verdict]:
    def check(runs: Runs) -> Verdict:
        slope = runs.values(_of(which, "tau_net_slope"))
        return greater(slope, 0.0, names=(f"{which}-head τ_net per unit of N", "0"))

    return check


def _more_robust(key: str, what: str) -> Callable[[Runs], Verdict]:
    def check(runs: Runs) -> Verdict:
        m, s = _both(runs, key)
        return greater(m, s, names=(f"multi-head mean accuracy under {what}", "single-head"))

    return check


def _slowest_ablation(runs: Runs) -> Verdict:
    m, s = _both(runs, "ablation_slowest_drop")
    return greater(s, m, names=("single-head accuracy lost", "multi-head"))


def _more_accurate(runs: Runs) -> Verdict:
    m, s = _both(runs, "accuracy_common_n")
    return greater(m, s, names=("multi-head accuracy at the common N", "single-head"))


def _interp(curve: dict, eps: float) -> float:
    x, y = np.asarray(curve["epsilon"]), np.asarray(curve["accuracy"])
    pos = x > 0
    return float(np.interp(np.log(eps), np.log(x[pos]), y[pos])) if eps > 0 else float(y[0])


def _paper_band(key: str, band: tuple[float, float]) -> dict[str, float]:
    """The paper's mean accuracy over the perturbations in ``band``, by curriculum."""
    curve = PAPER[key]
    return {
        w: _band_mean({"epsilon": curve["epsilon"], "accuracy": curve[w]}, band) for w in CURRICULA
    }


def _paper_gap(key: str, band: tuple[float, float]) -> str:
    mean = _paper_band(key, band)
    return f"multi-head {mean['multi']:.3g} against single-head {mean['single']:.3g}"


_ACROSS = "paired across seeds (one-sided t-test at 5 % with three seeds or more)"

#: The paper's claims (its abstract; numbers in :data:`PAPER`), each decided on the runs.
CLAIMS = (
    Claim(
        "multi_head_reaches_larger_n",
        "the multi-head network reaches a larger N than the single-head one in the same budget",
        _reaches_larger_n,
        threshold=f"the paper's direction ({PAPER['training']['multi']}; single-head "
        f"{PAPER['training']['single']}), {_ACROSS}",
    ),
    Claim(
        "single_head_forgets_earlier_n",
        "the single-head network forgets earlier N: lower accuracy on them than multi-head",
        _forgets,
        threshold=f"the paper reports forgetting without an effect size; {_ACROSS}",
    ),
    Claim(
        "multi_head_tau_stays_in_initial_range",
        "the multi-head network keeps τ in its initial range [1, 2]",
        _multi_in_range,
        threshold="more than 95 % of the neurons at its largest N (the paper: all); "
        "one-sample t-test across seeds",
    ),
    Claim(
        "single_head_tau_leaves_initial_range",
        "the single-head network's τ leaves the initial range: max τ > 2 at its largest N",
        _single_leaves_range,
        threshold=f"the range's upper end 2 (the paper: {PAPER['tau']['single']}); "
        "one-sample t-test across seeds",
    ),
    Claim(
        "single_head_keeps_longer_tau_than_multi_head",
        "at the same N the single-head network has longer τ (mean and 90th percentile)",
        _single_longer_tau,
        threshold=f"the paper's direction at N = 30; {_ACROSS}",
    ),
    Claim(
        "single_head_max_tau_grows_with_n",
        "the single-head network's max τ grows with N, faster than the multi-head one's",
        _single_max_tau_grows,
        threshold="a positive change per unit of N (linear fit per seed over the N both "
        f"reached), above the multi-head one; {_ACROSS}. The paper's size "
        f"({PAPER['tau_slope']['single']}) is not required below N = 30",
    ),
    Claim(
        "single_minus_multi_tau_grows_with_n",
        "the single- minus multi-head gap in mean τ grows with N, through single-head τ rising",
        _gap_grows,
        threshold=f"the gap's change per unit of N (difference of the per-seed slopes) and the "
        f"single-head slope positive; {_ACROSS}",
    ),
    Claim(
        "multi_head_tau_net_grows_with_n",
        "the multi-head network's τ_net grows with N",
        _tau_net_grows("multi"),
        threshold="a positive change of the mean τ_net per unit of N (linear fit per seed); "
        "one-sample t-test across seeds",
    ),
    Claim(
        "single_head_tau_net_grows_with_n",
        "the single-head network's τ_net grows with N",
        _tau_net_grows("single"),
        threshold="a positive change of the mean τ_net per unit of N (linear fit per seed); "
        "one-sample t-test across seeds",
    ),
    Claim(
        "multi_head_more_robust_to_w_perturbation",
        "the multi-head network is more robust to normalised perturbations of W",
        _more_robust("perturb_w_band_mean", "W perturbations ε = 0.1–1"),
        threshold=f"mean accuracy over ε = 0.1–1, where the paper's curricula separate "
        f"({_paper_gap('perturb_w', W_BAND)}); {_ACROSS}",
    ),
    Claim(
        "multi_head_more_robust_to_tau_perturbation",
        "the multi-head network is more robust to normalised perturbations of τ",
        _more_robust("perturb_tau_band_mean", "τ perturbations ε = 0.0215–0.215"),
        threshold=f"mean accuracy over ε = 0.0215–0.215 (the paper: "
        f"{_paper_gap('perturb_tau', TAU_BAND)}); {_ACROSS}",
    ),
    Claim(
        "single_head_hurt_more_by_ablating_slowest_neurons",
        "ablating the slowest-τ neurons costs the single-head network more accuracy",
        _slowest_ablation,
        threshold=f"the paper's direction (single-head {PAPER['ablation']['slowest']['single']}, "
        f"multi-head {PAPER['ablation']['slowest']['multi']}); {_ACROSS}",
    ),
    Claim(
        "multi_head_more_accurate_at_common_n",
        "at the largest N both solved the multi-head network is more accurate",
        _more_accurate,
        threshold=f"the paper's direction at N = 30 ({PAPER['accuracy_n30']['multi']} against "
        f"{PAPER['accuracy_n30']['single']}); {_ACROSS}",
    ),
    Claim(
        "multi_head_generalises_beyond_trained_n",
        "the multi-head curriculum generalises better to tasks beyond the training set",
        None,
        untested="the run evaluates only the N it trained on",
    ),
    Claim(
        "multi_head_helps_gru_and_lstm",
        "the multi-head curriculum improves training GRUs and LSTMs for large N",
        None,
        untested="training GRUs and LSTMs to large N is beyond the CPU budget",
    ),
    Claim(
        "same_mechanisms_on_n_dms",
        "the same mechanisms appear on N-DMS",
        None,
        untested="the run trains on N-parity only",
    ),
)


# -- tables ------------------------------------------------------------------------------------
_HEADER = (
    "quantity",
    "multi-head (ours)",
    "single-head (ours)",
    "multi-head (paper)",
    "single-head (paper)",
)
_NOT_REPORTED = "not reported"


def _row(runs: Runs, label: str, get: Callable, paper=(_NOT_REPORTED, _NOT_REPORTED), **kw):
    """A row: ``get(which)`` is the getter of each curriculum's number; ``paper`` the
    paper's multi- and single-head cells (or a mapping with those keys)."""
    if isinstance(paper, dict):
        paper = (paper["multi"], paper["single"])
    return [label, *(runs.cell(get(w), **kw) for w in CURRICULA), *paper]


def _joined(runs: Runs, label: str, getters: list[Callable], sep: str, paper) -> list:
    """A row whose ours cells join several numbers per curriculum (``getters(which)``)."""
    cells = [Measured.join(sep, [runs.cell(g(w)) for g in getters]) for w in CURRICULA]
    return [label, *cells, paper["multi"], paper["single"]]


def _training_rows(runs: Runs, cfg) -> list[list]:
    steps = "600 per epoch"
    return [
        _row(runs, "largest N solved (same budget)", lambda w: _of(w, "max_n"), PAPER["training"]),
        _row(runs, "steps trained", lambda w: _of(w, "steps"), (steps, steps)),
        _row(runs, "training time (s)", lambda w: _of(w, "train_seconds")),
        _row(
            runs,
            "accuracy on earlier N after each stage (mean)",
            lambda w: _of(w, "earlier_accuracy"),
            PAPER["forgetting"],
            missing="no stage with earlier N",
        ),
    ]


def _final(key: str) -> Callable[[str], Callable]:
    return lambda w: lambda r: r[w]["final"][key]


def _tau_net_at(index: int, key: str) -> Callable[[str], Callable]:
    return lambda w: lambda r: r[w]["tau_net"][index][key]


def _tau_rows(runs: Runs, cfg) -> list[list]:
    return [
        _joined(
            runs,
            "τ at the largest N: mean / 90th pct / max",
            [_final("tau_mean"), _final("tau_q90"), _final("tau_max")],
            " / ",
            PAPER["tau"],
        ),
        _row(
            runs,
            "share of τ in the initial range [1, 2] at the largest N",
            _final("frac_tau_in_initial_range"),
            PAPER["tau_in_range"],
        ),
        _joined(
            runs,
            "τ mean / max at the common N",
            [lambda w, k=k: _at_common_n(w, k) for k in ("tau_mean", "tau_max")],
            " / ",
            {"multi": _NOT_REPORTED, "single": _NOT_REPORTED},
        ),
        _joined(
            runs,
            "change of τ mean / max per unit of N (linear fit over the N both reached)",
            [lambda w: _of(w, "tau_mean_slope"), lambda w: _of(w, "tau_max_slope")],
            " / ",
            PAPER["tau_slope"],
        ),
        _joined(
            runs,
            "τ_net, mean over fitted neurons: first → last N measured",
            [_tau_net_at(0, "tau_net_mean"), _tau_net_at(-1, "tau_net_mean")],
            " → ",
            PAPER["tau_net"],
        ),
        _joined(
            runs,
            "first → last N at which τ_net was measured",
            [_tau_net_at(0, "n"), _tau_net_at(-1, "n")],
            " → ",
            {"multi": _NOT_REPORTED, "single": _NOT_REPORTED},
        ),
        _joined(
            runs,
            f"neurons with a τ_net fit (of {cfg.n_hidden}): first → last N",
            [_tau_net_at(0, "n_units_fitted"), _tau_net_at(-1, "n_units_fitted")],
            " → ",
            {"multi": _NOT_REPORTED, "single": _NOT_REPORTED},
        ),
        _row(runs, "change of mean τ_net per unit of N", lambda w: _of(w, "tau_net_slope")),
        _row(runs, "τ_net, median over fitted neurons, last N", _tau_net_at(-1, "tau_net_median")),
    ]


def _perturbation_rows(runs: Runs, key: str, what: str, band) -> list[list]:
    paper = PAPER[key]
    rows = [
        _row(
            runs,
            f"{what} perturbation ε = {e:g}: accuracy",
            lambda w, e=e: lambda r: _interp(r[w][key], e),
            (_fmt(paper["multi"][i]), _fmt(paper["single"][i])),
        )
        for i, e in enumerate(paper["epsilon"][1:], start=1)
    ]
    mean = _paper_band(key, band)
    label = f"{what} perturbation: mean accuracy over ε = {band[0]:g}–{band[1]:g}"
    rows.append(
        _row(
            runs,
            label,
            lambda w: _of(w, f"{key}_band_mean"),
            (_fmt(mean["multi"]), _fmt(mean["single"])),
        )
    )
    return rows


def _common_n_rows(runs: Runs, cfg) -> list[list]:
    rows = [
        _row(
            runs,
            "common N (the largest N both solved; paper: N = 30)",
            lambda w: _of(w, "common_n"),
            ("30", "30"),
        ),
        _row(
            runs,
            "accuracy at the common N",
            lambda w: _of(w, "accuracy_common_n"),
            PAPER["accuracy_n30"],
        ),
    ]
    rows += _perturbation_rows(runs, "perturb_w", "W", W_BAND)
    rows += _perturbation_rows(runs, "perturb_tau", "τ", TAU_BAND)
    k = max(cfg.n_hidden // 16, 1)
    for end in ("slowest", "fastest"):
        rows.append(
            _joined(
                runs,
                f"ablate the {k} {end} neurons (paper: {PAPER['ablation']['k']}): accuracy",
                [lambda w, i=i, end=end: lambda r: r[w]["ablation"][end][i] for i in (0, 1)],
                " → ",
                PAPER["ablation"][end],
            )
        )
    rows += [
        _row(runs, "PCs for 90% variance (dimensionality)", lambda w: _of(w, "dimensionality_90")),
        _row(
            runs,
            "slowest Jacobian timescale along trajectories (median)",
            lambda w: _of(w, "jacobian_slowest_tau_median"),
        ),
    ]
    return rows


def _table_rows(runs: Runs, cfg) -> list[list]:
    return _training_rows(runs, cfg) + _tau_rows(runs, cfg) + _common_n_rows(runs, cfg)


def _summary(runs: Runs, cfg: ReproductionConfig) -> str:
    return (
        f"{cfg.n_hidden} neurons, batch {cfg.batch_size}, Adam lr {cfg.lr:g}, at most "
        f"{cfg.max_steps} steps per curriculum, {len(runs)} seed(s). Paper: 500 neurons, batch "
        "256, SGD; effects at N = 30. The paper's columns cite their sources in "
        "neurodyn.reproduce.timescales.PAPER (the abstract and the authors' result files)."
    )


# -- figure ------------------------------------------------------------------------------------
_COLORS = {"multi": "C0", "single": "C3"}
_LABELS = {"multi": "multi-head", "single": "single-head"}


def _draw_curriculum(ax, d: dict) -> None:
    """One curriculum's curves on the six panels (the first seed's run)."""
    c, lab = _COLORS[d["curriculum"]], _LABELS[d["curriculum"]]
    st = d["stages"]
    ns = [x["n"] for x in st]
    steps = [0, *[x["step"] for x in st], d["steps"]]
    ax[0, 0].step(steps, [1, *ns, ns[-1]], where="post", color=c, label=lab)
    bins = np.linspace(0.9, max(3.0, max(d["final_tau"])), 30)
    ax[0, 1].hist(d["final_tau"], bins=bins, color=c, alpha=0.5, label=f"{lab} (N = {d['max_n']})")
    ax[0, 2].plot(ns, [x["tau_mean"] for x in st], "-o", ms=3, color=c, label=f"{lab} mean")
    ax[0, 2].plot(ns, [x["tau_max"] for x in st], "--", color=c, label=f"{lab} max")
    tn = d["tau_net"]
    tn_n = [x["n"] for x in tn]
    ax[1, 0].plot(tn_n, [x["tau_net_mean"] for x in tn], "-o", color=c, label=f"{lab} mean")
    median = [x["tau_net_median"] for x in tn]
    ax[1, 0].plot(tn_n, median, "--s", ms=4, color=c, label=f"{lab} median")
    pw = d["perturb_w"]
    ours = f"{lab} (ours, N = {d['common_n']})"
    ax[1, 1].plot(pw["epsilon"][1:], pw["accuracy"][1:], "-o", ms=3, color=c, label=ours)
    earlier = [x["accuracy_earlier_mean"] for x in st[1:]]
    ax[1, 2].plot(ns[1:], earlier, "-o", ms=3, color=c, label=lab)


def _figure(runs: Runs, outcomes: dict, cfg) -> Figure:
    fig = Figure(figsize=(13, 7.5), layout="constrained")
    ax = fig.subplots(2, 3)
    for which in CURRICULA:
        _draw_curriculum(ax, runs.first[which])
    paper = PAPER["perturb_w"]
    for w in CURRICULA:
        label = f"{_LABELS[w]} (paper, N = 30)"
        ax[1, 1].plot(paper["epsilon"][1:], paper[w][1:], ":s", ms=3, color=_COLORS[w], label=label)
    ax[0, 1].axvspan(1.0, 2.0, color="0.9", zorder=0, label="initial range")
    ax[0, 0].set(xlabel="training step", ylabel="largest N solved", title="Curriculum progress")
    ax[0, 1].set(xlabel="τ (bits)", ylabel="neurons", title="Trained time constants")
    ax[0, 2].set(xlabel="N", ylabel="τ (bits)", title="τ against N")
    ax[1, 0].set(xlabel="N", ylabel="τ_net (bits) over neurons", title="Network timescale")
    ax[1, 1].set(
        xscale="log",
        xlabel="ε (normalised W perturbation)",
        ylabel="accuracy",
        title="Robustness to W perturbation",
        ylim=(0.4, 1.02),
    )
    ax[1, 2].set(xlabel="N reached", ylabel="accuracy on earlier N", title="Forgetting")
    ax[1, 2].set_ylim(0.4, 1.02)
    for a in ax.flat:
        a.legend(fontsize="x-small")
    held = sum(s == "held" for s in outcomes.values())
    tested = sum(s != "not tested" for s in outcomes.values())
    fig.suptitle(f"seed {runs.seeds[0]} of {len(runs)}; {held} of {tested} claims held")
    return fig


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
    summary=_summary,
    tables=(Table(_HEADER, _table_rows, ours=_HEADER[1:3], csv=""),),
    claims=CLAIMS,
    figure=_figure,
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
        :meth:`~neurodyn.reproduce.harness.Reproduction.__call__`'s record.
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
