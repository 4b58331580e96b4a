"""Dynamical Similarity Analysis: the invariances and the separation the paper shows."""

import numpy as np
import pytest
import xarray as xr
from scipy.stats import ortho_group

from neurodyn.analysis import cca_similarity, dsa, procrustes_distance


def noisy_linear(seed, trials=20, steps=100, n=6):
    """A stable linear system driven by noise (distinct singular values, generic)."""
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(100).normal(size=(n, n))
    rates = np.linspace(0.6, 0.95, n)
    m = basis @ np.diag(rates) @ np.linalg.inv(basis)
    x = np.zeros((trials, steps, n))
    x[:, 0] = rng.normal(size=(trials, n))
    for t in range(1, steps):
        x[:, t] = x[:, t - 1] @ m.T + 0.1 * rng.normal(size=(trials, n))
    return x


def line_system(drift, seed, trials=50, steps=200, n=10):
    r"""States on one line in n dims: a line attractor (drift = 0) or a slow drift.

    Along the line, a: the line attractor holds each position (a_{t+1} = a_t plus a
    little noise); the drift system relaxes toward the line's centre at ``drift`` per
    step, with noise that keeps a ~ N(0, 1) at every step, so both fill the same
    segment with the same distribution (a_0 ~ N(0, 1) in both). Across the line, b
    relaxes at 0.5 per step in both. Same geometry, different flow along the line.
    """
    rng = np.random.default_rng(seed)
    lam, sig_b = 0.5, 0.1
    kick = 0.02 if drift == 0 else np.sqrt(1 - (1 - drift) ** 2)
    a, b = np.zeros((trials, steps)), np.zeros((trials, steps))
    a[:, 0] = rng.normal(size=trials)
    b[:, 0] = rng.normal(scale=sig_b / np.sqrt(1 - (1 - lam) ** 2), size=trials)
    for t in range(1, steps):
        a[:, t] = (1 - drift) * a[:, t - 1] + kick * rng.normal(size=trials)
        b[:, t] = (1 - lam) * b[:, t - 1] + sig_b * rng.normal(size=trials)
    line = np.linalg.qr(np.random.default_rng(7).normal(size=(n, 2)))[0]
    return np.stack([a, b], axis=-1) @ line.T


@pytest.mark.parametrize("n_delays", [1, 3])
def test_rotation_and_rescaling_leave_the_distance_at_zero(n_delays):
    """A rotated (or reflected) and rescaled copy has the same operator up to the signs
    of the Hankel coordinates, so the distance is 0 up to rounding of the SVD (ε·κ
    over the singular-value gaps, ~1e-12 here) and of the alignment (n ε)."""
    x = noisy_linear(0)
    q = ortho_group.rvs(6, random_state=np.random.default_rng(1))
    for y in (x @ q.T, 40.0 * x, 0.01 * x @ q.T):
        res = dsa(x, y, n_delays=n_delays)
        assert res.distance < 1e-8
        assert res.alignment.converged
        assert procrustes_distance(x, y).distance < 1e-7


def test_same_geometry_different_dynamics_dsa_separates_and_procrustes_does_not():
    line, line_again = line_system(0.0, 1), line_system(0.0, 2)
    drift, drift_again = line_system(0.1, 3), line_system(0.1, 4)
    noise_floor = max(dsa(line, line_again).distance, dsa(drift, drift_again).distance)
    apart = dsa(line, drift).distance
    # Operators diag(1, 0.5) and diag(0.9, 0.5): angle arccos(1.15 / √(1.25·1.06)) =
    # 0.0438. The estimate's error: least-squares coefficients from 10 000 samples
    # have standard errors ~ √(1 − ρ²)/√N ≤ 0.01; 0.02 is two of them.
    assert apart == pytest.approx(np.arccos(1.15 / np.sqrt(1.25 * 1.06)), abs=0.02)
    assert apart > 2.5 * noise_floor
    # With delays, the embedding sees the difference in the flow more strongly.
    delayed = dsa(line, drift, n_delays=2).distance
    delayed_floor = dsa(line, line_again, n_delays=2).distance
    assert delayed > 10 * delayed_floor
    # Geometry: every pair is equally far apart (independent positions on one line).
    p_same = procrustes_distance(line, line_again).distance
    p_diff = procrustes_distance(line, drift).distance
    assert abs(p_diff - p_same) < 0.1 * p_same
    c_same = cca_similarity(line, line_again, 2).similarity
    assert abs(cca_similarity(line, drift, 2).similarity - c_same) < 0.05


def test_inputs_labels_and_systems_of_different_sizes():
    rng = np.random.default_rng(3)
    x = noisy_linear(2, trials=4, steps=50, n=3)
    lengths = [50, 40, 50, 30]
    padded = x.copy()
    for i, n in enumerate(lengths):
        padded[i, n:] = 0.0
    ds = xr.Dataset(
        {"states": (("trial", "time", "unit"), padded)},
        coords={"length": ("trial", lengths)},
    )
    cut = [x[i, :n] for i, n in enumerate(lengths)]
    a, b = dsa(ds, x, n_delays=2), dsa(cut, x, n_delays=2)
    np.testing.assert_allclose(a.x.operator, b.x.operator, rtol=1e-12, atol=1e-14)
    # The same system seen through 7 units by any injective linear map W: at full rank
    # and without delays, the Hankel matrix H W has the column space of H, so its
    # coordinates are V R with R orthogonal and the operator is Rᵀ A R: distance 0.
    wide = dsa(x, x @ rng.normal(size=(3, 7)), rank=3)
    assert wide.y.n_units == 7 and wide.distance < 1e-8
    out = wide.to_xarray()
    assert out["operator_x"].shape == (3, 3) and out.attrs["distance"] == wide.distance
    assert wide.operators[1].shape == (3, 3)
    assert dsa(x, x, score="euclidean").score == "euclidean"
    with pytest.raises(ValueError, match="score"):
        dsa(x, x, score="angle")
    with pytest.raises(ValueError, match="n_delays"):
        dsa(x, x, n_delays=0)
    with pytest.raises(ValueError, match="x has no variable"):
        dsa(xr.Dataset({"inputs": (("trial", "time", "input"), x)}), x)
