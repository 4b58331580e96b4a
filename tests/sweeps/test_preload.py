"""The fork server's preload: after it, a run (training and every analysis) loads no more
Python modules of the large packages, and the process holds one thread, safe to fork."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

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
    from neurodyn.sweeps import load_spec
    from neurodyn.sweeps.point import run_point
    spec = load_spec(json.loads(sys.argv[1]))
    summary = run_point(sys.argv[2], spec.points[0].run, spec.analyses, 1)
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
    cmd = [sys.executable, "-c", SCRIPT, json.dumps(SPEC), str(tmp_path / "run")]
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
