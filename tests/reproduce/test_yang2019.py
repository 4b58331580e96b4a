"""The multitask reproduction (Yang et al. 2019): its claims say no to numbers that
contradict the paper and yes to numbers that agree, and a quick run writes its reports
from numbers it measured."""

import csv
import json

import numpy as np
import pytest

from neurodyn.reproduce import yang2019 as rep
from neurodyn.reproduce.runs import Runs
from neurodyn.reproduce.yang2019 import claims as cl

RULES = ["go", "anti", "rtanti", "dlyanti", "dm1"]


def _seed(acc=0.9, chance=0.2, sil=(0.4, 0.2), ftv=(0.8, 0.2), anti_drop=0.5,
          random_drop=0.05, other_drop=0.05, n_anti=6, margin=0.7) -> dict:  # fmt: skip
    """One seed's results (the unconstrained network), with the measured numbers set."""
    intact = {"anti": 0.9, "other": 0.9}
    free = {
        "tasks": {t: {"accuracy": acc, "chance": chance} for t in RULES},
        "clusters": {"silhouette": sil[0], "n_active": 20, "n_clusters": 4},
        "clusters_untrained": {"silhouette": sil[1], "n_active": 20, "n_clusters": 2},
        "mean_abs_ftv": {"dm1-dm2": ftv[0], "ctxdm1-ctxdm2": ftv[1], "go-anti": 0.5},
        "lesions": {
            "n_anti_units": n_anti,
            "intact": intact,
            "anti_lesion": {"anti": 0.9 - anti_drop, "other": 0.9 - other_drop},
            "random_lesion": {"anti": 0.9 - random_drop, "other": 0.88},
        },
        "composition": {"margin": margin, "target_rank": 1},
    }
    return {"rules": RULES, "free": free}


def _runs(*per_seed) -> Runs:
    return Runs(list(per_seed), seeds=list(range(len(per_seed))))


def _three(**kw) -> Runs:
    # Three seeds with a little spread, so the t-test across seeds decides.
    jitter = (-0.01, 0.0, 0.01)
    out = []
    for j in jitter:
        d = {k: (tuple(x + j for x in v) if isinstance(v, tuple) else v + j) for k, v in kw.items()}
        out.append(_seed(**d))
    return _runs(*out)


AGREE = dict(acc=0.9, chance=0.2, sil=(0.4, 0.2), ftv=(0.8, 0.2), anti_drop=0.5,
             random_drop=0.05, other_drop=0.05, margin=0.7)  # fmt: skip


@pytest.mark.parametrize(
    "claim, contradiction",
    [
        (cl.tasks_learned, {"acc": 0.2, "chance": 0.2}),
        (cl.clusters_develop, {"sil": (0.2, 0.4)}),
        (cl.modality_disjoint, {"ftv": (0.2, 0.8)}),
        (cl.anti_units_needed, {"anti_drop": 0.05, "random_drop": 0.3}),
        (cl.anti_units_specific, {"anti_drop": 0.05, "other_drop": 0.3}),
        (cl.composition_holds, {"margin": 1.4}),
    ],
)
def test_each_claim_says_no_to_contradicting_numbers_and_yes_to_agreeing_ones(claim, contradiction):
    assert claim(_three(**AGREE)).held is True
    assert claim(_three(**{**AGREE, **contradiction})).held is False
    # One seed: the sign decides, in both directions.
    assert claim(_runs(_seed(**AGREE))).held is True
    assert claim(_runs(_seed(**{**AGREE, **contradiction}))).held is False


def test_one_task_below_chance_is_enough_to_refuse_and_is_named():
    runs = _three(**AGREE)
    for r in runs:
        r["free"]["tasks"]["dm1"]["accuracy"] = 0.1
    verdict = cl.tasks_learned(runs)
    assert verdict.held is False and "dm1" in verdict.evidence and "4 of 5" in verdict.evidence


def test_lesion_claims_refuse_a_network_without_anti_units():
    runs = _three(**AGREE)
    for r in runs:
        r["free"]["lesions"]["n_anti_units"] = 0
    for claim in (cl.anti_units_needed, cl.anti_units_specific):
        verdict = claim(runs)
        assert verdict.held is False and "Anti" in verdict.evidence


def test_anti_units_are_those_with_over_half_of_their_variance_in_the_anti_tasks():
    import xarray as xr

    tasks = ["go", "anti", "rtanti", "dlyanti", "dm1"]
    tv = np.array(
        [
            [1.0, 0.0, 0.0, 0.0, 0.0],  # go only
            [0.0, 1.0, 1.0, 1.0, 0.0],  # anti family only: an Anti unit
            [1.0, 0.3, 0.3, 0.3, 0.2],  # 0.9 of 2.1 in Anti: not one
            [0.1, 0.5, 0.0, 0.1, 0.3],  # 0.6 of 1.0: one
            [0.0, 0.0, 0.0, 0.0, 0.0],  # silent: not active
        ]
    )
    ds = xr.Dataset(
        {"task_variance": (("unit", "task"), tv), "active": ("unit", tv.sum(1) > 1e-3)},
        coords={"task": tasks, "unit": np.arange(5)},
    )
    assert rep._anti_units(ds).tolist() == [1, 3]


def test_quick_run_writes_its_reports_from_measured_numbers(tmp_path):
    out = rep.YANG2019(tmp_path, quick=True, progress=False)
    assert out["seeds"] == [0]
    statuses = {c["status"] for c in out["claims"].values()}
    assert statuses <= {"held", "not held", "not tested"}
    assert out["claims"]["continual_learning"]["status"] == "not tested"
    run = out["runs"][0]
    assert run["rules"] == list(rep.make_task(rep.QUICK).rules) and len(run["rules"]) == 20
    for condition in rep.CONDITIONS:
        tasks = run[condition]["tasks"]
        acc = np.array([t["accuracy"] for t in tasks.values()])
        chance = np.array([t["chance"] for t in tasks.values()])
        # Fractions of n_eval trials.
        n = rep.QUICK.n_eval
        assert np.allclose(acc * n, np.round(acc * n)) and np.allclose(
            chance * n, np.round(chance * n)
        )
        assert np.all(chance >= 1 / n) and np.all(acc <= 1)
        assert run[condition]["clusters"]["n_active"] <= rep.QUICK.n_hidden
    summary = json.loads((tmp_path / "yang2019.json").read_text())
    assert summary["claims_line"] == out["claims_line"]
    markdown = (tmp_path / "yang2019.md").read_text()
    assert out["claims_line"] in markdown and "dlyanti" in markdown
    with open(tmp_path / "yang2019.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 20 * len(rep.CONDITIONS)
    assert (tmp_path / "yang2019.png").stat().st_size > 10_000
