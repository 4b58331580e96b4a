"""N-parity and N-delayed-match-to-sample on bit streams (Khajehabdollahi et al., ICLR 2024).

Both tasks come in two forms:

* **single N** (``n=...``): two output channels ``class0``, ``class1``;
* **multi-head** (``ns=[...]``): a bank of ``n_heads`` two-class read-out heads,
  head ``k`` owning channels ``head{k}_class0`` and ``head{k}_class1``. Each N of
  ``ns`` is scored on its own head (``heads``); the other heads are present but
  unscored (zero loss mask), so one model with a fixed bank of heads can move
  through a curriculum whose stages switch heads on and off
  (:mod:`neurodyn.train.timescale_curricula`). The loss is the cross-entropy of each scored
  head, summed over heads (:attr:`NParity.output_groups`), as in the paper.
"""

from __future__ import annotations

import abc
import math

import numpy as np

from .._validation import check_int, check_int_tuple
from ..seeding import make_rng, resolve_seed
from ._common import steps_per_symbol
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
    with one length per batch, the one-hot target at the last step, the head layout,
    oracle and evaluation. Subclasses draw the bits and define the label.
    """

    loss = "cross_entropy"
    default_dt = 1.0
    default_params = {
        "n": None,
        "ns": None,
        "heads": None,
        "n_heads": None,
        "same_length": True,
        "length_block": None,
    }
    _min_n = 1

    def _validate(self) -> None:
        p = self.params
        if p["ns"] is None:
            for key in ("heads", "n_heads"):
                if p[key] is not None:
                    raise ValueError(f"{key} needs the multi-head form: pass ns=[...] as well")
            n = 2 if p["n"] is None else check_int("n", p["n"], low=self._min_n)
            p["n"] = n  # the configuration names the default it resolved to
            self.ns, self.heads, self.n_heads = (n,), (0,), None
            self.output_groups = None
        else:
            if p["n"] is not None:
                raise ValueError("give either n (one N) or ns (one N per head), not both")
            self.ns = check_int_tuple("ns", p["ns"], low=2)
            if len(set(self.ns)) != len(self.ns):
                raise ValueError(f"ns must not repeat an N, got {p['ns']!r}")
            heads = tuple(range(len(self.ns))) if p["heads"] is None else p["heads"]
            self.heads = check_int_tuple("heads", heads, low=0)
            if len(self.heads) != len(self.ns):
                raise ValueError(
                    f"heads must give one head per N: {len(self.heads)} heads for "
                    f"{len(self.ns)} values in ns"
                )
            if len(set(self.heads)) != len(self.heads):
                raise ValueError(f"heads must be distinct (one N per head), got {heads!r}")
            n_heads = max(self.heads) + 1 if p["n_heads"] is None else p["n_heads"]
            self.n_heads = check_int("n_heads", n_heads, low=1)
            if max(self.heads) >= self.n_heads:
                raise ValueError(
                    f"heads {list(self.heads)} reach beyond the n_heads={self.n_heads} "
                    f"allocated heads (valid heads are 0..{self.n_heads - 1})"
                )
            self.output_groups = tuple((2 * h, 2 * h + 1) for h in self.heads)
            p.update(ns=list(self.ns), heads=list(self.heads), n_heads=self.n_heads)
        if not isinstance(p["same_length"], bool):
            raise ValueError(f"same_length must be True or False, got {p['same_length']!r}")
        if p["length_block"] is not None:
            check_int("length_block", p["length_block"], low=1)
        steps_per_symbol(self.dt)
        # Built once: trials read the names, and a bank of 29 heads has 58 of them.
        self._output_names = (
            ("class0", "class1")
            if self.n_heads is None
            else tuple(f"head{k}_class{c}" for k in range(self.n_heads) for c in (0, 1))
        )

    @property
    def multi_head(self) -> bool:
        """Whether the task uses the bank of heads (``ns`` given)."""
        return self.n_heads is not None

    @property
    def n_max(self) -> int:
        """The largest N scored; it sets the sequence lengths."""
        return max(self.ns)

    @property
    def input_names(self):
        return ("bit",)

    @property
    def output_names(self):
        return self._output_names

    def _draw_length(self, rng: np.random.Generator) -> int:
        n = self.n_max
        return int(rng.integers(n + 2, 4 * n + 2))

    @abc.abstractmethod
    def _bits(self, v: dict, rng: np.random.Generator) -> np.ndarray:
        """Draw the ``v["seq_len"]`` bits (ints 0/1) of one trial."""

    @abc.abstractmethod
    def _labels(self, bits: np.ndarray, ns: np.ndarray) -> np.ndarray:
        """The class (0/1) for each N of ``ns`` of a bit sequence, judged at its last bit."""

    def batch(self, n_trials: int, *, seed=None, **fixed) -> Batch:
        """Generate ``n_trials`` sequences; with ``same_length`` they share one length.

        The shared length is drawn once per batch, as in the paper, or once per block
        of ``length_block`` consecutive trials, unless ``seq_len`` is fixed. See
        :meth:`Task.batch` for the arguments.
        """
        if not self.params["same_length"] or "seq_len" in fixed:
            return super().batch(n_trials, seed=seed, **fixed)
        seed_int = None if isinstance(seed, np.random.Generator) else resolve_seed(seed)
        rng = make_rng(seed if seed_int is None else seed_int)
        block = self.params["length_block"]
        if block is None or block >= n_trials:
            seq_len = self._draw_length(rng)
        else:
            n_blocks = math.ceil(n_trials / block)
            lengths = [self._draw_length(rng) for _ in range(n_blocks)]
            seq_len = np.repeat(lengths, block)[:n_trials].tolist()
        batch = super().batch(n_trials, seed=rng, seq_len=seq_len, **fixed)
        batch.seed = seed_int
        return batch

    def build_trial(self, trial: TrialBuilder, v, rng):
        m = v["seq_len"]
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < self.n_max:
            raise ValueError(
                f"seq_len must be an integer >= N={self.n_max} (the largest N scored), got {m!r}"
            )
        bits = np.asarray(self._bits(v, rng), dtype=np.int64)
        trial.add_period("sequence", int(m))
        trial.inputs[:, 0] = np.repeat(bits, steps_per_symbol(self.dt))
        trial.mask[:] = 0.0
        labels = self._labels(bits, np.asarray(self.ns))
        if not self.multi_head:
            v["label"] = int(labels[0])
            trial.mask[-1] = 1.0
            trial.targets[-1, labels[0]] = 1.0
            return
        heads = 2 * np.asarray(self.heads)
        v.update({f"label_n{n}": int(label) for n, label in zip(self.ns, labels, strict=True)})
        trial.mask[-1, heads] = trial.mask[-1, heads + 1] = 1.0
        trial.targets[-1, heads + labels] = 1.0

    def oracle(self, batch: Batch) -> np.ndarray:
        k = round(1.0 / batch.dt)
        out = np.zeros_like(batch.targets)
        for i in range(batch.n_trials):
            bits = (batch.inputs[i, : batch.lengths[i] : k, 0] > 0.5).astype(np.int64)
            labels = self._labels(bits, np.asarray(self.ns))
            out[i, batch.lengths[i] - 1, 2 * np.asarray(self.heads) + labels] = 1.0
        return out

    def evaluate(self, outputs, batch: Batch):
        """Score the last step of every sequence.

        Single N: ``choice`` (the class with the larger output, 0/1) and ``correct``.
        Multi-head: for each N of ``ns``, ``choice_n{N}`` and ``correct_n{N}`` read on
        that N's head; ``correct`` is True where *every* scored head is right and
        ``mean_correct`` is the fraction of heads that are right (its mean over trials
        is the mean per-head accuracy, the paper's "mean accuracy").

        Parameters
        ----------
        outputs : ndarray, shape (trial, time, n_outputs)
            A network's outputs on ``batch`` (for example :meth:`oracle`'s).
        batch : Batch
            Trials made by this task.

        Returns
        -------
        dict of str to ndarray
            The scores above, each of shape (trial,).
        """
        rows, last = np.arange(batch.n_trials), batch.lengths - 1
        y = np.asarray(outputs)[rows, last]
        t = batch.targets[rows, last]
        if not self.multi_head:
            choice = np.argmax(y, axis=-1)
            return {"correct": choice == np.argmax(t, axis=-1), "choice": choice}
        result = {}
        per_head = []
        for n, h in zip(self.ns, self.heads, strict=True):
            choice = np.argmax(y[:, 2 * h : 2 * h + 2], axis=-1)
            ok = choice == np.argmax(t[:, 2 * h : 2 * h + 2], axis=-1)
            result[f"choice_n{n}"] = choice
            result[f"correct_n{n}"] = ok
            per_head.append(ok)
        stacked = np.stack(per_head)
        result["correct"] = stacked.all(axis=0)
        result["mean_correct"] = stacked.mean(axis=0)
        return result


_SHARED_PARAMS = """
    Parameters
    ----------
    n : int, optional
        N for the single-N form (default 2).
    ns : sequence of int, optional
        The multi-head form: one N (>= 2) per scored head. Give ``n`` or ``ns``.
    heads : sequence of int, optional
        Head index of each N of ``ns`` (default ``0, 1, ...``). The paper's multi-head
        curriculum puts N on head N − 2; its single-head curriculum reuses head 0.
    n_heads : int, optional
        Heads allocated (default ``max(heads) + 1``); the task has ``2 * n_heads``
        output channels, matching a model with that many read-out heads.
    same_length : bool
        One sequence length per batch (default True, the paper's protocol).
    length_block : int, optional
        With ``same_length``, draw one length per block of this many consecutive
        trials instead of one per batch: training batches of ``length_block`` trials
        are then exactly the paper's, while a large validation batch spans several
        lengths, like the paper's 50 test batches.
"""


class NParity(_BitStreamTask):
    __doc__ = (
        r"""N-parity: the parity of the last N bits of a stream.

    A single input channel carries a sequence of ``seq_len`` bits
    :math:`x_1, \dots, x_M \in \{0, 1\}`, one per time unit. Each sequence has its
    own bit rate :math:`p \sim U(0, 1)` and :math:`x_t \sim \text{Bernoulli}(p)`
    (the paper's unbalanced streams). At the last bit the class is

    .. math:: y^*_N = \Bigl(\sum_{s=M-N+1}^{M} x_s\Bigr) \bmod 2,

    the current bit included. The class is a one-hot target on the last step only
    (the loss mask is 0 elsewhere), trained with cross-entropy; in the multi-head
    form every N of ``ns`` has its own two-channel head and the per-head
    cross-entropies are summed.

    Time is counted in bits, not milliseconds: with the default ``dt = 1`` one step is
    one bit; ``dt = 1/k`` holds every bit for ``k`` steps (the paper's continuous-time
    variant, where k is the number of Euler sub-steps per bit).

    Sequence lengths follow the paper: :math:`M \sim \text{randint}(N_{max} + 2,
    4N_{max} + 2)` (so :math:`N_{max} + 2 \le M \le 4N_{max} + 1`), with
    :math:`N_{max}` the largest N scored, drawn once per batch so that all sequences
    of a batch share one length (or per trial with ``same_length=False``, or per block
    with ``length_block``). Fixing ``seq_len`` (one value or one per trial) overrides
    it; it must be at least :math:`N_{max}`.

    Channels
    --------
    inputs : ``bit``
    outputs : ``class0``, ``class1`` (single N) or ``head{k}_class0``,
        ``head{k}_class1`` for k < ``n_heads`` (multi-head), cross-entropy
"""
        + _SHARED_PARAMS
        + r"""
    Trial variables
    ---------------
    seq_len : number of bits M.
    p : the probability of a 1 in this sequence.
    label (single N) or label_n{N} (multi-head) : derived, the class.

    Evaluation
    ----------
    Single N: ``choice`` and ``correct``. Multi-head: ``correct_n{N}`` and
    ``choice_n{N}`` per head, ``correct`` (all heads right) and ``mean_correct``
    (fraction of heads right); see :meth:`evaluate`.

    Examples
    --------
    >>> task = NParity(n=3)
    >>> b = task.batch(4, seed=0)
    >>> b.input_names, b.output_names
    (('bit',), ('class0', 'class1'))
    >>> bool(task.evaluate(task.oracle(b), b)["correct"].all())
    True
    >>> multi = NParity(ns=[2, 3, 4], heads=[0, 1, 2], n_heads=5)
    >>> multi.n_outputs, multi.output_groups
    (10, ((0, 1), (2, 3), (4, 5)))
    >>> b = multi.batch(4, seed=0)
    >>> scores = multi.evaluate(multi.oracle(b), b)
    >>> [k for k in sorted(scores) if k.startswith("correct")], float(scores["mean_correct"].mean())
    (['correct', 'correct_n2', 'correct_n3', 'correct_n4'], 1.0)
    """
    )

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

    def _labels(self, bits, ns):
        # The parity of the last n bits for every n at once: sums of the reversed bits.
        return np.cumsum(bits[::-1])[ns - 1] % 2


class NDelayedMatch(_BitStreamTask):
    __doc__ = (
        r"""N-delayed-match-to-sample: does the current bit equal the bit N−1 steps back?

    A single input channel carries ``seq_len`` balanced bits
    :math:`x_t \sim \text{Bernoulli}(1/2)`, one per time unit. At the last bit
    :math:`x_M` the class is

    .. math:: y^*_N = \mathbb 1\,[\,x_{M-N+1} = x_M\,],

    i.e. the two compared bits are **N−1 steps apart** (lag N−1), as in the paper's
    code, which compares ``x[-N]`` with ``x[-1]``; read "N-DMS" as "the match
    window spans N bits". Targets, mask, heads, timing and sequence lengths as in
    :class:`NParity`.

    Channels
    --------
    inputs : ``bit``
    outputs : ``class0`` (non-match), ``class1`` (match), or one such pair per head
"""
        + _SHARED_PARAMS.replace("(default 2)", "(at least 2; default 2)")
        + r"""
    Trial variables
    ---------------
    seq_len : number of bits M.
    label (single N) or label_n{N} (multi-head) : derived, 1 for a match.

    Evaluation
    ----------
    As :class:`NParity`.

    Examples
    --------
    >>> b = NDelayedMatch(n=4).batch(2, seed=0, seq_len=8)
    >>> bits = b.inputs[0, :, 0].astype(int)
    >>> bool(int(bits[-1] == bits[-4]) == b.variables["label"][0])
    True
    """
    )

    name = "n_dms"
    description = "N-DMS: does the last bit equal the bit N-1 steps earlier?"
    metadata = {**_TIMESCALES, "tags": ("memory", "timescales", "sequence")}
    _min_n = 2

    def sample_variables(self, rng):
        return {"seq_len": self._draw_length(rng)}

    def _bits(self, v, rng):
        return rng.integers(0, 2, size=int(v["seq_len"]))

    def _labels(self, bits, ns):
        return (bits[-ns] == bits[-1]).astype(np.int64)
