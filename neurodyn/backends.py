"""Compute backends: which kernels exist here, and which one a call uses.

This is the only module that imports the compiled extensions ``neurodyn._C``
(C++ with OpenMP) and ``neurodyn._C_cuda`` (CUDA). Both are optional: a missing
or broken extension never breaks ``import neurodyn``; the slower NumPy and Numba
paths run instead, and a :class:`SlowPathWarning` says so once per process.

Backends, fastest first:

``"cuda"``
    ``neurodyn._C_cuda`` on an NVIDIA GPU (built with ``NEURODYN_CUDA=1``).
``"cpp"``
    ``neurodyn._C``, the default on CPU.
``"numba"``
    ``@njit`` kernels compiled on first use (cached on disk).
``"numpy"``
    The plain NumPy reference: slow, the ground truth the tests compare against.

``backend="auto"`` picks ``cpp`` when built, else ``numba``; the GPU is used only
when asked for, because a small network runs faster on the CPU than its copy to
the device takes.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import warnings

__all__ = [
    "BACKENDS",
    "SlowPathWarning",
    "available_backends",
    "get_module",
    "resolve_backend",
    "show_config",
]

logger = logging.getLogger(__name__)

#: Every backend name a public function accepts, besides ``"auto"``.
BACKENDS = ("cpp", "cuda", "numba", "numpy")


@functools.cache
def _load(name: str):
    """Import ``neurodyn.<name>``; return ``(module, None)`` or ``(None, reason)``."""
    try:
        return importlib.import_module(f"neurodyn.{name}"), None
    except ImportError as exc:  # absent or built against another Python
        return None, f"{type(exc).__name__}: {exc}"


@functools.cache
def _cuda_devices() -> int:
    mod, _ = _load("_C_cuda")
    return int(mod.device_count()) if mod is not None else 0


@functools.cache
def _numba_ok() -> bool:
    return importlib.util.find_spec("numba") is not None


def available_backends() -> tuple[str, ...]:
    """Names of the backends that can run here, fastest first.

    Examples
    --------
    >>> "numpy" in available_backends()
    True
    """
    out = []
    if _cuda_devices() > 0:
        out.append("cuda")
    if _load("_C")[0] is not None:
        out.append("cpp")
    if _numba_ok():
        out.append("numba")
    out.append("numpy")
    return tuple(out)


class SlowPathWarning(RuntimeWarning):
    """neurodyn runs a slower path because its compiled kernels were not built.

    Issued once per process, by the first call whose ``backend="auto"`` falls back
    to Numba or NumPy.

    Examples
    --------
    A script that knows it runs without the compiled kernels can silence it:

    >>> import warnings
    >>> issubclass(SlowPathWarning, RuntimeWarning)
    True
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", SlowPathWarning)
    ...     backend = resolve_backend("auto")
    >>> backend in available_backends()
    True
    """


@functools.cache
def _log_fallback() -> None:
    """Say once per process, where a user sees it, that the compiled kernels are missing.

    A warning rather than a log record: without logging configured, a record below
    neurodyn's NullHandler reaches no one.
    """
    reason = _load("_C")[1]
    warnings.warn(
        f"neurodyn's compiled CPU kernels (neurodyn._C) are not available ({reason}); "
        "running the slower NumPy and Numba paths instead. Reinstall neurodyn where a "
        "C++ compiler is available to get them.",
        SlowPathWarning,
        stacklevel=4,
    )


def resolve_backend(backend: str = "auto") -> str:
    """Turn ``backend`` (``"auto"`` or a name in :data:`BACKENDS`) into one that runs here.

    Parameters
    ----------
    backend : str
        ``"auto"`` (the fastest available) or a name in :data:`BACKENDS`.

    Raises
    ------
    ValueError
        For an unknown name, or a backend that is not available here (with the reason).

    Examples
    --------
    >>> resolve_backend("numpy")
    'numpy'
    """
    from ._validation import check_choice

    check_choice("backend", backend, ("auto", *BACKENDS))
    have = available_backends()
    if backend == "auto":
        if "cpp" in have:
            return "cpp"
        _log_fallback()
        return "numba" if "numba" in have else "numpy"
    if backend not in have:
        if backend == "cuda":
            mod, reason = _load("_C_cuda")
            why = reason if mod is None else "the CUDA module is built but sees no GPU"
        elif backend == "cpp":
            why = _load("_C")[1]
        else:
            why = "numba is not installed"
        raise ValueError(f"backend={backend!r} is not available here ({why}); available: {have}")
    return backend


def get_module(backend: str):
    """The compiled module behind ``"cpp"`` or ``"cuda"`` (after :func:`resolve_backend`).

    Parameters
    ----------
    backend : str
        ``"cpp"`` or ``"cuda"``.

    Returns
    -------
    module or None
        ``neurodyn._C`` or ``neurodyn._C_cuda``; None where it was not built or does
        not load.

    Examples
    --------
    >>> mod = get_module("cpp")
    >>> (mod is not None) == ("cpp" in available_backends())
    True
    >>> mod is None or isinstance(mod.has_openmp(), bool)
    True
    """
    return _load({"cpp": "_C", "cuda": "_C_cuda"}[backend])[0]


def show_config(*, file=None) -> dict:
    """Print and return what neurodyn can run on this machine.

    Parameters
    ----------
    file : file-like, optional
        Where to print (default ``sys.stdout``); ``False`` prints nothing.

    Returns
    -------
    dict
        ``backends`` (available, fastest first), ``default`` (what ``"auto"`` picks),
        ``cpp`` / ``cuda`` (built or the reason not), ``openmp`` and ``threads`` (OpenMP's
        default count) of the C++ kernels, ``cuda_devices``, the versions of neurodyn, NumPy
        and Numba, and the thread policy (:mod:`neurodyn.threads`): ``cores`` this process
        may use, ``busy_cores`` other processes keep busy now, ``blas`` (each BLAS library
        with its default threads) and ``last_threads``, the most recent choice (threads,
        for what, from what work) or None before the first.

    Examples
    --------
    >>> info = show_config(file=False)
    >>> info["backends"][-1]
    'numpy'
    """
    import sys

    import numpy as np

    from ._version import __version__

    cpp, cpp_reason = _load("_C")
    cuda, cuda_reason = _load("_C_cuda")
    numba_version = None
    if _numba_ok():
        import numba

        numba_version = numba.__version__
    info = {
        "neurodyn": __version__,
        "backends": list(available_backends()),
        "default": "cpp" if cpp is not None else ("numba" if _numba_ok() else "numpy"),
        "cpp": "built" if cpp is not None else f"not available ({cpp_reason})",
        "openmp": bool(cpp.has_openmp()) if cpp is not None else False,
        "threads": int(cpp.max_threads()) if cpp is not None else 1,
        "cuda": "built" if cuda is not None else f"not built ({cuda_reason})",
        "cuda_devices": _cuda_devices(),
        "numpy": np.__version__,
        "numba": numba_version,
        **_thread_config(),
    }
    if file is not False:
        out = sys.stdout if file is None else file
        width = max(len(k) for k in info)
        for key, value in info.items():
            print(f"{key:>{width}}: {value}", file=out)
    return info


def _thread_config() -> dict:
    """The thread policy's view of this machine (see :func:`show_config`)."""
    from threadpoolctl import threadpool_info

    from . import threads

    last = threads.last_choice()
    blas = [
        f"{lib.get('internal_api')} {lib.get('version')} ({lib.get('num_threads')} threads)"
        for lib in threadpool_info()
        if lib.get("user_api") == "blas"
    ]
    if last is None:
        chosen = None
    else:
        why = (
            "asked for"
            if last.requested is not None
            else f"work {last.work:.2g} flop per operation" if last.work else "work that scales"
        )
        chosen = f"{last.threads} for {last.what or 'a call'} ({why}, {last.busy:.1f} cores busy)"
    return {
        "cores": threads.available_cores(),
        "busy_cores": round(threads.probe(), 2),
        "blas": ", ".join(blas) or "none loaded",
        "last_threads": chosen,
    }
