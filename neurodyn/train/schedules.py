"""What changes during training on a schedule: the learning rate and the thread count."""

from __future__ import annotations

import logging
import math
import time

import torch

from .. import threads as _threads
from .config import check_optimizer

__all__ = ["THREAD_RECHECK_S", "ThreadSchedule", "learning_rate", "make_optimizer"]

logger = logging.getLogger(__name__)

#: Seconds between re-evaluations of the thread count during training, so that load
#: that starts or stops on the machine mid-run changes it.
THREAD_RECHECK_S = 10.0


def learning_rate(lr: float, schedule: str, step: int, n_steps: int) -> float:
    r"""The learning rate of optimisation step ``step`` (0-based) of ``n_steps``.

    ``"constant"`` gives :math:`\eta`; ``"cosine"`` decays it to zero over the run
    (Loshchilov & Hutter 2017, without restarts):

    .. math:: \eta_k = \frac{\eta}{2}\left(1 + \cos\frac{\pi k}{K}\right),
              \quad k = 0, \dots, K - 1.

    It depends only on the step, so a resumed run follows the same schedule.

    Parameters
    ----------
    lr : float
        The base learning rate :math:`\eta`.
    schedule : {"constant", "cosine"}
        The schedule.
    step : int
        The step :math:`k`, 0-based.
    n_steps : int
        Steps in the run, :math:`K`.

    Examples
    --------
    >>> [round(learning_rate(1.0, "cosine", k, 4), 4) for k in range(4)]
    [1.0, 0.8536, 0.5, 0.1464]
    """
    if schedule == "constant":
        return lr
    return 0.5 * lr * (1.0 + math.cos(math.pi * step / n_steps))


def make_optimizer(name, params, *, lr, momentum):
    """Adam, or SGD with (Nesterov) momentum, over ``params``.

    Parameters
    ----------
    name : {"adam", "sgd", "sgd_nesterov"}
        The optimiser.
    params : iterable of torch.Tensor
        The parameters to optimise (e.g. ``model.parameters()``).
    lr : float
        Learning rate.
    momentum : float
        Momentum of the SGD optimisers, in [0, 1) (> 0 for ``"sgd_nesterov"``);
        ignored by Adam.

    Returns
    -------
    torch.optim.Optimizer

    Raises
    ------
    ValueError
        For an unknown name or a momentum that does not suit it.

    Examples
    --------
    >>> from neurodyn.rnn_models import RateRNN
    >>> model = RateRNN(1, 8, 1, seed=0)
    >>> opt = make_optimizer("sgd_nesterov", model.parameters(), lr=0.01, momentum=0.9)
    >>> type(opt).__name__, opt.param_groups[0]["nesterov"], opt.param_groups[0]["momentum"]
    ('SGD', True, 0.9)
    >>> type(make_optimizer("adam", model.parameters(), lr=1e-3, momentum=0.0)).__name__
    'Adam'
    """
    check_optimizer(name, momentum)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=name == "sgd_nesterov")


class ThreadSchedule:
    """The thread policy for a training run, re-evaluated every :data:`THREAD_RECHECK_S` s.

    An explicit count stays fixed; the policy's choice is re-made (pools restored,
    then set again) so that load that starts or stops mid-run changes it.

    Parameters
    ----------
    threads : int or None
        An explicit thread count, or None for the policy of :mod:`neurodyn.threads`.
    work : float
        Floating-point operations of one training step's recurrent product
        (:func:`~neurodyn.train.resources.step_flops`).

    Examples
    --------
    The training loop enters it once and calls :meth:`renew` after every step:

    >>> with ThreadSchedule(1, work=1e5) as schedule:
    ...     for step in range(3):
    ...         schedule.renew()
    >>> schedule.count
    1
    """

    def __init__(self, threads, work):
        self.threads, self.work = threads, work
        self._cm = None
        self.count = 0

    def __enter__(self):
        self._enter()
        return self

    def _enter(self):
        self._cm = _threads.limit(self.threads, work=self.work, what="fit")
        self.count = self._cm.__enter__()
        self._since = time.monotonic()

    def renew(self):
        if self.threads is None and time.monotonic() - self._since >= THREAD_RECHECK_S:
            before = self.count
            self._cm.__exit__(None, None, None)
            self._enter()
            if self.count != before:
                logger.info("training now runs on %d thread(s) (was %d)", self.count, before)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)
