"""Figures of fixed points and the analysis of a run folder."""

import matplotlib
import numpy as np
import pytest
import xarray as xr

matplotlib.use("Agg")

import matplotlib.pyplot as plt

import neurodyn
from neurodyn.analysis import find_fixed_points, load_fixed_points
from neurodyn.analysis.analyze_run import analyze_run, run_inputs
from neurodyn.dynamics import FunctionDynamics
from neurodyn.plotting import plot_eigenvalues, plot_fixed_points


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
    # The flip-flop has no stimulus period: its memories are at zero input.
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
    assert out["attractors"] == {
        "zero input": {"fixed_point": 1.0, "unresolved": 0.0, "diverged": 0.0}
    }
    att = xr.load_dataset(run / "attractors.nc")
    assert set(att["kind"].values) == {"fixed_point"} and 2 <= att.sizes["attractor"] <= 8
    assert att["basin_fraction"].sum() == pytest.approx(1.0)
    assert set(att["trajectory_condition"].values) == {"zero input"}
    assert att["condition"].values.tolist() == ["zero input"]
    np.testing.assert_array_equal(att["inputs"].values, np.zeros((1, 3)))
    lyap = out["lyapunov"]["zero input"]
    assert len(lyap) == 10 and max(lyap) < 0
    # The attractors' exponents and the spectrum agree: every trajectory rests at a
    # stable point, and the largest exponent of the spectrum, computed from the end
    # states of classified trajectories, is negative like theirs.
    assert np.all(att["lyapunov"].values < 0)
    le = xr.load_dataset(run / "lyapunov.nc")
    used = le["attractor_trajectory"].values[0]
    assert set(att["label"].values[used]) == {"fixed_point"}


def test_run_inputs_average_the_stimulus_per_condition():
    from neurodyn.rnn_models import RateRNN
    from neurodyn.tasks import make_task

    # Noise-free evidence: the mean stimulus input of a condition is its closed form,
    # fixation 1 and 0.5 ∓ g c/200 on the left and right channels.
    task = make_task("perceptual_dm", sigma=0.0, coherences=(0.0, 12.8, 51.2))
    ds = neurodyn.simulate(RateRNN(3, 8, 3, dt=20.0, seed=0), task, n_trials=48, seed=0)
    U, names = run_inputs(ds)
    assert names[-1] == "zero input" and np.all(U[-1] == 0)
    levels = sorted({(int(g), float(c)) for g, c in zip(ds["ground_truth"].values,
                                                        ds["coherence"].values, strict=True)})  # fmt: skip
    assert names[:-1] == [f"stimulus: ground_truth={g}, coherence={c:g}" for g, c in levels]
    expected = [[1.0, 0.5 - g * c / 200, 0.5 + g * c / 200] for g, c in levels]
    # float32 inputs in the Dataset: rounding below 1e-7.
    np.testing.assert_allclose(U[:-1], expected, atol=1e-7)
    # Named periods and zero, in the order given, each once.
    U2, names2 = run_inputs(ds, "zero, decision,zero")
    assert names2 == ["zero input", "decision"]
    # In the decision period no trial variable changes the input (fixation off, no
    # stimulus): one condition, zero input on every channel.
    np.testing.assert_allclose(U2[1], 0.0, atol=1e-7)
    np.testing.assert_array_equal(run_inputs(ds, ["fixation"])[0], [[1.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match=r"'cue' is neither 'zero', 'auto' nor a period"):
        run_inputs(ds, "stimulus,cue")
    with pytest.raises(ValueError, match="period 'delay' lasts no time"):
        run_inputs(ds, "delay")
    with pytest.raises(ValueError, match="inputs has an empty entry"):
        run_inputs(ds, "stimulus,,zero")


def test_run_inputs_of_a_period_some_trials_lack():
    from neurodyn.rnn_models import RateRNN
    from neurodyn.tasks import make_task

    task = make_task("perceptual_dm", timing={"delay": ("choice", [0.0, 200.0])})
    ds = neurodyn.simulate(RateRNN(3, 8, 3, dt=20.0, seed=0), task, n_trials=32, seed=0)
    assert 0.0 in ds["delay_ms"].values and 200.0 in ds["delay_ms"].values
    # During the delay only fixation is on, whatever the trial: one condition.
    U, names = run_inputs(ds, "delay")
    assert names == ["delay"]
    np.testing.assert_array_equal(U, [[1.0, 0.0, 0.0]])


def test_run_inputs_names_the_stimulus_of_tasks_that_call_it_otherwise():
    from neurodyn.rnn_models import RateRNN
    from neurodyn.tasks import make_task

    task = make_task("dms")  # its stimulus period is called "sample"
    ds = neurodyn.simulate(RateRNN(3, 8, 3, dt=task.dt, seed=0), task, n_trials=32, seed=0)
    _, names = run_inputs(ds, "stimulus")
    # Only the sample's angle changes the input during the sample (not the later test).
    assert all(n.startswith("sample: sample_angle=") for n in names)
    assert len(names) == len(np.unique(ds["sample_angle"].values))


@pytest.fixture(scope="module")
def decision_run(tmp_path_factory):
    import torch

    from neurodyn.rnn_models import TorchRNN
    from neurodyn.tasks import make_task

    task = make_task("perceptual_dm", coherences=(0.0, 25.6))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: bitwise-reproducible training
    try:
        net = TorchRNN("gru", 3, 12, 3, dt=task.dt, seed=0)
        neurodyn.fit(net, task, n_steps=30, lr=1e-2, seed=0, val_every=30, progress=False)
        ds = neurodyn.simulate(net, task, n_trials=32, seed=1)
    finally:
        torch.set_num_threads(threads)
    return write_run(tmp_path_factory.mktemp("dm") / "run", net, ds)


def test_analyze_run_labels_every_result_by_its_input(decision_run):
    # device="cpu" takes the path a GPU takes (the model moved, the search on its device).
    out = analyze_run(decision_run, n_inits=32, n_attractor_inits=16, n_lyapunov=3,
                      progress=False, threads=1, device="cpu")  # fmt: skip
    U, names = run_inputs(xr.load_dataset(decision_run / "evaluation.nc"))
    assert out["conditions"] == names and len(names) == 5  # 2 signs x 2 coherences + zero
    np.testing.assert_array_equal(out["inputs"], U)
    assert out["n_candidates"] == 32 * len(names)
    fps = load_fixed_points(out["files"]["fixed_points"])
    assert fps.condition_names == names
    np.testing.assert_array_equal(fps.inputs, U[fps.condition])
    att = xr.load_dataset(out["files"]["attractors"])
    assert att["condition"].values.tolist() == names
    np.testing.assert_allclose(att["inputs"].values, U)
    counts = {n: int(np.sum(att["trajectory_condition"].values == n)) for n in names}
    assert counts == dict.fromkeys(names, 16)
    # attractor_id indexes the joined attractor dim, within the trajectory's own input.
    ids = att["attractor_id"].values
    on = ids >= 0
    assert np.all(
        att["attractor_condition"].values[ids[on]] == att["trajectory_condition"].values[on]
    )
    for n in names:
        # Basin fractions within an input, with the unresolved and diverged, sum to 1.
        basins = att["basin_fraction"].values[att["attractor_condition"].values == n].sum()
        rest = out["attractors"][n]["unresolved"] + out["attractors"][n]["diverged"]
        assert basins + rest == pytest.approx(1.0)
    le = xr.load_dataset(out["files"]["lyapunov"])
    assert le["condition"].values.tolist() == names and le.sizes["exponent"] == 3
    np.testing.assert_allclose(le["exponents"].values, [out["lyapunov"][n] for n in names])
    # Each condition's exponents come from trajectories classified at that input.
    used = le["attractor_trajectory"].values
    for k, n in enumerate(names):
        assert set(att["trajectory_condition"].values[used[k]]) == {n}


def test_analyze_run_runs_any_subset_of_its_analyses(decision_run, tmp_path):
    import shutil

    run, whole = tmp_path / "run", tmp_path / "whole"
    for folder in (run, whole):
        shutil.copytree(decision_run, folder)
    for name in ("fixed_points.nc", "attractors.nc", "lyapunov.nc"):
        (run / name).unlink(missing_ok=True)
    # Attractors and exponents without fixed points: the same attractors as with them.
    out = analyze_run(run, inputs="zero", n_inits=16, n_attractor_inits=8, n_lyapunov=2,
                      fixed_points=False, progress=False, threads=1)  # fmt: skip
    assert "counts" not in out and not (run / "fixed_points.nc").exists()
    full = analyze_run(whole, inputs="zero", n_inits=16, n_attractor_inits=8,
                       n_lyapunov=2, progress=False, threads=1)  # fmt: skip
    assert out["attractors"] == full["attractors"] and out["lyapunov"] == full["lyapunov"]
    # Fixed points alone: no attractors, no exponents.
    (run / "attractors.nc").unlink()
    (run / "lyapunov.nc").unlink()
    only = analyze_run(run, inputs="zero", n_inits=16, n_attractor_inits=0, n_lyapunov=0,
                       progress=False, threads=1)  # fmt: skip
    assert only["n_fixed_points"] == full["n_fixed_points"] and only["attractors"] == {}
    assert not (run / "attractors.nc").exists() and not (run / "lyapunov.nc").exists()
    with pytest.raises(ValueError, match="n_lyapunov > 0 needs n_attractor_inits > 0"):
        analyze_run(run, n_attractor_inits=0, n_lyapunov=2, progress=False)
    with pytest.raises(ValueError, match="n_attractor_inits must be an integer >= 0"):
        analyze_run(run, n_attractor_inits=-1, progress=False)


def test_analyze_refuses_bad_inputs_before_writing(decision_run):
    before = sorted(p.name for p in decision_run.iterdir())
    with pytest.raises(ValueError, match="'nonsense' is neither"):
        analyze_run(decision_run, inputs="nonsense", progress=False)
    with pytest.raises(ValueError, match="threads must be None"):
        analyze_run(decision_run, threads=0, progress=False)
    with pytest.raises(ValueError, match="device"):
        analyze_run(decision_run, device="tpu", progress=False)
    with pytest.raises(ValueError, match="progress must be"):
        analyze_run(decision_run, progress=2)
    assert sorted(p.name for p in decision_run.iterdir()) == before


def test_cli_analyze_input_option(decision_run, capsys):
    from neurodyn.cli import main

    assert main(["analyze", str(decision_run), "--input", "zero", "--n-inits", "16",
                 "--no-progress"]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "at zero input:" in text and "attractors reached (basin fractions)" in text
    assert "at stimulus" not in text
    att = xr.load_dataset(decision_run / "attractors.nc")
    assert att["condition"].values.tolist() == ["zero input"]
    assert main(["analyze", str(decision_run), "--input", "cue", "--no-progress"]) == 2
    assert "'cue' is neither" in capsys.readouterr().err


def test_analyze_run_needs_a_finished_run(tmp_path):
    with pytest.raises(ValueError, match=r"no model\.npz"):
        analyze_run(tmp_path, progress=False)
