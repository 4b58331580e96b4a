"""Procrustes distance between states: invariances and the nuclear-norm closed form."""

import numpy as np
import pytest
import xarray as xr

from neurodyn.analysis import procrustes_distance


def test_rotation_reflection_translation_and_scale_leave_zero():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5))
    q = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    q[:, 0] *= -1.0
    res = procrustes_distance(x, 0.3 * x @ q + rng.normal(size=5), score="euclidean")
    # The residual of 300 x 5 unit-norm states: rounding ~ sqrt(n) ε per entry.
    assert res.distance < 1e-12
    # Into more units through orthonormal columns: still the same shape.
    wide = np.linalg.qr(rng.normal(size=(8, 5)))[0]
    assert procrustes_distance(x, x @ wide.T).distance < 1e-7


def test_matches_the_nuclear_norm_closed_form_and_is_symmetric():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(200, 4)), rng.normal(size=(200, 4)) + 0.5 * rng.normal(size=(200, 1))
    xc, yc = x - x.mean(0), y - y.mean(0)
    xc, yc = xc / np.linalg.norm(xc), yc / np.linalg.norm(yc)
    nuclear = np.linalg.svd(xc.T @ yc, compute_uv=False).sum()
    res = procrustes_distance(x, y)
    assert res.angle == pytest.approx(np.arccos(nuclear), rel=1e-10)
    assert res.euclidean == pytest.approx(np.sqrt(2 - 2 * nuclear), rel=1e-10)
    assert procrustes_distance(y, x).angle == pytest.approx(res.angle, rel=1e-10)
    np.testing.assert_allclose(res.rotation.T @ res.rotation, np.eye(4), atol=1e-12)


def test_datasets_and_bad_input():
    rng = np.random.default_rng(2)
    v = rng.normal(size=(3, 20, 4))
    ds = xr.Dataset({"rates": (("trial", "time", "unit"), v)})
    assert procrustes_distance(ds, v[..., ::-1]).distance < 1e-7
    with pytest.raises(ValueError, match="samples"):
        procrustes_distance(v, v[:2])
    with pytest.raises(ValueError, match="no variance"):
        procrustes_distance(np.ones((10, 2)), v.reshape(-1, 4)[:10])
    with pytest.raises(ValueError, match="score"):
        procrustes_distance(v, v, score="cosine")
    with pytest.raises(ValueError, match="variable='states'"):
        procrustes_distance(ds, v, variable="states")
