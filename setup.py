"""Build script: everything declarative lives in setup.cfg; this file builds csrc/.

Two extension modules, both optional at install time:

``neurodyn._C``
    The CPU kernels (``csrc/cpu``) and their pybind11 bindings, with OpenMP when
    the compiler accepts ``-fopenmp``. If it fails to compile, the install still
    succeeds and neurodyn runs its Numba kernels instead (the test suite fails
    under ``CI=true``, so a broken build cannot go unnoticed there).
``neurodyn._C_cuda``
    The CUDA kernels (``csrc/cuda``), built only when ``NEURODYN_CUDA=1`` is set
    and ``nvcc`` is found. ``nvcc`` compiles the ``.cu`` files, the host compiler
    the bindings, and the CUDA runtime is linked statically so the module imports
    on machines without a GPU. ``NEURODYN_CUDA_ARCH`` (e.g. ``"80;90"``) narrows
    the GPU architectures compiled for.

Floating-point contraction is disabled (``-ffp-contract=off``, ``--fmad=false``)
so every backend rounds like the NumPy reference and produces the same spikes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup

CSRC = Path("csrc")
INCLUDE_DIRS = [str(CSRC / "include"), str(CSRC / "bindings")]
DEFAULT_CUDA_ARCH = "75;80;86;89;90"
# Both modules share these. -O3 without -march=native keeps the binary portable;
# -ffp-contract=off forbids fused multiply-adds (they round differently from the
# NumPy reference); -fno-trapping-math lets the compiler evaluate both sides of
# a select, which vectorises the membrane loop and changes no result.
CXX_FLAGS = ["-O3", "-ffp-contract=off", "-fno-trapping-math"]


def _log(msg: str) -> None:
    print(f"neurodyn build: {msg}", file=sys.stderr)


def _want_cuda() -> bool:
    return os.environ.get("NEURODYN_CUDA", "").strip().lower() in {"1", "true", "on", "yes"}


def _find_cuda() -> tuple[str, Path] | None:
    """The nvcc executable and the CUDA root holding lib64/libcudart_static.a."""
    nvcc = None
    roots = [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH")]
    for root in roots:
        if root and (Path(root) / "bin" / "nvcc").exists():
            nvcc = str(Path(root) / "bin" / "nvcc")
            break
    nvcc = nvcc or shutil.which("nvcc")
    if nvcc is None:
        return None
    # nvcc may be a wrapper script outside the toolkit (as on the CI machines),
    # so look for the runtime library in the usual places too.
    candidates = [r for r in roots if r]
    candidates += [str(Path(nvcc).resolve().parent.parent), "/usr/local/cuda"]
    for root in candidates:
        for lib in ("lib64", "lib", "targets/x86_64-linux/lib"):
            if (Path(root) / lib / "libcudart_static.a").exists():
                return nvcc, Path(root) / lib
    return None


def _extensions_and_cmdclass():
    try:
        from pybind11.setup_helpers import Pybind11Extension, build_ext, has_flag
    except ImportError:
        _log("pybind11 is not installed; building no compiled kernels (Numba is used)")
        return [], {}

    class BuildExt(build_ext):
        """Adds OpenMP where available, compiles CUDA with nvcc, never fails the install."""

        def build_extensions(self):
            openmp = []
            if self.compiler.compiler_type == "msvc":
                openmp = ["/openmp"]
            elif has_flag(self.compiler, "-fopenmp"):
                openmp = ["-fopenmp"]
            else:
                _log("the compiler does not accept -fopenmp; the CPU kernels run serially")
            for ext in self.extensions:
                ext.extra_compile_args += openmp
                ext.extra_link_args += openmp
            super().build_extensions()

        def build_extension(self, ext):
            try:
                if ext.name.endswith("_C_cuda"):
                    self._compile_cuda(ext)
                super().build_extension(ext)
            except Exception as exc:  # a failed kernel build must not fail the install
                if ext.name.endswith("_C_cuda"):
                    _log(f"the optional CUDA module was not built: {exc}")
                else:
                    _log(
                        f"the CPU kernels ({ext.name}) failed to build: {exc}. neurodyn will "
                        "run its slower Numba kernels; CI fails on this."
                    )

        def _compile_cuda(self, ext):
            nvcc, libdir = ext.cuda
            arch = os.environ.get("NEURODYN_CUDA_ARCH", DEFAULT_CUDA_ARCH)
            codes = [a.strip() for a in arch.replace(",", ";").split(";") if a.strip()]
            gencode = []
            for code in codes:
                gencode += ["-gencode", f"arch=compute_{code},code=sm_{code}"]
            # PTX of the newest architecture lets later GPUs JIT the kernel.
            gencode += ["-gencode", f"arch=compute_{codes[-1]},code=compute_{codes[-1]}"]
            build_temp = Path(self.build_temp) / "cuda"
            build_temp.mkdir(parents=True, exist_ok=True)
            for source in ext.cuda_sources:
                obj = build_temp / (Path(source).stem + ".o")
                cmd = [
                    nvcc,
                    "-c",
                    source,
                    "-o",
                    str(obj),
                    "-O3",
                    "--fmad=false",
                    "-std=c++17",
                    "-Xcompiler",
                    "-fPIC",
                    *[f"-I{d}" for d in INCLUDE_DIRS],
                    *gencode,
                ]
                _log(" ".join(cmd))
                subprocess.run(cmd, check=True)
                ext.extra_objects.append(str(obj))
            ext.library_dirs.append(str(libdir))
            ext.libraries += ["cudart_static", "rt", "dl", "pthread"]

    exts = [
        Pybind11Extension(
            "neurodyn._C",
            sources=[
                str(CSRC / "bindings" / "cpu_module.cpp"),
                *(str(p) for p in sorted((CSRC / "cpu").glob("*.cpp"))),
            ],
            include_dirs=INCLUDE_DIRS,
            extra_compile_args=list(CXX_FLAGS),
            cxx_std=17,
        )
    ]
    if _want_cuda():
        found = _find_cuda()
        if found is None:
            _log("NEURODYN_CUDA is set but nvcc or libcudart_static.a was not found; skipping CUDA")
        else:
            cuda = Pybind11Extension(
                "neurodyn._C_cuda",
                sources=[str(CSRC / "bindings" / "cuda_module.cpp")],
                include_dirs=INCLUDE_DIRS,
                extra_compile_args=list(CXX_FLAGS),
                cxx_std=17,
            )
            cuda.cuda = found
            cuda.cuda_sources = [str(p) for p in sorted((CSRC / "cuda").glob("*.cu"))]
            exts.append(cuda)
    return exts, {"build_ext": BuildExt}


ext_modules, cmdclass = _extensions_and_cmdclass()
setup(ext_modules=ext_modules, cmdclass=cmdclass)
