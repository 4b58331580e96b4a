"""NeuroGym environments as neurodyn tasks.

:func:`from_neurogym` adapts any installed NeuroGym environment (an id, a collection
such as ``"yang19"``, a list of ids interleaved with a rule input, or an environment
object) into a :class:`NeurogymTask`; ``make_task("neurogym:<id>", ...)`` does the
same by name, so run folders, sweeps and the command line take adapted tasks.
:func:`survey` says which installed environments adapt and why the others do not
(``python -m neurodyn.tasks.neurogym_adapter --write-docs docs/neurogym.md`` writes
it as the documentation page).

NeuroGym itself is imported only when an environment is adapted.
"""

from .build import (
    PREFIX,
    collections,
    environment_arguments,
    from_neurogym,
    registered_ids,
    task_from_name,
)
from .catalogue import Adaptability, survey, survey_markdown
from .task import AdapterOptions, NeurogymTask

__all__ = [
    "PREFIX",
    "Adaptability",
    "AdapterOptions",
    "NeurogymTask",
    "collections",
    "environment_arguments",
    "from_neurogym",
    "registered_ids",
    "survey",
    "survey_markdown",
    "task_from_name",
]
