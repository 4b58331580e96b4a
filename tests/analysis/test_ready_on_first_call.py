"""The fixed-point path compiles nothing at run time: its kernel is built with neurodyn.

A fresh process runs every stage (the compiled search with shared roots, the NumPy
and torch references, de-duplication and linearization) on each model the kernel
covers while Numba's compiler is watched: no Numba function may be compiled or
loaded from Numba's cache on the way.
"""

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json
    import numpy as np
    from numba.core import dispatcher

    compiled = []
    _compile = dispatcher.Dispatcher.compile

    def watched(self, sig):  # every compilation, and every load from Numba's cache
        compiled.append(self.py_func.__qualname__)
        return _compile(self, sig)

    dispatcher.Dispatcher.compile = watched

    from neurodyn.analysis import find_fixed_points
    from neurodyn.dynamics import dynamics
    from neurodyn.rnn_models import RateRNN, TorchRNN

    rng = np.random.default_rng(0)
    models = [RateRNN(3, 20, 3, dt=10.0, tau=50.0, seed=0)]
    models += [TorchRNN(kind, 3, 8, 3, dt=10.0, seed=0) for kind in ("rnn", "gru", "lstm")]
    backends = []
    for model in models:
        x0 = rng.normal(0, 0.5, (64, dynamics(model).n_state))
        for backend in ("auto", "numpy", "torch"):
            fps = find_fixed_points(model, None, x0, backend=backend, progress=False)
            backends.append(fps.info["backend"])
    print(json.dumps({"compiled": compiled, "backends": backends}))
    """
)


def test_no_numba_compilation_on_the_fixed_point_path(tmp_path):
    # From an empty folder: run inside a source tree, `python -c` would import the
    # uncompiled source folder instead of the installed package.
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True, text=True, timeout=600, check=True, cwd=tmp_path,
    )  # fmt: skip
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["compiled"] == []
    assert set(result["backends"]) == {"cpp", "numpy", "torch"}
