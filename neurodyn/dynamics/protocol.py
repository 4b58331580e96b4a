r"""The dynamics protocol: the one interface every analyzer uses (DESIGN principle 1).

A :class:`Dynamics` is a frozen description of an autonomous-given-input system,
either a discrete map or an ODE,

.. math::

    \text{map: } x_{t+1} = F(x_t, u), \qquad \text{ODE: } \dot x = f(x, u),

with state :math:`x \in \mathbb R^{d}` (``n_state``) and input
:math:`u \in \mathbb R^{m}` (``n_input``). Analyzers only ever need

* the **residual** :math:`r(x, u)`, which is zero exactly at fixed points:
  :math:`F(x,u) - x` for maps (per step) and :math:`f(x,u)` for ODEs (per ms);
* its Jacobian :math:`A = \partial r/\partial x` (``J - I`` for maps, ``J`` for ODEs);
* the model's own Jacobians :math:`J = \partial F/\partial x` or :math:`\partial f/\partial x`
  and :math:`B = \partial F/\partial u` or :math:`\partial f/\partial u`.

Every method is batched over many states: ``x`` has shape (n, d) (or (d,)), ``u``
has shape (n, m) or (m,) (broadcast to every state). Public methods take and return
float64 NumPy arrays; ``torch_*`` methods do the same in torch on :attr:`Dynamics.device`,
which is how the GPU solver runs without leaving the device.

Adapters implement three private methods against an array namespace ``ops``
(:mod:`neurodyn.dynamics.ops`) so that one formula serves NumPy and torch:
``_residual(ops, x, c)``, ``_residual_jacobian(ops, x, c)`` and
``_input_jacobian(ops, x, c)``, where ``c = _prepare(ops, u)`` is whatever per-state
constant the model needs (for RNNs the input drive :math:`W_{in}u + b`, computed
once per solve rather than once per iteration).
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar, NamedTuple

import numpy as np

from .ops import NUMPY, TORCH

__all__ = ["Dynamics", "KernelSpec"]


class KernelSpec(NamedTuple):
    r"""What the compiled fixed-point kernel needs to evaluate a structured model.

    Attributes
    ----------
    model : int
        Model code (see :mod:`neurodyn.analysis.fixed_points.kernel`): 0 rate, 1 Elman RNN, 2 GRU, 3 LSTM.
    phi : int
        Nonlinearity code: 0 tanh, 1 relu, 2 softplus, 3 rectified tanh.
    weight : ndarray (a, h)
        Recurrent weights (stacked gates for GRU/LSTM).
    bias : ndarray (a,)
        Recurrent bias the kernel needs separately (GRU's ``b_hh``); zeros otherwise.
    scale : ndarray (h,)
        Row scale of the rate residual (``1/tau`` or ``alpha``); ones otherwise.

    Examples
    --------
    A rate network's spec, read by :meth:`Dynamics.kernel_spec`: model code 0, the
    code of its φ, its weights and the row scale :math:`1/\tau` of its ODE (per ms):

    >>> from neurodyn.dynamics import RateDynamics
    >>> dyn = RateDynamics(W=0.5 * np.eye(2), W_in=np.ones((2, 1)), tau=10.0, dt=1.0,
    ...                    nonlinearity="relu")
    >>> spec = dyn.kernel_spec()
    >>> spec.model, spec.phi, spec.weight.shape, spec.scale
    (0, 1, (2, 2), array([0.1, 0.1]))
    """

    model: int
    phi: int
    weight: np.ndarray
    bias: np.ndarray
    scale: np.ndarray


class Dynamics(abc.ABC):
    r"""Abstract base of every dynamical system neurodyn can analyse.

    Attributes
    ----------
    kind : {"map", "ode"}
        Discrete map (``step``) or continuous-time system (``velocity``).
    n_state, n_input : int
        Dimensions :math:`d` and :math:`m`.
    dt : float
        Time step in ms: the duration of one map step, or the Euler step that
        :meth:`step` uses for an ODE. User systems without time units use 1.0
        (``time_unit == "step"``).
    time_unit : str
        ``"ms"`` for neurodyn and PyTorch models, ``"step"`` for bare functions.
    state_dim : str
        Name of the state dimension in labelled results (``"unit"`` when every
        state variable is one unit, ``"state"`` otherwise, e.g. the LSTM's ``[h, c]``).
    device : str
        Where the torch path runs (``"cpu"`` for NumPy-only systems).

    Examples
    --------
    A system of one's own: a subclass sets the sizes and writes the residual and its
    Jacobians once against ``ops``; the public methods (NumPy and torch) and every
    analyzer then work. Here the linear ODE :math:`\dot x = Mx + u`, whose Jacobian is
    :math:`M` everywhere:

    >>> class Linear(Dynamics):
    ...     kind = "ode"
    ...     def __init__(self, M):
    ...         self.M = np.asarray(M, dtype=float)
    ...         self.n_state = self.n_input = len(self.M)
    ...     def _residual(self, ops, x, c):
    ...         M, = self._on(ops, x, (self.M,))
    ...         return x @ M.T + c
    ...     def _residual_jacobian(self, ops, x, c):
    ...         M, = self._on(ops, x, (self.M,))
    ...         return x @ M.T + c, M + 0.0 * x[:, :, None]
    ...     def _input_jacobian(self, ops, x, c):
    ...         return ops.eye(self.n_state, x) + 0.0 * x[:, :, None]
    >>> rot = Linear([[-0.1, -1.0], [1.0, -0.1]])
    >>> rot.velocity([1.0, 0.0])
    array([-0.1,  1. ])
    >>> rot.jacobian(np.zeros((3, 2))).shape, rot.residual([0.0, 0.0], [1.0, 0.0])
    ((3, 2, 2), array([1., 0.]))
    >>> rot.torch_residual([1.0, 0.0]).tolist()  # the same formula on torch tensors
    [[-0.1, 1.0]]
    >>> rot
    Linear(kind='ode', n_state=2, n_input=2, dt=1.0)
    """

    kind: ClassVar[str] | str = "map"
    n_state: int
    n_input: int
    dt: float = 1.0
    time_unit: str = "ms"
    state_dim: str = "unit"
    device: Any = "cpu"

    # -- to implement -----------------------------------------------------------------
    def _prepare(self, ops, u):
        """Per-state constants computed once from the inputs (default: ``u`` itself)."""
        return u

    @abc.abstractmethod
    def _residual(self, ops, x, c):
        """Residual r(x, u) for states (n, d) and prepared inputs ``c``."""

    @abc.abstractmethod
    def _residual_jacobian(self, ops, x, c):
        """``(r, A)`` with A = ∂r/∂x of shape (n, d, d)."""

    @abc.abstractmethod
    def _input_jacobian(self, ops, x, c):
        """∂F/∂u (maps) or ∂f/∂u (ODEs), shape (n, d, m)."""

    def _vjp(self, ops, x, c, v):
        """Aᵀv for each state (the gradient of ½‖r‖² when v = r); override when cheaper."""
        _, a = self._residual_jacobian(ops, x, c)
        return ops.einsum("nij,ni->nj", a, v)

    def kernel_spec(self) -> KernelSpec | None:
        """Arrays for the compiled fixed-point kernel, or None when the model has no
        kernel (its structure is not one of the kernel's models)."""
        return None

    def state_bounds(self) -> tuple[np.ndarray, np.ndarray] | None:
        r"""The box :math:`l \le x \le u` that holds every state the model can reach,
        as ``(lower, upper)`` arrays (n_state,) with infinite entries where a variable
        is unbounded, or None when the states are not bounded.

        For example :math:`|h| \le 1` for a GRU, whose update
        :math:`h' = (1 - z)\,n + z\,h` with :math:`n = \tanh(\cdot)` keeps a state in
        the box; :math:`h \ge 0` for a ReLU map. The fixed-point solver stops a
        candidate that wanders off this set, where no fixed point lies.
        """
        return None

    def state_coords(self) -> dict[str, np.ndarray]:
        """Labels along the state dimension (for example ``component`` = h/c for LSTMs)."""
        return {}

    # -- validation -------------------------------------------------------------------
    def _on(self, ops, like, arrays: tuple) -> tuple:
        """``arrays`` in the namespace of ``ops``, on the device and dtype of ``like``.

        NumPy arrays are returned as they are; their torch copies are made once per
        device and dtype and cached, so an iterative solver never re-uploads weights.
        """
        if ops.name == "numpy":
            return arrays
        cache = self.__dict__.setdefault("_torch_cache", {})
        key = (str(like.device), like.dtype)
        if key not in cache:
            cache[key] = tuple(ops.asarray(a, like) for a in arrays)
        return cache[key]

    def check_states(self, x, name: str = "x") -> np.ndarray:
        """Return ``x`` as a float64 array (n, d), raising ValueError on a bad shape or NaN.

        Parameters
        ----------
        x : array_like
            States, shape (n, d) or (d,).
        name : str
            The argument's name in the error message.
        """
        a = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=np.float64)
        if a.ndim == 1:
            a = a[None, :]
        if a.ndim != 2 or a.shape[1] != self.n_state:
            raise ValueError(
                f"{name} has shape {np.shape(x)}; expected (n_state,) or (n, n_state) "
                f"with n_state={self.n_state}"
            )
        if not np.all(np.isfinite(a)):
            bad = int(np.sum(~np.all(np.isfinite(a), axis=1)))
            raise ValueError(f"{name} contains NaN or infinite values in {bad} state(s)")
        return a

    def check_inputs(self, u, n: int, name: str = "u") -> np.ndarray:
        """Return inputs as float64 (n, m): ``None`` means zero input; (m,) is broadcast.

        Parameters
        ----------
        u : array_like or None
            Inputs, shape (n, m) or (m,).
        n : int
            The number of states they go with.
        name : str
            The argument's name in the error message.
        """
        if u is None:
            return np.zeros((n, self.n_input))
        a = np.asarray(u.detach().cpu() if hasattr(u, "detach") else u, dtype=np.float64)
        if a.ndim == 0 and self.n_input == 1:
            a = a.reshape(1)
        if a.ndim == 1:
            if a.shape[0] != self.n_input:
                raise ValueError(
                    f"{name} has {a.shape[0]} entries; the system has n_input={self.n_input}"
                )
            a = np.broadcast_to(a, (n, self.n_input))
        if a.ndim != 2 or a.shape[1] != self.n_input or a.shape[0] not in (1, n):
            raise ValueError(
                f"{name} has shape {np.shape(u)}; expected ({self.n_input},), "
                f"(1, {self.n_input}) or ({n}, {self.n_input}) (n_input={self.n_input})"
            )
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or infinite values")
        return np.broadcast_to(a, (n, self.n_input)).copy()

    def _args(self, x, u):
        xa = self.check_states(x)
        return xa, self.check_inputs(u, len(xa)), np.ndim(x) == 1

    # -- public NumPy API --------------------------------------------------------------
    def residual(self, x, u=None) -> np.ndarray:
        """``F(x,u) - x`` (maps) or ``f(x,u)`` (ODEs); zero exactly at fixed points.

        Parameters
        ----------
        x : array_like
            States, shape (n, d) or (d,).
        u : array_like, optional
            Inputs, shape (n, m) or (m,); None is zero input.
        """
        xa, ua, single = self._args(x, u)
        r = np.asarray(self._residual(NUMPY, xa, self._prepare(NUMPY, ua)))
        return r[0] if single else r

    def step(self, x, u=None) -> np.ndarray:
        """One map step ``F(x, u)``; for an ODE, one Euler step ``x + dt f(x, u)``.

        Parameters
        ----------
        x : array_like
            States, shape (n, d) or (d,).
        u : array_like, optional
            Inputs, shape (n, m) or (m,); None is zero input.
        """
        xa, ua, single = self._args(x, u)
        r = np.asarray(self._residual(NUMPY, xa, self._prepare(NUMPY, ua)))
        out = xa + (r if self.kind == "map" else self.dt * r)
        return out[0] if single else out

    def velocity(self, x, u=None) -> np.ndarray:
        """``f(x, u)`` for an ODE; for a map, the mean velocity ``(F(x,u) - x)/dt``.

        Parameters
        ----------
        x : array_like
            States, shape (n, d) or (d,).
        u : array_like, optional
            Inputs, shape (n, m) or (m,); None is zero input.
        """
        xa, ua, single = self._args(x, u)
        r = np.asarray(self._residual(NUMPY, xa, self._prepare(NUMPY, ua)))
        out = r if self.kind == "ode" else r / self.dt
        return out[0] if single else out

    def residual_jacobian(self, x, u=None) -> np.ndarray:
        """∂r/∂x, shape (n, d, d): ``J - I`` for maps, ``J`` for ODEs.

        Parameters
        ----------
        x : array_like
            States, shape (n, d) or (d,).
        u : array_like, optional
            Inputs, shape (n, m) or (m,); None is zero input.
        """
        xa, ua, single = self._args(x, u)
        _, a = self._residual_jacobian(NUMPY, xa, self._prepare(NUMPY, ua))
        return a[0] if single else a

    def jacobian(self, x, u=None) -> np.ndarray:
        """The model's Jacobian ∂F/∂x (maps) or ∂f/∂x (ODEs), shape (n, d, d).

        Parameters
        ----------
        x : array_like
            States, shape (n, d) or (d,).
        u : array_like, optional
            Inputs, shape (n, m) or (m,); None is zero input.
        """
        xa, ua, single = self._args(x, u)
        _, a = self._residual_jacobian(NUMPY, xa, self._prepare(NUMPY, ua))
        a = np.array(a)
        if self.kind == "map":
            a += np.eye(self.n_state)
        return a[0] if single else a

    def input_jacobian(self, x, u=None) -> np.ndarray:
        """∂F/∂u (maps) or ∂f/∂u (ODEs), shape (n, d, m).

        Parameters
        ----------
        x : array_like
            States, shape (n, d) or (d,).
        u : array_like, optional
            Inputs, shape (n, m) or (m,); None is zero input.
        """
        xa, ua, single = self._args(x, u)
        b = np.asarray(self._input_jacobian(NUMPY, xa, self._prepare(NUMPY, ua)))
        return b[0] if single else b

    def vjp(self, x, u, v) -> np.ndarray:
        """``A(x,u)ᵀ v`` per state: with ``v = r`` the gradient of q = ½‖r‖².

        Parameters
        ----------
        x : array_like
            States, shape (n, d) or (d,).
        u : array_like or None
            Inputs, shape (n, m) or (m,); None is zero input.
        v : array_like
            One vector per state, shape (n, d).
        """
        xa, ua, single = self._args(x, u)
        va = np.asarray(v, dtype=np.float64).reshape(xa.shape)
        g = np.asarray(self._vjp(NUMPY, xa, self._prepare(NUMPY, ua), va))
        return g[0] if single else g

    # -- torch API ----------------------------------------------------------------------
    def _torch(self, x, u):
        import torch

        x = torch.as_tensor(x, dtype=torch.float64, device=self.device)
        if x.ndim == 1:
            x = x[None]
        if u is None:
            u = torch.zeros((x.shape[0], self.n_input), dtype=torch.float64, device=self.device)
        u = torch.as_tensor(u, dtype=torch.float64, device=self.device)
        return x, u.expand(x.shape[0], self.n_input)

    def torch_residual(self, x, u=None):
        """The residual on torch float64 tensors on :attr:`device` (differentiable).

        Parameters
        ----------
        x : array_like or torch.Tensor
            States, shape (n, d) or (d,).
        u : array_like or torch.Tensor, optional
            Inputs, shape (n, m) or (m,); None is zero input.
        """
        ops = TORCH()
        x, u = self._torch(x, u)
        return self._residual(ops, x, self._prepare(ops, u))

    def torch_residual_jacobian(self, x, u=None):
        """``(r, A)`` on torch float64 tensors on :attr:`device`.

        Parameters
        ----------
        x : array_like or torch.Tensor
            States, shape (n, d) or (d,).
        u : array_like or torch.Tensor, optional
            Inputs, shape (n, m) or (m,); None is zero input.
        """
        ops = TORCH()
        x, u = self._torch(x, u)
        return self._residual_jacobian(ops, x, self._prepare(ops, u))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kind={self.kind!r}, n_state={self.n_state}, "
            f"n_input={self.n_input}, dt={self.dt})"
        )
