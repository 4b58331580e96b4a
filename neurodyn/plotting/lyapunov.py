"""Figures of Lyapunov spectra: the exponents against their index, and their convergence.

The spectra come from :func:`neurodyn.analysis.lyapunov_spectrum`. The function draws on
a given Axes (or makes one) and returns it; it never calls ``show``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_lyapunov_spectrum"]


def plot_lyapunov_spectrum(result, *, ax=None, convergence: bool = False, max_lines: int = 8):
    """The spectrum (exponent against index), or its running estimates over time.

    Parameters
    ----------
    result : LyapunovSpectrum
        A result of :func:`neurodyn.analysis.lyapunov_spectrum`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made when omitted.
    convergence : bool
        Draw the running estimates of the top ``max_lines`` exponents against time
        (mean over trajectories) instead of the spectrum.
    max_lines : int
        With ``convergence``, the number of leading exponents drawn.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    The linear map :math:`x \\mapsto \\operatorname{diag}(0.5, 0.25)\\,x` has exponents
    :math:`\\ln 0.5` and :math:`\\ln 0.25` per step:

    >>> import matplotlib.pyplot as plt
    >>> from neurodyn.analysis import lyapunov_spectrum
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> A = np.diag([0.5, 0.25])
    >>> dyn = FunctionDynamics(lambda x, u: x @ A.T, n_state=2,
    ...                        jacobian=lambda x, u: np.broadcast_to(A, (len(x), 2, 2)))
    >>> le = lyapunov_spectrum(dyn, np.ones((2, 2)), n_steps=200, transient=10,
    ...                        progress=False)
    >>> np.round(le.exponents, 3).tolist()
    [-0.693, -1.386]
    >>> ax = plot_lyapunov_spectrum(le)
    >>> ax.get_ylabel(), len(ax.lines)
    ('λ_i (1/step)', 2)
    >>> plt.close(ax.figure)
    >>> ax = plot_lyapunov_spectrum(le, convergence=True)
    >>> ax.get_legend_handles_labels()[1]
    ['λ1', 'λ2']
    >>> plt.close(ax.figure)
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    unit = f"1/{result.time_unit}"
    if convergence:
        ok = result.status == "ok"
        mean = np.nanmean(result.history[ok], axis=0) if np.any(ok) else result.history[0]
        for i in range(min(max_lines, mean.shape[1])):
            ax.plot(result.checkpoint_time, mean[:, i], label=f"λ{i + 1}")
        ax.set_xlabel(f"time ({result.time_unit})")
        ax.set_ylabel(f"running estimate ({unit})")
        ax.legend(fontsize="small", ncol=2)
        ax.set_title("convergence of the Lyapunov exponents")
    else:
        i = np.arange(1, len(result.exponents) + 1)
        ax.errorbar(
            i,
            result.exponents,
            yerr=np.nan_to_num(result.stderr),
            fmt="o-",
            ms=3,
            color="tab:blue",
            lw=1,
        )
        ax.set_xlabel("index i")
        ax.set_ylabel(f"λ_i ({unit})")
        ax.set_title("Lyapunov spectrum")
    ax.axhline(0.0, color="0.5", lw=0.8, ls="--")
    return ax
