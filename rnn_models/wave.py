r"""The wave-RNN (wRNN) of Keller, Muller, Sejnowski & Welling (ICLR 2024).

The hidden state is ``c`` channels of ``n`` neurons on a ring, and the recurrent
weights are a circular convolution along the ring,

.. math::

    h_{t} = \operatorname{ReLU}\!\left(u \star h_{t-1} + V x_t + b\right), \qquad
    (u \star h)_{i,j} = \beta_i + \sum_{l=1}^{c}\sum_{k=0}^{f-1} u_{i,l,k}\,
        h_{l,\;(j + k - p) \bmod n}, \quad p = \tfrac{f-1}{2},

which is ``torch.nn.Conv1d(c, c, f, padding=p, padding_mode="circular")``. With the
*shift initialisation* :math:`u_{i,i,:} = (0, \dots, 0, 1)` every channel's recurrent
matrix is a cyclic permutation, :math:`(u\star h)_{i,j} = h_{i,j+p}`, so activity moves
``p`` neurons per step towards lower indices: a traveling wave, and a lossless ring
buffer of the last ``n/p`` inputs as long as the ReLU does not cut it.

Two implementations live here:

* :class:`WaveRNN`, neurodyn's model. Per step the arithmetic is tiny (c·c·f
  multiply-adds per neuron), so the time goes to per-step overhead, and the
  implementation (``_WaveScan``) removes it: the trial axis is innermost, so
  a ring shifted by ``s`` neurons is a contiguous run of rows and the convolution is
  ``2f - 1`` in-place (c, c) @ (c, rows·trial) products with a long free dimension;
  the input projection and the read-out are one product each per step, done while
  the state is in cache; every per-step view is made before the loop; and the
  backward pass through time is written by hand, with no autograd graph at all and
  every parameter gradient accumulated in the same single backward sweep.
* :class:`ReferenceWaveRNN`, the paper's form: ``Conv1d`` with circular padding
  stepped in a Python loop under autograd. It is the slow reference the fast path is
  tested against, and the baseline of ``benchmarks/bench_wave_rnn.py``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_choice, check_int, check_positive
from ..dynamics.wave import WaveDynamics, circulant_matrix
from ..seeding import make_rng
from .base import Model, ModelOutput

__all__ = [
    "READOUTS",
    "ReferenceWaveRNN",
    "WaveRNN",
    "wave_parameter_count",
    "wave_rnn_from_hidden",
]

_relu_backward = torch.ops.aten.threshold_backward.grad_input

#: Read-outs from the flattened state: linear, or the paper's "+MLP" (c·n → hidden → out).
READOUTS = ("linear", "mlp")


def _pieces(n: int, f: int) -> list[tuple[int, slice, slice]]:
    r"""How a circular ``f``-tap convolution over ``n`` neurons splits into plain products.

    Tap ``k`` adds :math:`u_{:,:,k}\,h_{:,(j+s) \bmod n}` to output row ``j``, with
    :math:`s = k - p`. Rather than materialising a rolled copy of ``h``, each tap is
    split where the ring wraps: for :math:`s > 0` output rows ``0 .. n - s`` read
    rows ``s .. n`` and the last ``s`` output rows read the first ``s`` (the mirror
    image for :math:`s < 0`). Returns ``(k, output rows, input rows)`` for the
    ``2f - 1`` pieces, the unshifted tap first (it alone covers every output row).
    """
    p = (f - 1) // 2
    out = [(p, slice(0, n), slice(0, n))]
    for k in range(f):
        s = k - p
        if s > 0:
            out += [(k, slice(0, n - s), slice(s, n)), (k, slice(n - s, n), slice(0, s))]
        elif s < 0:
            out += [(k, slice(-s, n), slice(0, n + s)), (k, slice(0, -s), slice(n + s, n))]
    return out


def _views(x: torch.Tensor, pieces, which: int) -> list[torch.Tensor]:
    """For each piece, rows ``piece[which]`` of ``x`` (..., c, n, B) as a (..., c, rows·B) view.

    With the trial axis innermost a run of rows is contiguous, so each view is a
    matrix with row stride n·B that BLAS reads and writes in place. The views are
    made once per tensor, outside the time loop, to keep the loop's Python work small.
    """
    return [x[..., piece[which], :].flatten(-2) for piece in pieces]


def _batched(weight: torch.Tensor, x: torch.Tensor, bias=None) -> torch.Tensor:
    """``weight @ x[t] (+ bias)`` for every t of ``x`` (T, k, B), as one batched product.

    Expanding the weight (a view) rather than calling ``matmul`` keeps the trial axis
    last: ``matmul`` would fold time and trials into rows and transpose both ways.
    """
    w = weight.expand(x.shape[0], *weight.shape)
    if bias is None:
        return torch.bmm(w, x)
    return torch.baddbmm(bias[:, None].expand(x.shape[0], -1, x.shape[-1]), w, x)


class _WaveScan(torch.autograd.Function):
    r"""A whole wRNN: input projection, recurrence and linear read-out, with a hand-written BPTT.

    Inputs: ``x`` (T, m, B), ``weight_in`` (c·n, m), ``bias`` (c·n,), ``kernel``
    (c, c, f), ``h0`` (c, n, B) and optionally ``weight_out`` (o, c·n), ``bias_out``
    (o,). Outputs: the states (T, c, n, B) and, with a read-out, ``y`` (T, o, B).

    The trial axis is innermost, so a ring shifted by ``s`` neurons is a contiguous
    run of rows, and the convolution of a step is ``2f - 1`` products of (c, c)
    matrices with long (c, rows·B) views (:func:`_pieces`), added in place to the
    step's input projection. No step allocates, copies or records anything for
    autograd.

    Backward, with :math:`g_t = W_{out}^\top \partial L/\partial y_t +
    \partial L/\partial h_t` the gradient arriving at :math:`h_t` from outside the
    recurrence and :math:`\delta_t` the gradient of the pre-activation,

    .. math::

        \delta_t = \left(g_t + u^\top \star \delta_{t+1}\right)\odot[h_t > 0], \qquad
        \frac{\partial L}{\partial V} = \sum_t \delta_t x_t^\top, \qquad
        \frac{\partial L}{\partial W_{out}} = \sum_t \frac{\partial L}{\partial y_t} h_t^\top,
        \qquad
        \frac{\partial L}{\partial u_{i,l,k}} = \sum_{t,j,b} \delta_{t,i,j,b}\,
            h_{t-1,\,l,\,(j+k-p) \bmod n,\,b},

    where :math:`u^\top \star` is the adjoint convolution: the same circular
    convolution with the kernel's channels transposed and its taps reversed,
    :math:`u^\top_{l,i,k} = u_{i,l,f-1-k}`. One pass backwards in time computes
    :math:`\delta_t` and adds its share to every parameter gradient while
    :math:`\delta_t`, :math:`h_t` and :math:`h_{t-1}` are in cache; no (T, c, n, B)
    gradient is ever stored.
    """

    @staticmethod
    def forward(ctx, x, weight_in, bias, kernel, h0, weight_out=None, bias_out=None):
        ctx.set_materialize_grads(False)
        T, _, b = x.shape
        c, n = h0.shape[0], h0.shape[1]
        f = kernel.shape[-1]
        pieces = _pieces(n, f)
        # Contiguous copies of the (c, c) taps: strided ones would be copied by every product.
        taps = [kernel[:, :, k].contiguous() for k, _, _ in pieces]
        # The bias rides along as a column of ones appended to x, so each step's input
        # projection is one plain product written straight into the step's state.
        # (Per step, BLAS runs these (c·n, m+1) @ (m+1, B) products several times
        # faster than one batched product over all steps.)
        x_aug = torch.cat([x, x.new_ones(T, 1, b)], dim=1)
        w_aug = torch.cat([weight_in, bias[:, None]], dim=1)
        states = x.new_empty(T, c, n, b)
        # Every per-step view up front (``unbind`` makes all T in one call, far cheaper
        # than indexing in the loop, whose Python overhead is much of a step's cost).
        outs = [v.unbind(0) for v in _views(states, pieces, 1)]
        ins = [v.unbind(0) for v in _views(states, pieces, 2)]
        ins0 = _views(h0, pieces, 2)
        steps, flat = states.unbind(0), states.view(T, c * n, b).unbind(0)
        x_steps = x_aug.unbind(0)
        if weight_out is not None:
            y = x.new_empty(T, weight_out.shape[0], b)
            y_steps, bias_col = y.unbind(0), bias_out[:, None]
        for t in range(T):
            torch.mm(w_aug, x_steps[t], out=flat[t])
            for w, o, i, i0 in zip(taps, outs, ins, ins0, strict=True):
                o[t].addmm_(w, i[t - 1] if t else i0)
            steps[t].clamp_(min=0.0)
            if weight_out is not None:
                # The read-out while the state is still in cache.
                torch.addmm(bias_col, weight_out, flat[t], out=y_steps[t])
        ctx.save_for_backward(x_aug, w_aug, kernel, h0, states, weight_out)
        return states if weight_out is None else (states, y)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_states, grad_y=None):
        x_aug, w_aug, kernel, h0, states, weight_out = ctx.saved_tensors
        T, c, n, b = states.shape
        cn, f = c * n, kernel.shape[-1]
        need = ctx.needs_input_grad
        pieces = _pieces(n, f)
        # Adjoint taps (channels transposed, taps reversed) and every view, made once.
        adj = [kernel[:, :, f - 1 - k].t().contiguous() for k, _, _ in pieces]
        # Two contiguous buffers, used in turn: step t's delta is computed in one while
        # the adjoint convolution writes the carry for step t - 1 straight into the
        # other, so the carry is never added in a separate pass. The in-place products
        # write through views of them.
        bufs = [torch.empty_like(h0, memory_format=torch.contiguous_format) for _ in range(2)]
        flat = [x.view(cn, b) for x in bufs]
        v_in = [_views(x, pieces, 2) for x in bufs]
        v_out = [_views(x, pieces, 1) for x in bufs]
        h_in_t = [v.transpose(1, 2).unbind(0) for v in _views(states, pieces, 2)]
        h0_in_t = [v.t() for v in _views(h0, pieces, 2)]
        steps = states.unbind(0)
        h_flat_t = states.view(T, cn, b).transpose(1, 2).unbind(0)
        x_steps = x_aug.unbind(0)
        # Accumulated transposed, (m + 1, c·n): BLAS is several times faster with the
        # long dimension as the output's columns.
        g_w_aug_t = w_aug.new_zeros(w_aug.shape[::-1])
        g_taps = [kernel.new_zeros(c, c) for _ in range(f)]
        g_x = x_aug.new_empty(T, x_aug.shape[1] - 1, b) if need[0] else None
        w_in_t = w_aug[:, :-1].t().contiguous()
        if grad_states is not None:
            g_states = grad_states.unbind(0)
        if grad_y is not None:
            w_out_t = weight_out.t().contiguous()
            g_w_out = weight_out.new_zeros(weight_out.shape)
            g_y = grad_y.contiguous().unbind(0)
        bufs[(T - 1) % 2].zero_()  # no carry into the last step
        for t in range(T - 1, -1, -1):
            cur, nxt = t % 2, (t - 1) % 2
            d, d_flat = bufs[cur], flat[cur]
            # d = carry from step t + 1 (already here) + ∂L/∂h_t from outside, gated.
            if grad_states is not None:
                d.add_(g_states[t])
            if grad_y is not None:
                d_flat.addmm_(w_out_t, g_y[t])
                g_w_out.addmm_(g_y[t], h_flat_t[t])
            # The ReLU gate [h_t > 0], in place: PyTorch's own ReLU backward kernel.
            _relu_backward(d, steps[t], 0.0, grad_input=d)
            g_w_aug_t.addmm_(x_steps[t], d_flat.t())
            for (k, _, _), o, i, i0 in zip(pieces, v_out[cur], h_in_t, h0_in_t, strict=True):
                g_taps[k].addmm_(o, i[t - 1] if t else i0)
            if g_x is not None:
                torch.mm(w_in_t, d_flat, out=g_x[t])
            if t > 0 or need[4]:
                # The unshifted tap covers every row, so it overwrites; the rest add.
                torch.mm(adj[0], v_in[cur][0], out=v_out[nxt][0])
                for w, o, i in zip(adj[1:], v_out[nxt][1:], v_in[cur][1:], strict=True):
                    o.addmm_(w, i)
        carry = bufs[(-1) % 2]
        grads = [g_x, None, None, None, None, None, None]
        if need[1]:
            grads[1] = g_w_aug_t[:-1].t()
        if need[2]:
            grads[2] = g_w_aug_t[-1]
        if need[3]:
            grads[3] = torch.stack(g_taps, dim=-1)
        if need[4]:
            grads[4] = carry
        if grad_y is not None and need[5]:
            grads[5] = g_w_out
        if grad_y is not None and need[6]:
            grads[6] = grad_y.sum((0, 2))
        return tuple(grads)


class WaveRNN(Model):
    r"""Wave-RNN: a ReLU RNN whose recurrence is a circular convolution over a ring.

    .. math::

        h_t = \operatorname{ReLU}\!\left(u \star h_{t-1} + V x_t + b\right), \qquad
        y_t = W^{out} \operatorname{vec}(h_t) + b^{out}
        \quad\text{(or the MLP read-out)},

    with :math:`h_t \in \mathbb R^{c \times n}` (``n_channels`` × ``n_neurons``),
    :math:`u \in \mathbb R^{c\times c\times f}` and :math:`\star` the circular
    convolution along the neuron axis (module docstring); the convolution has a
    bias :math:`\beta \in \mathbb R^c` per channel, and :math:`V, b` map the input
    to every unit. Units are numbered channel-major: unit ``i * n + j`` is neuron
    ``j`` of channel ``i`` (``vec`` above).

    Initialisation (the paper's ablation switches them separately):

    * ``shift_init=True`` ("u-shift-init"): :math:`u_{i,i,:} = (0,\dots,0,1)` and no
      cross-channel taps, so each channel is a ring buffer whose activity moves
      :math:`p = (f-1)/2` neurons per step towards lower indices; all eigenvalues of
      its recurrent matrix lie on the unit circle. Otherwise PyTorch's ``Conv1d``
      default. The convolution bias keeps ``Conv1d``'s default in both cases.
    * ``source_init=True`` ("V-init"): :math:`V = 0,\ b = 0` except that neuron 0 of
      every channel receives every input dimension with weight 1, so inputs are
      written at one site and then travel. Otherwise
      :math:`V_{ij} \sim \mathcal N(0, \sigma_V^2)` with :math:`\sigma_V` =
      ``input_std`` and ``Linear``'s default bias.

    Parameters
    ----------
    n_input, n_output : int
        Input and output sizes.
    n_neurons : int
        Neurons per channel, :math:`n` (the ring length).
    n_channels : int
        Channels, :math:`c` (default 6, the paper's copy-task network).
    kernel_size : int
        Odd number of taps :math:`f` (default 3).
    shift_init, source_init : bool
        The two initialisations above (default True, the paper's wRNN).
    input_std : float
        :math:`\sigma_V` without ``source_init`` (default 0.001).
    readout : {"linear", "mlp"}
        Linear read-out of the flattened state, or Linear(c·n → ``mlp_hidden``), ReLU,
        Linear(→ ``n_output``) (the paper's "wRNN + MLP").
    mlp_hidden : int
        Hidden width of the MLP read-out (default 100).
    dt : float
        Task time per step in ms (default 1: one sequence element per step).
    seed : int, optional
        Seed of the initialisation stream.

    Notes
    -----
    Shapes: inputs (trial, time, n_input) → outputs (trial, time, n_output); rates
    and states (trial, time, c·n). The forward pass equals this reference loop
    (:class:`ReferenceWaveRNN`), only much faster::

        conv = nn.Conv1d(c, c, f, padding=p, padding_mode="circular")
        h = zeros(trial, c, n)
        for t in range(T):
            h = relu(conv(h) + (x[:, t] @ V.T + b).view(trial, c, n))
            y[:, t] = readout(h.flatten(1))

    The hand-written backward pass makes the forward once-differentiable: gradients
    of gradients are not available.

    Examples
    --------
    >>> net = WaveRNN(2, 1, n_neurons=16, n_channels=2, seed=0)
    >>> out = net(torch.zeros(3, 5, 2))
    >>> tuple(out.outputs.shape), tuple(out.states.shape), net.n_hidden
    ((3, 5, 1), (3, 5, 32), 32)
    """

    kind = "wave"

    def __init__(
        self,
        n_input: int,
        n_output: int,
        *,
        n_neurons: int = 100,
        n_channels: int = 6,
        kernel_size: int = 3,
        shift_init: bool = True,
        source_init: bool = True,
        input_std: float = 1e-3,
        readout: str = "linear",
        mlp_hidden: int = 100,
        dt: float = 1.0,
        seed: int | None = None,
    ):
        super().__init__()
        self.n_input = check_int("n_input", n_input)
        self.n_output = check_int("n_output", n_output)
        self.n_neurons = check_int("n_neurons", n_neurons)
        self.n_channels = check_int("n_channels", n_channels)
        f = check_int("kernel_size", kernel_size)
        if f % 2 == 0 or f > self.n_neurons:
            raise ValueError(
                f"kernel_size must be odd and at most n_neurons={self.n_neurons}, got {f!r}"
            )
        self.kernel_size = f
        check_positive("input_std", input_std, allow_zero=True)
        readout = check_choice("readout", readout, READOUTS)
        mlp_hidden = check_int("mlp_hidden", mlp_hidden)
        self.dt = check_positive("dt", dt)
        self.n_hidden = self.n_channels * self.n_neurons
        c, n = self.n_channels, self.n_neurons
        self._config = {
            "n_input": self.n_input,
            "n_output": self.n_output,
            "n_neurons": n,
            "n_channels": c,
            "kernel_size": f,
            "shift_init": bool(shift_init),
            "source_init": bool(source_init),
            "input_std": float(input_std),
            "readout": readout,
            "mlp_hidden": mlp_hidden,
            "dt": self.dt,
            "seed": seed,
        }
        # The default initialisations are PyTorch's; fork its RNG so neurodyn's seed decides.
        seed_int = int(make_rng(seed, "init").integers(0, 2**31 - 1))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed_int)
            conv = nn.Conv1d(c, c, f)
            lin = nn.Linear(self.n_input, self.n_hidden)
            if readout == "linear":
                self.readout = nn.Linear(self.n_hidden, self.n_output)
            else:
                self.readout = nn.Sequential(
                    nn.Linear(self.n_hidden, mlp_hidden),
                    nn.ReLU(),
                    nn.Linear(mlp_hidden, self.n_output),
                )
            self.kernel = nn.Parameter(conv.weight.detach().clone())
            self.kernel_bias = nn.Parameter(conv.bias.detach().clone())
            self.weight_in = nn.Parameter(lin.weight.detach().clone())
            self.bias_in = nn.Parameter(lin.bias.detach().clone())
            with torch.no_grad():
                if shift_init:
                    self.kernel.zero_()
                    idx = torch.arange(c)
                    self.kernel[idx, idx, f - 1] = 1.0
                if source_init:
                    self.weight_in.zero_()
                    self.bias_in.zero_()
                    # Neuron 0 of every channel is the source: unit i*n is (channel i, neuron 0).
                    self.weight_in[torch.arange(c) * n, :] = 1.0
                else:
                    self.weight_in.normal_(0.0, float(input_std))
        self.register_buffer("initial_state", torch.zeros(self.n_hidden))

    # -- structure ----------------------------------------------------------------------
    def unit_coords(self):
        unit = np.arange(self.n_hidden)
        return {"channel": unit // self.n_neurons, "neuron": unit % self.n_neurons}

    def regularization(self, rates):
        return {
            "rate": rates.pow(2).mean(),
            "weight": (self.kernel.pow(2).mean() + self.weight_in.pow(2).mean()) / 2,
        }

    @property
    def total_bias(self) -> torch.Tensor:
        r"""The constant drive of every unit, :math:`b + \beta` (c·n,)."""
        return self.bias_in + self.kernel_bias.repeat_interleave(self.n_neurons)

    def forward(self, inputs, *, initial_state=None, noise=True, generator=None) -> ModelOutput:
        """Run the network.

        Parameters
        ----------
        inputs : Tensor or array, shape (trial, time, n_input)
        initial_state : Tensor, shape (c·n,) or (trial, c·n), optional
            :math:`h_0` (default zeros, as in the paper).
        noise, generator
            Accepted for the common model interface; the wRNN is noiseless.

        Returns
        -------
        ModelOutput
            ``outputs`` (trial, time, n_output); ``rates`` and ``states`` are both
            :math:`h_t`, (trial, time, c·n), recorded after each step. All three are
            views of tensors laid out with the trial axis last (see ``_WaveScan``).
        """
        u = self._prepare_inputs(inputs)
        n_trials, n_steps, _ = u.shape
        c, n = self.n_channels, self.n_neurons
        h0 = self._initial_state(initial_state, n_trials, u.dtype)
        h0 = h0.t().reshape(c, n, n_trials).contiguous()
        x = u.permute(1, 2, 0).contiguous()  # (time, input, trial): see _WaveScan
        args = (x, self.weight_in, self.total_bias, self.kernel, h0)
        if isinstance(self.readout, nn.Linear):
            states, y = _WaveScan.apply(*args, self.readout.weight, self.readout.bias)
            h = states.view(n_steps, c * n, n_trials)
        else:
            h = _WaveScan.apply(*args).view(n_steps, c * n, n_trials)
            y = h
            for layer in self.readout:
                y = (
                    _batched(layer.weight, y, layer.bias)
                    if isinstance(layer, nn.Linear)
                    else layer(y)
                )
        return ModelOutput(y.permute(2, 0, 1), h.permute(2, 0, 1), h.permute(2, 0, 1))

    # -- analysis -----------------------------------------------------------------------
    def circulant(self) -> np.ndarray:
        """The recurrent matrix as a dense (c·n, c·n) block-circulant array (float64)."""
        return circulant_matrix(self.kernel.detach().cpu().numpy(), self.n_neurons)

    def as_dynamics(self, kind=None, dt=None):
        r"""This network as a :class:`~neurodyn.dynamics.wave.WaveDynamics` (a discrete map).

        The map is :math:`h \mapsto \operatorname{ReLU}(u \star h + V x + b)` with copies
        of the current kernel, input weights and total bias (:attr:`total_bias`).

        Parameters
        ----------
        kind : {"map"}, optional
            The system analysed: the network's own map, the only kind (None means it).
        dt : float, optional
            Duration of one step in ms (default: the model's ``dt``); it only labels
            time, the map is the same.
        """
        return WaveDynamics.from_model(self, kind=kind, dt=dt)

    def reference(self) -> ReferenceWaveRNN:
        """The paper's ``Conv1d`` form of this network, with copies of its weights."""
        return ReferenceWaveRNN.from_model(self)


class ReferenceWaveRNN(nn.Module):
    r"""The paper's wRNN as written in its code: ``Conv1d`` with circular padding, stepped in Python.

    The slow reference of :class:`WaveRNN` (same equation, same parameters) and the
    baseline of ``benchmarks/bench_wave_rnn.py``. Build it from a :class:`WaveRNN`
    with :meth:`from_model` so both hold the same weights.

    Parameters
    ----------
    n_input, n_output, n_neurons, n_channels, kernel_size
        As for :class:`WaveRNN`.

    Examples
    --------
    >>> net = WaveRNN(2, 1, n_neurons=8, n_channels=2, seed=0)
    >>> ref = ReferenceWaveRNN.from_model(net)
    >>> x = torch.rand(3, 6, 2)
    >>> torch.allclose(ref(x).outputs, net(x).outputs, atol=1e-6)
    True
    """

    def __init__(self, n_input, n_output, *, n_neurons, n_channels, kernel_size=3):
        super().__init__()
        self.n_neurons, self.n_channels = int(n_neurons), int(n_channels)
        self.conv = nn.Conv1d(
            n_channels,
            n_channels,
            kernel_size,
            padding=(kernel_size - 1) // 2,
            padding_mode="circular",
        )
        self.V = nn.Linear(n_input, n_channels * n_neurons)
        self.readout = nn.Linear(n_channels * n_neurons, n_output)

    @classmethod
    def from_model(cls, model: WaveRNN) -> ReferenceWaveRNN:
        """A reference holding copies of ``model``'s weights (linear read-out only).

        Parameters
        ----------
        model : WaveRNN
            The network to copy (it is not modified); it must have ``readout="linear"``.
            Its kernel and kernel bias become ``conv``'s weight and bias, ``weight_in``
            and ``bias_in`` become ``V``'s, and the read-out is copied as it is.

        Returns
        -------
        ReferenceWaveRNN
            In the dtype of the model's kernel, on PyTorch's default device (move it
            with ``.to(device)`` to run it beside a model on another device).

        Raises
        ------
        ValueError
            If ``model`` is not a :class:`WaveRNN` or has the MLP read-out.
        """
        if not isinstance(model, WaveRNN):
            raise ValueError(f"model must be a WaveRNN, got {type(model).__name__}")
        if not isinstance(model.readout, nn.Linear):
            raise ValueError("model must have readout='linear' to build the reference")
        ref = cls(
            model.n_input,
            model.n_output,
            n_neurons=model.n_neurons,
            n_channels=model.n_channels,
            kernel_size=model.kernel_size,
        )
        with torch.no_grad():
            ref.conv.weight.copy_(model.kernel)
            ref.conv.bias.copy_(model.kernel_bias)
            ref.V.weight.copy_(model.weight_in)
            ref.V.bias.copy_(model.bias_in)
            ref.readout.load_state_dict(model.readout.state_dict())
        return ref.to(model.kernel.dtype)

    def forward(self, inputs: torch.Tensor) -> ModelOutput:
        """Step the convolution over ``inputs`` (trial, time, n_input), as the paper's code does.

        Parameters
        ----------
        inputs : Tensor, shape (trial, time, n_input)
            Input at each step, in the dtype and on the device of the module; the
            state starts at zero, :math:`h_0 = 0`.

        Returns
        -------
        ModelOutput
            ``outputs`` (trial, time, n_output); ``rates`` and ``states`` are both
            :math:`h_t` flattened channel-major, (trial, time, c·n), after each step.
        """
        b, T, _ = inputs.shape
        h = inputs.new_zeros(b, self.n_channels, self.n_neurons)
        hs = []
        for t in range(T):
            h = F.relu(self.conv(h) + self.V(inputs[:, t]).view_as(h))
            hs.append(h.flatten(1))
        states = torch.stack(hs, 1)
        return ModelOutput(self.readout(states), states, states)


def wave_parameter_count(
    n_input: int, n_output: int, n_neurons: int, n_channels: int, kernel_size: int = 3
) -> int:
    """Trainable parameters of a :class:`WaveRNN` with a linear read-out.

    The count is :math:`c^2 f + c` (convolution kernel and per-channel bias)
    :math:`+ cn(m + 1)` (input weights and bias) :math:`+ o(cn + 1)` (read-out).

    Parameters
    ----------
    n_input : int
        Input size :math:`m`.
    n_output : int
        Output size :math:`o`.
    n_neurons : int
        Neurons per channel, :math:`n` (the ring length).
    n_channels : int
        Number of channels, :math:`c`.
    kernel_size : int
        Taps of the circular convolution, :math:`f` (default 3).

    Returns
    -------
    int
        The number of trainable scalars of ``WaveRNN(n_input, n_output,
        n_neurons=n_neurons, n_channels=n_channels, kernel_size=kernel_size)``.

    Examples
    --------
    >>> wave_parameter_count(10, 10, 100, 6)   # the paper's copy network: 12.7k
    12724
    """
    cn = n_channels * n_neurons
    return (
        n_channels * n_channels * kernel_size
        + n_channels
        + cn * (n_input + 1)
        + n_output * (cn + 1)
    )


def wave_rnn_from_hidden(
    n_input: int, n_hidden: int, n_output: int, *, n_channels: int = 6, **kwargs
) -> WaveRNN:
    r"""A :class:`WaveRNN` sized by its total number of units, as ``build_model`` calls it.

    ``n_hidden`` must be a multiple of ``n_channels``; each channel then has
    ``n_hidden // n_channels`` neurons.

    Parameters
    ----------
    n_input : int
        Input size.
    n_hidden : int
        Total number of hidden units, :math:`c \cdot n`; a multiple of ``n_channels``.
    n_output : int
        Output size.
    n_channels : int
        Number of channels :math:`c` (default 6, the paper's copy-task network).
    **kwargs
        Further keyword arguments of :class:`WaveRNN` (``kernel_size``, ``shift_init``,
        ``readout``, ``dt``, ``seed``…).

    Returns
    -------
    WaveRNN
        With ``n_neurons = n_hidden // n_channels``.

    Raises
    ------
    ValueError
        If ``n_hidden`` or ``n_channels`` is not a positive integer, or ``n_hidden``
        is not a multiple of ``n_channels``.

    Examples
    --------
    >>> wave_rnn_from_hidden(10, 600, 9, n_channels=6).n_neurons
    100
    """
    n_hidden = check_int("n_hidden", n_hidden)
    n_channels = check_int("n_channels", n_channels)
    if n_hidden % n_channels:
        raise ValueError(
            f"n_hidden={n_hidden} must be a multiple of n_channels={n_channels} "
            "(the wave-RNN has n_channels rings of equal length)"
        )
    return WaveRNN(
        n_input, n_output, n_neurons=n_hidden // n_channels, n_channels=n_channels, **kwargs
    )
