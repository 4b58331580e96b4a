"""Seeding every random stream a NeuroGym environment may draw from.

NeuroGym environments draw from ``self.rng`` (a ``numpy.random.RandomState``), but
also from generators of their own (``AnnubesEnv._rng``), from the ``rng`` of timing
objects (``TruncExp``) and schedules, from gymnasium's ``np_random``, and a user's
environment may call NumPy's or Python's global random functions. NeuroGym's own
``Dataset`` cannot be seeded (neurogym issue #282), and ``TrialEnv.seed`` reaches only
``self.rng``, the action space and the timing objects. So, for every batch,
:func:`seeded` does all of this:

1. every ``RandomState``, ``Generator`` and ``random.Random`` reachable from the
   environment's objects (attributes of NeuroGym and gymnasium objects, lists, tuples
   and dicts of them, and the closure cells of functions they hold) is re-seeded *in
   place*, each from its own child of one :class:`numpy.random.SeedSequence`, found in
   a fixed order, so that closures holding the same generator see the new state;
2. NumPy's global ``RandomState`` and Python's ``random`` module are seeded from two
   more children, and their previous states are restored when the block ends, so
   the caller's global streams are left as they were.

Together with a fresh copy of the environment for every batch (no state carried
from one batch to the next), the same seed gives bit-identical batches.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

import numpy as np

__all__ = ["random_streams", "seeded"]

#: How deep attribute chains are followed from the environment's objects; NeuroGym
#: keeps its generators within a few levels (env -> timing dict -> TruncExp -> rng).
MAX_DEPTH = 8

_STREAM_TYPES = (np.random.RandomState, np.random.Generator, random.Random)


def _traversed(obj) -> bool:
    """Objects whose attributes are searched: NeuroGym's and gymnasium's, and any
    environment or space (a user's TrialEnv subclass lives in the user's module)."""
    module = type(obj).__module__ or ""
    if module.startswith(("neurogym", "gymnasium")):
        return True
    import gymnasium  # present whenever NeuroGym is

    return isinstance(obj, (gymnasium.Env, gymnasium.Wrapper, gymnasium.Space))


def _children(obj) -> list:
    if isinstance(obj, dict):
        return list(obj.values())
    if isinstance(obj, (list, tuple)):
        return list(obj)
    if callable(obj) and getattr(obj, "__closure__", None):
        return [c.cell_contents for c in obj.__closure__ if _cell_filled(c)]
    if hasattr(obj, "__dict__") and _traversed(obj):
        return list(vars(obj).values())
    return []


def _cell_filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018 -- an empty cell raises ValueError
    except ValueError:
        return False
    return True


def random_streams(roots) -> list:
    """Every random stream reachable from ``roots``, each once, in a fixed order.

    Depth-first over attributes in their definition order, so two deep copies of the
    same environment list their streams in the same order.

    Parameters
    ----------
    roots : iterable
        Where to start: environments, or any objects, lists, tuples and dicts holding
        them. Attributes are followed only on NeuroGym and gymnasium objects (and
        any environment or space), to a depth of :data:`MAX_DEPTH`.

    Returns
    -------
    list
        The ``numpy.random.RandomState``, ``numpy.random.Generator`` and
        ``random.Random`` objects found, each once.

    Examples
    --------
    >>> import random
    >>> import numpy as np
    >>> from neurodyn.tasks.neurogym_adapter.seeding import random_streams
    >>> gen, legacy = np.random.default_rng(0), np.random.RandomState(0)
    >>> found = random_streams([{"timing": gen, "more": [legacy, gen]}, random.Random(1)])
    >>> len(found), found[0] is gen, found[1] is legacy, type(found[2]).__name__
    (3, True, True, 'Random')
    """
    seen: set[int] = set()
    found: list = []

    def visit(obj, depth: int) -> None:
        if id(obj) in seen or depth > MAX_DEPTH:
            return
        seen.add(id(obj))
        if isinstance(obj, _STREAM_TYPES):
            found.append(obj)
            return
        if isinstance(obj, (np.ndarray, str, bytes, int, float, type)):
            return
        for child in _children(obj):
            visit(child, depth + 1)

    for root in roots:
        visit(root, 0)
    return found


def _reseed(stream, seq: np.random.SeedSequence) -> None:
    if isinstance(stream, np.random.RandomState):
        stream.seed(seq.generate_state(8))
    elif isinstance(stream, np.random.Generator):
        bit_generator = stream.bit_generator
        bit_generator.state = type(bit_generator)(seq).state
    else:
        stream.seed(int(seq.generate_state(2, dtype=np.uint64)[0]))


@contextlib.contextmanager
def seeded(roots, seed: np.random.SeedSequence) -> Iterator[int]:
    """Seed every stream of ``roots`` and the global NumPy and Python streams.

    Yields the number of environment streams seeded. The global states are restored
    on exit, also when the block raises.

    Parameters
    ----------
    roots : iterable
        The environment(s) whose streams to seed, as :func:`random_streams` takes
        them. Each stream is re-seeded in place.
    seed : numpy.random.SeedSequence
        The seed; it is spawned into one child per stream found and two more (NumPy's
        and Python's global streams).

    Examples
    --------
    The same seed gives the same NeuroGym trial, and NumPy's global stream is left
    as it was:

    >>> import neurogym
    >>> import numpy as np
    >>> from neurodyn.tasks.neurogym_adapter.environment import quiet_gymnasium
    >>> from neurodyn.tasks.neurogym_adapter.seeding import seeded
    >>> with quiet_gymnasium():
    ...     env = neurogym.make("PerceptualDecisionMaking-v0", dt=20)
    >>> def observations(seed):
    ...     with quiet_gymnasium(), seeded([env], np.random.SeedSequence(seed)):
    ...         env.unwrapped.new_trial()
    ...     return env.unwrapped.ob.copy()
    >>> state = np.random.get_state()[1].copy()
    >>> bool(np.array_equal(observations(7), observations(7)))
    True
    >>> bool(np.array_equal(observations(7), observations(8)))
    False
    >>> bool(np.array_equal(np.random.get_state()[1], state))
    True
    """
    streams = random_streams(roots)
    children = seed.spawn(len(streams) + 2)
    for stream, child in zip(streams, children, strict=False):
        _reseed(stream, child)
    # The legacy global state is what environments that call np.random.* draw from.
    numpy_state = np.random.get_state()  # noqa: NPY002
    python_state = random.getstate()
    try:
        np.random.seed(children[-2].generate_state(8))  # noqa: NPY002
        random.seed(int(children[-1].generate_state(2, dtype=np.uint64)[0]))
        yield len(streams)
    finally:
        np.random.set_state(numpy_state)  # noqa: NPY002
        random.setstate(python_state)
