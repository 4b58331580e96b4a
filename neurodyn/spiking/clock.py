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

    Raises
    ------
    ValueError
        Naming ``name`` when ``value_ms`` is not a whole number (to 1e-9 relative) of
        steps ``dt`` or is fewer than ``minimum`` steps.
    """
    n = value_ms / dt
    k = round(n)
    if not math.isclose(n, k, rel_tol=0.0, abs_tol=1e-9 * max(1.0, abs(n))) or k < minimum:
        least = f" and at least {minimum * dt} ms" if minimum else ""
        raise ValueError(f"{name}={value_ms} ms must be a multiple of dt={dt} ms{least}")
    return int(k)
