"""Context-dependent integration (Mante et al. 2013): the line-attractor analysis on linear
systems whose line, time constants and selection vectors are known in closed form, the
behavioural regression, the task's zero-evidence inputs and ideal observer, claims that say
no to contradicting numbers and yes to agreeing ones, and a quick run that writes its
reports from numbers it measured."""

import csv
import inspect
import json
import math

import numpy as np
import pytest

from neurodyn.analysis import line_attractor
from neurodyn.dynamics import FunctionDynamics
from neurodyn.reproduce import mante2013 as rep
from neurodyn.reproduce.mante2013 import claims as cl
from neurodyn.reproduce.runs import Runs

# -- the line attractor of a linear system ---------------------------------------------------
# ẋ = A x + B u with A = R diag(0, -0.5, -2, -3) R⁻¹: a line along r₀ = R[:, 0], selection
# vector l₀ = R⁻¹[0] (l₀ᴴ r₀ = 1), the next mode's time constant 2. R is not orthogonal, so
# the selection vector is not the line's direction (the point of Mante et al.'s mechanism).
R = np.array([[1.0, 0.4, 0.0, 0.2], [0.5, 1.0, 0.3, 0.0], [0.0, 0.6, 1.0, 0.1],
              [0.3, 0.0, 0.2, 1.0]])  # fmt: skip
A = R @ np.diag([0.0, -0.5, -2.0, -3.0]) @ np.linalg.inv(R)
# Five inputs: "a" right/left on channels 0/1, "b" right/left on 2/3, a cue on 4.
B = np.random.default_rng(1).normal(size=(4, 5))


def _linear(rate=0.0):
    # The Jacobians exactly, not by finite differences (about ten digits).
    a = R @ np.diag([rate, -0.5, -2.0, -3.0]) @ np.linalg.inv(R)
    return FunctionDynamics(
        lambda x, u: x @ a.T + u @ B.T,
        n_state=4,
        n_input=5,
        kind="ode",
        dt=0.05,
        jacobian=lambda x, u: np.broadcast_to(a, (len(x), 4, 4)),
        input_jacobian=lambda x, u: np.broadcast_to(B, (len(x), 4, 5)),
    )


def _starts(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return np.outer(np.linspace(-2, 2, n), R[:, 0]) + 0.3 * rng.normal(size=(n, 4))


EVIDENCE = {"a": (0, 1), "b": (2, 3)}


def test_the_line_its_time_constants_and_its_selection_vector_are_the_closed_forms():
    out = line_attractor(_linear(), _starts(), np.zeros(5), evidence=EVIDENCE,
                             choice_axis=R[:, 0], relax_steps=200)  # fmt: skip
    assert out["n_lines"] == 1 and out["n_points"] >= 50
    l0 = np.linalg.inv(R)[0]
    r0 = R[:, 0]
    # RK4 at h = 0.05 over 10 time units leaves the fast modes at e^{-5} ≈ 7e-3 of their
    # start; the Jacobian is the same everywhere, so the modes are exact to rounding (the
    # zero eigenvalue to about 1e-16 × cond(R) × ‖A‖).
    assert 1.0 / out["time_constant"] < 1e-13
    assert out["next_time_constant"] == pytest.approx(2.0, rel=1e-9)
    assert out["choice_alignment"] == pytest.approx(1.0, abs=1e-12)
    for name, (right, left) in EVIDENCE.items():
        e = np.zeros(5)
        e[right], e[left] = 1.0, -1.0
        assert out["pickup"][name] == pytest.approx(abs(l0 @ B @ e) * np.linalg.norm(r0), rel=1e-9)
        cos = abs(l0 @ B @ e) / np.linalg.norm(l0) / np.linalg.norm(B @ e)
        assert out["selection_cos"][name] == pytest.approx(cos, rel=1e-9)
    # The mean directions, up to sign.
    assert abs(np.dot(out["right"], r0 / np.linalg.norm(r0))) == pytest.approx(1.0, abs=1e-12)
    assert abs(np.dot(out["selection"], l0 / np.linalg.norm(l0))) == pytest.approx(1.0, abs=1e-12)


def test_a_single_channel_of_evidence_and_a_tilted_choice_axis():
    axis = R[:, 0] / np.linalg.norm(R[:, 0]) + np.array([0.0, 0.0, 0.0, 0.5])
    out = line_attractor(_linear(), _starts(), np.zeros(5), evidence={"cue": (4, None)},
                             choice_axis=axis, relax_steps=200)  # fmt: skip
    l0, r0 = np.linalg.inv(R)[0], R[:, 0]
    assert out["pickup"]["cue"] == pytest.approx(abs(l0 @ B[:, 4]) * np.linalg.norm(r0), rel=1e-9)
    expected = abs(r0 @ axis) / np.linalg.norm(r0) / np.linalg.norm(axis)
    assert out["choice_alignment"] == pytest.approx(expected, rel=1e-9)


def test_a_leaky_integrator_is_not_a_line_attractor():
    # The slow mode decays at 0.4 per unit, close to the next (0.5): the relaxed states
    # collapse toward the fixed point and no mode is separated enough to make a line.
    out = line_attractor(_linear(rate=-0.4), _starts(), np.zeros(5), evidence=EVIDENCE,
                             choice_axis=R[:, 0], relax_steps=200)  # fmt: skip
    assert out["n_lines"] == 0 and out["n_points"] == 0
    assert math.isnan(out["time_constant"]) and math.isnan(out["pickup"]["a"])
    assert out["right"] == [] and out["_points"].shape == (0, 4)


def test_bad_arguments_are_refused_by_name():
    dyn, start = _linear(), _starts()
    kw = {"evidence": EVIDENCE, "choice_axis": R[:, 0], "relax_steps": 10}
    with pytest.raises(ValueError, match="states"):
        line_attractor(dyn, start[:, :3], np.zeros(5), **kw)
    with pytest.raises(ValueError, match="inputs"):
        line_attractor(dyn, start, np.zeros(4), **kw)
    with pytest.raises(ValueError, match="choice_axis"):
        line_attractor(dyn, start, np.zeros(5), **{**kw, "choice_axis": np.zeros(4)})
    with pytest.raises(ValueError, match="evidence"):
        line_attractor(dyn, start, np.zeros(5), **{**kw, "evidence": {"a": (0, 7)}})
    with pytest.raises(ValueError, match="relax_steps"):
        line_attractor(dyn, start, np.zeros(5), **{**kw, "relax_steps": -1})


# -- the behaviour ------------------------------------------------------------------------
def test_choice_weights_recover_known_slopes_and_refuse_one_sided_choices():
    rng = np.random.default_rng(3)
    rel, irr = rng.choice([-16.0, -4.0, 4.0, 16.0], size=(2, 8000))
    p = 1.0 / (1.0 + np.exp(-(0.3 * rel - 0.1 * irr + 0.2)))
    choice = np.where(rng.random(8000) < p, 1, -1)
    choice[:100] = 0  # no choice: left out
    w = rep.choice_weights(choice, rel, irr)
    # Standard errors with 7900 trials (from the Fisher information): 0.007 for the
    # relevant slope, 0.004 for the irrelevant one, 0.04 for the bias; five of them.
    assert w["n_trials"] == 7900
    assert w["relevant"] == pytest.approx(0.3, abs=0.035)
    assert w["irrelevant"] == pytest.approx(-0.1, abs=0.02)
    assert w["bias"] == pytest.approx(0.2, abs=0.2)
    one_side = rep.choice_weights(np.ones(50), rel[:50], irr[:50])
    assert math.isnan(one_side["relevant"]) and one_side["n_trials"] == 50


# -- the task's pieces --------------------------------------------------------------------
def test_the_zero_evidence_inputs_carry_the_cue_and_no_evidence():
    cfg = rep.QUICK
    u = rep.zero_evidence_inputs(cfg)
    names = list(rep.make_task(cfg).input_names)
    assert u.shape == (2, len(names))
    for c, cue in enumerate(("context_motion", "context_color")):
        assert u[c, names.index(cue)] == 1.0 and u[c, names.index("fixation")] == 1.0
        other = "context_color" if cue == "context_motion" else "context_motion"
        assert u[c, names.index(other)] == 0.0
        for m in rep.MODALITIES:
            right, left = rep.evidence_channels(rep.make_task(cfg))[m]
            assert u[c, right] == u[c, left] == 0.5


def test_the_ideal_observer_is_right_on_noiseless_trials_and_at_chance_on_pure_noise():
    cfg = rep.QUICK
    quiet = rep.make_task(cfg, 750.0, sigma=0.0)
    b = quiet.batch(64, seed=0)
    assert rep._ideal_correct(b, rep.evidence_channels(quiet)).mean() == 1.0
    # Zero coherence: the ground truth is a coin the observer cannot see. 2000 trials:
    # standard error 0.011; five of them.
    noisy = rep.make_task(cfg, 750.0, coherences=(0.0,))
    b = noisy.batch(2000, seed=1)
    assert abs(rep._ideal_correct(b, rep.evidence_channels(noisy)).mean() - 0.5) < 0.055


def test_bad_configurations_are_refused_by_name():
    with pytest.raises(ValueError, match="stimulus_ms"):
        rep.Mante2013Config(stimulus_ms=(1500.0, 300.0))
    with pytest.raises(ValueError, match="stimulus_ms"):
        rep.Mante2013Config(stimulus_ms=(300.0,))
    with pytest.raises(ValueError, match="n_components"):
        rep.Mante2013Config(n_hidden=8, n_components=12)
    with pytest.raises(ValueError, match="dt"):
        rep.Mante2013Config(dt=200.0)


# -- the claims ---------------------------------------------------------------------------
def _seed(acc_gap=0.02, irr=0.01, tau0=1500.0, tau1=200.0, align=0.95, rel_pickup=0.14,
          irr_pickup=0.005, right_cos=0.9, sel_cos=0.3, no_line=False) -> dict:  # fmt: skip
    def line(c):
        other = "color" if c == "motion" else "motion"
        nan = float("nan")
        return {
            "n_lines": 0 if no_line else 1,
            "time_constant": nan if no_line else tau0,
            "next_time_constant": nan if no_line else tau1,
            "choice_alignment": nan if no_line else align,
            "pickup": {c: nan if no_line else rel_pickup, other: nan if no_line else irr_pickup},
        }

    return {
        "tau": 100.0,
        "accuracy": 0.85 - acc_gap,
        "ideal_accuracy": 0.85,
        "choice_weights": {c: {"relevant": 0.3, "irrelevant": irr} for c in ("motion", "color")},
        "lines": {c: line(c) for c in ("motion", "color")},
        "cross_context": {"right_cos": right_cos, "selection_cos": sel_cos},
    }


def _runs(*seeds) -> Runs:
    return Runs(list(seeds), seeds=list(range(len(seeds))))


def _three(**kw) -> Runs:
    # Every number (the defaults and the given ones) spread by ±2 % over three seeds, so
    # that the t-test decides.
    values = {k: p.default for k, p in inspect.signature(_seed).parameters.items()} | kw
    return _runs(*[_seed(**{k: v * (1 + j) if isinstance(v, float) else v
                            for k, v in values.items()}) for j in (-0.02, 0.0, 0.02)])  # fmt: skip


CHECKS = {c.name: c for c in cl.CLAIMS}


@pytest.mark.parametrize(
    "name, contradiction",
    [
        ("task_learned", {"acc_gap": 0.1}),
        ("context_gating", {"irr": 0.06}),  # a fifth of the relevant slope
        ("line_attractor", {"tau0": 500.0}),  # a leaky integrator
        ("line_attractor", {"tau1": 500.0}),  # slow, but not separated from the next
        ("line_attractor", {"no_line": True}),
        ("choice_axis", {"align": 0.2}),
        ("selection_vector", {"irr_pickup": 0.1}),
        ("selection_vector", {"no_line": True}),
        ("selection_turns", {"sel_cos": 0.95}),  # the selection vector does not turn
    ],
)
def test_each_claim_says_no_to_contradicting_numbers_and_yes_to_agreeing_ones(name, contradiction):
    claim = CHECKS[name]
    assert claim(_three()).held is True
    assert claim(_three(**contradiction)).held is False
    assert claim(_runs(_seed())).held is True
    assert claim(_runs(_seed(**contradiction))).held is False


def test_the_worse_context_decides():
    r = _seed()
    r["lines"]["color"]["pickup"]["motion"] = 0.1  # colour context: ratio 1.4
    assert cl.selection_ratio(r) == pytest.approx(1.4)
    r["choice_weights"]["motion"]["irrelevant"] = -0.09
    assert cl.gating_ratio(r) == pytest.approx(0.3)
    r["choice_weights"]["color"]["relevant"] = float("nan")
    assert cl.gating_ratio(r) == math.inf


# -- a quick run end to end -------------------------------------------------------------------
def test_quick_run_writes_its_reports_from_measured_numbers(tmp_path):
    out = rep.MANTE2013(tmp_path, quick=True, progress=False)
    assert out["seeds"] == [0] and len(out["claims"]) == len(cl.CLAIMS)
    assert {c["status"] for c in out["claims"].values()} <= {"held", "not held"}
    r = out["runs"][0]
    assert 0.0 <= r["accuracy"] <= 1.0 and 0.5 < r["ideal_accuracy"] <= 1.0
    for c in rep.CONTEXTS:
        line = r["lines"][c]
        if line["n_lines"]:
            # Time constants are positive and the slow mode the slowest.
            assert line["time_constant"] >= line["next_time_constant"] > 0
            assert 0.0 <= line["choice_alignment"] <= 1.0 + 1e-12
    summary = json.loads((tmp_path / "mante2013.json").read_text())
    assert summary["claims_line"] == out["claims_line"]
    markdown = (tmp_path / "mante2013.md").read_text()
    assert out["claims_line"] in markdown and "Fig. 6" in markdown
    with open(tmp_path / "mante2013.csv") as f:
        rows = list(csv.DictReader(f))
    assert [row["context"] for row in rows] == list(rep.CONTEXTS)
    assert (tmp_path / "mante2013.png").stat().st_size > 10_000
