"""The timescales reproduction's claims decided on synthetic runs: numbers that agree with
the paper hold, numbers that contradict it do not (each claim can say no)."""

import numpy as np
import pytest

from neurodyn.analysis.robustness import TAU_EPSILONS
from neurodyn.reproduce.runs import Runs
from neurodyn.reproduce.timescales import TIMESCALES, _slope
from neurodyn.reproduce.timescales.claims import (
    CLAIMS,
    PAPER,
    TAU_BAND,
    W_BAND,
    band_mean,
    paper_band,
)

#: Per-curriculum numbers of a run that agrees with the paper (three seeds each).
PAPER_LIKE = {
    "multi": {
        "max_n": [22, 21, 24],
        "earlier_accuracy": [0.99, 0.985, 0.995],
        "frac_tau_in_initial_range": [1.0, 0.984, 1.0],
        "tau_max": [1.9, 1.95, 1.8],
        "tau_mean_common": [1.3, 1.25, 1.35],
        "tau_q90_common": [1.8, 1.85, 1.7],
        "tau_max_slope": [0.0, 0.01, -0.005],
        "tau_mean_slope": [-0.01, -0.005, 0.0],
        "tau_net_slope": [0.05, 0.08, 0.06],
        "perturb_w_band_mean": [0.82, 0.8, 0.85],
        "perturb_tau_band_mean": [0.9, 0.88, 0.91],
        "ablation_slowest_drop": [0.0, 0.01, 0.005],
        "accuracy_common_n": [0.995, 0.99, 0.998],
    },
    "single": {
        "max_n": [14, 15, 13],
        "earlier_accuracy": [0.6, 0.55, 0.65],
        "frac_tau_in_initial_range": [0.8, 0.75, 0.85],
        "tau_max": [2.6, 2.9, 2.4],
        "tau_mean_common": [1.5, 1.45, 1.6],
        "tau_q90_common": [2.2, 2.3, 2.1],
        "tau_max_slope": [0.08, 0.1, 0.06],
        "tau_mean_slope": [0.02, 0.03, 0.025],
        "tau_net_slope": [0.04, 0.03, 0.05],
        "perturb_w_band_mean": [0.7, 0.72, 0.69],
        "perturb_tau_band_mean": [0.74, 0.7, 0.75],
        "ablation_slowest_drop": [0.25, 0.3, 0.22],
        "accuracy_common_n": [0.96, 0.95, 0.97],
    },
    # the longer single-head run (only the number its claim reads)
    "single_long": {"tau_mean_slope": [0.02, 0.035, 0.028]},
}


def _seed(values: dict, i: int) -> dict:
    """One seed's results, with only the numbers the claims read."""
    out = {"single_long": {k: v[i] for k, v in values["single_long"].items()}}
    for which, v in values.items():
        if which == "single_long":
            continue
        out[which] = {
            "final": {
                "frac_tau_in_initial_range": v["frac_tau_in_initial_range"][i],
                "tau_max": v["tau_max"][i],
            },
            "tau_at_common_n": {
                "tau_mean": v["tau_mean_common"][i],
                "tau_q90": v["tau_q90_common"][i],
            },
            **{k: v[k][i] for k in v if k not in ("frac_tau_in_initial_range", "tau_max")},
        }
    return out


def _runs(**changes) -> Runs:
    """The paper-like runs with some numbers replaced: ``which__key=[per seed]``."""
    values = {w: dict(v) for w, v in PAPER_LIKE.items()}
    for name, per_seed in changes.items():
        which, key = name.split("__")
        values[which][key] = per_seed
    return Runs([_seed(values, i) for i in range(3)], seeds=[0, 1, 2])


CLAIM = {c.name: c for c in CLAIMS}

#: For every checked claim, numbers that contradict the paper (the claim must not hold).
CONTRADICTIONS = {
    "multi_head_reaches_larger_n": {"single__max_n": [22, 23, 24]},
    "single_head_forgets_earlier_n": {"single__earlier_accuracy": [0.99, 0.99, 0.99]},
    # 0.9 of the neurons in [1, 2] is not "τ stays in its initial range".
    "multi_head_tau_stays_in_initial_range": {
        "multi__frac_tau_in_initial_range": [0.9, 0.92, 0.91]
    },
    "single_head_tau_leaves_initial_range": {"single__tau_max": [2.07, 1.9, 1.95]},
    "single_head_keeps_longer_tau_than_multi_head": {"single__tau_q90_common": [1.7, 1.8, 1.65]},
    # A small positive single-head slope that the multi-head slope exceeds.
    "single_head_max_tau_grows_with_n": {
        "single__tau_max_slope": [0.011, 0.012, 0.01],
        "multi__tau_max_slope": [0.016, 0.018, 0.015],
    },
    # The gap grows only because multi-head τ falls while single-head τ falls less.
    "single_minus_multi_tau_grows_with_n": {
        "single__tau_mean_slope": [-0.004, -0.006, -0.005],
        "multi__tau_mean_slope": [-0.02, -0.03, -0.025],
    },
    "multi_head_tau_net_grows_with_n": {"multi__tau_net_slope": [-0.01, 0.002, -0.02]},
    "single_head_tau_net_grows_with_n": {"single__tau_net_slope": [-0.03, -0.02, -0.04]},
    # rising on one seed, falling on the others: no growth across seeds
    "single_head_mean_tau_grows_over_a_longer_run": {
        "single_long__tau_mean_slope": [0.03, -0.01, -0.005]
    },
    "multi_head_more_robust_to_w_perturbation": {"multi__perturb_w_band_mean": [0.69, 0.7, 0.68]},
    "multi_head_more_robust_to_tau_perturbation": {
        "single__perturb_tau_band_mean": [0.92, 0.9, 0.93]
    },
    "single_head_hurt_more_by_ablating_slowest_neurons": {
        "single__ablation_slowest_drop": [0.0, 0.01, -0.01]
    },
    "multi_head_more_accurate_at_common_n": {"multi__accuracy_common_n": [0.95, 0.94, 0.96]},
}


def test_every_checked_claim_has_a_contradiction():
    checked = {c.name for c in CLAIMS if c.check is not None}
    assert checked == set(CONTRADICTIONS)
    assert TIMESCALES.claims is CLAIMS  # quick and full check the same claims


@pytest.mark.parametrize("name", sorted(CONTRADICTIONS))
def test_claim_holds_on_numbers_that_agree_with_the_paper(name):
    verdict = CLAIM[name](_runs())
    assert verdict.held is True, verdict.evidence


@pytest.mark.parametrize("name", sorted(CONTRADICTIONS))
def test_claim_fails_on_numbers_that_contradict_the_paper(name):
    verdict = CLAIM[name](_runs(**CONTRADICTIONS[name]))
    assert verdict.held is False, verdict.evidence


def test_a_positive_slope_within_the_noise_does_not_hold():
    """Single-head max τ slopes of both signs over seeds: the t-test does not reject 0."""
    runs = _runs(single__tau_max_slope=[0.05, -0.04, 0.02], multi__tau_max_slope=[0.0, 0.0, 0.0])
    verdict = CLAIM["single_head_max_tau_grows_with_n"](runs)
    assert verdict.held is False and "p = " in verdict.evidence


def test_an_undefined_slope_leaves_the_claim_not_held():
    runs = _runs(single__tau_net_slope=[0.04, float("nan"), 0.05])
    verdict = CLAIM["single_head_tau_net_grows_with_n"](runs)
    assert verdict.held is False and "undefined on 1 of 3 seeds" in verdict.evidence


def test_untested_claims_say_why():
    untested = [c for c in CLAIMS if c.check is None]
    assert len(untested) == 3
    for c in untested:
        assert c(_runs()).status == "not tested" and c.untested


def test_slope_is_the_least_squares_fit():
    # y = 1 + 0.25 N exactly, plus a point beyond n_max that the fit must ignore.
    points = [{"n": n, "y": 1 + 0.25 * n} for n in (2, 3, 5, 8)] + [{"n": 9, "y": 100.0}]
    assert _slope(points, "y", n_max=8) == pytest.approx(0.25, rel=1e-12)
    # Residuals symmetric about the line leave the slope: y = N + (+1, -1, -1, +1).
    noisy = [{"n": n, "y": n + e} for n, e in zip((1, 2, 3, 4), (1, -1, -1, 1), strict=True)]
    assert _slope(noisy, "y") == pytest.approx(1.0, rel=1e-12)
    assert np.isnan(_slope(points[:1], "y")) and np.isnan(
        _slope([*points[:2], {"n": 4, "y": np.nan}], "y")
    )


def test_band_means_read_the_papers_curves():
    w = paper_band("perturb_w", W_BAND)
    assert w["multi"] == pytest.approx(np.mean(PAPER["perturb_w"]["multi"][1:]), rel=1e-12)
    assert w["single"] == pytest.approx(np.mean(PAPER["perturb_w"]["single"][1:]), rel=1e-12)
    tau = paper_band("perturb_tau", TAU_BAND)
    assert tau["multi"] == pytest.approx(np.mean(PAPER["perturb_tau"]["multi"][1:]), rel=1e-12)
    # The measured curve's ε (to machine precision) fall inside the paper's rounded band.
    eps = TAU_EPSILONS[1:]
    curve = {"epsilon": [0.0, *eps], "accuracy": [1.0, *np.arange(len(eps), dtype=float)]}
    inside = [i for i, e in enumerate(eps) if 0.0215 * 0.99 <= e <= 0.215 * 1.01]
    assert len(inside) == 4 and band_mean(curve, TAU_BAND) == pytest.approx(np.mean(inside))


def test_every_paper_value_cites_its_source():
    for key, entry in PAPER.items():
        assert entry["source"].strip(), key
        assert "research" not in entry["source"] and "§" not in entry["source"], key
