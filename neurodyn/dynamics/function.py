r"""A plain NumPy function ``f(x, u)`` as a dynamical system, for small hand-written models.

Without a user Jacobian, Jacobians come from central differences,

.. math::

    \frac{\partial f_i}{\partial x_j} \approx \frac{f_i(x + h_j e_j) - f_i(x - h_j e_j)}{2h_j},
    \qquad h_j = \epsilon^{1/3}\max(1, |x_j|),

whose truncation error :math:`O(h^2)` and rounding error :math:`O(\epsilon/h)` balance at
:math:`h \sim \epsilon^{1/3}`, giving about 10 correct digits in float64; that is
plenty for Newton's method, which converges with an inexact Jacobian, but pass
``jacobian`` for eigenvalues you want to full precision.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_int, check_positive
from .protocol import Dynamics

__all__ = ["FunctionDynamics"]

_FD_STEP = np.finfo(np.float64).eps ** (1.0 / 3.0)


class FunctionDynamics(Dynamics):
    """A user's map ``x -> f(x, u)`` or vector field ``dx/dt = f(x, u)`` on NumPy arrays.

    Parameters
    ----------
    f : callable
        ``f(x, u)`` with ``x`` (n, n_state) and ``u`` (n, n_input), returning (n, n_state):
        the next state (``kind="map"``) or the velocity (``kind="ode"``). With
        ``vectorized=False`` it is called once per state with 1-D arrays.
    n_state : int
    n_input : int
        May be 0 for autonomous systems (``u`` then has shape (n, 0)).
    kind : {"map", "ode"}
    dt : float, optional
        Step duration (map) or Euler step (ODE) in ms; without it time is in steps.
    jacobian : callable, optional
        ``jacobian(x, u)`` → (n, n_state, n_state), the Jacobian of ``f`` itself.
    input_jacobian : callable, optional
        ``input_jacobian(x, u)`` → (n, n_state, n_input).
    vectorized : bool
        Whether ``f`` (and the Jacobians) accept batches.

    Examples
    --------
    A pitchfork, :math:`\\dot x = \\mu x - x^3`, with μ as the input:

    >>> dyn = FunctionDynamics(lambda x, u: u * x - x**3, n_state=1, n_input=1, kind="ode")
    >>> round(float(dyn.jacobian([1.0], [1.0])[0, 0]), 6)
    -2.0
    """

    def __init__(
        self,
        f,
        *,
        n_state,
        n_input=0,
        kind="map",
        dt=None,
        jacobian=None,
        input_jacobian=None,
        vectorized=True,
    ):
        if not callable(f):
            raise ValueError(f"f must be callable f(x, u), got {type(f).__name__}")
        self.n_state = check_int("n_state", n_state)
        self.n_input = check_int("n_input", n_input, low=0)
        self.kind = check_choice("kind", kind, ("map", "ode"))
        if dt is None:
            self.dt, self.time_unit = 1.0, "step"
        else:
            self.dt, self.time_unit = check_positive("dt", dt), "ms"
        self.f, self.user_jacobian, self.user_input_jacobian = f, jacobian, input_jacobian
        self.vectorized = bool(vectorized)

    def _call(self, fn, x, u, shape):
        if self.vectorized:
            out = np.array(fn(x, u), dtype=np.float64)
        else:
            out = np.stack(
                [np.asarray(fn(xi, ui), dtype=np.float64) for xi, ui in zip(x, u, strict=True)]
            )
        if out.shape != shape:
            raise ValueError(
                f"the user function returned shape {out.shape}; expected {shape} "
                f"for states {x.shape} and inputs {u.shape}"
            )
        return out

    def _numpy(self, ops, *arrays):
        return [ops.to_numpy(a) for a in arrays]

    def _back(self, ops, like, a):
        return a if ops.name == "numpy" else ops.asarray(a, like)

    def _f(self, x, u):
        return self._call(self.f, x, u, x.shape)

    def _residual(self, ops, x, c):
        xn, un = self._numpy(ops, x, c)
        out = self._f(xn, un)
        return self._back(ops, x, out - xn if self.kind == "map" else out)

    def _fd(self, x, u, wrt_input: bool):
        """Central differences of f along each coordinate of x (or of u)."""
        base = u if wrt_input else x
        n, k = base.shape
        jac = np.empty((n, self.n_state, k))
        for j in range(k):
            h = _FD_STEP * np.maximum(1.0, np.abs(base[:, j]))
            plus, minus = base.copy(), base.copy()
            plus[:, j] += h
            minus[:, j] -= h
            if wrt_input:
                fp, fm = self._f(x, plus), self._f(x, minus)
            else:
                fp, fm = self._f(plus, u), self._f(minus, u)
            jac[:, :, j] = (fp - fm) / (2.0 * h[:, None])
        return jac

    def _residual_jacobian(self, ops, x, c):
        xn, un = self._numpy(ops, x, c)
        fx = self._f(xn, un)
        if self.user_jacobian is not None:
            d = self.n_state
            jac = self._call(self.user_jacobian, xn, un, (len(xn), d, d))
        else:
            jac = self._fd(xn, un, wrt_input=False)
        if self.kind == "map":
            fx = fx - xn
            jac = jac - np.eye(self.n_state)
        return self._back(ops, x, fx), self._back(ops, x, jac)

    def _input_jacobian(self, ops, x, c):
        xn, un = self._numpy(ops, x, c)
        shape = (len(xn), self.n_state, self.n_input)
        if self.n_input == 0:
            b = np.zeros(shape)
        elif self.user_input_jacobian is not None:
            b = self._call(self.user_input_jacobian, xn, un, shape)
        else:
            b = self._fd(xn, un, wrt_input=True)
        return self._back(ops, x, b)
