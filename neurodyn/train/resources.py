r"""What a training run needs: memory for backpropagation through time, and work per step.

Memory
------
Training a network of :math:`P` parameters on batches of :math:`B` trials of
:math:`T` steps holds, at its peak,

.. math::

    M = \underbrace{4 P b + Q b}_{\text{weights}}
      + \underbrace{3 B T (m + 2 o) b}_{\text{data}}
      + \max\bigl(\underbrace{A(B, T)}_{\text{activations}},\;
                   \underbrace{V T (o + 2 n) b}_{\text{validation}}\bigr),

with :math:`b` bytes per number: the weights, their gradients and Adam's two
moments (4 P), the model's buffers (Q, e.g. Dale masks), the batch's inputs,
targets and mask (m inputs, o outputs) as trials, as arrays and as tensors, and the
larger of what backpropagation through time keeps and a validation forward pass
over :math:`V` trials (outputs, rates and n states per step). What autograd keeps
follows a bilinear law,

.. math:: A(B, T) = a + c\,B + d\,T + s\,BT,

(:math:`s` per trial and step: a rate RNN keeps about 2 numbers per unit, 5 with
noise, a GRU 8, neurodyn's LSTM 30; :math:`a` for what does not grow with the batch,
such as the effective weight matrix of a Dale network). The law is *measured*, not
assumed: the model runs forward on four small batches with
:func:`torch.autograd.graph.saved_tensors_hooks` counting the storage autograd keeps.

Before a model exists (the command line checks ``--hidden`` before building it),
the same model is built at three small sizes :math:`H`: its parameter and buffer
counts are quadratic polynomials in :math:`H` (matrices :math:`H \times H`,
:math:`H \times m`, :math:`o \times H`) and extrapolate exactly; :math:`a` and
:math:`d` are extrapolated by the quadratic through the three sizes, :math:`c` and
:math:`s` (state-sized) by a least-squares line.

:func:`available_memory` is what the operating system reports as available
(``MemAvailable`` in ``/proc/meminfo``, capped by the cgroup's limit), or the free
memory of a GPU.

Work
----
The thread policy (:mod:`neurodyn.threads`) needs the work of one parallel
operation. A training or simulation step is dominated by the recurrent matrix
product, :math:`2 B g H (H + m)` floating-point operations for :math:`g` gates
(1 for rate and Elman networks, 3 for a GRU, 4 for an LSTM): :func:`step_flops`.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MemoryEstimate",
    "activation_bytes",
    "activation_law",
    "available_memory",
    "estimate_training_memory",
    "estimate_training_memory_for_size",
    "recurrent_flops",
    "step_flops",
]

logger = logging.getLogger(__name__)

#: Copies of every parameter that training holds: the weights, their gradients and
#: the two moment estimates of Adam.
PARAMETER_COPIES = 4

#: Hidden sizes at which a model is built to extrapolate its memory to a larger size
#: (multiples of 2, 3, 4, 5 and 6, so that Dale fractions and wave-RNN channel counts
#: divide them).
PROBE_SIZES = (60, 120, 180)

_GATES = {"gru": 3, "lstm": 4}


def step_flops(model, n_trials: int) -> float:
    """Floating-point operations of one recurrent step's matrix product over a batch.

    .. math:: w = 2\\,B\\,g\\,H\\,(H + m)

    Parameters
    ----------
    model : Model
        A neurodyn or PyTorch-wrapping model (``n_hidden``, ``n_input``; a ``cell``
        of ``"gru"`` or ``"lstm"`` sets g = 3 or 4, else g = 1).
    n_trials : int
        Trials in the batch, B.

    Examples
    --------
    >>> from neurodyn.rnn_models import TorchRNN
    >>> step_flops(TorchRNN("gru", 3, 32, 3), 64)
    430080.0
    """
    gates = _GATES.get(getattr(model, "cell", None), 1)
    return recurrent_flops(n_trials, model.n_hidden, model.n_input, gates=gates)


def recurrent_flops(n_trials: int, n_hidden: int, n_input: int, *, gates: int = 1) -> float:
    """:math:`2 B g H (H + m)`: :func:`step_flops` from sizes, before a model exists.

    Parameters
    ----------
    n_trials : int
        Trials in the batch, B.
    n_hidden : int
        Hidden units, H.
    n_input : int
        Input channels, m.
    gates : int
        Gates g whose weights multiply the state and input (1 for rate and Elman
        networks, 3 for a GRU, 4 for an LSTM).

    Examples
    --------
    >>> recurrent_flops(64, 32, 3, gates=3)
    430080.0
    """
    return 2.0 * n_trials * gates * int(n_hidden) * (int(n_hidden) + int(n_input))


def _gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB"


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a training run needs (see the module docstring) and bytes available.

    Attributes
    ----------
    weights, data, activations, validation : int
        The terms of :math:`M`, in bytes.
    available : int or None
        Memory available on ``device`` (None where it cannot be read).
    device : str
    batch_size, n_time : int
        Trials per batch and time steps per trial the estimate is for.

    Examples
    --------
    :func:`estimate_training_memory` returns one; :meth:`check` passes it back when
    the run fits in the memory available:

    >>> from neurodyn.rnn_models import RateRNN
    >>> est = estimate_training_memory(RateRNN(3, 16, 3), batch_size=8, n_time=50)
    >>> est.total == est.weights + est.data + max(est.activations, est.validation)
    True
    >>> est.check() is est, est.device, est.describe().startswith("about ")
    (True, 'cpu', True)
    """

    weights: int
    data: int
    activations: int
    validation: int
    available: int | None
    device: str
    batch_size: int
    n_time: int

    @property
    def total(self) -> int:
        """Peak bytes: weights + data + the larger of activations and validation."""
        return self.weights + self.data + max(self.activations, self.validation)

    def describe(self) -> str:
        """One sentence with every term."""
        avail = "unknown" if self.available is None else _gib(self.available)
        return (
            f"about {_gib(self.total)} ({_gib(self.weights)} for weights, gradients and "
            f"optimiser moments, {_gib(self.activations)} of activations kept for "
            f"backpropagation through {self.n_time} time steps x {self.batch_size} trials, "
            f"{_gib(self.validation)} for validation, {_gib(self.data)} of batch data); "
            f"{avail} available on {self.device}"
        )

    def check(self) -> MemoryEstimate:
        """Raise ValueError if the run needs more memory than is available."""
        if self.available is not None and self.total > self.available:
            raise ValueError(
                f"training this network needs {self.describe()}; reduce the batch size "
                "(batch_size, --batch-size), the network size (n_hidden, --hidden) or "
                "the number of validation trials"
            )
        return self


def available_memory(device=None) -> int | None:
    """Bytes available for a new allocation on ``device`` (the CPU by default).

    CPU: ``MemAvailable`` from ``/proc/meminfo`` (else free pages from
    :func:`os.sysconf`), capped by the cgroup's ``memory.max`` less its usage.
    CUDA: the free memory :func:`torch.cuda.mem_get_info` reports.

    Parameters
    ----------
    device : str or torch.device, optional
        ``"cpu"`` (default) or a CUDA device; None is returned for any other (e.g.
        ``"mps"``), and on a CPU where nothing can be read.

    Returns
    -------
    int or None
        Bytes.

    Examples
    --------
    >>> n = available_memory()
    >>> n is None or n > 0
    True
    """
    if device is not None and getattr(device, "type", str(device)).startswith("cuda"):
        import torch

        return int(torch.cuda.mem_get_info(device)[0])
    if device is not None and getattr(device, "type", str(device)) != "cpu":
        return None
    avail = _meminfo_available()
    limit = _cgroup_headroom()
    if avail is None:
        return limit
    return avail if limit is None else min(avail, limit)


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def _cgroup_headroom() -> int | None:
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        with open("/sys/fs/cgroup/memory.current") as f:
            used = int(f.read().strip())
    except (OSError, ValueError):
        return None
    return None if limit == "max" else max(0, int(limit) - used)


def _tensor_bytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def _saved_bytes(model, n_trials: int, n_time: int) -> int:
    """Bytes of the storages autograd keeps for one forward pass (parameters excluded)."""
    import torch

    from ..devices import model_device

    own = {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers())}
    kept: dict[int, int] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in own:
            kept[storage.data_ptr()] = storage.nbytes()
        return tensor

    dtype = next(model.parameters()).dtype
    inputs = torch.zeros((n_trials, n_time, model.n_input), dtype=dtype, device=model_device(model))
    generator = torch.Generator().manual_seed(0)
    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(inputs, generator=generator)
    return sum(kept.values())


def activation_law(model) -> tuple[float, float, float, float]:
    r"""Bytes autograd keeps in a forward pass over B trials of T steps (measured).

    Returns ``(a, c, d, s)`` of :math:`a + cB + dT + sBT`, from four small forward
    passes, :math:`B \in \{4, 8\}` and :math:`T \in \{8, 16\}`, which determine the
    bilinear law exactly (smaller batches take other kernel paths in some modules,
    e.g. PyTorch's LSTM, whose storage then does not follow the law).

    Parameters
    ----------
    model : Model
        The model, on the device and in the dtype it trains in; it runs forward four
        times (with a fixed noise seed) and is not modified.

    Examples
    --------
    A rate network without noise keeps about two float32 numbers per unit, trial and
    step (:math:`s` bytes per trial-step over :math:`4H`):

    >>> from neurodyn.rnn_models import RateRNN
    >>> a, c, d, s = activation_law(RateRNN(1, 8, 1, seed=0))
    >>> round(s / (4 * 8))
    2
    """
    b0, t0 = 4, 8
    s11, s21 = _saved_bytes(model, b0, t0), _saved_bytes(model, 2 * b0, t0)
    s12, s22 = _saved_bytes(model, b0, 2 * t0), _saved_bytes(model, 2 * b0, 2 * t0)
    s = (s22 - s12 - s21 + s11) / (b0 * t0)
    b = (s21 - s11 - s * b0 * t0) / b0
    c = (s12 - s11 - s * b0 * t0) / t0
    return s11 - b * b0 - c * t0 - s * b0 * t0, b, c, s


def activation_bytes(law, n_trials: int, n_time: int) -> float:
    """:math:`a + cB + dT + sBT` for ``law = (a, c, d, s)`` (:func:`activation_law`).

    Parameters
    ----------
    law : tuple of 4 float
        ``(a, c, d, s)`` from :func:`activation_law`.
    n_trials : int
        Trials per batch, B.
    n_time : int
        Time steps per trial, T.

    Returns
    -------
    float
        Bytes (never negative).

    Examples
    --------
    >>> activation_bytes((100.0, 10.0, 2.0, 3.0), n_trials=4, n_time=5)  # 100 + 40 + 10 + 60
    210.0
    """
    a, c, d, s = law
    return max(a + c * n_trials + d * n_time + s * n_trials * n_time, 0.0)


def _element_size(model) -> int:
    return next(model.parameters()).element_size()


def estimate_training_memory(
    model, *, batch_size: int, n_time: int, n_validation: int = 0, device=None
) -> MemoryEstimate:
    """Memory to train ``model`` on batches of ``batch_size`` trials of ``n_time`` steps.

    Parameters
    ----------
    model : Model
        A neurodyn model (on the device it will train on).
    batch_size, n_time : int
        Trials per batch and (padded) time steps per trial.
    n_validation : int
        Trials of a validation forward pass.
    device : torch.device, optional
        Where training runs (default: the model's device).

    Returns
    -------
    MemoryEstimate

    Examples
    --------
    >>> from neurodyn.rnn_models import RateRNN
    >>> est = estimate_training_memory(RateRNN(3, 16, 3), batch_size=8, n_time=50)
    >>> est.total > est.weights > 0
    True
    """
    from ..devices import model_device

    b = _element_size(model)
    params = _tensor_bytes(model.parameters())
    buffers = _tensor_bytes(model.buffers())
    return _estimate(
        weights=PARAMETER_COPIES * params + buffers,
        law=activation_law(model),
        model=model,
        element=b,
        batch_size=batch_size,
        n_time=n_time,
        n_validation=n_validation,
        device=model_device(model) if device is None else device,
    )


def estimate_training_memory_for_size(
    build: Callable[[int], object],
    n_hidden: int,
    *,
    batch_size: int,
    n_time: int,
    n_validation: int = 0,
    device=None,
) -> MemoryEstimate:
    """As :func:`estimate_training_memory`, for ``build(n_hidden)`` without building it.

    The model is built at :data:`PROBE_SIZES` instead; parameter and buffer bytes and
    the weight-sized parts of the activations are interpolated by the quadratic through
    the three sizes and the state-sized parts by a least-squares line, then evaluated
    at ``n_hidden`` (exact for the weights of models whose weights are matrices of the
    hidden size, inputs and outputs).

    Parameters
    ----------
    build : callable
        ``build(h)`` returns the model with ``h`` hidden units (on the CPU).
    n_hidden : int
        The size to estimate for.
    batch_size, n_time, n_validation, device
        As for :func:`estimate_training_memory` (``device`` defaults to the CPU).

    Returns
    -------
    MemoryEstimate

    Examples
    --------
    The weights of a 300-unit rate network, extrapolated from networks of 60, 120
    and 180 units, are those of the network itself:

    >>> from neurodyn.rnn_models import RateRNN
    >>> def build(h):
    ...     return RateRNN(1, h, 1, seed=0)
    >>> est = estimate_training_memory_for_size(build, 300, batch_size=64, n_time=100)
    >>> built = estimate_training_memory(build(300), batch_size=64, n_time=100)
    >>> est.weights == built.weights, abs(est.total - built.total) < 0.01 * built.total
    (True, True)
    """
    sizes = np.array(PROBE_SIZES, dtype=float)
    weights, laws = [], []
    for h in PROBE_SIZES:
        net = build(h)
        weights.append(
            PARAMETER_COPIES * _tensor_bytes(net.parameters()) + _tensor_bytes(net.buffers())
        )
        laws.append(activation_law(net))
    laws = np.array(laws, dtype=float)
    # Weights and the fixed and per-step parts (weight-sized) by the quadratic through the
    # three sizes; the per-trial parts (state-sized) by a least-squares line, which keeps a
    # slight curvature of the measured slopes from growing over a large extrapolation.
    law = [
        np.polyval(np.polyfit(sizes, laws[:, i], degree), n_hidden)
        for i, degree in enumerate((2, 1, 2, 1))
    ]
    return _estimate(
        weights=max(int(round(np.polyval(np.polyfit(sizes, weights, 2), n_hidden))), 0),
        law=tuple(law),
        model=_Sizes(net.n_input, n_hidden, net.n_output, _n_state(net, n_hidden)),
        element=_element_size(net),
        batch_size=batch_size,
        n_time=n_time,
        n_validation=n_validation,
        device="cpu" if device is None else device,
    )


@dataclass(frozen=True)
class _Sizes:
    n_input: int
    n_hidden: int
    n_output: int
    n_state: int


def _n_state(net, n_hidden: int) -> int:
    """The state size at ``n_hidden``, scaled from ``net`` (e.g. 2 H for an LSTM)."""
    return int(math.ceil(getattr(net, "n_state", net.n_hidden) * n_hidden / net.n_hidden))


def _estimate(*, weights, law, model, element, batch_size, n_time, n_validation, device):
    trial_steps = int(batch_size) * int(n_time)
    n_state = int(getattr(model, "n_state", model.n_hidden))
    data = 3 * trial_steps * (model.n_input + 2 * model.n_output) * element
    validation = int(n_validation) * int(n_time) * (model.n_output + 2 * n_state) * element
    return MemoryEstimate(
        weights=int(weights),
        data=int(data),
        activations=int(math.ceil(activation_bytes(law, batch_size, n_time))),
        validation=int(validation),
        available=available_memory(device),
        device=str(device),
        batch_size=int(batch_size),
        n_time=int(n_time),
    )
