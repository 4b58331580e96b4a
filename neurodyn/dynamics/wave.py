r"""Wave-RNNs and iRNNs as dynamical systems: ReLU maps with circulant or dense weights.

Both models are the discrete map

.. math::

    F(h, x) = \operatorname{ReLU}(W h + V x + b),

with a dense :math:`W = U` for the iRNN and, for the wave-RNN, the block-circulant
matrix of its circular convolution (:func:`circulant_matrix`),

.. math::

    W_{(i,j),(l,j')} = \sum_{k} u_{i,l,k}\,[\,j' \equiv j + k - p \pmod n\,].

The Jacobians are the ReLU gate times the weights,

.. math::

    J = \partial F/\partial h = \operatorname{diag}\!\big([W h + V x + b > 0]\big)\, W,
    \qquad B = \partial F/\partial x = \operatorname{diag}\!\big([\cdot > 0]\big)\, V,

and the residual the analyzers drive to zero is :math:`r = F(h, x) - h`, with
:math:`\partial r/\partial h = J - I`. The ReLU's derivative at 0 is taken as 0,
as PyTorch does.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_finite, check_int, check_positive
from .protocol import Dynamics

__all__ = ["ReLUMapDynamics", "WaveDynamics", "circulant_matrix"]


def circulant_matrix(kernel, n_neurons: int) -> np.ndarray:
    r"""The (c·n, c·n) block-circulant matrix of a circular convolution with ``kernel``.

    Row ``i * n + j`` (channel ``i``, neuron ``j``) holds, in column ``l * n + j'``,
    the sum of the taps :math:`u_{i,l,k}` with :math:`j' \equiv j + k - p \pmod n`,
    so that ``W @ h.reshape(-1)`` equals ``Conv1d(c, c, f, padding=p,
    padding_mode="circular")`` (without bias) applied to ``h`` of shape (c, n).

    Parameters
    ----------
    kernel : array (c, c, f)
        Convolution kernel, ``kernel[i, l, k]`` from channel ``l`` to channel ``i``; ``f`` odd.
    n_neurons : int
        Ring length ``n``.

    Returns
    -------
    ndarray (c·n, c·n), float64

    Examples
    --------
    >>> shift = np.zeros((1, 1, 3)); shift[0, 0, 2] = 1.0
    >>> circulant_matrix(shift, 4)          # (W h)_j = h_{j+1}: a cyclic shift
    array([[0., 1., 0., 0.],
           [0., 0., 1., 0.],
           [0., 0., 0., 1.],
           [1., 0., 0., 0.]])
    """
    u = check_finite("kernel", kernel).astype(np.float64)
    if u.ndim != 3 or u.shape[0] != u.shape[1] or u.shape[2] % 2 == 0:
        raise ValueError(f"kernel has shape {u.shape}; expected (c, c, f) with f odd")
    check_int("n_neurons", n_neurons)
    c, _, f = u.shape
    n, p = int(n_neurons), (f - 1) // 2
    w = np.zeros((c, n, c, n))
    j = np.arange(n)
    for k in range(f):
        # Taps that land on the same neuron (f > n) add up, as they do in the convolution.
        np.add.at(w, (slice(None), j, slice(None), (j + k - p) % n), u[:, :, k][None])
    return w.reshape(c * n, c * n)


class ReLUMapDynamics(Dynamics):
    r"""The map :math:`F(h, x) = \mathrm{ReLU}(W h + V x + b)` with analytic Jacobians.

    Parameters
    ----------
    W : array (d, d)
        Recurrent weights, ``W[i, j]`` from unit j to unit i.
    W_in : array (d, m)
        Input weights :math:`V`.
    bias : array (d,), optional
        Total bias :math:`b` (default zeros).
    dt : float
        Duration of one step in ms.
    kind : {"map"}
        Only the discrete map exists (there is no underlying ODE).

    Examples
    --------
    >>> dyn = ReLUMapDynamics(W=np.eye(2), W_in=np.ones((2, 1)))
    >>> dyn.step(np.array([1.0, -1.0]), [0.5])       # ReLU(h + 0.5)
    array([1.5, 0. ])
    """

    def __init__(self, *, W, W_in, bias=None, dt: float = 1.0, kind: str = "map"):
        self.kind = check_choice("kind", kind, ("map",))
        W = check_finite("W", W).astype(np.float64)
        if W.ndim != 2 or W.shape[0] != W.shape[1]:
            raise ValueError(f"W has shape {W.shape}; expected a square matrix (d, d)")
        d = W.shape[0]
        W_in = check_finite("W_in", W_in).astype(np.float64)
        if W_in.ndim != 2 or W_in.shape[0] != d:
            raise ValueError(f"W_in has shape {W_in.shape}; expected ({d}, n_input)")
        bias = np.zeros(d) if bias is None else check_finite("bias", bias).astype(np.float64)
        if bias.shape != (d,):
            raise ValueError(f"bias has shape {bias.shape}; expected ({d},)")
        self.dt = check_positive("dt", dt)
        self.n_state, self.n_input = d, W_in.shape[1]
        self.W, self.W_in, self.bias = W, W_in, bias

    @classmethod
    def from_irnn(cls, model, *, kind=None, dt=None) -> ReLUMapDynamics:
        """Build from an :class:`~neurodyn.rnn_models.IRNN` (weights are copied).

        Parameters
        ----------
        model : IRNN
            The network (it is not modified); its two biases are summed.
        kind : {"map"}, optional
            The system analysed: the model's own map (the only kind; None means it).
        dt : float, optional
            Duration of one step in ms (default: the model's ``dt``).
        """
        dyn = cls(
            W=model.weight_rec.detach().cpu().numpy(),
            W_in=model.weight_in.detach().cpu().numpy(),
            bias=(model.bias_in + model.bias_rec).detach().cpu().numpy(),
            dt=model.dt if dt is None else dt,
            kind=kind or "map",
        )
        dyn.device = next(model.parameters()).device
        return dyn

    def _p(self, ops, like):
        return self._on(ops, like, (self.W, self.W_in, self.bias))

    def _prepare(self, ops, u):
        _, W_in, b = self._p(ops, u)
        return u @ W_in.T + b

    def _residual(self, ops, x, c):
        W, _, _ = self._p(ops, x)
        return ops.relu(x @ W.T + c) - x

    def _residual_jacobian(self, ops, x, c):
        W, _, _ = self._p(ops, x)
        pre = x @ W.T + c
        # A[n] = diag(gate[n]) W - I: scale the rows of W by the ReLU gate.
        a = ops.step(pre)[:, :, None] * W[None] - ops.eye(self.n_state, x)[None]
        return ops.relu(pre) - x, a

    def _input_jacobian(self, ops, x, c):
        W, W_in, _ = self._p(ops, x)
        return ops.step(x @ W.T + c)[:, :, None] * W_in[None]

    def _vjp(self, ops, x, c, v):
        W, _, _ = self._p(ops, x)
        return (ops.step(x @ W.T + c) * v) @ W - v


class WaveDynamics(ReLUMapDynamics):
    r"""A wave-RNN as the map :math:`h \mapsto \mathrm{ReLU}(u \star h + V x + b)`.

    The recurrent matrix is the block-circulant :func:`circulant_matrix` of the
    kernel; the state is ordered as the model's units (channel-major, unit
    ``i * n + j`` is neuron ``j`` of channel ``i``), labelled by :meth:`state_coords`.

    Parameters
    ----------
    kernel : array (c, c, f)
        Convolution kernel :math:`u`.
    n_neurons : int
        Ring length ``n``.
    W_in : array (c·n, m)
        Input weights :math:`V`.
    bias : array (c·n,), optional
        Total bias (input bias plus the convolution's per-channel bias).
    dt : float
        Duration of one step in ms.

    Examples
    --------
    >>> u = np.zeros((1, 1, 3)); u[0, 0, 2] = 1.0
    >>> dyn = WaveDynamics(kernel=u, n_neurons=4, W_in=np.zeros((4, 1)))
    >>> dyn.step(np.array([1.0, 2.0, 3.0, 4.0]))     # the wave moves one neuron per step
    array([2., 3., 4., 1.])
    """

    def __init__(self, *, kernel, n_neurons, W_in, bias=None, dt: float = 1.0, kind="map"):
        self.kernel = check_finite("kernel", kernel).astype(np.float64)
        super().__init__(
            W=circulant_matrix(self.kernel, n_neurons), W_in=W_in, bias=bias, dt=dt, kind=kind
        )
        self.n_channels, self.n_neurons = self.kernel.shape[0], int(n_neurons)

    @classmethod
    def from_model(cls, model, *, kind=None, dt=None) -> WaveDynamics:
        """Build from a :class:`~neurodyn.rnn_models.WaveRNN` (weights are copied).

        Parameters
        ----------
        model : WaveRNN
            The network (it is not modified); its circulant kernel, input weights and
            total bias are read.
        kind : {"map"}, optional
            The system analysed: the model's own map (the only kind; None means it).
        dt : float, optional
            Duration of one step in ms (default: the model's ``dt``).
        """
        dyn = cls(
            kernel=model.kernel.detach().cpu().numpy(),
            n_neurons=model.n_neurons,
            W_in=model.weight_in.detach().cpu().numpy(),
            bias=model.total_bias.detach().cpu().numpy(),
            dt=model.dt if dt is None else dt,
            kind=kind or "map",
        )
        dyn.device = next(model.parameters()).device
        return dyn

    def state_coords(self) -> dict[str, np.ndarray]:
        unit = np.arange(self.n_state)
        return {"channel": unit // self.n_neurons, "neuron": unit % self.n_neurons}
