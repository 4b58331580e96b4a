"""Seconds to fit the co-smoothing readout (``fit_poisson_readout(ridge="cv")``), beside
the formulation it had before.

The readout co-bps fits from a model's rates to each held-out neuron is a Poisson GLM,
fitted by Newton's method for each of 5 ridges on 3 folds and once more on all trials
(16 fits per neuron). A fit is dominated by the Hessian :math:`X^\\top \\operatorname{diag}
(\\lambda) X` over every bin. Two formulations run side by side on the same data, one
after the other in each repeat:

- ``now``: neurodyn's, the Hessian as :math:`A^\\top A` with
  :math:`A = \\operatorname{diag}(\\sqrt\\lambda) X` (BLAS's symmetric rank-k update, half
  the work), each fold's samples selected once, and BLAS on the thread policy's threads;
- ``before``: the general product :math:`(X \\lambda)^\\top X`, each fold's samples
  selected again for every ridge, and BLAS on all its threads (kept here as it was).

Both give the same coefficients to rounding; the benchmark checks it. The sizes are the
ground-truth validation's: 256 training trials of 200 bins, 64 units, 2 neurons (its
co-bps fits 8). Run it in the default environment (as users run it), and again with
``OPENBLAS_NUM_THREADS=1`` for the pinned figure::

    python benchmarks/bench_readout.py
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_readout.py
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
from bench_train import loadavg

from neurodyn.train import fit_metrics
from neurodyn.train.fit_metrics import READOUT_FOLDS, READOUT_RIDGES, fit_poisson_readout


def _newton_before(X, k, ridge, beta=None):
    """The Newton iteration as it was: the Hessian as a general product."""
    penalty = np.full(X.shape[1], ridge * k.sum())
    penalty[-1] = 0.0
    if beta is None:
        beta = np.zeros(X.shape[1])
        beta[-1] = math.log(max(k.mean(), 1e-12)) if k.size else 0.0

    def objective(b):
        eta = X @ b
        with np.errstate(over="ignore"):
            value = np.exp(eta).sum() - k @ eta + 0.5 * (penalty * b**2).sum()
        return value if np.isfinite(value) else np.inf

    value = objective(beta)
    for _ in range(fit_metrics.READOUT_MAX_ITER):
        lam = np.exp(X @ beta)
        grad = X.T @ (lam - k) + penalty * beta
        hess = (X * lam[:, None]).T @ X + np.diag(penalty)
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        if 0.5 * (grad @ step) <= fit_metrics.READOUT_DECREMENT * max(abs(value), 1.0):
            break
        t = 1.0
        while t > 1e-8:
            trial = beta - t * step
            new = objective(trial)
            if new <= value:
                break
            t *= 0.5
        else:
            break
        beta, value = trial, new
        if np.max(np.abs(t * step)) < fit_metrics.READOUT_TOL:
            break
    return beta


def _fit_neuron_before(X, k, m, fold):
    scores = np.zeros(len(READOUT_RIDGES))
    for f in range(READOUT_FOLDS):
        train, test = m & (fold != f), m & (fold == f)
        beta = None
        for i, rho in enumerate(READOUT_RIDGES):
            beta = _newton_before(X[train], k[train], rho, beta)
            with np.errstate(over="ignore"):
                eta = X[test] @ beta
                scores[i] += np.sum(k[test] * eta - np.exp(eta))
    scores = np.where(np.isfinite(scores), scores, -np.inf)
    best = int(np.flatnonzero(scores == scores.max())[0])
    return _newton_before(X[m], k[m], READOUT_RIDGES[best])


def readout_before(rates, counts):
    """``fit_poisson_readout(rates, counts)`` (ridge="cv", no mask) as it was."""
    r = np.asarray(rates, dtype=float)
    k = np.asarray(counts, dtype=float)
    fold = np.broadcast_to((np.arange(r.shape[0]) % READOUT_FOLDS)[:, None], r.shape[:-1])
    flat = r.reshape(-1, r.shape[-1])
    mu, var = flat.mean(axis=0), flat.var(axis=0)
    varies = var > 0
    scale = math.sqrt(var[varies].mean())
    X = np.concatenate([(flat[:, varies] - mu[varies]) / scale, np.ones((len(flat), 1))], 1)
    k = k.reshape(-1, k.shape[-1])
    m = np.ones_like(k, dtype=bool)
    beta = np.stack(
        [_fit_neuron_before(X, k[:, j], m[:, j], fold.reshape(-1)) for j in range(k.shape[1])]
    )
    W = np.zeros((k.shape[1], r.shape[-1]))
    W[:, varies] = beta[:, :-1] / scale
    return W, beta[:, -1] - W @ mu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int, default=256)
    parser.add_argument("--neurons", type=int, default=2)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    # Rates of a 64-unit network: slow, correlated, non-negative; Poisson counts of a
    # few neurons driven by them.
    rates = np.log1p(np.exp(rng.normal(size=(args.trials, 200, 64)).cumsum(axis=1) * 0.1))
    counts = rng.poisson(np.exp(rates @ rng.normal(size=(64, args.neurons)) * 0.05 - 1.0))
    times = {"now": [], "before": []}
    for _ in range(args.repeats):
        start = time.perf_counter()
        W_now, b_now = fit_poisson_readout(rates, counts)
        times["now"].append(time.perf_counter() - start)
        start = time.perf_counter()
        W_before, b_before = readout_before(rates, counts)
        times["before"].append(time.perf_counter() - start)
    # The same optimum: coefficients agree far inside their statistical error.
    assert np.allclose(W_now, W_before, atol=1e-8) and np.allclose(b_now, b_before, atol=1e-8)
    load = loadavg()
    now, before = statistics.median(times["now"]), statistics.median(times["before"])
    print(f"{args.neurons} neurons, {args.trials} x 200 bins, 64 units; load {load}; "
          f"median of {args.repeats}")  # fmt: skip
    print(f"  before {before:8.2f} s   now {now:8.2f} s   ratio {before / now:5.2f}x")


if __name__ == "__main__":
    main()
