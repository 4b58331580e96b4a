r"""PyTorch recurrent cells as discrete maps, with analytic Jacobians.

Covered analytically: ``torch.nn.RNN`` (tanh and relu), ``GRU`` and ``LSTM`` with one
unidirectional layer, their ``*Cell`` versions and neurodyn's
:class:`~neurodyn.rnn_models.TorchRNN`. In PyTorch's notation (gates stacked in the
weight matrices in the order shown):

.. math::

    \text{RNN: } h' = \phi(W_{ih}u + b_{ih} + W_{hh}h + b_{hh})

    \text{GRU: } r = \sigma(\cdot),\; z = \sigma(\cdot),\;
    n = \tanh(W_{in}u + b_{in} + r\odot(W_{hn}h + b_{hn})),\;
    h' = (1-z)\odot n + z\odot h

    \text{LSTM: } i, f = \sigma(\cdot),\; g = \tanh(\cdot),\; o = \sigma(\cdot),\;
    c' = f\odot c + i\odot g,\; h' = o\odot\tanh c'

whose state is :math:`[h, c]` (size ``2 * hidden_size``). The Jacobians follow by the
chain rule; for example the GRU's is

.. math::

    \frac{\partial h'}{\partial h} = \operatorname{diag}(1-z)\,\frac{\partial n}{\partial h}
      + \operatorname{diag}(h-n)\,\frac{\partial z}{\partial h} + \operatorname{diag}(z),
    \quad
    \frac{\partial n}{\partial h} = \operatorname{diag}(1-n^2)\left(\operatorname{diag}(r)W_{hn}
      + \operatorname{diag}(W_{hn}h + b_{hn})\frac{\partial r}{\partial h}\right).

Any other module (or function) of the shape ``cell(u, h) -> h`` is handled by
:class:`AutogradDynamics`, whose Jacobians come from ``torch.func`` (``vmap`` of
``jacrev``), with a per-output loop for modules ``vmap`` cannot batch. Weights are
copied to float64; the user's module is never modified.
"""

from __future__ import annotations

import contextlib

import numpy as np

from .._validation import check_choice, check_int, check_positive
from .nonlinearities import get_nonlinearity
from .ops import TORCH
from .protocol import Dynamics, KernelSpec

__all__ = ["AutogradDynamics", "TorchCellDynamics"]

_MODEL_CODES = {"rnn": 1, "gru": 2, "lstm": 3}


def _outer_scale(v, m):
    """``diag(v) @ m`` for a batch of vectors v (n, a) and one matrix m (a, b)."""
    return v[:, :, None] * m[None, :, :]


def _diag(ops, v):
    """Batch of diagonal matrices from vectors (n, d)."""
    return v[:, :, None] * ops.eye(v.shape[1], v)[None]


class TorchCellDynamics(Dynamics):
    """A one-layer PyTorch RNN, GRU or LSTM as a map, from its weight matrices.

    Parameters
    ----------
    cell : {"rnn", "gru", "lstm"}
    weight_ih : array (g·h, m)
    weight_hh : array (g·h, h)
        PyTorch's stacked gate weights (g = 1, 3, 4).
    bias_ih, bias_hh : array (g·h,) or None
    nonlinearity : {"tanh", "relu"}
        For ``cell="rnn"``.
    dt : float, optional
        Duration of one step in ms; without it, time is counted in steps.

    Examples
    --------
    >>> import torch
    >>> dyn = TorchCellDynamics.from_module(torch.nn.GRU(2, 8))
    >>> dyn.n_state, dyn.kind
    (8, 'map')
    """

    kind = "map"

    def __init__(
        self,
        cell,
        *,
        weight_ih,
        weight_hh,
        bias_ih=None,
        bias_hh=None,
        nonlinearity="tanh",
        dt=None,
        device="cpu",
    ):
        self.cell = check_choice("cell", cell, _MODEL_CODES)
        self.phi = get_nonlinearity(nonlinearity, choices=("tanh", "relu"))
        self.nonlinearity = nonlinearity
        gates = {"rnn": 1, "gru": 3, "lstm": 4}[self.cell]
        w_hh = np.asarray(weight_hh, dtype=np.float64)
        w_ih = np.asarray(weight_ih, dtype=np.float64)
        h = w_hh.shape[1]
        if w_hh.shape != (gates * h, h) or w_ih.ndim != 2 or w_ih.shape[0] != gates * h:
            raise ValueError(
                f"weight_hh {w_hh.shape} and weight_ih {w_ih.shape} do not fit a {cell} cell; "
                f"expected ({gates}·h, h) and ({gates}·h, n_input)"
            )
        zeros = np.zeros(gates * h)
        self.w_ih, self.w_hh = w_ih, w_hh
        self.b_ih = zeros if bias_ih is None else np.asarray(bias_ih, dtype=np.float64)
        self.b_hh = zeros if bias_hh is None else np.asarray(bias_hh, dtype=np.float64)
        self.hidden = h
        self.n_state = 2 * h if self.cell == "lstm" else h
        self.n_input = w_ih.shape[1]
        self.state_dim = "state" if self.cell == "lstm" else "unit"
        if dt is None:
            self.dt, self.time_unit = 1.0, "step"
        else:
            self.dt, self.time_unit = check_positive("dt", dt), "ms"
        self.device = device

    @classmethod
    def from_module(cls, module, *, dt=None) -> TorchCellDynamics:
        """Build from ``nn.RNN/GRU/LSTM``, ``nn.RNNCell/GRUCell/LSTMCell`` or a TorchRNN.

        Parameters
        ----------
        module : torch.nn.Module
            A one-layer, unidirectional ``nn.RNN``, ``nn.GRU`` or ``nn.LSTM`` without
            projection, one of their ``Cell`` modules, or a
            :class:`~neurodyn.rnn_models.TorchRNN` (its cell, with its ``dt``). Its
            weights are copied as float64; the adapter's torch path runs on its device.
        dt : float, optional
            Duration of one step in ms (default: a TorchRNN's ``dt``; for a bare
            PyTorch module time is counted in steps, ``time_unit == "step"``).
        """
        import torch
        from torch import nn

        if hasattr(module, "core") and hasattr(module, "cell") and hasattr(module, "dt"):
            return cls.from_module(module.core, dt=module.dt if dt is None else dt)
        kinds = {
            nn.RNN: "rnn", nn.GRU: "gru", nn.LSTM: "lstm",
            nn.RNNCell: "rnn", nn.GRUCell: "gru", nn.LSTMCell: "lstm",
        }  # fmt: skip
        cell = next((k for t, k in kinds.items() if type(module) is t), None)
        if cell is None:
            raise ValueError(
                f"{type(module).__name__} is not one of torch.nn.RNN/GRU/LSTM or their Cells; "
                "use AutogradDynamics for other modules"
            )
        suffix = ""
        if isinstance(module, (nn.RNN, nn.GRU, nn.LSTM)):
            if module.num_layers != 1 or module.bidirectional or getattr(module, "proj_size", 0):
                raise ValueError(
                    f"{type(module).__name__} has num_layers={module.num_layers}, "
                    f"bidirectional={module.bidirectional}, proj_size={getattr(module, 'proj_size', 0)}; "
                    "the analytic adapter takes one unidirectional layer without projection "
                    "(wrap the stacked step as cell(u, h) -> h and use AutogradDynamics)"
                )
            suffix = "_l0"

        floats = (torch.float16, torch.float32, torch.float64)

        def get(name):
            p = getattr(module, name + suffix, None)
            if p is None:
                return None
            t = p.detach()
            if t.device.type != "cpu" or t.dtype not in floats:
                t = t.cpu().double()
            # NumPy converts the float32 view of a CPU tensor to a float64 copy without
            # a torch allocation and dispatch (the adapter is built on every call).
            return np.array(t.numpy(), dtype=np.float64)

        return cls(
            cell,
            weight_ih=get("weight_ih"),
            weight_hh=get("weight_hh"),
            bias_ih=get("bias_ih"),
            bias_hh=get("bias_hh"),
            nonlinearity=getattr(module, "nonlinearity", "tanh"),
            dt=dt,
            device=module.weight_hh_l0.device if suffix else module.weight_hh.device,
        )

    def state_coords(self):
        if self.cell != "lstm":
            return {}
        return {"component": np.array(["h"] * self.hidden + ["c"] * self.hidden)}

    def _p(self, ops, like):
        return self._on(ops, like, (self.w_ih, self.w_hh, self.b_ih, self.b_hh))

    def _prepare(self, ops, u):
        w_ih, _, b_ih, b_hh = self._p(ops, u)
        # GRU keeps b_hh apart: its n-gate bias sits inside r ⊙ (W_hn h + b_hn).
        return u @ w_ih.T + b_ih + (0.0 if self.cell == "gru" else b_hh)

    # -- the three cells: returns what residual, Jacobian and input Jacobian share ------
    def _gates(self, ops, x, c):
        _, w_hh, _, b_hh = self._p(ops, x)
        h = self.hidden
        if self.cell == "rnn":
            return self.phi.value_and_derivative(ops, x @ w_hh.T + c)
        if self.cell == "gru":
            gh = x @ w_hh.T + b_hh
            r = ops.sigmoid(c[:, :h] + gh[:, :h])
            z = ops.sigmoid(c[:, h : 2 * h] + gh[:, h : 2 * h])
            n = ops.tanh(c[:, 2 * h :] + r * gh[:, 2 * h :])
            return r, z, n, gh[:, 2 * h :]
        hs, cs = x[:, :h], x[:, h:]
        g_all = hs @ w_hh.T + c
        i = ops.sigmoid(g_all[:, :h])
        f = ops.sigmoid(g_all[:, h : 2 * h])
        g = ops.tanh(g_all[:, 2 * h : 3 * h])
        o = ops.sigmoid(g_all[:, 3 * h :])
        c_new = f * cs + i * g
        return i, f, g, o, c_new, ops.tanh(c_new)

    def _residual(self, ops, x, c):
        gates = self._gates(ops, x, c)
        if self.cell == "rnn":
            return gates[0] - x
        if self.cell == "gru":
            _, z, n, _ = gates
            return (1.0 - z) * (n - x)
        h = self.hidden
        _, _, _, o, c_new, tc = gates
        return ops.cat([o * tc - x[:, :h], c_new - x[:, h:]], axis=1)

    def _derivatives(self, ops, x, c, w_h, hidden):
        """∂(new state)/∂(v) where the gates depend on v through ``w_h`` (stacked gates).

        With ``w_h = W_hh`` (``hidden=True``) this is the Jacobian's dependence through
        h; with ``w_h = W_ih`` (``hidden=False``) it is the input Jacobian.
        """
        h = self.hidden
        gates = self._gates(ops, x, c)
        if self.cell == "rnn":
            return _outer_scale(gates[1], w_h)
        if self.cell == "gru":
            r, z, n, a = gates
            dr = _outer_scale(r * (1 - r), w_h[:h])
            dz = _outer_scale(z * (1 - z), w_h[h : 2 * h])
            # Through h: dn = diag(1-n²)(diag(r) W_hn + diag(a) dr), with a = W_hn h + b_hn;
            # through u the n-gate weights are not gated by r: diag(1-n²)(W_in + diag(a) dr).
            w_n = w_h[None, 2 * h :] * (r[:, :, None] if hidden else 1.0)
            dn = (1 - n * n)[:, :, None] * (w_n + a[:, :, None] * dr)
            return (1 - z)[:, :, None] * dn + (x[:, :h] - n)[:, :, None] * dz
        i, f, g, o, _, tc = gates
        cs = x[:, h:]
        di = _outer_scale(i * (1 - i), w_h[:h])
        df = _outer_scale(f * (1 - f), w_h[h : 2 * h])
        dg = _outer_scale(1 - g * g, w_h[2 * h : 3 * h])
        do = _outer_scale(o * (1 - o), w_h[3 * h :])
        dc = cs[:, :, None] * df + g[:, :, None] * di + i[:, :, None] * dg
        dh = tc[:, :, None] * do + (o * (1 - tc * tc))[:, :, None] * dc
        return dh, dc, gates

    def _residual_jacobian(self, ops, x, c):
        _, w_hh, _, _ = self._p(ops, x)
        r = self._residual(ops, x, c)
        eye = ops.eye(self.n_state, x)[None]
        if self.cell == "rnn":
            return r, self._derivatives(ops, x, c, w_hh, True) - eye
        if self.cell == "gru":
            _, z, _, _ = self._gates(ops, x, c)
            return r, self._derivatives(ops, x, c, w_hh, True) + _diag(ops, z) - eye
        dh, dc, gates = self._derivatives(ops, x, c, w_hh, True)
        _, f, _, o, _, tc = gates
        # ∂c'/∂c = diag(f) and ∂h'/∂c = diag(o (1 - tanh²c') f).
        left = ops.cat([dh, dc], axis=1)
        right = ops.cat([_diag(ops, o * (1 - tc * tc) * f), _diag(ops, f)], axis=1)
        return r, ops.cat([left, right], axis=2) - eye

    def _input_jacobian(self, ops, x, c):
        w_ih, _, _, _ = self._p(ops, x)
        if self.cell == "lstm":
            dh, dc, _ = self._derivatives(ops, x, c, w_ih, False)
            return ops.cat([dh, dc], axis=1)
        return self._derivatives(ops, x, c, w_ih, False)

    def _vjp(self, ops, x, c, v):
        # Aᵀv without forming A: O(d·g·h) per state instead of O(d²·g·h).
        _, w_hh, _, _ = self._p(ops, x)
        h = self.hidden
        gates = self._gates(ops, x, c)
        if self.cell == "rnn":
            return (gates[1] * v) @ w_hh - v
        if self.cell == "gru":
            r, z, n, a = gates
            alpha = v * (1 - z) * (1 - n * n)
            return (
                (alpha * r) @ w_hh[2 * h :]
                + (alpha * a * r * (1 - r)) @ w_hh[:h]
                + (v * (x - n) * z * (1 - z)) @ w_hh[h : 2 * h]
                + v * (z - 1)
            )
        i, f, g, o, _, tc = gates
        vh, vc = v[:, :h], v[:, h:]
        beta = vh * o * (1 - tc * tc) + vc
        dh = (
            (vh * tc * o * (1 - o)) @ w_hh[3 * h :]
            + (beta * x[:, h:] * f * (1 - f)) @ w_hh[h : 2 * h]
            + (beta * g * i * (1 - i)) @ w_hh[:h]
            + (beta * i * (1 - g * g)) @ w_hh[2 * h : 3 * h]
            - vh
        )
        return ops.cat([dh, beta * f - vc], axis=1)

    def kernel_spec(self) -> KernelSpec:
        h = self.hidden
        bias = self.b_hh.copy() if self.cell == "gru" else np.zeros(self.w_hh.shape[0])
        return KernelSpec(
            _MODEL_CODES[self.cell], self.phi.kernel_code, self.w_hh, bias, np.ones(h)
        )

    def state_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        r"""Every state the cell reaches from a state in the box stays there:
        :math:`h' = \tanh(\cdot) \in [-1, 1]` (tanh RNN), :math:`h' = \max(\cdot, 0) \ge 0`
        (ReLU RNN), :math:`h' = (1-z)\,n + z\,h \in [-1, 1]` (GRU, a convex combination of
        :math:`n \in [-1, 1]` and h) and :math:`h' = o \tanh c' \in [-1, 1]` (LSTM, whose
        cell state c is unbounded)."""
        h, inf = self.hidden, np.inf
        if self.cell == "rnn":
            return np.full(h, self.phi.lower), np.full(h, self.phi.upper)
        lower, upper = -np.ones(self.n_state), np.ones(self.n_state)
        if self.cell == "lstm":
            lower[h:], upper[h:] = -inf, inf
        return lower, upper


class AutogradDynamics(Dynamics):
    """Any torch function or module ``cell(u, h) -> h`` (or ``-> dh/dt``), via autograd.

    Parameters
    ----------
    cell : callable or torch.nn.Module
        Called with batched tensors ``u`` (n, n_input) and ``h`` (n, n_state); returns
        the next state (``kind="map"``) or the velocity (``kind="ode"``), shape (n, n_state).
        A module's parameters and buffers are used as float64 copies (through
        ``torch.func.functional_call``), so the module itself is left untouched. A plain
        function is called with float64 tensors as it is: wrap float32 layers it closes
        over in a module instead.
    n_state, n_input : int
    kind : {"map", "ode"}
    dt : float, optional
        Step duration (map) or Euler step (ODE) in ms; without it time is in steps.
    device : optional
        Where to evaluate (default: the module's parameters' device, else CPU).

    Examples
    --------
    >>> import torch
    >>> dyn = AutogradDynamics(lambda u, h: torch.tanh(2.0 * h) + u, n_state=1, n_input=1)
    >>> float(dyn.jacobian(np.zeros(1), [0.0])[0, 0])
    2.0
    """

    def __init__(self, cell, *, n_state, n_input, kind="map", dt=None, device=None):
        import torch

        self.kind = check_choice("kind", kind, ("map", "ode"))
        self.n_state = check_int("n_state", n_state)
        self.n_input = check_int("n_input", n_input, low=0)
        if dt is None:
            self.dt, self.time_unit = 1.0, "step"
        else:
            self.dt, self.time_unit = check_positive("dt", dt), "ms"
        self._cell = cell
        self._params = None
        if isinstance(cell, torch.nn.Module):
            tensors = dict(cell.named_parameters())
            tensors.update(dict(cell.named_buffers()))
            self._params = {
                k: v.detach().to(torch.float64) if v.is_floating_point() else v.detach()
                for k, v in tensors.items()
            }
            if device is None and tensors:
                device = next(iter(tensors.values())).device
        self.device = torch.device(device if device is not None else "cpu")
        self._vmap_ok = True

    def _call(self, u, h):
        import torch

        if self._params is None:
            return self._cell(u, h)
        return torch.func.functional_call(self._cell, self._params, (u, h))

    def _map_out(self, u, h):
        out = self._call(u, h)
        return out - h if self.kind == "map" else out

    def _torch_in(self, ops, x, c):
        if ops.name == "torch":
            return x, c, False
        t = TORCH().torch
        return (
            t.as_tensor(x, dtype=t.float64, device=self.device),
            t.as_tensor(c, dtype=t.float64, device=self.device),
            True,
        )

    def _residual(self, ops, x, c):
        import torch

        xt, ut, back = self._torch_in(ops, x, c)
        with torch.no_grad() if back else contextlib.nullcontext():
            r = self._map_out(ut, xt)
        return r.detach().cpu().numpy() if back else r

    def _jac(self, xt, ut, argnum):
        import torch

        def single(u1, h1):
            return self._map_out(u1[None], h1[None])[0]

        if self._vmap_ok:
            try:
                return torch.func.vmap(torch.func.jacrev(single, argnums=argnum))(ut, xt)
            except Exception:  # an op without a batching rule: fall back to a loop
                self._vmap_ok = False
        # One backward pass per output component: F summed over the batch has the
        # per-state Jacobian rows as its gradients because states do not interact.
        var = (ut if argnum == 0 else xt).detach().clone().requires_grad_(True)
        args = (var, xt) if argnum == 0 else (ut, var)
        with torch.enable_grad():
            out = self._map_out(*args)
            rows = [
                torch.autograd.grad(out[:, k].sum(), var, retain_graph=True, allow_unused=True)[0]
                for k in range(self.n_state)
            ]
        rows = [torch.zeros_like(var) if g is None else g for g in rows]
        return torch.stack(rows, dim=1)

    def _residual_jacobian(self, ops, x, c):
        xt, ut, back = self._torch_in(ops, x, c)
        r = self._map_out(ut, xt).detach()
        a = self._jac(xt, ut, 1).detach()
        if back:
            return r.cpu().numpy(), a.cpu().numpy()
        return r, a

    def _input_jacobian(self, ops, x, c):
        xt, ut, back = self._torch_in(ops, x, c)
        if self.n_input == 0:
            b = xt.new_zeros((xt.shape[0], self.n_state, 0))
        else:
            b = self._jac(xt, ut, 0).detach()
        return b.cpu().numpy() if back else b
