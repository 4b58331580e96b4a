r"""Certified contracting subnetworks: Theorem 1 (sparse) and Theorem 5 (SVD) modules.

Every module is a recurrent network

.. math:: \dot x = -x + W\phi(x) + \text{(input)}, \qquad 0 \le \phi' \le g,

that *contracts*: there is a positive diagonal metric :math:`M` and a rate
:math:`c > 0` with

.. math:: M J + J^\top M \preceq -2c\,M, \qquad J = -I + W D, \quad
          \text{for every diagonal } D \text{ with entries in } [0, g],

so two trajectories driven by the same input approach each other as
:math:`\|\delta x\|_M \le e^{-ct}\|\delta x(0)\|_M` (time in units of the
membrane time constant). A module knows its weights, metric and rate and can
check its own certificate; :class:`~.assembly.Assembly` combines modules (and
assemblies) into bigger certified networks.

The module interface (shared by :class:`~.assembly.Assembly`, which is why
assemblies nest):

``size``
    number of units;
``g``
    slope bound the certificate holds for;
``weight()``
    :math:`W` (size, size), a tensor (differentiable for trainable modules);
``coupling()``
    the linear part :math:`L` of the Jacobian (zero for a leaf module);
``metric()``
    the diagonal of :math:`M` (size,), positive;
``rate()``
    the certified contraction rate :math:`c` implied by the structure (float);
``checks()``
    the structural conditions, re-verified from the current parameters.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from scipy import linalg
from torch import nn

from ..._validation import check_finite, check_fraction, check_int, check_positive
from ...seeding import make_rng, resolve_seed

__all__ = [
    "ContractingModule",
    "SVDModule",
    "SparseModule",
    "perron_metric",
    "theorem1_rate",
]


class ContractingModule(nn.Module, abc.ABC):
    """Abstract base of certified contracting (sub)networks; see the module docstring.

    Subclasses (:class:`SparseModule`, :class:`SVDModule`,
    :class:`~neurodyn.rnn_models.rnns_of_rnns.Assembly`) give the weights, the metric,
    the certified rate and the structural checks of their certificate.

    Examples
    --------
    A Theorem-1 module of 8 units and a Theorem-5 module of 4, coupled by negative
    feedback; the assembly contracts at the rate of its slower module:

    >>> from neurodyn.rnn_models.rnns_of_rnns import Assembly, SparseModule, SVDModule
    >>> sparse, svd = SparseModule(8, density=0.2, seed=0), SVDModule(4, seed=1)
    >>> net = Assembly([sparse, svd], "all_to_all", seed=2)
    >>> net.size, [(start, type(m).__name__) for start, m in net.leaves()]
    (12, [(0, 'SparseModule'), (8, 'SVDModule')])
    >>> net.rate() == min(sparse.rate(), svd.rate()), bool((net.metric() > 0).all())
    (True, True)
    >>> sorted(sparse.checks())
    ['theorem1_metric', 'theorem1_perron_root']
    """

    size: int
    g: float

    @abc.abstractmethod
    def weight(self) -> torch.Tensor:
        """Recurrent weights :math:`W` (size, size); ``W[i, j]`` is j → i."""

    def coupling(self) -> torch.Tensor:
        """Linear coupling :math:`L` (size, size) of the Jacobian; zero for leaf modules."""
        w = self.weight()
        return torch.zeros_like(w)

    @abc.abstractmethod
    def metric(self) -> torch.Tensor:
        """Diagonal of the contraction metric :math:`M` (size,), all positive."""

    @abc.abstractmethod
    def rate(self) -> float:
        """Certified contraction rate :math:`c` (per time constant) from the structure."""

    @abc.abstractmethod
    def checks(self) -> dict[str, tuple[bool, str]]:
        """Structural conditions of the certificate: ``name -> (holds, detail)``."""

    @abc.abstractmethod
    def config(self) -> dict[str, Any]:
        """JSON-compatible description that rebuilds the module (see :func:`build_module`)."""

    def leaves(self, offset: int = 0) -> Iterator[tuple[int, ContractingModule]]:
        """``(first unit, leaf module)`` for every leaf module, in unit order.

        Parameters
        ----------
        offset : int
            Index of this module's first unit in the enclosing network.
        """
        yield offset, self


# -- Theorem 1 ---------------------------------------------------------------------------------
def perron_metric(a: np.ndarray) -> np.ndarray:
    r"""A diagonal metric for the Metzler matrix :math:`A - I`, :math:`A \ge 0`, :math:`\rho(A) < 1`.

    With :math:`v, w > 0` the left and right Perron vectors of :math:`A`,
    :math:`P = \operatorname{diag}(v_i / w_i)` gives
    :math:`(P(A-I) + (A-I)^\top P)\,w = 2(\rho - 1)\,v < 0`, and a symmetric Metzler
    matrix that maps a positive vector to a negative one is negative definite. Sparse
    :math:`A` is often reducible (Perron vectors with zeros), so the vectors of
    :math:`A_\varepsilon = A + \varepsilon\mathbf 1\mathbf 1^\top` are used, with
    :math:`\varepsilon` small enough that :math:`\rho(A_\varepsilon) < 1`; the
    certificate then also holds for :math:`A \le A_\varepsilon` (the largest eigenvalue
    of a symmetric Metzler matrix is monotone in its entries).

    Parameters
    ----------
    a : array (n, n), non-negative, spectral radius below 1

    Returns
    -------
    ndarray (n,)
        The diagonal of :math:`P`, scaled so that its largest entry is 1.

    Examples
    --------
    For :math:`A = \begin{pmatrix}0 & 0.5\\ 0.2 & 0\end{pmatrix}`, :math:`\rho(A) =
    \sqrt{0.1}`; in the Perron metric Theorem 1 certifies nearly :math:`1 - \rho(A)`, more
    than in the identity metric, :math:`1 - \lambda_{max}(\operatorname{sym} A) = 0.65`:

    >>> a = np.array([[0.0, 0.5], [0.2, 0.0]])
    >>> p = perron_metric(a)
    >>> float(p.max()), round(theorem1_rate(a, p), 3), round(1 - 0.1 ** 0.5, 3)
    (1.0, 0.682, 0.684)
    >>> round(theorem1_rate(a, np.ones(2)), 6)
    0.65
    """
    n = a.shape[0]
    eps = (1.0 - _perron_root(a)) / (4.0 * n)
    for _ in range(60):
        a_eps = a + eps
        if _perron_root(a_eps) < 1.0:
            break
        eps /= 2.0

    def perron(m):
        vals, vecs = np.linalg.eig(m)
        v = np.abs(np.real(vecs[:, np.argmax(np.real(vals))]))
        return v / v.max()

    w, v = perron(a_eps), perron(a_eps.T)
    p = v / w
    return p / p.max()


def theorem1_rate(a: np.ndarray, p: np.ndarray) -> float:
    r"""Contraction rate certified by Theorem 1 for :math:`g|W| = A` in metric :math:`P`.

    For every :math:`D \in [0, g]`, :math:`x^\top P(WD)x \le |x|^\top P A |x|`, so
    :math:`x^\top(PJ + J^\top P)x \le |x|^\top S |x|` with
    :math:`S = P(A - I) + (A - I)^\top P`. Hence :math:`PJ + J^\top P \preceq -2cP`
    with :math:`c = -\tfrac12\lambda_{max}(P^{-1/2} S P^{-1/2})`. Uses matrix
    products throughout (the authors' check multiplies element-wise and so only tests
    the diagonal; research notes §4.5).

    Parameters
    ----------
    a : array (n, n)
        :math:`A = g|W|`, non-negative.
    p : array (n,)
        Diagonal of the metric P (positive), e.g. :func:`perron_metric`.

    Returns
    -------
    float
        :math:`c`; positive exactly when the certificate holds.

    Examples
    --------
    A symmetric :math:`A` in the identity metric: :math:`c = 1 - \lambda_{max}(A)`:

    >>> round(theorem1_rate(np.array([[0.0, 0.5], [0.5, 0.0]]), np.ones(2)), 6)
    0.5
    >>> theorem1_rate(np.array([[0.0, 2.0], [2.0, 0.0]]), np.ones(2)) < 0  # ρ(A) > 1
    True
    """
    m = a - np.eye(a.shape[0])
    s = p[:, None] * m + m.T * p[None, :]
    q = 1.0 / np.sqrt(p)
    return -0.5 * float(np.linalg.eigvalsh(q[:, None] * s * q[None, :])[-1])


class SparseModule(ContractingModule):
    r"""A fixed random sparse module certified by Theorem 1 (Kozachkov et al., 2022).

    .. math:: \dot x = -x + W\phi(x), \qquad \rho(g|W|) < 1,

    where :math:`\rho` is the Perron root (spectral radius) of the element-wise
    absolute value. Then :math:`g|W| - I` is Metzler and Hurwitz, a diagonal
    :math:`P \succ 0` with :math:`P(g|W|-I) + (g|W|-I)^\top P \prec 0` exists
    (:func:`perron_metric`, or the diagonal of a Lyapunov solution as a fall-back),
    and the module contracts in :math:`P` at rate :func:`theorem1_rate`.

    :math:`W` is drawn as in the authors' code: ``round(density * size * (size - 1))``
    off-diagonal entries (no self-connections), values :math:`U(-1, 1)` times
    ``scale``, redrawn until :math:`\rho(g|W|) < 1`. It is then **fixed** (a buffer,
    not a parameter): Sparse Combo Net trains only the couplings, inputs and read-out.
    Nothing is rescaled after the check (the authors' ``post_select_multiplier`` can
    break the certificate).

    Parameters
    ----------
    size : int
        Number of units.
    density : float in (0, 1]
        Fraction of off-diagonal weights that are non-zero.
    scale : float
        Weights are :math:`U(-\text{scale}, \text{scale})`.
    g : float
        Slope bound of the nonlinearity (1 for ReLU and tanh).
    max_tries : int
        Draws before giving up.
    weight : array (size, size), optional
        Use this matrix instead of drawing one (it must satisfy Theorem 1).
    seed : int, optional
        Seeds the draw.

    Raises
    ------
    ValueError
        If the expected absolute row sum :math:`g\,\text{scale}\,\text{density}(n-1)/2`
        is at least 1 (the Perron root is at least the smallest row sum and
        concentrates near the mean, so rejection sampling would practically never
        succeed), if no draw passes within ``max_tries``, or if ``weight`` fails
        Theorem 1.

    Examples
    --------
    >>> m = SparseModule(16, density=0.1, seed=0)
    >>> m.rate() > 0, all(ok for ok, _ in m.checks().values())
    (True, True)
    """

    def __init__(
        self,
        size: int,
        *,
        density: float = 0.1,
        scale: float = 1.0,
        g: float = 1.0,
        max_tries: int = 2000,
        weight=None,
        seed: int | None = None,
    ):
        super().__init__()
        self.size = check_int("size", size)
        self.density = check_fraction("density", density)
        self.scale = check_positive("scale", scale)
        self.g = check_positive("g", g)
        seed = resolve_seed(seed)
        self._config = {"size": self.size, "density": self.density, "scale": self.scale,
                        "g": self.g, "max_tries": int(max_tries), "seed": seed}  # fmt: skip
        if weight is not None:
            w = check_finite("weight", weight).astype(np.float64)
            if w.shape != (self.size, self.size):
                raise ValueError(f"weight has shape {w.shape}; expected ({size}, {size})")
            rho = _perron_root(self.g * np.abs(w))
            if rho >= 1.0:
                raise ValueError(
                    f"weight fails Theorem 1: the Perron root of g|W| is {rho:.4g}; expected < 1"
                )
            # A given matrix is part of the architecture: the config must rebuild it.
            self._config["weight"] = w.tolist()
        else:
            w = self._draw(make_rng(seed, "init"), int(max_tries))
        a = self.g * np.abs(w)
        p = perron_metric(a)
        if theorem1_rate(a, p) <= 0:
            # Rounding can defeat the Perron construction on nearly reducible matrices;
            # the diagonal of the Lyapunov solution is the authors' choice.
            x = linalg.solve_continuous_lyapunov((a - np.eye(self.size)).T, -np.eye(self.size))
            p = np.diag(x) / np.max(np.diag(x))
            if theorem1_rate(a, p) <= 0:
                raise ValueError(
                    "no diagonal metric found for this weight matrix (Perron and Lyapunov "
                    "constructions both failed); draw another module"
                )
        f = torch.get_default_dtype()
        self.register_buffer("W", torch.tensor(w, dtype=f))
        self.register_buffer("P", torch.tensor(p, dtype=f))

    def _draw(self, rng: np.random.Generator, max_tries: int) -> np.ndarray:
        n = self.size
        expected = self.g * self.scale * self.density * (n - 1) / 2.0
        hint = (
            f"need g*scale*density*(size-1)/2 < 1, e.g. density < "
            f"{2.0 / (self.g * self.scale * max(n - 1, 1)):.3g} at size={n}, scale={self.scale:g}"
        )
        if expected >= 1.0:
            raise ValueError(
                f"density={self.density:g} cannot give a certified module: the expected row "
                f"sum of g|W| is {expected:.3g} >= 1, so its Perron root is almost surely >= 1 "
                f"(Theorem 1 needs < 1); {hint}"
            )
        off = np.flatnonzero(~np.eye(n, dtype=bool))
        k = int(round(self.density * n * (n - 1)))
        for _ in range(max_tries):
            w = np.zeros(n * n)
            idx = rng.choice(off, size=k, replace=False)
            w[idx] = rng.uniform(-1.0, 1.0, size=k) * self.scale
            w = w.reshape(n, n)
            if _perron_root(self.g * np.abs(w)) < 1.0:
                return w
        raise ValueError(
            f"no matrix with Perron root of g|W| < 1 in max_tries={max_tries} draws at "
            f"density={self.density:g} (expected row sum {expected:.3g}); {hint}"
        )

    def weight(self) -> torch.Tensor:
        return self.W

    def metric(self) -> torch.Tensor:
        return self.P

    def rate(self) -> float:
        a = self.g * np.abs(self.W.detach().double().cpu().numpy())
        return theorem1_rate(a, self.P.detach().double().cpu().numpy())

    def checks(self) -> dict[str, tuple[bool, str]]:
        rho = _perron_root(self.g * np.abs(self.W.detach().double().cpu().numpy()))
        c = self.rate()
        return {
            "theorem1_perron_root": (rho < 1.0, f"rho(g|W|) = {rho:.4f} (< 1 required)"),
            "theorem1_metric": (
                c > 0,
                f"lambda_max(P^-1/2 (P(g|W|-I) + (g|W|-I)^T P) P^-1/2) = {-2 * c:.4g} (< 0 required)",
            ),
        }

    def config(self) -> dict[str, Any]:
        return {"type": "sparse", **self._config}

    def extra_repr(self) -> str:
        return f"size={self.size}, density={self.density:g}, scale={self.scale:g}, g={self.g:g}"


# -- Theorem 5 ---------------------------------------------------------------------------------
class SVDModule(ContractingModule):
    r"""A trainable module certified by Theorem 5 (singular-value condition).

    .. math:: W = \Theta^{-1} U \Sigma V^\top \Theta, \qquad
              U = e^{A - A^\top},\ V = e^{B - B^\top},\
              \Sigma = \frac{1 - \text{margin}}{g}\,\operatorname{diag}(e^{-z^2}),\
              \Theta = \operatorname{diag}(e^{\theta}),

    with free parameters :math:`A, B, z, \theta`. In the metric :math:`M = \Theta^2`,
    :math:`\Theta J \Theta^{-1} = -I + U\Sigma V^\top D` (diagonal matrices commute),
    whose symmetric part is at most :math:`-(1 - g\sigma_{max})\,I`, so the module
    contracts at rate :math:`c = 1 - g\sigma_{max} \ge \text{margin}` whatever values
    the optimiser gives the parameters: training never leaves the certified set.
    ``margin = 0`` allows the paper's closed interval :math:`(0, 1/g]`, which only
    guarantees non-expansion.

    Parameters
    ----------
    size : int
    g : float
        Slope bound of the nonlinearity.
    margin : float in [0, 1)
        Guaranteed contraction rate.
    metric_spread : float
        Standard deviation of the initial :math:`\theta` (0 starts from the identity metric).
    seed : int, optional

    Examples
    --------
    >>> m = SVDModule(8, seed=0)
    >>> m.rate() >= 0.05
    True
    """

    def __init__(
        self,
        size: int,
        *,
        g: float = 1.0,
        margin: float = 0.05,
        metric_spread: float = 0.25,
        seed: int | None = None,
    ):
        super().__init__()
        self.size = check_int("size", size)
        self.g = check_positive("g", g)
        margin = float(margin)
        if not 0.0 <= margin < 1.0:
            raise ValueError(f"margin must lie in [0, 1), got {margin!r}")
        self.margin = margin
        check_positive("metric_spread", metric_spread, allow_zero=True)
        seed = resolve_seed(seed)
        self._config = {"size": self.size, "g": self.g, "margin": margin,
                        "metric_spread": float(metric_spread), "seed": seed}  # fmt: skip
        rng = make_rng(seed, "init")
        n = self.size
        f = torch.get_default_dtype()
        # Skew generators of std 1/sqrt(n) give well-mixed rotations from the start.
        self.skew_u = nn.Parameter(torch.tensor(rng.normal(0, 1 / math.sqrt(n), (n, n)), dtype=f))
        self.skew_v = nn.Parameter(torch.tensor(rng.normal(0, 1 / math.sqrt(n), (n, n)), dtype=f))
        self.z = nn.Parameter(torch.tensor(rng.uniform(0.0, 1.0, n), dtype=f))
        self.log_theta = nn.Parameter(torch.tensor(rng.normal(0, metric_spread, n), dtype=f))

    def factors(self, dtype=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(theta, U, sigma, V)`` with :math:`W = \\Theta^{-1}U\\Sigma V^\\top\\Theta`.

        ``dtype=torch.float64`` evaluates them in double precision (for checks).

        Parameters
        ----------
        dtype : torch.dtype, optional
            The dtype to evaluate them in (default: the parameters').

        Examples
        --------
        >>> m = SVDModule(4, seed=1)
        >>> theta, U, sigma, V = m.factors(torch.float64)
        >>> bool(torch.allclose(U @ U.T, torch.eye(4, dtype=torch.float64)))  # orthogonal
        True
        >>> bool((m.g * sigma < 1).all())  # singular values in (0, 1/g)
        True
        """
        a, b, z, t = (p if dtype is None else p.to(dtype)
                      for p in (self.skew_u, self.skew_v, self.z, self.log_theta))  # fmt: skip
        u = torch.linalg.matrix_exp(a - a.T)
        v = torch.linalg.matrix_exp(b - b.T)
        sigma = (1.0 - self.margin) / self.g * torch.exp(-z * z)
        return torch.exp(t), u, sigma, v

    def weight(self) -> torch.Tensor:
        return _svd_weight(*self.factors())

    def metric(self) -> torch.Tensor:
        return torch.exp(2.0 * self.log_theta)

    def rate(self) -> float:
        with torch.no_grad():
            sigma = self.factors()[2]
        return 1.0 - self.g * float(sigma.max())

    def checks(self) -> dict[str, tuple[bool, str]]:
        with torch.no_grad():
            theta, u, sigma, v = self.factors(torch.float64)
            w = _svd_weight(theta, u, sigma, v)
        eye = torch.eye(self.size, dtype=torch.float64)
        orth = max(float((u.T @ u - eye).abs().max()), float((v.T @ v - eye).abs().max()))
        # The singular values of Θ W Θ⁻¹ are the Σ the certificate rests on.
        s_max = float(torch.linalg.matrix_norm(theta[:, None] * w / theta[None, :], ord=2))
        bound = 1.0 / self.g
        return {
            "theorem5_orthogonal": (orth < 1e-8, f"max |U^T U - I|, |V^T V - I| = {orth:.2e}"),
            "theorem5_singular_values": (
                s_max <= bound * (1 + 1e-12) and float(sigma.min()) > 0,
                f"sigma in [{float(sigma.min()):.4g}, {s_max:.4g}] (within (0, 1/g = {bound:.4g}))",
            ),
        }

    def config(self) -> dict[str, Any]:
        return {"type": "svd", **self._config}

    def extra_repr(self) -> str:
        return f"size={self.size}, g={self.g:g}, margin={self.margin:g}"


def _svd_weight(theta, u, sigma, v) -> torch.Tensor:
    """:math:`W = \\Theta^{-1}U\\Sigma V^\\top\\Theta` from :meth:`SVDModule.factors`."""
    return (u * sigma[None, :]) @ v.T * (theta[None, :] / theta[:, None])


def _perron_root(a: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(a)))) if a.size else 0.0
