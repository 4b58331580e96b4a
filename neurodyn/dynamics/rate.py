r"""The rate RNN as a dynamical system, both as its ODE and as its Euler map.

.. math::

    \tau \odot \dot x = -x + W\phi(x) + W_{in}u + b
    \qquad\text{and}\qquad
    x_{t+1} = x_t + \alpha\odot\left(-x_t + W\phi(x_t) + W_{in}u + b\right),
    \quad \alpha = \Delta t/\tau .

Both share the residual :math:`r = s\odot(-x + W\phi(x) + W_{in}u + b)` with
:math:`s = 1/\tau` (ODE, per ms) or :math:`s = \alpha` (map, per step), so they have
the same fixed points; the Jacobians are

.. math::

    A = \partial r/\partial x = \operatorname{diag}(s)\,(W\operatorname{diag}(\phi'(x)) - I),
    \qquad B = \operatorname{diag}(s)\,W_{in},

and the eigenvalues of the map are :math:`1 + \Delta t\,\mu` for the ODE's :math:`\mu`.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_finite, check_positive
from .nonlinearities import PHI_CODES, RATE_NONLINEARITIES, get_nonlinearity, phi_and_derivative
from .protocol import Dynamics, KernelSpec

# PHI_CODES and phi_and_derivative stay importable from here for existing callers.
__all__ = ["PHI_CODES", "RateDynamics", "phi_and_derivative"]


class RateDynamics(Dynamics):
    """A rate network as an ODE (default) or as its Euler map.

    Parameters
    ----------
    W : array (d, d)
        Effective recurrent weights; ``W[i, j]`` is j → i.
    W_in : array (d, m)
        Effective input weights.
    bias : array (d,) or None
    tau : float or array (d,)
        Time constants in ms.
    dt : float
        Euler step in ms.
    nonlinearity : {"tanh", "relu", "softplus", "rectified_tanh"}
    kind : {"ode", "map"}
        Analyse the ODE (tolerances per ms, independent of ``dt``) or the Euler map.

    Examples
    --------
    >>> dyn = RateDynamics(W=np.zeros((2, 2)), W_in=np.ones((2, 1)), bias=None,
    ...                    tau=10.0, dt=1.0)
    >>> dyn.velocity(np.array([1.0, 0.0]), [0.0])   # τ ẋ = -x
    array([-0.1,  0. ])
    """

    def __init__(self, *, W, W_in, bias=None, tau, dt, nonlinearity="tanh", kind="ode"):
        self.kind = check_choice("kind", kind, ("ode", "map"))
        self.phi = get_nonlinearity(nonlinearity, choices=RATE_NONLINEARITIES)
        self.nonlinearity = nonlinearity
        W = check_finite("W", W).astype(np.float64)
        if W.ndim != 2 or W.shape[0] != W.shape[1]:
            raise ValueError(f"W has shape {W.shape}; expected a square matrix (d, d)")
        d = W.shape[0]
        W_in = check_finite("W_in", W_in).astype(np.float64).reshape(d, -1)
        bias = np.zeros(d) if bias is None else check_finite("bias", bias).astype(np.float64)
        if bias.shape != (d,):
            raise ValueError(f"bias has shape {bias.shape}; expected ({d},)")
        self.dt = check_positive("dt", dt)
        tau = np.broadcast_to(check_finite("tau", tau).astype(np.float64), (d,)).copy()
        if np.any(tau <= 0):
            raise ValueError("tau must be positive for every unit")
        self.n_state, self.n_input = d, W_in.shape[1]
        self.W, self.W_in, self.bias, self.tau = W, W_in, bias, tau
        self.scale = 1.0 / tau if self.kind == "ode" else self.dt / tau

    @classmethod
    def from_model(cls, model, *, kind: str = "ode", device=None) -> RateDynamics:
        """Build from a :class:`~neurodyn.rnn_models.RateRNN` (weights are copied).

        Parameters
        ----------
        model : RateRNN
            The network (it is not modified); its effective weights (Dale signs and
            masks applied) are read.
        kind : {"ode", "map"}
            Analyse the ODE (default; residual per ms) or the Euler map the model
            steps with (residual per step).
        device : str or torch.device, optional
            Where the adapter's torch path runs (default: the device of the model's
            parameters).
        """
        name = model.config()["nonlinearity"]
        b = None if model.bias is None else model.bias.detach().cpu().numpy()
        dyn = cls(
            W=model.W.detach().cpu().numpy(),
            W_in=model.W_in.detach().cpu().numpy(),
            bias=b,
            tau=model.tau.detach().cpu().numpy(),
            dt=model.dt,
            nonlinearity=name,
            kind=kind,
        )
        dyn.device = device if device is not None else next(model.parameters()).device
        return dyn

    # -- parameters on the namespace's array type ---------------------------------------
    def _p(self, ops, like):
        return self._on(ops, like, (self.W, self.W_in, self.bias, self.scale))

    def _prepare(self, ops, u):
        _, W_in, b, _ = self._p(ops, u)
        return u @ W_in.T + b

    def _residual(self, ops, x, c):
        W, _, _, s = self._p(ops, x)
        y, _ = self.phi.value_and_derivative(ops, x)
        return s * (-x + y @ W.T + c)

    def _residual_jacobian(self, ops, x, c):
        W, _, _, s = self._p(ops, x)
        y, dy = self.phi.value_and_derivative(ops, x)
        r = s * (-x + y @ W.T + c)
        # A[n] = diag(s) (W diag(φ'(x[n])) - I): scale columns by φ', rows by s.
        a = (s[:, None] * W)[None, :, :] * dy[:, None, :]
        a = a - ops.eye(self.n_state, x)[None] * s[None, :, None]
        return r, a

    def _input_jacobian(self, ops, x, c):
        _, W_in, _, s = self._p(ops, x)
        return ops.zeros((x.shape[0], 1, 1), x) + (s[:, None] * W_in)[None]

    def _vjp(self, ops, x, c, v):
        W, _, _, s = self._p(ops, x)
        _, dy = self.phi.value_and_derivative(ops, x)
        sv = s * v
        return dy * (sv @ W) - sv

    def kernel_spec(self) -> KernelSpec:
        # No state_bounds: x is the units' input current, unbounded for every φ.
        return KernelSpec(
            0, self.phi.kernel_code, self.W, np.zeros(self.n_state), self.scale.copy()
        )
