r"""The curricula of Khajehabdollahi et al. (ICLR 2024) for N-parity and N-DMS.

Each builder returns a :class:`~neurodyn.train.Curriculum` for :func:`~neurodyn.train.fit`
whose stages train a model with a bank of two-class read-out heads
(:class:`~neurodyn.rnn_models.TimescaleRNN`, or any model with ``2 * n_heads``
outputs):

================  ==========================================  ======================
builder           stage k trains                               head of N
================  ==========================================  ======================
single-head       N = n_start + k                              0 (reused)
multi-head        N = n_start … n_start + k (all so far)       N − n_start
sliding window    the newest ``window`` N at most              N − n_start
no curriculum     one N, from scratch                          0
================  ==========================================  ======================

A stage ends, as in the paper, when on the validation trials **both** the mean
per-head accuracy and the newest head's accuracy exceed ``threshold`` (98%):
``val_mean_correct > 0.98`` and ``val_correct_n{N} > 0.98``. When a stage ends, a
:class:`ForgettingProbe` measures the accuracy on every N trained so far, each on the
head it was trained on (``accuracy_n{N}``), together with the time-constant
statistics of the model; these records land in ``FitResult.stage_log`` and show
catastrophic forgetting: a single-head network keeps one head and loses the earlier
N, a multi-head network keeps training them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from .._validation import check_fraction, check_int, check_int_tuple
from ..devices import model_device, to_device
from ..seeding import make_rng, resolve_seed, torch_generator
from ..tasks.parity import NDelayedMatch, NParity
from .curriculum import Criterion, Curriculum, Stage

__all__ = [
    "ForgettingProbe",
    "multi_head_curriculum",
    "no_curriculum",
    "single_head_curriculum",
    "sliding_window_curriculum",
]

_TASKS = {"parity": NParity, "n_parity": NParity, "dms": NDelayedMatch, "n_dms": NDelayedMatch}


def _task_class(task):
    if isinstance(task, type) and issubclass(task, (NParity, NDelayedMatch)):
        return task
    if isinstance(task, str) and task in _TASKS:
        return _TASKS[task]
    raise ValueError(
        f"task={task!r} is not recognised; expected 'parity', 'dms', NParity or NDelayedMatch"
    )


class ForgettingProbe:
    """Accuracy on every N trained so far, each read on its own head.

    Called with a model (as a stage's ``on_end``), it returns ``accuracy_n{N}`` for
    each N of ``ns`` (the fraction of ``n_trials`` fresh sequences whose class the
    head ``heads[i]`` gets right), their mean ``accuracy_mean``, the stage's largest N
    ``n``, the number of N solved above ``threshold`` ``n_solved``, and, for models
    with time constants, ``tau_mean``, ``tau_max`` and ``tau_min``. The evaluation
    sequences and initial states come from the ``eval`` stream of ``seed``, so every
    probe of a run scores the same trials.

    Parameters
    ----------
    task : {"parity", "dms"} or task class
    ns : sequence of int
        The N to score.
    heads : sequence of int
        Head of each N.
    n_heads : int
        Heads allocated in the model.
    n_trials : int
        Sequences per N (drawn in blocks of 64 that share a length, as in training).
    seed : int
    threshold : float
        Accuracy that counts as solved, for ``n_solved``.
    callback : callable, optional
        ``callback(model, ns) -> dict`` whose entries are added to the record.

    Examples
    --------
    >>> from neurodyn.rnn_models import TimescaleRNN
    >>> probe = ForgettingProbe("parity", ns=[2, 3], heads=[0, 0], n_heads=1, n_trials=64)
    >>> sorted(probe(TimescaleRNN(1, 16, n_heads=1, seed=0)))[:3]
    ['accuracy_mean', 'accuracy_n2', 'accuracy_n3']
    """

    def __init__(
        self,
        task,
        *,
        ns: Sequence[int],
        heads: Sequence[int],
        n_heads: int,
        n_trials: int = 512,
        seed: int = 0,
        threshold: float = 0.98,
        callback: Callable | None = None,
    ):
        self.task_class = _task_class(task)
        self.ns = check_int_tuple("ns", ns, low=2)
        self.heads = check_int_tuple("heads", heads, low=0)
        if len(self.heads) != len(self.ns):
            raise ValueError(f"heads needs one entry per N: got {len(heads)} for {len(ns)} N")
        self.tasks = [
            self.task_class(ns=[n], heads=[h], n_heads=n_heads, length_block=64)
            for n, h in zip(self.ns, self.heads, strict=True)
        ]
        self.n_trials = check_int("n_trials", n_trials)
        self.seed = resolve_seed(seed)
        self.threshold = check_fraction("threshold", threshold)
        self.callback = callback

    @torch.no_grad()
    def __call__(self, model) -> dict[str, float]:
        record: dict[str, float] = {"n": float(max(self.ns))}
        accs = []
        device = model_device(model)
        for n, task in zip(self.ns, self.tasks, strict=True):
            batch = task.batch(self.n_trials, seed=make_rng(self.seed, "eval", n))
            out = model(
                to_device(batch.inputs, device), generator=torch_generator(self.seed, "eval", n)
            )
            outputs = out.outputs.cpu().numpy()
            acc = float(np.mean(task.evaluate(outputs, batch)[f"correct_n{n}"]))
            record[f"accuracy_n{n}"] = acc
            accs.append(acc)
        record["accuracy_mean"] = float(np.mean(accs))
        record["n_solved"] = float(np.sum(np.asarray(accs) > self.threshold))
        tau = getattr(model, "tau", None)
        if isinstance(tau, torch.Tensor):
            t = tau.detach().cpu().numpy()
            record.update(tau_mean=float(t.mean()), tau_max=float(t.max()), tau_min=float(t.min()))
        if self.callback is not None:
            record.update(self.callback(model, self.ns) or {})
        return record


def _build(
    task,
    stages_ns: list[list[int]],
    head_of: Callable[[int], int],
    *,
    n_heads: int,
    threshold: float,
    max_steps: int | None,
    length_block: int | None,
    forgetting: bool,
    n_eval: int,
    seed: int,
    callback: Callable | None,
) -> Curriculum:
    cls = _task_class(task)
    threshold = check_fraction("threshold", threshold)
    seen: list[int] = []
    stages = []
    for ns in stages_ns:
        newest = ns[-1]
        seen.extend(n for n in ns if n not in seen)
        stage_task = cls(
            ns=ns, heads=[head_of(n) for n in ns], n_heads=n_heads, length_block=length_block
        )
        probe = None
        if forgetting:
            probe = ForgettingProbe(
                cls,
                ns=list(seen),
                heads=[head_of(n) for n in seen],
                n_heads=n_heads,
                n_trials=n_eval,
                seed=seed,
                threshold=threshold,
                callback=callback,
            )
        stages.append(
            Stage(
                stage_task,
                [
                    Criterion("val_mean_correct", ">", threshold),
                    Criterion(f"val_correct_n{newest}", ">", threshold),
                ],
                max_steps=max_steps,
                name=f"N={newest}" if len(ns) == 1 else f"N={ns[0]}..{newest}",
                on_end=probe,
            )
        )
    return Curriculum(stages)


def _heads_needed(n_heads, needed: int, what: str) -> int:
    if n_heads is None:
        return needed
    n_heads = check_int("n_heads", n_heads)
    if n_heads < needed:
        raise ValueError(
            f"n_heads={n_heads} is too small: {what} needs {needed} heads; allocate at least "
            f"{needed} (or lower n_stop)"
        )
    return n_heads


_COMMON_DOC = """
    Parameters
    ----------
    task : {"parity", "dms"} or NParity / NDelayedMatch
    n_start : int
        First N (>= 2; the paper's ``-ni`` shifts it).
    n_stop : int
        Last N of the curriculum (inclusive); training usually ends earlier, when
        ``fit`` runs out of steps.
    n_heads : int, optional
        Heads allocated in the model (default: as many as the curriculum uses); the
        stage tasks have ``2 * n_heads`` outputs.
    threshold : float
        Accuracy both the mean and the newest head must exceed (default 0.98).
    max_steps : int, optional
        Give up on a stage after this many steps and move on.
    length_block : int, optional
        Trials per shared sequence length (see :class:`~neurodyn.tasks.NParity`); set it
        to the batch size so validation spans several lengths.
    forgetting : bool
        Attach a :class:`ForgettingProbe` to every stage (default True).
    n_eval : int
        Sequences per N for the probe.
    seed : int
        Seed of the probe's evaluation trials.
    callback : callable, optional
        ``callback(model, ns) -> dict`` added to each probe record (e.g. to keep
        snapshots of the model).

    Returns
    -------
    Curriculum
"""


def _ns_range(n_start, n_stop):
    n_start = check_int("n_start", n_start, low=2)
    n_stop = check_int("n_stop", n_stop, low=2)
    if n_stop < n_start:
        raise ValueError(f"n_stop={n_stop} must be >= n_start={n_start}")
    return n_start, n_stop


def single_head_curriculum(
    task="parity",
    *,
    n_start: int = 2,
    n_stop: int = 100,
    n_heads: int | None = None,
    threshold: float = 0.98,
    max_steps: int | None = None,
    length_block: int | None = None,
    forgetting: bool = True,
    n_eval: int = 512,
    seed: int = 0,
    callback: Callable | None = None,
) -> Curriculum:
    n_start, n_stop = _ns_range(n_start, n_stop)
    n_heads = _heads_needed(n_heads, 1, "the single-head curriculum")
    return _build(
        task,
        [[n] for n in range(n_start, n_stop + 1)],
        lambda n: 0,
        n_heads=n_heads,
        threshold=threshold,
        max_steps=max_steps,
        length_block=length_block,
        forgetting=forgetting,
        n_eval=n_eval,
        seed=seed,
        callback=callback,
    )


single_head_curriculum.__doc__ = (
    """Single-head curriculum: one head (head 0), N → N + 1 at each stage.

    Examples
    --------
    >>> cur = single_head_curriculum(n_stop=5)
    >>> [s.name for s in cur.stages]
    ['N=2', 'N=3', 'N=4', 'N=5']
    >>> [str(c) for c in cur.stages[1].criteria]
    ['val_mean_correct > 0.98', 'val_correct_n3 > 0.98']
"""
    + _COMMON_DOC
)


def multi_head_curriculum(
    task="parity",
    *,
    n_start: int = 2,
    n_stop: int = 100,
    n_heads: int | None = None,
    threshold: float = 0.98,
    max_steps: int | None = None,
    length_block: int | None = None,
    forgetting: bool = True,
    n_eval: int = 512,
    seed: int = 0,
    callback: Callable | None = None,
) -> Curriculum:
    n_start, n_stop = _ns_range(n_start, n_stop)
    n_heads = _heads_needed(n_heads, n_stop - n_start + 1, "the multi-head curriculum")
    return _build(
        task,
        [list(range(n_start, n + 1)) for n in range(n_start, n_stop + 1)],
        lambda n: n - n_start,
        n_heads=n_heads,
        threshold=threshold,
        max_steps=max_steps,
        length_block=length_block,
        forgetting=forgetting,
        n_eval=n_eval,
        seed=seed,
        callback=callback,
    )


multi_head_curriculum.__doc__ = (
    """Multi-head (cumulative) curriculum: heads for N = n_start … N, one head added per stage.

    Every earlier head keeps training, each on its own N (head N − n_start).

    Examples
    --------
    >>> cur = multi_head_curriculum(n_stop=4)
    >>> [s.name for s in cur.stages], cur.stages[-1].task.heads
    (['N=2', 'N=2..3', 'N=2..4'], (0, 1, 2))
"""
    + _COMMON_DOC
)


def sliding_window_curriculum(
    task="parity",
    *,
    window: int = 10,
    drop: int = 5,
    n_start: int = 2,
    n_stop: int = 100,
    n_heads: int | None = None,
    threshold: float = 0.98,
    max_steps: int | None = None,
    length_block: int | None = None,
    forgetting: bool = True,
    n_eval: int = 512,
    seed: int = 0,
    callback: Callable | None = None,
) -> Curriculum:
    n_start, n_stop = _ns_range(n_start, n_stop)
    window = check_int("window", window)
    drop = check_int("drop", drop)
    if drop > window:
        raise ValueError(f"drop={drop} must be <= window={window}")
    n_heads = _heads_needed(n_heads, n_stop - n_start + 1, "the sliding-window curriculum")
    stages_ns, low = [], n_start
    for n in range(n_start, n_stop + 1):
        if n - low + 1 > window:
            low += drop
        stages_ns.append(list(range(low, n + 1)))
    return _build(
        task,
        stages_ns,
        lambda n: n - n_start,
        n_heads=n_heads,
        threshold=threshold,
        max_steps=max_steps,
        length_block=length_block,
        forgetting=forgetting,
        n_eval=n_eval,
        seed=seed,
        callback=callback,
    )


sliding_window_curriculum.__doc__ = """Sliding-window curriculum: like multi-head, but at most ``window`` heads train at once.

    When adding the next N would exceed ``window`` heads, the ``drop`` oldest are
    dropped together (``window=10, drop=5`` is our reading of the paper's
    ``sliding_10_5``; ``drop=1`` slides one head at a time). Dropped heads are no
    longer trained; the forgetting probe keeps scoring them.

    Examples
    --------
    >>> cur = sliding_window_curriculum(window=3, drop=2, n_stop=7)
    >>> [s.name for s in cur.stages]
    ['N=2', 'N=2..3', 'N=2..4', 'N=4..5', 'N=4..6', 'N=6..7']

    Parameters
    ----------
    window : int
        Most heads trained at once.
    drop : int
        Oldest heads dropped when the window is full.""" + _COMMON_DOC.replace(
    "    Parameters\n    ----------\n", ""
)


def no_curriculum(
    n: int,
    task="parity",
    *,
    n_heads: int | None = None,
    threshold: float = 0.98,
    max_steps: int | None = None,
    length_block: int | None = None,
    forgetting: bool = True,
    n_eval: int = 512,
    seed: int = 0,
    callback: Callable | None = None,
) -> Curriculum:
    """One stage: a single N trained from scratch on head 0 (the paper's ``single_nocurr``).

    The stage ends when its accuracy exceeds ``threshold`` (or ``fit`` runs out of
    steps).

    Parameters
    ----------
    n : int
        The N trained (>= 2).
    task : {"parity", "dms"} or NParity / NDelayedMatch
        The task family.
    n_heads : int, optional
        Heads allocated in the model (default 1); the task has ``2 * n_heads``
        outputs.
    threshold : float
        Accuracy the head must exceed (default 0.98).
    max_steps : int, optional
        Give up after this many steps.
    length_block : int, optional
        Trials per shared sequence length (see :class:`~neurodyn.tasks.NParity`).
    forgetting : bool
        Attach a :class:`ForgettingProbe` to the stage (default True).
    n_eval : int
        Sequences for the probe.
    seed : int
        Seed of the probe's evaluation trials.
    callback : callable, optional
        ``callback(model, ns) -> dict`` added to the probe's record.

    Returns
    -------
    Curriculum

    Examples
    --------
    >>> [s.name for s in no_curriculum(8).stages]
    ['N=8']
    """
    n = check_int("n", n, low=2)
    n_heads = _heads_needed(n_heads, 1, "training without a curriculum")
    return _build(
        task,
        [[n]],
        lambda _: 0,
        n_heads=n_heads,
        threshold=threshold,
        max_steps=max_steps,
        length_block=length_block,
        forgetting=forgetting,
        n_eval=n_eval,
        seed=seed,
        callback=callback,
    )
