"""``dynamics(obj)``: pick the adapter that turns a model into a :class:`Dynamics`.

Every neurodyn model describes itself through ``as_dynamics(kind=None, dt=None)``
(:class:`~neurodyn.rnn_models.RateRNN` returns a :class:`RateDynamics`, a wave-RNN a
:class:`WaveDynamics` ...), so this module knows the adapters and never the model
classes: :mod:`neurodyn.rnn_models` depends on :mod:`neurodyn.dynamics` and not back.
"""

from __future__ import annotations

import sys

from .function import FunctionDynamics
from .protocol import Dynamics
from .torch_cells import AutogradDynamics, TorchCellDynamics

__all__ = ["dynamics"]


def dynamics(obj, *, kind=None, dt=None, n_state=None, n_input=None, **kwargs) -> Dynamics:
    """Describe ``obj`` as a :class:`Dynamics` for the analyzers.

    Parameters
    ----------
    obj
        One of

        * a :class:`Dynamics` (returned unchanged);
        * any object with an ``as_dynamics(kind=None, dt=None)`` method: every neurodyn
          model describes itself, e.g. a :class:`~neurodyn.rnn_models.RateRNN` →
          :class:`RateDynamics` (its ODE by default, ``kind="map"`` for the Euler map), a
          :class:`~neurodyn.rnn_models.TimescaleRNN` → :class:`TimescaleDynamics` (a map
          by default), a :class:`~neurodyn.rnn_models.TorchRNN` →
          :class:`TorchCellDynamics`;
        * ``torch.nn.RNN/GRU/LSTM`` or their ``*Cell`` → :class:`TorchCellDynamics`
          (analytic Jacobians);
        * any other ``torch.nn.Module`` with ``cell(u, h) -> h`` →
          :class:`AutogradDynamics` (needs ``n_state`` and ``n_input``);
        * a plain callable ``f(x, u)`` on NumPy arrays → :class:`FunctionDynamics`
          (needs ``n_state``; ``kind`` defaults to ``"map"``).
    kind : {"map", "ode"}, optional
    dt : float, optional
        Step duration in ms where the object does not know its own.
    n_state, n_input : int, optional
        Sizes for modules and functions that do not declare them.
    **kwargs
        Passed to :class:`FunctionDynamics` (``jacobian``, ``input_jacobian``, ``vectorized``).

    Returns
    -------
    Dynamics

    Examples
    --------
    >>> from neurodyn.rnn_models import RateRNN
    >>> dynamics(RateRNN(2, 8, 1, dt=10.0, tau=50.0, seed=0))
    RateDynamics(kind='ode', n_state=8, n_input=2, dt=10.0)
    """
    if isinstance(obj, Dynamics):
        if kind is not None and kind != obj.kind:
            raise ValueError(
                f"obj is already a {obj.kind!r} Dynamics; kind={kind!r} cannot change it"
            )
        return obj
    if hasattr(obj, "as_dynamics"):
        return obj.as_dynamics(kind=kind, dt=dt)
    if _is_torch_module(obj):
        return _module_dynamics(obj, kind=kind, dt=dt, n_state=n_state, n_input=n_input)
    if callable(obj):
        if n_state is None:
            raise ValueError("a function f(x, u) needs n_state (and n_input if it takes inputs)")
        return FunctionDynamics(
            obj, n_state=n_state, n_input=n_input or 0, kind=kind or "map", dt=dt, **kwargs
        )
    raise ValueError(
        f"cannot describe a {type(obj).__name__} as dynamics; expected a neurodyn model, a torch "
        "RNN/GRU/LSTM (or Cell), a module cell(u, h) -> h, or a function f(x, u)"
    )


def _is_torch_module(obj) -> bool:
    """Whether ``obj`` is a ``torch.nn.Module``, without importing torch for a NumPy
    function (torch is loaded already wherever a module exists)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _module_dynamics(obj, *, kind, dt, n_state, n_input) -> Dynamics:
    """A torch RNN/GRU/LSTM (or Cell) with analytic Jacobians, or any module
    ``cell(u, h) -> h`` through autograd."""
    import torch  # loaded already (obj is a module); imported here to keep dynamics torch-free

    analytic = (torch.nn.RNN, torch.nn.GRU, torch.nn.LSTM,
                torch.nn.RNNCell, torch.nn.GRUCell, torch.nn.LSTMCell)  # fmt: skip
    if type(obj) in analytic:
        if kind not in (None, "map"):
            raise ValueError(
                f"{type(obj).__name__} is a discrete map; kind={kind!r} is not possible"
            )
        return TorchCellDynamics.from_module(obj, dt=dt)
    if n_state is None or n_input is None:
        raise ValueError(
            f"{type(obj).__name__} is not a known model; pass n_state and n_input to treat "
            "it as cell(u, h) -> h"
        )
    return AutogradDynamics(obj, n_state=n_state, n_input=n_input, kind=kind or "map", dt=dt)
