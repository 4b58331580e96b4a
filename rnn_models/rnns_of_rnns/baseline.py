r"""The unconstrained baseline: a rate RNN of the same size, time step and nonlinearity.

.. math:: \tau\dot x = -x + W\phi(x) + W^{in}u + b, \qquad y = W^{out}\phi(x) + b^{out},

with a dense, freely trained :math:`W` (:class:`~neurodyn.rnn_models.RateRNN`, Euler
step :math:`\alpha = \Delta t/\tau`). Nothing keeps it contracting, which is the point
of the comparison: it has about :math:`n^2` more trained parameters than Sparse Combo
Net and no certificate.
"""

from __future__ import annotations

from ..._validation import check_positive
from ..rate import RateRNN
from .network import RNNofRNNs

__all__ = ["unconstrained_baseline"]


def unconstrained_baseline(
    model: RNNofRNNs, *, spectral_radius: float = 0.9, seed: int | None = None
) -> RateRNN:
    """A :class:`~neurodyn.rnn_models.RateRNN` matched to ``model``.

    Parameters
    ----------
    model : RNNofRNNs
        Supplies ``n_input``, ``n_hidden``, ``n_output``, ``dt``, ``tau`` and the
        nonlinearity.
    spectral_radius : float
        Spectral radius of the initial dense :math:`W`.
    seed : int, optional
        Seeds the initial weights (default: the model's seed).

    Returns
    -------
    RateRNN

    Examples
    --------
    >>> from neurodyn.rnn_models.rnns_of_rnns import SparseComboNet
    >>> net = SparseComboNet(1, 32, 10, n_modules=4, density=0.15, seed=0)
    >>> base = unconstrained_baseline(net)
    >>> base.n_hidden, base.dt, float(base.tau[0])
    (32, 1.0, 5.0)
    """
    if not isinstance(model, RNNofRNNs):
        raise ValueError(f"model must be an RNNs-of-RNNs model, got {type(model).__name__}")
    check_positive("spectral_radius", spectral_radius)
    cfg = model.config()
    return RateRNN(
        model.n_input,
        model.n_hidden,
        model.n_output,
        dt=model.dt,
        tau=model.tau,
        nonlinearity=model.nonlinearity,
        spectral_radius=spectral_radius,
        seed=cfg["seed"] if seed is None else seed,
    )
