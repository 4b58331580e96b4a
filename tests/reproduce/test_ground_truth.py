"""The ground-truth validation: its claims say no to contradicting numbers and yes to
agreeing ones, its fixed-point matching and state map are exact on constructed cases,
and a quick run writes its reports from numbers it measured."""

import csv
import json

import numpy as np
import pytest

from neurodyn.reproduce import ground_truth as gt
from neurodyn.reproduce.ground_truth import claims as cl
from neurodyn.reproduce.runs import Runs

CUBE = {0: 8, 1: 12, 2: 6, 3: 1}


def _student(r2=0.95, bps=(0.8, 0.5), counts=None, err=0.03, dsa=(0.05, 0.2)) -> dict:
    counts = CUBE if counts is None else counts
    return {
        "rate_r2": r2,
        "co_bps": bps[0],
        "untrained_co_bps": bps[1],
        "fixed_points": {"counts": counts, "counts_match": counts == CUBE, "max_error": err},
        "dsa_teacher": dsa[0],
        "dsa_control": dsa[1],
    }


def _seed(acc=1.0, stable=8, **student) -> dict:
    teacher = {"accuracy": acc, "counts": {**CUBE, 0: stable}}
    return {"n_bits": 3, "teacher": teacher, "rate": _student(**student),
            "low_rank": _student(**student)}  # fmt: skip


def _runs(*per_seed) -> Runs:
    return Runs(list(per_seed), seeds=list(range(len(per_seed))))


def _three(**kw) -> Runs:
    # Three seeds with a little spread, so the t-test across seeds decides.
    out = []
    for j in (-0.01, 0.0, 0.01):
        d = {}
        for k, v in kw.items():
            if isinstance(v, tuple):
                d[k] = tuple(x + j for x in v)
            elif isinstance(v, float):
                d[k] = v + j
            else:
                d[k] = v
        out.append(_seed(**d))
    return _runs(*out)


AGREE = dict(acc=0.98, r2=0.95, bps=(0.8, 0.5), err=0.03, dsa=(0.05, 0.2))
CHECKS = {c.name: c for c in cl.CLAIMS}


@pytest.mark.parametrize(
    "name, contradiction",
    [
        ("teacher_solves", {"acc": 0.6}),
        ("teacher_solves", {"stable": 7}),
        ("rate_r2_rate", {"r2": 0.8}),
        ("rate_r2_low_rank", {"r2": 0.8}),
        ("co_bps_rate", {"bps": (0.4, 0.5)}),
        ("fixed_point_counts_rate", {"counts": {0: 8, 1: 11, 2: 6, 3: 1}}),
        ("fixed_point_counts_low_rank", {"counts": {0: 4}}),
        ("fixed_point_locations_rate", {"err": 0.3}),
        # Locations cannot hold where the counts differ, however close the pairs are.
        ("fixed_point_locations_low_rank", {"counts": {0: 8, 1: 12}}),
        ("dsa_rate", {"dsa": (0.2, 0.1)}),
        ("dsa_low_rank", {"dsa": (0.2, 0.1)}),
    ],
)
def test_each_claim_says_no_to_contradicting_numbers_and_yes_to_agreeing_ones(name, contradiction):
    claim = CHECKS[name]
    assert claim(_three(**AGREE)).held is True
    assert claim(_three(**{**AGREE, **contradiction})).held is False
    assert claim(_runs(_seed(**AGREE))).held is True
    assert claim(_runs(_seed(**{**AGREE, **contradiction}))).held is False


def test_the_second_teacher_is_listed_as_not_tested_with_its_reason():
    verdict = CHECKS["context_integration_teacher"](_runs(_seed(**AGREE)))
    assert verdict.held is None and "CPU" in verdict.evidence


def test_state_map_recovers_an_affine_map_exactly():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 40, 6))
    a, c = rng.normal(size=(6, 4)), rng.normal(size=4)
    apply = gt.state_map(x, x @ a + c)
    z = rng.normal(size=(7, 6))
    # Exact data: the least-squares solution is the map itself up to float64 rounding of
    # a well-conditioned 7-column problem (condition ~10, so ~1e-14 relative).
    np.testing.assert_allclose(apply(z), z @ a + c, atol=1e-10)


def test_fixed_points_are_paired_within_their_stability_class():
    teacher = {
        "x": np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]),
        "n_unstable": np.array([1, 0, 0]),
        "counts": {0: 2, 1: 1},
    }
    # The student's stable points swapped in order and displaced by 0.1 and 0.2; its
    # saddle 0.05 off. A pairing across classes would pair the saddle elsewhere.
    student = np.array([[0.0, 1.1], [1.2, 0.0], [0.05, 0.0]])
    out = gt.match_fixed_points(teacher, student, [0, 0, 1], scale=2.0)
    assert out["counts_match"] and out["n_paired"] == 3
    assert out["max_error"] == pytest.approx(0.2 / 2.0)
    assert out["median_error"] == pytest.approx(0.1 / 2.0)
    wrong = gt.match_fixed_points(teacher, student, [0, 1, 1], scale=2.0)
    assert not wrong["counts_match"]


def test_principal_components_keep_the_leading_variance():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 50, 5)) * np.array([10.0, 5.0, 0.1, 0.1, 0.1])
    p = gt.principal_components(x, 2)
    total = ((x - x.reshape(-1, 5).mean(0)) ** 2).sum()
    assert p.shape == (3, 50, 2) and (p**2).sum() / total > 0.99


def test_bad_sizes_are_refused_by_name():
    with pytest.raises(ValueError, match="n_test"):
        gt.GroundTruthConfig(n_trials=10, n_test=10)
    with pytest.raises(ValueError, match="n_held_in"):
        gt.GroundTruthConfig(n_hidden=16, n_held_in=16, n_held_out=1)


def test_quick_run_writes_its_reports_from_measured_numbers(tmp_path):
    out = gt.GROUND_TRUTH(tmp_path, quick=True, progress=False)
    assert out["seeds"] == [0]
    statuses = {c["status"] for c in out["claims"].values()}
    assert statuses <= {"held", "not held", "not tested"}
    assert len(out["claims"]) == len(cl.CLAIMS)
    run = out["runs"][0]
    for s in cl.STUDENTS:
        assert run[s]["rate_r2"] <= 1.0 and run[s]["dsa_teacher"] >= 0.0
        # The fitted student explains held-out neurons better than a constant rate.
        assert np.isfinite(run[s]["co_bps"])
    summary = json.loads((tmp_path / "ground_truth.json").read_text())
    assert summary["claims_line"] == out["claims_line"]
    markdown = (tmp_path / "ground_truth.md").read_text()
    assert out["claims_line"] in markdown and "rate R²" in markdown
    with open(tmp_path / "ground_truth.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(cl.STUDENTS)
    assert (tmp_path / "ground_truth.png").stat().st_size > 10_000
