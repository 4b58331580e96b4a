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

    Examples
    --------
    >>> [round(learning_rate(1.0, "cosine", k, 4), 4) for k in range(4)]
    [1.0, 0.8536, 0.5, 0.1464]
    """
    if schedule == "constant":
        return lr
    return 0.5 * lr * (1.0 + math.cos(math.pi * step / n_steps))


def make_optimizer(name, params, *, lr, momentum):
    """Adam, or SGD with (Nesterov) momentum, over ``params``."""
    check_optimizer(name, momentum)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=name == "sgd_nesterov")


class ThreadSchedule:
    """The thread policy for a training run, re-evaluated every :data:`THREAD_RECHECK_S` s.

    An explicit count stays fixed; the policy's choice is re-made (pools restored,
    then set again) so that load that starts or stops mid-run changes it.
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
