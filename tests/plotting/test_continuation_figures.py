"""Bifurcation diagrams: branches drawn by stability, bifurcations marked where they lie."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from neurodyn.analysis import continue_fixed_points
from neurodyn.dynamics import FunctionDynamics
from neurodyn.plotting import plot_bifurcation_diagram


@pytest.fixture(scope="module")
def branch():
    # ẋ = μ - x²: stable x = √μ, unstable x = -√μ, joined by a fold at μ = 0.
    dyn = FunctionDynamics(lambda x, u: u - x**2, n_state=1, n_input=1, kind="ode")
    return continue_fixed_points(dyn, [1.0], p0=1.0, p_range=(-1, 2), direction=-1,
                                 progress=False)  # fmt: skip


def test_bifurcation_diagram_draws_the_branch_by_stability(branch):
    ax = plot_bifurcation_diagram(branch)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["stable", "unstable", "fold"]
    assert ax.get_xlabel() == "input" and ax.get_ylabel() == "x"
    solid = [ln for ln in ax.lines if ln.get_linestyle() == "-" and len(ln.get_xdata()) > 1]
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    # Every point lies on the branch x² = μ (Newton-converged: to the corrector's
    # tolerance); the stable segment is x = +√μ up to the point that joins it to the
    # dashed unstable one, x = -√μ.
    for ln in solid + dashed:
        np.testing.assert_allclose(ln.get_ydata() ** 2, ln.get_xdata(), atol=1e-8)
    assert len(solid) == len(dashed) == 1
    assert np.all(solid[0].get_ydata()[:-1] > 0) and np.all(dashed[0].get_ydata()[1:] < 0)
    (fold,) = [ln for ln in ax.lines if ln.get_marker() == "^"]
    np.testing.assert_allclose([fold.get_xdata()[0], fold.get_ydata()[0]], [0, 0], atol=1e-6)
    plt.close(ax.figure)


def test_bifurcation_diagram_coordinates(branch):
    ax = plot_bifurcation_diagram([branch, branch], coordinate=np.array([2.0]), label_points=False)
    assert ax.get_ylabel() == "projection"
    np.testing.assert_allclose(
        ax.lines[0].get_ydata(), 2 * branch.x[: len(ax.lines[0].get_ydata()), 0]
    )
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="coordinate=3 is not a state index"):
        plot_bifurcation_diagram(branch, coordinate=3)
    with pytest.raises(ValueError, match="expected an index or"):
        plot_bifurcation_diagram(branch, coordinate=[1.0, 2.0])
