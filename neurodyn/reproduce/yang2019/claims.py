"""The multitask paper's numbers and claims (Yang, Joglekar, Song, Newsome & Wang, 2019).

:data:`PAPER` holds the paper's settings and analysis rules the reproduction
(:mod:`neurodyn.reproduce.yang2019`) uses or compares with, each with its source (the
paper, or the file of the authors' code, github.com/gyyang/multitask, it is read from);
:data:`CLAIMS` every claim of the paper the run can speak to, checked on the trained
networks of every seed (:mod:`neurodyn.reproduce.claims`), or listed as not testable
at this scale with the reason. The claims are checked on the unconstrained network,
the paper's; the network with Dale's law is reported beside it in the tables.
"""

from __future__ import annotations

import numpy as np

from ..claims import Claim, Verdict, greater, less
from ..runs import Runs

__all__ = ["ANTI", "CLAIMS", "COMPOSITION", "CONDITIONS", "FTV_PAIRS", "PAPER"]

#: The paper's settings and results this reproduction compares with, with their sources.
PAPER = {
    "citation": (
        "Yang, Joglekar, Song, Newsome & Wang, Nat. Neurosci. 22:297-306 (2019); "
        "code: github.com/gyyang/multitask"
    ),
    "n_tasks": {"value": 20, "source": "paper, abstract"},
    "n_hidden": {"value": 256, "source": "train.py get_default_hp, n_rnn"},
    "dt_ms": {"value": 20, "source": "train.py get_default_hp, dt"},
    "tau_ms": {"value": 100, "source": "train.py get_default_hp, tau"},
    "sigma_rec": {"value": 0.05, "source": "train.py get_default_hp, sigma_rec"},
    "activation": {"value": "relu", "source": "train.py get_default_hp, activation"},
    "batch_size": {"value": 64, "source": "train.py get_default_hp, batch_size_train"},
    "learning_rate": {"value": 1e-3, "source": "train.py get_default_hp, learning_rate"},
    "cost_mask": {
        "value": "fixation output x2, after the go cue x5, first 100 ms ignored",
        "source": "task.py, the cost mask c_mask",
    },
    "active_threshold": {
        "value": 1e-3,
        "source": "analysis/clustering.py: summed task variance above 1e-3",
    },
    "k_range": {"value": "2-29", "source": "analysis/clustering.py: k-means, k = 2..29"},
    "anti_share": {
        "value": 0.5,
        "source": (
            "analysis/antitask.py: an Anti unit has over half of its task variance "
            "(normalised by its sum) in the three Anti tasks"
        ),
    },
    "criterion": {
        "value": "fixation held, response within 0.2 pi of the target",
        "source": "network.py get_perf",
    },
}

#: The tasks whose variance defines the Anti units (the authors' antitask.py).
ANTI = ("anti", "rtanti", "dlyanti")
#: Fractional-task-variance pairs: two tasks that differ only in the modality shown
#: (one modality each) against two that show both modalities and differ only in which
#: one counts.
FTV_PAIRS = (("dm1", "dm2"), ("ctxdm1", "ctxdm2"), ("go", "anti"))
#: The composition of the paper's Fig. 6: Anti − Go + Dly Go should land on Dly Anti.
COMPOSITION = {"terms": {"anti": 1.0, "go": -1.0, "dlygo": 1.0}, "target": "dlyanti"}
#: The two networks trained: the paper's unconstrained one, and one with Dale's law.
CONDITIONS = ("free", "dale")


_SEEDS_TEST = "one-sided paired t-test across seeds at 5 % (every seed with fewer than 3)"


def _free(key: str, *more: str):
    def get(r):
        v = r["free"][key]
        for k in more:
            v = v[k]
        return v

    return get


def tasks_learned(runs: Runs) -> Verdict:
    """Every task answered above its chance level by the unconstrained network."""
    failed, rules = [], runs.first["rules"]
    for rule in rules:
        acc = runs.values(lambda r, t=rule: r["free"]["tasks"][t]["accuracy"])
        chance = runs.values(lambda r, t=rule: r["free"]["tasks"][t]["chance"])
        verdict = greater(acc, chance, names=("accuracy", "chance"))
        if not verdict.held:
            failed.append(f"{rule} ({np.mean(acc):.2f} against {np.mean(chance):.2f})")
    n = len(rules)
    if failed:
        return Verdict(False, f"above chance on {n - len(failed)} of {n} tasks; not on "
                       + ", ".join(failed))  # fmt: skip
    return Verdict(True, f"above chance on all {n} tasks")


def clusters_develop(runs: Runs) -> Verdict:
    """Training gives clusters: the best silhouette score beats the same network's
    before training."""
    return greater(
        runs.values(_free("clusters", "silhouette")),
        runs.values(_free("clusters_untrained", "silhouette")),
        names=("silhouette after training", "before training"),
    )


def modality_disjoint(runs: Runs) -> Verdict:
    """DM 1 / DM 2 use more separate units than Ctx DM 1 / Ctx DM 2."""
    return greater(
        runs.values(_free("mean_abs_ftv", "dm1-dm2")),
        runs.values(_free("mean_abs_ftv", "ctxdm1-ctxdm2")),
        names=("mean |FTV| of DM 1 vs DM 2", "of Ctx DM 1 vs Ctx DM 2"),
    )


def _drop(runs: Runs, lesion: str, tasks: str) -> np.ndarray:
    intact = runs.values(_free("lesions", "intact", tasks))
    return intact - runs.values(_free("lesions", lesion, tasks))


def _lesion_verdict(runs: Runs, a, b, names: tuple[str, str]) -> Verdict:
    """``a`` greater than ``b`` across seeds; not held when no seed has Anti units."""
    if np.all(runs.values(_free("lesions", "n_anti_units")) == 0):
        return Verdict(False, "no unit has over half of its task variance in the Anti tasks")
    return greater(a, b, names=names)


def anti_units_needed(runs: Runs) -> Verdict:
    """Silencing the Anti units costs the Anti tasks more than silencing as many random
    units."""
    return _lesion_verdict(
        runs, _drop(runs, "anti_lesion", "anti"), _drop(runs, "random_lesion", "anti"),
        ("Anti-task accuracy lost without the Anti units", "without random units"),
    )  # fmt: skip


def anti_units_specific(runs: Runs) -> Verdict:
    """Silencing the Anti units costs the Anti tasks more than the other tasks."""
    return _lesion_verdict(
        runs, _drop(runs, "anti_lesion", "anti"), _drop(runs, "anti_lesion", "other"),
        ("accuracy lost on the Anti tasks", "on the other tasks"),
    )  # fmt: skip


def composition_holds(runs: Runs) -> Verdict:
    """Anti − Go + Dly Go lies nearer Dly Anti than any other task's representation."""
    return less(
        runs.values(_free("composition", "margin")), 1.0,
        names=("distance ratio (Dly Anti / nearest other task)", "threshold"),
    )  # fmt: skip


CLAIMS = (
    Claim(
        "tasks_learned",
        "One network learns the 20 tasks: every task is answered above chance "
        "(the paper's networks perform all 20, abstract)",
        tasks_learned,
        threshold="chance: the fraction of a task's trials whose answer is its most common "
        "one (a network ignoring the stimulus); per task, " + _SEEDS_TEST,
    ),
    Claim(
        "clusters_develop",
        "After training, the active units form clusters by their normalised task variance: "
        "the silhouette score of the k-means clustering (k chosen by it) is higher than for "
        "the same network before training",
        clusters_develop,
        threshold="the untrained network of the same seed, clustered the same way; " + _SEEDS_TEST,
    ),
    Claim(
        "modality_disjoint",
        "Fractional task variance tells how two tasks share units: DM 1 and DM 2 (one "
        "modality each) engage more separate units (|FTV| nearer 1) than Ctx DM 1 and "
        "Ctx DM 2 (both modalities shown, one attended)",
        modality_disjoint,
        threshold="the Ctx DM pair of the same network; " + _SEEDS_TEST,
    ),
    Claim(
        "anti_units_needed",
        "Lesioning the Anti units (over half of their task variance in Anti, RT Anti and "
        "Dly Anti) impairs the Anti tasks more than lesioning as many random units "
        "(authors' analysis/antitask.py, plot_lesions)",
        anti_units_needed,
        threshold="the same lesion size drawn at random from all units; " + _SEEDS_TEST,
    ),
    Claim(
        "anti_units_specific",
        "Lesioning the Anti units impairs the Anti tasks more than the other 17 tasks",
        anti_units_specific,
        threshold="the other tasks' accuracy lost by the same lesion; " + _SEEDS_TEST,
    ),
    Claim(
        "composition",
        "Task representations compose: the activity at the end of the stimulus of "
        "Anti − Go + Dly Go lies nearest that of Dly Anti",
        composition_holds,
        threshold="distance ratio 1: the target is nearer than every other task; " + _SEEDS_TEST,
    ),
    Claim(
        "activation_dictates_clusters",
        "The activation function dictates whether clusters emerge",
        None,
        untested="needs networks of every activation function trained to the paper's "
        "performance, beyond a CPU run of minutes",
    ),
    Claim(
        "continual_learning",
        "Networks trained on the tasks one after another with a continual-learning "
        "technique develop mixed task selectivity",
        None,
        untested="sequential training with intelligent synapses is not part of this "
        "reproduction (neurodyn has no continual-learning regulariser)",
    ),
)
