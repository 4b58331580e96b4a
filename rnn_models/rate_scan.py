r"""The rate network's recurrence over a whole trial, with a hand-written backward pass.

:class:`~neurodyn.rnn_models.RateRNN` steps

.. math::

    x_{t} = x_{t-1} + \alpha \odot \left(p_{t} - x_{t-1}\right), \qquad
    p_{t} = W\phi(x_{t-1}) + d_{t}, \qquad t = 1, \dots, T,

where the drive :math:`d_t` (input projection, bias and both noises) is computed for
all steps at once before the recurrence. Under autograd every step records a handful
of nodes, and the backward pass replays them one by one; the time goes to per-step
overhead, not arithmetic (at N = 128 a step is one (64, 128) @ (128, 128) product).
:class:`RateScan` removes that overhead:

* the forward pass runs without recording anything: per step one ``addmm`` writes
  :math:`p_t`, one ``lerp`` writes :math:`x_t` and one call of φ writes
  :math:`\phi(x_t)`, each into a slice of a preallocated (trial, time, unit) tensor
  (the same operators in the same order as the reference step, so the states are the
  reference's to the last bit);
* the backward pass is one reverse sweep with one product and two fused
  multiply-adds per step, and every parameter gradient is formed after the sweep
  from whole (trial·time, unit) matrices: one product for :math:`\partial L/\partial W`,
  one reduction for :math:`\partial L/\partial\alpha`.

A hand-written scan was chosen over C++ on raw pointers by measurement: per step the
product dominates, and PyTorch already calls the machine's BLAS for it (MKL where
torch ships it), while the few elementwise operators left cost microseconds each;
the scan runs on every device and dtype PyTorch supports.
"""

from __future__ import annotations

import torch

__all__ = ["SCAN_NONLINEARITIES", "RateScan", "rate_scan"]

#: The nonlinearities φ the scan implements (the rate network's four).
SCAN_NONLINEARITIES = ("tanh", "relu", "softplus", "rectified_tanh")

_softplus_out = torch.ops.aten.softplus.out
_softplus_backward_out = torch.ops.aten.softplus_backward.grad_input


def _phi_into(name: str, x: torch.Tensor, out: torch.Tensor) -> None:
    """φ(x) written into ``out`` with PyTorch's own operator for each φ (as the model's)."""
    if name == "tanh":
        torch.tanh(x, out=out)
    elif name == "relu":
        torch.clamp_min(x, 0.0, out=out)
    elif name == "softplus":
        _softplus_out(x, 1.0, 20.0, out=out)
    else:  # rectified_tanh: tanh(relu(x))
        torch.clamp_min(x, 0.0, out=out)
        out.tanh_()


def _phi(name: str, x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    _phi_into(name, x, out)
    return out


def _phi_prime_into(name: str, x: torch.Tensor, r: torch.Tensor, out: torch.Tensor) -> None:
    r"""φ'(x), given x and r = φ(x), written into ``out``, as PyTorch's autograd takes it.

    tanh: :math:`1 - r^2`; ReLU: :math:`[x > 0]` (0 at the kink); softplus:
    PyTorch's ``softplus_backward`` (:math:`\sigma(x)`, exactly 1 above its threshold
    of 20, where the forward returns x); rectified tanh: :math:`[x > 0](1 - r^2)`.
    """
    if name in ("tanh", "rectified_tanh"):
        torch.addcmul(_one(r), r, r, value=-1.0, out=out)
        if name == "rectified_tanh":
            out.mul_(x > 0)
    elif name == "relu":
        torch.gt(x, 0.0, out=out)
    else:
        _softplus_backward_out(_one(x), x, 1.0, 20.0, grad_input=out)


def _phi_prime(name: str, x: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    _phi_prime_into(name, x, r, out)
    return out


def _one(x: torch.Tensor) -> torch.Tensor:
    """A one of ``x``'s dtype and device, broadcast to its shape (no memory)."""
    return x.new_ones(()).expand_as(x)


def _sum_with_previous(a: torch.Tensor, b: torch.Tensor, first: torch.Tensor) -> torch.Tensor:
    r""":math:`\sum_{n,t} a_{n,t}^\top b_{n,t-1}` (an (N, N) matrix) with :math:`b_{n,-1}` = ``first``.

    ``a`` and ``b`` are contiguous (trial, time, unit). Read as (trial·time, unit)
    matrices, row ``k`` of ``a`` against row ``k - 1`` of ``b`` is one product of two
    offset views (no copy); it pairs each trial's first step with the previous
    trial's last state, so those ``trial - 1`` products are taken out again and
    every trial's first step is paired with ``first`` instead.
    """
    n, T, m = a.shape
    a_flat, b_flat = a.view(n * T, m), b.view(n * T, m)
    out = torch.mm(a_flat[1:].t(), b_flat[:-1])
    if n > 1:
        out.addmm_(a[1:, 0].t(), b[:-1, -1], alpha=-1.0)
    return out.addmm_(a[:, 0].t(), first)


class RateScan(torch.autograd.Function):
    r"""States and rates of the rate recurrence for all steps, with a one-sweep backward pass.

    Inputs: ``drive`` (trial, time, N); the recurrent noise as ``eta`` (trial, time,
    N) and its scale ``noise_scale`` (N,), or both None; ``x0`` (trial, N); ``W``
    (N, N) (``W[i, j]`` is j → i); ``alpha`` (N,) and the name of φ. The step's drive
    is :math:`d_t` = ``drive`` + ``noise_scale`` ⊙ ``eta``, formed step by step (the
    reference's operators, so the sum rounds the same). Outputs: the states
    :math:`x_t` and the rates :math:`\phi(x_t)`, both (trial, time, N), t = 1..T.

    Backward, with :math:`g_t = \partial L/\partial x_t + \phi'(x_t)\odot
    \partial L/\partial\phi(x_t)` the gradient arriving at :math:`x_t` from outside
    the recurrence and :math:`\lambda_t` the total gradient of :math:`x_t`,

    .. math::

        \lambda_T = g_T, \qquad
        \lambda_{t-1} = g_{t-1} + (1 - \alpha)\odot\lambda_t
            + \phi'(x_{t-1}) \odot \left(\delta_t W\right), \qquad
        \delta_t = \alpha\odot\lambda_t = \frac{\partial L}{\partial d_t},

        \frac{\partial L}{\partial W} = \sum_{t,n} \delta_t^\top \phi(x_{t-1}),
        \qquad
        \frac{\partial L}{\partial \alpha} = \sum_{t,n} \lambda_t \odot (p_t - x_{t-1}),
        \qquad
        \frac{\partial L}{\partial s} = \sum_{t,n} \delta_t \odot \eta_t,

    with :math:`s` the noise scale, and :math:`\partial L/\partial x_0` the
    recursion's :math:`\lambda_0` without :math:`g_0`. The sweep keeps
    :math:`\lambda` in a (trial, N) buffer and does every per-step piece (the
    gradient from outside, :math:`\delta_t`, the sums for α and s) while step t's
    rows are in cache; only :math:`\partial L/\partial W` is formed afterwards, as
    one product of (trial·time, N) matrices.
    """

    @staticmethod
    def forward(ctx, drive, eta, noise_scale, x0, W, alpha, phi_name):
        ctx.set_materialize_grads(False)
        need_alpha = ctx.needs_input_grad[5]
        n, T, m = drive.shape
        states, rates = drive.new_empty(n, T, m), drive.new_empty(n, T, m)
        # p_t - x_{t-1}, kept only for the gradient of α.
        rise = drive.new_empty(n, T, m) if need_alpha else None
        r0 = _phi(phi_name, x0)
        W_T, p = W.t(), drive.new_empty(n, m)
        # Per-step views made in one call each (indexing inside the loop costs more).
        d_steps, x_steps, r_steps = drive.unbind(1), states.unbind(1), rates.unbind(1)
        e_steps = eta.unbind(1) if eta is not None else None
        rise_steps = rise.unbind(1) if need_alpha else None
        x, r = x0, r0
        for t in range(T):
            d = d_steps[t]
            if e_steps is not None:
                # drive + (scale * eta), in the reference's order of rounding.
                d = torch.mul(noise_scale, e_steps[t], out=p).add_(d)
            # The reference step's operators: lerp(x, addmm(d, φ(x), Wᵀ), α).
            torch.addmm(d, r, W_T, out=p)
            if need_alpha:
                torch.sub(p, x, out=rise_steps[t])
            torch.lerp(x, p, alpha, out=x_steps[t])
            _phi_into(phi_name, x_steps[t], r_steps[t])
            x, r = x_steps[t], r_steps[t]
        ctx.phi_name = phi_name
        ctx.save_for_backward(eta, x0, r0, W, alpha, states, rates, rise)
        return states, rates

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_states, grad_rates):
        eta, x0, r0, W, alpha, states, rates, rise = ctx.saved_tensors
        need = ctx.needs_input_grad
        n, T, m = states.shape
        keep = 1.0 - alpha
        delta = states.new_empty(n, T, m)
        lam, carry, slope = (states.new_zeros(n, m) for _ in range(3))
        sum_alpha = states.new_zeros(n, m) if need[5] else None
        sum_scale = states.new_zeros(n, m) if need[2] else None
        outside = _Outside(ctx.phi_name, states, rates, grad_states, grad_rates)
        outside.add_to(lam, T - 1, slope)
        d_steps = delta.unbind(1)
        e_steps = eta.unbind(1) if need[2] else None
        rise_steps = rise.unbind(1) if need[5] else None
        for t in range(T - 1, -1, -1):
            torch.mul(lam, alpha, out=d_steps[t])
            if need[5]:
                sum_alpha.addcmul_(lam, rise_steps[t])
            if need[2]:
                sum_scale.addcmul_(d_steps[t], e_steps[t])
            if t == 0:
                break
            # λ_{t-1} = (1 - α) λ_t + φ'(x_{t-1}) ⊙ (δ_t W) + g_{t-1}
            outside.carry(d_steps[t], W, t - 1, carry)
            lam.mul_(keep)
            outside.add_to(lam, t - 1, slope, carry)
        grads = [None] * 7
        grads[0] = delta if need[0] else None
        if need[2]:
            grads[2] = sum_scale.sum(0)
        if need[3]:
            carry = torch.mm(d_steps[0], W)
            grads[3] = lam.mul_(keep).addcmul_(_phi_prime(ctx.phi_name, x0, r0), carry)
        if need[4]:
            grads[4] = _sum_with_previous(delta, rates, r0)
        if need[5]:
            grads[5] = sum_alpha.sum(0)
        return tuple(grads)


class _Outside:
    r"""Adds :math:`g_t` (plus the recurrence's :math:`\delta_{t+1}W`) into λ, one step at a time.

    With ``carry`` = :math:`\delta_{t+1} W + \partial L/\partial\phi(x_t)` (just
    the latter at the last step), adds :math:`\phi'(x_t)\odot\text{carry} +
    \partial L/\partial x_t`, computing :math:`\phi'(x_t)` into ``slope``.
    """

    def __init__(self, phi_name, states, rates, grad_states, grad_rates):
        self.phi_name = phi_name
        self.x, self.r = states.unbind(1), rates.unbind(1)
        self.gx = grad_states.unbind(1) if grad_states is not None else None
        self.gr = grad_rates.unbind(1) if grad_rates is not None else None

    def carry(self, delta, W, t, out):
        r"""``out`` = :math:`\delta_{t+1} W + \partial L/\partial\phi(x_t)` (one product)."""
        if self.gr is None:
            return torch.mm(delta, W, out=out)
        return torch.addmm(self.gr[t], delta, W, out=out)

    def add_to(self, lam, t, slope, carry=None):
        if carry is None and self.gr is not None:
            carry = self.gr[t]
        if carry is not None:
            _phi_prime_into(self.phi_name, self.x[t], self.r[t], slope)
            lam.addcmul_(slope, carry)
        if self.gx is not None:
            lam.add_(self.gx[t])


def rate_scan(
    drive: torch.Tensor,
    x0: torch.Tensor,
    W: torch.Tensor,
    alpha: torch.Tensor,
    phi_name: str,
    *,
    eta: torch.Tensor | None = None,
    noise_scale: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""States and rates of :math:`x_t = x_{t-1} + \alpha\odot(W\phi(x_{t-1}) + d_t - x_{t-1})`.

    Parameters
    ----------
    drive : Tensor, shape (trial, time, N)
        :math:`d_t`, everything the recurrence adds besides :math:`W\phi(x)`.
    x0 : Tensor, shape (trial, N)
        Initial states.
    W : Tensor, shape (N, N)
        Recurrent weights, ``W[i, j]`` from unit j to unit i.
    alpha : Tensor, shape (N,)
        Euler leaks :math:`\Delta t/\tau`.
    phi_name : {"tanh", "relu", "softplus", "rectified_tanh"}
        The rate function φ.
    eta : Tensor, shape (trial, time, N), optional
        Recurrent noise :math:`\eta_t`; :math:`d_t` is then ``drive`` +
        ``noise_scale`` ⊙ ``eta`` (added step by step, so no (trial, time, N) sum
        is formed).
    noise_scale : Tensor, shape (N,), optional
        The scale :math:`s` of ``eta`` (given with ``eta``; differentiable).

    Returns
    -------
    states, rates : Tensor, shape (trial, time, N)
        :math:`x_t` and :math:`\phi(x_t)` for t = 1..T, differentiable (once) in
        every input through :class:`RateScan`'s hand-written backward pass.

    Examples
    --------
    >>> d = torch.zeros(2, 4, 3); x0 = torch.ones(2, 3)
    >>> x, r = rate_scan(d, x0, torch.zeros(3, 3), torch.full((3,), 0.5), "tanh")
    >>> x[0, :, 0].tolist()     # pure decay towards 0 at half the distance per step
    [0.5, 0.25, 0.125, 0.0625]
    """
    if (eta is None) != (noise_scale is None):
        raise ValueError("eta and noise_scale must be given together (or neither)")
    if eta is not None:
        eta = eta.contiguous()
    return RateScan.apply(drive.contiguous(), eta, noise_scale, x0.contiguous(), W, alpha, phi_name)
