"""Cold start: the first call of each analysis in a new process against its warm time.

A user's first ``find_fixed_points`` must not wait for compilation that a build step
could have done. For the quickstart network (the 64-unit rate RNN with Dale's law
and trainable time constants that ``neurodyn quickstart`` trains on the 3-bit
flip-flop) and a small spiking network, a fresh process, with the default environment
and an empty Numba cache (``NUMBA_CACHE_DIR`` pointing at a new folder), times

* ``import neurodyn`` and loading the model;
* the first call of ``find_fixed_points`` (1024 candidates), ``lyapunov_spectrum``
  (10 exponents, 2 000 steps) and a spiking run (100 LIF neurons driven by 16
  Poisson sources, 200 ms);
* then the same calls again, warm (median of 5).

It prints first, warm and first − warm for each (target: first − warm ≤ 3 s), over
``--rounds`` fresh processes (medians). ``--fresh-install`` also builds a new virtual
environment with the README's install commands (``pip install torch==2.13.0`` and
``pip install .``) and runs the same worker there, with the package installed as a
user gets it rather than as an editable checkout.

    python benchmarks/bench_cold_start.py                 # trains the network once (~1 min)
    python benchmarks/bench_cold_start.py --cache DIR     # keeps the network between runs
    python benchmarks/bench_cold_start.py --fresh-install # + a new virtual environment
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
CALLS = ("find_fixed_points", "lyapunov_spectrum", "spiking run")
TARGET_S = 3.0


def _quickstart_model(cache: Path) -> Path:
    """The quickstart network, trained once with the quickstart's settings."""
    path = cache / "quickstart_model.npz"
    if path.is_file():
        return path
    import neurodyn
    from neurodyn.cli import QUICKSTART
    from neurodyn.rnn_models import build_model
    from neurodyn.tasks import make_task

    task = make_task(QUICKSTART["task"], **QUICKSTART["task_config"])
    config = dict(QUICKSTART["model_config"])
    n_hidden = config.pop("n_hidden")
    net = build_model("rate", task.n_inputs, n_hidden, task.n_outputs, dt=task.dt, seed=0, **config)
    t0 = time.perf_counter()
    neurodyn.fit(net, task, seed=0, progress=False, **QUICKSTART.get("fit_config", {}))
    print(f"trained the quickstart network in {time.perf_counter() - t0:.0f} s")
    neurodyn.save_model(net, path)
    return path


def worker(payload: dict) -> None:
    """In a fresh process: time import, first calls and warm calls; print JSON."""
    t0 = time.perf_counter()
    import numpy as np

    import neurodyn
    from neurodyn.analysis import find_fixed_points, lyapunov_spectrum
    from neurodyn.spiking import LIF, Network

    out = {"import_s": time.perf_counter() - t0}
    t0 = time.perf_counter()
    model = neurodyn.load_model(payload["model"])
    out["load_s"] = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    d = model.n_hidden
    x0 = rng.normal(scale=0.5, size=(1024, d))
    net = Network(dt=1.0)
    net.add_source("input", 16)
    net.add_lif("liquid", 100, LIF(tau_m=20.0, v_th=1.0, t_ref=2.0))
    net.connect("input", "liquid", p=0.2, weight=0.5, seed=0)
    net.connect("liquid", "liquid", p=0.1, weight=0.1, seed=1)
    rates = {"input": np.full(16, 20.0)}

    calls = {
        "find_fixed_points": lambda: find_fixed_points(model, None, x0, progress=False),
        "lyapunov_spectrum": lambda: lyapunov_spectrum(
            model, x0[:1], k=10, n_steps=2000, transient=200, progress=False
        ),
        "spiking run": lambda: net.run(200.0, rates=rates, record_spikes=False),
    }
    for name, call in calls.items():
        t0 = time.perf_counter()
        call()
        first = time.perf_counter() - t0
        warm = []
        for _ in range(5):
            t0 = time.perf_counter()
            call()
            warm.append(time.perf_counter() - t0)
        out[name] = {"first": first, "warm": statistics.median(warm)}
    print(json.dumps(out))


def _fresh_venv(where: Path) -> str:
    """A new virtual environment with neurodyn installed by the README's commands."""
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    pip = [py, "-m", "pip", "install", "-q"]
    t0 = time.perf_counter()
    subprocess.run([*pip, "torch==2.13.0"], check=True)
    subprocess.run([*pip, str(ROOT)], check=True)
    print(f"fresh install in {time.perf_counter() - t0:.0f} s ({venv})")
    return py


def _run(python: str, model: Path, cache_dir: str) -> dict:
    sys.path.insert(0, str(HERE.parent))
    from users_ground import default_env

    env = default_env(NUMBA_CACHE_DIR=cache_dir)
    # Run from an unrelated folder so the installed package, not the checkout, is used.
    out = subprocess.run(
        [python, str(HERE), "--worker", json.dumps({"model": str(model)})],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=tempfile.gettempdir(),
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _report(label: str, runs: list[dict]) -> None:
    med = statistics.median
    print(f"\n{label}: median of {len(runs)} fresh process(es), empty Numba cache")
    print(f"  import neurodyn {med(r['import_s'] for r in runs):.2f} s, "
          f"load model {med(r['load_s'] for r in runs):.2f} s")
    print(f"  {'call':<20} {'first':>9} {'warm':>9} {'first - warm':>13}  target <= {TARGET_S} s")
    for name in CALLS:
        first = med(r[name]["first"] for r in runs)
        warm = med(r[name]["warm"] for r in runs)
        mark = "ok" if first - warm <= TARGET_S else "MISSED"
        print(f"  {name:<20} {first:8.3f}s {warm:8.3f}s {first - warm:12.3f}s  {mark}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="folder keeping the trained network")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes (default 3)")
    parser.add_argument(
        "--fresh-install", action="store_true", help="also time a new virtual environment"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(json.loads(args.worker))
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or Path(tmp)
        cache.mkdir(parents=True, exist_ok=True)
        model = _quickstart_model(cache)
        pythons = {"this environment (editable install)": sys.executable}
        if args.fresh_install:
            pythons["fresh virtual environment (pip install .)"] = _fresh_venv(Path(tmp))
        for label, python in pythons.items():
            runs = []
            for _ in range(args.rounds):
                with tempfile.TemporaryDirectory() as numba_cache:
                    runs.append(_run(python, model, numba_cache))
            _report(label, runs)


if __name__ == "__main__":
    main()
