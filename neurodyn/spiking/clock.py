"""The spiking engine's clock and receptor codes, shared by networks and the engine.

Every duration and delay of a spiking network is a whole number of steps of ``dt``;
:func:`steps_of` converts one and refuses a value that is not.
"""

from __future__ import annotations

import math

__all__ = ["RECEPTORS", "steps_of"]

#: Receptor codes of the kernels: current-based excitatory and inhibitory synapses,
#: and delta synapses that add to the membrane potential.
RECEPTORS = {"e": 0, "i": 1, "delta": 2}


def steps_of(name: str, value_ms: float, dt: float, *, minimum: int = 0) -> int:
    """``value_ms / dt`` as an int, refusing values that are not a multiple of dt.

    Parameters
    ----------
    name : str
        The quantity's name, used in the error message (e.g. ``"t_ref"``).
    value_ms : float
        The duration or delay (ms).
    dt : float
        The time step (ms).
    minimum : int
        The fewest steps allowed (default 0).

    Returns
    -------
    int
        The number of steps, ``round(value_ms / dt)``.

    Raises
    ------
    ValueError
        Naming ``name`` when ``value_ms`` is not a whole number (to 1e-9 relative) of
        steps ``dt`` or is fewer than ``minimum`` steps.

    Examples
    --------
    A 2-ms refractory period at ``dt = 0.1`` ms lasts 20 steps; 0.25 ms does not
    fit a whole number of steps:

    >>> steps_of("t_ref", 2.0, 0.1, minimum=1)
    20
    >>> try:
    ...     steps_of("delay", 0.25, 0.1)
    ... except ValueError as err:
    ...     print(err)
    delay=0.25 ms must be a multiple of dt=0.1 ms
    """
    n = value_ms / dt
    k = round(n)
    if not math.isclose(n, k, rel_tol=0.0, abs_tol=1e-9 * max(1.0, abs(n))) or k < minimum:
        least = f" and at least {minimum * dt} ms" if minimum else ""
        raise ValueError(f"{name}={value_ms} ms must be a multiple of dt={dt} ms{least}")
    return int(k)
