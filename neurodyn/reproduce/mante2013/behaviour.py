r"""What the choices depend on (:mod:`neurodyn.reproduce.mante2013`).

Mante et al.'s monkeys and network choose by the cued modality's coherence and ignore
the other's (their Fig. 1 and 5). :func:`choice_weights` measures it: the slopes of a
logistic regression of the choice on the two signed coherences.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

__all__ = ["choice_weights"]


def choice_weights(choice, relevant, irrelevant) -> dict:
    r"""Logistic regression of the choice on the relevant and irrelevant coherences.

    .. math:: P(\text{choice} = +1) = \sigma(\beta_0 + \beta_r c_r + \beta_i c_i),

    fitted by maximum likelihood over the trials with a choice (±1; 0, no choice, is
    left out). Mante et al.'s monkeys and network choose by the relevant coherence and
    ignore the irrelevant one (their Fig. 1): :math:`|\beta_i| \ll |\beta_r|`.

    Parameters
    ----------
    choice : array (n,)
        -1, +1 (or 0 for no choice).
    relevant, irrelevant : array (n,)
        Signed coherences of the cued and the other modality.

    Returns
    -------
    dict
        ``relevant``, ``irrelevant`` (the slopes, per unit of coherence), ``bias`` and
        ``n_trials`` (trials with a choice). The weights are NaN when the choices do not
        take both values (no slope can be fitted).

    Examples
    --------
    Choices drawn from known slopes 0.5 and 0.05 are recovered within their standard
    errors (about 0.03 and 0.01 with 4000 trials):

    >>> rng = np.random.default_rng(0)
    >>> cr, ci = rng.choice([-8.0, -2.0, 2.0, 8.0], size=(2, 4000))
    >>> p = 1 / (1 + np.exp(-(0.5 * cr + 0.05 * ci)))
    >>> choice = np.where(rng.random(4000) < p, 1, -1)
    >>> w = choice_weights(choice, cr, ci)
    >>> abs(w["relevant"] - 0.5) < 0.1, abs(w["irrelevant"] - 0.05) < 0.03
    (True, True)
    """
    choice = np.asarray(choice)
    keep = choice != 0
    y = (choice[keep] > 0).astype(float)
    X = np.column_stack([np.ones(keep.sum()), np.asarray(relevant, float)[keep],
                         np.asarray(irrelevant, float)[keep]])  # fmt: skip

    def nll(w):
        z = X @ w
        # log(1 + e^z) - y z, written to be stable at both signs of z
        return float(np.sum(np.logaddexp(0.0, z) - y * z))

    def grad(w):
        p = 0.5 * (1.0 + np.tanh(0.5 * (X @ w)))
        return X.T @ (p - y)

    if len(np.unique(y)) < 2:
        w = np.full(3, np.nan)
    else:
        w = optimize.minimize(nll, np.zeros(3), jac=grad, method="BFGS").x
    return {"bias": float(w[0]), "relevant": float(w[1]), "irrelevant": float(w[2]),
            "n_trials": int(keep.sum())}  # fmt: skip
