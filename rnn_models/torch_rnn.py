"""``torch.nn.RNN``, ``GRU`` and ``LSTM`` as neurodyn models."""

from __future__ import annotations

import math

import torch
from torch import nn

from .._validation import check_choice, check_int, check_positive
from ..dynamics.torch_cells import TorchCellDynamics
from ..seeding import make_rng
from .base import Model, ModelOutput
from .rate import _normal

__all__ = ["TorchRNN"]

_CLASSES = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class TorchRNN(Model):
    r"""A one-layer ``torch.nn.RNN``, ``GRU`` or ``LSTM`` with a linear read-out.

    The recurrent core is the PyTorch module itself (``self.core``, batch-first), so
    its update equations are PyTorch's; this class only adds the read-out
    :math:`y_t = W^{out} h_t + b^{out}`, neurodyn's calling convention and a
    self-describing configuration. The network runs at one step per ``dt`` ms of
    task time.

    Parameters
    ----------
    cell : {"rnn", "gru", "lstm"}
        Which PyTorch module.
    n_input, n_hidden, n_output : int
        Sizes.
    nonlinearity : {"tanh", "relu"}
        For ``cell="rnn"`` only (another value for a GRU or LSTM is refused).
    dt : float
        Task time step the network is used at, in ms (stored with results).
    noise_in : float
        Input noise σ_in: each step's input gets :math:`(\sigma_{in}/\sqrt{\Delta t})\,\xi_t`,
        ξ standard normal, as in :class:`~neurodyn.rnn_models.RateRNN`.
    noise_rec : float
        State noise σ_rec: after each step, :math:`h_t \leftarrow f(h_{t-1}, u_t) +
        \sigma_{rec}\,\eta_t` (the LSTM's h; its cell state c is left as computed).
        The step then runs one time step at a time instead of PyTorch's fused sequence.
    seed : int, optional
        Seed of the initialisation stream (PyTorch's default initialisation).

    Notes
    -----
    ``states`` in the returned :class:`ModelOutput` is ``h`` for RNN and GRU and
    the concatenation ``[h, c]`` (size ``2 * n_hidden``) for the LSTM, whose cell
    state is part of its dynamical state. The noise is part of training and
    simulation only; :meth:`as_dynamics` is the deterministic map.

    Examples
    --------
    >>> net = TorchRNN("gru", 3, 16, 3, seed=0)
    >>> tuple(net(torch.zeros(4, 7, 3)).states.shape)
    (4, 7, 16)
    """

    kind = "torch"

    def __init__(
        self,
        cell: str,
        n_input: int,
        n_hidden: int,
        n_output: int,
        *,
        nonlinearity: str = "tanh",
        dt: float = 10.0,
        noise_in: float = 0.0,
        noise_rec: float = 0.0,
        seed: int | None = None,
    ):
        super().__init__()
        cell = check_choice("cell", cell, _CLASSES)
        self.n_input = check_int("n_input", n_input)
        self.n_hidden = check_int("n_hidden", n_hidden)
        self.n_output = check_int("n_output", n_output)
        self.cell = cell
        self.dt = check_positive("dt", dt)
        self.noise_in = check_positive("noise_in", noise_in, allow_zero=True)
        self.noise_rec = check_positive("noise_rec", noise_rec, allow_zero=True)
        kwargs = {"batch_first": True}
        if cell == "rnn":
            kwargs["nonlinearity"] = check_choice("nonlinearity", nonlinearity, ("tanh", "relu"))
        elif nonlinearity not in ("tanh", None):  # None: as stored for a GRU or LSTM
            raise ValueError(
                f"nonlinearity={nonlinearity!r} applies to cell='rnn' only; a {cell.upper()} "
                "has PyTorch's fixed gates (leave nonlinearity out)"
            )
        # PyTorch initialises from the global RNG; fork it so neurodyn's seed decides.
        seed_int = int(make_rng(seed, "init").integers(0, 2**31 - 1))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed_int)
            self.core = _CLASSES[cell](self.n_input, self.n_hidden, **kwargs)
            self.readout = nn.Linear(self.n_hidden, self.n_output)
        self._config = {
            "cell": cell,
            "n_input": self.n_input,
            "n_hidden": self.n_hidden,
            "n_output": self.n_output,
            "nonlinearity": nonlinearity if cell == "rnn" else None,
            "dt": self.dt,
            "noise_in": self.noise_in,
            "noise_rec": self.noise_rec,
            "seed": seed,
        }

    @classmethod
    def from_module(
        cls, module: nn.Module, readout: nn.Linear | None = None, *, dt: float = 10.0
    ) -> TorchRNN:
        """Wrap an existing (e.g. already trained) ``nn.RNN``, ``nn.GRU`` or ``nn.LSTM``.

        The weights are copied, so later changes to ``module`` do not affect the
        wrapper. Only single-layer, unidirectional modules without projections are
        accepted; ``batch_first`` may be either.

        Parameters
        ----------
        module : torch.nn.RNN, GRU or LSTM
        readout : torch.nn.Linear, optional
            Read-out from the hidden state; default: the identity map onto ``h``
            (``n_output = n_hidden``).
        dt : float
            Task time step in ms.
        """
        kinds = {nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "rnn"}
        cell = kinds.get(type(module))
        if cell is None:
            raise ValueError(
                f"module must be a torch.nn.RNN, GRU or LSTM, got {type(module).__name__}"
            )
        if module.num_layers != 1 or module.bidirectional or getattr(module, "proj_size", 0):
            raise ValueError(
                "module must have num_layers=1, bidirectional=False and no projection; got "
                f"num_layers={module.num_layers}, bidirectional={module.bidirectional}"
            )
        if not module.bias:
            raise ValueError("module must have bias=True (neurodyn's adapter stores biases)")
        n_output = module.hidden_size if readout is None else readout.out_features
        if readout is not None and readout.in_features != module.hidden_size:
            raise ValueError(
                f"readout has in_features={readout.in_features}; expected the module's "
                f"hidden_size={module.hidden_size}"
            )
        wrapper = cls(
            cell,
            module.input_size,
            module.hidden_size,
            n_output,
            nonlinearity=getattr(module, "nonlinearity", "tanh"),
            dt=dt,
        )
        wrapper.core.load_state_dict(module.state_dict())
        with torch.no_grad():
            if readout is None:
                wrapper.readout.weight.copy_(torch.eye(module.hidden_size))
                wrapper.readout.bias.zero_()
            else:
                wrapper.readout.load_state_dict(readout.state_dict())
        p = next(module.parameters())
        return wrapper.to(device=p.device, dtype=p.dtype)

    @property
    def n_state(self) -> int:
        return 2 * self.n_hidden if self.cell == "lstm" else self.n_hidden

    def as_dynamics(self, kind: str | None = None, dt: float | None = None) -> TorchCellDynamics:
        """This network as a :class:`~neurodyn.dynamics.TorchCellDynamics`, a discrete map
        with analytic Jacobians; ``dt`` (default: the model's) is the duration of a step.

        Parameters
        ----------
        kind : "map", optional
            The only kind (a recurrent cell is a discrete map).
        dt : float, optional
            The duration of a step; default the model's ``dt``.

        Raises
        ------
        ValueError
            If ``kind`` is given and is not ``"map"``.
        """
        if kind not in (None, "map"):
            raise ValueError(
                f"{type(self).__name__} is a discrete map; kind={kind!r} is not possible"
            )
        return TorchCellDynamics.from_module(self, dt=dt)

    def forward(self, inputs, *, initial_state=None, noise=True, generator=None) -> ModelOutput:
        """Run the network.

        Parameters
        ----------
        inputs : Tensor or array, shape (trial, time, n_input)
        initial_state : Tensor, shape (n_state,) or (trial, n_state), optional
            Default zeros.
        noise : bool
            Add the input and state noise (``noise_in``, ``noise_rec``).
        generator : torch.Generator, optional
            Source of the noise, for reproducible runs.
        """
        u = self._prepare_inputs(inputs)
        if noise and self.noise_in > 0:
            u = u + (self.noise_in / math.sqrt(self.dt)) * _normal(u.shape, generator, u)
        state = self._h0(initial_state, u)
        rec = self.noise_rec if noise else 0.0
        if self.cell != "lstm" and rec == 0:
            h_seq, _ = self.core(u, state)
            return ModelOutput(self.readout(h_seq), h_seq, h_seq)
        # Step by step: state noise enters between steps, and nn.LSTM returns only the
        # last cell state, so the sequence of c is recovered by stepping the cell.
        hs, cs = [], []
        for t in range(u.shape[1]):
            _out, state = self.core(u[:, t : t + 1], state)
            h = state[0] if self.cell == "lstm" else state
            if rec > 0:
                h = h + rec * _normal(h.shape, generator, h)
                state = (h, state[1]) if self.cell == "lstm" else h
            hs.append(h[0])
            if self.cell == "lstm":
                cs.append(state[1][0])
        h_seq = torch.stack(hs, 1)
        states = torch.cat([h_seq, torch.stack(cs, 1)], dim=-1) if cs else h_seq
        return ModelOutput(self.readout(h_seq), h_seq, states)

    def _h0(self, initial_state, u):
        """The core's initial state from ``initial_state`` (None: PyTorch's zeros)."""
        if initial_state is None:
            return None
        s = self._initial_state(initial_state, u.shape[0], u.dtype, size=self.n_state)
        if self.cell == "lstm":
            n = self.n_hidden
            return s[:, :n].unsqueeze(0).contiguous(), s[:, n:].unsqueeze(0).contiguous()
        return s.unsqueeze(0).contiguous()
