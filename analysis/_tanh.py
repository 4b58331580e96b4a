r"""A tanh for the Numba kernels that LLVM can vectorise.

Private. ``np.tanh`` in a Numba loop is a call into the C library for each element,
which no loop vectoriser can see through; in the Newton kernel it was 60 % of the cost
of a residual for a 16-unit network. :func:`tanh` is straight-line arithmetic and a
lookup, so a loop of it over a state vector compiles to SIMD instructions (about 4×
faster for 16 units). With :math:`a = |v|` clipped to 20 (where tanh is 1 in double
precision),

.. math::

    \tanh a = \frac{-m}{2 + m}, \qquad
    m = e^{-2a} - 1 = 2^{-k}\,\bigl(e^{-\rho} - 1\bigr) + \bigl(2^{-k} - 1\bigr),

where :math:`2a = k\ln 2 + \rho` with integer k and :math:`|\rho| \le \ln 2/2` (ln 2
in two parts, so ρ carries no extra rounding) and :math:`e^{-\rho} - 1` is its
Taylor series to the 14th power (truncation below :math:`10^{-18}`). The expm1 form
keeps full relative accuracy near 0, where :math:`1 - e^{-2a}` would cancel. The
sign comes back with copysign (so :math:`\tanh(\pm 0) = \pm 0`); NaN propagates and
:math:`\tanh(\pm\infty) = \pm 1`. Accuracy: within 3 ulp of the C library's tanh
(``tests/analysis/test_tanh.py``).

Callers must be compiled with ``error_model="numpy"``: under Numba's default
(Python) error model every division is checked for zero, and that check alone
keeps LLVM from vectorising the loop.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["tanh"]

_LN2_HI = 6.93147180369123816490e-01  # ln 2 = _LN2_HI + _LN2_LO; _LN2_HI·k is exact
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.0 / math.log(2.0)
#: 2^-k for the k that occur (2a ≤ 40, so k ≤ 58).
_POW2_NEG = np.array([2.0**-k for k in range(64)])
# Taylor coefficients 1/n! of e^s - 1 = s + s²/2! + ... + s¹⁴/14!, highest first for Horner.
_C = tuple(1.0 / math.factorial(n) for n in range(14, 0, -1))


@njit(cache=True, error_model="numpy")
def tanh(v):
    """tanh(v) for a float64 v, in straight-line arithmetic (see the module docstring)."""
    a = abs(v)
    a = a if a <= 20.0 else (20.0 if a > 20.0 else 0.0)  # NaN -> 0, restored below
    two_a = 2.0 * a
    k = int(two_a * _INV_LN2 + 0.5)  # round to nearest (two_a >= 0)
    kf = float(k)
    s = kf * _LN2_HI - two_a + kf * _LN2_LO  # s = -ρ
    p = 0.0
    for coef in _C:  # a tuple of constants: the loop unrolls to straight-line code
        p = p * s + coef
    p *= s  # e^{-ρ} - 1
    scale = _POW2_NEG[k]
    m = scale * p + (scale - 1.0)  # e^{-2a} - 1
    t = np.copysign(-m / (2.0 + m), v)
    return t if v == v else v
