"""The compiled kernels (csrc/): built where they must be, optional where they may be."""

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import neurodyn
from neurodyn.backends import available_backends, resolve_backend

ROOT = Path(__file__).resolve().parents[1]
CSRC = ROOT / "csrc"


def test_cpu_extension_is_built_in_ci():
    try:
        import neurodyn._C as C
    except ImportError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must build the C++ kernels, but neurodyn._C does not import: {exc}")
        pytest.skip(f"neurodyn._C is not built here ({exc}); CI (CI=true) requires it")
    assert callable(C.lif_run) and isinstance(C.has_openmp(), bool)


def test_show_config_reports_the_backends():
    out = io.StringIO()
    info = neurodyn.show_config(file=out)
    assert info["backends"][-1] == "numpy"
    assert set(info["backends"]) <= {"cuda", "cpp", "numba", "numpy"}
    assert info["default"] == resolve_backend("auto")
    assert "backends:" in out.getvalue()
    if "cpp" in info["backends"]:
        assert info["cpp"] == "built" and info["threads"] >= 1


def test_backend_errors_name_the_problem():
    with pytest.raises(ValueError, match="Did you mean 'numba'"):
        resolve_backend("numbaa")
    if "cuda" not in available_backends():
        with pytest.raises(ValueError, match="not available here"):
            resolve_backend("cuda")


def test_import_without_the_extension_falls_back_to_numba():
    # Hide the compiled module as if it had failed to build; nothing configures
    # logging or warnings, as in a user's script.
    code = (
        "import sys; sys.modules['neurodyn._C'] = None\n"
        "import neurodyn\n"
        "from neurodyn.backends import resolve_backend\n"
        "print(resolve_backend('auto'), resolve_backend('auto'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["numba", "numba"]
    assert proc.stderr.count("not available") == 1  # said once, not per call
    assert "SlowPathWarning" in proc.stderr


def test_kernel_sources_never_include_python_or_torch():
    for path in [*CSRC.glob("cpu/*.cpp"), *CSRC.glob("cuda/*.cu"), *CSRC.glob("include/**/*.h")]:
        text = path.read_text()
        assert not re.search(r"#include\s*[<\"](Python|pybind11|torch|ATen)", text), path


@pytest.mark.skipif("cuda" not in available_backends(), reason="no CUDA module or no GPU here")
def test_cuda_kernel_matches_the_cpu_kernel():
    from spiking_nets import ASTRO_STDP, mixed_inputs, mixed_network

    rates, spikes = mixed_inputs()
    kw = dict(
        rates=rates, spikes=spikes, record_v=True, return_weights=True, seed=3, stdp=ASTRO_STDP
    )
    ref = mixed_network().run(60.0, backend="numpy", **kw)
    gpu = mixed_network().run(60.0, backend="cuda", **kw)
    for var in ("counts", "spike_time", "spike_unit", "v", "weights", "depression_rate"):
        np.testing.assert_array_equal(gpu[var].values, ref[var].values, err_msg=var)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not installed")
def test_cuda_sources_compile(tmp_path):
    # Compile-only, so the .cu files cannot rot on machines without a GPU.
    for cu in CSRC.glob("cuda/*.cu"):
        cmd = ["nvcc", "-c", str(cu), "-o", str(tmp_path / "k.o"), "--fmad=false", "-std=c++17",
               f"-I{CSRC / 'include'}", "-gencode", "arch=compute_90,code=sm_90", "-Xcompiler", "-fPIC"]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
