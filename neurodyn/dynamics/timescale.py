r"""The timescale RNN (:class:`~neurodyn.rnn_models.TimescaleRNN`) as a dynamical system.

With :math:`s = 1/\hat\tau` (per neuron, :math:`\hat\tau` in steps), drive
:math:`c = Ux + b` and :math:`\phi` the model's nonlinearity, the two forms are maps

.. math::

    \text{default: } F(h) = \phi(a),\quad a = (1 - s)\odot h + s\odot(Wh + c);
    \qquad
    \text{mod: } F(h) = (1 - s)\odot h + s\odot\phi(z),\quad z = Wh + c,

with Jacobians (LeakyReLU: :math:`\phi' \in \{1, 0.01\}`)

.. math::

    \text{default: } J = D_{\phi'(a)}\,[\operatorname{diag}(1 - s) + \operatorname{diag}(s)\,W],
    \qquad
    \text{mod: } J = \operatorname{diag}(1 - s) + \operatorname{diag}(s)\,D_{\phi'(z)}\,W,

and input Jacobians :math:`B = D_{\phi'(a)}\operatorname{diag}(s)\,U` and
:math:`\operatorname{diag}(s\,\phi'(z))\,U`. The "mod" form is also the Euler map of
the ODE :math:`\tau\dot h = -h + \phi(Wh + c)` (time in the model's units), which
``kind="ode"`` analyses instead: :math:`A = \operatorname{diag}(1/\tau)(-I + D_{\phi'(z)}W)`.

The derivative of LeakyReLU and ReLU at 0 is taken as that of the negative side,
as PyTorch does.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_finite, check_positive
from .nonlinearities import LEAKY_SLOPE, TIMESCALE_NONLINEARITIES, get_nonlinearity
from .protocol import Dynamics
from .rate import RateDynamics

__all__ = ["TimescaleDynamics"]


class TimescaleDynamics(Dynamics):
    """A timescale RNN as a discrete map (default) or, for the "mod" form, as its ODE.

    Parameters
    ----------
    W : array (d, d)
        Effective recurrent weights (zero diagonal for the paper's network); j → i.
    W_in : array (d, m)
    bias : array (d,) or None
    tau : float or array (d,)
        Time constants in time units, each >= ``dt``.
    dt : float
        Step in time units (1 for the discrete network, 1/k with k sub-steps per bit).
    form : {"default", "mod"}
    nonlinearity : {"leaky_relu", "relu", "tanh", "sigmoid"}
    negative_slope : float
        Of the LeakyReLU (0.01).
    kind : {"map", "ode"}
        ``"ode"`` only for the "mod" form.

    Examples
    --------
    >>> dyn = TimescaleDynamics(W=np.zeros((2, 2)), W_in=np.ones((2, 1)), tau=2.0, dt=1.0)
    >>> dyn.step(np.array([1.0, -1.0]), [0.0])   # φ(h/2): LeakyReLU of (0.5, -0.5)
    array([ 0.5  , -0.005])
    """

    def __init__(
        self,
        *,
        W,
        W_in,
        bias=None,
        tau,
        dt: float = 1.0,
        form: str = "default",
        nonlinearity: str = "leaky_relu",
        negative_slope: float = LEAKY_SLOPE,
        kind: str = "map",
    ):
        self.form = check_choice("form", form, ("default", "mod"))
        self.kind = check_choice("kind", kind, ("map", "ode"))
        if self.kind == "ode" and self.form != "mod":
            raise ValueError(
                "kind='ode' needs form='mod' (the default form applies φ after the leak, "
                "so it is a map with no ODE behind it)"
            )
        self.negative_slope = check_positive("negative_slope", negative_slope, allow_zero=True)
        self.phi = get_nonlinearity(
            nonlinearity, choices=TIMESCALE_NONLINEARITIES, negative_slope=self.negative_slope
        )
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
        if np.any(tau < self.dt * (1 - 1e-12)):
            raise ValueError(f"tau must be >= dt={self.dt} for every unit; got min {tau.min():g}")
        self.time_unit = "ms"
        self.n_state, self.n_input = d, W_in.shape[1]
        self.W, self.W_in, self.bias, self.tau = W, W_in, bias, tau
        # Per-step leak 1/τ̂ for the map; 1/τ (per time unit) for the ODE.
        self.scale = self.dt / tau if self.kind == "map" else 1.0 / tau

    @classmethod
    def from_model(cls, model, *, kind: str = "map", device=None) -> TimescaleDynamics:
        """Build from a :class:`~neurodyn.rnn_models.TimescaleRNN` (weights are copied).

        Parameters
        ----------
        model : TimescaleRNN
            The network (it is not modified).
        kind : {"map", "ode"}
            Analyse the discrete-time update the model takes (default) or the ODE
            whose Euler map it is (``"ode"`` needs a model of ``form="mod"``).
        device : str or torch.device, optional
            Where the adapter's torch path runs (default: the device of the model's
            parameters).
        """
        b = None if model.bias is None else model.bias.detach().cpu().numpy()
        dyn = cls(
            W=model.W.detach().cpu().numpy(),
            W_in=model.W_in.detach().cpu().numpy(),
            bias=b,
            tau=model.tau.detach().cpu().numpy(),
            dt=model.dt,
            form=model.form,
            nonlinearity=model.nonlinearity,
            kind=kind,
        )
        dyn.device = device if device is not None else next(model.parameters()).device
        return dyn

    # Same parameters and input drive c = W_in u + b as the rate RNN.
    _p = RateDynamics._p
    _prepare = RateDynamics._prepare

    def _parts(self, ops, x, c):
        """``(r, d, pre)``: residual, φ' at the pre-activation, and the pre-activation."""
        W, _, _, s = self._p(ops, x)
        if self.form == "default":
            a = (1.0 - s) * x + s * (x @ W.T + c)
            y, d = self.phi.value_and_derivative(ops, a)
            return y - x, d
        y, d = self.phi.value_and_derivative(ops, x @ W.T + c)
        # The mod map's F - h and the ODE's velocity differ only in s (1/τ̂ or 1/τ).
        return s * (y - x), d

    def _residual(self, ops, x, c):
        return self._parts(ops, x, c)[0]

    def _residual_jacobian(self, ops, x, c):
        W, _, _, s = self._p(ops, x)
        r, d = self._parts(ops, x, c)
        eye = ops.eye(self.n_state, x)[None]
        if self.form == "default":
            # J = D (diag(1 - s) + diag(s) W); residual Jacobian J - I.
            m = (s[:, None] * W)[None] + eye * (1.0 - s)[None, :, None]
            return r, d[:, :, None] * m - eye
        # mod map: J - I = diag(s) (D W - I); ODE: diag(1/τ) (D W - I). Same formula.
        return r, s[None, :, None] * (d[:, :, None] * W[None] - eye)

    def _input_jacobian(self, ops, x, c):
        _, W_in, _, s = self._p(ops, x)
        _, d = self._parts(ops, x, c)
        return (d * s)[:, :, None] * W_in[None]

    def _vjp(self, ops, x, c, v):
        W, _, _, s = self._p(ops, x)
        _, d = self._parts(ops, x, c)
        if self.form == "default":
            dv = d * v
            return (1.0 - s) * dv + (s * dv) @ W - v
        sv = s * v
        return (d * sv) @ W - sv
