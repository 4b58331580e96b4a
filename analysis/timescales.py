r"""Timescales of a network: autocorrelation-based τ_net, trained τ and Jacobian timescales.

The *network-mediated timescale* of a neuron (Khajehabdollahi et al., ICLR 2024) is
the decay time of its activity autocorrelation while the network is driven by its
input stream. The protocol:

1. drive the network with long input streams (:func:`drive`; by default the
   paper's Bernoulli bit streams with a rate :math:`p \sim U(0, 1)` per trial) and
   discard a burn-in;
2. per neuron and trial, subtract the mean and compute the autocorrelation by FFT,
   normalising lag :math:`\ell` by :math:`n - \ell` (:func:`autocorrelation`);
3. fit the autocorrelation at lags :math:`0 \dots L` (``fit_lags``, 30 in the paper)
   with a single exponential :math:`a e^{-t/\tau}` (:math:`a \in [0, 1]`) and a
   double exponential :math:`a[c e^{-t/\tau_1} + (1 - c) e^{-t/\tau_2}]`
   (:math:`c \in [0, 1]`), both with :math:`\tau \le` ``tau_max`` (100);
4. keep the fit with the lower :math:`\mathrm{AIC} = 2k + n \ln(\mathrm{RSS}/n)`
   (:math:`k` = 2 or 4 parameters, :math:`n` lags); :math:`\tau_{net}` is the single
   :math:`\tau`, or the **slower** of :math:`\tau_1, \tau_2` (:func:`fit_exponentials`).

One safeguard is added to the paper's rule (``min_weight``, default 5%): a double fit
counts only if both components carry at least that fraction of its amplitude.
Without it, a component of weight ~0.1% fitted to the estimation noise of the tail
often wins on AIC and reports :math:`\tau_{net}` at the bound (100) for a process with
one short timescale (an AR(1) with τ = 2 does this in about half of the seeds);
``min_weight=0`` restores the paper's rule exactly.

The same is done for the population activity (the sum over neurons).
:func:`network_timescales` runs all of it on a model; it works with any neurodyn
model, reading the activity the read-out sees (``rates``). Times are in the model's
time unit (one bit for the timescale RNN; lags are steps × ``dt``).

:func:`jacobian_timescales` gives the complementary, linear view: the time constants
:math:`-\Delta t/\ln|\lambda|` of the eigenvalues of the Jacobian at given states.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from scipy.optimize import OptimizeWarning, curve_fit

from .._validation import check_int, check_positive
from .._version import __version__
from ..dynamics import dynamics as as_dynamics
from ..seeding import make_rng, resolve_seed, torch_generator
from ..threads import policy, state_size
from .linearization.linearize import linearize

__all__ = [
    "JacobianTimescales",
    "NetworkTimescales",
    "TimescaleFit",
    "autocorrelation",
    "bernoulli_streams",
    "drive",
    "fit_exponentials",
    "jacobian_timescales",
    "network_timescales",
]


# -- autocorrelation ------------------------------------------------------------------------
def _as_trial_time_unit(activity) -> np.ndarray:
    if isinstance(activity, xr.DataArray):
        want = [d for d in ("trial", "time", "unit") if d in activity.dims]
        activity = activity.transpose(*want).values
    a = np.asarray(activity, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :, None]
    elif a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise ValueError(
            f"activity has shape {np.shape(activity)}; expected (time,), (time, unit) or "
            "(trial, time, unit)"
        )
    if not np.all(np.isfinite(a)):
        raise ValueError("activity contains NaN or infinite values")
    return a


def autocorrelation(activity, *, max_lag: int = 200) -> np.ndarray:
    r"""Normalised autocorrelation of each unit, averaged over trials, computed by FFT.

    For a trial :math:`x_1 \dots x_n` of one unit with its mean removed,

    .. math:: C(\ell) = \frac{1}{n - \ell}\sum_{t=1}^{n-\ell} x_t x_{t+\ell},
              \qquad \rho(\ell) = C(\ell) / C(0),

    and :math:`\rho` is averaged over the trials in which the unit varies at all. The
    sums are taken with a zero-padded FFT (cost :math:`O(n \log n)`).

    Parameters
    ----------
    activity : array (trial, time, unit), (time, unit) or (time,), or DataArray
        Equally spaced samples.
    max_lag : int
        Largest lag returned, in samples.

    Returns
    -------
    ndarray (max_lag + 1, unit)
        :math:`\rho(0 \dots` ``max_lag`` :math:`)`; NaN for a unit that never varies.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal(20_000)
    >>> rho = autocorrelation(x, max_lag=3)[:, 0]
    >>> float(rho[0]), bool(np.all(np.abs(rho[1:]) < 0.03))
    (1.0, True)
    """
    a = _as_trial_time_unit(activity)
    _, n, n_units = a.shape
    check_int("max_lag", max_lag, low=0)
    if max_lag >= n:
        raise ValueError(f"max_lag={max_lag} must be smaller than the number of samples {n}")
    size = 1 << int(math.ceil(math.log2(2 * n - 1)))
    total = np.zeros((max_lag + 1, n_units))
    count = np.zeros(n_units)
    for x in a:
        x = x - x.mean(axis=0)
        f = np.fft.rfft(x, n=size, axis=0)
        c = np.fft.irfft(f * np.conj(f), n=size, axis=0)[: max_lag + 1]
        c /= (n - np.arange(max_lag + 1))[:, None]
        # A unit that is constant in this trial has no autocorrelation; skip it there.
        ok = c[0] > 1e-12 * max(float(np.max(np.abs(x))), 1e-300) ** 2
        total[:, ok] += c[:, ok] / c[0, ok]
        count += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


# -- exponential fits -------------------------------------------------------------------------
def _single(t, a, tau):
    return a * np.exp(-t / tau)


def _double(t, a, c, tau1, tau2):
    return a * (c * np.exp(-t / tau1) + (1.0 - c) * np.exp(-t / tau2))


def _fit(f, t, y, p0s, bounds):
    best = None
    # Several starting points on purpose: a start that cannot converge (covariance not
    # estimable, overflow in exp) is expected and simply loses to the others; when every
    # start fails the caller receives None and leaves that fit NaN in the result.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        for p0 in p0s:
            try:
                p, _ = curve_fit(
                    f, t, y, p0=p0, bounds=bounds, maxfev=5000, ftol=1e-12, xtol=1e-12, gtol=1e-12
                )
            except (RuntimeError, ValueError):
                continue
            rss = float(np.sum((f(t, *p) - y) ** 2))
            if best is None or rss < best[1]:
                best = (p, rss)
    return best


def _aic(rss: float, n: int, k: int) -> float:
    # An autocorrelation estimated from data is never known to better than ~1e-6 (its
    # standard error is ~1/sqrt(samples)), so residuals below that RMS are equally
    # perfect and the extra parameters of the double fit must not win on rounding noise;
    # the floor also keeps ln finite when RSS is 0.
    return 2 * k + n * math.log(max(rss / n, 1e-12))


@dataclass
class TimescaleFit:
    """Single- and double-exponential fits of autocorrelations, one per column.

    Attributes
    ----------
    tau_net : ndarray (unit,)
        The timescale: single τ or the slower double-exponential τ, whichever fit has
        the lower AIC (NaN where the autocorrelation is undefined).
    model : ndarray of str (unit,)
        ``"single"``, ``"double"`` or ``"none"``.
    tau_single, amplitude_single : ndarray (unit,)
        Single fit :math:`a e^{-t/\\tau}`.
    tau_fast, tau_slow, weight_fast, amplitude_double : ndarray (unit,)
        Double fit :math:`a[c e^{-t/\\tau_{fast}} + (1-c) e^{-t/\\tau_{slow}}]` with
        :math:`c` = ``weight_fast``.
    aic_single, aic_double, rss_single, rss_double : ndarray (unit,)
        Akaike information criterion and residual sum of squares of each fit.
    fit_lags : int
        Lags fitted, 0 … ``fit_lags``.
    dt : float
        Lag spacing in time units.
    min_weight : float
        Smallest weight of a double-fit component that lets the double fit be chosen.

    Examples
    --------
    :func:`fit_exponentials` returns it. One exact exponential (τ = 4) and an equal
    mixture of two (τ = 2 and 15): the second is a double fit, and its slower τ is
    τ_net:

    >>> from neurodyn.analysis import fit_exponentials
    >>> lags = np.arange(61.0)
    >>> two = 0.5 * np.exp(-lags / 2.0) + 0.5 * np.exp(-lags / 15.0)
    >>> fit = fit_exponentials(np.stack([np.exp(-lags / 4.0), two], axis=1), fit_lags=60)
    >>> fit.model.tolist(), np.round(fit.tau_net, 2).tolist()
    (['single', 'double'], [4.0, 15.0])
    >>> round(float(fit.tau_fast[1]), 2), round(float(fit.weight_fast[1]), 2)
    (2.0, 0.5)
    >>> bool(fit.aic_single[0] <= fit.aic_double[0]), fit.fit_lags, fit.dt
    (True, 60, 1.0)
    """

    tau_net: np.ndarray
    model: np.ndarray
    tau_single: np.ndarray
    amplitude_single: np.ndarray
    tau_fast: np.ndarray
    tau_slow: np.ndarray
    weight_fast: np.ndarray
    amplitude_double: np.ndarray
    aic_single: np.ndarray
    aic_double: np.ndarray
    rss_single: np.ndarray
    rss_double: np.ndarray
    fit_lags: int
    dt: float
    min_weight: float = 0.0

    def to_xarray(self, dim: str = "unit") -> xr.Dataset:
        """The fits as a Dataset along ``dim``.

        Parameters
        ----------
        dim : str
            Name of the dimension the fits lie along.
        """
        names = [
            "tau_net", "model", "tau_single", "amplitude_single", "tau_fast", "tau_slow",
            "weight_fast", "amplitude_double", "aic_single", "aic_double", "rss_single",
            "rss_double",
        ]  # fmt: skip
        ds = xr.Dataset({k: (dim, np.asarray(getattr(self, k))) for k in names})
        ds.attrs.update(fit_lags=self.fit_lags, dt=self.dt, min_weight=self.min_weight)
        return ds


def fit_exponentials(
    ac, *, fit_lags: int = 30, tau_max: float = 100.0, dt: float = 1.0, min_weight: float = 0.05
) -> TimescaleFit:
    """Fit single and double exponentials to autocorrelations and pick one by AIC.

    Parameters
    ----------
    ac : array (lag,) or (lag, unit)
        Autocorrelations at lags 0, 1, 2, ... samples (e.g. from :func:`autocorrelation`).
    fit_lags : int
        Fit lags 0 … ``fit_lags`` (30 in the paper).
    tau_max : float
        Upper bound of every τ, in time units (100 in the paper).
    dt : float
        Time between samples, so that τ comes out in time units.
    min_weight : float in [0, 0.5]
        The double fit is chosen only if both components weigh at least this much
        (see the module docstring); 0 is the paper's rule.

    Returns
    -------
    TimescaleFit

    Examples
    --------
    >>> lags = np.arange(61.0)
    >>> two = 0.5 * np.exp(-lags / 2.0) + 0.5 * np.exp(-lags / 15.0)
    >>> fit = fit_exponentials(np.stack([np.exp(-lags / 4.0), two], axis=1), fit_lags=60)
    >>> fit.model.tolist(), np.round(fit.tau_net, 2).tolist()
    (['single', 'double'], [4.0, 15.0])
    """
    a = np.asarray(ac, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"ac has shape {np.shape(ac)}; expected (lag,) or (lag, unit)")
    if isinstance(fit_lags, bool) or not isinstance(fit_lags, (int, np.integer)) or fit_lags < 4:
        raise ValueError(
            f"fit_lags must be an integer >= 4 (a double fit has 4 parameters), got {fit_lags!r}"
        )
    if a.shape[0] <= fit_lags:
        raise ValueError(f"ac has {a.shape[0]} lags; fit_lags={fit_lags} needs {fit_lags + 1}")
    tau_max = check_positive("tau_max", tau_max)
    dt = check_positive("dt", dt)
    min_weight = check_positive("min_weight", min_weight, allow_zero=True)
    if min_weight > 0.5:
        raise ValueError(f"min_weight must lie in [0, 0.5], got {min_weight!r}")
    t = np.arange(fit_lags + 1) * dt
    n_units = a.shape[1]
    out = {k: np.full(n_units, np.nan) for k in (
        "tau_net", "tau_single", "amplitude_single", "tau_fast", "tau_slow", "weight_fast",
        "amplitude_double", "aic_single", "aic_double", "rss_single", "rss_double",
    )}  # fmt: skip
    model = np.full(n_units, "none", dtype=object)
    tau_min = 1e-3 * dt
    for j in range(n_units):
        y = a[: fit_lags + 1, j]
        if not np.all(np.isfinite(y)):
            continue
        # Starting guess: where the curve first falls below 1/e of its start.
        below = np.flatnonzero(y < y[0] / math.e)
        guess = float(np.clip(t[below[0]] if below.size else t[-1], 2 * tau_min, tau_max / 2))
        s = _fit(_single, t, y, [(min(max(y[0], 0.0), 1.0), guess)], ([0, tau_min], [1, tau_max]))
        d = _fit(
            _double,
            t,
            y,
            [
                (min(max(y[0], 0.0), 1.0), 0.5, max(guess / 4, tau_min), min(guess * 2, tau_max)),
                (min(max(y[0], 0.0), 1.0), 0.8, max(guess / 2, tau_min), min(guess * 5, tau_max)),
                (min(max(y[0], 0.0), 1.0), 0.2, tau_min * 10, guess),
            ],
            ([0, 0, tau_min, tau_min], [1, 1, tau_max, tau_max]),
        )
        n = len(t)
        if s is not None:
            (amp, tau), rss = s
            out["tau_single"][j], out["amplitude_single"][j] = tau, amp
            out["rss_single"][j], out["aic_single"][j] = rss, _aic(rss, n, 2)
        if d is not None:
            (amp, c, t1, t2), rss = d
            if t1 > t2:
                t1, t2, c = t2, t1, 1.0 - c
            out["tau_fast"][j], out["tau_slow"][j], out["weight_fast"][j] = t1, t2, c
            out["amplitude_double"][j] = amp
            out["rss_double"][j], out["aic_double"][j] = rss, _aic(rss, n, 4)
        double_ok = d is not None and (
            min(out["weight_fast"][j], 1.0 - out["weight_fast"][j]) >= min_weight
        )
        if s is not None and (not double_ok or out["aic_single"][j] <= out["aic_double"][j]):
            model[j], out["tau_net"][j] = "single", out["tau_single"][j]
        elif double_ok:
            model[j], out["tau_net"][j] = "double", out["tau_slow"][j]
    return TimescaleFit(
        model=model.astype(str), fit_lags=int(fit_lags), dt=dt, min_weight=min_weight, **out
    )


# -- driving a model --------------------------------------------------------------------------
def bernoulli_streams(n_trials: int, n_bits: int, *, seed=0) -> np.ndarray:
    """Bit streams (trial, bit) with a rate :math:`p \\sim U(0, 1)` drawn per trial (the paper's).

    Parameters
    ----------
    n_trials : int
        Trials (rows).
    n_bits : int
        Bits per trial (columns).
    seed : int, numpy.random.Generator or None
        Seed of the rates and the bits.

    Returns
    -------
    ndarray (n_trials, n_bits), float32
        Zeros and ones.

    Examples
    --------
    Each trial has its own rate of ones:

    >>> bits = bernoulli_streams(3, 1000, seed=0)
    >>> bits.shape, bits.dtype, np.unique(bits).tolist()
    ((3, 1000), dtype('float32'), [0.0, 1.0])
    >>> len(set(bits.mean(axis=1).round(2).tolist()))
    3
    """
    rng = make_rng(seed)
    p = rng.uniform(size=(n_trials, 1))
    return (rng.random((n_trials, n_bits)) < p).astype(np.float32)


@policy(work=lambda a: 2.0 * a["n_trials"] * state_size(a["model"]) ** 2)
def drive(
    model,
    *,
    n_trials: int = 10,
    n_steps: int = 20_000,
    burn_in: int = 500,
    inputs=None,
    chunk: int = 2_000,
    seed=0,
    threads: int | None = None,
) -> np.ndarray:
    """Run ``model`` on long input streams and return its activity after a burn-in.

    The simulation runs in chunks, each starting from the last state of the one before,
    so memory stays at one chunk of the network's history.

    Parameters
    ----------
    model : neurodyn Model
        The network driven (its ``rates`` are returned).
    n_trials, n_steps : int
        Number and length (in steps, after the burn-in) of the streams.
    burn_in : int
        Steps discarded at the start (500 in the paper).
    inputs : array (trial, burn_in + n_steps, n_input), optional
        The input streams. Default: Bernoulli bit streams with a rate drawn per trial,
        each bit held for ``1/dt`` steps (one bit per time unit).
    chunk : int
        Steps simulated per call of the model.
    seed : int
        Seeds the default input streams and the model's initial states.
    threads : int, optional
        Threads for the computation; default: chosen by :mod:`neurodyn.threads` from
        the work and the cores other processes leave free.

    Returns
    -------
    ndarray (trial, n_steps, unit), float32
        The model's ``rates``.

    Examples
    --------
    A timescale RNN (one bit per step) driven by two Bernoulli streams; running in
    chunks gives the same activity as one long run:

    >>> from neurodyn.rnn_models import TimescaleRNN
    >>> net = TimescaleRNN(1, 8, seed=0)
    >>> rates = drive(net, n_trials=2, n_steps=500, burn_in=50)
    >>> rates.shape, rates.dtype
    ((2, 500, 8), dtype('float32'))
    >>> bool(np.allclose(drive(net, n_trials=2, n_steps=500, burn_in=50, chunk=100), rates))
    True
    """
    import torch

    seed = resolve_seed(seed)
    total = int(burn_in) + int(n_steps)
    if n_steps < 2 or burn_in < 0:
        raise ValueError(f"n_steps must be >= 2 and burn_in >= 0, got {n_steps}, {burn_in}")
    if inputs is None:
        k = max(int(round(1.0 / model.dt)), 1) if model.dt <= 1 else 1
        bits = bernoulli_streams(n_trials, math.ceil(total / k), seed=make_rng(seed, "analysis"))
        inputs = np.repeat(bits, k, axis=1)[:, :total, None]
        if model.n_input > 1:
            inputs = np.repeat(inputs, model.n_input, axis=2)
    inputs = np.asarray(inputs, dtype=np.float32)
    if inputs.ndim != 3 or inputs.shape[1] != total or inputs.shape[2] != model.n_input:
        raise ValueError(
            f"inputs has shape {inputs.shape}; expected (trial, burn_in + n_steps = {total}, "
            f"n_input = {model.n_input})"
        )
    was_training = model.training
    model.eval()
    out_rates = None
    state = None
    gen = torch_generator(seed, "analysis")
    with torch.no_grad():
        for start in range(0, total, chunk):
            u = torch.from_numpy(inputs[:, start : start + chunk])
            out = model(u, initial_state=state, noise=False, generator=gen)
            state = out.states[:, -1]
            rates = out.rates.numpy()
            if out_rates is None:
                out_rates = np.empty((inputs.shape[0], n_steps, rates.shape[-1]), np.float32)
            lo, hi = max(start, burn_in), start + rates.shape[1]
            if hi > lo:
                out_rates[:, lo - burn_in : hi - burn_in] = rates[:, lo - start :]
    model.train(was_training)
    return out_rates


@dataclass
class NetworkTimescales:
    """What :func:`network_timescales` returns.

    Attributes
    ----------
    lags : ndarray (lag,)
        In time units.
    autocorrelation : ndarray (lag, unit)
        Of each unit's activity (:func:`autocorrelation`).
    fit : TimescaleFit
        Per-unit fits; ``fit.tau_net`` is τ_net.
    population_autocorrelation : ndarray (lag,)
        Of the summed activity.
    population_fit : TimescaleFit
        One entry.
    tau : ndarray (unit,) or None
        The model's own time constants, when it has them.
    attrs : dict
        The protocol: ``n_trials``, ``n_steps``, ``burn_in``, ``dt``, ``seed`` and the
        ``model``'s configuration.

    Examples
    --------
    :func:`network_timescales` returns it (a short protocol here; the paper's is 10
    trials of :math:`10^5` steps):

    >>> from neurodyn.analysis import network_timescales
    >>> from neurodyn.rnn_models import TimescaleRNN
    >>> net = TimescaleRNN(1, 8, seed=0)
    >>> nt = network_timescales(net, n_trials=2, n_steps=2000, burn_in=100, max_lag=40)
    >>> nt.lags.shape, nt.autocorrelation.shape, nt.tau_net.shape, nt.tau.shape
    ((41,), (41, 8), (8,), (8,))
    >>> set(nt.fit.model.tolist()) <= {"single", "double"}, bool(0 < nt.population_tau <= 100)
    (True, True)
    >>> nt.attrs["n_steps"], nt.attrs["model"]["kind"]
    (2000, 'timescale')
    """

    lags: np.ndarray
    autocorrelation: np.ndarray
    fit: TimescaleFit
    population_autocorrelation: np.ndarray
    population_fit: TimescaleFit
    tau: np.ndarray | None = None
    attrs: dict = field(default_factory=dict)

    @property
    def tau_net(self) -> np.ndarray:
        """Per-unit network timescale (time units)."""
        return self.fit.tau_net

    @property
    def population_tau(self) -> float:
        """Timescale of the population activity."""
        return float(self.population_fit.tau_net[0])

    def to_xarray(self) -> xr.Dataset:
        """Dims ``unit`` and ``lag``: per-unit fits, autocorrelations and population values."""
        ds = self.fit.to_xarray("unit")
        ds["autocorrelation"] = (("lag", "unit"), self.autocorrelation)
        ds["population_autocorrelation"] = ("lag", self.population_autocorrelation)
        ds["population_tau_net"] = ((), self.population_tau)
        ds = ds.assign_coords(lag=self.lags, unit=np.arange(self.autocorrelation.shape[1]))
        if self.tau is not None:
            ds = ds.assign_coords(tau=("unit", self.tau))
        ds.attrs.update({k: v for k, v in self.attrs.items() if k != "model"})
        ds.attrs["model"] = json.dumps(self.attrs.get("model", {}))
        ds.attrs["neurodyn_version"] = __version__
        return ds


@policy(work=lambda a: 2.0 * a["n_trials"] * state_size(a["model"]) ** 2)
def network_timescales(
    model,
    *,
    n_trials: int = 10,
    n_steps: int = 20_000,
    burn_in: int = 500,
    max_lag: int = 200,
    fit_lags: int = 30,
    tau_max: float = 100.0,
    min_weight: float = 0.05,
    inputs=None,
    seed=0,
    threads: int | None = None,
) -> NetworkTimescales:
    """τ_net of every neuron and of the population of a driven model (see the module docstring).

    The paper uses 10 trials of :math:`10^5` steps; the default here is 10 × 20 000,
    which keeps the fits stable for timescales up to a few tens of steps.

    Parameters
    ----------
    model : neurodyn Model
        The network driven; its ``rates`` are analysed.
    n_trials, n_steps, burn_in, inputs, seed
        As :func:`drive`.
    max_lag : int
        Lags kept in the result, in steps.
    fit_lags : int
        Lags fitted (steps).
    tau_max : float
        Bound of the fitted τ (time units).
    min_weight : float
        See :func:`fit_exponentials` (0 for the paper's exact rule).
    threads : int, optional
        Threads for the computation; default: chosen by :mod:`neurodyn.threads` from
        the work and the cores other processes leave free.

    Returns
    -------
    NetworkTimescales

    Examples
    --------
    A timescale RNN (one bit per step) driven by Bernoulli streams, with a short
    protocol; each unit's τ_net and the population's, in bits:

    >>> from neurodyn.rnn_models import TimescaleRNN
    >>> nt = network_timescales(TimescaleRNN(1, 8, seed=0), n_trials=2, n_steps=2000,
    ...                         burn_in=100, max_lag=40)
    >>> nt.tau_net.shape, bool(np.all((nt.tau_net > 0) & (nt.tau_net <= 100)))
    ((8,), True)
    """
    seed = resolve_seed(seed)
    act = drive(
        model, n_trials=n_trials, n_steps=n_steps, burn_in=burn_in, inputs=inputs, seed=seed
    )
    ac = autocorrelation(act, max_lag=max_lag)
    pop = autocorrelation(act.sum(axis=-1, dtype=np.float64)[..., None], max_lag=max_lag)[:, 0]
    kw = dict(fit_lags=fit_lags, tau_max=tau_max, dt=model.dt, min_weight=min_weight)
    fit = fit_exponentials(ac, **kw)
    pop_fit = fit_exponentials(pop, **kw)
    tau = getattr(model, "tau", None)
    tau = None if tau is None else np.asarray(tau.detach().cpu().numpy(), dtype=float)
    attrs = {
        "n_trials": int(n_trials),
        "n_steps": int(n_steps),
        "burn_in": int(burn_in),
        "dt": float(model.dt),
        "seed": seed,
        "model": {"kind": getattr(model, "kind", ""), **model.config()},
    }
    return NetworkTimescales(np.arange(max_lag + 1) * model.dt, ac, fit, pop, pop_fit, tau, attrs)


# -- Jacobian timescales ------------------------------------------------------------------------
@dataclass
class JacobianTimescales:
    """Eigenvalues of the Jacobian at a set of states and their time constants.

    Attributes
    ----------
    eigenvalues : complex ndarray (state, mode)
        Sorted slowest first.
    time_constant : ndarray (state, mode)
        :math:`1/|\\gamma|` with growth rate :math:`\\gamma = \\ln|\\lambda|/\\Delta t`
        (maps) or :math:`\\operatorname{Re}\\lambda` (ODEs), in time units.
    kind : str
        ``"ode"`` or ``"map"``.
    dt : float
        The step Δt of the dynamics, in time units.

    Examples
    --------
    :func:`jacobian_timescales` returns it. For :math:`\\dot x = \\mathrm{diag}(-0.1,
    -0.5)\\,x` the time constants are 10 and 2 ms:

    >>> from neurodyn.analysis import jacobian_timescales
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> dyn = FunctionDynamics(lambda x, u: x * [-0.1, -0.5], n_state=2, kind="ode", dt=1.0)
    >>> jt = jacobian_timescales(dyn, np.zeros((1, 2)))
    >>> jt.time_constant.round(6).tolist(), jt.eigenvalues.real.round(9).tolist(), jt.kind
    ([[10.0, 2.0]], [[-0.1, -0.5]], 'ode')
    """

    eigenvalues: np.ndarray
    time_constant: np.ndarray
    kind: str
    dt: float

    def to_xarray(self) -> xr.Dataset:
        """Dataset with dims ``state, mode``; the complex eigenvalues split in two."""
        ds = xr.Dataset(
            {
                "eigenvalue_real": (("state", "mode"), self.eigenvalues.real),
                "eigenvalue_imag": (("state", "mode"), self.eigenvalues.imag),
                "time_constant": (("state", "mode"), self.time_constant),
            }
        )
        ds.attrs.update(kind=self.kind, dt=self.dt)
        return ds


def jacobian_timescales(model, states, inputs=None) -> JacobianTimescales:
    """Time constants of the linearised dynamics at ``states``.

    Parameters
    ----------
    model : neurodyn Model or Dynamics
        Anything :func:`neurodyn.dynamics.dynamics` describes (the timescale RNN is
        handled by :class:`~neurodyn.dynamics.timescale.TimescaleDynamics`).
    states : array (k, n_state)
        Where to linearise: fixed points, or states visited by a driven network
        (e.g. a sample of :func:`drive`'s output).
    inputs : array (k, n_input) or (n_input,), optional
        The input at each state (default zero).

    Returns
    -------
    JacobianTimescales

    Examples
    --------
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> dyn = FunctionDynamics(lambda x, u: 0.5 * x, n_state=1, kind="map")
    >>> round(float(jacobian_timescales(dyn, np.zeros((1, 1))).time_constant[0, 0]), 3)
    1.443
    """
    dyn = as_dynamics(model)
    lin = linearize(dyn, states, inputs)
    return JacobianTimescales(lin.eigenvalues, lin.time_constant, dyn.kind, float(dyn.dt))
