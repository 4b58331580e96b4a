r"""Time stepping that keeps the continuous-time contraction guarantee.

The certificate :math:`MJ + J^\top M \preceq -2cM` is for the ODE
:math:`\tau\dot x = -x + W\phi(x) + Lx + u`. A discretisation contracts too only if
its step map :math:`F` has :math:`\|\partial F/\partial x\|_M < 1`
(:math:`\|A\|_M = \|M^{1/2} A M^{-1/2}\|_2`). Explicit Euler at a step that is too
large breaks this: with a strong skew coupling, :math:`\|L\| \approx 23`, Euler at
:math:`\alpha = \Delta t/\tau = 0.2` blew up (research notes §4.5).

Write :math:`\hat A = M^{1/2} A M^{-1/2}`. The certificate says
:math:`\operatorname{sym}(\hat W D + \hat L) \preceq (1 - c) I`, and
:math:`\|\hat W D + \hat L\| \le a`. For :math:`\alpha \le 1` the Euler Jacobian
:math:`(1-\alpha) I + \alpha(\hat WD + \hat L)` then has

.. math:: \|I + \alpha \hat J\|_2^2 \le (1-\alpha)^2 + 2\alpha(1-\alpha)(1-c) + \alpha^2 a^2
          =: \rho_d(\alpha)^2,

which is below 1 exactly when :math:`\alpha < 2c / (a^2 - 1 + 2c)` (any
:math:`\alpha \le 1` when :math:`a^2 \le 1 - 2c`). Two integrators use this:

``"splitting"`` (default)
    Lie–Trotter splitting: an Euler step of the modules,
    :math:`y = (1-\alpha)x + \alpha(W\phi(x) + u)`, then the coupling flow by the
    Cayley (Crank–Nicolson) map :math:`x' = (I - \tfrac\alpha2 L)^{-1}(I + \tfrac\alpha2 L)\,y`.
    Because :math:`\hat L` is skew-symmetric, the Cayley map is an *isometry* of
    :math:`\|\cdot\|_M` for every step and every :math:`B`, so the admissible step
    depends on the modules only (:math:`a = g\|\hat W\|_2`) and training the
    couplings can never break the discrete-time guarantee. SVD modules have
    :math:`a = 1 - c` and admit every :math:`\alpha \le 1`.
``"euler"``
    Plain explicit Euler on the whole system, :math:`a = g\|\hat W\|_2 + \|\hat L\|_2`;
    its admissible step shrinks as the couplings grow during training, so the model
    re-checks it on every forward pass and warns when it is exceeded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["INTEGRATORS", "StepBound", "cayley", "euler_step_bound", "metric_norm"]

#: Integrators by name.
INTEGRATORS = ("splitting", "euler")


@dataclass(frozen=True)
class StepBound:
    """The admissible step of an integrator for given certificate constants.

    Attributes
    ----------
    rate : float
        Continuous-time rate :math:`c` (per time constant).
    gain : float
        :math:`a`, the bound on :math:`\\|\\hat W D + \\hat L\\|` the integrator sees.
    alpha_max : float
        Largest admissible :math:`\\alpha = \\Delta t/\\tau` (exclusive unless it is 1).

    Examples
    --------
    :func:`euler_step_bound` returns it. With :math:`c = 0.1` and :math:`a = 1.5`,
    :math:`\\alpha_{max} = 2c/(a^2 - 1 + 2c) = 0.2/1.45`:

    >>> b = euler_step_bound(0.1, 1.5)
    >>> round(b.alpha_max, 6) == round(0.2 / 1.45, 6), b.admissible(0.1), b.admissible(0.2)
    (True, True, False)
    >>> bool(b.factor(0.1) < 1 <= b.factor(0.2))
    True
    """

    rate: float
    gain: float
    alpha_max: float

    def admissible(self, alpha: float) -> bool:
        """Whether the step ``alpha`` keeps the contraction.

        Parameters
        ----------
        alpha : float
            The step :math:`\\Delta t/\\tau`.
        """
        if self.rate <= 0 or alpha <= 0:
            return False
        return alpha <= self.alpha_max if self.alpha_max >= 1.0 else alpha < self.alpha_max

    def factor(self, alpha: float) -> float:
        """Per-step contraction factor :math:`\\rho_d(\\alpha)` (< 1 when admissible).

        Parameters
        ----------
        alpha : float
            The step :math:`\\Delta t/\\tau`.
        """
        c, a = self.rate, self.gain
        sq = (1 - alpha) ** 2 + 2 * alpha * (1 - alpha) * (1 - c) + (alpha * a) ** 2
        return math.sqrt(max(sq, 0.0))


def euler_step_bound(rate: float, gain: float) -> StepBound:
    r"""The admissible Euler step :math:`\alpha_{max} = \min(1, 2c/(a^2 - 1 + 2c))`.

    Parameters
    ----------
    rate : float
        The certified continuous-time rate :math:`c` per time constant.
    gain : float
        :math:`a`, the bound on :math:`\|\hat W D + \hat L\|_2`.

    Returns
    -------
    StepBound

    Examples
    --------
    >>> b = euler_step_bound(0.1, 1.5)
    >>> round(b.alpha_max, 4), b.admissible(0.1), b.factor(0.1) < 1
    (0.1379, True, True)
    """
    denom = gain * gain - 1.0 + 2.0 * rate
    if rate <= 0:
        return StepBound(rate, gain, 0.0)
    alpha_max = 1.0 if denom <= 0 else min(1.0, 2.0 * rate / denom)
    return StepBound(float(rate), float(gain), float(alpha_max))


def metric_norm(a: np.ndarray, m: np.ndarray) -> float:
    """:math:`\\|M^{1/2} A M^{-1/2}\\|_2` for a diagonal metric ``m`` (float64).

    Parameters
    ----------
    a : array (n, n)
        The matrix.
    m : array (n,)
        Diagonal of the metric M (positive).

    Returns
    -------
    float

    Examples
    --------
    In the metric :math:`M = \\mathrm{diag}(1, 4)` the matrix with a single entry
    :math:`A_{12} = 1` has norm :math:`\\sqrt{1/4} = 0.5`:

    >>> metric_norm(np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([1.0, 4.0]))
    0.5
    """
    s = np.sqrt(np.asarray(m, dtype=np.float64))
    a = np.asarray(a, dtype=np.float64)
    return float(np.linalg.norm(s[:, None] * a / s[None, :], 2)) if a.size else 0.0


def cayley(coupling: torch.Tensor, alpha: float) -> torch.Tensor:
    r"""The Cayley map :math:`(I - \tfrac\alpha2 L)^{-1}(I + \tfrac\alpha2 L)` (differentiable).

    Parameters
    ----------
    coupling : Tensor (n, n)
        The coupling L.
    alpha : float
        The step :math:`\alpha = \Delta t/\tau`.

    Returns
    -------
    Tensor (n, n)

    Examples
    --------
    A negative-feedback coupling, :math:`ML + L^\top M = 0` (here
    :math:`L = M^{-1}S` with S skew-symmetric), gives an isometry of
    :math:`\|\cdot\|_M` at any step:

    >>> m = np.array([1.0, 4.0])
    >>> L = torch.tensor([[0.0, 1.0], [-1.0, 0.0]], dtype=torch.float64) / torch.tensor(m)[:, None]
    >>> round(metric_norm(cayley(L, 0.2).numpy(), m), 12), round(metric_norm(cayley(L, 5.0).numpy(), m), 12)
    (1.0, 1.0)
    """
    eye = torch.eye(coupling.shape[0], dtype=coupling.dtype, device=coupling.device)
    half = 0.5 * alpha * coupling
    return torch.linalg.solve(eye - half, eye + half)
