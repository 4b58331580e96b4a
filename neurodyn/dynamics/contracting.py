r"""RNNs of RNNs (certified contracting networks) as dynamical systems.

The ODE (``kind="ode"``, per ms) is

.. math:: \tau\dot x = -x + W\phi(x) + Lx + W^{in}u + b,
          \qquad J = \partial f/\partial x = \tfrac1\tau\left(-I + W D_{\phi'}(x) + L\right),

with :math:`D_{\phi'}(x) = \operatorname{diag}(\phi'(x))` and input Jacobian
:math:`W^{in}/\tau`. The map (``kind="map"``) is the step the model takes at
:math:`\alpha = \Delta t/\tau` (:mod:`neurodyn.rnn_models.rnns_of_rnns.stepping`):

.. math:: F(x) = A_x x + A_\phi\phi(x) + \alpha C(W^{in}u + b), \qquad
          \partial F/\partial x = A_x + A_\phi D_{\phi'}(x),

with :math:`A_x = (1-\alpha)C`, :math:`A_\phi = \alpha CW` and :math:`C` the Cayley map
of :math:`L` for the splitting integrator, or :math:`A_x = (1-\alpha)I + \alpha L`,
:math:`A_\phi = \alpha W`, :math:`C = I` for explicit Euler. Both share one formula,
:math:`r = x R_x^\top + \phi(x) R_\phi^\top + c`, with :math:`R_x = A_x - I` for the map.
"""

from __future__ import annotations

import copy

import numpy as np

from .._validation import check_choice, check_finite, check_positive
from .nonlinearities import RATE_NONLINEARITIES, get_nonlinearity
from .protocol import Dynamics

__all__ = ["ContractingDynamics"]


class ContractingDynamics(Dynamics):
    r"""A certified contracting network (an RNN of RNNs) as an ODE or as its step map.

    Parameters
    ----------
    W : array (d, d)
        Block-diagonal module weights; ``W[i, j]`` is j → i.
    L : array (d, d)
        Linear coupling (negative feedback between modules).
    W_in : array (d, m)
    bias : array (d,) or None
    tau, dt : float
        Time constant and step in ms.
    nonlinearity : {"tanh", "relu", "softplus", "rectified_tanh"}
    kind : {"ode", "map"}
    integrator : {"splitting", "euler"}
        How the map steps (ignored for the ODE).
    metric : array (d,), optional
        Diagonal of the contraction metric (kept for the certificate).

    Examples
    --------
    >>> dyn = ContractingDynamics(W=np.zeros((2, 2)), L=np.array([[0, 1.0], [-1.0, 0]]),
    ...                           W_in=np.ones((2, 1)), tau=1.0, dt=0.1)
    >>> dyn.jacobian(np.zeros(2))                      # -I + L
    array([[-1.,  1.],
           [-1., -1.]])
    """

    def __init__(
        self,
        *,
        W,
        L,
        W_in,
        bias=None,
        tau: float = 1.0,
        dt: float = 1.0,
        nonlinearity: str = "relu",
        kind: str = "ode",
        integrator: str = "splitting",
        metric=None,
    ):
        self.kind = check_choice("kind", kind, ("ode", "map"))
        self.phi = get_nonlinearity(nonlinearity, choices=RATE_NONLINEARITIES)
        self.nonlinearity = nonlinearity
        self.integrator = check_choice("integrator", integrator, ("splitting", "euler"))
        W = check_finite("W", W).astype(np.float64)
        if W.ndim != 2 or W.shape[0] != W.shape[1]:
            raise ValueError(f"W has shape {W.shape}; expected a square matrix (d, d)")
        d = W.shape[0]
        L = check_finite("L", L).astype(np.float64)
        if L.shape != (d, d):
            raise ValueError(f"L has shape {L.shape}; expected ({d}, {d})")
        W_in = check_finite("W_in", W_in).astype(np.float64).reshape(d, -1)
        bias = np.zeros(d) if bias is None else check_finite("bias", bias).astype(np.float64)
        if bias.shape != (d,):
            raise ValueError(f"bias has shape {bias.shape}; expected ({d},)")
        self.tau = check_positive("tau", tau)
        self.dt = check_positive("dt", dt)
        self.metric = None if metric is None else check_finite("metric", metric).astype(float)
        self.n_state, self.n_input = d, W_in.shape[1]
        self.W, self.L, self.W_in, self.bias = W, L, W_in, bias
        eye = np.eye(d)
        if self.kind == "ode":
            self.R_x, self.R_phi, self.C_in = (L - eye) / self.tau, W / self.tau, eye / self.tau
        else:
            a = self.dt / self.tau
            if self.integrator == "splitting":
                c = np.linalg.solve(eye - 0.5 * a * L, eye + 0.5 * a * L)
                a_x, a_phi = (1 - a) * c, a * (c @ W)
            else:
                c = eye
                a_x, a_phi = (1 - a) * eye + a * L, a * W
            self.R_x, self.R_phi, self.C_in = a_x - eye, a_phi, a * c
        # Input drive matrix and bias folded once: c = u (C W_in)^T + C b.
        self._drive_w = self.C_in @ W_in
        self._drive_b = self.C_in @ bias

    @classmethod
    def from_model(cls, model, *, kind: str = "ode", device=None) -> ContractingDynamics:
        """Build from an :class:`~neurodyn.rnn_models.rnns_of_rnns.RNNofRNNs` (float64 copy).

        The matrices are recomputed from a float64 copy of the network, so the
        feedback coupling is skew in the metric to double precision.

        Parameters
        ----------
        model : RNNofRNNs
            The trained network (it is not modified).
        kind : {"ode", "map"}
            Analyse the ODE (default; residual per ms) or the Euler map the model
            steps with (residual per step).
        device : str or torch.device, optional
            Where the adapter's torch path runs (default: the device of the model's
            parameters).
        """
        import torch

        net = copy.deepcopy(model.network).to("cpu", torch.float64)
        with torch.no_grad():
            W = net.weight().numpy()
            L = net.coupling().numpy()
            metric = net.metric().numpy()
        b = None if model.bias is None else model.bias.detach().double().cpu().numpy()
        dyn = cls(
            W=W,
            L=L,
            W_in=model.W_in.detach().double().cpu().numpy(),
            bias=b,
            tau=model.tau,
            dt=model.dt,
            nonlinearity=model.nonlinearity,
            kind=kind,
            integrator=model.integrator,
            metric=metric,
        )
        dyn.device = device if device is not None else next(model.parameters()).device
        return dyn

    def _p(self, ops, like):
        return self._on(ops, like, (self.R_x, self.R_phi, self._drive_w, self._drive_b))

    def _prepare(self, ops, u):
        _, _, dw, db = self._p(ops, u)
        return u @ dw.T + db

    def _residual(self, ops, x, c):
        rx, rphi, _, _ = self._p(ops, x)
        y, _ = self.phi.value_and_derivative(ops, x)
        return x @ rx.T + y @ rphi.T + c

    def _residual_jacobian(self, ops, x, c):
        rx, rphi, _, _ = self._p(ops, x)
        y, dy = self.phi.value_and_derivative(ops, x)
        r = x @ rx.T + y @ rphi.T + c
        # A[n] = R_x + R_phi diag(φ'(x[n])): scale the columns of R_phi by φ'.
        a = rx[None, :, :] + rphi[None, :, :] * dy[:, None, :]
        return r, a

    def _input_jacobian(self, ops, x, c):
        _, _, dw, _ = self._p(ops, x)
        return ops.zeros((x.shape[0], 1, 1), x) + dw[None]

    def _vjp(self, ops, x, c, v):
        rx, rphi, _, _ = self._p(ops, x)
        _, dy = self.phi.value_and_derivative(ops, x)
        return v @ rx + dy * (v @ rphi)
