r"""tanh and the logistic sigmoid for the Numba kernels, in code LLVM can vectorise.

Private. ``np.tanh`` and ``np.exp`` in a Numba loop are calls into the C library for
each element, which no loop vectoriser can see through (LLVM's vector ``exp`` goes
back to one library call per lane); in the Newton kernel tanh was 60 % of the cost of
a residual for a 16-unit network. :func:`tanh` and :func:`sigmoid` are straight-line
arithmetic and a lookup, so a loop of them over a state vector compiles to SIMD
instructions (about 4× faster for 16 units).

Both rest on one range reduction of :math:`e^{-a}`, :math:`a \ge 0`
(:func:`_exp_neg`):

.. math::

    e^{-a} = 2^{-k}\,e^{-\rho} = 2^{-k}\,(1 + p), \qquad p = e^{-\rho} - 1,

where :math:`a = k\ln 2 + \rho` with integer k and :math:`|\rho| \le \ln 2/2` (ln 2
in two parts, so ρ carries no extra rounding), :math:`2^{-k}` comes from a table, and
p is the Taylor series of :math:`e^{-\rho} - 1` to the 14th power (truncation below
:math:`10^{-18}`). Both functions work on :math:`a = |v|` and restore the sign or
branch at the end, so they never form :math:`e^{|v|}` and cannot overflow.

**tanh.** With a clipped to 20 (where tanh is 1 in double precision),

.. math::

    \tanh a = \frac{-m}{2 + m}, \qquad
    m = e^{-2a} - 1 = 2^{-k}\,p + \bigl(2^{-k} - 1\bigr),

the expm1 form, which keeps full relative accuracy near 0, where
:math:`1 - e^{-2a}` would cancel. The sign comes back with copysign (so
:math:`\tanh(\pm 0) = \pm 0`); NaN propagates and :math:`\tanh(\pm\infty) = \pm 1`.
Accuracy: within 3 ulp of the C library's tanh (``tests/analysis/test_tanh.py``).

**Logistic sigmoid.** With :math:`e = e^{-a} = 2^{-k}(1 + p)` and a clipped to 746
(beyond which :math:`e^{-a}` rounds to 0),

.. math::

    \sigma(v) = \frac{1}{1 + e^{-v}} =
    \begin{cases} 1/(1 + e), & v \ge 0,\\ e/(1 + e), & v < 0. \end{cases}

Both branches are ratios of positive terms, so σ keeps its relative accuracy in the
lower tail, where :math:`\sigma(v) \approx e^{v}`, down to the subnormals. The
shortcut :math:`\tfrac12\bigl(1 + \tanh(v/2)\bigr)` does not: it is accurate to
about :math:`10^{-16}` absolute only, which is every digit of
:math:`\sigma(-37) \approx 10^{-16}`, and gives exactly 0 below. Gates in the kernels
multiply other terms (:math:`i\,g` in the LSTM's cell update, :math:`\sigma(1-\sigma)`
in every Jacobian), so a closed gate's value should be right in relative terms, as in
the NumPy reference (``scipy.special.expit``). Accuracy: within 3 ulp of the exact
:math:`\sigma(v)` (``tests/analysis/test_tanh.py``, against mpmath), that is

.. math::

    |\hat\sigma(v) - \sigma(v)| \le 3 \cdot 2^{-52}\,\sigma(v)

wherever :math:`\sigma(v)` is a normal number, and to within :math:`3 \cdot 2^{-1074}`
where it is subnormal (:math:`v \lesssim -708`). :math:`\sigma(\pm 0) = \tfrac12`,
:math:`\sigma(+\infty) = 1`, :math:`\sigma(-\infty) = 0` and NaN propagates.

Callers must be compiled with ``error_model="numpy"``: under Numba's default
(Python) error model every division is checked for zero, and that check alone
keeps LLVM from vectorising the loop.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["sigmoid", "tanh"]

_LN2_HI = 6.93147180369123816490e-01  # ln 2 = _LN2_HI + _LN2_LO; _LN2_HI·k is exact
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.0 / math.log(2.0)
#: Beyond this σ(-a) rounds to 0 and σ(a) to 1 (e^-746 < 2^-1075).
_SIGMOID_MAX = 746.0
#: 2^-k for the k that occur (a ≤ 746, so k ≤ 1076; 2^-1075 and beyond round to 0).
_POW2_NEG = np.ldexp(1.0, -np.arange(1077))
# Taylor coefficients 1/n! of e^s - 1 = s + s²/2! + ... + s¹⁴/14!, highest first for Horner.
_C = tuple(1.0 / math.factorial(n) for n in range(14, 0, -1))


@njit(cache=True, error_model="numpy")
def _exp_neg(a):
    """(2^-k, e^-ρ - 1) with e^-a = 2^-k e^-ρ, for 0 ≤ a ≤ 746 (see the module docstring)."""
    k = int(a * _INV_LN2 + 0.5)  # round to nearest (a >= 0)
    kf = float(k)
    s = kf * _LN2_HI - a + kf * _LN2_LO  # s = -ρ
    p = 0.0
    for coef in _C:  # a tuple of constants: the loop unrolls to straight-line code
        p = p * s + coef
    return _POW2_NEG[k], p * s


@njit(cache=True, error_model="numpy")
def tanh(v):
    """tanh(v) for a float64 v, in straight-line arithmetic (see the module docstring)."""
    a = abs(v)
    a = a if a <= 20.0 else (20.0 if a > 20.0 else 0.0)  # NaN -> 0, restored below
    scale, p = _exp_neg(2.0 * a)
    m = scale * p + (scale - 1.0)  # e^{-2a} - 1
    t = np.copysign(-m / (2.0 + m), v)
    return t if v == v else v


@njit(cache=True, error_model="numpy")
def sigmoid(v):
    """The logistic sigmoid 1/(1 + e^-v) for a float64 v, in straight-line arithmetic.

    Relatively accurate in both tails (see the module docstring).
    """
    a = abs(v)
    a = a if a <= _SIGMOID_MAX else (_SIGMOID_MAX if a > _SIGMOID_MAX else 0.0)  # NaN -> 0
    scale, p = _exp_neg(a)
    e = scale * (1.0 + p)  # e^{-a}; the product by 2^-k is exact unless it is subnormal
    s = (e if v < 0.0 else 1.0) / (1.0 + e)
    return s if v == v else v
