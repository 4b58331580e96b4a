r"""The timescale network's recurrence over a whole trial, with a hand-written backward pass.

:class:`~neurodyn.rnn_models.TimescaleRNN` steps, with leak :math:`a = 1/\hat\tau`
(per neuron), :math:`c = 1 - a` and the drive :math:`d_t = U x_t + b` known before the
recurrence starts, one of

.. math::

    \text{default:}\quad h_t = \phi\bigl(c \odot h_{t-1} + \tilde W h_{t-1}
        + \tilde d_t\bigr), \qquad \tilde W = \operatorname{diag}(a) W,\;
        \tilde d_t = a \odot d_t,

    \text{mod:}\quad h_t = c \odot h_{t-1} + a \odot q_t, \qquad
        q_t = \phi(W h_{t-1} + d_t),

for t = 1..T. Both are the same loop as the rate network's
(:mod:`~neurodyn.rnn_models.rate_scan`: one product per step, the leak elementwise),
but the leak acts on :math:`h = \phi(\cdot)` itself, outside φ (default) or beside it
(mod), so the rate scan's update (:math:`x_t = x_{t-1} + \alpha(W\phi(x_{t-1}) + d_t -
x_{t-1})`, the leak on the state inside φ) is not theirs: :class:`TimescaleScan` is
its own autograd node, sharing the rate scan's φ operators, shape checks and the one
product that forms the weight gradient. It runs the whole recurrence at once:

* the forward pass records nothing: per step the reference step's own operators
  (``addcmul``, ``addmm``, φ; mod: ``addmm``, φ, ``mul``, ``addcmul``) in its order,
  written into preallocated (trial, time, unit) tensors, so its states are the
  reference's to the last bit where the product rounds alike on strided rows;
* the backward pass is one reverse sweep with one product and three to six
  elementwise operators per step; φ' is taken from φ's output (all four φ have it),
  so nothing but the states (and, for mod, :math:`q_t`) is kept;
* the weight gradient is formed after the sweep as one (N, trial·time) @
  (trial·time, N) product, where the reference step forms one (N, trial) @ (trial, N)
  product per step.

The scan is PyTorch operators only, so it runs on every device and dtype (cuBLAS does
the products on a GPU). It has no compiled twin (C++ on raw pointers, as the rate
scan has), because the products leave such a sweep little to win. Measured with
``benchmarks/bench_timescale_train.py`` (one thread, forward + backward + Adam, in one
run): at the paper's sizes (500 neurons, batch 256, 75 steps) an iteration is bound by
three (256, 500) @ (500, 500) products per step (the step, the backward recursion and
the weight gradient), which the reference step needs alike: the scan takes 0.93 (default
form) and 1.00 (mod) of the reference step's time. At the CPU-scale reproduction's sizes
(64 neurons, batch 64, 59 heads, 50 steps) it takes 0.84 of it; the recurrence is then
43% of an iteration's CPU time, the read-out of 118 channels at every step and Adam
most of the rest, so even a sweep as fast as the rate scan's compiled one (1.6 times the
PyTorch sweeps at this size) would make an iteration only 1.17 times faster.
"""

from __future__ import annotations

import torch

from .._validation import check_choice
from ..dynamics.nonlinearities import LEAKY_SLOPE, TIMESCALE_NONLINEARITIES
from .rate_scan import _phi_into, _sum_with_previous, check_scan_shapes

__all__ = ["FORMS", "TimescaleScan", "timescale_scan"]

#: The two forms of the timescale network (where φ sits; see the module docstring).
FORMS = ("default", "mod")

_leaky_relu_backward_out = torch.ops.aten.leaky_relu_backward.grad_input
_threshold_backward_out = torch.ops.aten.threshold_backward.grad_input
_tanh_backward_out = torch.ops.aten.tanh_backward.grad_input
_sigmoid_backward_out = torch.ops.aten.sigmoid_backward.grad_input


def _phi_backward_into(name: str, grad: torch.Tensor, value: torch.Tensor, out) -> None:
    r""":math:`\phi'(z) \odot` ``grad`` into ``out``, from ``value`` = :math:`\phi(z)` alone.

    Each of the timescale network's φ has its derivative as a function of its value,
    PyTorch's own backward formula for it: leaky ReLU :math:`[\phi > 0] + a[\phi \le
    0]` (the sign of φ is that of z, a > 0), ReLU :math:`[\phi > 0]` (0 at the kink, as
    autograd), tanh :math:`1 - \phi^2`, sigmoid :math:`\phi(1 - \phi)`.
    """
    if name == "leaky_relu":
        _leaky_relu_backward_out(grad, value, LEAKY_SLOPE, True, grad_input=out)
    elif name == "relu":
        _threshold_backward_out(grad, value, 0.0, grad_input=out)
    elif name == "tanh":
        _tanh_backward_out(grad, value, grad_input=out)
    else:
        _sigmoid_backward_out(grad, value, grad_input=out)


class TimescaleScan(torch.autograd.Function):
    r"""States of the timescale recurrence for all steps, with a one-sweep backward pass.

    Inputs: ``drive`` (trial, time, N), :math:`\tilde d` (default) or :math:`d`
    (mod); ``h0`` (trial, N); ``W`` (N, N), :math:`\tilde W` (default) or :math:`W`
    (mod), ``W[i, j]`` from j to i; ``keep`` :math:`c` (N,); ``gain`` :math:`a` (N,)
    for mod, None for default; the form and the name of φ. Output: the states
    :math:`h_t`, (trial, time, N), t = 1..T.

    Backward, with :math:`g_t = \partial L/\partial h_t` from outside the recurrence
    and :math:`\mu_t` the total gradient of :math:`h_t` (:math:`\mu_T = g_T`):

    .. math::

        \text{default:}\quad \lambda_t = \phi'\odot\mu_t
            = \frac{\partial L}{\partial\tilde d_t}, \qquad
        \mu_{t-1} = g_{t-1} + c\odot\lambda_t + \lambda_t\tilde W, \qquad
        \frac{\partial L}{\partial\tilde W} = \sum_{t,n}\lambda_t^\top h_{t-1}, \qquad
        \frac{\partial L}{\partial c} = \sum_{t,n}\lambda_t\odot h_{t-1};

        \text{mod:}\quad \delta_t = \phi'\odot a\odot\mu_t
            = \frac{\partial L}{\partial d_t}, \qquad
        \mu_{t-1} = g_{t-1} + c\odot\mu_t + \delta_t W, \qquad
        \frac{\partial L}{\partial W} = \sum_{t,n}\delta_t^\top h_{t-1}, \qquad
        \frac{\partial L}{\partial c} = \sum_{t,n}\mu_t\odot h_{t-1}, \qquad
        \frac{\partial L}{\partial a} = \sum_{t,n}\mu_t\odot q_t;

    :math:`\partial L/\partial h_0` is the recursion's :math:`\mu_0` without
    :math:`g_0`. φ' is evaluated at step t's pre-activation, from its value
    (:math:`h_t`, default; :math:`q_t`, mod).
    """

    @staticmethod
    def forward(ctx, drive, h0, W, keep, gain, form, phi_name):
        ctx.set_materialize_grads(False)
        states, values = _forward(form, phi_name, drive, h0, W, keep, gain)
        ctx.form, ctx.phi_name = form, phi_name
        ctx.save_for_backward(h0, W, keep, gain, states, values)
        return states

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_states):
        h0, W, keep, gain, states, values = ctx.saved_tensors
        need = ctx.needs_input_grad
        if grad_states is None:
            return (None,) * 7
        sweep = _Sweep(ctx.form, ctx.phi_name, h0, W, keep, gain, states, values, need)
        g_drive, g_h0, g_keep, g_gain = sweep.run(grad_states)
        g_W = _sum_with_previous(g_drive, states, h0) if need[2] else None
        return g_drive if need[0] else None, g_h0, g_W, g_keep, g_gain, None, None


def _forward(form, phi_name, drive, h0, W, keep, gain):
    """States (trial, time, N) and, for mod, the values :math:`q_t` of φ (else None)."""
    n, T, m = drive.shape
    states = drive.new_empty(n, T, m)
    W_T, p = W.t(), drive.new_empty(n, m)
    # Per-step views made in one call each (indexing inside the loop costs more).
    d_steps, h_steps = drive.unbind(1), states.unbind(1)
    h = h0
    if form == "default":
        for t in range(T):
            # The reference step: φ(addmm(addcmul(d̃_t, c, h), h, W̃ᵀ)).
            torch.addcmul(d_steps[t], keep, h, out=p)
            torch.addmm(p, h, W_T, out=p)
            _phi_into(phi_name, p, h_steps[t])
            h = h_steps[t]
        return states, None
    values = drive.new_empty(n, T, m)
    q_steps = values.unbind(1)
    for t in range(T):
        # The reference step: addcmul(c * h, a, φ(addmm(d_t, h, Wᵀ))).
        torch.addmm(d_steps[t], h, W_T, out=p)
        _phi_into(phi_name, p, q_steps[t])
        torch.mul(keep, h, out=p)
        torch.addcmul(p, gain, q_steps[t], out=h_steps[t])
        h = h_steps[t]
    return states, values


class _Sweep:
    """The reverse sweep of :class:`TimescaleScan` (its equations), one step at a time."""

    def __init__(self, form, phi_name, h0, W, keep, gain, states, values, need):
        self.form, self.phi_name, self.need = form, phi_name, need
        self.h0, self.W, self.keep, self.gain = h0, W, keep, gain
        self.h = states.unbind(1)
        self.q = values.unbind(1) if values is not None else None
        n, _, m = states.shape
        self.sum_keep = states.new_zeros(n, m) if need[3] else None
        self.sum_gain = states.new_zeros(n, m) if need[4] else None
        self.scratch = states.new_empty(n, m) if form == "mod" else None

    def emit(self, t, mu, out):
        r"""Step t's gradient of the drive into ``out``, the sums for c and a; returns
        what c multiplies on the way back (:math:`\lambda_t`, default; :math:`\mu_t`, mod)."""
        h_prev = self.h[t - 1] if t else self.h0
        if self.form == "default":
            _phi_backward_into(self.phi_name, mu, self.h[t], out)
            if self.sum_keep is not None:
                self.sum_keep.addcmul_(out, h_prev)
            return out
        torch.mul(mu, self.gain, out=self.scratch)
        _phi_backward_into(self.phi_name, self.scratch, self.q[t], out)
        if self.sum_gain is not None:
            self.sum_gain.addcmul_(mu, self.q[t])
        if self.sum_keep is not None:
            self.sum_keep.addcmul_(mu, h_prev)
        return mu

    def run(self, grad_states):
        """∂L/∂drive (trial, time, N), ∂L/∂h0, ∂L/∂c, ∂L/∂a (each None where not needed)."""
        n, T, m = grad_states.shape
        g_drive = grad_states.new_empty(n, T, m)
        g_steps, out_steps = grad_states.unbind(1), g_drive.unbind(1)
        mu = g_steps[T - 1].clone(memory_format=torch.contiguous_format)
        carry = torch.empty_like(mu)
        for t in range(T - 1, -1, -1):
            leak = self.emit(t, mu, out_steps[t])
            if t == 0 and not self.need[1]:
                break
            # μ_{t-1} = g_{t-1} + c ⊙ leak + (∂L/∂drive_t) W
            if t > 0:
                torch.addmm(g_steps[t - 1], out_steps[t], self.W, out=carry)
            else:
                torch.mm(out_steps[t], self.W, out=carry)
            carry.addcmul_(self.keep, leak)
            mu, carry = carry, mu
        g_keep = self.sum_keep.sum(0) if self.sum_keep is not None else None
        g_gain = self.sum_gain.sum(0) if self.sum_gain is not None else None
        return g_drive, mu if self.need[1] else None, g_keep, g_gain


def timescale_scan(
    drive: torch.Tensor,
    h0: torch.Tensor,
    W: torch.Tensor,
    alpha: torch.Tensor,
    phi_name: str,
    *,
    form: str = "default",
) -> torch.Tensor:
    r"""States of the timescale recurrence (module docstring) for every step.

    Parameters
    ----------
    drive : Tensor, shape (trial, time, N)
        :math:`d_t = U x_t + b`, everything the recurrence adds besides :math:`Wh`.
    h0 : Tensor, shape (trial, N)
        Initial states.
    W : Tensor, shape (N, N)
        Recurrent weights, ``W[i, j]`` from unit j to unit i.
    alpha : Tensor, shape (N,)
        Leaks :math:`a = 1/\hat\tau` (:math:`\Delta t/\tau`).
    phi_name : {"leaky_relu", "relu", "tanh", "sigmoid"}
        φ (the leaky ReLU with slope :data:`~neurodyn.dynamics.nonlinearities.LEAKY_SLOPE`).
    form : {"default", "mod"}
        φ outside the leak (default) or inside it (mod).

    Returns
    -------
    Tensor, shape (trial, time, N)
        :math:`h_t` for t = 1..T, differentiable (once) in every input through
        :class:`TimescaleScan`'s hand-written backward pass.

    Examples
    --------
    >>> d = torch.zeros(1, 3, 2); h0 = torch.ones(1, 2)
    >>> h = timescale_scan(d, h0, torch.zeros(2, 2), torch.full((2,), 0.5), "relu", form="mod")
    >>> h[0, :, 0].tolist()     # pure decay: half of h is kept per step
    [0.5, 0.25, 0.125]
    """
    check_scan_shapes(drive, h0=h0, W=W, alpha=alpha)
    check_choice("form", form, FORMS)
    check_choice("phi_name", phi_name, TIMESCALE_NONLINEARITIES)
    drive, h0 = drive.contiguous(), h0.contiguous()
    keep = 1.0 - alpha
    if form == "default":
        # a folded into the drive and W's rows, as the reference step folds it.
        scaled_W = alpha[:, None] * W
        return TimescaleScan.apply(alpha * drive, h0, scaled_W, keep, None, form, phi_name)
    return TimescaleScan.apply(drive, h0, W, keep, alpha, form, phi_name)
