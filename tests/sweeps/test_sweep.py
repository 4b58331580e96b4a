"""Sweeps on a real dask LocalCluster: the same numbers as a serial run, nothing lost when a
worker dies, nothing done twice, failures recorded."""

import json
import os
import signal
import threading
import time

import numpy as np
import pytest
import xarray as xr

from neurodyn.cli import main
from neurodyn.sweeps import SweepFailed, load_spec, open_sweep, sweep

distributed = pytest.importorskip("distributed")

TINY = {
    "task": "flip_flop",
    "model": "rate",
    "n_eval_trials": 8,
    "model_config": {"n_hidden": 8},
    "fit": {"n_steps": 20, "val_every": 10, "batch_size": 8, "n_validation": 16},
}
#: Wall times differ between any two runs; every other number must not.
TIMINGS = ["seconds", "analysis_seconds"]


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # A warning inside a run is an error there too (a failed run fails the test).
            env={"PYTHONWARNINGS": "error"},
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def _weights(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def _same_runs(a, b, ds):
    xr.testing.assert_identical(ds[0].drop_vars(TIMINGS, errors="ignore").drop_attrs(),
                                ds[1].drop_vars(TIMINGS, errors="ignore").drop_attrs())  # fmt: skip
    for run_dir in ds[0]["run_dir"].values:
        wa, wb = _weights(a / run_dir / "model.npz"), _weights(b / run_dir / "model.npz")
        assert wa.keys() == wb.keys()
        for k in wa:
            np.testing.assert_array_equal(wa[k], wb[k], err_msg=f"{run_dir}: {k}")


def test_distributed_equals_serial_bit_for_bit(tmp_path, client):
    spec = {
        **TINY,
        "analyses": {"fixed_points": {"n_inits": 16}, "attractors": {"n_inits": 4},
                     "lyapunov": {"n_exponents": 2}},
        "grid": {"seed": [0, 1], "model": ["rate", "gru"]},
    }  # fmt: skip
    serial = sweep(spec, tmp_path / "serial", n_workers=0, threads_per_run=1, progress=False)
    dist = sweep(spec, tmp_path / "dist", client=client, threads_per_run=1, progress=False)
    _same_runs(tmp_path / "serial", tmp_path / "dist", (serial, dist))
    assert dist.attrs["scheduler"].startswith("client tcp://")
    assert list(dist["model"].values) == ["rate", "gru", "rate", "gru"]
    assert (dist["status"] == "done").all() and (dist["steps"] == 20).all()
    assert np.isfinite(dist["max_lyapunov"]).all() and (dist["n_fixed_points"] >= 1).all()
    # Each run's fixed-point counts are those of its own run folder's fixed_points.nc.
    from neurodyn.analysis import load_fixed_points

    for i, run_dir in enumerate(dist["run_dir"].values):
        fps = load_fixed_points(tmp_path / "dist" / run_dir / "fixed_points.nc")
        assert int(dist["n_fixed_points"][i]) == int(np.sum(fps.status == "root"))
    # Basin fractions of each run add up to one.
    basins = sum(dist[v] for v in dist.data_vars if v.startswith("basin_"))
    np.testing.assert_allclose(basins, 1.0, rtol=1e-12)
    tree = open_sweep(tmp_path / "dist", evaluations=True)
    assert isinstance(tree, xr.DataTree) and len(tree["runs"].children) == 4
    assert "rates" in tree["runs/seed=1,model=gru"].dataset


def test_a_killed_worker_loses_nothing(tmp_path, client):
    fit = {**TINY["fit"], "n_steps": 400, "val_every": 50, "checkpoint_every": 10}
    spec = {**TINY, "fit": fit, "grid": {"seed": [3, 4]}}
    serial = sweep(spec, tmp_path / "serial", n_workers=0, threads_per_run=1, progress=False)
    pids = client.run(os.getpid)
    killed = []

    def kill_mid_run():
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            for addr, keys in client.processing().items():
                for key in keys:
                    run_dir = tmp_path / "dist" / "runs" / str(key).rsplit("-", 1)[-1]
                    if (run_dir / "checkpoint.pt").exists() and not (
                        run_dir / "model.npz"
                    ).exists():
                        os.kill(pids[addr], signal.SIGKILL)
                        killed.append(run_dir.name)
                        return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_mid_run)
    killer.start()
    dist = sweep(spec, tmp_path / "dist", client=client, threads_per_run=1, progress=False)
    killer.join()
    assert killed, "no run was caught mid-training"
    _same_runs(tmp_path / "serial", tmp_path / "dist", (serial, dist))


def test_an_interrupted_sweep_resumes_only_unfinished_runs(tmp_path, client):
    spec = {**TINY, "grid": {"seed": [0, 1, 2]}}
    out = tmp_path / "s"
    first = sweep(spec, out, client=client, threads_per_run=1, progress=False)
    runs = out / "runs"
    # Seed 1 as if interrupted mid-training: its checkpoint stays, nothing after it.
    for name in ("summary.json", "model.npz", "evaluation.nc", "training_log.csv"):
        (runs / "seed=1" / name).unlink()
    stamps = {d.name: (d / "summary.json").stat().st_mtime_ns for d in runs.iterdir()
              if (d / "summary.json").exists()}  # fmt: skip
    again = sweep(spec, out, client=client, threads_per_run=1, progress=False)
    assert stamps == {n: (runs / n / "summary.json").stat().st_mtime_ns for n in stamps}
    xr.testing.assert_identical(first.drop_vars(TIMINGS), again.drop_vars(TIMINGS))


def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path, client, capsys):
    # lr = 1e6 passes validation and diverges in training: a real failure at run time.
    spec = {**TINY, "grid": {"lr": [0.01, 1e6]}}
    with pytest.raises(SweepFailed, match="1 of 2 runs failed") as err:
        sweep(spec, tmp_path / "s", client=client, threads_per_run=1, progress=False)
    ds = err.value.dataset
    assert list(ds["status"].values) == ["done", "failed"]
    assert "TrainingDiverged" in str(ds["error"].values[1]) and ds["error"].values[0] == ""
    assert np.isnan(ds["val_loss"].values[1]) and np.isfinite(ds["val_loss"].values[0])
    assert list(err.value.failures) == ["lr=1000000.0"]
    assert open_sweep(tmp_path / "s")["status"].values.tolist() == ["done", "failed"]
    # The command line exits non-zero and lists the failure.
    path = tmp_path / "spec.toml"
    path.write_text(
        'task = "flip_flop"\nn_eval_trials = 8\n[model_config]\nn_hidden = 8\n'
        "[fit]\nn_steps = 20\nval_every = 10\nbatch_size = 8\nn_validation = 16\n"
        "[grid]\nlr = [0.01, 1e6]\n"
    )
    args = ["sweep", str(path), "--out", str(tmp_path / "s"), "--workers", "0", "--no-progress"]
    assert main(args) == 1
    assert "lr=1000000.0: TrainingDiverged" in capsys.readouterr().err


def test_a_changed_spec_is_refused_naming_what_differs(tmp_path, client):
    spec = {**TINY, "grid": {"seed": [0]}}
    out = tmp_path / "s"
    sweep(spec, out, client=client, threads_per_run=1, progress=False)
    changed = {**spec, "fit": {**TINY["fit"], "n_steps": 30}}
    with pytest.raises(ValueError, match=r"runs/seed=0: fit.n_steps \(20 → 30\)"):
        sweep(changed, out, client=client, threads_per_run=1, progress=False)
    stored = json.loads((out / "runs" / "seed=0" / "point.json").read_text())
    assert stored["run"]["fit"]["n_steps"] == 20  # nothing was touched
    ds = sweep(changed, out, client=client, threads_per_run=1, progress=False, force=True)
    assert int(ds["steps"][0]) == 30


def test_bad_options_write_nothing(tmp_path):
    for kw, match in (({"n_workers": -1}, "n_workers"), ({"spec": {"modle": 1}}, "model")):
        args = {"spec": TINY, **kw}
        with pytest.raises(ValueError, match=match):
            sweep(args.pop("spec"), tmp_path / "never", progress=False, **args)
    assert not (tmp_path / "never").exists()
    assert len(load_spec(TINY)) == 1


def test_the_command_prints_the_dashboard_and_stays_quiet(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "spec.toml"
    path.write_text(
        'task = "flip_flop"\nn_eval_trials = 8\n[model_config]\nn_hidden = 8\n'
        "[fit]\nn_steps = 20\nval_every = 10\n[grid]\nseed = [0, 1]\n"
    )
    cmd = [sys.executable, "-m", "neurodyn.cli", "sweep", str(path), "--out", str(tmp_path / "s"),
           "--workers", "2", "--threads-per-run", "1"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("dask dashboard: http://") and "2 runs in" in proc.stdout
    assert proc.stderr == ""  # no log lines of the cluster, no warnings, no progress bar
    assert open_sweep(tmp_path / "s")["status"].values.tolist() == ["done", "done"]
