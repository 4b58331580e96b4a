"""The ring attractor (head direction): the ring, its headings, its drift and its
integration gain on planar systems whose answers are known in closed form, claims that
say no to contradicting numbers and yes to agreeing ones, and a quick run that writes its
reports from numbers it measured."""

import csv
import inspect
import json
import math

import numpy as np
import pytest

from neurodyn.dynamics import FunctionDynamics
from neurodyn.reproduce import ring_attractor as rep
from neurodyn.reproduce.ring_attractor import claims as cl
from neurodyn.reproduce.runs import Runs

# ṙ = r(1 − r²), φ̇ = g u + c (a perfect integrator for g = 1, c = 0), ż = −2z:
# a ring at r = 1, z = 0; the heading φ is read from (x, y).
G, C = 1.0, 0.0


def _field(gain=G, drift=C):
    def f(x, u):
        r2 = x[:, 0] ** 2 + x[:, 1] ** 2
        w = gain * u[:, 0] + drift
        return np.stack([x[:, 0] * (1 - r2) - w * x[:, 1], x[:, 1] * (1 - r2) + w * x[:, 0],
                         -2.0 * x[:, 2]], 1)  # fmt: skip

    return f


def _jacobian(gain=G, drift=C):
    def jac(x, u):
        a, b = x[:, 0], x[:, 1]
        r2 = a**2 + b**2
        w = gain * u[:, 0] + drift
        J = np.zeros((len(x), 3, 3))
        J[:, 0, 0] = 1 - r2 - 2 * a * a
        J[:, 0, 1] = -2 * a * b - w
        J[:, 1, 0] = -2 * a * b + w
        J[:, 1, 1] = 1 - r2 - 2 * b * b
        J[:, 2, 2] = -2.0
        return J

    return jac


def _ring(gain=G, drift=C, dt=0.05):
    return FunctionDynamics(_field(gain, drift), n_state=3, n_input=1, kind="ode", dt=dt,
                            jacobian=_jacobian(gain, drift))  # fmt: skip


def _decode(x):
    return x[:, :2]


def _starts(n=300, seed=0):
    rng = np.random.default_rng(seed)
    phi = rng.uniform(-np.pi, np.pi, n)
    radius = rng.uniform(0.6, 1.4, n)
    return np.stack([radius * np.cos(phi), radius * np.sin(phi), rng.normal(size=n)], 1)


def test_the_jacobian_is_the_derivative_of_the_field():
    x = _starts(5)
    u = np.full((5, 1), 0.7)
    fd = FunctionDynamics(_field(1.3, 0.2), n_state=3, n_input=1, kind="ode").jacobian(x, u)
    # Central differences carry about 10 correct digits (see FunctionDynamics).
    np.testing.assert_allclose(_jacobian(1.3, 0.2)(x, u), fd, atol=1e-8)


def test_the_ring_its_time_constants_and_its_headings():
    # After 10 time units the radial (rate 2) and z (rate 2) offsets are e^{-20} of their
    # start: the states lie on the unit circle, at the angles they started from.
    out = rep.ring_of_slow_points(_ring(), _starts(), np.zeros(1), relax_steps=200)
    assert out["kind"] == "ring" and out["n_points"] == 300
    # The perimeter of a 300-gon on the unit circle with random vertices: below 2π, within
    # the largest missing arc.
    assert 2 * np.pi * 0.97 < out["length"] < 2 * np.pi
    # The tangent is the chord between a point's neighbours, at angles -a and +b: it is
    # off the circle's tangent by (b - a)/2, at most half the largest gap.
    angles = np.sort(np.mod(np.arctan2(out["_points"][:, 1], out["_points"][:, 0]), 2 * np.pi))
    largest = np.diff(np.append(angles, angles[0] + 2 * np.pi)).max()
    assert np.cos(largest / 2) <= out["alignment"] <= 1.0
    # Eigenvalues 0 (along), −2 (radial), −2 (z) exactly on the circle.
    assert out["time_constant"] > 1e8
    assert out["next_time_constant"] == pytest.approx(0.5, rel=1e-6)
    cover = rep.decoded_ring(_decode, out["_points"])
    assert abs(cover["winding"]) == 1
    assert cover["largest_gap_deg"] == pytest.approx(np.degrees(largest), rel=1e-6)


def test_a_half_ring_is_not_every_heading():
    start = _starts()
    half = start[np.arctan2(start[:, 1], start[:, 0]) > 0]
    out = rep.ring_of_slow_points(_ring(), half, np.zeros(1), relax_steps=200)
    assert out["kind"] == "line"
    cover = rep.decoded_ring(_decode, out["_points"])
    assert cover["winding"] == 0 and cover["largest_gap_deg"] > 170


def test_a_single_attractor_is_no_ring():
    stable = FunctionDynamics(lambda x, u: -x, n_state=3, n_input=1, kind="ode", dt=0.05)
    out = rep.ring_of_slow_points(stable, _starts(), np.zeros(1), relax_steps=200)
    assert out["kind"] == "none" and math.isnan(out["time_constant"])


def test_drift_and_gain_are_the_closed_forms():
    t = np.linspace(-np.pi, np.pi, 12, endpoint=False)
    on_ring = np.stack([np.cos(t), np.sin(t), 0 * t], 1)
    # φ̇ = c at zero input: the drift is c everywhere (central difference: O(ε²)).
    drift = rep.heading_drift(_ring(drift=0.05), _decode, on_ring, np.zeros(1))
    np.testing.assert_allclose(drift, 0.05, rtol=1e-6)
    # φ̇ = g u + c: the gain is g whatever the drift (it cancels between ±ω); RK4 at
    # h = 0.05 on the circle is exact in the angle to O(h⁴) per unit time.
    gain = rep.integration_gain(_ring(gain=0.8, drift=0.05), _decode, on_ring, channel=0,
                                omega=1.0, n_steps=40)  # fmt: skip
    np.testing.assert_allclose(gain, 0.8, rtol=1e-6)
    # In other units: the input in rad/s on a system in ms (time_scale 1e-3).
    slow = _ring(gain=1e-3)
    gain = rep.integration_gain(slow, _decode, on_ring, channel=0, omega=1.5, n_steps=40,
                                time_scale=1e-3)  # fmt: skip
    np.testing.assert_allclose(gain, 1.0, rtol=1e-6)


def test_the_readout_is_the_networks_output():
    import torch

    from neurodyn.rnn_models import RateRNN

    net = RateRNN(3, 8, 2, seed=0).eval()
    x = np.random.default_rng(0).normal(size=(5, 8))
    with torch.no_grad():
        expected = torch.tanh(torch.as_tensor(x, dtype=torch.float32)) @ net.W_out.T + net.bias_out
    np.testing.assert_allclose(rep.readout(net)(x), expected.numpy(), rtol=1e-5, atol=1e-6)


# -- the claims ---------------------------------------------------------------------------
def _seed(acc=0.99, kind="ring", tau0=9000.0, tau1=200.0, winding=1, gap=5.0, drift=1.0,
          gain=1.0) -> dict:  # fmt: skip
    return {
        "accuracy": acc,
        "ring": {"kind": kind, "time_constant": tau0, "next_time_constant": tau1},
        "winding": winding,
        "largest_gap_deg": gap,
        "drift_deg_s": drift,
        "gain": gain,
    }


def _runs(*seeds) -> Runs:
    return Runs(list(seeds), seeds=list(range(len(seeds))))


def _three(**kw) -> Runs:
    # Every number (the defaults and the given ones) spread by ±2 % over three seeds, so
    # that the t-test decides.
    def jitter(v, j):
        return v * (1 + j) if isinstance(v, float) else v

    values = {k: p.default for k, p in inspect.signature(_seed).parameters.items()} | kw
    return _runs(*[_seed(**{k: jitter(v, j) for k, v in values.items()}) for j in (-0.02, 0.0, 0.02)])


CHECKS = {c.name: c for c in cl.CLAIMS}


@pytest.mark.parametrize(
    "name, contradiction",
    [
        ("task_learned", {"acc": 0.6}),
        ("ring_of_slow_points", {"kind": "line"}),
        ("ring_of_slow_points", {"tau1": 3000.0}),  # slow, but not separated
        ("every_heading", {"winding": 0}),
        ("every_heading", {"gap": 90.0}),
        ("slow_drift", {"drift": 20.0}),
        ("integrates_velocity", {"gain": 0.7}),
        ("integrates_velocity", {"gain": float("nan")}),
    ],
)
def test_each_claim_says_no_to_contradicting_numbers_and_yes_to_agreeing_ones(name, contradiction):
    claim = CHECKS[name]
    assert claim(_three()).held is True
    assert claim(_three(**contradiction)).held is False
    assert claim(_runs(_seed())).held is True
    assert claim(_runs(_seed(**contradiction))).held is False


# -- a quick run end to end -------------------------------------------------------------------
def test_quick_run_writes_its_reports_from_measured_numbers(tmp_path):
    out = rep.RING_ATTRACTOR(tmp_path, quick=True, progress=False)
    assert out["seeds"] == [0] and len(out["claims"]) == len(cl.CLAIMS)
    assert {c["status"] for c in out["claims"].values()} <= {"held", "not held"}
    r = out["runs"][0]
    assert 0.0 <= r["accuracy"] <= 1.0 and r["error_deg"] >= 0.0
    assert r["ring"]["kind"] in ("ring", "line", "none")
    if r["ring"]["kind"] != "none":
        assert r["ring"]["time_constant"] >= r["ring"]["next_time_constant"] > 0
    summary = json.loads((tmp_path / "ring_attractor.json").read_text())
    assert summary["claims_line"] == out["claims_line"] and summary["seconds"] > 0
    markdown = (tmp_path / "ring_attractor.md").read_text()
    assert out["claims_line"] in markdown and "Zhang" in markdown
    with open(tmp_path / "ring_attractor.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1 and {"gain", "ring_kind"} <= set(rows[0])
    assert (tmp_path / "ring_attractor.png").stat().st_size > 10_000
