r"""Linear readout of liquid spike counts (models.md §3.5, step 4).

Features are each sample's liquid spike counts :math:`c`, normalised as in the
NALSM code, :math:`x = (c / \lVert c \rVert_1) / s` with :math:`s` the largest
entry of :math:`c/\lVert c \rVert_1` over the training samples. The readout is
multinomial logistic regression,

.. math::

    \min_{W, b} \; -\frac{1}{n} \sum_n \sum_k y_{nk} \log \operatorname{softmax}(W x_n + b)_k
    + \lambda \lVert W \rVert_F^2,

fitted to convergence with L-BFGS (the paper trains the same model with Adadelta
for up to 5000 epochs). ``soft_targets=True`` uses the paper's targets
:math:`y_n = \operatorname{softmax}(\pm 1)`: about 0.45 for the true class and
0.061 for each other class of ten.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special

from .._validation import check_finite, check_positive
from ..threads import one_blas_thread

__all__ = ["LogisticReadout", "fit_readout", "normalise_counts"]

logger = logging.getLogger(__name__)


def normalise_counts(counts, *, scale: float | None = None) -> tuple[np.ndarray, float]:
    """NALSM feature normalisation: per-sample L1, then one global scale.

    Parameters
    ----------
    counts : array (n_samples, n_neurons)
    scale : float, optional
        Divisor of the second step; default: the largest L1-normalised count here
        (pass the training set's when normalising test samples).

    Returns
    -------
    features : array (n_samples, n_neurons)
    scale : float

    Raises
    ------
    ValueError
        If no sample has any spike: a silent liquid has nothing to classify.
        Samples without spikes among others are kept as zero vectors and logged.

    Examples
    --------
    Each row is divided by its total, then all by the largest resulting entry
    (0.75); a test sample reuses the training scale:

    >>> train, scale = normalise_counts([[2, 2, 0], [0, 1, 3]])
    >>> np.round(train, 3).tolist(), scale
    ([[0.667, 0.667, 0.0], [0.0, 0.333, 1.0]], 0.75)
    >>> test, _ = normalise_counts([[0, 0, 5]], scale=scale)
    >>> np.round(test, 3).tolist()
    [[0.0, 0.0, 1.333]]
    """
    c = check_finite("counts", np.asarray(counts, dtype=np.float64))
    if c.ndim != 2 or c.shape[0] == 0:
        raise ValueError(f"counts must have shape (n_samples, n_neurons), got {c.shape}")
    if np.any(c < 0):
        raise ValueError("counts must be non-negative spike counts")
    totals = c.sum(axis=1, keepdims=True)
    silent = int(np.count_nonzero(totals == 0))
    if silent == c.shape[0]:
        raise ValueError(
            f"none of the {silent} samples produced a spike in the measured neurons, so there "
            "are no features to classify; increase the input or the weights"
        )
    if silent:
        logger.warning(
            "%d of %d samples produced no spikes; their features are all zero", silent, c.shape[0]
        )
    x = c / np.where(totals > 0, totals, 1.0)
    if scale is None:
        scale = float(x.max())
    check_positive("scale", scale)
    return x / scale, float(scale)


def _soft(y: np.ndarray, n_classes: int, soft: bool) -> np.ndarray:
    onehot = np.eye(n_classes)[y]
    return special.softmax(2.0 * onehot - 1.0, axis=1) if soft else onehot


@dataclass
class LogisticReadout:
    """Multinomial logistic regression with an L2 penalty (module docstring).

    Parameters
    ----------
    l2 : float
        :math:`\\lambda`.
    soft_targets : bool
        Fit softmax(±1) targets instead of one-hot labels.
    max_iter : int
        L-BFGS iterations.
    coef_ : array (n_features, n_classes) or None
        The fitted weights :math:`W^\\top`, set by :meth:`fit`.
    intercept_ : array (n_classes,) or None
        The fitted biases :math:`b`, set by :meth:`fit`.
    classes_ : array or None
        The sorted distinct labels seen by :meth:`fit`; column :math:`k` of
        ``coef_`` scores ``classes_[k]``.
    converged_ : bool
        Whether L-BFGS reported convergence within ``max_iter`` iterations.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.r_[rng.normal(0, 1, (50, 2)), rng.normal(4, 1, (50, 2))]
    >>> y = np.repeat([0, 1], 50)
    >>> readout = LogisticReadout(l2=1e-3).fit(x, y)
    >>> readout.score(x, y) > 0.95
    True
    >>> readout.coef_.shape, readout.classes_.tolist(), readout.converged_
    ((2, 2), [0, 1], True)
    """

    l2: float = 1e-4
    soft_targets: bool = False
    max_iter: int = 300
    coef_: np.ndarray | None = field(default=None, repr=False)
    intercept_: np.ndarray | None = field(default=None, repr=False)
    classes_: np.ndarray | None = field(default=None, repr=False)
    converged_: bool = False

    def fit(self, x, y) -> LogisticReadout:
        x = check_finite("x", np.asarray(x, dtype=np.float64))
        y = np.asarray(y)
        if x.ndim != 2 or y.shape != (x.shape[0],):
            raise ValueError(f"x must be (n, d) and y (n,), got {x.shape} and {y.shape}")
        check_positive("l2", self.l2, allow_zero=True)
        self.classes_, yi = np.unique(y, return_inverse=True)
        k = self.classes_.size
        if k < 2:
            raise ValueError("y must contain at least two classes")
        n, d = x.shape
        target = _soft(yi, k, self.soft_targets)

        def loss(theta):
            w, b = theta[: d * k].reshape(d, k), theta[d * k :]
            logits = x @ w + b
            logp = logits - special.logsumexp(logits, axis=1, keepdims=True)
            value = -np.sum(target * logp) / n + self.l2 * np.sum(w * w)
            g = (np.exp(logp) * target.sum(1, keepdims=True) - target) / n
            grad = np.concatenate([(x.T @ g + 2 * self.l2 * w).ravel(), g.sum(0)])
            return value, grad

        # Small products in a loop: BLAS threads would only compete with other work.
        with one_blas_thread():
            res = optimize.minimize(
                loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                options={"maxiter": self.max_iter},
            )  # fmt: skip
        self.coef_, self.intercept_ = res.x[: d * k].reshape(d, k), res.x[d * k :]
        self.converged_ = bool(res.success)
        return self

    def decision_function(self, x) -> np.ndarray:
        if self.coef_ is None:
            raise ValueError("call fit() first")
        x = check_finite("x", np.asarray(x, dtype=np.float64))
        if x.ndim != 2 or x.shape[1] != self.coef_.shape[0]:
            raise ValueError(f"x must have shape (n, {self.coef_.shape[0]}), got {x.shape}")
        return x @ self.coef_ + self.intercept_

    def predict(self, x) -> np.ndarray:
        return self.classes_[np.argmax(self.decision_function(x), axis=1)]

    def score(self, x, y) -> float:
        """Fraction of samples classified correctly.

        Parameters
        ----------
        x : array (n_samples, n_features)
            Features, normalised as for :meth:`fit`.
        y : array (n_samples,)
            True labels.

        Returns
        -------
        float
            Accuracy in [0, 1].
        """
        return float(np.mean(self.predict(x) == np.asarray(y)))


def fit_readout(
    x_train, y_train, x_val, y_val, *, l2_grid=(1e-6, 1e-5, 1e-4, 1e-3), soft_targets=False
) -> tuple[LogisticReadout, float]:
    """Fit one readout per penalty and keep the best on validation.

    This is how the paper picks the epoch of best validation accuracy; here the
    penalty :math:`\\lambda` is chosen instead (ties keep the first in ``l2_grid``).

    Parameters
    ----------
    x_train : array (n_train, n_features)
        Training features (:func:`normalise_counts` of liquid spike counts).
    y_train : array (n_train,)
        Training labels.
    x_val : array (n_val, n_features)
        Validation features, normalised with the training scale.
    y_val : array (n_val,)
        Validation labels.
    l2_grid : sequence of float
        The penalties :math:`\\lambda` to try.
    soft_targets : bool
        Fit the paper's softmax(±1) targets instead of one-hot labels.

    Returns
    -------
    readout : LogisticReadout
        The fitted readout with the best validation accuracy.
    accuracy : float
        Its validation accuracy.

    Examples
    --------
    Two well-separated classes of 2-D features:

    >>> rng = np.random.default_rng(0)
    >>> def blobs(n):
    ...     x = np.r_[rng.normal(0, 1, (n, 2)), rng.normal(4, 1, (n, 2))]
    ...     return x, np.repeat([0, 1], n)
    >>> x_train, y_train = blobs(40)
    >>> x_val, y_val = blobs(20)
    >>> readout, acc = fit_readout(x_train, y_train, x_val, y_val, l2_grid=(1e-4, 1e-2))
    >>> acc > 0.9, readout.l2 in (1e-4, 1e-2)
    (True, True)
    """
    best, best_acc = None, -1.0
    for l2 in l2_grid:
        r = LogisticReadout(l2=l2, soft_targets=soft_targets).fit(x_train, y_train)
        acc = r.score(x_val, y_val)
        if acc > best_acc:
            best, best_acc = r, acc
    return best, best_acc
