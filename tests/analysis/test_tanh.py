"""The Newton kernel's vectorisable tanh and sigmoid against the C library and mpmath."""

import math

import mpmath
import numpy as np
from numba import njit

from neurodyn.analysis._newton import _phi
from neurodyn.analysis._tanh import sigmoid, tanh


@njit(cache=True)
def _tanh_all(z, f=tanh):
    """f (tanh, or another kernel function) of every element of z."""
    out = np.empty_like(z)
    for i in range(z.shape[0]):
        out[i] = f(z[i])
    return out


def test_tanh_is_within_3_ulp_everywhere():
    rng = np.random.default_rng(0)
    z = np.concatenate([
        np.linspace(-25.0, 25.0, 400_001),  # every k of the range reduction, and beyond 20
        np.logspace(-310, 1.4, 20_000),  # subnormals to saturation
        rng.normal(scale=3.0, size=100_000),
        np.arange(1, 60) * math.log(2.0) / 2,  # where 2a crosses k ln 2 + ln 2 / 2
    ])  # fmt: skip
    z = np.concatenate([z, -z])
    ref = np.tanh(z)
    ulp = np.abs(_tanh_all(z) - ref) / np.spacing(np.abs(ref))
    assert ulp.max() <= 3.0
    assert np.mean(ulp) < 1.0  # most values are correctly rounded or one off


def test_tanh_special_values():
    out = _tanh_all(np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-320, -5e-324]))
    assert out[0] == 0.0 and not np.signbit(out[0])
    assert out[1] == 0.0 and np.signbit(out[1])
    assert out[2] == 1.0 and out[3] == -1.0
    assert np.isnan(out[4])
    assert out[5] == 1e-320 and out[6] == -5e-324  # tanh v = v below the rounding level


def _sigmoid_all(z):
    return _tanh_all(z, sigmoid)


def _exact_sigmoid(z):
    """σ(z) from mpmath in 120-bit arithmetic, as the unevaluated sum hi + lo of two doubles."""
    hi_lo = []
    with mpmath.workprec(120):
        for v in z.tolist():
            s = 1 / (1 + mpmath.exp(-mpmath.mpf(v)))
            hi_lo.append((float(s), float(s - float(s))))
    hi, lo = np.array(hi_lo).T
    return hi, lo


def _ulp(y, hi, lo):
    """|y - (hi + lo)| in ulp of hi; y - hi is exact where the error is small."""
    return np.abs((y - hi) - lo) / np.spacing(np.abs(hi))


def test_sigmoid_is_within_3_ulp_everywhere():
    rng = np.random.default_rng(0)
    ln2 = math.log(2.0)
    k = np.arange(1, 1077)
    z = np.concatenate([
        np.linspace(-750.0, 750.0, 20_001),  # both tails, every k of the range reduction
        (k + 0.5) * ln2, np.nextafter((k + 0.5) * ln2, 0.0),  # where k changes
        np.logspace(-320, math.log10(750.0), 2_000),  # subnormals to saturation
        rng.normal(scale=8.0, size=10_000),
        [745.0, 745.13, 744.4, 708.4, 36.7, 37.0],  # σ(-v) subnormal or near it; σ(v) → 1
    ])  # fmt: skip
    z = np.concatenate([z, -z])
    hi, lo = _exact_sigmoid(z)
    ulp = _ulp(_sigmoid_all(z), hi, lo)
    assert ulp.max() <= 3.0
    assert np.mean(ulp) < 0.5  # most values are correctly rounded
    # The bound is relative in the lower tail, where σ(v) ≈ e^v: the shortcut
    # ½(1 + tanh(v/2)), accurate to about 1e-16 absolute, misses it by far.
    shortcut = 0.5 * (1.0 + _tanh_all(0.5 * z))
    assert _ulp(shortcut, hi, lo).max() > 1e6


def test_sigmoid_special_values():
    z = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 40.0, 800.0, -800.0, -740.0])
    out = _sigmoid_all(z)
    assert out[0] == 0.5 and out[1] == 0.5
    assert out[2] == 1.0 and out[3] == 0.0
    assert np.isnan(out[4])
    assert out[5] == 0.5
    assert out[6] == 1.0 and out[7] == 1.0  # 1 - σ(v) is below half an ulp of 1
    assert out[8] == 0.0
    assert abs(out[9] - math.exp(-740.0)) <= 5e-324  # subnormal, not flushed to 0


def test_phi_vector_tanh_matches_the_c_library():
    z = np.random.default_rng(1).normal(scale=2.0, size=64)
    z[5] = np.nan
    for code in (0, 3):  # tanh and rectified tanh
        y0, d0, y1, d1 = (np.empty(64) for _ in range(4))
        _phi(code, z, y0, d0, False)
        _phi(code, z, y1, d1, True)
        np.testing.assert_allclose(y1, y0, rtol=4 * np.finfo(float).eps, atol=0)
        np.testing.assert_allclose(d1, d0, rtol=0, atol=1e-15)
        assert np.isnan(y1[5]) == np.isnan(y0[5])
