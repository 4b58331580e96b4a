r"""The nonlinearities φ that neurodyn's models accept, each defined once.

Every entry holds, for one name:

* the formula on an array namespace ``ops`` (:mod:`neurodyn.dynamics.ops`), so the same
  line evaluates NumPy float64 arrays for the CPU solvers and torch tensors for the GPU
  solver: :meth:`Nonlinearity.value`, :meth:`~Nonlinearity.value_and_derivative`
  (:math:`\phi, \phi'`) and :meth:`~Nonlinearity.second_derivative` (:math:`\phi''`);
* the torch function the models train with (:meth:`Nonlinearity.torch_function`,
  PyTorch's own operator where there is one, so autograd and fused kernels apply);
* the code of the compiled fixed-point kernel (``PhiCode`` in
  ``csrc/include/neurodyn/newton.h``), or None where the kernel has no such φ;
* the closure of its range :math:`[\text{lower}, \text{upper}]` (for
  :meth:`~neurodyn.dynamics.Dynamics.state_bounds`), the slope bound
  :math:`\sup\phi'` (contraction certificates) and the curvature bound
  :math:`\sup|\phi''|` (the Lipschitz constant of a Jacobian, inf at a kink).

==================  ================================  ==================  ============  ======  ================
name                :math:`\phi(z)`                   range               sup φ'        code    sup|φ''|
==================  ================================  ==================  ============  ======  ================
``tanh``            :math:`\tanh z`                   [-1, 1]             1             0       :math:`4/(3\sqrt3)`
``relu``            :math:`\max(z, 0)`                [0, ∞)              1             1       ∞ (kink)
``softplus``        :math:`\log(1 + e^z)`             [0, ∞)              1             2       1/4
``rectified_tanh``  :math:`\tanh\max(z, 0)`           [0, 1]              1             3       ∞ (kink)
``leaky_relu``      :math:`\max(z, 0) + a\min(z,0)`   (-∞, ∞)             max(1, a)     —       ∞ (kink)
``sigmoid``         :math:`1/(1 + e^{-z})`            [0, 1]              1/4           —       :math:`1/(6\sqrt3)`
==================  ================================  ==================  ============  ======  ================

At a kink the derivative is the one PyTorch's autograd takes: :math:`\phi'(0) = 0` for
ReLU and the rectified tanh, :math:`a` for the leaky ReLU; :math:`\phi''` is 0 away
from the kink (and taken as the smooth side's value there).
"""

from __future__ import annotations

import abc
import functools
import math
from dataclasses import dataclass
from typing import ClassVar

from .._validation import check_choice, check_positive

__all__ = [
    "LEAKY_SLOPE",
    "NONLINEARITIES",
    "PHI_CODES",
    "PHI_CURVATURE",
    "RATE_NONLINEARITIES",
    "TIMESCALE_NONLINEARITIES",
    "LeakyReLU",
    "Nonlinearity",
    "ReLU",
    "RectifiedTanh",
    "Sigmoid",
    "Softplus",
    "Tanh",
    "get_nonlinearity",
    "phi_and_derivative",
]

#: Negative slope of the leaky ReLU (PyTorch's default, the timescale paper's φ).
LEAKY_SLOPE = 0.01


class Nonlinearity(abc.ABC):
    r"""One elementwise nonlinearity φ: formulas, torch function, kernel code and bounds.

    Subclasses implement :meth:`value_and_derivative`, :meth:`second_derivative` and the
    torch function once, on an array namespace ``ops`` (:mod:`neurodyn.dynamics.ops`),
    so the same formula evaluates NumPy arrays and torch tensors. The instances in
    :data:`NONLINEARITIES` are the ones the models use; :func:`get_nonlinearity` looks
    one up by name.

    Examples
    --------
    The derivative every entry returns is that of its formula (a centred finite
    difference agrees to :math:`O(h^2)`):

    >>> import numpy as np
    >>> from neurodyn.dynamics.ops import NUMPY
    >>> z, h = np.linspace(-2.0, 2.0, 9) + 0.05, 1e-6
    >>> agree = {}
    >>> for name, phi in NONLINEARITIES.items():
    ...     fd = (phi.value(NUMPY, z + h) - phi.value(NUMPY, z - h)) / (2 * h)
    ...     agree[name] = bool(np.allclose(phi.derivative(NUMPY, z), fd, atol=1e-8))
    >>> len(agree), all(agree.values())
    (6, True)
    >>> isinstance(NONLINEARITIES["tanh"], Nonlinearity), Tanh().name, Tanh().upper
    (True, 'tanh', 1.0)
    """

    #: Name used by model configurations and saved files.
    name: ClassVar[str]
    #: ``PhiCode`` of the compiled fixed-point kernel, None where it has none.
    kernel_code: ClassVar[int | None] = None
    #: Closure of the range of φ.
    lower: ClassVar[float]
    upper: ClassVar[float]
    #: :math:`\sup\phi'` (every φ here is also non-decreasing, :math:`\phi' \ge 0`).
    slope_bound: ClassVar[float] = 1.0
    #: :math:`\sup|\phi''|`; inf where φ has a kink (its Jacobians are not Lipschitz).
    curvature: ClassVar[float]

    @abc.abstractmethod
    def value_and_derivative(self, ops, z):
        r"""``(φ(z), φ'(z))`` elementwise on the arrays of namespace ``ops``.

        Parameters
        ----------
        ops : NumpyOps or TorchOps
            The array namespace of ``z`` (:data:`~neurodyn.dynamics.ops.NUMPY`, or
            :func:`~neurodyn.dynamics.ops.TORCH` for tensors;
            :func:`~neurodyn.dynamics.ops.ops_for` picks it).
        z : ndarray or torch.Tensor
            Pre-activations, any shape.

        Returns
        -------
        tuple of two arrays
            :math:`\phi(z)` and :math:`\phi'(z)`, each of the shape and type of ``z``.
        """

    @abc.abstractmethod
    def second_derivative(self, ops, z):
        r""":math:`\phi''(z)` elementwise (0 on the flat pieces of a piecewise φ).

        Parameters
        ----------
        ops : NumpyOps or TorchOps
            The array namespace of ``z`` (:data:`~neurodyn.dynamics.ops.NUMPY`, or
            :func:`~neurodyn.dynamics.ops.TORCH` for tensors;
            :func:`~neurodyn.dynamics.ops.ops_for` picks it).
        z : ndarray or torch.Tensor
            Pre-activations, any shape.
        """

    @abc.abstractmethod
    def _build_torch_function(self):
        """The torch callable (imports torch)."""

    def value(self, ops, z):
        """φ(z) elementwise on the arrays of namespace ``ops``.

        Parameters
        ----------
        ops : NumpyOps or TorchOps
            The array namespace of ``z`` (:data:`~neurodyn.dynamics.ops.NUMPY`, or
            :func:`~neurodyn.dynamics.ops.TORCH` for tensors;
            :func:`~neurodyn.dynamics.ops.ops_for` picks it).
        z : ndarray or torch.Tensor
            Pre-activations, any shape.
        """
        return self.value_and_derivative(ops, z)[0]

    def derivative(self, ops, z):
        """φ'(z) elementwise on the arrays of namespace ``ops``.

        Parameters
        ----------
        ops : NumpyOps or TorchOps
            The array namespace of ``z`` (:data:`~neurodyn.dynamics.ops.NUMPY`, or
            :func:`~neurodyn.dynamics.ops.TORCH` for tensors;
            :func:`~neurodyn.dynamics.ops.ops_for` picks it).
        z : ndarray or torch.Tensor
            Pre-activations, any shape.
        """
        return self.value_and_derivative(ops, z)[1]

    def torch_function(self):
        """The torch callable ``tensor -> tensor`` the models train with.

        torch is imported here, on first use, so that ``neurodyn.dynamics`` loads
        without it.
        """
        return _torch_function(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@functools.cache
def _torch_function(phi: Nonlinearity):
    return phi._build_torch_function()


@dataclass(frozen=True, repr=False)
class Tanh(Nonlinearity):
    r""":math:`\phi = \tanh`, :math:`\phi' = 1 - \phi^2`, :math:`\phi'' = -2\phi(1 - \phi^2)`.

    :math:`|\phi''|` peaks where :math:`\phi^2 = 1/3`, at :math:`4/(3\sqrt 3)`.

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.dynamics.ops import NUMPY
    >>> phi = Tanh()
    >>> z = np.array([-1.0, 0.5, 2.0])
    >>> y, dy = phi.value_and_derivative(NUMPY, z)
    >>> bool(np.allclose(dy, 1 - np.tanh(z) ** 2))
    True
    >>> z_peak = np.arctanh(1 / np.sqrt(3))  # where |φ''| is largest
    >>> bool(np.isclose(abs(phi.second_derivative(NUMPY, z_peak)), phi.curvature))
    True
    >>> phi.kernel_code, (phi.lower, phi.upper)
    (0, (-1.0, 1.0))
    """

    name: ClassVar[str] = "tanh"
    kernel_code: ClassVar[int | None] = 0
    lower: ClassVar[float] = -1.0
    upper: ClassVar[float] = 1.0
    curvature: ClassVar[float] = 4.0 / (3.0 * math.sqrt(3.0))

    def value_and_derivative(self, ops, z):
        t = ops.tanh(z)
        return t, 1.0 - t * t

    def second_derivative(self, ops, z):
        t = ops.tanh(z)
        return -2.0 * t * (1.0 - t * t)

    def _build_torch_function(self):
        import torch

        return torch.tanh


@dataclass(frozen=True, repr=False)
class ReLU(Nonlinearity):
    r""":math:`\phi = \max(z, 0)`, :math:`\phi' = H(z)` with :math:`H(0) = 0`.

    Examples
    --------
    The derivative at the kink is 0, the one PyTorch's autograd takes:

    >>> import numpy as np
    >>> from neurodyn.dynamics.ops import NUMPY
    >>> y, dy = ReLU().value_and_derivative(NUMPY, np.array([-1.0, 0.0, 2.0]))
    >>> y, dy
    (array([0., 0., 2.]), array([0., 0., 1.]))
    >>> ReLU().curvature  # no Lipschitz bound on the Jacobian across the kink
    inf
    """

    name: ClassVar[str] = "relu"
    kernel_code: ClassVar[int | None] = 1
    lower: ClassVar[float] = 0.0
    upper: ClassVar[float] = math.inf
    curvature: ClassVar[float] = math.inf

    def value_and_derivative(self, ops, z):
        return ops.relu(z), ops.step(z)

    def second_derivative(self, ops, z):
        return 0.0 * z

    def _build_torch_function(self):
        import torch.nn.functional as F

        return F.relu


@dataclass(frozen=True, repr=False)
class Softplus(Nonlinearity):
    r""":math:`\phi = \log(1 + e^z)`, :math:`\phi' = \sigma(z)`,
    :math:`\phi'' = \sigma(1 - \sigma) \le 1/4` (at z = 0).

    The array formula is exact for every z; the torch function is PyTorch's, which
    returns z above z = 20 (a relative difference below :math:`e^{-20}/20`).

    Examples
    --------
    :math:`\phi(0) = \log 2`, :math:`\phi'(0) = 1/2`, and :math:`\phi''` peaks at 0
    with value :data:`curvature`:

    >>> import numpy as np
    >>> from neurodyn.dynamics.ops import NUMPY
    >>> phi = Softplus()
    >>> y, dy = phi.value_and_derivative(NUMPY, np.array([0.0, 800.0]))
    >>> bool(np.isclose(y[0], np.log(2.0))), float(dy[0]), float(y[1])  # no overflow
    (True, 0.5, 800.0)
    >>> float(phi.second_derivative(NUMPY, np.array([0.0]))[0]) == phi.curvature
    True
    """

    name: ClassVar[str] = "softplus"
    kernel_code: ClassVar[int | None] = 2
    lower: ClassVar[float] = 0.0
    upper: ClassVar[float] = math.inf
    curvature: ClassVar[float] = 0.25

    def value_and_derivative(self, ops, z):
        return ops.softplus(z), ops.sigmoid(z)

    def second_derivative(self, ops, z):
        s = ops.sigmoid(z)
        return s * (1.0 - s)

    def _build_torch_function(self):
        import torch.nn.functional as F

        return F.softplus


@dataclass(frozen=True, repr=False)
class RectifiedTanh(Nonlinearity):
    r""":math:`\phi = \tanh\max(z, 0)`: tanh above 0, flat at 0 below (a kink at 0).

    Its range is [0, 1], so rates read from it are non-negative and bounded (it can
    serve as a Poisson intensity in spikes per ms).

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.dynamics.ops import NUMPY
    >>> y, dy = RectifiedTanh().value_and_derivative(NUMPY, np.array([-2.0, 1.0]))
    >>> float(y[0]), float(dy[0])  # flat below 0
    (0.0, 0.0)
    >>> bool(np.isclose(y[1], np.tanh(1.0))), bool(np.isclose(dy[1], 1 - np.tanh(1.0) ** 2))
    (True, True)
    >>> RectifiedTanh().name, RectifiedTanh().kernel_code
    ('rectified_tanh', 3)
    """

    name: ClassVar[str] = "rectified_tanh"
    kernel_code: ClassVar[int | None] = 3
    lower: ClassVar[float] = 0.0
    upper: ClassVar[float] = 1.0
    curvature: ClassVar[float] = math.inf

    def value_and_derivative(self, ops, z):
        t = ops.tanh(ops.relu(z))
        return t, ops.step(z) * (1.0 - t * t)

    def second_derivative(self, ops, z):
        t = ops.tanh(ops.relu(z))
        return -2.0 * t * (1.0 - t * t)

    def _build_torch_function(self):
        return _rectified_tanh


def _rectified_tanh(x):
    # Module level (not a closure) so models holding it deep-copy and pickle.
    import torch

    return torch.tanh(torch.relu(x))


@dataclass(frozen=True, repr=False)
class LeakyReLU(Nonlinearity):
    r""":math:`\phi = z` above 0 and :math:`a z` below, :math:`\phi'(0) = a` (as PyTorch).

    Parameters
    ----------
    negative_slope : float
        :math:`a \ge 0` (default :data:`LEAKY_SLOPE` = 0.01).

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.dynamics.ops import NUMPY
    >>> phi = LeakyReLU(negative_slope=0.1)
    >>> y, dy = phi.value_and_derivative(NUMPY, np.array([-2.0, 0.0, 3.0]))
    >>> np.round(y, 6), dy
    (array([-0.2,  0. ,  3. ]), array([0.1, 0.1, 1. ]))
    >>> LeakyReLU(negative_slope=2.0).slope_bound  # sup φ' = max(1, a)
    2.0
    """

    negative_slope: float = LEAKY_SLOPE
    name: ClassVar[str] = "leaky_relu"
    lower: ClassVar[float] = -math.inf
    upper: ClassVar[float] = math.inf
    curvature: ClassVar[float] = math.inf

    def __post_init__(self):
        check_positive("negative_slope", self.negative_slope, allow_zero=True)

    @property
    def slope_bound(self) -> float:  # type: ignore[override]
        return max(1.0, float(self.negative_slope))

    def value_and_derivative(self, ops, z):
        a = self.negative_slope
        d = a + (1.0 - a) * ops.step(z)
        return z * d, d

    def second_derivative(self, ops, z):
        return 0.0 * z

    def _build_torch_function(self):
        import torch.nn.functional as F

        return functools.partial(F.leaky_relu, negative_slope=self.negative_slope)

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope!r})"


@dataclass(frozen=True, repr=False)
class Sigmoid(Nonlinearity):
    r""":math:`\phi = \sigma(z) = 1/(1 + e^{-z})`, :math:`\phi' = \sigma(1 - \sigma) \le 1/4`,
    :math:`\phi'' = \sigma(1 - \sigma)(1 - 2\sigma)`, whose modulus peaks at
    :math:`\sigma = (3 \pm \sqrt 3)/6` with value :math:`1/(6\sqrt 3)`.

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.dynamics.ops import NUMPY
    >>> phi = Sigmoid()
    >>> y, dy = phi.value_and_derivative(NUMPY, np.array([0.0]))
    >>> float(y[0]), float(dy[0]), phi.slope_bound  # φ' is largest at 0
    (0.5, 0.25, 0.25)
    >>> z_peak = np.log((3 + np.sqrt(3)) / (3 - np.sqrt(3)))  # σ(z) = (3 + √3)/6
    >>> bool(np.isclose(abs(phi.second_derivative(NUMPY, z_peak)), phi.curvature))
    True
    """

    name: ClassVar[str] = "sigmoid"
    lower: ClassVar[float] = 0.0
    upper: ClassVar[float] = 1.0
    slope_bound: ClassVar[float] = 0.25
    curvature: ClassVar[float] = 1.0 / (6.0 * math.sqrt(3.0))

    def value_and_derivative(self, ops, z):
        s = ops.sigmoid(z)
        return s, s * (1.0 - s)

    def second_derivative(self, ops, z):
        s = ops.sigmoid(z)
        return s * (1.0 - s) * (1.0 - 2.0 * s)

    def _build_torch_function(self):
        import torch

        return torch.sigmoid


#: Every nonlinearity by name (the leaky ReLU with its default slope).
NONLINEARITIES: dict[str, Nonlinearity] = {
    phi.name: phi for phi in (Tanh(), ReLU(), Softplus(), RectifiedTanh(), LeakyReLU(), Sigmoid())
}

#: The names rate networks (rate RNN, RNNs of RNNs, Elman cells) accept: those the
#: compiled kernel evaluates.
RATE_NONLINEARITIES = tuple(n for n, phi in NONLINEARITIES.items() if phi.kernel_code is not None)

#: The names the timescale RNN accepts (the paper's leaky ReLU first).
TIMESCALE_NONLINEARITIES = ("leaky_relu", "relu", "tanh", "sigmoid")

#: Kernel code of each name the compiled kernel evaluates.
PHI_CODES = {n: NONLINEARITIES[n].kernel_code for n in RATE_NONLINEARITIES}

#: :math:`\sup|\phi''|` indexed by kernel code.
PHI_CURVATURE = tuple(
    NONLINEARITIES[n].curvature for n in sorted(PHI_CODES, key=PHI_CODES.__getitem__)
)


def get_nonlinearity(
    name: str, *, choices=None, negative_slope: float = LEAKY_SLOPE
) -> Nonlinearity:
    """The entry for ``name``, checked against ``choices`` (default: every name).

    Parameters
    ----------
    name : str
    choices : iterable of str, optional
        The names the caller accepts; a name outside them raises ValueError naming
        ``nonlinearity``.
    negative_slope : float
        Slope below 0 of ``"leaky_relu"`` (ignored by the others).

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.dynamics.ops import NUMPY
    >>> get_nonlinearity("softplus").value_and_derivative(NUMPY, np.array([0.0]))
    (array([0.69314718]), array([0.5]))
    """
    check_choice("nonlinearity", name, NONLINEARITIES if choices is None else choices)
    if name == "leaky_relu" and negative_slope != LEAKY_SLOPE:
        return LeakyReLU(negative_slope)
    return NONLINEARITIES[name]


def phi_and_derivative(ops, name: str, z):
    """``(φ(z), φ'(z))`` for a nonlinearity name, on NumPy or torch arrays.

    Parameters
    ----------
    ops : NumpyOps or TorchOps
        The array namespace of ``z`` (:func:`~neurodyn.dynamics.ops.ops_for` picks it).
    name : str
        A key of :data:`NONLINEARITIES` (the leaky ReLU takes its default slope).
    z : ndarray or torch.Tensor
        Pre-activations, any shape.

    Returns
    -------
    tuple of two arrays
        φ(z) and φ'(z), each of the shape and type of ``z``.

    Examples
    --------
    The same call on NumPy arrays and on torch tensors:

    >>> import numpy as np, torch
    >>> from neurodyn.dynamics.ops import ops_for
    >>> z = np.array([0.0, 1.0])
    >>> y, dy = phi_and_derivative(ops_for(z), "tanh", z)
    >>> yt, dyt = phi_and_derivative(ops_for(torch.tensor(z)), "tanh", torch.tensor(z))
    >>> bool(np.allclose(y, yt.numpy())), bool(np.allclose(dy, 1 - y**2)), type(yt).__name__
    (True, True, 'Tensor')
    """
    return get_nonlinearity(name).value_and_derivative(ops, z)
