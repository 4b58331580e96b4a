r"""Objectives for fitting a network to recorded activity.

Two objectives compare a model's prediction with a recording's ``activity``
(:mod:`neurodyn.io.recordings`), both averaged over the observed entries
(:math:`m = 1`):

- ``"mse"`` (rates): :math:`\sum m\,(\hat r - r)^2 / \sum m`, the masked MSE of
  :func:`~neurodyn.train.losses.masked_mse`;
- ``"poisson"`` (spike counts per bin): the Poisson negative log-likelihood of the
  counts :math:`k` given the expected counts :math:`\lambda = e^{\eta}` per bin,

  .. math:: L = \frac{1}{\sum m}\sum m \left(\lambda - k\,\eta + \log k!\right),
            \qquad \eta = \log\lambda ,

  which is :math:`-\frac{1}{\sum m}\sum m \log p(k\mid\lambda)` exactly: the
  :math:`\log k! = \log\Gamma(k + 1)` term is included, so the loss is a true
  per-entry negative log-likelihood (comparable across models and with
  ``scipy.stats.poisson.logpmf``); it does not depend on the model, so it changes no
  gradient.

As in :mod:`neurodyn.train.losses`, unobserved entries (mask 0, possibly NaN) are
selected away with ``torch.where`` before any arithmetic: they contribute exactly
0 to the loss and to every gradient.
"""

from __future__ import annotations

import torch

from .._validation import check_choice
from .losses import masked_mse

__all__ = ["OBJECTIVES", "get_objective", "poisson_nll"]


def poisson_nll(log_rate: torch.Tensor, counts: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""Mean Poisson negative log-likelihood of ``counts`` over the observed entries.

    .. math:: L = \frac{\sum m\,(e^{\eta} - k\eta + \log\Gamma(k + 1))}{\sum m}

    Parameters
    ----------
    log_rate : Tensor, shape (trial, time, neuron)
        :math:`\eta = \log\lambda`, the log of the expected count per bin.
    counts : Tensor, same shape
        Spike counts :math:`k` per bin (ignored, and may be NaN, where ``mask`` is 0).
    mask : Tensor, same shape
        1 where the entry is observed, 0 where it is not.

    Examples
    --------
    >>> import math
    >>> eta = torch.tensor([[[math.log(2.0), 0.0]]])
    >>> k = torch.tensor([[[3.0, float("nan")]]])
    >>> m = torch.tensor([[[1.0, 0.0]]])
    >>> round(poisson_nll(eta, k, m).item(), 6)  # 2 - 3 log 2 + log 3!
    1.712318
    """
    observed = mask > 0
    # η = 0 and k = 0 where unobserved: every term there is finite and weighted by 0.
    eta = torch.where(observed, log_rate, 0.0)
    k = torch.where(observed, counts, 0.0)
    fitted = (mask * (torch.exp(eta) - k * eta)).sum()
    # log k! does not depend on the model: computed outside the autograd graph.
    with torch.no_grad():
        constant = (mask * torch.lgamma(k + 1.0)).sum()
    return (fitted + constant) / mask.sum().clamp_min(1e-12)


#: Objectives by name: what the loss compares (see :mod:`neurodyn.train.recorded`:
#: ``"mse"`` receives predicted activity, ``"poisson"`` the log expected count).
OBJECTIVES = {"mse": masked_mse, "poisson": poisson_nll}


def get_objective(name: str):
    r"""The objective called ``name`` (``"mse"`` or ``"poisson"``).

    Parameters
    ----------
    name : {"mse", "poisson"}
        A key of :data:`OBJECTIVES`.

    Returns
    -------
    callable
        ``objective(prediction, activity, mask) -> Tensor``: :func:`masked_mse` of
        predicted activity, or :func:`poisson_nll` of the log expected counts.

    Raises
    ------
    ValueError
        For an unknown name.

    Examples
    --------
    The Poisson objective of an expected count of 1 per bin where 0 and 2 spikes were
    seen: :math:`(1 + (1 + \log 2!))/2`.

    >>> import math
    >>> nll = get_objective("poisson")
    >>> counts = torch.tensor([[[0.0], [2.0]]])
    >>> value = nll(torch.zeros(1, 2, 1), counts, torch.ones(1, 2, 1)).item()
    >>> round(value, 6), round((2 + math.log(2)) / 2, 6)
    (1.346574, 1.346574)
    >>> get_objective("mse").__name__
    'masked_mse'
    """
    return OBJECTIVES[check_choice("objective", name, OBJECTIVES)]
