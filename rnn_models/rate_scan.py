r"""The rate network's recurrence over a whole trial, with a hand-written backward pass.

:class:`~neurodyn.rnn_models.RateRNN` steps

.. math::

    x_{t} = x_{t-1} + \alpha \odot \left(p_{t} - x_{t-1}\right), \qquad
    p_{t} = W\phi(x_{t-1}) + d_{t}, \qquad t = 1, \dots, T,

where the drive :math:`d_t` (input projection and bias, and the recurrent noise
:math:`s \odot \eta_t`) is known before the recurrence starts. Under autograd every
step records a handful of nodes and the backward pass replays them one by one; at
the sizes people train (N of 64 to 256, 64 trials) the time goes to that per-step
overhead, not to the one (trial, N) @ (N, N) product a step needs. :class:`RateScan`
runs the whole recurrence as one autograd node:

* the forward pass records nothing: per step one product and one pass over the
  step's rows (the lerp, φ, and :math:`p_t - x_{t-1}` where the gradient of α needs
  it), written into preallocated (trial, time, unit) tensors;
* the backward pass is one reverse sweep with one product and one pass per step,
  accumulating the gradients of α and of the noise scale as it goes; the gradient
  of W is formed after the sweep as one (N, trial·time) @ (trial·time, N) product.

Two implementations of the same sweeps:

* **compiled** (``neurodyn._C``, ``csrc/cpu/rate_scan_cpu.cpp``): the loops in C++ on
  raw pointers, the products on SciPy's BLAS (one thread), the elementwise work in
  one pass per step with a vectorised float32 tanh (within 2 ulp of the correctly
  rounded value; float64 uses ``std::tanh``). It runs on the CPU for float32 and
  float64, for tanh, ReLU and the rectified tanh, where one step's product is too
  small for a second thread to pay (:math:`2 \cdot \text{trials} \cdot N^2 <
  2\,` :data:`~neurodyn.threads.GRAIN` flops, N < 500 at 64 trials).
* **cuda** (``neurodyn._C_cuda``, ``csrc/cuda/rate_scan_cuda.cu``, built with
  ``NEURODYN_CUDA=1``): the same update on a GPU, one launch per step with one thread
  per (trial, unit) forming its entry of the product in a fixed order. Asked for by
  name only (``implementation="cuda"``): ``"auto"`` keeps the torch scan on a GPU
  until the two have been timed against each other there.
* **torch**: the same sweeps as PyTorch operators written into slices of the
  preallocated tensors (per step ``addmm``, ``lerp`` and φ, the reference step's own
  operators in its order, so its states are the reference's to the last bit where
  PyTorch rounds φ alike on strided memory). It runs everywhere else: on a GPU
  (cuBLAS does the products), for softplus, for other dtypes and for large products
  (which PyTorch spreads over its thread pool).

Measured in one run (N = 128, batch 64, 100 steps, one thread, forward + backward +
Adam as in ``benchmarks/bench_train.py``, relative to ``torch.nn.RNN`` + ``Linear``):
the reference step 1.21 (plain) and 1.58 (Dale + trainable τ + noise); the torch scan
0.79 and 1.18; the compiled scan 0.72 and 0.92. The compiled scan wins by removing
the per-operator dispatch (about 2.5 µs each, ten per step) and PyTorch's float32
tanh (2.7 ns per value against 0.3); the products cost the same in both (SciPy's
OpenBLAS and PyTorch's MKL run a (64, 128) @ (128, 128) product in 25 µs). Of what
the constrained network adds, most is drawing its recurrent noise (one
(trial, time, N) ``torch.randn``, 3 ms here), which the scan must leave as it is so
that a seed gives the same noise.
"""

from __future__ import annotations

import functools

import torch

from .._validation import check_choice
from ..backends import available_backends, get_module
from ..dynamics.nonlinearities import PHI_CODES
from ..threads import GRAIN, one_blas_thread

__all__ = ["IMPLEMENTATIONS", "SCAN_NONLINEARITIES", "RateScan", "rate_scan", "scan_implementation"]

#: The nonlinearities φ the scan implements (the rate network's four).
SCAN_NONLINEARITIES = ("tanh", "relu", "softplus", "rectified_tanh")

#: The scan's implementations (module docstring); ``"auto"`` picks one per call.
IMPLEMENTATIONS = ("compiled", "cuda", "torch")

#: The nonlinearities of the compiled scan (by their kernel codes).
_COMPILED_PHI = ("tanh", "relu", "rectified_tanh")

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
    (N, N) (``W[i, j]`` is j → i); ``alpha`` (N,); the name of φ and the
    implementation (``"compiled"`` or ``"torch"``, see :func:`scan_implementation`).
    The step's drive is :math:`d_t` = ``drive`` + ``noise_scale`` ⊙ ``eta``, formed
    step by step. Outputs: the states :math:`x_t` and the rates
    :math:`\phi(x_t)`, both (trial, time, N), t = 1..T.

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

    Examples
    --------
    The scan gives the states of the Euler loop
    :math:`x_t = (1 - \alpha) x_{t-1} + \alpha(W\phi(x_{t-1}) + d_t)`, and its
    hand-written gradient passes :func:`torch.autograd.gradcheck`:

    >>> g = torch.Generator().manual_seed(0)
    >>> drive = torch.randn(2, 5, 3, generator=g, dtype=torch.float64)  # trial, time, N
    >>> x0 = torch.zeros(2, 3, dtype=torch.float64)
    >>> W = torch.randn(3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    >>> alpha = torch.full((3,), 0.2, dtype=torch.float64)
    >>> how = scan_implementation(drive, "tanh")
    >>> xs, rates = RateScan.apply(drive, None, None, x0, W, alpha, "tanh", how)
    >>> x, loop = x0, []
    >>> for t in range(5):
    ...     x = (1 - alpha) * x + alpha * (torch.tanh(x) @ W.T + drive[:, t])
    ...     loop.append(x)
    >>> bool(torch.allclose(xs, torch.stack(loop, 1))), bool(torch.allclose(rates, torch.tanh(xs)))
    (True, True)
    >>> torch.autograd.gradcheck(
    ...     lambda W: RateScan.apply(drive, None, None, x0, W, alpha, "tanh", how), (W,))
    True
    """

    @staticmethod
    def forward(ctx, drive, eta, noise_scale, x0, W, alpha, phi_name, implementation):
        ctx.set_materialize_grads(False)
        need_alpha = ctx.needs_input_grad[5]
        if implementation != "torch":
            W, alpha = W.contiguous(), alpha.contiguous()
        states, rates, r0, rise = _sweep_forward(
            implementation, drive, eta, noise_scale, x0, W, alpha, phi_name, need_alpha
        )
        ctx.phi_name, ctx.implementation = phi_name, implementation
        # p_t - x_{t-1} (for the gradient of α) is held on ctx, not saved: the backward
        # sweep overwrites it with δ step by step, so no second (trial, time, N) tensor
        # is allocated. The inputs are saved to make it again should a retained graph
        # be differentiated a second time.
        ctx.rise = rise
        kept = (drive, noise_scale) if need_alpha else (None, None)
        ctx.save_for_backward(eta, x0, r0, W, alpha, states, rates, *kept)
        return states, rates

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_states, grad_rates):
        eta, x0, r0, W, alpha, states, rates, drive, noise_scale = ctx.saved_tensors
        need = ctx.needs_input_grad
        rise, ctx.rise = ctx.rise, None
        if need[5] and rise is None:  # a retained graph's second backward pass
            rise = _sweep_forward(ctx.implementation, drive, eta, noise_scale, x0, W, alpha,
                                  ctx.phi_name, True)[3]  # fmt: skip
        sweep = _BACKWARD[ctx.implementation]
        saved = (eta, x0, r0, W, alpha, states, rates, rise)
        delta, g_scale, g_x0, g_alpha = sweep(ctx.phi_name, need, grad_states, grad_rates, saved)
        g_W = _sum_with_previous(delta, rates, r0) if need[4] else None
        return delta if need[0] else None, None, g_scale, g_x0, g_W, g_alpha, None, None


def _sweep_forward(implementation, drive, eta, noise_scale, x0, W, alpha, phi_name, need_alpha):
    """States, rates, φ(x0) and (with ``need_alpha``, else None) the rises p_t - x_{t-1}."""
    n, T, m = drive.shape
    out = (drive.new_empty(n, T, m), drive.new_empty(n, T, m))
    out += (drive.new_empty(n, T, m) if need_alpha else None,)
    run = _FORWARD[implementation]
    r0 = run(drive, eta, noise_scale, x0, W, alpha, phi_name, out)
    return out[0], out[1], r0, out[2]


def _forward_torch(drive, eta, noise_scale, x0, W, alpha, phi_name, out) -> torch.Tensor:
    """The forward sweep as PyTorch operators into ``out`` = (states, rates, rise); φ(x0)."""
    states, rates, rise = out
    n, T, m = drive.shape
    r0 = _phi(phi_name, x0)
    W_T, p = W.t(), drive.new_empty(n, m)
    # Per-step views made in one call each (indexing inside the loop costs more).
    d_steps, x_steps, r_steps = drive.unbind(1), states.unbind(1), rates.unbind(1)
    e_steps = eta.unbind(1) if eta is not None else None
    rise_steps = rise.unbind(1) if rise is not None else None
    x, r = x0, r0
    for t in range(T):
        d = d_steps[t]
        if e_steps is not None:
            # drive + (scale * eta), in the reference's order of rounding.
            d = torch.mul(noise_scale, e_steps[t], out=p).add_(d)
        # The reference step's operators: lerp(x, addmm(d, φ(x), Wᵀ), α).
        torch.addmm(d, r, W_T, out=p)
        if rise_steps is not None:
            torch.sub(p, x, out=rise_steps[t])
        torch.lerp(x, p, alpha, out=x_steps[t])
        _phi_into(phi_name, x_steps[t], r_steps[t])
        x, r = x_steps[t], r_steps[t]
    return r0


def _backward_torch(phi_name, need, grad_states, grad_rates, saved):
    """The backward sweep as PyTorch operators: δ (all steps), ∂L/∂s, ∂L/∂x0, ∂L/∂α."""
    eta, x0, r0, W, alpha, states, rates, rise = saved
    n, T, m = states.shape
    keep = 1.0 - alpha
    # δ_t overwrites p_t - x_{t-1} once the sum for α has read it.
    delta = rise if rise is not None else states.new_empty(n, T, m)
    lam, carry, slope = (states.new_zeros(n, m) for _ in range(3))
    sum_alpha = states.new_zeros(n, m) if need[5] else None
    sum_scale = states.new_zeros(n, m) if need[2] else None
    outside = _Outside(phi_name, states, rates, grad_states, grad_rates)
    outside.add_to(lam, T - 1, slope)
    d_steps = delta.unbind(1)
    e_steps = eta.unbind(1) if need[2] else None
    rise_steps = rise.unbind(1) if need[5] else None
    for t in range(T - 1, -1, -1):
        if need[5]:
            sum_alpha.addcmul_(lam, rise_steps[t])
        torch.mul(lam, alpha, out=d_steps[t])
        if need[2]:
            sum_scale.addcmul_(d_steps[t], e_steps[t])
        if t == 0:
            break
        # λ_{t-1} = (1 - α) λ_t + φ'(x_{t-1}) ⊙ (δ_t W) + g_{t-1}
        outside.carry(d_steps[t], W, t - 1, carry)
        lam.mul_(keep)
        outside.add_to(lam, t - 1, slope, carry)
    g_x0 = None
    if need[3]:
        carry = torch.mm(d_steps[0], W)
        g_x0 = lam.mul_(keep).addcmul_(_phi_prime(phi_name, x0, r0), carry)
    g_scale = sum_scale.sum(0) if need[2] else None
    g_alpha = sum_alpha.sum(0) if need[5] else None
    return delta, g_scale, g_x0, g_alpha


def _numpy(t):
    """A NumPy view of a CPU tensor (None stays None)."""
    return None if t is None else t.detach().numpy()


def _forward_compiled(drive, eta, noise_scale, x0, W, alpha, phi_name, out) -> torch.Tensor:
    """The forward sweep in ``neurodyn._C`` into ``out`` = (states, rates, rise); φ(x0)."""
    states, rates, rise = out
    r0, p = torch.empty_like(x0), torch.empty_like(x0)
    args = (drive, eta, noise_scale, x0, W, alpha, states, rates, rise, r0, p)
    # One BLAS thread: the per-step products are below the work where a second pays
    # (the condition of scan_implementation), and a second thread on a busy core stalls.
    with one_blas_thread():
        get_module("cpp").rate_scan_forward(PHI_CODES[phi_name], *map(_numpy, args))
    return r0


def _backward_buffers(need, grad_states, grad_rates, saved, scratch):
    """The arguments of a compiled backward sweep (CPU or CUDA, the same order) and its
    outputs δ, ∂L/∂s, ∂L/∂x0, ∂L/∂α; ``scratch`` is the kernel's own work buffer."""
    eta, x0, r0, W, alpha, states, rates, rise = saved
    n, _, m = states.shape
    # δ_t overwrites p_t - x_{t-1} once the sum for α has read it.
    delta = rise if rise is not None else torch.empty_like(states)
    g_alpha = alpha.new_empty(m) if need[5] else None
    g_scale = alpha.new_empty(m) if need[2] else None
    g_x0 = x0.new_empty(n, m) if need[3] else None
    grad_states = grad_states.contiguous() if grad_states is not None else None
    grad_rates = grad_rates.contiguous() if grad_rates is not None else None
    args = (grad_states, grad_rates, states, rates, rise if need[5] else None,
            eta if need[2] else None, x0, r0, W, alpha, delta, g_alpha, g_scale, g_x0,
            torch.empty_like(x0), scratch)  # fmt: skip
    return args, (delta, g_scale, g_x0, g_alpha)


def _backward_compiled(phi_name, need, grad_states, grad_rates, saved):
    """The backward sweep in ``neurodyn._C``: δ (all steps), ∂L/∂s, ∂L/∂x0, ∂L/∂α."""
    x0 = saved[1]
    args, out = _backward_buffers(need, grad_states, grad_rates, saved, torch.empty_like(x0))
    with one_blas_thread():
        get_module("cpp").rate_scan_backward(PHI_CODES[phi_name], *map(_numpy, args))
    return out


def _pointers(*tensors) -> tuple[int, ...]:
    """Device addresses of CUDA tensors (0 for None), for ``neurodyn._C_cuda``."""
    return tuple(0 if t is None else t.data_ptr() for t in tensors)


def _cuda_call(name, phi_name, like, shape, tensors):
    n, T, m = shape
    stream = torch.cuda.current_stream(like.device).cuda_stream
    getattr(get_module("cuda"), name)(
        PHI_CODES[phi_name], like.dtype == torch.float64, n, T, m, _pointers(*tensors),
        like.device.index, stream,
    )  # fmt: skip


def _forward_cuda(drive, eta, noise_scale, x0, W, alpha, phi_name, out) -> torch.Tensor:
    """The forward sweep in ``neurodyn._C_cuda`` into ``out`` = (states, rates, rise); φ(x0)."""
    states, rates, rise = out
    r0 = torch.empty_like(x0)
    args = (drive, eta, noise_scale, x0, W, alpha, states, rates, rise, r0)
    _cuda_call("rate_scan_forward", phi_name, drive, drive.shape, args)
    return r0


def _backward_cuda(phi_name, need, grad_states, grad_rates, saved):
    """The backward sweep in ``neurodyn._C_cuda``: δ (all steps), ∂L/∂s, ∂L/∂x0, ∂L/∂α."""
    x0, states = saved[1], saved[5]
    n, _, m = states.shape
    args, out = _backward_buffers(need, grad_states, grad_rates, saved, x0.new_empty(2, n, m))
    _cuda_call("rate_scan_backward", phi_name, states, states.shape, args)
    return out


_FORWARD = {"compiled": _forward_compiled, "cuda": _forward_cuda, "torch": _forward_torch}
_BACKWARD = {"compiled": _backward_compiled, "cuda": _backward_cuda, "torch": _backward_torch}


@functools.cache
def _cuda_available() -> bool:
    """Whether ``neurodyn._C_cuda`` has the scan and sees a GPU."""
    return "cuda" in available_backends() and hasattr(get_module("cuda"), "rate_scan_forward")


@functools.cache
def _compiled_available() -> bool:
    """Whether ``neurodyn._C`` has the scan and SciPy's BLAS is there for its products."""
    if "cpp" not in available_backends():
        return False
    if not hasattr(get_module("cpp"), "rate_scan_forward"):
        return False
    try:
        import scipy.linalg.cython_blas  # noqa: F401  (the kernel's gemm comes from here)
    except ImportError:
        return False
    return True


def scan_implementation(drive: torch.Tensor, phi_name: str) -> str:
    r"""The implementation :func:`rate_scan` uses for ``drive`` (trial, time, N) and φ.

    ``"compiled"`` on the CPU for float32 and float64, tanh, ReLU and the rectified
    tanh, where one step's product is smaller than the work that pays for a second
    thread (:math:`2 \cdot \text{trials} \cdot N^2 < 2\,` :data:`~neurodyn.threads.GRAIN`)
    and ``neurodyn._C`` was built; ``"torch"`` otherwise.

    Parameters
    ----------
    drive : Tensor (trial, time, N)
        The input drive of the scan; its device, dtype and sizes decide.
    phi_name : str
        The nonlinearity φ (``"tanh"``, ``"relu"``, ``"softplus"``, ``"rectified_tanh"``).

    Returns
    -------
    str
        ``"compiled"`` or ``"torch"``.

    Examples
    --------
    >>> scan_implementation(torch.zeros(4, 10, 8), "softplus")
    'torch'
    """
    n, _, m = drive.shape
    small = 2.0 * n * m * m < 2.0 * GRAIN
    return "compiled" if small and _compiled_runs(drive, phi_name) else "torch"


def _cuda_runs(drive: torch.Tensor, phi_name: str) -> bool:
    """Whether the CUDA scan can run ``drive`` with φ (device, dtype, φ, build)."""
    return (
        drive.device.type == "cuda"
        and drive.dtype in (torch.float32, torch.float64)
        and phi_name in _COMPILED_PHI
        and _cuda_available()
    )


def _compiled_runs(drive: torch.Tensor, phi_name: str) -> bool:
    """Whether the compiled scan can run ``drive`` with φ (device, dtype, φ, build)."""
    return (
        drive.device.type == "cpu"
        and drive.dtype in (torch.float32, torch.float64)
        and phi_name in _COMPILED_PHI
        and _compiled_available()
    )


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


def _check_shapes(drive, x0, W, alpha, eta, noise_scale) -> None:
    """ValueError naming the argument whose shape does not fit the scan's."""
    if drive.ndim != 3 or 0 in drive.shape:
        raise ValueError(
            f"drive has shape {tuple(drive.shape)}; expected (trial, time, N) with at least "
            "one trial, one step and one unit"
        )
    n, T, m = drive.shape
    expected = {"x0": (x0, (n, m)), "W": (W, (m, m)), "alpha": (alpha, (m,))}
    if (eta is None) != (noise_scale is None):
        raise ValueError("eta and noise_scale must be given together (or neither)")
    if eta is not None:
        expected.update(eta=(eta, (n, T, m)), noise_scale=(noise_scale, (m,)))
    for name, (tensor, shape) in expected.items():
        if tuple(tensor.shape) != shape:
            raise ValueError(f"{name} has shape {tuple(tensor.shape)}; expected {shape}")


def rate_scan(
    drive: torch.Tensor,
    x0: torch.Tensor,
    W: torch.Tensor,
    alpha: torch.Tensor,
    phi_name: str,
    *,
    eta: torch.Tensor | None = None,
    noise_scale: torch.Tensor | None = None,
    implementation: str = "auto",
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
    implementation : {"auto", "compiled", "cuda", "torch"}
        Which sweeps run (module docstring); ``"auto"`` (default) asks
        :func:`scan_implementation`.

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
    _check_shapes(drive, x0, W, alpha, eta, noise_scale)
    check_choice("implementation", implementation, ("auto", *IMPLEMENTATIONS))
    drive, x0 = drive.contiguous(), x0.contiguous()
    if eta is not None:
        eta = eta.contiguous()
    if implementation == "auto":
        implementation = scan_implementation(drive, phi_name)
    elif implementation == "cuda" and not _cuda_runs(drive, phi_name):
        raise ValueError(
            "implementation='cuda' needs a float32 or float64 CUDA tensor, phi in "
            f"{_COMPILED_PHI}, and neurodyn._C_cuda built (NEURODYN_CUDA=1); got "
            f"{drive.dtype} on {drive.device} with phi={phi_name!r}; use 'auto' or 'torch'"
        )
    elif implementation == "compiled" and not _compiled_runs(drive, phi_name):
        raise ValueError(
            "implementation='compiled' needs a float32 or float64 CPU tensor, phi in "
            f"{_COMPILED_PHI}, and neurodyn._C built with SciPy present; got "
            f"{drive.dtype} on {drive.device} with phi={phi_name!r}; use 'auto' or 'torch'"
        )
    return RateScan.apply(drive, eta, noise_scale, x0, W, alpha, phi_name, implementation)
