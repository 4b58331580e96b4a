"""N-parity and N-delayed-match-to-sample on bit streams (Khajehabdollahi et al., ICLR 2024)."""

from __future__ import annotations

import abc

import numpy as np

from ..seeding import make_rng, resolve_seed
from ._common import check_int, steps_per_symbol
from .base import Batch, Task, TrialBuilder

__all__ = ["NDelayedMatch", "NParity"]

_TIMESCALES = {
    "paper": "Khajehabdollahi, Zeraati, Giannakakis, Schäfer, Martius & Levina (2024). "
    "Emergent mechanisms for long timescales depend on training curriculum and affect "
    "performance in memory tasks. ICLR 2024.",
    "link": "https://arxiv.org/abs/2309.12927",
}


class _BitStreamTask(Task):
    """A stream of bits, one per time unit, classified at its last bit.

    Shared by :class:`NParity` and :class:`NDelayedMatch`: sequence length, batching
    with one length per batch, the one-hot target at the last step, oracle and
    evaluation. Subclasses draw the bits and define the label.
    """

    loss = "cross_entropy"
    default_dt = 1.0
    default_params = {"n": 2, "same_length": True}
    _min_n = 1

    def _validate(self) -> None:
        check_int("n", self.params["n"], low=self._min_n)
        if not isinstance(self.params["same_length"], bool):
            raise ValueError(
                f"same_length must be True or False, got {self.params['same_length']!r}"
            )
        steps_per_symbol(self.dt)

    @property
    def input_names(self):
        return ("bit",)

    @property
    def output_names(self):
        return ("class0", "class1")

    def _draw_length(self, rng: np.random.Generator) -> int:
        n = self.params["n"]
        return int(rng.integers(n + 2, 4 * n + 2))

    @abc.abstractmethod
    def _bits(self, v: dict, rng: np.random.Generator) -> np.ndarray:
        """Draw the ``v["seq_len"]`` bits (ints 0/1) of one trial."""

    @abc.abstractmethod
    def _label(self, bits: np.ndarray) -> int:
        """The class (0/1) of a bit sequence, judged at its last bit."""

    def batch(self, n_trials: int, *, seed=None, **fixed) -> Batch:
        """Generate ``n_trials`` sequences; with ``same_length`` they share one length.

        The shared length is drawn once per batch, as in the paper, unless
        ``seq_len`` is fixed. See :meth:`Task.batch` for the arguments.
        """
        if not self.params["same_length"] or "seq_len" in fixed:
            return super().batch(n_trials, seed=seed, **fixed)
        seed_int = None if isinstance(seed, np.random.Generator) else resolve_seed(seed)
        rng = make_rng(seed if seed_int is None else seed_int)
        batch = super().batch(n_trials, seed=rng, seq_len=self._draw_length(rng), **fixed)
        batch.seed = seed_int
        return batch

    def build_trial(self, trial: TrialBuilder, v, rng):
        n, m = self.params["n"], v["seq_len"]
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < n:
            raise ValueError(f"seq_len must be an integer >= n={n}, got {m!r}")
        bits = np.asarray(self._bits(v, rng), dtype=np.int64)
        label = self._label(bits)
        v["label"] = label
        trial.add_period("sequence", int(m))
        trial.inputs[:, 0] = np.repeat(bits, steps_per_symbol(self.dt))
        trial.mask[:] = 0.0
        trial.mask[-1] = 1.0
        trial.targets[-1, label] = 1.0

    def oracle(self, batch: Batch) -> np.ndarray:
        k = round(1.0 / batch.dt)
        out = np.zeros_like(batch.targets)
        for i in range(batch.n_trials):
            bits = (batch.inputs[i, : batch.lengths[i] : k, 0] > 0.5).astype(np.int64)
            out[i, batch.lengths[i] - 1, self._label(bits)] = 1.0
        return out

    def evaluate(self, outputs, batch: Batch):
        """``choice`` (the class with the larger output at the last step, 0/1) and ``correct``."""
        rows, last = np.arange(batch.n_trials), batch.lengths - 1
        choice = np.argmax(np.asarray(outputs)[rows, last], axis=-1)
        label = np.argmax(batch.targets[rows, last], axis=-1)
        return {"correct": choice == label, "choice": choice}


class NParity(_BitStreamTask):
    r"""N-parity: the parity of the last N bits of a stream.

    A single input channel carries a sequence of ``seq_len`` bits
    :math:`x_1, \dots, x_M \in \{0, 1\}`, one per time unit. Each sequence has its
    own bit rate :math:`p \sim U(0, 1)` and :math:`x_t \sim \text{Bernoulli}(p)`
    (the paper's unbalanced streams). At the last bit the class is

    .. math:: y^* = \Bigl(\sum_{s=M-N+1}^{M} x_s\Bigr) \bmod 2,

    the current bit included. Two output channels hold the class as a one-hot target
    on the last step only (the loss mask is 0 elsewhere), trained with cross-entropy.

    Time is counted in bits, not milliseconds: with the default ``dt = 1`` one step is
    one bit; ``dt = 1/k`` holds every bit for ``k`` steps (the paper's continuous-time
    variant, where k is the number of Euler sub-steps per bit).

    Sequence lengths follow the paper: :math:`M \sim \text{randint}(N + 2, 4N + 2)`
    (so :math:`N + 2 \le M \le 4N + 1`), drawn once per batch so that all sequences of
    a batch share one length, or per trial with ``same_length=False``. Fixing
    ``seq_len`` (one value or one per trial) overrides it. Only the single-head form
    (one N) is provided.

    Channels
    --------
    inputs : ``bit``
    outputs : ``class0``, ``class1`` (cross-entropy)

    Parameters
    ----------
    n : int
        N, the number of most recent bits whose parity is reported (default 2).
    same_length : bool
        One sequence length per batch (default True, the paper's protocol).

    Trial variables
    ---------------
    seq_len : number of bits M.
    p : the probability of a 1 in this sequence.
    label : derived, the class.

    Evaluation
    ----------
    ``choice`` (0/1, the larger output at the last step) and ``correct``.

    Examples
    --------
    >>> task = NParity(n=3)
    >>> b = task.batch(4, seed=0)
    >>> b.input_names, b.output_names
    (('bit',), ('class0', 'class1'))
    >>> bool(task.evaluate(task.oracle(b), b)["correct"].all())
    True
    """

    name = "n_parity"
    description = "N-parity: report the parity of the last N bits of a stream"
    metadata = {**_TIMESCALES, "tags": ("memory", "timescales", "sequence")}

    def sample_variables(self, rng):
        return {"seq_len": self._draw_length(rng), "p": float(rng.uniform())}

    def _bits(self, v, rng):
        p = float(v["p"])
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must lie in [0, 1], got {v['p']!r}")
        return (rng.random(int(v["seq_len"])) < p).astype(np.int64)

    def _label(self, bits):
        return int(bits[-self.params["n"] :].sum() % 2)


class NDelayedMatch(_BitStreamTask):
    r"""N-delayed-match-to-sample: does the current bit equal the bit N−1 steps back?

    A single input channel carries ``seq_len`` balanced bits
    :math:`x_t \sim \text{Bernoulli}(1/2)`, one per time unit. At the last bit
    :math:`x_M` the class is

    .. math:: y^* = \mathbb 1\,[\,x_{M-N+1} = x_M\,],

    i.e. the two compared bits are **N−1 steps apart** (lag N−1), as in the paper's
    code, which compares ``x[-N]`` with ``x[-1]``; read "N-DMS" as "the match
    window spans N bits". Targets, mask, timing and sequence lengths as in
    :class:`NParity`.

    Channels
    --------
    inputs : ``bit``
    outputs : ``class0`` (non-match), ``class1`` (match) (cross-entropy)

    Parameters
    ----------
    n : int
        N, at least 2 (default 2).
    same_length : bool
        One sequence length per batch (default True, the paper's protocol).

    Trial variables
    ---------------
    seq_len : number of bits M.
    label : derived, 1 for a match.

    Evaluation
    ----------
    ``choice`` (0/1, the larger output at the last step) and ``correct``.

    Examples
    --------
    >>> b = NDelayedMatch(n=4).batch(2, seed=0, seq_len=8)
    >>> bits = b.inputs[0, :, 0].astype(int)
    >>> bool(int(bits[-1] == bits[-4]) == b.variables["label"][0])
    True
    """

    name = "n_dms"
    description = "N-DMS: does the last bit equal the bit N-1 steps earlier?"
    metadata = {**_TIMESCALES, "tags": ("memory", "timescales", "sequence")}
    _min_n = 2

    def sample_variables(self, rng):
        return {"seq_len": self._draw_length(rng)}

    def _bits(self, v, rng):
        return rng.integers(0, 2, size=int(v["seq_len"]))

    def _label(self, bits):
        return int(bits[-self.params["n"]] == bits[-1])
