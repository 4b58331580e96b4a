"""Every claim of the RNNs-of-RNNs reproduction says no to numbers that contradict the
paper and yes to numbers that agree with it (synthetic runs, no training)."""

import numpy as np
import pytest

from neurodyn.reproduce import rnns_of_rnns as rep
from neurodyn.reproduce.runs import Runs

# Numbers in the paper's direction: Sparse above SVD (final and over the epochs),
# sequential above permuted, the trained baseline expanding, a sweep rising with size.
AGREE = {
    ("sparse_combo", "sequential"): {"accuracy": 95.0, "mean_accuracy": 80.0},
    ("sparse_combo", "permuted"): {"accuracy": 90.0, "mean_accuracy": 75.0},
    ("svd_combo", "sequential"): {"accuracy": 88.0, "mean_accuracy": 60.0},
    ("svd_combo", "permuted"): {"accuracy": 84.0, "mean_accuracy": 55.0},
    ("baseline", "sequential"): {"accuracy": 96.0, "mean_accuracy": 85.0},
    ("baseline", "permuted"): {"accuracy": 91.0, "mean_accuracy": 80.0},
}
SWEEP = {16: 70.0, 32: 80.0, 64: 88.0}  # units -> accuracy


def _row(kind, task, values, *, rate, certified=True):
    return {
        "model": kind,
        "task": task,
        **values,
        "certified_before": certified,
        "certified_after": certified,
        "rate_after": 0.01 if certified else 0.0,
        "numerical_rate_before": rate,
        "numerical_rate_after": rate,
    }


def _results(models=AGREE, sweep=SWEEP, *, baseline_rate=-0.02, certified=True, seed=None):
    """One seed's results as the claims read them; a ``seed`` adds noise of 0.3 points
    (far below every difference above) to each accuracy, as seeds differ."""
    rng = np.random.default_rng(seed)
    noise = (lambda: 0.0) if seed is None else (lambda: rng.normal(0.0, 0.3))
    rows = []
    for (kind, task), values in models.items():
        base = kind == "baseline"
        moved = {k: v + noise() for k, v in values.items()}
        rate = baseline_rate * (1 + 0.1 * noise()) if base else 0.02
        rows.append(_row(kind, task, moved, rate=rate, certified=certified and not base))
    sweep_rows = [
        {
            **_row(
                "sparse_combo",
                "sequential",
                {"accuracy": a + noise()},
                rate=0.02,
                certified=certified,
            ),
            "n_units": n,
        }
        for n, a in sweep.items()
    ]
    return {"models": rows, "sweep": sweep_rows}


def _runs(*results):
    return Runs(list(results), list(range(len(results))))


def _agreeing(n_seeds=3, **kw):
    return _runs(*(_results(seed=s, **kw) for s in range(n_seeds)))


def _swap(models, a, b):
    """The models with the numbers of ``a`` and ``b`` exchanged."""
    out = dict(models)
    out[a], out[b] = models[b], models[a]
    return out


CHECKED = {c.name: c for c in rep.CLAIMS if c.check is not None}


@pytest.mark.parametrize("n_seeds", [1, 2, 3])
def test_numbers_in_the_papers_direction_hold_every_checked_claim(n_seeds):
    runs = _agreeing(n_seeds)
    for name, claim in CHECKED.items():
        assert claim(runs).held, (name, claim(runs).evidence)


def _contradicting(name):
    """Three seeds whose numbers contradict exactly the claim ``name``."""
    svd_sparse = {}
    for task in rep.VARIANTS:
        svd_sparse = _swap(svd_sparse or AGREE, ("sparse_combo", task), ("svd_combo", task))
    cases = {
        "combo_nets_certified_before_and_after": {"certified": False},
        "baseline_not_contracting": {"baseline_rate": 0.003},
        "sparse_more_accurate_than_svd": {"models": svd_sparse},
        "svd_learns_slower": {"models": svd_sparse},
        "permuted_harder_than_sequential": {
            "models": _swap(AGREE, ("sparse_combo", "sequential"), ("sparse_combo", "permuted"))
        },
        "larger_networks_more_accurate": {"sweep": {16: 88.0, 32: 80.0, 64: 70.0}},
    }
    return _agreeing(3, **cases[name])


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_every_checked_claim_says_no_to_numbers_that_contradict_the_paper(name):
    verdict = CHECKED[name](_contradicting(name))
    assert verdict.held is False, verdict.evidence


def test_one_failed_certificate_on_one_seed_fails_the_guarantee():
    bad = _results()
    bad["sweep"][1]["certified_after"] = False
    runs = _runs(_results(), bad, _results())
    verdict = CHECKED["combo_nets_certified_before_and_after"](runs)
    assert not verdict.held and verdict.evidence.startswith("1 of 42 certificates failed")


def test_a_baseline_contracting_on_one_task_is_enough_to_say_no():
    results = _results()
    next(r for r in results["models"] if r["model"] == "baseline" and r["task"] == "permuted")[
        "numerical_rate_after"
    ] = 0.01
    assert not CHECKED["baseline_not_contracting"](_runs(results)).held


def test_small_inconsistent_differences_are_not_significant():
    # Sparse ahead of SVD on two seeds and behind on the third: the mean difference is
    # positive but a one-sided t-test over three seeds cannot reject "no better".
    deltas = (3.0, 2.0, -4.0)
    seeds = []
    for d in deltas:
        models = {k: dict(v) for k, v in AGREE.items()}
        for task in rep.VARIANTS:
            models[("svd_combo", task)]["accuracy"] = models[("sparse_combo", task)]["accuracy"] - d
        seeds.append(_results(models))
    assert not CHECKED["sparse_more_accurate_than_svd"](_runs(*seeds)).held


def test_a_missing_task_leaves_its_claims_not_held():
    sequential_only = {k: v for k, v in AGREE.items() if k[1] == "sequential"}
    runs = _agreeing(3, models=sequential_only)
    verdict = CHECKED["permuted_harder_than_sequential"](runs)
    assert not verdict.held and "undefined on 3 of 3 seeds" in verdict.evidence


def test_sweep_slope_is_the_least_squares_gain_per_doubling():
    # accuracy = 70 + 9 log2(units / 16) exactly: the slope is 9 points per doubling.
    results = {"sweep": [{"n_units": n, "accuracy": 70 + 9 * np.log2(n / 16)} for n in (16, 64)]}
    assert rep.sweep_slope(results) == pytest.approx(9.0, rel=1e-12)
    assert rep.sweep_slope({"sweep": [{"n_units": 16, "accuracy": 1.0}] * 2}) is None


def test_claims_not_testable_at_this_scale_say_why():
    untested = [c for c in rep.CLAIMS if c.check is None]
    assert {c.name for c in untested} == {
        "sequential_mnist_accuracy",
        "permuted_mnist_accuracy",
        "state_of_the_art_among_stable_rnns",
        "sequential_cifar10",
    }
    for c in untested:
        verdict = c(_agreeing(1))
        assert verdict.held is None and "MNIST" in verdict.evidence


def test_quick_and_full_check_the_same_claims_and_the_full_run_has_seeds():
    assert rep.RNNS_OF_RNNS.claims == rep.CLAIMS
    assert rep.FULL.seeds >= 3 and rep.QUICK.seeds == 1
    assert set(rep.FULL.variants) == set(rep.QUICK.variants) == set(rep.VARIANTS)


def test_paper_values_say_which_statistic_they_are():
    assert rep.PAPER["sequential"]["accuracy"] == 99.04
    assert rep.PAPER["sequential"]["statistic"] == "best run"
    assert rep.PAPER["permuted"]["accuracy"] == 96.85
    assert rep.PAPER["permuted"]["statistic"] == "mean over runs"
    assert rep._paper_cell("sparse_combo", "permuted").startswith("96.85 (mean over runs")
    assert rep._paper_cell("baseline", "sequential").startswith("n/a (")
