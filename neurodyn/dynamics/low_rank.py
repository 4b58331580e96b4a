r"""The low-rank rate network as a dynamical system: a rate network with :math:`W = mn^\top/N`.

.. math::

    \tau\dot x = -x + \tfrac1N m\,n^\top\phi(x) + I u ,
    \qquad
    A = \partial r/\partial x = s\left(\tfrac1N m\,n^\top\operatorname{diag}\phi'(x) - I_N\right),

with :math:`s = 1/\tau` (ODE) or :math:`\Delta t/\tau` (Euler map). It is a
:class:`~neurodyn.dynamics.RateDynamics` (same residual, same Jacobians, same compiled
kernel on the dense :math:`W`) whose residual and gradient are evaluated through the
loadings, :math:`O(NR)` per state instead of :math:`O(N^2)`.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_finite
from .rate import RateDynamics

__all__ = ["LowRankDynamics"]


class LowRankDynamics(RateDynamics):
    """A rate network with recurrent weights :math:`m n^\\top / N` of rank R.

    Parameters
    ----------
    m, n : array (d, R)
        Post- and presynaptic loadings.
    W_in : array (d, M)
        Input vectors.
    tau : float
        Time constant in ms.
    dt : float
        Euler step in ms.
    nonlinearity : {"tanh", "relu", "softplus", "rectified_tanh"}
    kind : {"ode", "map"}

    Examples
    --------
    >>> m = np.array([[1.0], [1.0]]); n = np.array([[1.0], [0.0]])
    >>> dyn = LowRankDynamics(m=m, n=n, W_in=np.zeros((2, 1)), tau=10.0, dt=1.0)
    >>> dyn.W.tolist()
    [[0.5, 0.0], [0.5, 0.0]]
    """

    def __init__(self, *, m, n, W_in, tau, dt, nonlinearity="tanh", kind="ode"):
        m = check_finite("m", m).astype(np.float64)
        n = check_finite("n", n).astype(np.float64)
        if m.ndim != 2 or n.shape != m.shape:
            raise ValueError(
                f"m and n have shapes {m.shape} and {n.shape}; expected the same (d, rank)"
            )
        d = m.shape[0]
        super().__init__(
            W=m @ n.T / d, W_in=W_in, tau=tau, dt=dt, nonlinearity=nonlinearity, kind=kind
        )
        self.m, self.n, self.rank = m, n, m.shape[1]
        self._n_scaled = n / d

    @classmethod
    def from_model(cls, model, *, kind: str = "ode", device=None) -> LowRankDynamics:
        """Build from a :class:`~neurodyn.rnn_models.LowRankRNN` (loadings are copied).

        Parameters
        ----------
        model : LowRankRNN
            The network (it is not modified).
        kind : {"ode", "map"}
            Analyse the ODE (default; residual per ms) or the Euler map the model
            steps with (residual per step).
        device : str or torch.device, optional
            Where the adapter's torch path runs (default: the device of the model's
            parameters).
        """
        dyn = cls(
            m=model.m.detach().cpu().numpy(),
            n=model.n.detach().cpu().numpy(),
            W_in=model.W_in.detach().cpu().numpy(),
            tau=model.tau,
            dt=model.dt,
            nonlinearity=model.nonlinearity,
            kind=kind,
        )
        dyn.device = device if device is not None else next(model.parameters()).device
        return dyn

    def _p(self, ops, like):
        return self._arrays(ops, like)[:4]

    def _factors(self, ops, like):
        _, _, _, s, m, n = self._arrays(ops, like)
        return m, n, s

    def _arrays(self, ops, like):
        # One tuple for both views: ``_on`` caches one tuple per device and dtype.
        arrays = (self.W, self.W_in, self.bias, self.scale, self.m, self._n_scaled)
        return self._on(ops, like, arrays)

    def _residual(self, ops, x, c):
        m, n, s = self._factors(ops, x)
        y, _ = self.phi.value_and_derivative(ops, x)
        return s * (-x + (y @ n) @ m.T + c)

    def _vjp(self, ops, x, c, v):
        # Aᵀv = φ'(x) ⊙ (n mᵀ (s v))/N − s v, through the loadings.
        m, n, s = self._factors(ops, x)
        _, dy = self.phi.value_and_derivative(ops, x)
        sv = s * v
        return dy * ((sv @ m) @ n.T) - sv
