"""HAVOK DMD: eigenvalues of known linear systems, the coordinates' invariances, inputs."""

import doctest
import importlib

import numpy as np
import pytest
from scipy.linalg import expm

from neurodyn.analysis import havok_dmd

# A 3-D linear flow, dx/dt = L x, with eigenvalues -0.05 ± 0.3i and -0.2 (per step),
# written in a random basis so that no coordinate is special.
EIGS = np.array([-0.05 + 0.3j, -0.05 - 0.3j, -0.2])


def linear_system(seed=0, trials=4, steps=60):
    rng = np.random.default_rng(seed)
    block = np.array([[-0.05, -0.3, 0.0], [0.3, -0.05, 0.0], [0.0, 0.0, -0.2]])
    basis = rng.normal(size=(3, 3))
    m = expm(basis @ block @ np.linalg.inv(basis))  # one step of the flow
    x = np.zeros((trials, steps, 3))
    x[:, 0] = rng.normal(size=(trials, 3))
    for t in range(1, steps):
        x[:, t] = x[:, t - 1] @ m.T
    return x


def test_docstring_examples_run():
    for name in ("dmd", "hankel", "trajectories"):
        module = importlib.import_module(f"neurodyn.analysis.similarity.{name}")
        assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize(("n_delays", "delay_interval"), [(1, 1), (3, 1), (4, 2)])
def test_eigenvalues_of_a_linear_system_are_exp_of_its_rates(n_delays, delay_interval):
    """x_{t+1} = e^L x_t: the rank-3 operator has eigenvalues e^λ for any delays.

    Noise-free, so the only error is rounding in the SVD and the least squares:
    about κ ε with κ the condition number of the 3 kept singular values (< 1e3 here).
    Trials are 4 independent starts: a pair across a trial boundary would break the
    exact fit, so the check also covers the per-trial pairing.
    """
    fit = havok_dmd(linear_system(), n_delays=n_delays, delay_interval=delay_interval, rank=3)
    assert fit.operator.shape == (3, 3)
    assert fit.residual < 1e-10
    np.testing.assert_allclose(
        np.sort_complex(fit.eigenvalues), np.sort_complex(np.exp(EIGS)), atol=1e-9
    )


def test_default_rank_is_the_numerical_rank():
    """Three dynamic dimensions seen through 8 units: 3 modes, not 8 of rounding noise."""
    x = linear_system() @ np.random.default_rng(5).normal(size=(3, 8))
    fit = havok_dmd(x)
    assert fit.rank == 3 and fit.modes.shape == (8, 3)
    np.testing.assert_allclose(
        np.sort_complex(fit.eigenvalues), np.sort_complex(np.exp(EIGS)), atol=1e-9
    )
    with pytest.raises(ValueError, match="rank=4 exceeds the numerical rank 3"):
        havok_dmd(x, rank=4)


def test_rotation_and_scale_change_the_operator_only_by_signs():
    """x -> a Q x leaves the Hankel coordinates V unchanged up to column signs."""
    rng = np.random.default_rng(3)
    x = linear_system(1) + 0.01 * rng.normal(size=(4, 60, 3))  # distinct singular values
    q = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    a = havok_dmd(x, n_delays=2).operator
    b = havok_dmd(7.5 * x @ q.T, n_delays=2).operator
    # Rounding of an SVD: ε·κ over the singular-value gaps (≥ 1e-2 relative here).
    np.testing.assert_allclose(np.abs(b), np.abs(a), atol=1e-10)


def test_result_labels_and_bad_arguments():
    x = linear_system()
    ds = havok_dmd(x, rank=2).to_xarray()
    assert ds["operator"].shape == (2, 2) and ds.attrs["rank"] == 2
    assert ds["singular_values"].size == 3
    with pytest.raises(ValueError, match="rank must be an integer"):
        havok_dmd(x, rank=0)
    with pytest.raises(ValueError, match="exceeds the Hankel"):
        havok_dmd(x, rank=4)
    with pytest.raises(ValueError, match="fewer than 2 embedded states"):
        havok_dmd(x, n_delays=60)
    with pytest.raises(ValueError, match="no variance"):
        havok_dmd(np.zeros((2, 10, 3)))
