"""The low-rank rate network (Mastrogiuseppe & Ostojic 2018; Dubreuil et al. 2022)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .._validation import check_choice, check_finite, check_fraction, check_int, check_positive
from ..dynamics.low_rank import LowRankDynamics
from ..seeding import make_rng
from .base import Model, ModelOutput
from .rate import NONLINEARITIES, _normal

__all__ = ["LowRankRNN"]


class LowRankRNN(Model):
    r"""Rate network whose recurrent connectivity has rank R: :math:`J = m n^\top / N`.

    .. math::

        \tau \frac{dx}{dt} = -x + \frac{1}{N} m\, n^\top \phi(x) + I\,u + \text{noise},
        \qquad y = \frac{1}{N} w^\top \phi(x) + b^{out},

    with loading vectors :math:`m, n \in \mathbb R^{N\times R}` (the columns
    :math:`m_r, n_r`), input vectors :math:`I \in \mathbb R^{N\times M}` and read-out
    vectors :math:`w \in \mathbb R^{N\times K}`. It is discretised by the Euler method
    with :math:`\alpha = \Delta t/\tau` and the noise of
    :class:`~neurodyn.rnn_models.RateRNN` (recurrent :math:`\sqrt{2\alpha}\sigma_{rec}\eta_t`,
    input :math:`\sigma_{in}\xi_t/\sqrt{\Delta t}` before the input vectors):

    .. math::

        x_{t+1} = (1-\alpha)\,x_t + \alpha\left(m\,\kappa_t + I\tilde u_t\right)
            + \sqrt{2\alpha}\,\sigma_{rec}\,\eta_t,
        \qquad \kappa_t = \frac{1}{N} n^\top\phi(x_t) .

    A step costs :math:`O(NR)`, not :math:`O(N^2)`: :math:`J` is never formed in the
    forward pass. The time constant is one number for the whole network, so that a
    state in the span of :math:`m` and :math:`I` stays there (the reduction of
    :mod:`neurodyn.analysis.low_rank`).

    **Dale's law.** A column :math:`J_{:j} = \frac1N m\,n_{j:}^\top` is the set of
    weights leaving unit *j*. It has the sign :math:`s_j` of unit *j* for every
    target *i* when every postsynaptic loading is non-negative and every presynaptic
    loading carries the sign of its unit:

    .. math:: m = |\tilde m|, \qquad n = \operatorname{diag}(s)\,|\tilde n|,

    so :math:`J_{ij} = \frac{s_j}{N}\sum_r |\tilde m_{ir}||\tilde n_{jr}|` whatever the
    optimiser does to :math:`\tilde m, \tilde n`, and J still has rank R. The price is
    that the loadings :math:`m_r` are non-negative (the latent directions lie in the
    positive orthant). At initialisation the inhibitory part of every :math:`n_r` is
    scaled so that :math:`\sum_j n_{jr} = 0`: every row of J sums to zero (E/I
    balance), as in :class:`~neurodyn.rnn_models.RateRNN`.

    **Masks.** ``input_mask`` (N, M) and ``output_mask`` (K, N) are 0/1 masks of the
    input and read-out vectors. A recurrent mask is not offered: :math:`M \odot (mn^\top)`
    has full rank for a generic mask, so it would not be a low-rank network.

    Parameters
    ----------
    n_input, n_hidden, n_output : int
        Sizes M, N and K.
    rank : int
        R, with ``1 <= rank <= n_hidden``.
    dt : float
        Time step in ms.
    tau : float
        Time constant in ms, ``tau >= dt``.
    nonlinearity : {"tanh", "relu", "softplus", "rectified_tanh"}
        Rate function φ.
    dale : bool
        Impose Dale's law through the signs of the presynaptic loadings (see above).
    e_fraction : float in (0, 1]
        Fraction of excitatory units when ``dale`` is set (default 0.8).
    input_mask, output_mask : array, optional
        0/1 masks of shapes (n_hidden, n_input) and (n_output, n_hidden).
    noise_rec, noise_in : float
        :math:`\sigma_{rec}` and :math:`\sigma_{in}`.
    train_inputs : bool
        Learn the input vectors I (else they stay at their random initial values, as
        in Dubreuil et al. 2022).
    seed : int, optional
        Seed of the initialisation stream: m, n, I and w have independent
        :math:`\mathcal N(0, 1)` entries.

    Notes
    -----
    Shapes: inputs (trial, time, n_input) → outputs (trial, time, n_output). The
    forward pass is equivalent to the following reference loop (noise omitted)::

        x = x0
        for t in range(T):
            x = (1 - alpha) * x + alpha * (m @ (n.T @ phi(x)) / N + I @ u[t])
            y[t] = w.T @ phi(x) / N + b_out

    Examples
    --------
    >>> net = LowRankRNN(2, 50, 1, rank=2, dt=10.0, tau=100.0, seed=0)
    >>> out = net(torch.zeros(3, 4, 2))
    >>> tuple(out.outputs.shape), int(torch.linalg.matrix_rank(net.double().J))
    ((3, 4, 1), 2)
    """

    kind = "low_rank"

    def __init__(
        self,
        n_input: int,
        n_hidden: int,
        n_output: int,
        rank: int = 1,
        *,
        dt: float = 10.0,
        tau: float = 100.0,
        nonlinearity: str = "tanh",
        dale: bool = False,
        e_fraction: float = 0.8,
        input_mask=None,
        output_mask=None,
        noise_rec: float = 0.0,
        noise_in: float = 0.0,
        train_inputs: bool = True,
        seed: int | None = None,
    ):
        super().__init__()
        self.n_input = check_int("n_input", n_input)
        self.n_hidden = check_int("n_hidden", n_hidden)
        self.n_output = check_int("n_output", n_output)
        self.rank = check_int("rank", rank)
        if self.rank > self.n_hidden:
            raise ValueError(f"rank={rank} must be <= n_hidden={n_hidden}")
        self.dt = check_positive("dt", dt)
        self.tau = check_positive("tau", tau)
        if self.tau < self.dt:
            raise ValueError(f"tau={tau} must be >= dt={self.dt} ms (Euler stability)")
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
        self.phi = NONLINEARITIES[nonlinearity]
        if dale:
            e_fraction = check_fraction("e_fraction", e_fraction)
        self.noise_rec = check_positive("noise_rec", noise_rec, allow_zero=True)
        self.noise_in = check_positive("noise_in", noise_in, allow_zero=True)
        self.dale = bool(dale)
        self._config = {
            "n_input": self.n_input,
            "n_hidden": self.n_hidden,
            "n_output": self.n_output,
            "rank": self.rank,
            "dt": self.dt,
            "tau": self.tau,
            "nonlinearity": nonlinearity,
            "dale": self.dale,
            "e_fraction": float(e_fraction),
            "noise_rec": self.noise_rec,
            "noise_in": self.noise_in,
            "train_inputs": bool(train_inputs),
            "seed": seed,
        }
        n_e = max(int(round(e_fraction * self.n_hidden)), 1) if dale else self.n_hidden
        sign = np.ones(self.n_hidden)
        sign[n_e:] = -1.0
        masks = (
            _mask("input_mask", input_mask, (self.n_hidden, self.n_input)),
            _mask("output_mask", output_mask, (self.n_output, self.n_hidden)),
        )
        self._init_parameters(sign, masks, seed=seed, train_inputs=train_inputs)

    def _init_parameters(self, sign, masks, *, seed, train_inputs) -> None:
        """Draw m, n, I and w from the initialisation stream and register them."""
        rng = make_rng(seed, "init")
        shape = (self.n_hidden, self.rank)
        m, n = rng.normal(size=shape), rng.normal(size=shape)
        w_in = rng.normal(size=(self.n_hidden, self.n_input))
        w_out = rng.normal(size=(self.n_output, self.n_hidden))
        if self.dale:
            m, n = np.abs(m), np.abs(n)
            exc, inh = sign > 0, sign < 0
            if inh.any():
                # Balance: Σ_j n_jr = 0 for every r, so every row of J sums to zero.
                n[inh] *= n[exc].sum(0) / n[inh].sum(0)
        f = torch.get_default_dtype()
        self.register_buffer("sign", torch.tensor(sign, dtype=f))
        self.register_buffer("mask_in", torch.tensor(masks[0], dtype=f))
        self.register_buffer("mask_out", torch.tensor(masks[1], dtype=f))
        self.weight_m = nn.Parameter(torch.tensor(m, dtype=f))
        self.weight_n = nn.Parameter(torch.tensor(n, dtype=f))
        w_in = torch.tensor(w_in * masks[0], dtype=f)
        if train_inputs:
            self.weight_in = nn.Parameter(w_in)
        else:
            self.register_buffer("weight_in", w_in)
        self.weight_out = nn.Parameter(torch.tensor(w_out * masks[1], dtype=f))
        self.bias_out = nn.Parameter(torch.zeros(self.n_output))
        self.register_buffer("initial_state", torch.zeros(self.n_hidden))

    # -- effective parameters ------------------------------------------------------------
    @property
    def m(self) -> torch.Tensor:
        """Postsynaptic loadings m, shape (n_hidden, rank) (non-negative under Dale's law)."""
        return self.weight_m.abs() if self.dale else self.weight_m

    @property
    def n(self) -> torch.Tensor:
        """Presynaptic loadings n, shape (n_hidden, rank) (row j has the sign of unit j
        under Dale's law)."""
        return self.weight_n.abs() * self.sign[:, None] if self.dale else self.weight_n

    @property
    def J(self) -> torch.Tensor:
        """Recurrent weights :math:`m n^\\top / N`, shape (n_hidden, n_hidden); ``J[i, j]``
        is j → i. Formed on request only (the forward pass never builds it)."""
        return self.m @ self.n.T / self.n_hidden

    @property
    def W(self) -> torch.Tensor:
        """The recurrent weights under the name every rate model uses (= :attr:`J`)."""
        return self.J

    @property
    def W_in(self) -> torch.Tensor:
        """Input vectors I, shape (n_hidden, n_input)."""
        return self.weight_in * self.mask_in

    @property
    def W_out(self) -> torch.Tensor:
        """Effective read-out weights :math:`w^\\top/N`, shape (n_output, n_hidden)."""
        return self.weight_out * self.mask_out / self.n_hidden

    @property
    def alpha(self) -> float:
        """Euler leak ``dt / tau``."""
        return self.dt / self.tau

    def unit_coords(self):
        coords = {"tau": np.full(self.n_hidden, self.tau)}
        if self.dale:
            coords["ei"] = np.where(self.sign.cpu().numpy() > 0, "E", "I")
        return coords

    # -- dynamics ------------------------------------------------------------------------
    def as_dynamics(self, kind: str | None = None, dt: float | None = None) -> LowRankDynamics:
        r"""This network as a :class:`~neurodyn.dynamics.LowRankDynamics` (loadings copied).

        ``kind="ode"`` (default) is :math:`\tau\dot x = -x + mn^\top\phi(x)/N + Iu`;
        ``kind="map"`` is the Euler step of the forward pass. ``dt`` is accepted for the
        :func:`~neurodyn.dynamics.dynamics` protocol and not used (the model has its own).

        Parameters
        ----------
        kind : {"ode", "map"}, optional
            The continuous-time system (default) or the forward pass's Euler step.
        dt : float, optional
            Not used: the step is the model's own ``dt``.
        """
        return LowRankDynamics.from_model(self, kind=kind or "ode")

    def forward(self, inputs, *, initial_state=None, noise=True, generator=None) -> ModelOutput:
        """Run the network.

        Parameters
        ----------
        inputs : Tensor or array, shape (trial, time, n_input)
        initial_state : Tensor, shape (n_hidden,) or (trial, n_hidden), optional
            State :math:`x_0` (default zeros).
        noise : bool
            Add the recurrent and input noise.
        generator : torch.Generator, optional
            Source of the noise, for reproducible runs.

        Returns
        -------
        ModelOutput
            ``outputs`` (trial, time, n_output), ``rates`` φ(x) and ``states`` x,
            both (trial, time, n_hidden), recorded after each step.
        """
        u = self._prepare_inputs(inputs)
        n_trials, n_steps, _ = u.shape
        x = self._initial_state(initial_state, n_trials, u.dtype)
        if noise and self.noise_in > 0:
            u = u + (self.noise_in / math.sqrt(self.dt)) * _normal(u.shape, generator, u)
        drive = u @ self.W_in.T
        if noise and self.noise_rec > 0:
            # sqrt(2α)σ η on x is α · sqrt(2/α)σ η inside the bracket (see RateRNN).
            eta = _normal((n_trials, n_steps, self.n_hidden), generator, u)
            drive = drive + math.sqrt(2.0 / self.alpha) * self.noise_rec * eta
        m_T, n_scaled = self.m.T, self.n / self.n_hidden
        states = []
        for d_t in drive.unbind(1):
            # κ = nᵀφ(x)/N (trial, R), then m κ: two thin matmuls instead of one N × N.
            kappa = self.phi(x) @ n_scaled
            x = torch.lerp(x, torch.addmm(d_t, kappa, m_T), self.alpha)
            states.append(x)
        xs = torch.stack(states, dim=1)
        rates = self.phi(xs)
        return ModelOutput(rates @ self.W_out.T + self.bias_out, rates, xs)


def _mask(name, mask, shape) -> np.ndarray:
    """A 0/1 mask of ``shape`` (all ones when None), refusing other values or shapes."""
    if mask is None:
        return np.ones(shape)
    m = check_finite(name, mask).astype(float)
    if m.shape != shape:
        raise ValueError(f"{name} has shape {m.shape}; expected {shape}")
    if not np.all((m == 0) | (m == 1)):
        raise ValueError(f"{name} must contain only 0 and 1")
    return m.copy()
