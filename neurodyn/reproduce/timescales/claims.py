"""The paper's numbers and claims for the timescales reproduction (Khajehabdollahi et al.,
ICLR 2024), decided on a reproduction's runs.

Every number of :data:`PAPER` names its source: the paper's abstract, or the authors'
logs and result files in their repository (500 neurons, batch 256, 600 steps per
epoch, networks 1–8; effects at N = 30). Each claim of :data:`CLAIMS` compares numbers
measured on every seed in the paper's direction (:mod:`neurodyn.reproduce.claims`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..claims import Claim, Verdict, all_hold, greater, less
from ..runs import Runs

__all__ = [
    "CLAIMS",
    "CURRICULA",
    "IN_RANGE",
    "PAPER",
    "TAU_BAND",
    "W_BAND",
    "at_common_n",
    "band_mean",
    "getter",
    "paper_band",
]

#: The authors' repository, whose result files are cited below.
_REPO = "LevinaLab/rnn_timescale_public"

#: The paper's numbers, each with its source: the paper's abstract, or the authors'
#: logs and result files in ``_REPO`` (500 neurons, batch 256, 600 steps per epoch,
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


def band_mean(curve: dict, band: tuple[float, float]) -> float:
    """Mean accuracy over the perturbations with ε in ``band`` (ends included within 1 %:
    the paper gives its ε to three digits).

    Parameters
    ----------
    curve : dict
        ``epsilon`` (the perturbation sizes) and ``accuracy`` (the mean accuracy at
        each), as the reproduction records ``perturb_w`` and ``perturb_tau``.
    band : (float, float)
        The smallest and largest ε averaged (:data:`W_BAND`, :data:`TAU_BAND`).

    Returns
    -------
    float

    Examples
    --------
    >>> curve = {"epsilon": [0.0, 0.1, 0.215, 0.464, 1.0],
    ...          "accuracy": [1.0, 0.95, 0.85, 0.7, 0.55]}
    >>> round(band_mean(curve, W_BAND), 4)
    0.7625
    """
    eps, acc = np.asarray(curve["epsilon"]), np.asarray(curve["accuracy"])
    inside = (eps >= band[0] * 0.99) & (eps <= band[1] * 1.01)
    return float(np.mean(acc[inside]))


# -- the paper's claims -------------------------------------------------------------------------
def getter(which: str, key: str) -> Callable[[dict], float]:
    """The getter of one curriculum's number in a seed's results.

    Parameters
    ----------
    which : {"multi", "single"}
        The curriculum: the multi-head or the single-head network.
    key : str
        The number's key in that curriculum's results (``"max_n"``,
        ``"accuracy_common_n"``...).

    Returns
    -------
    callable
        ``get(results) -> results[which][key]``, for :meth:`Runs.values
        <neurodyn.reproduce.runs.Runs.values>` and :meth:`Runs.cell
        <neurodyn.reproduce.runs.Runs.cell>`.

    Examples
    --------
    >>> from neurodyn.reproduce.runs import Runs
    >>> runs = Runs([{"multi": {"max_n": 30, "tau_at_common_n": {"tau_max": 2.1}},
    ...               "single": {"max_n": 18, "tau_at_common_n": {"tau_max": 9.5}}},
    ...              {"multi": {"max_n": 34, "tau_at_common_n": {"tau_max": 2.3}},
    ...               "single": {"max_n": 20, "tau_at_common_n": {"tau_max": 8.1}}}],
    ...             seeds=[0, 1])
    >>> runs.values(getter("multi", "max_n")).tolist(), runs.cell(getter("single", "max_n"))
    ([30.0, 34.0], '19 ± 1.41')
    """
    return lambda r: r[which][key]


def _both(runs: Runs, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-seed values of ``key`` for the multi- and the single-head network."""
    return runs.values(getter("multi", key)), runs.values(getter("single", key))


def _in_range(which: str) -> Callable[[dict], float]:
    return lambda r: r[which]["final"]["frac_tau_in_initial_range"]


def at_common_n(which: str, key: str) -> Callable[[dict], float]:
    """The getter of one curriculum's τ statistic ``key`` at the common N.

    Parameters
    ----------
    which : {"multi", "single"}
        The curriculum: the multi-head or the single-head network.
    key : str
        The statistic of the time constants τ at the largest N both curricula solved:
        ``tau_mean``, ``tau_median``, ``tau_q90``, ``tau_max`` or
        ``frac_tau_in_initial_range``.

    Returns
    -------
    callable
        ``get(results) -> results[which]["tau_at_common_n"][key]``.

    Examples
    --------
    >>> from neurodyn.reproduce.runs import Runs
    >>> runs = Runs([{"multi": {"max_n": 30, "tau_at_common_n": {"tau_max": 2.1}},
    ...               "single": {"max_n": 18, "tau_at_common_n": {"tau_max": 9.5}}},
    ...              {"multi": {"max_n": 34, "tau_at_common_n": {"tau_max": 2.3}},
    ...               "single": {"max_n": 20, "tau_at_common_n": {"tau_max": 8.1}}}],
    ...             seeds=[0, 1])
    >>> runs.values(at_common_n("single", "tau_max")).tolist()
    [9.5, 8.1]
    """
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
    return greater(frac, IN_RANGE, names=("multi-head share of τ in [1, 2]", f"{IN_RANGE:g}"))


def _single_leaves_range(runs: Runs) -> Verdict:
    top = runs.values(lambda r: r["single"]["final"]["tau_max"])
    return greater(top, 2.0, names=("single-head max τ at its largest N", "2"))


def _single_longer_tau(runs: Runs) -> Verdict:
    parts = [
        greater(
            runs.values(at_common_n("single", key)),
            runs.values(at_common_n("multi", key)),
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


def _long_mean_tau_grows(runs: Runs) -> Verdict:
    slope = runs.values(lambda r: r["single_long"]["tau_mean_slope"])
    return greater(slope, 0.0, names=("single-head mean τ per unit of N, longer run", "0"))


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
        slope = runs.values(getter(which, "tau_net_slope"))
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


def paper_band(key: str, band: tuple[float, float]) -> dict[str, float]:
    """The paper's mean accuracy over the perturbations in ``band``, by curriculum.

    Parameters
    ----------
    key : {"perturb_w", "perturb_tau"}
        Which of the paper's perturbation curves (:data:`PAPER`).
    band : (float, float)
        The smallest and largest ε averaged.

    Returns
    -------
    dict
        ``{"multi": ..., "single": ...}``: :func:`band_mean` of each curriculum's curve.

    Examples
    --------
    >>> {k: round(v, 3) for k, v in paper_band("perturb_w", W_BAND).items()}
    {'multi': 0.824, 'single': 0.715}
    """
    curve = PAPER[key]
    return {
        w: band_mean({"epsilon": curve["epsilon"], "accuracy": curve[w]}, band) for w in CURRICULA
    }


def _paper_gap(key: str, band: tuple[float, float]) -> str:
    mean = paper_band(key, band)
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
        "single_head_mean_tau_grows_over_a_longer_run",
        "the single-head network's mean τ grows with N (the abstract), over a longer run "
        "that reaches larger N than the equal budget",
        _long_mean_tau_grows,
        threshold="a positive change of the mean τ per unit of N (linear fit per seed over "
        f"every N the longer run reached); {_ACROSS}",
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
