"""An atomic counter for Numba's CPU threads: dynamic sharing of work within one ``prange``.

Private. Numba schedules the iterations of a ``prange`` statically: each thread gets a
fixed share up front. On a machine shared with other processes a thread can be
descheduled for milliseconds, and the whole parallel region then waits for its
share. With :func:`fetch_add` the threads instead take blocks of work from a shared
counter one at a time (``prange`` over the threads, each looping until the counter
runs out), so a thread that runs keeps taking blocks while another is held up, and
the region waits at most for the block that thread holds.

:func:`fetch_add` compiles to one LLVM ``atomicrmw add``. NumPy and Numba offer no
atomic operations on the CPU (``numba.cuda.atomic`` is for GPUs only). Called from
Python, as under ``NUMBA_DISABLE_JIT=1``, it is a plain read and add: there is then
only one thread.
"""

from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

__all__ = ["fetch_add"]


def fetch_add(counter, value):
    """Atomically add ``value`` to ``counter[0]`` (a 1-D int64 array); return the old value."""
    old = int(counter[0])
    counter[0] = old + value
    return old


@overload(fetch_add)
def _fetch_add_jit(counter, value):
    return lambda counter, value: _atomic_add(counter, value)  # typed by _atomic_add


@intrinsic
def _atomic_add(typingctx, counter, value):
    """The compiled :func:`fetch_add`: one ``atomicrmw add`` on ``counter[0]``."""
    if not (
        isinstance(counter, types.Array)
        and counter.dtype == types.int64
        and counter.ndim == 1
        and isinstance(value, types.Integer)
    ):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        ptr = cgutils.get_item_pointer(context, builder, array_type, array, [zero])
        step = context.cast(builder, args[1], signature.args[1], types.int64)
        return builder.atomic_rmw("add", ptr, step, "monotonic")

    return types.int64(counter, value), codegen
