"""The workers' fork server: started in the background without changing this process's
environment, it loads what a run needs; after its preload a run (training and every
analysis) loads no more Python modules of the large packages, and the server holds one
thread, safe to fork."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from neurodyn.sweeps import load_spec

pytest.importorskip("distributed")

#: Packages whose modules cost the seconds of a worker's first run.
LARGE = ("neurodyn", "torch", "xarray", "matplotlib", "dask", "scipy", "pandas", "numpy")

SPEC = {
    "task": "flip_flop",
    "model": "gru",
    "n_eval_trials": 4,
    "model_config": {"n_hidden": 8},
    "fit": {"n_steps": 3, "val_every": 1, "batch_size": 4, "n_validation": 8},
    "analyses": {
        "fixed_points": {"n_inits": 8},
        "attractors": {"n_inits": 4},
        "lyapunov": {"n_exponents": 2},
        "timescales": {"n_trials": 2, "n_steps": 500},
    },
}

# What the fork server does (distributed, then the preload), then a run in that process.
SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import distributed
    import neurodyn.sweeps.preload
    threads = len(os.listdir("/proc/self/task"))
    loaded = set(sys.modules)
    from neurodyn.sweeps.point import run_point
    run, analyses = json.loads(sys.argv[1])
    summary = run_point(sys.argv[2], run, analyses, 1)
    new = {m: getattr(sys.modules[m], "__file__", None) or "" for m in set(sys.modules) - loaded}
    print(json.dumps({"threads": threads, "summary": summary, "new": new}))
    """
)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_after_the_preload_a_run_loads_no_python_module_of_the_large_packages(tmp_path):
    # The environment dask gives its worker processes (and so the fork server), and
    # warnings as errors, as in the suite.
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    env.update(dict.fromkeys(("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"), "1"))
    spec = load_spec(SPEC)  # what the worker is sent: the resolved run and the analyses
    task = json.dumps([spec.points[0].run, spec.analyses])
    cmd = [sys.executable, "-c", SCRIPT, task, str(tmp_path / "run")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out = json.loads(proc.stdout)
    assert out["summary"]["status"] == "done", out["summary"]["error"]
    assert out["summary"]["n_fixed_points"] >= 1  # the analyses ran
    # Compiled extensions (a shared library mapped at first use) cost nothing worth a
    # preload; Python modules of the large packages are what it is for.
    late = sorted(
        m for m, f in out["new"].items() if m.split(".")[0] in LARGE and f.endswith(".py")
    )
    assert late == []
    assert out["threads"] == 1


# Starting the server returns at once, without loading PyTorch here, and leaves the
# environment as it was; the server (a child process, whose CPU time the load probe
# counts as this process's) then loads PyTorch.
STARTER = textwrap.dedent(
    """
    import json, os, sys, time
    from neurodyn import threads
    from neurodyn.sweeps.workers import start_worker_server
    before = dict(os.environ)
    started = start_worker_server()
    mine = os.getpid()
    servers = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if ppid == mine and b"multiprocessing.forkserver" in cmd:
                servers.append(int(entry))
    loaded = False
    deadline = time.time() + 120
    while servers and not loaded and time.time() < deadline:
        with open(f"/proc/{servers[0]}/maps") as f:
            loaded = "libtorch" in f.read()
        time.sleep(0.1)
    print(json.dumps({"started": started, "servers": len(servers), "loaded": loaded,
                      "environment_kept": dict(os.environ) == before,
                      "counted_as_own": servers == list(threads._helpers),
                      "torch_here": "torch" in sys.modules}))
    """
)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="finds the server in /proc")
def test_the_server_starts_in_the_background_and_leaves_this_process_as_it_was():
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "PYTHONHASHSEED")}
    proc = subprocess.run([sys.executable, "-c", STARTER], capture_output=True, text=True,
                          env=env, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out == {"started": True, "servers": 1, "loaded": True, "environment_kept": True,
                   "counted_as_own": True, "torch_here": False}  # fmt: skip
