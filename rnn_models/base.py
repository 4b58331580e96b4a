"""What every neurodyn model provides.

A model is a :class:`torch.nn.Module` that maps a batch of input sequences
(trial, time, input) to outputs (trial, time, output) and exposes its hidden
activity. Beyond ``forward`` it knows how to describe itself (``config``, so a
saved file can rebuild it), how to label its units for results (``unit_coords``),
which time step it runs at (``dt``, in ms), and, for the analyzers, which
:class:`~neurodyn.dynamics.Dynamics` it is (``as_dynamics(kind=None, dt=None)``, which
:func:`neurodyn.dynamics.dynamics` calls).
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar, NamedTuple

import numpy as np
import torch
from torch import nn

from .._validation import to_numpy

__all__ = ["Model", "ModelOutput"]


class ModelOutput(NamedTuple):
    """What a model's forward pass returns.

    Attributes
    ----------
    outputs : Tensor, shape (trial, time, n_output)
        Read-out at each step.
    rates : Tensor, shape (trial, time, n_hidden)
        The activity the read-out sees (firing rates φ(x) for rate networks; hidden
        state ``h`` for gated networks).
    states : Tensor, shape (trial, time, n_state)
        The full dynamical state after each step (``x`` for rate networks; ``[h, c]``
        for LSTMs).

    Examples
    --------
    >>> from neurodyn.rnn_models import RateRNN
    >>> out = RateRNN(3, 16, 2, seed=0)(torch.zeros(4, 10, 3))
    >>> tuple(out.outputs.shape), tuple(out.rates.shape), tuple(out.states.shape)
    ((4, 10, 2), (4, 10, 16), (4, 10, 16))
    >>> bool(torch.allclose(out.rates, torch.tanh(out.states)))  # r = tanh(x)
    True
    """

    outputs: torch.Tensor
    rates: torch.Tensor
    states: torch.Tensor


class Model(nn.Module, abc.ABC):
    """Abstract base of neurodyn models.

    Subclasses set ``kind`` (the registry name), keep every constructor argument
    they need in ``self._config`` (JSON-compatible values only) and implement
    :meth:`forward`.

    Examples
    --------
    A minimal model, a linear leaky network :math:`x_{t+1} = (1 - \\alpha) x_t +
    \\alpha (W x_t + B u_t)` with a linear read-out:

    >>> class LinearRNN(Model):
    ...     kind = "linear"
    ...     def __init__(self, n_input, n_hidden, n_output, *, dt=10.0, tau=100.0):
    ...         super().__init__()
    ...         self.n_input, self.n_hidden, self.n_output, self.dt = n_input, n_hidden, n_output, dt
    ...         self._config = dict(n_input=n_input, n_hidden=n_hidden, n_output=n_output,
    ...                             dt=dt, tau=tau)
    ...         self.alpha = dt / tau
    ...         self.w_rec = nn.Parameter(torch.zeros(n_hidden, n_hidden))
    ...         self.w_in = nn.Parameter(torch.ones(n_hidden, n_input))
    ...         self.readout = nn.Linear(n_hidden, n_output)
    ...         self.register_buffer("initial_state", torch.zeros(n_hidden))
    ...     def forward(self, inputs, *, initial_state=None, noise=True, generator=None):
    ...         u = self._prepare_inputs(inputs)
    ...         x = self._initial_state(initial_state, u.shape[0], u.dtype)
    ...         states = []
    ...         for t in range(u.shape[1]):
    ...             x = (1 - self.alpha) * x + self.alpha * (x @ self.w_rec.T + u[:, t] @ self.w_in.T)
    ...             states.append(x)
    ...         x = torch.stack(states, 1)
    ...         return ModelOutput(self.readout(x), x, x)
    >>> net = LinearRNN(1, 4, 1)
    >>> out = net(torch.ones(2, 3, 1))
    >>> [round(v, 5) for v in out.states[0, :, 0].tolist()]  # 1 - 0.9^t
    [0.1, 0.19, 0.271]
    >>> net.config()["tau"], net.n_state, sorted(net.regularization(out.rates))
    (100.0, 4, ['rate', 'weight'])
    """

    kind: ClassVar[str] = ""

    n_input: int
    n_hidden: int
    n_output: int
    dt: float

    @abc.abstractmethod
    def forward(
        self,
        inputs: torch.Tensor,
        *,
        initial_state: torch.Tensor | None = None,
        noise: bool = True,
        generator: torch.Generator | None = None,
    ) -> ModelOutput:
        """Run the network over ``inputs`` of shape (trial, time, n_input).

        Parameters
        ----------
        inputs : Tensor or array (trial, time, n_input)
            Input at each step.
        initial_state : Tensor or array (n_state,) or (trial, n_state), optional
            The state before the first step (default: the model's own, e.g. its
            ``initial_state`` buffer or random states).
        noise : bool
            Add the model's recurrent and input noise, where it has any.
        generator : torch.Generator, optional
            Source of the noise and of random initial states (for reproducible runs).

        Returns
        -------
        ModelOutput
        """

    def config(self) -> dict[str, Any]:
        """Constructor arguments (JSON-compatible) that rebuild this model's architecture."""
        return dict(self._config)

    def unit_coords(self) -> dict[str, np.ndarray]:
        """Per-unit labels for results, e.g. ``{"ei": [...], "tau": [...]}``."""
        return {}

    def regularization(self, rates: torch.Tensor) -> dict[str, torch.Tensor]:
        """Quantities the trainer may penalise: mean squared rate and weights.

        Parameters
        ----------
        rates : Tensor (trial, time, n_hidden)
            The ``rates`` of a forward pass.

        Returns
        -------
        dict of str to Tensor
            ``"rate"``: the mean of the squared rates; ``"weight"``: the mean over the
            weight matrices (2-D parameters) of their mean squared entry.
        """
        weights = [p for n, p in self.named_parameters() if p.ndim == 2]
        return {
            "rate": rates.pow(2).mean(),
            "weight": sum(w.pow(2).mean() for w in weights) / max(len(weights), 1),
        }

    @property
    def n_state(self) -> int:
        """Dimension of the dynamical state."""
        return self.n_hidden

    def check_weights(self) -> None:
        """Raise ValueError if any parameter holds NaN or infinite values."""
        for name, p in self.named_parameters():
            if not torch.isfinite(p).all():
                raise ValueError(
                    f"model parameter {name!r} contains NaN or infinite values; "
                    "expected finite weights (a diverged training run?)"
                )

    def extra_repr(self) -> str:
        def short(v):
            # Per-unit lists (e.g. 128 time constants) are summarised, not printed.
            if isinstance(v, list) and len(v) > 6:
                return f"[{min(v):.4g} … {max(v):.4g}] ({len(v)} values)"
            return repr(v)

        return ", ".join(f"{k}={short(v)}" for k, v in self.config().items() if v is not None)

    @property
    def _reference(self) -> torch.Tensor:
        """A parameter whose dtype and device inputs and states are brought to."""
        return next(self.parameters())

    def _initial_state(self, initial_state, n_trials: int, dtype, size=None) -> torch.Tensor:
        """:math:`h_0` as (trial, size): ``initial_state``, of shape (size,) or
        (n_trials, size), or the model's ``initial_state`` buffer when it is None;
        ``size`` is ``n_hidden`` unless given. It is moved to the model's device."""
        size = self.n_hidden if size is None else size
        x = (
            self.initial_state
            if initial_state is None
            else _real_tensor("initial_state", initial_state)
        )
        if x.ndim not in (1, 2) or x.shape[-1] != size or (x.ndim == 2 and x.shape[0] != n_trials):
            raise ValueError(
                f"initial_state has shape {tuple(x.shape)}; expected ({size},) or "
                f"({n_trials}, {size})"
            )
        if x.is_floating_point() and not torch.isfinite(x).all():
            raise ValueError(
                "initial_state contains NaN or infinite values; expected finite values"
            )
        return x.to(device=self._reference.device, dtype=dtype).expand(n_trials, size)

    def _prepare_inputs(self, inputs) -> torch.Tensor:
        """Validate ``inputs`` (trial, time, n_input) and return it as a tensor of the
        model's dtype on the model's device.

        Refuses what is not an array of real numbers, a wrong shape, an empty batch (no
        trial or no time step: there is no state to record and no output to read) and
        NaN or infinite values.
        """
        inputs = _real_tensor("inputs", inputs)
        if inputs.ndim != 3 or inputs.shape[-1] != self.n_input:
            raise ValueError(
                f"inputs has shape {tuple(inputs.shape)}; expected (trial, time, {self.n_input})"
            )
        if inputs.shape[0] == 0 or inputs.shape[1] == 0:
            raise ValueError(
                f"inputs has shape {tuple(inputs.shape)}; expected (trial, time, {self.n_input}) "
                "with at least one trial and one time step"
            )
        if not torch.isfinite(inputs).all():
            raise ValueError("inputs contains NaN or infinite values; expected finite values")
        ref = self._reference
        return inputs.to(device=ref.device, dtype=ref.dtype)


def _real_tensor(name: str, value) -> torch.Tensor:
    """``value`` as a tensor of real numbers (a read-only array is copied, see ``to_numpy``)."""
    if not isinstance(value, torch.Tensor):
        try:
            a = to_numpy(value)
        except (TypeError, ValueError):  # ragged nested lists
            a = None
        if a is None or a.dtype.kind not in "biuf":
            what = "a ragged sequence" if a is None else f"an array of dtype {a.dtype}"
            raise ValueError(f"{name} must be an array of real numbers, got {what}")
        value = torch.as_tensor(a)
    if value.is_complex():
        raise ValueError(f"{name} must be an array of real numbers, got dtype {value.dtype}")
    return value
