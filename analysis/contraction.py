r"""Contraction certificates: ``certify(model)``.

A network :math:`\tau\dot x = -x + W\phi(x) + Lx + u` with :math:`0 \le \phi' \le g`
*contracts* in the diagonal metric :math:`M` at rate :math:`\lambda` (per ms) when

.. math:: MJ + J^\top M \preceq -2\lambda M \quad\text{for every}\quad
          J = \tfrac1\tau(-I + WD + L),\ D = \operatorname{diag}(d),\ d \in [0, g]^n,

i.e. :math:`\lambda_{max}\big(\operatorname{sym}(M^{1/2}JM^{-1/2})\big) \le -\lambda`.
Then every two trajectories driven by the same input approach each other as
:math:`\|x(t) - y(t)\|_M \le e^{-\lambda t}\|x(0) - y(0)\|_M`, and under a constant
input there is exactly one fixed point, globally exponentially stable.

:func:`certify` checks this two ways:

1. **structurally**: every leaf module satisfies its theorem (Theorem 1:
   :math:`\rho(g|W|) < 1` and the metric LMI with matrix products; Theorem 5:
   orthogonal factors and singular values in :math:`(0, 1/g]`), every coupling is
   of the negative-feedback form :math:`ML + L^\top M = 0` and lies on the module
   graph's edges; the certified rate is the slowest module's;
2. **numerically**: :math:`\lambda_{max}(\operatorname{sym}(M^{1/2}JM^{-1/2})) < 0` at
   sampled states (slopes :math:`\phi'(x)`) and sampled slopes (uniform in
   :math:`[0, g]`, the vertices :math:`\{0, g\}^n`, and :math:`D = 0, gI`), which must
   also respect the structural rate.

It also reports the discrete-time side: whether the model's step
:math:`\alpha = \Delta t/\tau` is admissible for its integrator, and the per-step
contraction factor (:mod:`neurodyn.rnn_models.rnns_of_rnns.stepping`).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_finite, check_int
from ..dynamics.nonlinearities import get_nonlinearity
from ..dynamics.ops import NUMPY
from ..seeding import make_rng, resolve_seed
from ..threads import policy, state_size

__all__ = ["Certificate", "certify"]


@dataclass
class Certificate:
    """The result of :func:`certify`.

    Attributes
    ----------
    success : bool
        Certified: every structural check and the numerical check pass (and, for the
        discrete-time model, the step is admissible).
    message : str
        Why not, or a one-line summary.
    rate : float
        Certified continuous-time contraction rate per ms, :math:`c/\\tau` (0 if none).
    numerical_rate : float
        Smallest rate seen over the samples, per ms: :math:`-\\max\\lambda_{max}/\\tau`
        (negative when some sample expands).
    metric : ndarray (n,)
        Diagonal of the metric :math:`M` used.
    module : ndarray of int (n,)
        Leaf module of each unit.
    module_rates : ndarray (k,)
        Certified rate of each leaf module (per ms).
    checks : dict of str -> bool
    details : dict of str -> str
        What each check measured.
    lambda_max : ndarray (s,)
        :math:`\\lambda_{max}(\\operatorname{sym}(M^{1/2}JM^{-1/2}))` of each sample, per ms.
    sample_kind : ndarray of str (s,)
        ``"state"``, ``"uniform"``, ``"vertex"`` or ``"extreme"``.
    step : dict
        ``integrator``, ``alpha``, ``alpha_max``, ``admissible``, ``factor`` (per-step
        contraction factor) and ``rate_per_ms`` of the discrete model.
    info : dict
        ``tau``, ``dt``, ``g``, ``seed``, ``model`` and the metric's source.

    Examples
    --------
    An RNN of four Theorem-1 modules contracts at the rate of its slowest module, in
    its own diagonal metric; checked in the identity metric instead, some sampled
    Jacobians expand, the known mistake for such modules:

    >>> from neurodyn.analysis.contraction import certify
    >>> from neurodyn.rnn_models.rnns_of_rnns import SparseComboNet
    >>> net = SparseComboNet(1, 32, 10, n_modules=4, density=0.15, seed=0)
    >>> cert = certify(net, n_samples=50)
    >>> cert.success, cert.module_rates.shape, bool(cert.rate == cert.module_rates.min())
    (True, (4,), True)
    >>> cert.metric.shape, sorted(set(cert.sample_kind.tolist()))
    ((32,), ['extreme', 'state', 'uniform', 'vertex'])
    >>> cert.step["integrator"], cert.step["admissible"], bool(cert.step["factor"] < 1)
    ('splitting', True, True)
    >>> bad = certify(net, metric="identity", n_samples=50)
    >>> bad.success, bad.checks["numerical_negative_definite"]
    (False, False)
    """

    success: bool
    message: str
    rate: float
    numerical_rate: float
    metric: np.ndarray
    module: np.ndarray
    module_rates: np.ndarray
    checks: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    lambda_max: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sample_kind: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    step: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"Certificate(success={self.success}, rate={self.rate:.4g}/ms, "
            f"numerical_rate={self.numerical_rate:.4g}/ms, n={self.metric.size}, "
            f"modules={self.module_rates.size}, message={self.message!r})"
        )

    def to_xarray(self):
        """The certificate as an :class:`xarray.Dataset` (dims ``unit``, ``module``, ``sample``)."""
        import xarray as xr

        ds = xr.Dataset(
            {
                "metric": ("unit", self.metric),
                "module_rate": ("module", self.module_rates),
                "lambda_max": ("sample", self.lambda_max),
            },
            coords={
                "unit": np.arange(self.metric.size),
                "module_of_unit": ("unit", self.module),
                "module": np.arange(self.module_rates.size),
                "sample": np.arange(self.lambda_max.size),
                "sample_kind": ("sample", self.sample_kind.astype(str)),
            },
        )
        ds["metric"].attrs["description"] = "diagonal of the contraction metric M"
        ds["module_rate"].attrs["units"] = "1/ms"
        ds["lambda_max"].attrs["units"] = "1/ms"
        ds.attrs.update(
            {
                "success": int(self.success),
                "message": self.message,
                "rate": self.rate,
                "numerical_rate": self.numerical_rate,
                "checks": json.dumps(self.checks),
                "details": json.dumps(self.details),
                "step": json.dumps(self.step),
                "info": json.dumps(self.info, default=str),
            }
        )
        return ds


def _metric_arg(metric, default: np.ndarray) -> tuple[np.ndarray, str]:
    if metric is None or (isinstance(metric, str) and metric == "model"):
        return default, "model"
    if isinstance(metric, str) and metric == "identity":
        return np.ones_like(default), "identity"
    if isinstance(metric, str):
        raise ValueError(
            f"metric={metric!r} is not recognised; expected 'model', 'identity' or an array"
        )
    m = check_finite("metric", metric).astype(np.float64)
    if m.shape != default.shape or np.any(m <= 0):
        raise ValueError(
            f"metric must be a positive array of shape {default.shape} (the diagonal of M), "
            f"got shape {m.shape}"
        )
    return m, "given"


def _sym_lambda(j: np.ndarray, s: np.ndarray) -> np.ndarray:
    """λ_max of sym(M^½ J M^-½) for a stack of Jacobians (k, n, n)."""
    jh = s[None, :, None] * j / s[None, None, :]
    return np.linalg.eigvalsh(0.5 * (jh + np.transpose(jh, (0, 2, 1))))[:, -1]


@policy(work=lambda a: 10.0 * state_size(a["model"]) ** 3)
def certify(
    model,
    *,
    metric=None,
    n_samples: int = 200,
    state_scale: float = 3.0,
    seed: int | None = 0,
    atol: float = 1e-9,
    threads: int | None = None,
) -> Certificate:
    r"""Check that ``model`` contracts and return its rate and metric.

    Parameters
    ----------
    model : RNNofRNNs or RateRNN
        An RNNs-of-RNNs model (structural and numerical checks in its own metric), or
        a :class:`~neurodyn.rnn_models.RateRNN` such as the unconstrained baseline
        (numerical check only, identity metric unless ``metric`` is given; it has no
        certifying structure, so it is never certified, but whether its sampled Jacobians
        contract is measured: ``checks["numerical_negative_definite"]`` and
        ``numerical_rate``, which is negative where some sampled Jacobian expands).
    metric : {"model", "identity"} or array (n,), optional
        Metric of the numerical check (default: the model's own). ``"identity"`` is the
        known mistake for Theorem-1 modules, whose certificate needs a non-identity
        diagonal metric.
    n_samples : int
        Samples of each kind (states, uniform slopes, vertex slopes).
    state_scale : float
        Standard deviation of the sampled states.
    seed : int, optional
        Seeds the samples.
    atol : float
        Tolerance of the numerical comparisons (per time constant), well above the
        rounding error of float64 eigenvalues of well-scaled matrices.
    threads : int, optional
        Threads for the computation; default: chosen by :mod:`neurodyn.threads` from
        the work and the cores other processes leave free.

    Returns
    -------
    Certificate

    Examples
    --------
    >>> from neurodyn.rnn_models.rnns_of_rnns import SparseComboNet
    >>> cert = certify(SparseComboNet(1, 32, 10, n_modules=4, density=0.15, seed=0))
    >>> cert.success, cert.rate > 0, cert.numerical_rate >= cert.rate * (1 - 1e-9)
    (True, True, True)
    """
    check_int("n_samples", n_samples)
    seed = resolve_seed(seed)
    structure = _structure(model)
    m, source = _metric_arg(metric, structure.own_metric)
    if source != "model" and not np.allclose(m, structure.own_metric, rtol=1e-12):
        structure.details["metric"] = f"numerical check in the {source} metric, not the model's own"
    slopes, kinds = _slope_samples(
        make_rng(seed, "analysis"), structure, n_samples=n_samples, state_scale=state_scale
    )
    lam = _lambda_max(structure, slopes, np.sqrt(m))
    _numerical_checks(structure, lam, atol)
    return _certificate(structure, lam, kinds, m, info={
        "tau": structure.tau, "g": structure.g, "seed": seed, "model": structure.kind,
        "metric": source, "n_samples": int(n_samples), "state_scale": float(state_scale),
    })  # fmt: skip


@dataclass(frozen=True)
class _Structure:
    """What :func:`certify` reads from a model: the Jacobian's parts
    :math:`J = (-I + WD + L)/\tau`, the slope bound, the structural checks so far."""

    weight: np.ndarray  # W
    coupling: np.ndarray  # L
    own_metric: np.ndarray  # the diagonal of the model's own M
    g: float  # slope bound of φ
    tau: float
    module: np.ndarray  # module of each unit
    module_rates: np.ndarray  # per ms
    c: float  # certified rate per time constant (0: none)
    nonlinearity: str
    kind: str  # "rnns_of_rnns" or "rate"
    step: dict
    checks: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)


def _structure(model) -> _Structure:
    # torch and the models load here, so that neurodyn.analysis imports without torch.
    from ..rnn_models import RateRNN
    from ..rnn_models.rnns_of_rnns import RNNofRNNs

    if isinstance(model, RNNofRNNs):
        return _assembly_structure(model)
    if isinstance(model, RateRNN):
        return _rate_structure(model)
    raise ValueError(
        f"certify needs an RNNs-of-RNNs model or a RateRNN, got {type(model).__name__}"
    )


def _assembly_structure(model) -> _Structure:
    """An RNNs-of-RNNs model: its theorems' checks, its metric, its step bound."""
    import torch  # loaded already with the model (see _structure)

    net = copy.deepcopy(model.network).to("cpu", torch.float64)
    with torch.no_grad():
        w, lc, own = net.weight().numpy(), net.coupling().numpy(), net.metric().numpy()
    tau = float(model.tau)
    checks, details = {}, {}
    for name, (ok, detail) in net.checks().items():
        checks[name], details[name] = bool(ok), detail
    c = float(net.rate())
    checks["positive_rate"] = c > 0
    details["positive_rate"] = f"slowest module rate c = {c:.4g} per time constant"
    bound = model.step_bound()
    alpha, factor = model.alpha, bound.factor(model.alpha)
    step = {
        "integrator": model.integrator,
        "alpha": alpha,
        "alpha_max": bound.alpha_max,
        "admissible": bool(bound.admissible(alpha)),
        "factor": factor,
        "rate_per_ms": -np.log(max(factor, 1e-300)) / model.dt,
    }
    checks["step_admissible"] = step["admissible"]
    details["step_admissible"] = (
        f"alpha = dt/tau = {alpha:.4g}, admissible up to {bound.alpha_max:.4g} "
        f"({model.integrator}); per-step factor {step['factor']:.4g}"
    )
    return _Structure(
        weight=w, coupling=lc, own_metric=own, g=float(net.g), tau=tau,
        module=model.unit_coords()["module"],
        module_rates=np.array([leaf.rate() for _, leaf in net.leaves()]) / tau,
        c=c, nonlinearity=model.nonlinearity, kind="rnns_of_rnns", step=step,
        checks=checks, details=details,
    )  # fmt: skip


def _rate_structure(model) -> _Structure:
    """An unconstrained RateRNN: nothing certifies it, so only the numerical check runs."""
    w = model.W.detach().double().cpu().numpy()
    taus = model.tau.detach().double().cpu().numpy()
    if np.ptp(taus) > 0:
        raise ValueError("certify needs one shared tau; the model has per-unit time constants")
    tau = float(taus[0])
    return _Structure(
        weight=w, coupling=np.zeros_like(w), own_metric=np.ones(w.shape[0]), g=1.0, tau=tau,
        module=np.zeros(w.shape[0], dtype=np.int64), module_rates=np.zeros(1), c=0.0,
        nonlinearity=model.config()["nonlinearity"], kind="rate",
        step={"integrator": "euler", "alpha": float(model.dt / tau)},
        checks={"certified_structure": False},
        details={"certified_structure": "an unconstrained RateRNN has no certifying structure"},
    )  # fmt: skip


def _slope_samples(rng, structure: _Structure, *, n_samples: int, state_scale: float):
    """The four kinds of slope samples :math:`d` (at states, uniform, vertices, the
    extremes) and the kind of each."""
    n, g = structure.weight.shape[0], structure.g
    x = rng.normal(0.0, state_scale, (n_samples, n))
    d_state = get_nonlinearity(structure.nonlinearity).derivative(NUMPY, x)
    d_uniform = rng.uniform(0.0, g, (n_samples, n))
    d_vertex = g * (rng.random((n_samples, n)) < 0.5)
    d_extreme = np.stack([np.zeros(n), np.full(n, g)])
    slopes = np.concatenate([d_state, d_uniform, d_vertex, d_extreme])
    kinds = np.array(["state"] * n_samples + ["uniform"] * n_samples + ["vertex"] * n_samples
                     + ["extreme"] * 2)  # fmt: skip
    return slopes, kinds


def _lambda_max(structure: _Structure, slopes: np.ndarray, s: np.ndarray) -> np.ndarray:
    """λ_max(sym(M^½ τJ M^-½)) at every slope sample, in chunks of about 64 matrices."""
    w, lc = structure.weight, structure.coupling
    n = w.shape[0]
    return np.concatenate(
        [
            _sym_lambda(-np.eye(n)[None] + w[None] * chunk[:, None, :] + lc[None], s)
            for chunk in np.array_split(slopes, max(1, len(slopes) // 64))
        ]
    )


def _numerical_checks(structure: _Structure, lam: np.ndarray, atol: float) -> None:
    """Add the numerical checks: negative definite everywhere, and within the
    certified rate where there is one."""
    worst, c = float(lam.max()), structure.c
    checks, details = structure.checks, structure.details
    checks["numerical_negative_definite"] = worst < -atol
    details["numerical_negative_definite"] = (
        f"max over {len(lam)} samples of lambda_max(sym(M^1/2 J M^-1/2)) = {worst:.4g} "
        "per time constant (< 0 required)"
    )
    if c > 0:
        checks["numerical_within_certified_rate"] = worst <= -c + atol * max(1.0, abs(c))
        details["numerical_within_certified_rate"] = (
            f"max lambda_max = {worst:.4g} <= -c = {-c:.4g} required"
        )


def _certificate(structure: _Structure, lam, kinds, m, *, info: dict) -> Certificate:
    c, tau = structure.c, structure.tau
    success = all(structure.checks.values())
    failed = [k for k, ok in structure.checks.items() if not ok]
    message = (
        f"contracts in the metric at >= {c / tau:.4g}/ms (c = {c:.4g} per time constant)"
        if success
        else "not certified: failed " + ", ".join(failed)
    )
    return Certificate(
        success=bool(success),
        message=message,
        rate=c / tau if success else 0.0,
        numerical_rate=-float(lam.max()) / tau,
        metric=m,
        module=structure.module,
        module_rates=structure.module_rates,
        checks=structure.checks,
        details=structure.details,
        lambda_max=lam / tau,
        sample_kind=kinds,
        step=structure.step,
        info=info,
    )
