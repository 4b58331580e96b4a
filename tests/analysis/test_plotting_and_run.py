"""Figures of fixed points and the analysis of a run folder."""

import json

import matplotlib
import numpy as np
import pytest
import xarray as xr

matplotlib.use("Agg")

import matplotlib.pyplot as plt

import neurodyn
from neurodyn.analysis import find_fixed_points, load_fixed_points
from neurodyn.analysis.plotting import plot_eigenvalues, plot_fixed_points
from neurodyn.analysis.run import analyze_run
from neurodyn.dynamics import FunctionDynamics


@pytest.fixture(scope="module")
def saddle_fps():
    def f(z, u):
        return np.stack([z[:, 0] - z[:, 0] ** 3, -z[:, 1], -2 * z[:, 2]], axis=1)

    grid = np.random.default_rng(0).uniform(-2, 2, (60, 3))
    return find_fixed_points(FunctionDynamics(f, n_state=3, kind="ode", dt=1.0), None, grid,
                             progress=False)  # fmt: skip


@pytest.mark.parametrize("n_components", [2, 3])
def test_plot_fixed_points(saddle_fps, n_components):
    traj = np.random.default_rng(1).normal(size=(4, 30, 3))
    ax = plot_fixed_points(saddle_fps, traj, n_components=n_components, max_trajectories=3)
    assert ax.name == ("3d" if n_components == 3 else "rectilinear")
    # One scatter per point; one line per trajectory drawn plus one per unstable mode.
    assert len(ax.collections) == len(saddle_fps) == 3
    assert len(ax.lines) == 3 + int(saddle_fps.n_unstable.sum())
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["stable", "unstable_1"]
    plt.close(ax.figure)


def test_plot_eigenvalues(saddle_fps):
    ax = plot_eigenvalues(saddle_fps)
    # An ODE: eigenvalues against the imaginary axis (a vertical line at 0).
    assert np.allclose(ax.lines[0].get_xdata(), 0.0)
    offsets = np.concatenate([c.get_offsets() for c in ax.collections])
    np.testing.assert_allclose(np.sort(offsets[:, 0]), np.sort(saddle_fps.eigenvalues.real.ravel()))
    plt.close(ax.figure)


def test_plot_eigenvalues_of_a_map_has_the_unit_circle():
    M = np.diag([0.5, 1.5])
    dyn = FunctionDynamics(lambda x, u: x @ M.T, n_state=2)
    fps = find_fixed_points(dyn, None, np.ones((3, 2)), progress=False)
    fig, ax = plt.subplots()
    assert plot_eigenvalues(fps, ax=ax) is ax
    x, y = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    np.testing.assert_allclose(np.hypot(x, y), 1.0)
    plt.close(fig)


def write_run(run_dir, model, dataset):
    run_dir.mkdir(parents=True, exist_ok=True)
    neurodyn.save_model(model, run_dir / "model.npz")
    neurodyn.save_dataset(dataset, run_dir / "evaluation.nc")
    return run_dir


def test_analyze_run_flipflop(flipflop, tmp_path):
    net = flipflop("rnn")
    run = write_run(tmp_path / "run", net.model, net.evaluation)
    out = analyze_run(run, progress=False)
    assert {k: v for k, v in out["counts"].items() if k.startswith(("stable", "unstable"))} == {
        "stable": 8, "unstable_1": 12, "unstable_2": 6, "unstable_3": 1,
    }  # fmt: skip
    assert out["conditions"] == ["zero input"] and out["kind"] == "map"
    assert out["n_fixed_points"] == 27 and out["n_slow_points"] == out["counts"]["slow"]
    for key in ("fixed_points", "fixed_points_figure", "eigenvalues_figure"):
        assert out["files"][key].is_file() and out["files"][key].parent == run
    fps = load_fixed_points(run / "fixed_points.nc")
    assert fps.summary() == out["counts"]
    assert fps.input_names == ["bit0", "bit1", "bit2"]
    assert fps.info["task"]["name"] == "flip_flop"
    assert not list(run.glob(".*.tmp"))  # atomic writes leave no temporaries
    # The dynamics summary: every trajectory ends at one of the 8 memories, and a
    # memory network is not chaotic (all top exponents negative).
    for key in ("phase_portrait", "attractors", "lyapunov"):
        assert out["files"][key].is_file() and out["files"][key].parent == run
    assert out["attractors"] == {"fixed_point": 1.0, "diverged": 0.0}
    att = xr.load_dataset(run / "attractors.nc")
    assert set(att["kind"].values) == {"fixed_point"} and 2 <= att.sizes["attractor"] <= 8
    assert att["basin_fraction"].sum() == pytest.approx(1.0)
    assert len(out["lyapunov"]) == 10 and max(out["lyapunov"]) < 0


def test_analyze_run_context_task_uses_one_input_per_context(tmp_path):
    from neurodyn.rnn_models import RateRNN
    from neurodyn.tasks import make_task

    task = make_task("context_dm", dt=20.0)
    net = RateRNN(7, 12, 3, dt=20.0, tau=100.0, seed=0)
    ds = neurodyn.simulate(net, task, n_trials=16, seed=0)
    run = write_run(tmp_path / "ctx", net, ds)
    out = analyze_run(run, n_inits=64, progress=False)
    assert out["conditions"] == ["context=0", "context=1"] and out["n_candidates"] == 128
    fps = load_fixed_points(out["files"]["fixed_points"])
    assert set(fps.condition.tolist()) == {0, 1}
    names = fps.input_names
    for k in range(len(fps)):
        ctx = fps.condition[k]
        assert fps.inputs[k, names.index("context_motion")] == (1.0 if ctx == 0 else 0.0)
    assert json.loads(fps.to_xarray().attrs["condition_names"]) == ["context=0", "context=1"]


def test_analyze_run_needs_a_finished_run(tmp_path):
    with pytest.raises(ValueError, match=r"no model\.npz"):
        analyze_run(tmp_path, progress=False)
