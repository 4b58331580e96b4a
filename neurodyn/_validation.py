"""Argument checks shared by every public entry point.

Each check raises :class:`ValueError` whose message names the argument, what was
expected and what was received, so a user can fix the call without reading code.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "check_choice",
    "check_finite",
    "check_fraction",
    "check_int",
    "check_int_tuple",
    "check_interval",
    "check_per_unit",
    "check_positive",
    "check_shape",
    "to_numpy",
]


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise suggest the closest one."""
    choices = list(choices)
    if value in choices:
        return value
    close = difflib.get_close_matches(str(value), choices, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"{name}={value!r} is not recognised; expected one of {sorted(choices)}.{hint}"
    )


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float if it is finite and positive (or zero if allowed)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return v


def check_int(name: str, value: Any, *, low: int = 1) -> int:
    """Return ``value`` as an int if it is an integer (not a bool) >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def check_int_tuple(name: str, values: Any, *, low: int = 1) -> tuple[int, ...]:
    """Return ``values`` as a non-empty tuple of ints, each an integer (not a bool) >= ``low``."""
    if isinstance(values, (int, np.integer, str)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a non-empty sequence of integers, got {values!r}")
    out = tuple(values)
    bad = [v for v in out if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low]
    if not out or bad:
        raise ValueError(
            f"{name} must be a non-empty sequence of integers >= {low}, got {values!r}"
        )
    return tuple(int(v) for v in out)


def check_interval(name: str, value: Any) -> tuple[float, float]:
    """Return ``value`` as ``(low, high)`` floats if it is a finite pair with low < high."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be (low, high), got {value!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be (low, high) with low < high, got {value!r}")
    return lo, hi


def check_fraction(name: str, value: float, *, low_open: bool = True) -> float:
    """Return ``value`` if it lies in (0, 1] (or [0, 1] when ``low_open`` is False)."""
    v = float(value)
    ok = (0 < v <= 1) if low_open else (0 <= v <= 1)
    if not ok:
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return v


def to_numpy(value: Any) -> np.ndarray:
    """``value`` as a NumPy array that may be written to.

    Tensors are detached and moved to the CPU. A read-only array (a broadcast view,
    an array loaded from a file, an xarray variable's values) is copied, so that
    :func:`torch.as_tensor` can share its memory without warning that PyTorch does
    not support non-writable tensors.
    """
    a = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
    return a if a.flags.writeable else a.copy()


def check_finite(name: str, array: Any) -> np.ndarray:
    """Return ``array`` as a NumPy array, refusing NaN or infinite entries."""
    a = to_numpy(array)
    if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
        n_bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ValueError(
            f"{name} contains {n_bad} NaN or infinite value(s); expected finite values"
        )
    return a


def check_per_unit(name: str, value: Any, n: int, *, unit: str = "hidden unit") -> np.ndarray:
    """Return ``value`` as a float array of shape (n,): one number for every unit, or one per unit.

    A scalar (or a size-1 array) is repeated; anything else must have shape ``(n,)``
    and finite entries. A value of the wrong length is refused rather than broadcast,
    so that ``tau`` of length 5 for 8 units is an error, not a NumPy message.

    Examples
    --------
    >>> check_per_unit("tau", 20.0, 3)
    array([20., 20., 20.])
    >>> check_per_unit("tau", [10.0, 20.0], 3)
    Traceback (most recent call last):
    ...
    ValueError: tau has shape (2,); expected one number or an array of shape (3,) (one per hidden unit)
    """
    a = to_numpy(value)
    if a.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a number or an array of {n} numbers, got {value!r}")
    a = check_finite(name, a).astype(float)
    if a.size == 1:
        return np.full(n, float(a.reshape(())))
    if a.shape != (n,):
        raise ValueError(
            f"{name} has shape {a.shape}; expected one number or an array of shape ({n},) "
            f"(one per {unit})"
        )
    return a.copy()


def check_shape(name: str, array: Any, shape: tuple) -> None:
    """Check ``array.shape`` against ``shape``, where ``None`` entries match anything.

    Examples
    --------
    >>> check_shape("inputs", np.zeros((2, 5, 3)), (None, None, 3))
    """
    actual = tuple(np.shape(array))
    if len(actual) != len(shape) or any(
        s is not None and s != a for s, a in zip(shape, actual, strict=False)
    ):
        expected = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} has shape {actual}; expected {expected}")
