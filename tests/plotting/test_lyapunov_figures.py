"""Figures of Lyapunov spectra: the exponents and their running estimates as computed."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from neurodyn.analysis import lyapunov_spectrum
from neurodyn.dynamics import FunctionDynamics
from neurodyn.plotting import plot_lyapunov_spectrum


@pytest.fixture(scope="module")
def spectrum():
    # A linear map with eigenvalues 0.5 and 0.25: exponents log 0.5 and log 0.25 per step.
    A = np.diag([0.5, 0.25])
    dyn = FunctionDynamics(
        lambda x, u: x @ A.T, n_state=2, jacobian=lambda x, u: np.broadcast_to(A, (len(x), 2, 2))
    )
    return lyapunov_spectrum(dyn, [[1.0, 1.0], [0.5, -1.0]], n_steps=200, transient=0,
                             n_checkpoints=4, progress=False)  # fmt: skip


def test_spectrum_figure_draws_the_exponents(spectrum):
    ax = plot_lyapunov_spectrum(spectrum)
    (line,) = [ln for ln in ax.lines if ln.get_marker() == "o"]
    np.testing.assert_array_equal(line.get_xdata(), [1, 2])
    np.testing.assert_array_equal(line.get_ydata(), spectrum.exponents)
    # Over 200 steps from random tangent vectors the estimates are within O(1/n) of the
    # exact exponents.
    np.testing.assert_allclose(line.get_ydata(), np.log([0.5, 0.25]), atol=0.05)
    assert ax.get_ylabel() == "λ_i (1/step)" and ax.get_title() == "Lyapunov spectrum"
    plt.close(ax.figure)


def test_convergence_figure_draws_the_running_estimates(spectrum):
    ax = plot_lyapunov_spectrum(spectrum, convergence=True, max_lines=1)
    (line,) = [ln for ln in ax.lines if ln.get_label() == "λ1"]
    np.testing.assert_array_equal(line.get_xdata(), spectrum.checkpoint_time)
    np.testing.assert_allclose(line.get_ydata(), spectrum.history[:, :, 0].mean(axis=0))
    assert ax.get_xlabel() == "time (step)"
    plt.close(ax.figure)
