"""Sequence-memory benchmarks: the copy and adding problems (as used for wave-RNNs)."""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_int, check_positive
from ._common import steps_per_symbol
from .base import Batch, Task, TrialBuilder

__all__ = ["Adding", "Copy"]

#: Symbol k of a copy sequence is written as the k-th character in the ``tokens`` variable.
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

_KELLER = {
    "paper": "Keller, Muller, Sejnowski & Welling (2024). Traveling waves encode the recent "
    "past and enhance sequence learning. ICLR 2024.",
    "link": "https://arxiv.org/abs/2309.08045",
}


class Copy(Task):
    r"""The copy problem: remember a sequence of symbols over a blank delay, then replay it.

    A trial is ``n_tokens`` random symbols (from ``n_symbols``), ``delay`` blank steps,
    one delimiter step and ``n_tokens`` recall steps (``n_tokens + delay + 1 +
    n_tokens`` symbols in all). The target is *blank* until the recall period and the
    original symbols, in order, during it:

    .. math:: y^*_t = \begin{cases} x_{t - t_{\text{recall}}} & t \ge t_{\text{recall}} \\
              \text{blank} & \text{otherwise.} \end{cases}

    Inputs are one-hot over the symbols, *blank* (delay and recall steps) and the
    *delimiter* (the go cue); targets are one-hot over the symbols and *blank*,
    trained with cross-entropy over the output channels. Arjovsky et al.'s (2016)
    length-:math:`T + 20` layout, with the delimiter on the last of the :math:`T`
    steps between the sequence and its recall, is ``delay = T - 1`` here.

    Time is counted in symbols: one symbol per time unit ("ms"), so the default
    ``dt = 1`` gives one step per symbol; ``dt = 1/k`` holds every symbol for ``k``
    steps.

    Channels
    --------
    inputs : ``symbol0`` ... ``symbol{n_symbols-1}``, ``blank``, ``delimiter``
    outputs : ``symbol0`` ... ``symbol{n_symbols-1}``, ``blank`` (cross-entropy)

    Parameters
    ----------
    delay : int
        Blank steps :math:`T` between the last symbol and the delimiter (default 30).
    n_tokens : int
        Length of the sequence to copy (default 10).
    n_symbols : int
        Alphabet size (default 8, at most 62).
    loss_window : {"sequence", "recall"}
        Score every step (default, as the wave-RNN paper reports the loss over the
        whole sequence) or only the recall steps.

    Trial variables
    ---------------
    tokens : the sequence as a string, symbol k written as ``ALPHABET[k]``
        (``"0123456789ab..."``); for example ``task.batch(4, tokens="0123456701")``.

    Evaluation
    ----------
    ``recall_accuracy`` (fraction of recall steps whose largest output is the right
    symbol) and ``correct`` (every scored step's largest output is the target's).

    Examples
    --------
    >>> b = Copy(delay=5).batch(1, seed=0, tokens="0123456701")
    >>> b.n_steps, b.inputs.shape[2], b.targets.shape[2]
    (26, 10, 9)
    """

    name = "copy"
    description = "Copy: reproduce a sequence of symbols after a blank delay"
    metadata = {**_KELLER, "tags": ("sequence", "memory", "benchmark")}
    loss = "cross_entropy"
    default_dt = 1.0
    default_params = {"delay": 30, "n_tokens": 10, "n_symbols": 8, "loss_window": "sequence"}

    def _validate(self) -> None:
        check_int("delay", self.params["delay"], low=0)
        check_int("n_tokens", self.params["n_tokens"])
        check_int("n_symbols", self.params["n_symbols"])
        if self.params["n_symbols"] > len(ALPHABET):
            raise ValueError(
                f"n_symbols must be at most {len(ALPHABET)}, got {self.params['n_symbols']!r}"
            )
        check_choice("loss_window", self.params["loss_window"], ("sequence", "recall"))
        steps_per_symbol(self.dt)

    @property
    def input_names(self):
        return (*self._symbols, "blank", "delimiter")

    @property
    def output_names(self):
        return (*self._symbols, "blank")

    @property
    def _symbols(self) -> tuple[str, ...]:
        return tuple(f"symbol{k}" for k in range(self.params["n_symbols"]))

    def sample_variables(self, rng):
        idx = rng.integers(self.params["n_symbols"], size=self.params["n_tokens"])
        return {"tokens": "".join(ALPHABET[i] for i in idx)}

    def build_trial(self, trial: TrialBuilder, v, rng):
        tokens = v["tokens"]
        n_sym, n_tok = self.params["n_symbols"], self.params["n_tokens"]
        if (
            not isinstance(tokens, str)
            or len(tokens) != n_tok
            or any(c not in ALPHABET[:n_sym] for c in tokens)
        ):
            raise ValueError(
                f"tokens must be a string of {n_tok} symbols from {ALPHABET[:n_sym]!r}, "
                f"got {tokens!r}"
            )
        idx = np.array([ALPHABET.index(c) for c in tokens])
        k = steps_per_symbol(self.dt)
        trial.add_period("sample", n_tok)
        trial.add_period("delay", self.params["delay"])
        trial.add_period("cue", 1)
        trial.add_period("recall", n_tok)
        blank_in, delim = n_sym, n_sym + 1
        sample = trial.steps("sample")
        trial.inputs[np.arange(sample.start, sample.stop), np.repeat(idx, k)] = 1.0
        trial.set_input(blank_in, 1.0, ["delay", "recall"])
        trial.set_input(delim, 1.0, "cue")
        trial.set_target(n_sym, 1.0, ["sample", "delay", "cue"])
        recall = trial.steps("recall")
        trial.targets[np.arange(recall.start, recall.stop), np.repeat(idx, k)] = 1.0
        if self.params["loss_window"] == "recall":
            trial.mask[:] = 0.0
            trial.set_mask(1.0, "recall")

    def oracle(self, batch: Batch) -> np.ndarray:
        # Replay, step for step after the delimiter, the symbols seen before the first
        # blank or delimiter.
        n_sym = self.params["n_symbols"]
        out = np.zeros_like(batch.targets)
        for i in range(batch.n_trials):
            u = batch.inputs[i, : batch.lengths[i]]
            n_seq = int(np.argmax(u[:, n_sym:].max(axis=1) > 0.5))
            seq = np.argmax(u[:n_seq, :n_sym], axis=1)
            start = int(np.flatnonzero(u[:, n_sym + 1] > 0.5)[-1]) + 1
            out[i, :start, n_sym] = 1.0
            n = min(len(seq), len(u) - start)
            out[i, start + np.arange(n), seq[:n]] = 1.0
        return out

    def evaluate(self, outputs, batch: Batch):
        """``recall_accuracy`` and ``correct`` (every scored step right).

        Parameters
        ----------
        outputs : ndarray, shape (trial, time, n_outputs)
            A network's outputs on ``batch`` (for example :meth:`oracle`'s).
        batch : Batch
            Trials made by this task.

        Returns
        -------
        dict of str to ndarray
            One array of shape (trial,) per score (see *Evaluation* in the class
            description).
        """
        pred = np.argmax(np.asarray(outputs), axis=-1)
        target = np.argmax(batch.targets, axis=-1)
        right = pred == target
        scored = (batch.mask.max(axis=-1) > 0) & batch.valid()
        on, off = batch.periods["recall"]
        t = np.arange(batch.n_steps)[None, :] * batch.dt
        recall = (t >= on[:, None]) & (t < off[:, None])
        acc = (right & recall).sum(1) / np.maximum(recall.sum(1), 1)
        return {"correct": np.all(right | ~scored, axis=1), "recall_accuracy": acc}


class Adding(Task):
    r"""The adding problem: output the sum of the two marked numbers of a long sequence.

    Each of ``length`` steps shows a number :math:`v_t \sim U(0, 1)` on the ``value``
    channel; the ``marker`` channel is 1 at exactly two steps, one in each half of
    the sequence, and 0 elsewhere. At the last step the output must be

    .. math:: y^* = v_{t_1} + v_{t_2},

    trained with MSE on that step only (the mask is 0 elsewhere). Always answering
    1 gives MSE :math:`1/6 \approx 0.167`; the wave-RNN paper calls a model that
    reaches MSE 0.05 "solved".

    Time is counted in sequence elements: one per time unit, so ``dt = 1`` (default)
    is one step per element and ``dt = 1/k`` holds each for ``k`` steps.

    Channels
    --------
    inputs : ``value``, ``marker``
    outputs : ``sum`` (MSE)

    Parameters
    ----------
    length : int
        Sequence length :math:`T` (default 100; the wave-RNN paper uses 100 to 1000).
    tolerance : float
        Largest absolute error of a correct trial (default 0.04).

    Trial variables
    ---------------
    first : position of the first marker, in ``[0, length // 2)``.
    second : position of the second marker, in ``[length // 2, length)``.
    target : derived, the sum to report.

    Evaluation
    ----------
    ``error`` (output minus target at the last step) and ``correct``
    (:math:`|\text{error}| <` ``tolerance``).

    Examples
    --------
    >>> b = Adding(length=10).batch(1, seed=0, first=2, second=7)
    >>> bool(np.isclose(b.targets[0, -1, 0], b.inputs[0, 2, 0] + b.inputs[0, 7, 0]))
    True
    """

    name = "adding"
    description = "Adding problem: sum the two marked numbers of a long sequence"
    metadata = {**_KELLER, "tags": ("sequence", "memory", "benchmark")}
    default_dt = 1.0
    default_params = {"length": 100, "tolerance": 0.04}

    def _validate(self) -> None:
        check_int("length", self.params["length"], low=2)
        check_positive("tolerance", self.params["tolerance"])
        steps_per_symbol(self.dt)

    @property
    def input_names(self):
        return ("value", "marker")

    @property
    def output_names(self):
        return ("sum",)

    def sample_variables(self, rng):
        n = self.params["length"]
        half = n // 2
        return {"first": int(rng.integers(0, half)), "second": int(rng.integers(half, n))}

    def build_trial(self, trial: TrialBuilder, v, rng):
        n = self.params["length"]
        first, second = v["first"], v["second"]
        for name, pos in (("first", first), ("second", second)):
            if not isinstance(pos, (int, np.integer)) or not 0 <= pos < n:
                raise ValueError(f"{name} must be an integer in [0, length={n}), got {pos!r}")
        if first == second:
            raise ValueError(f"first and second must differ, got both {first!r}")
        k = steps_per_symbol(self.dt)
        values = rng.uniform(0.0, 1.0, size=n).astype(np.float32)
        trial.add_period("sequence", n)
        trial.inputs[:, 0] = np.repeat(values, k)
        trial.inputs[first * k : (first + 1) * k, 1] = 1.0
        trial.inputs[second * k : (second + 1) * k, 1] = 1.0
        target = float(values[first]) + float(values[second])
        v["target"] = target
        trial.mask[:] = 0.0
        trial.targets[-1, 0] = target
        trial.mask[-1, 0] = 1.0

    def oracle(self, batch: Batch) -> np.ndarray:
        # Each element is held for k steps, so the marked values are counted k times.
        k = round(1.0 / batch.dt)
        marked = (batch.inputs[:, :, 0] * batch.inputs[:, :, 1]).sum(axis=1) / k
        out = np.zeros_like(batch.targets)
        out[np.arange(batch.n_trials), batch.lengths - 1, 0] = marked
        return out

    def evaluate(self, outputs, batch: Batch):
        """``error`` at the last step and ``correct`` (``|error| < tolerance``).

        Parameters
        ----------
        outputs : ndarray, shape (trial, time, n_outputs)
            A network's outputs on ``batch`` (for example :meth:`oracle`'s).
        batch : Batch
            Trials made by this task.

        Returns
        -------
        dict of str to ndarray
            One array of shape (trial,) per score (see *Evaluation* in the class
            description).
        """
        rows, last = np.arange(batch.n_trials), batch.lengths - 1
        error = np.asarray(outputs)[rows, last, 0] - batch.targets[rows, last, 0]
        return {"correct": np.abs(error) < self.params["tolerance"], "error": error}
