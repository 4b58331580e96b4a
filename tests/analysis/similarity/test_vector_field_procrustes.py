"""Procrustes over vector fields: brute force in 2-D, a closed form for symmetric
operators, invariances, and the behaviour the authors' implementation is tested for."""

import doctest
import importlib

import numpy as np
import pytest
from scipy.stats import ortho_group

from neurodyn.analysis import AlignmentOptions, procrustes_vector_field_distance


def unit(m):
    return m / np.linalg.norm(m)


def test_docstring_examples_run():
    for name in ("vector_fields", "procrustes", "dsa", "cca"):
        module = importlib.import_module(f"neurodyn.analysis.similarity.{name}")
        assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_dimensions_against_a_grid_of_rotations_and_reflections(seed):
    """min over O(2) of f = ½‖Â − C B̂ Cᵀ‖², against 20 000 angles of each component.

    Along a one-parameter family C(θ), ‖d²(C B̂ Cᵀ)/dθ²‖ ≤ 4‖B̂‖ = 4, so |f''| ≤ 4 and the
    grid minimum exceeds the true one by at most ½·4·(h/2)² = h²/2 ≈ 5e-8.
    """
    rng = np.random.default_rng(seed)
    a, b = unit(rng.normal(size=(2, 2))), unit(rng.normal(size=(2, 2)))
    theta = np.linspace(0.0, 2 * np.pi, 20_000, endpoint=False)
    c, s = np.cos(theta), np.sin(theta)
    best = np.inf
    for det in (1.0, -1.0):
        rot = np.stack([np.stack([c, -det * s], -1), np.stack([s, det * c], -1)], -2)
        p = rot @ b @ np.swapaxes(rot, -1, -2)
        best = min(best, 0.5 * np.min(np.sum((a - p) ** 2, axis=(-1, -2))))
    res = procrustes_vector_field_distance(a, b, score="euclidean")
    h = theta[1]
    assert 0.5 * res.distance**2 <= best + 1e-12
    assert 0.5 * res.distance**2 >= best - h**2 / 2
    assert res.converged


def test_symmetric_operators_have_the_sorted_eigenvalue_closed_form():
    """For symmetric Â, B̂: max over O(n) of tr(Â C B̂ Cᵀ) = Σ λ_i(Â) λ_i(B̂), both sorted."""
    rng = np.random.default_rng(4)
    m1, m2 = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    a, b = unit(m1 + m1.T), unit(m2 + m2.T)
    cos = np.sum(np.linalg.eigvalsh(a) * np.linalg.eigvalsh(b))
    res = procrustes_vector_field_distance(a, b)
    # θ near arccos(cos): the relative tolerance 1e-6 on the gradient leaves ~1e-12 in f.
    assert res.angle == pytest.approx(np.arccos(cos), abs=1e-8)
    assert res.euclidean == pytest.approx(np.sqrt(2 - 2 * cos), abs=1e-8)


@pytest.mark.parametrize("n", [10, 30])
def test_an_operator_and_its_orthogonal_conjugate_are_at_distance_zero(n):
    """The authors test X against Q X Qᵀ (X uniform on [0, 1]^{n×n}, Q in O(n) with
    det −1, n = 10, 50, 100) for a score below 2e-2 after 5000 Adam steps; here the
    optimum, 0, is reached to rounding: ‖Â − C B̂ Cᵀ‖ is formed from the residual, so
    its error is ~ n ε ‖Â‖ (< 1e-13), and 1e-10 leaves a wide margin."""
    rng = np.random.default_rng(5)
    x = rng.random(size=(n, n))
    q = ortho_group.rvs(n, random_state=rng)
    if np.linalg.det(q) > 0:
        q[:, 0] *= -1.0
    for score in ("angular", "euclidean"):
        one = procrustes_vector_field_distance(x, q @ x @ q.T, score=score)
        other = procrustes_vector_field_distance(x, q.T @ x @ q, score=score)
        assert one.distance < 1e-10 and other.distance < 1e-10
    c = one.alignment
    np.testing.assert_allclose(c.T @ c, np.eye(n), atol=1e-12)
    np.testing.assert_allclose(c @ unit(q @ x @ q.T) @ c.T, unit(x), atol=1e-10)


def test_scores_scale_padding_and_restarts():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    res = procrustes_vector_field_distance(a, b)
    # d_E = 2 sin(θ/2) is an identity of unit-norm operators.
    assert res.euclidean == pytest.approx(2 * np.sin(res.angle / 2), rel=1e-12)
    scaled = procrustes_vector_field_distance(3.0 * a, 0.2 * b)
    assert scaled.angle == pytest.approx(res.angle, abs=1e-9)
    assert 0 <= res.angle <= np.pi and res.restart_angles.min() == pytest.approx(res.angle)
    small = rng.normal(size=(2, 2))
    padded = np.zeros((3, 3))
    padded[:2, :2] = small
    big = rng.normal(size=(3, 3))
    assert procrustes_vector_field_distance(big, small).angle == pytest.approx(
        procrustes_vector_field_distance(big, padded).angle, abs=1e-9
    )
    ds = res.to_xarray()
    assert ds["alignment"].shape == (4, 4) and ds.attrs["score"] == "angular"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="square"):
        procrustes_vector_field_distance(np.ones((2, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="b is zero"):
        procrustes_vector_field_distance(np.ones((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="score"):
        procrustes_vector_field_distance(np.eye(2), np.eye(2), score="cosine")
    with pytest.raises(ValueError, match="NaN"):
        procrustes_vector_field_distance(np.full((2, 2), np.nan), np.eye(2))
    with pytest.raises(ValueError, match="restarts"):
        AlignmentOptions(restarts=0)
    with pytest.raises(ValueError, match="options"):
        procrustes_vector_field_distance(np.eye(2), np.eye(2), options={"restarts": 2})
