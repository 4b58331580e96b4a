"""Public names of a package loaded on first use (PEP 562).

A package whose modules import PyTorch, xarray or matplotlib lists its public names
and the modules that define them; ``import`` of the package then loads none of them,
and the first access to a name imports its module (once: the value is then kept in the
package). ``neurodyn`` itself does the same for its submodules.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, attributes: Mapping[str, str]) -> tuple[Callable, Callable]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` for names defined elsewhere.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    attributes : mapping
        Public name → the module defining it, relative to the package (``".spec"``).

    Examples
    --------
    In a package's ``__init__.py``::

        _ATTRIBUTES = {"sweep": ".engine", "load_spec": ".spec"}
        __all__ = sorted(_ATTRIBUTES)
        __getattr__, __dir__ = lazy_attributes(__name__, _ATTRIBUTES)
    """

    def __getattr__(name: str):
        if name not in attributes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(attributes[name], package), name)
        setattr(sys.modules[package], name, value)  # the next access finds it directly
        return value

    def __dir__() -> list[str]:
        return sorted(attributes)

    return __getattr__, __dir__
