r"""How well a fitted network explains recorded activity, on held-out trials.

The definitions follow the Neural Latents Benchmark (NLB; Pei et al. 2021) and the
Computation-through-Dynamics Benchmark (CtDB; Versteeg et al.):

- :func:`rate_r2`: :math:`R^2` of predicted against true rates, variance-weighted
  over neurons, :math:`1 - \sum (\hat r - r)^2 / \sum (r - \bar r_n)^2` with
  :math:`\bar r_n` each neuron's mean (scikit-learn's ``multioutput="variance_weighted"``);
- :func:`bits_per_spike`: the log-likelihood gain of predicted expected counts
  :math:`\lambda` over a per-neuron mean rate :math:`\bar k_n`, in bits per spike,

  .. math:: \text{bps} = \frac{\log p(k\mid\lambda) - \log p(k\mid\bar k)}{\ln 2\,\sum k},

  summed over the entries (the :math:`\log k!` terms cancel);
- :func:`co_bps` (co-smoothing): held-in neurons drive the model (it was fitted to
  them); held-out neurons are predicted by a Poisson readout
  :math:`\lambda = e^{W r + b}` of the model's rates, fitted on training trials
  (:func:`fit_poisson_readout`), and scored by :func:`bits_per_spike` on test trials;
- :func:`state_r2`: how well a linear map (least squares with an intercept, fitted
  on training trials) from the model's states predicts known latent states, as
  :func:`rate_r2` on test trials.

Every function takes a mask (1 observed, 0 not; default all observed) and counts
only observed entries.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._validation import check_positive, to_numpy
from ..io.recordings import check_recording
from ..threads import policy, state_size

__all__ = ["bits_per_spike", "co_bps", "fit_poisson_readout", "rate_r2", "state_r2"]

#: Newton iterations of :func:`fit_poisson_readout` stop once no coefficient moves by
#: more than this: far below the statistical error of any readout fitted to counts.
READOUT_TOL = 1e-10
#: ... or once the objective is within this fraction of its minimum (the Newton
#: decrement; a sum of some 10^4 float64 terms is exact to about 1e-12 relative).
READOUT_DECREMENT = 1e-12
#: At most this many Newton iterations (a strictly convex problem converges in tens).
READOUT_MAX_ITER = 100
#: The penalties :math:`\rho` (fractions of the data's curvature, largest first) among
#: which ``fit_poisson_readout(ridge="cv")`` chooses: from a penalty as strong as the
#: data's curvature (few bins, many units) to practically none (a condition number up
#: to about 1e8, where float64 Newton steps still solve to about 1e-8).
READOUT_RIDGES = (1.0, 1e-2, 1e-4, 1e-6, 1e-8)
#: Folds of that cross-validation.
READOUT_FOLDS = 3


def _mask(mask, shape) -> np.ndarray:
    if mask is None:
        return np.ones(shape, dtype=bool)
    m = np.asarray(to_numpy(mask))
    if m.shape != shape:
        raise ValueError(f"mask has shape {m.shape}; expected {shape}")
    return m > 0


def _pair(name_a, a, name_b, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(to_numpy(a), dtype=float), np.asarray(to_numpy(b), dtype=float)
    if a.shape != b.shape or a.ndim < 2:
        raise ValueError(
            f"{name_a} has shape {a.shape} and {name_b} {b.shape}; expected equal shapes "
            "(..., neuron)"
        )
    return a, b


def rate_r2(predicted, true, mask=None) -> float:
    r"""Variance-weighted :math:`R^2` of ``predicted`` against ``true`` rates.

    .. math:: R^2 = 1 - \frac{\sum_{i,n} m (\hat r_{in} - r_{in})^2}
                           {\sum_{i,n} m (r_{in} - \bar r_n)^2}

    over the entries :math:`i` (trials and times) and neurons :math:`n`;
    :math:`\bar r_n` is neuron :math:`n`'s mean over its observed entries.

    Parameters
    ----------
    predicted, true : array, shape (..., neuron)
    mask : array, same shape, optional

    Examples
    --------
    >>> r = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> rate_r2(r, r), rate_r2(np.full_like(r, 1.0), r[:, :1].repeat(2, 1))
    (1.0, 0.0)
    """
    p, t = _pair("predicted", predicted, "true", true)
    m = _mask(mask, t.shape)
    p, t = p.reshape(-1, t.shape[-1]), t.reshape(-1, t.shape[-1])
    m = m.reshape(t.shape)
    count = m.sum(axis=0)
    mean = np.where(m, t, 0.0).sum(axis=0) / np.maximum(count, 1)
    ss_res = np.where(m, (p - t) ** 2, 0.0).sum()
    ss_tot = np.where(m, (t - mean) ** 2, 0.0).sum()
    if ss_tot == 0:
        raise ValueError("true is constant within every neuron; R² is undefined")
    return float(1.0 - ss_res / ss_tot)


def bits_per_spike(rates, counts, mask=None) -> float:
    r"""Log-likelihood of ``counts`` under ``rates`` beyond a per-neuron mean, in bits per spike.

    .. math:: \text{bps} = \frac{\sum m\,[k\log\lambda - \lambda]
                                 - \sum m\,[k\log\bar k_n - \bar k_n]}{\ln 2\,\sum m\,k}

    with :math:`\bar k_n` neuron :math:`n`'s mean count over the observed entries (the
    NLB null model; the :math:`\log k!` terms of both likelihoods cancel).

    Parameters
    ----------
    rates : array, shape (..., neuron)
        Expected counts per bin :math:`\lambda > 0`.
    counts : array, same shape
        Spike counts per bin.
    mask : array, same shape, optional

    Examples
    --------
    >>> k = np.array([[0.0, 2.0], [2.0, 0.0]])
    >>> bits_per_spike(np.full_like(k, 1.0), k)  # the null model itself
    0.0
    """
    lam, k = _pair("rates", rates, "counts", counts)
    m = _mask(mask, k.shape)
    if np.any(m & ~(lam > 0)):
        raise ValueError("rates must be > 0 wherever the mask counts an entry")
    lam2, k2, m2 = (a.reshape(-1, k.shape[-1]) for a in (lam, k, m))
    n_spikes = np.where(m2, k2, 0.0).sum()
    if n_spikes == 0:
        raise ValueError("counts holds no spikes where the mask is 1; bits per spike is undefined")
    null = np.where(m2, k2, 0.0).sum(axis=0) / np.maximum(m2.sum(axis=0), 1)
    null = np.broadcast_to(null, k2.shape)

    def loglik(rate):
        # k log λ with k = 0 is 0 even where the null rate of a silent neuron is 0.
        klog = np.where(k2 > 0, k2 * np.log(np.where(k2 > 0, rate, 1.0)), 0.0)
        return np.where(m2, klog - rate, 0.0).sum()

    return float((loglik(lam2) - loglik(null)) / (n_spikes * math.log(2.0)))


def _readout_work(arguments) -> float:
    """Floating-point operations of one Newton step's Hessian, :math:`n p^2` (the
    policy's work per parallel operation)."""
    shape = np.shape(arguments["rates"])
    return float(np.prod(shape[:-1])) * (shape[-1] + 1) ** 2 if shape else 0.0


@policy(work=_readout_work)
def fit_poisson_readout(rates, counts, mask=None, *, ridge="cv", threads=None):
    r"""Fit :math:`\lambda = e^{W r + b}` (expected counts per bin) to ``counts`` by Newton's method.

    The regressors are centred and divided by one common scale, the units' RMS spread
    :math:`s` (:math:`\tilde r = (r - \mu)/s`; a unit that never varies gets weight 0),
    and each neuron's coefficients minimise the convex penalised Poisson negative
    log-likelihood

    .. math:: \sum_i m_i\left(e^{\tilde w^\top \tilde r_i + b} - k_i (\tilde w^\top
              \tilde r_i + b)\right) + \tfrac{\rho K}{2}\lVert \tilde w\rVert^2 ,
              \qquad K = \textstyle\sum_i m_i k_i ,

    with gradient :math:`X^\top m(\lambda - k) + \rho K \tilde w` and Hessian
    :math:`X^\top \operatorname{diag}(m\lambda) X + \rho K I` (:math:`X = [\tilde r, 1]`;
    the intercept is not penalised), halving a Newton step until the objective
    decreases. The likelihood's Hessian has diagonal entries of about :math:`K` along a
    unit of typical spread, so :math:`\rho` is dimensionless: the penalty is a fraction
    :math:`\rho` of the data's curvature, and directions along which the rates vary
    less than :math:`\sqrt\rho\, s` are held back. The fit is the same for rates in
    any units (``W`` scales by :math:`1/c` when the rates scale by :math:`c`).

    A network's units are often nearly collinear (its dynamics live in few
    dimensions): without a penalty, weights along the directions the training samples
    barely span grow without bound, and the readout's predictions on other trials
    explode. ``ridge="cv"`` chooses :math:`\rho` for each neuron from
    :data:`READOUT_RIDGES` by :data:`READOUT_FOLDS`-fold cross-validation over trials
    (the first axis of ``rates``; trial :math:`i` is in fold :math:`i \bmod F`): the
    value whose held-out log-likelihood is largest, the larger on a tie. A neuron with
    no more spikes (in its observed training bins) than there are regressors gets no
    weights, only its mean rate: its spikes cannot determine the weights, and the
    folds without a spike reward a readout that predicts none anywhere but at the few
    spikes seen, which explodes on other trials.

    Parameters
    ----------
    rates : array, shape (..., unit)
        The model's rates (the regressors); with three or more dimensions, the first is
        the trial.
    counts : array, shape (..., neuron)
    mask : array, shape (..., neuron), optional
    ridge : float or "cv"
        :math:`\rho \ge 0`, or ``"cv"`` to choose it.
    threads : int, optional
        Threads of the BLAS products; by default the thread policy's choice
        (:mod:`neurodyn.threads`), which leaves cores other work is using alone.

    Returns
    -------
    W : ndarray, shape (neuron, unit)
    b : ndarray, shape (neuron,)

    Examples
    --------
    Counts drawn from a known readout of three regressors, 6 trials of 50 bins: the
    fit recovers it to within the sampling error of 300 bins.

    >>> rng = np.random.default_rng(0)
    >>> rates = rng.normal(size=(6, 50, 3))
    >>> W_true, b_true = np.array([[0.5, -0.3, 0.0], [0.0, 0.4, 0.2]]), np.array([0.2, -0.5])
    >>> counts = rng.poisson(np.exp(rates @ W_true.T + b_true))
    >>> W, b = fit_poisson_readout(rates, counts)
    >>> W.shape, b.shape
    ((2, 3), (2,))
    >>> bool(np.abs(W - W_true).max() < 0.15), bool(np.abs(b - b_true).max() < 0.15)
    (True, True)
    """
    r = np.asarray(to_numpy(rates), dtype=float)
    k = np.asarray(to_numpy(counts), dtype=float)
    if r.shape[:-1] != k.shape[:-1]:
        raise ValueError(f"rates {r.shape} and counts {k.shape} must share their leading dims")
    m = _mask(mask, k.shape)
    fold = None  # each sample's cross-validation fold, when the ridge is to be chosen
    if isinstance(ridge, str) and ridge == "cv":
        if r.ndim < 3 or r.shape[0] < READOUT_FOLDS:
            raise ValueError(
                f"ridge='cv' needs rates with a trial axis of at least {READOUT_FOLDS} "
                f"trials; got rates of shape {r.shape} (give ridge a number)"
            )
        trial_fold = np.arange(r.shape[0]) % READOUT_FOLDS
        fold = np.broadcast_to(trial_fold.reshape((-1,) + (1,) * (r.ndim - 2)), r.shape[:-1])
        fold = fold.reshape(-1)
    else:
        ridge = check_positive("ridge", ridge, allow_zero=True)
    flat = r.reshape(-1, r.shape[-1])
    mu, var = flat.mean(axis=0), flat.var(axis=0)
    varies = var > 0
    # Centred, in the rates' own units, divided by the units' RMS spread: one scale for
    # all units, so a unit that varies little needs a large weight to matter and the
    # penalty restrains it (dividing each unit by its own spread would make a unit that
    # is silent but for rare bursts as loud as any other).
    scale = math.sqrt(var[varies].mean()) if varies.any() else 1.0
    X = np.concatenate([(flat[:, varies] - mu[varies]) / scale, np.ones((len(flat), 1))], 1)
    k, m = k.reshape(-1, k.shape[-1]), m.reshape(-1, k.shape[-1])
    beta = np.stack([_fit_neuron(X, k[:, j], m[:, j], ridge, fold) for j in range(k.shape[1])])
    W = np.zeros((k.shape[1], r.shape[-1]))
    W[:, varies] = beta[:, :-1] / scale
    return W, beta[:, -1] - W @ mu


def _fit_neuron(X, k, m, ridge, fold) -> np.ndarray:
    """One neuron's coefficients; its ridge chosen by cross-validation over ``fold``
    (each sample's fold) unless that is None."""
    if fold is None:
        return _newton_glm(X[m], k[m], ridge)
    if k[m].sum() <= X.shape[1] - 1:  # too few spikes to choose, or fit, any weight
        beta = np.zeros(X.shape[1])
        beta[-1] = math.log(max(k[m].mean(), 1e-12)) if m.any() else 0.0
        return beta
    scores = np.zeros(len(READOUT_RIDGES))
    for f in range(READOUT_FOLDS):
        train, test = m & (fold != f), m & (fold == f)
        X_train, k_train, X_test, k_test = X[train], k[train], X[test], k[test]
        beta = None
        for i, rho in enumerate(READOUT_RIDGES):  # the largest first; each warm-starts the next
            beta = _newton_glm(X_train, k_train, rho, beta)
            with np.errstate(over="ignore"):  # an exploding readout scores -inf
                eta = X_test @ beta
                scores[i] += np.sum(k_test * eta - np.exp(eta))
    scores = np.where(np.isfinite(scores), scores, -np.inf)
    best = int(np.flatnonzero(scores == scores.max())[0])  # ridges run from large to small
    return _newton_glm(X[m], k[m], READOUT_RIDGES[best])


def _newton_glm(X, k, ridge, beta=None) -> np.ndarray:
    penalty = np.full(X.shape[1], ridge * k.sum())
    penalty[-1] = 0.0
    if beta is None:
        beta = np.zeros(X.shape[1])
        beta[-1] = math.log(max(k.mean(), 1e-12)) if k.size else 0.0

    def objective(b):
        eta = X @ b
        # A trial step may overshoot so far that exp overflows: its objective is then
        # +inf, which the line search below rejects by halving the step.
        with np.errstate(over="ignore"):
            value = np.exp(eta).sum() - k @ eta + 0.5 * (penalty * b**2).sum()
        return value if np.isfinite(value) else np.inf

    value = objective(beta)
    for _ in range(READOUT_MAX_ITER):
        lam = np.exp(X @ beta)
        grad = X.T @ (lam - k) + penalty * beta
        # X^T diag(lam) X as A^T A with A = diag(sqrt(lam)) X: BLAS's symmetric rank-k
        # update (numpy calls it for a product of a matrix's transpose with itself),
        # half the work of the general product and most of a Newton step's time.
        root = X * np.sqrt(lam)[:, None]
        hess = root.T @ root + np.diag(penalty)
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        # Half the Newton decrement estimates how far the objective is above its
        # minimum: once that is at the objective's rounding level, further steps only
        # move the coefficients by rounding noise (which, along the directions the data
        # barely span, can stay above READOUT_TOL for ever).
        if 0.5 * (grad @ step) <= READOUT_DECREMENT * max(abs(value), 1.0):
            break
        t = 1.0
        while t > 1e-8:
            trial = beta - t * step
            new = objective(trial)
            if new <= value:
                break
            t *= 0.5
        else:
            break  # no step along the Newton direction lowers the objective: converged
        beta, value = trial, new
        if np.max(np.abs(t * step)) < READOUT_TOL:
            break
    return beta


@torch.no_grad()
def _model_rates(model, rec) -> np.ndarray:
    """The model's rates (trial, time, unit) on the recording's inputs, without noise."""
    n_trial, n_time = rec.sizes["trial"], rec.sizes["time"]
    if "inputs" in rec.data_vars:
        valid = np.arange(n_time)[None, :] < rec["length"].values[:, None]
        u = np.where(valid[..., None], rec["inputs"].values, 0.0)
    else:
        u = np.zeros((n_trial, n_time, model.n_input))
    model.eval()
    return model(torch.as_tensor(u, dtype=torch.float32), noise=False).rates.cpu().numpy()


def _co_bps_work(arguments) -> float:
    """As :func:`_readout_work`, from the recording's bins and the model's units (0
    for input the function itself rejects)."""
    sizes = getattr(arguments["recorded"], "sizes", {})
    bins = sizes.get("trial", 0) * sizes.get("time", 0)
    return float(bins) * (state_size(arguments["model"]) + 1) ** 2


@policy(work=_co_bps_work)
def co_bps(
    model, recorded, held_out, train_trials, test_trials, *, ridge="cv", threads=None
) -> float:
    r"""Co-smoothing bits per spike of held-out neurons on test trials (NLB).

    The model (fitted to the held-in neurons) runs on every trial's inputs; a Poisson
    readout from its rates to the held-out neurons is fitted on ``train_trials``
    (:func:`fit_poisson_readout`) and predicts their counts on ``test_trials``, scored
    by :func:`bits_per_spike`.

    Parameters
    ----------
    model : Model
    recorded : xarray.Dataset
        A recording of spike counts (``kind="counts"``) holding the held-out neurons.
    held_out : array of int
        Positions (along ``neuron``) of the held-out neurons.
    train_trials, test_trials : array of int
        Positions (along ``trial``).
    ridge : float or "cv"
        Penalty of the readout (:func:`fit_poisson_readout`): chosen by cross-validation
        over the training trials by default.
    threads : int, optional
        Threads of the readout's fit, as for :func:`fit_poisson_readout`.

    Returns
    -------
    float
        Bits per spike of the held-out neurons on the test trials (0 for a prediction
        as good as each neuron's mean rate; higher is better).

    Examples
    --------
    Three neurons whose spike counts are a Poisson readout of the network's own rates
    are predicted on three test trials well above their mean rates:

    >>> import torch
    >>> from neurodyn.io import recording
    >>> from neurodyn.rnn_models import RateRNN
    >>> model = RateRNN(2, 8, 1, nonlinearity="softplus", seed=0)
    >>> rng = np.random.default_rng(0)
    >>> u = rng.normal(size=(10, 30, 2)).astype(np.float32)
    >>> with torch.no_grad():
    ...     rates = model(torch.as_tensor(u), noise=False).rates.numpy()
    >>> readout = 2.0 * rng.normal(size=(3, 8))
    >>> counts = rng.poisson(np.exp((rates - rates.mean((0, 1))) @ readout.T))
    >>> rec = recording(counts, u, dt=10.0, kind="counts")
    >>> score = co_bps(model, rec, held_out=[0, 1, 2], train_trials=range(7),
    ...                test_trials=[7, 8, 9])
    >>> score > 0.2
    True
    """
    check_recording(recorded)
    if recorded.attrs["kind"] != "counts":
        raise ValueError("recorded must hold spike counts (kind='counts') for co-bps")
    held_out = np.asarray(held_out)
    rates = _model_rates(model, recorded)
    counts = recorded["activity"].values[..., held_out]
    mask = recorded["mask"].values[..., held_out] > 0
    counts = np.where(mask, counts, 0.0)
    tr, te = np.asarray(train_trials), np.asarray(test_trials)
    W, b = fit_poisson_readout(rates[tr], counts[tr], mask[tr], ridge=ridge)
    # A readout may predict a rate below the smallest float somewhere; it scores as
    # that rate (a finite, very bad score where a spike came), not as an error.
    with np.errstate(under="ignore"):
        predicted = np.maximum(np.exp(rates[te] @ W.T + b), np.finfo(float).tiny)
    return bits_per_spike(predicted, counts[te], mask[te])


def state_r2(model_states, true_states, train_trials, test_trials) -> float:
    r""":math:`R^2` of true latent states predicted linearly from the model's states.

    A map :math:`\hat z = A x + c` is fitted by least squares on ``train_trials`` and
    scored by :func:`rate_r2` (variance-weighted over the latent dimensions) on
    ``test_trials``.

    Parameters
    ----------
    model_states : array, shape (trial, time, n_state)
    true_states : array, shape (trial, time, n_latent)
    train_trials, test_trials : array of int

    Returns
    -------
    float
        :math:`R^2` on the test trials (1 for latents that are an exact affine map of
        the model's states).

    Examples
    --------
    Latents that are an affine map of the states are recovered exactly; with noise
    added, less well:

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(6, 40, 5))
    >>> z = x @ rng.normal(size=(2, 5)).T + 1.0
    >>> round(state_r2(x, z, [0, 1, 2, 3], [4, 5]), 6)
    1.0
    >>> noisy = z + 0.5 * rng.normal(size=z.shape)
    >>> 0.9 < state_r2(x, noisy, [0, 1, 2, 3], [4, 5]) < 1.0
    True
    """
    x = np.asarray(to_numpy(model_states), dtype=float)
    z = np.asarray(to_numpy(true_states), dtype=float)
    if x.ndim != 3 or z.ndim != 3 or x.shape[:2] != z.shape[:2]:
        raise ValueError(
            f"model_states {x.shape} and true_states {z.shape} must be (trial, time, dim) "
            "with the same trials and times"
        )
    tr, te = np.asarray(train_trials), np.asarray(test_trials)

    def design(a):
        a = a.reshape(-1, a.shape[-1])
        return np.concatenate([a, np.ones((a.shape[0], 1))], axis=1)

    coef = np.linalg.lstsq(design(x[tr]), z[tr].reshape(-1, z.shape[-1]), rcond=None)[0]
    predicted = design(x[te]) @ coef
    return rate_r2(predicted, z[te].reshape(-1, z.shape[-1]))
