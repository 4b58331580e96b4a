r"""Array namespaces: one formula written once, run on NumPy and on torch.

Part of the :class:`~neurodyn.dynamics.Dynamics` protocol. An adapter writes its
residual and Jacobians once against a namespace ``ops`` (``ops.tanh``, ``ops.einsum``,
``ops.solve`` ...), and the same code runs on float64 NumPy arrays for the CPU solvers
(:data:`NUMPY`) and on torch tensors on the model's device for the GPU solver
(:func:`TORCH`). A user-defined :class:`~neurodyn.dynamics.Dynamics` subclass uses them
the same way::

    def _residual(self, ops, x, c):
        return -x + ops.einsum("ij,nj->ni", self.weight, ops.tanh(x)) + c

Two conventions hold in both namespaces:

* the step function is the Heaviside step with :math:`H(0) = 0` (the derivative
  torch takes for ReLU at 0), and softplus is the exact :math:`\log(1 + e^x)`
  everywhere (torch's own ``softplus`` switches to :math:`x` above 20; NumPy does not);
* :meth:`NumpyOps.solve` and :meth:`TorchOps.solve` solve a batch
  :math:`A_i x_i = b_i` and report singular or non-finite items in a boolean ``ok``
  instead of raising, so one singular matrix never stops a batch of solver iterations.

The namespaces hold only what the adapters and the batched fixed-point solver need.
:func:`TORCH` builds the torch namespace on first use, so importing this module never
imports torch.

Examples
--------
>>> import numpy as np
>>> from neurodyn.dynamics.ops import NUMPY, ops_for
>>> ops_for(np.zeros(2)) is NUMPY
True
>>> a = np.array([[[2.0, 0.0], [0.0, 4.0]], [[1.0, 1.0], [1.0, 1.0]]])
>>> x, ok = NUMPY.solve(a, np.array([[2.0, 4.0], [1.0, 1.0]]))
>>> x[0], ok
(array([1., 1.]), array([ True, False]))
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["NUMPY", "TORCH", "NumpyOps", "TorchOps", "ops_for"]


class NumpyOps:
    """The NumPy namespace: functions on float64 ``numpy.ndarray``.

    Use the shared instance :data:`NUMPY`. Batched linear solves fall back to one matrix
    at a time when NumPy raises for a singular matrix in the batch.

    Examples
    --------
    A residual written once against ``ops``, here :math:`r(x) = -x + W\tanh(x)` for a
    batch of states (n, d), evaluated on NumPy arrays:

    >>> import numpy as np
    >>> W = np.array([[0.0, 2.0], [-2.0, 0.0]])
    >>> def residual(ops, x):
    ...     return -x + ops.einsum("ij,nj->ni", W, ops.tanh(x))
    >>> x = np.array([[0.0, 0.0], [1.0, -1.0]])
    >>> r = residual(NUMPY, x)
    >>> r.shape, bool(np.allclose(r[0], 0.0))  # the origin is a fixed point
    ((2, 2), True)
    >>> NUMPY.name, NUMPY.softplus(np.array([1000.0]))  # exact, no overflow
    ('numpy', array([1000.]))
    """

    name = "numpy"

    tanh = staticmethod(np.tanh)
    exp = staticmethod(np.exp)
    sqrt = staticmethod(np.sqrt)
    abs = staticmethod(np.abs)
    isfinite = staticmethod(np.isfinite)
    where = staticmethod(np.where)
    einsum = staticmethod(np.einsum)

    @staticmethod
    def sigmoid(x):
        return special.expit(x)

    @staticmethod
    def relu(x):
        return np.maximum(x, 0.0)

    @staticmethod
    def softplus(x):
        # log(1 + e^x) without overflow for large x.
        return np.logaddexp(0.0, x)

    @staticmethod
    def step(x):
        """Heaviside step with H(0) = 0 (the derivative PyTorch uses for ReLU).

        Parameters
        ----------
        x : ndarray
            Any shape; the result has its shape and dtype.
        """
        return (x > 0).astype(x.dtype)

    @staticmethod
    def eye(n, like):
        return np.eye(n, dtype=like.dtype)

    @staticmethod
    def zeros(shape, like):
        return np.zeros(shape, dtype=like.dtype)

    @staticmethod
    def cat(arrays, axis=-1):
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def asarray(x, like):
        return np.asarray(x, dtype=like.dtype)

    @staticmethod
    def nonzero(mask):
        return np.flatnonzero(mask)

    @staticmethod
    def positions(index):
        """0, 1, ..., len(index) - 1, as an index array like ``index``.

        Parameters
        ----------
        index : ndarray
            A 1-D index array (for example of the states still iterating).
        """
        return np.arange(len(index))

    @staticmethod
    def any(mask) -> bool:
        return bool(np.any(mask))

    @staticmethod
    def to_numpy(x):
        return np.asarray(x)

    @staticmethod
    def copy(x):
        return x.copy()

    @staticmethod
    def rowmax(x):
        return np.max(x, axis=1)

    @staticmethod
    def full(n, value, like, integer=False):
        return np.full(n, value, dtype=np.int64 if integer else like.dtype)

    @staticmethod
    def falses(n, like):
        return np.zeros(n, dtype=bool)

    def solve(self, a, b):
        """Solve ``a[i] @ x[i] = b[i]`` for each i; return ``(x, ok)``.

        ``ok[i]`` is False where ``a[i]`` is exactly singular or the solution is not
        finite.

        Parameters
        ----------
        a : ndarray, shape (n, d, d)
            The matrices.
        b : ndarray, shape (n, d)
            The right-hand sides.

        Returns
        -------
        x : ndarray, shape (n, d)
            The solutions (0 where ``ok`` is False after a singular matrix).
        ok : ndarray of bool, shape (n,)
        """
        return self.solve_factored(self.factor(a), b)

    @staticmethod
    def factor(a):
        """Factors of every ``a[i]`` for :meth:`solve_factored`.

        NumPy has no batched LU factorisation, so the reference keeps the matrices and
        :meth:`solve_factored` solves from scratch: the same answers, not the same cost.

        Parameters
        ----------
        a : ndarray, shape (n, d, d)
            The matrices.
        """
        return a

    @staticmethod
    def solve_factored(factors, b, rows=None):
        """Solve with the factors of the matrices ``rows`` (all when None) of
        :meth:`factor`; return ``(x, ok)``.

        NumPy raises for a whole batch if one matrix is singular, so those batches are
        redone one matrix at a time.

        Parameters
        ----------
        factors : ndarray, shape (n, d, d)
            What :meth:`factor` returned.
        b : ndarray, shape (k, d)
            One right-hand side per matrix solved: k = n, or ``len(rows)``.
        rows : index array, optional
            The matrices to solve with (for example those of the states still
            iterating); all when None.

        Returns
        -------
        x : ndarray, shape (k, d)
        ok : ndarray of bool, shape (k,)
            False where a matrix is singular or a solution is not finite.
        """
        a = factors if rows is None else factors[rows]
        try:
            x = np.linalg.solve(a, b[..., None])[..., 0]
            ok = np.ones(len(b), dtype=bool)
        except np.linalg.LinAlgError:
            x = np.zeros_like(b)
            ok = np.zeros(len(b), dtype=bool)
            for i in range(len(b)):
                try:
                    x[i] = np.linalg.solve(a[i], b[i])
                    ok[i] = True
                except np.linalg.LinAlgError:
                    pass
        ok &= np.all(np.isfinite(x), axis=-1)
        return x, ok


class TorchOps:
    """The torch namespace: functions on tensors, which stay on their device and dtype.

    Use :func:`TORCH` (built on first use). Batched solves use
    ``torch.linalg.lu_factor_ex``, which reports singular matrices per item.

    Examples
    --------
    The batched solve of the module example, on float64 tensors: the same answers as
    :data:`NUMPY`, the singular matrix reported instead of raising:

    >>> import torch
    >>> ops = TORCH()
    >>> a = torch.tensor([[[2.0, 0.0], [0.0, 4.0]], [[1.0, 1.0], [1.0, 1.0]]], dtype=torch.float64)
    >>> x, ok = ops.solve(a, torch.tensor([[2.0, 4.0], [1.0, 1.0]], dtype=torch.float64))
    >>> x[0].tolist(), ok.tolist()
    ([1.0, 1.0], [True, False])
    >>> ops.name, ops.step(torch.tensor([-1.0, 0.0, 2.0])).tolist()
    ('torch', [0.0, 0.0, 1.0])
    """

    name = "torch"

    def __init__(self):
        import torch

        self.torch = torch
        self.tanh = torch.tanh
        self.exp = torch.exp
        self.sqrt = torch.sqrt
        self.abs = torch.abs
        self.isfinite = torch.isfinite
        self.sigmoid = torch.sigmoid
        self.relu = torch.relu
        self.einsum = torch.einsum

    def where(self, cond, a, b):
        t = self.torch
        return t.where(cond, t.as_tensor(a), t.as_tensor(b))

    def softplus(self, x):
        # Exact log(1 + e^x); F.softplus switches to x above 20, which NumPy does not.
        return self.torch.logaddexp(x, self.torch.zeros_like(x))

    def step(self, x):
        return (x > 0).to(x.dtype)

    def eye(self, n, like):
        return self.torch.eye(n, dtype=like.dtype, device=like.device)

    def zeros(self, shape, like):
        return self.torch.zeros(shape, dtype=like.dtype, device=like.device)

    def cat(self, arrays, axis=-1):
        return self.torch.cat(arrays, dim=axis)

    def asarray(self, x, like):
        return self.torch.as_tensor(np.asarray(x), dtype=like.dtype, device=like.device)

    def nonzero(self, mask):
        return self.torch.nonzero(mask).flatten()

    def positions(self, index):
        return self.torch.arange(len(index), device=index.device)

    def any(self, mask) -> bool:
        return bool(mask.any())

    @staticmethod
    def to_numpy(x):
        return x.detach().cpu().numpy()

    @staticmethod
    def copy(x):
        return x.clone()

    @staticmethod
    def rowmax(x):
        return x.amax(dim=1)

    def full(self, n, value, like, integer=False):
        dtype = self.torch.int64 if integer else like.dtype
        return self.torch.full((n,), value, dtype=dtype, device=like.device)

    def falses(self, n, like):
        return self.torch.zeros(n, dtype=self.torch.bool, device=like.device)

    def solve(self, a, b):
        """Batched LU solve that reports singular matrices per item instead of raising.

        Parameters
        ----------
        a : torch.Tensor, shape (n, d, d)
            The matrices.
        b : torch.Tensor, shape (n, d)
            The right-hand sides, on the device and of the dtype of ``a``.

        Returns
        -------
        x : torch.Tensor, shape (n, d)
            The solutions (0 where ``ok`` is False).
        ok : torch.Tensor of bool, shape (n,)
            False where a matrix is singular or a solution is not finite.
        """
        return self.solve_factored(self.factor(a), b)

    def factor(self, a):
        """Batched LU factors ``(lu, pivots, info)`` of every ``a[i]``.

        Parameters
        ----------
        a : torch.Tensor, shape (n, d, d)
            The matrices.
        """
        return self.torch.linalg.lu_factor_ex(a)

    def solve_factored(self, factors, b, rows=None):
        """Solve with the factors of the matrices ``rows`` (all when None); ``(x, ok)``.

        Parameters
        ----------
        factors : tuple of torch.Tensor
            ``(lu, pivots, info)`` from :meth:`factor`.
        b : torch.Tensor, shape (k, d)
            One right-hand side per matrix solved: k = n, or ``len(rows)``.
        rows : index tensor, optional
            The matrices to solve with; all when None.

        Returns
        -------
        x : torch.Tensor, shape (k, d)
            The solutions (0 where ``ok`` is False).
        ok : torch.Tensor of bool, shape (k,)
        """
        t = self.torch
        lu, piv, info = factors if rows is None else (f[rows] for f in factors)
        x = t.linalg.lu_solve(lu, piv, b.unsqueeze(-1)).squeeze(-1)
        ok = (info == 0) & t.isfinite(x).all(dim=-1)
        return t.where(ok[:, None], x, t.zeros_like(x)), ok


NUMPY = NumpyOps()
_TORCH: TorchOps | None = None


def TORCH() -> TorchOps:
    """The torch namespace (built on first use so ``import neurodyn`` stays light).

    Returns
    -------
    TorchOps
        One instance per process.

    Examples
    --------
    >>> import torch
    >>> ops = TORCH()
    >>> log2 = ops.softplus(torch.zeros(1, dtype=torch.float64)).item()
    >>> ops is TORCH(), log2 == float(np.log(2.0))
    (True, True)
    """
    global _TORCH
    if _TORCH is None:
        _TORCH = TorchOps()
    return _TORCH


def ops_for(x):
    """The namespace for ``x``: :data:`NUMPY` for a NumPy array, else :func:`TORCH`.

    Parameters
    ----------
    x : ndarray or torch.Tensor
        An array a formula will be evaluated on.

    Examples
    --------
    >>> import torch
    >>> ops_for(np.zeros(3)).name, ops_for(torch.zeros(3)).name
    ('numpy', 'torch')
    """
    return NUMPY if isinstance(x, np.ndarray) else TORCH()
