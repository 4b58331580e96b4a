"""The sine-wave generator (Sussillo & Barak 2013): the task's oracle and evaluation, the
per-level analysis on a Hopf normal form whose fixed point, cycle, multipliers and
exponents are known in closed form, claims that say no to contradicting numbers and yes
to agreeing ones, and a quick run that writes its reports from numbers it measured."""

import csv
import doctest
import importlib
import json
import math

import numpy as np
import pytest

from neurodyn.dynamics import FunctionDynamics
from neurodyn.reproduce import sussillo2013 as rep
from neurodyn.reproduce.runs import Runs
from neurodyn.reproduce.sussillo2013 import claims as cl
from neurodyn.reproduce.sussillo2013.mechanism import LevelOptions
from neurodyn.tasks import SineWaveGenerator, make_task


@pytest.mark.parametrize(
    "name", ["neurodyn.tasks.sine_wave", "neurodyn.reproduce.sussillo2013.mechanism"]
)
def test_the_docstring_examples_run(name):
    module = importlib.import_module(name)
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


# -- the task --------------------------------------------------------------------------------
def test_levels_map_inputs_to_frequencies_as_the_paper_does():
    task = SineWaveGenerator()  # 51 levels, 0.1 to 0.6
    np.testing.assert_allclose(task.level_input([1, 51]), [1 / 51 + 0.25, 1.25])
    np.testing.assert_allclose(task.level_omega([1, 26, 51]), [0.1, 0.35, 0.6])
    # The frequency is affine in the input, and the oracle reads it back exactly (to
    # float64 rounding of a few operations).
    levels = task.levels
    np.testing.assert_allclose(task.input_omega(task.level_input(levels)),
                               task.level_omega(levels), rtol=1e-12)  # fmt: skip
    assert make_task("sine_wave_generator", n_levels=5).n_inputs == 1


def test_targets_are_the_sine_at_the_end_of_each_step_and_the_transient_is_not_scored():
    task = SineWaveGenerator(dt=10.0, n_levels=6, time_unit_ms=50.0,
                             timing={"transient": 200.0, "generate": 3000.0})  # fmt: skip
    b = task.batch(3, seed=0, level=[1, 4, 6])
    t = (np.arange(b.n_steps) + 1) * 10.0 / 50.0  # time units at the end of each step
    omega = np.array([0.1, 0.4, 0.6])
    # float32 targets: 1e-6 absolute.
    np.testing.assert_allclose(b.targets[:, :, 0], np.sin(omega[:, None] * t), atol=1e-6)
    u = np.broadcast_to((np.array([1, 4, 6]) / 6 + 0.25)[:, None], b.inputs.shape[:2])
    np.testing.assert_allclose(b.inputs[:, :, 0], u, rtol=1e-6)  # float32
    assert np.all(b.mask[:, :20] == 0) and np.all(b.mask[:, 20:] == 1)
    np.testing.assert_array_equal(task.oracle(b), b.targets)


def test_evaluation_reads_the_frequency_and_refuses_a_wrong_one():
    task = SineWaveGenerator(dt=10.0, n_levels=51, timing={"generate": 40_000.0})
    b = task.batch(2, seed=0, level=[11, 41])
    good = task.evaluate(task.oracle(b), b)
    # Crossings interpolated linearly between steps of 0.1 time unit: the phase error
    # at a crossing is O((ω dt)²) ≈ 4e-4 rad, over 2π × (number of periods) rad.
    np.testing.assert_allclose(good["omega_out"], [0.2, 0.5], rtol=1e-4)
    assert good["correct"].all() and np.all(good["nmse"] < 1e-10)
    # 5 % too fast: the phase drifts by 0.05 ω t, past a quarter period within the trial.
    t = (np.arange(b.n_steps) + 1) * 0.1
    fast = np.sin(1.05 * np.array([0.2, 0.5])[:, None] * t)[..., None]
    bad = task.evaluate(fast, b)
    np.testing.assert_allclose(bad["relative_error"], 0.05, rtol=1e-3)
    assert not bad["correct"].any()


def test_bad_levels_and_settings_are_refused_by_name():
    with pytest.raises(ValueError, match="level"):
        SineWaveGenerator(n_levels=5).batch(1, seed=0, level=6)
    with pytest.raises(ValueError, match="omega_max"):
        SineWaveGenerator(omega_min=0.5, omega_max=0.2)
    with pytest.raises(ValueError, match="stage_ms"):
        rep.Sussillo2013Config(stage_ms=(1000.0,), stage_steps=(10, 10))
    with pytest.raises(ValueError, match="dt"):
        rep.Sussillo2013Config(dt=200.0)


# -- the analysis on a system with known answers ----------------------------------------------
MU, B, C = 0.2, 0.5, 1.0


def _hopf(x, u):
    # ż = (μ + iω) z − (1 + ib)|z|² z with ω = u, and a stable direction at rate C.
    r2 = x[:, 0] ** 2 + x[:, 1] ** 2
    w = u[:, 0]
    return np.stack([
        MU * x[:, 0] - w * x[:, 1] - r2 * (x[:, 0] - B * x[:, 1]),
        w * x[:, 0] + MU * x[:, 1] - r2 * (x[:, 1] + B * x[:, 0]),
        -C * x[:, 2],
    ], axis=1)  # fmt: skip


def _hopf_jacobian(x, u):
    x0, x1, w = x[:, 0], x[:, 1], u[:, 0]
    r2 = x0**2 + x1**2
    a, b = x0 - B * x1, x1 + B * x0
    jac = np.zeros((len(x), 3, 3))
    jac[:, 0, 0] = MU - 2 * x0 * a - r2
    jac[:, 0, 1] = -w - 2 * x1 * a + B * r2
    jac[:, 1, 0] = w - 2 * x0 * b - B * r2
    jac[:, 1, 1] = MU - 2 * x1 * b - r2
    jac[:, 2, 2] = -C
    return jac


def _hopf_dynamics():
    return FunctionDynamics(_hopf, n_state=3, n_input=1, kind="ode", dt=0.01,
                            jacobian=_hopf_jacobian)  # fmt: skip


def test_the_hopf_jacobian_is_the_derivative_of_its_field():
    x = np.random.default_rng(0).normal(size=(5, 3))
    u = np.full((5, 1), 1.3)
    fd = FunctionDynamics(_hopf, n_state=3, n_input=1, kind="ode").jacobian(x, u)
    # Central differences carry about 10 correct digits (see FunctionDynamics).
    np.testing.assert_allclose(_hopf_jacobian(x, u), fd, atol=1e-8)


def test_the_level_analysis_finds_the_hopf_normal_forms_known_mechanism():
    # The origin is the only fixed point, with eigenvalues μ ± iω and −C; the cycle has
    # radius √μ and turns at ω − bμ (the twist), not at the linear ω: the analysis must
    # tell them apart. Its nontrivial multipliers are e^{−2μT} and e^{−CT}, its top
    # exponents 0 and −2μ (2μ < C).
    dyn = _hopf_dynamics()
    opts = LevelOptions(n_inits=32, lyapunov_steps=2000, lyapunov_transient=2000)
    out = rep.analyze_level(dyn, [1.0], [0.3, 0.0, 0.1], period_guess=2 * np.pi,
                            time_unit=2.0, options=opts, seed=0)  # fmt: skip
    period = 2 * np.pi / (1.0 - B * MU)
    # Rates and frequencies per time unit of 2 (twice the dynamics' own); eigenvalues of
    # a 2 × 2 block to rounding.
    assert out["n_roots"] == 1 and out["n_with_pair"] == 1 and abs(out["winding"]) == 1
    assert out["omega_linear"] == pytest.approx(2.0, rel=1e-7)
    assert out["growth_linear"] == pytest.approx(2 * MU, rel=1e-7)
    assert out["centre_distance"] < 1e-6  # the origin is the circle's centroid
    # Shooting with RK4 (400 steps per period, h ≈ 0.017): O(h⁴) ≈ 1e-7 relative in T.
    assert out["cycle_status"] == "converged" and out["cycle_stable"]
    assert out["omega_cycle"] == pytest.approx(2 * 2 * np.pi / period, rel=1e-6)
    assert out["trivial_error"] < 1e-6
    assert out["max_multiplier"] == pytest.approx(math.exp(-2 * MU * period), rel=1e-5)
    assert out["floquet_rate"] == pytest.approx(2 * -2 * MU, rel=1e-5)
    # The normal form is symmetric under rotation: on the circle the tangent dynamics in
    # a co-rotating frame are constant, so the exponents are exact but for RK4's error and
    # the first Lyapunov vector's misalignment, which decays as e^{−2μt}: e^{−8} ≈ 3e-4 of
    # its initial tangent after the 20 time units of transient, shifting both exponents
    # by about that over the 20 averaged (2e-5 per unit of 2). 1e-3 allows an initial
    # vector 30 times closer to the wrong direction than a typical one.
    top, second = out["lyapunov"]
    assert abs(top) < 1e-3 and second == pytest.approx(2 * -2 * MU, abs=1e-3)
    np.testing.assert_allclose(np.linalg.norm(out["_orbit"][:, :2], axis=1), math.sqrt(MU),
                               rtol=1e-6)  # fmt: skip


def test_a_level_that_settles_has_no_cycle_and_no_unstable_pair():
    # μ < 0: the origin is a stable focus; nothing oscillates.
    def f(x, u):
        return np.stack([-0.5 * x[:, 0] - x[:, 1], x[:, 0] - 0.5 * x[:, 1]], axis=1)

    dyn = FunctionDynamics(f, n_state=2, n_input=1, kind="ode", dt=0.01)
    out = rep.analyze_level(dyn, [1.0], [0.5, 0.0], period_guess=2 * np.pi, time_unit=1.0,
                            options=LevelOptions(n_inits=16), seed=0)  # fmt: skip
    assert out["cycle_status"] == "no_oscillation" and not out["cycle_stable"]
    assert out["n_roots"] == 1 and out["n_with_pair"] == 0
    assert math.isnan(out["omega_linear"]) and math.isnan(out["omega_cycle"])


def test_winding_numbers_and_the_oscillatory_mode():
    t = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    circle = np.stack([np.cos(t), np.sin(t)], 1)
    assert rep.winding_number(circle, [0.0, 0.0]) == 1
    assert rep.winding_number(circle[::-1], [0.5, 0.0]) == -1
    assert rep.winding_number(circle, [1.5, 0.0]) == 0
    twice = np.stack([np.cos(2 * t), np.sin(2 * t)], 1)
    assert rep.winding_number(twice, [0.1, 0.1]) == 2
    # Modes sorted most unstable first: a real unstable mode, then a complex pair.
    g, f = np.array([0.5, 0.2, 0.2, -1.0]), np.array([0.0, 0.3, -0.3, 0.0])
    assert rep.oscillatory_mode(g, f, 1e-4) == 1
    assert rep.oscillatory_mode(np.array([-0.1, -0.1]), np.array([0.3, -0.3]), 1e-4) == -1


# -- the claims -------------------------------------------------------------------------------
def _seed(n=11, lin=0.1, cyc=0.01, accuracy=1.0, reverse=False, missing=None, wind=1,
          unstable=None, triv=1e-9, top=0.0, second=-0.2, mu2=0.05) -> dict:  # fmt: skip
    """One seed's levels: linear prediction `lin` and cycle `cyc` too fast (relative)."""
    omega = np.linspace(0.1, 0.6, n)
    linear = omega * (1 + lin)
    if reverse:  # the top five levels' predictions in reverse order
        linear[6:] = linear[6:][::-1].copy()
    n_with_pair, winding = np.ones(n), np.full(n, wind)
    stable = np.ones(n, dtype=bool)
    if missing is not None:
        linear[missing], n_with_pair[missing] = np.nan, 0
    if unstable is not None:
        stable[unstable] = False
    return {
        "n_levels": n,
        "accuracy": accuracy,
        "levels": {
            "level": list(range(1, n + 1)),
            "omega": omega.tolist(),
            "omega_linear": linear.tolist(),
            "omega_cycle": (omega * (1 + cyc)).tolist(),
            "n_with_pair": n_with_pair.tolist(),
            "winding": winding.tolist(),
            "cycle_stable": stable.tolist(),
            "trivial_error": [triv] * n,
            "max_multiplier": [mu2] * n,
            "floquet_rate": [-0.2] * n,
            "lyapunov_top": [top] * n,
            "lyapunov_second": [second] * n,
        },
    }


def _runs(*seeds) -> Runs:
    return Runs(list(seeds), seeds=list(range(len(seeds))))


def _three(**kw) -> Runs:
    # Three seeds with a little spread in the relative errors, so the t-test decides.
    return _runs(*[_seed(**{**kw, "lin": kw.get("lin", 0.1) + j, "cyc": kw.get("cyc", 0.01) + j / 10})
                   for j in (-0.01, 0.0, 0.01)])  # fmt: skip


CHECKS = {c.name: c for c in cl.CLAIMS}


@pytest.mark.parametrize(
    "name, contradiction",
    [
        ("task_learned", {"accuracy": 0.5}),
        ("fixed_point_every_level", {"missing": 3}),
        ("fixed_point_every_level", {"wind": 0}),  # the point lies outside its cycle
        ("linear_frequency", {"lin": 0.3}),
        # Right in the median (7 of 11 within 0.1), wrong in order: Spearman 0.82.
        ("linear_frequency", {"reverse": True}),
        ("stable_cycles", {"unstable": 5}),
        ("stable_cycles", {"triv": 1e-2}),
        ("cycle_frequency", {"cyc": 0.08}),
        ("analyses_agree", {"top": 0.05}),  # not 0 within 0.1 × 0.2
        ("analyses_agree", {"second": -0.3}),  # μ₂ resolved: must equal ln|μ₂|/T
        ("analyses_agree", {"mu2": 1e-8, "second": -0.1}),  # unresolved: a bound, not met
    ],
)
def test_each_claim_says_no_to_contradicting_numbers_and_yes_to_agreeing_ones(name, contradiction):
    claim = CHECKS[name]
    assert claim(_three()).held is True
    assert claim(_three(**contradiction)).held is False
    assert claim(_runs(_seed())).held is True
    assert claim(_runs(_seed(**contradiction))).held is False


def test_an_unresolved_multiplier_bounds_the_second_exponent_from_above():
    # μ₂ below 100 × the trivial error: ln|μ₂|/T = −0.2 is only a bound; −0.3 is below it.
    assert CHECKS["analyses_agree"](_runs(_seed(mu2=1e-8, second=-0.3))).held is True


def test_a_level_without_a_prediction_counts_as_an_infinite_error():
    r = _seed(missing=[0, 1, 2, 3, 4, 5])  # 6 of 11 levels: the median is missing
    assert cl.linear_error(r) == math.inf
    assert cl.linear_error(_seed(missing=[0])) == pytest.approx(0.1)


def test_agreement_is_judged_on_the_stable_cycles_only():
    r = _seed(unstable=[2])
    r["levels"]["lyapunov_top"][2] = float("nan")  # no cycle, no exponents
    assert CHECKS["analyses_agree"](_runs(r)).held is True
    assert CHECKS["stable_cycles"](_runs(r)).held is False


# -- a quick run end to end -------------------------------------------------------------------
def test_quick_run_writes_its_reports_from_measured_numbers(tmp_path):
    out = rep.SUSSILLO2013(tmp_path, quick=True, progress=False)
    assert out["seeds"] == [0] and len(out["claims"]) == len(cl.CLAIMS)
    assert {c["status"] for c in out["claims"].values()} <= {"held", "not held"}
    lv = out["runs"][0]["levels"]
    assert lv["level"] == list(range(1, rep.QUICK.n_levels + 1))
    np.testing.assert_allclose(lv["omega"], np.linspace(0.1, 0.6, rep.QUICK.n_levels))
    for i in range(rep.QUICK.n_levels):
        if lv["cycle_stable"][i]:
            # A stable cycle: nontrivial multipliers inside the unit circle, and the
            # Floquet rate is ln|μ₂| per period T = 2π/ω_cycle (in τ), as stored.
            assert lv["max_multiplier"][i] < 1 and lv["trivial_error"][i] < cl.TRIVIAL_TOL
            rate = math.log(lv["max_multiplier"][i]) * lv["omega_cycle"][i] / (2 * math.pi)
            assert lv["floquet_rate"][i] == pytest.approx(rate, rel=1e-9)
        if lv["n_with_pair"][i]:
            assert lv["growth_linear"][i] > 0 and lv["omega_linear"][i] > 0
    summary = json.loads((tmp_path / "sussillo2013.json").read_text())
    assert summary["claims_line"] == out["claims_line"]
    markdown = (tmp_path / "sussillo2013.md").read_text()
    assert out["claims_line"] in markdown and "Fig. 7" in markdown
    with open(tmp_path / "sussillo2013.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == rep.QUICK.n_levels and {"omega_linear", "omega_cycle"} <= set(rows[0])
    assert (tmp_path / "sussillo2013.png").stat().st_size > 10_000
