"""Training and timing one seed of a reproduction that studies a single rate network.

:func:`train_rate_rnn` builds a :class:`~neurodyn.rnn_models.RateRNN` sized for a task,
initialised from the ``"init"`` stream of the run's seed, and trains it with Adam and a
cosine learning rate; :func:`analyse_trained` runs the seed's analysis on the trained
network, adds the seconds of both steps, and logs them in one line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from ..rnn_models import RateRNN
from ..seeding import derive_seed
from ..train import FitResult, fit

__all__ = ["Trained", "analyse_trained", "train_rate_rnn"]

logger = logging.getLogger(__name__)


class Trained(NamedTuple):
    """A trained network, the result of its training and how long it took.

    Attributes
    ----------
    net : RateRNN
        The network, on the CPU and in eval mode.
    result : FitResult
        What :func:`~neurodyn.train.fit` returned.
    seconds : float
        Wall-clock time of the training.

    Examples
    --------
    :func:`train_rate_rnn` returns one; it unpacks like the tuple it is:

    >>> from neurodyn.rnn_models import RateRNN
    >>> net = RateRNN(1, 8, 1, seed=0).eval()
    >>> trained = Trained(net, FitResult(net, steps=300), 12.5)
    >>> net, result, seconds = trained
    >>> net is trained.net, result.steps, seconds
    (True, 300, 12.5)
    """

    net: RateRNN
    result: FitResult
    seconds: float


def train_rate_rnn(
    task,
    *,
    n_hidden: int,
    dt: float,
    tau: float,
    noise_rec: float,
    steps: int,
    lr: float,
    batch_size: int,
    val_every: int,
    n_validation: int,
    seed: int,
    progress: bool,
    device,
) -> Trained:
    """Train a tanh :class:`~neurodyn.rnn_models.RateRNN` on ``task`` with Adam and a
    cosine learning rate.

    The network is initialised from ``derive_seed(seed, "init")``; its training batches
    and noise come from ``seed``'s own streams (:func:`~neurodyn.train.fit`).

    Parameters
    ----------
    task : Task
        The task; it sets the network's inputs and outputs.
    n_hidden : int
        Units of the network.
    dt, tau : float
        Euler step and time constant, ms.
    noise_rec : float
        Recurrent noise in training.
    steps : int
        Adam's steps.
    lr : float
        The learning rate the cosine schedule starts from.
    batch_size : int
        Trials per step.
    val_every, n_validation : int
        Steps between validations, and validation trials.
    seed : int
        The run's seed.
    progress : bool
        Show a progress bar.
    device : str or torch.device
        Where training runs (as :func:`~neurodyn.train.fit` takes it).

    Returns
    -------
    Trained
        The network (on the CPU, in eval mode), the fit result and the seconds.

    Examples
    --------
    >>> from neurodyn.tasks import FlipFlop
    >>> trained = train_rate_rnn(FlipFlop(n_bits=2), n_hidden=8, dt=10.0, tau=100.0,
    ...                          noise_rec=0.1, steps=4, lr=1e-2, batch_size=4, val_every=2,
    ...                          n_validation=4, seed=0, progress=False, device="cpu")
    >>> trained.net.n_hidden, trained.net.training, trained.result.steps
    (8, False, 4)
    >>> [record["step"] for record in trained.result.history]
    [2, 4]
    """
    net = RateRNN(task.n_inputs, n_hidden, task.n_outputs, dt=dt, tau=tau, noise_rec=noise_rec,
                  seed=derive_seed(seed, "init"))  # fmt: skip
    start = time.perf_counter()
    result = fit(
        net, task, n_steps=steps, lr=lr, lr_schedule="cosine", batch_size=batch_size,
        val_every=val_every, n_validation=n_validation, seed=seed, device=device,
        progress=progress,
    )  # fmt: skip
    return Trained(net.cpu().eval(), result, time.perf_counter() - start)


def analyse_trained(
    name: str, trained: Trained, analyze: Callable[[Any], dict], /, *, seed: int, **facts
) -> dict:
    """One seed's results: ``analyze(trained.net)``, then ``facts`` about the run and the
    seconds of the training and of the analysis; logs them in one line.

    Parameters
    ----------
    name : str
        The reproduction, for the log.
    trained : Trained
        The trained network, its fit result and its training's seconds.
    analyze : callable
        ``analyze(net) -> dict``, the seed's analysis.
    seed : int
        The seed, for the log.
    **facts
        Added to the results after the analysis's own, in this order (any name but
        ``seed``: the first three arguments are positional only).

    Returns
    -------
    dict
        The analysis, the facts, ``train_seconds`` and ``analysis_seconds``.

    Examples
    --------
    The facts follow the analysis's results, the seconds come last:

    >>> from neurodyn.rnn_models import RateRNN
    >>> net = RateRNN(1, 8, 1, seed=0).eval()
    >>> trained = Trained(net, FitResult(net, steps=300), 12.5)
    >>> out = analyse_trained("demo", trained, lambda net: {"n_hidden": net.n_hidden},
    ...                       seed=0, train_steps=trained.result.steps)
    >>> list(out)
    ['n_hidden', 'train_steps', 'train_seconds', 'analysis_seconds']
    >>> out["n_hidden"], out["train_steps"], out["train_seconds"]
    (8, 300, 12.5)
    """
    start = time.perf_counter()
    out = analyze(trained.net)
    out.update(facts, train_seconds=trained.seconds, analysis_seconds=time.perf_counter() - start)
    logger.info("%s seed %d: trained in %.0f s (%d steps), analysed in %.0f s", name, seed,
                trained.seconds, trained.result.steps, out["analysis_seconds"])  # fmt: skip
    return out
