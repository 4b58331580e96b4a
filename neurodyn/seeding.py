"""Random streams.

Every stochastic call in neurodyn takes ``seed`` (an int, a
:class:`numpy.random.Generator`, or ``None``). Independent streams for network
initialisation, training data, training noise and evaluation are derived from one
integer seed with :class:`numpy.random.SeedSequence` spawn keys, so changing how
much data is drawn never changes the initial weights, and the batch drawn at
training step ``k`` depends only on ``(seed, k)``. That last property is what makes
an interrupted training run resume exactly.
"""

from __future__ import annotations

import numpy as np

__all__ = ["STREAMS", "derive_seed", "make_rng", "resolve_seed", "torch_generator"]

#: Named streams; the number is the spawn key under the user's seed.
STREAMS = {"init": 0, "data": 1, "noise": 2, "eval": 3, "validation": 4, "analysis": 5}


def resolve_seed(seed: int | np.random.Generator | None) -> int:
    """Turn ``seed`` into a concrete integer that can be stored with a result.

    ``None`` draws fresh OS entropy; a Generator contributes one draw from itself.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        A non-negative integer, a Generator or None.

    Returns
    -------
    int
        A non-negative integer seed.

    Raises
    ------
    ValueError
        For a negative integer, a bool or any other type.

    Examples
    --------
    An int is kept; a Generator gives the same int whenever it is in the same state:

    >>> resolve_seed(7)
    7
    >>> resolve_seed(np.random.default_rng(0)) == resolve_seed(np.random.default_rng(0))
    True
    >>> resolve_seed(None) >= 0  # fresh entropy: store it to repeat the run
    True
    """
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, dtype=np.uint32)[0])
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**31 - 1))
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return int(seed)
    raise ValueError(f"seed must be a non-negative int, a numpy Generator or None, got {seed!r}")


def make_rng(
    seed: int | np.random.Generator | None, stream: str | None = None, *keys: int
) -> np.random.Generator:
    """Return a Generator for ``stream`` (and optional integer sub-keys) under ``seed``.

    A Generator passed as ``seed`` is returned unchanged when no stream is named,
    so callers that manage their own generator keep full control.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        The seed (see :func:`resolve_seed`).
    stream : str, optional
        A key of :data:`STREAMS`: each stream draws independently of the others.

    Examples
    --------
    >>> a = make_rng(0, "data", 5).normal()
    >>> b = make_rng(0, "data", 5).normal()
    >>> a == b
    True
    """
    if isinstance(seed, np.random.Generator) and stream is None and not keys:
        return seed
    base = resolve_seed(seed)
    key = ([STREAMS[stream]] if stream is not None else []) + [int(k) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(base, spawn_key=tuple(key)))


def derive_seed(seed: int | np.random.Generator | None, stream: str, *keys: int) -> int:
    """An integer seed for one component of a run, drawn from a named stream of ``seed``.

    A component that takes an integer seed of its own (a network's initialisation, the
    trials of an evaluation) gets it from its own stream and keys, so no two components
    share draws, and adding a component never changes the seeds of the others.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        The user's seed (see :func:`resolve_seed`).
    stream : str
        A key of :data:`STREAMS`.
    *keys : int
        Sub-keys that tell components of the same stream apart (e.g. which network).

    Returns
    -------
    int
        A seed in ``[0, 2**31)``: one draw of :func:`make_rng` ``(seed, stream, *keys)``.

    Examples
    --------
    The same arguments give the same seed; another key gives another:

    >>> derive_seed(0, "init") == derive_seed(0, "init")
    True
    >>> derive_seed(0, "eval", 0) == derive_seed(0, "eval", 1)
    False
    >>> 0 <= derive_seed(0, "init", 2) < 2**31
    True
    """
    return int(make_rng(seed, stream, *keys).integers(2**31))


def torch_generator(seed: int | np.random.Generator | None, stream: str, *keys: int):
    """A :class:`torch.Generator` seeded from the same stream scheme as :func:`make_rng`.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        The seed (see :func:`resolve_seed`).
    stream : str
        A key of :data:`STREAMS`.
    *keys : int
        Sub-keys (e.g. the training step), as for :func:`make_rng`.

    Returns
    -------
    torch.Generator
        A CPU generator.

    Examples
    --------
    The noise of training step 3 is the same whenever it is drawn, and differs from
    that of step 4:

    >>> import torch
    >>> a = torch.randn(3, generator=torch_generator(0, "noise", 3))
    >>> b = torch.randn(3, generator=torch_generator(0, "noise", 3))
    >>> c = torch.randn(3, generator=torch_generator(0, "noise", 4))
    >>> torch.equal(a, b), torch.equal(a, c)
    (True, False)
    """
    import torch

    state = make_rng(seed, stream, *keys).integers(0, 2**63 - 1)
    gen = torch.Generator()
    gen.manual_seed(int(state))
    return gen
