"""Sweeps on a real dask LocalCluster: the same numbers as a serial run, nothing lost when a
worker dies, nothing done twice, failures recorded."""

import json
import os
import signal
import sys
import threading
import time
from multiprocessing import get_all_start_methods

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


#: Runs long enough to be caught between their first checkpoint and their end.
# Long enough (with the fused scan, a few seconds per run) for the killer to catch one.
LONG = {**TINY, "fit": {**TINY["fit"], "n_steps": 800, "val_every": 50, "checkpoint_every": 10},
        "grid": {"seed": [3, 4]}}  # fmt: skip


def _killer(out, killed: list, client=None) -> threading.Thread:
    """A thread that SIGKILLs the worker process of a run caught mid-training.

    The run's folder under ``out`` holds a checkpoint and no model yet. The worker is one
    of ``client``'s or, without it, of the client the sweep itself starts. ``killed``
    receives the run's name and the pid of the killed process's parent.
    """

    def current_client():
        if client is not None:
            return client
        try:
            return distributed.default_client()
        except ValueError:  # the sweep has not started its cluster yet
            return None

    def kill_mid_run():
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            c = current_client()
            try:
                processing = c.processing().items() if c is not None else ()
            except Exception:  # the client is starting or closing: look again
                processing = ()
            for addr, keys in processing:
                for key in keys:
                    run_dir = out / "runs" / str(key).rsplit("-", 1)[-1]
                    if (run_dir / "checkpoint.pt").exists() and not (
                        run_dir / "model.npz"
                    ).exists():
                        try:
                            pid = c.run(os.getpid, workers=[addr])[addr]
                        except Exception:  # the worker went away meanwhile
                            continue
                        parent = _parent(pid)
                        os.kill(pid, signal.SIGKILL)
                        killed.extend([run_dir.name, parent])
                        return
            time.sleep(0.02)

    return threading.Thread(target=kill_mid_run)


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


@pytest.mark.skipif(
    not os.path.isdir("/proc/self") or "forkserver" not in get_all_start_methods(),
    reason="needs multiprocessing's fork server and /proc",
)
def test_the_own_cluster_forks_preloaded_workers_and_leaves_this_process_as_it_was(
    tmp_path, monkeypatch
):
    # The variables dask sets for its workers, absent here: they must be absent after.
    keys = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "PYTHONHASHSEED")
    for key in keys:
        monkeypatch.delenv(key, raising=False)
    # Another test may have imported the preload module: forget it for the sweep, so that
    # an import of it here (which would run the warm-up in this process) shows.
    monkeypatch.delitem(sys.modules, "neurodyn.sweeps.preload", raising=False)
    serial = sweep(LONG, tmp_path / "serial", n_workers=0, threads_per_run=1, progress=False)
    killed = []
    killer = _killer(tmp_path / "dist", killed)
    killer.start()
    dist = sweep(LONG, tmp_path / "dist", n_workers=2, threads_per_run=1, progress=False)
    killer.join()
    assert killed, "no run was caught mid-training"
    # The worker started again after the kill is a fork of the same server, and gives
    # the serial numbers.
    _same_runs(tmp_path / "serial", tmp_path / "dist", (serial, dist))
    assert dist.attrs["scheduler"] == "LocalCluster of 2 workers × 1 threads"
    server = killed[1]
    with open(f"/proc/{server}/cmdline", "rb") as f:
        assert b"multiprocessing.forkserver" in f.read()
    # The server loaded PyTorch (the preload) before forking; this process did not run
    # the warm-up.
    with open(f"/proc/{server}/maps", encoding="utf-8", errors="replace") as f:
        assert "libtorch" in f.read()
    assert "neurodyn.sweeps.preload" not in sys.modules
    assert {k: os.environ.get(k) for k in keys} == dict.fromkeys(keys)


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
    serial = sweep(LONG, tmp_path / "serial", n_workers=0, threads_per_run=1, progress=False)
    killed = []
    killer = _killer(tmp_path / "dist", killed, client)
    killer.start()
    dist = sweep(LONG, tmp_path / "dist", client=client, threads_per_run=1, progress=False)
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
