"""The continuous-time rate RNN with biological constraints."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import (
    check_choice,
    check_finite,
    check_fraction,
    check_int,
    check_per_unit,
    check_positive,
)
from ..dynamics.nonlinearities import NONLINEARITIES as NONLINEARITY_TABLE
from ..dynamics.nonlinearities import RATE_NONLINEARITIES
from ..dynamics.rate import RateDynamics
from ..seeding import make_rng
from .base import Model, ModelOutput
from .rate_scan import rate_scan

__all__ = ["NONLINEARITIES", "RateParameters", "RateRNN", "run_rate_network"]


#: Firing-rate functions φ by name (torch functions of the nonlinearity table).
NONLINEARITIES = {name: NONLINEARITY_TABLE[name].torch_function() for name in RATE_NONLINEARITIES}


@dataclass(frozen=True)
class _Connectivity:
    """Dale signs per presynaptic unit and the 0/1 connectivity masks of a RateRNN."""

    sign: np.ndarray  # (n_hidden,) +1 excitatory, -1 inhibitory
    input: np.ndarray  # (n_hidden, n_input)
    recurrent: np.ndarray  # (n_hidden, n_hidden)
    output: np.ndarray  # (n_output, n_hidden)


class RateRNN(Model):
    r"""Continuous-time rate network with Dale's law and per-neuron time constants.

    .. math::

        \tau_i \frac{dx_i}{dt} = -x_i + \sum_j W_{ij}\,\phi(x_j) + \sum_k W^{in}_{ik} u_k + b_i
            + \text{noise}, \qquad y = W^{out}\phi(x) + b^{out},

    discretised by the Euler method with :math:`\alpha_i = \Delta t/\tau_i`:

    .. math::

        x_{t+1} = (1-\alpha)\odot x_t + \alpha\odot\left(W\phi(x_t)
            + W^{in}\left(u_t + \tfrac{\sigma_{in}}{\sqrt{\Delta t}}\xi_t\right) + b\right)
            + \sqrt{2\alpha}\,\sigma_{rec}\,\eta_t ,

    with :math:`\xi_t, \eta_t \sim \mathcal N(0, I)`. The noise scalings make the
    statistics independent of :math:`\Delta t`: the recurrent noise gives a
    stationary standard deviation :math:`\sigma_{rec}` (exactly
    :math:`\sigma_{rec}/\sqrt{1-\alpha/2}` per unit of a leaky integrator), and the
    input noise integrates to a variance :math:`\sigma_{in}^2 T` over a duration
    :math:`T` in ms.

    **Time constants** are per neuron, :math:`\tau_i = \tau_{min} + e^{\theta_i}`, so
    :math:`\tau_i > \tau_{min} \ge \Delta t` holds however :math:`\theta` is trained, and
    an optimiser step changes :math:`\tau_i - \tau_{min}` by a fraction of itself — the
    same relative speed for a 20 ms and a 2 s time constant.
    With ``train_tau=False`` they are a fixed buffer.

    **Dale's law** is a re-parameterisation: :math:`W = |\tilde W| \odot M \operatorname{diag}(s)`
    with :math:`s_j = +1` for the first ``round(e_fraction * n_hidden)`` (excitatory)
    units and :math:`-1` for the rest, so every effective weight leaving an E unit is
    :math:`\ge 0` and every weight leaving an I unit is :math:`\le 0` whatever the
    optimiser does. At initialisation the inhibitory weights onto each neuron are
    scaled to cancel its excitatory weights (E/I balance: every row of W sums to
    zero), and then W is scaled to the requested spectral radius.

    Parameters
    ----------
    n_input, n_hidden, n_output : int
        Sizes.
    dt : float
        Time step in ms.
    tau : float or array of shape (n_hidden,)
        Initial time constants in ms.
    train_tau : bool
        Learn the time constants.
    tau_min : float, optional
        Lower bound of trainable τ (default ``dt``); must be ``>= dt``.
    nonlinearity : {"tanh", "relu", "softplus", "rectified_tanh"}
        Rate function φ.
    dale : bool
        Impose Dale's law on the recurrent weights.
    e_fraction : float in (0, 1]
        Fraction of excitatory units when ``dale`` is set (default 0.8).
    readout_from_e : bool
        Read outputs from excitatory units only (requires ``dale``).
    spectral_radius : float
        Spectral radius of W at initialisation.
    autapses : bool
        Allow self-connections :math:`W_{ii}`.
    input_mask, recurrent_mask, output_mask : array, optional
        0/1 connectivity masks of shapes (n_hidden, n_input), (n_hidden, n_hidden) and
        (n_output, n_hidden); masked weights are zero and stay zero.
    noise_rec, noise_in : float
        :math:`\sigma_{rec}` and :math:`\sigma_{in}` (see above).
    bias : bool
        Learn the recurrent bias :math:`b` (initialised to zero); False fixes
        :math:`b = 0`.
    seed : int, optional
        Seed of the initialisation stream.

    Notes
    -----
    Shapes: inputs (trial, time, n_input) → outputs (trial, time, n_output). The
    recurrence runs as one fused scan with a hand-written backward pass
    (:attr:`use_scan`, :mod:`~neurodyn.rnn_models.rate_scan`); it is equivalent to the
    following reference loop (noise omitted)::

        x = x0
        for t in range(T):
            x = (1 - alpha) * x + alpha * (W @ phi(x) + W_in @ u[t] + b)
            y[t] = W_out @ phi(x) + b_out

    Examples
    --------
    >>> net = RateRNN(3, 32, 3, dt=10.0, tau=50.0, dale=True, seed=0)
    >>> out = net(torch.zeros(2, 5, 3))
    >>> tuple(out.outputs.shape), tuple(out.rates.shape)
    ((2, 5, 3), (2, 5, 32))
    """

    kind = "rate"

    #: Step the recurrence with :func:`~neurodyn.rnn_models.rate_scan.rate_scan` (a
    #: forward pass that records nothing and a one-sweep hand-written backward pass)
    #: rather than under autograd step by step. Every option of the model is fused, so
    #: the scan runs on every device and dtype: in C++ (``neurodyn._C``) on the CPU for
    #: float32/float64 with tanh, ReLU or the rectified tanh while a step's product is
    #: below the thread grain (N < 500 at 64 trials), as PyTorch operators otherwise
    #: (:func:`~neurodyn.rnn_models.rate_scan.scan_implementation`). Set it to False on
    #: a model (or the class) for the reference loop, which higher-order and
    #: forward-mode derivatives through the forward pass need (the scan is
    #: differentiable once, in reverse mode).
    use_scan: bool = True

    def __init__(
        self,
        n_input: int,
        n_hidden: int,
        n_output: int,
        *,
        dt: float = 10.0,
        tau: float | Any = 100.0,
        train_tau: bool = False,
        tau_min: float | None = None,
        nonlinearity: str = "tanh",
        dale: bool = False,
        e_fraction: float = 0.8,
        readout_from_e: bool = False,
        spectral_radius: float = 1.0,
        autapses: bool = True,
        input_mask=None,
        recurrent_mask=None,
        output_mask=None,
        noise_rec: float = 0.0,
        noise_in: float = 0.0,
        bias: bool = True,
        seed: int | None = None,
    ):
        super().__init__()
        self.n_input = check_int("n_input", n_input)
        self.n_hidden = check_int("n_hidden", n_hidden)
        self.n_output = check_int("n_output", n_output)
        self.dt = check_positive("dt", dt)
        tau_arr, tau_min = self._check_tau(tau, tau_min, train_tau)
        self.phi = NONLINEARITIES[check_choice("nonlinearity", nonlinearity, NONLINEARITIES)]
        if dale:
            e_fraction = check_fraction("e_fraction", e_fraction)
        if readout_from_e and not dale:
            raise ValueError("readout_from_e=True requires dale=True (no E/I labels otherwise)")
        check_positive("spectral_radius", spectral_radius, allow_zero=True)
        check_positive("noise_rec", noise_rec, allow_zero=True)
        check_positive("noise_in", noise_in, allow_zero=True)

        self._config = {
            "n_input": self.n_input,
            "n_hidden": self.n_hidden,
            "n_output": self.n_output,
            "dt": self.dt,
            "tau": tau_arr.tolist() if np.ptp(tau_arr) > 0 else float(tau_arr[0]),
            "train_tau": bool(train_tau),
            "tau_min": float(tau_min),
            "nonlinearity": nonlinearity,
            "dale": bool(dale),
            "e_fraction": float(e_fraction),
            "readout_from_e": bool(readout_from_e),
            "spectral_radius": float(spectral_radius),
            "autapses": bool(autapses),
            "noise_rec": float(noise_rec),
            "noise_in": float(noise_in),
            "bias": bool(bias),
            "seed": seed,
        }
        self.dale = bool(dale)
        self.noise_rec = float(noise_rec)
        self.noise_in = float(noise_in)
        self.tau_min = float(tau_min)
        masks = self._connectivity(
            e_fraction if dale else None, autapses=autapses, readout_from_e=readout_from_e,
            input_mask=input_mask, recurrent_mask=recurrent_mask, output_mask=output_mask,
        )  # fmt: skip
        self._init_parameters(masks, seed=seed, spectral_radius=spectral_radius, bias=bias)
        self._init_time_constants(tau_arr, train_tau=train_tau)

    def _check_tau(self, tau, tau_min, train_tau) -> tuple[np.ndarray, float]:
        """The initial time constants per unit and the lower bound of trainable ones."""
        tau_min = self.dt if tau_min is None else check_positive("tau_min", tau_min)
        if tau_min < self.dt:
            raise ValueError(f"tau_min={tau_min} must be >= dt={self.dt} (Euler stability)")
        tau_arr = check_per_unit("tau", tau, self.n_hidden)
        if np.any(tau_arr < self.dt):
            raise ValueError(
                f"tau must be >= dt={self.dt} ms for every unit; got min(tau)={tau_arr.min()}"
            )
        if train_tau and np.any(tau_arr <= tau_min):
            raise ValueError(
                f"with train_tau=True every initial tau must exceed tau_min={tau_min} ms; "
                f"got min(tau)={tau_arr.min()}"
            )
        return tau_arr, tau_min

    def _connectivity(self, e_fraction, *, autapses, readout_from_e, input_mask,
                      recurrent_mask, output_mask) -> _Connectivity:  # fmt: skip
        """The Dale signs (all +1 without Dale's law, ``e_fraction`` None) and the 0/1
        masks, with autapses and inhibitory read-outs removed where asked."""
        n_e = (
            self.n_hidden if e_fraction is None else max(int(round(e_fraction * self.n_hidden)), 1)
        )
        sign = np.ones(self.n_hidden)
        sign[n_e:] = -1.0
        m_in = self._mask("input_mask", input_mask, (self.n_hidden, self.n_input))
        m_rec = self._mask("recurrent_mask", recurrent_mask, (self.n_hidden, self.n_hidden))
        if not autapses:
            np.fill_diagonal(m_rec, 0.0)
        m_out = self._mask("output_mask", output_mask, (self.n_output, self.n_hidden))
        if readout_from_e:
            m_out[:, sign < 0] = 0.0
        return _Connectivity(sign=sign, input=m_in, recurrent=m_rec, output=m_out)

    def _init_parameters(self, masks: _Connectivity, *, seed, spectral_radius, bias) -> None:
        """Draw the weights from the initialisation stream and register them and the masks."""
        rng = make_rng(seed, "init")
        w_rec = self._init_recurrent(rng, masks.recurrent, masks.sign, spectral_radius)
        w_in = rng.normal(0.0, 1.0 / math.sqrt(self.n_input), (self.n_hidden, self.n_input))
        fan_out = max(masks.output.sum(1).max(), 1)
        w_out = rng.normal(0.0, 1.0 / math.sqrt(fan_out), masks.output.shape)
        f = torch.get_default_dtype()
        self.register_buffer("sign", torch.tensor(masks.sign, dtype=f))
        self.register_buffer("mask_in", torch.tensor(masks.input, dtype=f))
        self.register_buffer("mask_rec", torch.tensor(masks.recurrent, dtype=f))
        self.register_buffer("mask_out", torch.tensor(masks.output, dtype=f))
        self.weight_rec = nn.Parameter(torch.tensor(w_rec * masks.recurrent, dtype=f))
        self.weight_in = nn.Parameter(torch.tensor(w_in * masks.input, dtype=f))
        self.weight_out = nn.Parameter(torch.tensor(w_out * masks.output, dtype=f))
        self.bias = nn.Parameter(torch.zeros(self.n_hidden)) if bias else None
        self.bias_out = nn.Parameter(torch.zeros(self.n_output))

    def _init_time_constants(self, tau_arr: np.ndarray, *, train_tau: bool) -> None:
        r"""τ as a parameter :math:`\theta = \log(\tau - \tau_{min})` when trained,
        else as a buffer holding τ; and the initial state."""
        f = torch.get_default_dtype()
        theta = torch.tensor(np.log(tau_arr - self.tau_min) if train_tau else tau_arr, dtype=f)
        if train_tau:
            self.tau_param = nn.Parameter(theta)
        else:
            self.register_buffer("tau_param", theta)
        self.register_buffer("initial_state", torch.zeros(self.n_hidden))

    @staticmethod
    def _mask(name, mask, shape):
        if mask is None:
            return np.ones(shape)
        m = check_finite(name, mask).astype(float)
        if m.shape != shape:
            raise ValueError(f"{name} has shape {m.shape}; expected {shape}")
        if not np.all((m == 0) | (m == 1)):
            raise ValueError(f"{name} must contain only 0 and 1")
        return m.copy()

    def _init_recurrent(self, rng, mask, sign, radius):
        n = self.n_hidden
        if self.dale:
            w = np.abs(rng.normal(0.0, 1.0, (n, n))) * mask
            exc, inh = sign > 0, sign < 0
            if inh.any():
                # Balance: inhibition onto each neuron cancels its excitation.
                e_sum = w[:, exc].sum(1, keepdims=True)
                i_sum = w[:, inh].sum(1, keepdims=True)
                w[:, inh] *= np.divide(e_sum, i_sum, out=np.ones_like(e_sum), where=i_sum > 0)
            w_eff = w * sign[None, :]
        else:
            w_eff = rng.normal(0.0, 1.0 / math.sqrt(n), (n, n)) * mask
        rho = np.max(np.abs(np.linalg.eigvals(w_eff))) if n > 0 else 0.0
        scale = radius / rho if rho > 1e-12 else 0.0
        # The raw parameter of a Dale network holds magnitudes; signs live in `sign`.
        return (np.abs(w_eff) if self.dale else w_eff) * scale

    # -- effective parameters ------------------------------------------------------------
    @property
    def tau(self) -> torch.Tensor:
        """Time constants in ms, shape (n_hidden,)."""
        if self._config["train_tau"]:
            return self.tau_min + torch.exp(self.tau_param)
        return self.tau_param

    @property
    def alpha(self) -> torch.Tensor:
        """Euler leak ``dt / tau``, shape (n_hidden,)."""
        return self.dt / self.tau

    @property
    def W(self) -> torch.Tensor:
        """Effective recurrent weights, shape (n_hidden, n_hidden); ``W[i, j]`` is j → i."""
        if self.dale:
            return self.weight_rec.abs() * self.mask_rec * self.sign[None, :]
        return self.weight_rec * self.mask_rec

    @property
    def W_in(self) -> torch.Tensor:
        """Effective input weights, shape (n_hidden, n_input)."""
        return self.weight_in * self.mask_in

    @property
    def W_out(self) -> torch.Tensor:
        """Effective read-out weights, shape (n_output, n_hidden)."""
        return self.weight_out * self.mask_out

    def unit_coords(self):
        ei = np.where(self.sign.cpu().numpy() > 0, "E", "I") if self.dale else None
        coords = {"tau": self.tau.detach().cpu().numpy().astype(float)}
        if ei is not None:
            coords["ei"] = ei
        return coords

    # -- dynamics ------------------------------------------------------------------------
    def as_dynamics(self, kind: str | None = None, dt: float | None = None) -> RateDynamics:
        r"""This network as a :class:`~neurodyn.dynamics.RateDynamics` (weights copied).

        ``kind="ode"`` (default) is the continuous-time system
        :math:`\tau \dot x = -x + W\phi(x) + W_{in}u + b`; ``kind="map"`` is the Euler
        step the forward pass takes. The step is the model's own ``dt``; ``dt`` is
        accepted for the :func:`~neurodyn.dynamics.dynamics` protocol and not used.

        Parameters
        ----------
        kind : {"ode", "map"}, optional
            The continuous-time system (default) or the forward pass's Euler step.
        dt : float, optional
            Not used: the step is the model's own ``dt``.
        """
        return RateDynamics.from_model(self, kind=kind or "ode")

    def parameters_now(self) -> RateParameters:
        """The effective parameters the forward pass uses (differentiable in the raw ones)."""
        return RateParameters(
            W=self.W,
            alpha=self.alpha,
            W_in=self.W_in,
            bias=self.bias,
            W_out=self.W_out,
            bias_out=self.bias_out,
            nonlinearity=self._config["nonlinearity"],
            dt=self.dt,
            noise_in=self.noise_in,
            noise_rec=self.noise_rec,
        )

    def forward(self, inputs, *, initial_state=None, noise=True, generator=None) -> ModelOutput:
        """Run the network.

        Parameters
        ----------
        inputs : Tensor or array, shape (trial, time, n_input)
        initial_state : Tensor, shape (n_hidden,) or (trial, n_hidden), optional
            State :math:`x_0` (default zeros).
        noise : bool
            Add the recurrent and input noise (switch off for deterministic runs).
        generator : torch.Generator, optional
            Source of the noise, for reproducible runs.

        Returns
        -------
        ModelOutput
            ``outputs`` (trial, time, n_output), ``rates`` φ(x) and ``states`` x,
            both (trial, time, n_hidden), recorded after each step.
        """
        u = self._prepare_inputs(inputs)
        x = self._initial_state(initial_state, u.shape[0], u.dtype)
        return run_rate_network(
            self.parameters_now(), u, x, noise=noise, generator=generator, use_scan=self.use_scan
        )


@dataclass(frozen=True)
class RateParameters:
    r"""The effective parameters of one rate network, as its forward pass uses them.

    :class:`RateRNN` and :class:`~neurodyn.rnn_models.rate_ensemble.RateEnsemble` (one
    per network) hand them to :func:`run_rate_network`, so both run the same update.

    Attributes
    ----------
    W : Tensor, shape (N, N)
        Recurrent weights (``W[i, j]`` is j → i), Dale's signs and masks applied.
    alpha : Tensor, shape (N,)
        Euler leaks :math:`\Delta t/\tau`.
    W_in : Tensor, shape (N, n_input)
        Input weights.
    bias : Tensor, shape (N,), or None
        Recurrent bias b (None: none).
    W_out : Tensor, shape (n_output, N)
        Read-out weights.
    bias_out : Tensor, shape (n_output,)
        Read-out bias.
    nonlinearity : str
        The name of φ (a key of :data:`NONLINEARITIES`).
    dt : float
        Time step in ms.
    noise_in, noise_rec : float
        :math:`\sigma_{in}` and :math:`\sigma_{rec}`.

    Examples
    --------
    :meth:`RateRNN.parameters_now` returns them; with Dale's law every weight leaving
    an excitatory unit is non-negative and every weight leaving an inhibitory one
    non-positive:

    >>> from neurodyn.rnn_models import RateRNN
    >>> net = RateRNN(2, 10, 1, dt=10.0, tau=50.0, dale=True, seed=0)
    >>> p = net.parameters_now()
    >>> tuple(p.W.shape), round(float(p.alpha[0]), 6), p.nonlinearity, p.dt  # α = dt/τ
    ((10, 10), 0.2, 'tanh', 10.0)
    >>> bool((p.W[:, :8] >= 0).all()), bool((p.W[:, 8:] <= 0).all())  # 8 E, 2 I units
    (True, True)
    """

    W: torch.Tensor
    alpha: torch.Tensor
    W_in: torch.Tensor
    bias: torch.Tensor | None
    W_out: torch.Tensor
    bias_out: torch.Tensor
    nonlinearity: str
    dt: float
    noise_in: float
    noise_rec: float


def run_rate_network(
    p: RateParameters, u: torch.Tensor, x: torch.Tensor, *, noise=True, generator=None,
    use_scan: bool = True,
) -> ModelOutput:  # fmt: skip
    """The forward pass of :class:`RateRNN` from its effective parameters.

    ``u`` (trial, time, n_input) and ``x`` (trial, N) are checked inputs and initial
    states in the parameters' dtype and device; the noise is drawn from ``generator``
    (the input noise first, then the recurrent noise) as :meth:`RateRNN.forward`
    documents. ``use_scan`` picks the fused scan or the reference loop.

    Parameters
    ----------
    p : RateParameters
        The network's effective parameters (:meth:`RateRNN.parameters_now`).
    u : Tensor (trial, time, n_input)
        Inputs, in the parameters' dtype and on their device.
    x : Tensor (trial, N)
        Initial states.
    noise : bool
        Add the input and recurrent noise (when ``p`` has any).
    generator : torch.Generator, optional
        Source of the noise.
    use_scan : bool
        Step with the fused scan (:func:`~neurodyn.rnn_models.rate_scan.rate_scan`);
        False runs the reference loop under autograd.

    Returns
    -------
    ModelOutput

    Examples
    --------
    The model's forward pass, and the same from its parameters with the scan and with
    the reference loop:

    >>> from neurodyn.rnn_models import RateRNN
    >>> net = RateRNN(2, 8, 1, seed=0)
    >>> u, x0 = torch.randn(3, 20, 2, generator=torch.Generator().manual_seed(0)), torch.zeros(3, 8)
    >>> with torch.no_grad():
    ...     scan = run_rate_network(net.parameters_now(), u, x0)
    ...     loop = run_rate_network(net.parameters_now(), u, x0, use_scan=False)
    ...     model = net(u, initial_state=x0)
    >>> bool(torch.allclose(scan.states, loop.states, atol=1e-6))
    True
    >>> bool(torch.allclose(model.outputs, scan.outputs, atol=1e-6))
    True
    """
    n_trials, n_steps, _ = u.shape
    if noise and p.noise_in > 0:
        # Input noise enters before the input weights, as it would from a sensor.
        xi = _normal(u.shape, generator, u)
        u = u + (p.noise_in / math.sqrt(p.dt)) * xi
    eta = scale = None
    if noise and p.noise_rec > 0:
        # sqrt(2α)σ η added to x equals α · sqrt(2/α)σ η added inside the bracket,
        # so the recurrent noise folds into the drive and the step stays one lerp.
        eta = _normal((n_trials, n_steps, p.W.shape[0]), generator, u)
        scale = torch.sqrt(2.0 / p.alpha) * p.noise_rec
    if use_scan:
        # The scan adds scale ⊙ eta to the drive one step at a time.
        drive = _input_drive(p, u)
        xs, rates = rate_scan(drive, x, p.W, p.alpha, p.nonlinearity, eta=eta, noise_scale=scale)
    else:
        drive = u @ p.W_in.T  # all input currents at once: one matmul instead of T
        if p.bias is not None:
            drive = drive + p.bias
        if eta is not None:
            drive = drive + scale * eta
        xs, rates = _reference_steps(p, drive, x)
    outputs = rates @ p.W_out.T + p.bias_out
    return ModelOutput(outputs, rates, xs)


def _input_drive(p: RateParameters, u: torch.Tensor) -> torch.Tensor:
    r""":math:`W_{in} u_t + b` for every trial and step, (trial, time, N), in one product.

    The bias rides in the product (``addmm``), so no second (trial, time, N)
    tensor is made, and :math:`W_{in}^\top` is a contiguous copy, so autograd forms
    :math:`\partial L/\partial W_{in}` as :math:`u^\top g`, an (n_input, trial·time)
    @ (trial·time, N) product: several times faster, with few inputs, than the
    (N, trial·time) @ (trial·time, n_input) one it picks for a transposed view.
    """
    n_hidden, n_input = p.W_in.shape
    flat = u.reshape(-1, n_input)
    W_in_T = p.W_in.t().contiguous()
    drive = flat @ W_in_T if p.bias is None else torch.addmm(p.bias, flat, W_in_T)
    return drive.view(*u.shape[:2], n_hidden)


def _reference_steps(p: RateParameters, drive, x) -> tuple[torch.Tensor, torch.Tensor]:
    """States and rates stepped under autograd: the reference :func:`rate_scan` matches."""
    phi, W_T = NONLINEARITIES[p.nonlinearity], p.W.T
    # unbind once: indexing drive[:, t] inside the loop would make autograd build a
    # full-size zero gradient per step (quadratic cost in T in the backward pass).
    states = []
    for d_t in drive.unbind(1):
        # lerp(x, y, α) = x + α (y − x): the Euler step with y = Wφ(x) + drive.
        x = torch.lerp(x, torch.addmm(d_t, phi(x), W_T), p.alpha)
        states.append(x)
    xs = torch.stack(states, dim=1)
    return xs, phi(xs)


def _normal(shape, generator: torch.Generator | None, like: torch.Tensor) -> torch.Tensor:
    """Standard normal noise of ``shape``, drawn on ``generator``'s device and moved to ``like``'s.

    Drawing where the generator lives lets a CPU generator drive a model on a GPU, and
    makes the same generator state give the same noise whatever device the model is on.
    """
    device = like.device if generator is None else generator.device
    z = torch.randn(shape, generator=generator, dtype=like.dtype, device=device)
    return z.to(like.device)
