"""The Newton kernel's vectorisable tanh against the C library's."""

import math

import numpy as np
from numba import njit

from neurodyn.analysis._newton import _phi
from neurodyn.analysis._tanh import tanh


@njit(cache=True)
def _tanh_all(z):
    out = np.empty_like(z)
    for i in range(z.shape[0]):
        out[i] = tanh(z[i])
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
