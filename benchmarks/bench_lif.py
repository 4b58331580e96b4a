"""Simulation speed of the LIF engine: the Brette et al. (2007) CUBA network, and NALSM samples/s.

CUBA: 4000 current-based LIF neurons (3200 E, 800 I), random connectivity p = 0.02,
tau_m 20 ms, tau_e 5 ms, tau_i 10 ms, refractory 5 ms, weights 1.62 mV and -9 mV,
1 s of biological time at dt = 0.1 ms, exactly as Brian2's ``CUBA`` example. Every
neurodyn backend simulates it, and Brian2 does in C++ standalone mode and with its
numpy target when Brian2 is importable (by this Python, or by ``--brian2-python``:
Brian2 2.9 does not run with NumPy >= 2.4, so it may live in its own environment).

Times are the simulation loop only, as *CPU* seconds of the one thread that runs
it (Brian2 standalone's own ``_last_run_time`` is ``std::clock()``-based), the
minimum over ``--repeats`` runs; wall-clock totals of neurodyn's ``run()`` and
Brian2's compile time are shown beside them. Mean rates must agree within 10%.

NALSM: samples per second of the NALSM1000 feature pass (10x10x10 liquid, 250 ms
per sample, astro-STDP on, batch 250) on the 8x8 digits.

    python benchmarks/bench_lif.py
    python benchmarks/bench_lif.py --brian2-python /path/to/env/bin/python
    python benchmarks/bench_lif.py --quick      # 200 ms of CUBA, no NumPy reference
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from neurodyn.backends import available_backends, show_config
from neurodyn.spiking import LIF, NALSM, Network

BRIAN2_SCRIPT = r"""
import json, sys, time
target, duration_ms, workdir, clean = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
from brian2 import *
if target == "cpp_standalone":
    set_device("cpp_standalone", directory=workdir, build_on_run=False)
else:
    prefs.codegen.target = target
seed(1)
taum, taue, taui = 20*ms, 5*ms, 10*ms
Vt, Vr, El = -50*mV, -60*mV, -49*mV
eqs = '''dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
dge/dt = -ge/taue : volt
dgi/dt = -gi/taui : volt'''
P = NeuronGroup(4000, eqs, threshold='v>Vt', reset='v = Vr', refractory=5*ms, method='exact')
P.v = 'Vr + rand() * (Vt - Vr)'
Ce = Synapses(P, P, on_pre='ge += we', namespace={'we': 1.62*mV})
Ci = Synapses(P, P, on_pre='gi += wi', namespace={'wi': -9*mV})
Ce.connect('i<3200', p=0.02)
Ci.connect('i>=3200', p=0.02)
M = SpikeMonitor(P)
c0, t0 = time.process_time(), time.perf_counter()
run(duration_ms*ms)
out = {"target": target}
if target == "cpp_standalone":
    t1 = time.perf_counter()
    device.build(run=True, directory=workdir, compile=True, clean=clean)
    out["build_and_run_wall_s"] = time.perf_counter() - t1
    out["sim_wall_s"] = float(device.timers["run_binary"])
    out["compile_s"] = float(sum(v for v in device.timers["compile"].values() if isinstance(v, (int, float))))
    out["sim_cpu_s"] = float(device._last_run_time)
else:
    out["sim_cpu_s"] = time.process_time() - c0
    out["sim_wall_s"] = time.perf_counter() - t0
out["rate_hz"] = float(M.num_spikes) / 4000 / (duration_ms / 1000.0)
print("RESULT " + json.dumps(out))
"""


def cuba_network(seed: int = 0) -> Network:
    """The CUBA benchmark network; weights in mV jump the currents, as in Brian2's example."""
    net = Network(dt=0.1)
    p = LIF(tau_m=20.0, v_rest=-49.0, v_th=-50.0, v_reset=-60.0, t_ref=5.0, tau_syn_e=5.0,
            tau_syn_i=10.0, v_init=(-60.0, -50.0), method="exponential")  # fmt: skip
    net.add_lif("exc", 3200, p, ei="E")
    net.add_lif("inh", 800, p, ei="I")
    k = 0
    for pre, w, receptor in (("exc", 1.62, "e"), ("inh", -9.0, "i")):
        for post in ("exc", "inh"):
            k += 1
            net.connect(
                pre, post, p=0.02, weight=w, receptor=receptor, autapses=True, seed=seed + k
            )
    return net


def time_neurodyn(backend: str, duration: float, repeats: int) -> dict:
    net = cuba_network()
    first = time.perf_counter()
    net.run(min(duration, 10.0), backend=backend, record_spikes=False)  # JIT, page-in
    warm = time.perf_counter() - first
    best = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        ds = net.run(duration, backend=backend, record_spikes=False, seed=1)
        total = time.perf_counter() - t0
        if best is None or ds.attrs["kernel_cpu_seconds"] < best["sim_cpu_s"]:
            best = {
                "sim_cpu_s": ds.attrs["kernel_cpu_seconds"],
                "sim_wall_s": ds.attrs["kernel_seconds"],
                "run_wall_s": total,
                "rate_hz": float(ds["counts"].sum()) / 4000 / (duration / 1000.0),
            }
    best["warmup_s"] = warm
    return best


def time_brian2(python: str, target: str, duration: float, repeats: int) -> dict | str:
    """Best of ``repeats`` runs; standalone reuses its build folder, so only the
    first run compiles (its compile time is the one reported)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_brian2_") as work:
        for k in range(repeats if target == "cpp_standalone" else 1):
            proc = subprocess.run(
                [python, "-c", BRIAN2_SCRIPT, target, str(duration), work, "1" if k == 0 else "0"],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode != 0 or not lines:
                err = proc.stderr.strip().splitlines()
                return f"failed: {err[-1] if err else proc.returncode}"
            results.append(json.loads(lines[-1][7:]))
    best = min(results, key=lambda r: r["sim_cpu_s"])
    if "compile_s" in results[0]:
        best["compile_s"] = results[0]["compile_s"]
    return best


def brian2_python(requested: str | None) -> str | None:
    candidates = [requested] if requested else [sys.executable]
    for py in candidates:
        ok = subprocess.run([py, "-c", "import brian2"], capture_output=True, check=False)
        if ok.returncode == 0:
            return py
    return None


def nalsm_samples_per_second(backend: str, n_samples: int) -> dict:
    from neurodyn.spiking import images_to_probabilities, load_digits

    images, _ = load_digits()
    p, _ = images_to_probabilities(images)
    model = NALSM(64, seed=0).initialise(p[:500], n_samples=500, seed=0, backend=backend)
    batch = p[np.arange(n_samples) % p.shape[0]]
    t0 = time.perf_counter()
    ds = model.features(batch, batch_size=250, backend=backend, seed=1)
    wall = time.perf_counter() - t0
    liquid = np.isin(ds["population"].values, ("exc", "inh"))
    rate = ds["counts"].values[:, liquid].mean() / 0.25
    return {"samples_per_s": n_samples / wall, "wall_s": wall, "liquid_rate_hz": float(rate)}


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="200 ms of CUBA, no NumPy reference")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--brian2-python", help="a Python that can import brian2 (default: this one)")
    ap.add_argument("--nalsm-samples", type=int, default=500)
    args = ap.parse_args(argv)
    duration = 200.0 if args.quick else 1000.0
    show_config()
    print(f"\nCUBA, 4000 LIF, {duration:g} ms at dt = 0.1 ms; CPU seconds of the simulation loop "
          f"(min of {args.repeats}); OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}\n")  # fmt: skip
    rows = {}
    for backend in [b for b in ("cpp", "numba", "numpy") if b in available_backends()]:
        if backend == "numpy" and args.quick:
            continue
        rows[f"neurodyn {backend}"] = time_neurodyn(
            backend, duration, 1 if backend == "numpy" else args.repeats
        )
    py = brian2_python(args.brian2_python)
    if py is None:
        print("Brian2 is not installed (pip install brian2, or pass --brian2-python): "
              "showing neurodyn only.\n")  # fmt: skip
    else:
        for target in ("cpp_standalone", "numpy"):
            r = time_brian2(py, target, duration, args.repeats)
            if isinstance(r, str):
                print(f"Brian2 {target}: {r}")
            else:
                rows[f"Brian2 {target}"] = r
    print(f"{'simulator':<24}{'sim CPU s':>11}{'run wall s':>12}{'rate Hz':>9}   notes")
    for name, r in rows.items():
        notes = []
        if "warmup_s" in r:
            notes.append(f"first call {r['warmup_s']:.2f} s")
        if "compile_s" in r:
            notes.append(f"compile {r['compile_s']:.1f} s")
        wall = r.get("run_wall_s", r.get("sim_wall_s", float("nan")))
        print(
            f"{name:<24}{r['sim_cpu_s']:>11.4f}{wall:>12.3f}{r['rate_hz']:>9.2f}   {', '.join(notes)}"
        )
    cpp = rows.get("neurodyn cpp")
    if cpp:
        print()
        for name, r in rows.items():
            if name != "neurodyn cpp":
                print(f"neurodyn cpp vs {name}: {r['sim_cpu_s'] / cpp['sim_cpu_s']:.2f}x faster, "
                      f"rate {100 * (cpp['rate_hz'] / r['rate_hz'] - 1):+.1f}%")  # fmt: skip
        standalone = rows.get("Brian2 cpp_standalone")
        if standalone:
            ratio = cpp["sim_cpu_s"] / standalone["sim_cpu_s"]
            print(f"target: cpp time within 1.2x of Brian2 standalone -> {ratio:.2f}x "
                  f"({'met' if ratio <= 1.2 else 'missed'})")  # fmt: skip
        numpy_target = rows.get("Brian2 numpy")
        if numpy_target:
            ratio = numpy_target["sim_cpu_s"] / cpp["sim_cpu_s"]
            print(
                f"target: >= 50x faster than Brian2 numpy -> {ratio:.0f}x ({'met' if ratio >= 50 else 'missed'})"
            )
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("\nNALSM1000 feature pass skipped: scikit-learn (the digits data) is not installed")
        return
    print(
        f"\nNALSM1000 feature pass (250 ms per sample, astro-STDP, batch 250, {args.nalsm_samples} samples):"
    )
    for backend in [b for b in ("cpp", "numba") if b in available_backends()]:
        r = nalsm_samples_per_second(backend, args.nalsm_samples)
        print(f"  {backend:<6} {r['samples_per_s']:8.1f} samples/s  ({r['wall_s']:.1f} s, "
              f"liquid {r['liquid_rate_hz']:.1f} Hz)")  # fmt: skip


if __name__ == "__main__":
    main()
