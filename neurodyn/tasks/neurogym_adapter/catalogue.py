"""Which installed NeuroGym environments adapt, and why the others do not.

:func:`survey` runs :func:`~neurodyn.tasks.neurogym_adapter.from_neurogym` on every
registered environment and every collection with default arguments;
:func:`survey_markdown` writes the result as the documentation page
``docs/neurogym.md`` (``python -m neurodyn.tasks.neurogym_adapter --write-docs
docs/neurogym.md``), which a test compares with what the adapter does now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .build import PREFIX, collections, from_neurogym, registered_ids
from .environment import import_neurogym

__all__ = ["Adaptability", "survey", "survey_markdown"]


@dataclass(frozen=True)
class Adaptability:
    """Whether one environment adapts with default arguments.

    Attributes
    ----------
    env_id : str
        The id or collection name.
    adapts : bool
        Whether :func:`~neurodyn.tasks.from_neurogym` adapts it.
    detail : str
        For an adapted environment its channels and loss; otherwise why not.

    Examples
    --------
    >>> from neurodyn.tasks.neurogym_adapter import survey
    >>> go, bandit = survey(["GoNogo-v0", "Bandit-v0"])
    >>> go
    Adaptability(env_id='GoNogo-v0', adapts=True, detail='3 inputs, 2 outputs, cross_entropy')
    >>> bandit.adapts, bandit.detail.split(":")[0]
    (False, 'its trials define no ground truth (env.gt)')
    """

    env_id: str
    adapts: bool
    detail: str


def _one(env_id: str) -> Adaptability:
    try:
        task = from_neurogym(env_id)
    except ValueError as err:
        text = str(err)
        marker = " cannot be adapted: "
        reason = text.split(marker, 1)[1] if marker in text else text
        return Adaptability(env_id, False, reason)
    detail = f"{task.n_inputs} inputs, {task.n_outputs} outputs, {task.loss}"
    if task.rules:
        detail += f", {len(task.rules)} rules"
    return Adaptability(env_id, True, detail)


def survey(env_ids: Sequence[str] | None = None) -> list[Adaptability]:
    """Adapt each of ``env_ids`` (default: every registered environment, then every
    collection) and report the outcome.

    Each is adapted with default arguments; an environment that cannot be adapted
    is reported with the reason :func:`~neurodyn.tasks.from_neurogym` gives.

    Parameters
    ----------
    env_ids : sequence of str, optional
        Environment ids or collection names (default: :func:`registered_ids`, then
        :func:`collections`).

    Returns
    -------
    list of Adaptability
        One per id, in the order given.

    Examples
    --------
    >>> from neurodyn.tasks.neurogym_adapter import survey
    >>> [(row.env_id, row.adapts) for row in survey(["PerceptualDecisionMaking-v0", "Null-v0"])]
    [('PerceptualDecisionMaking-v0', True), ('Null-v0', False)]
    """
    if env_ids is None:
        env_ids = [*registered_ids(), *collections()]
    return [_one(e) for e in env_ids]


def survey_markdown(rows: Sequence[Adaptability]) -> str:
    """The documentation page for ``rows`` (see the module docstring).

    Parameters
    ----------
    rows : sequence of Adaptability
        The outcomes to list, usually :func:`survey`'s.

    Returns
    -------
    str
        Markdown: a title, the counts, how adapted trials are built and one table
        row per entry of ``rows``.

    Examples
    --------
    >>> from neurodyn.tasks.neurogym_adapter import Adaptability, survey_markdown
    >>> row = Adaptability("GoNogo-v0", True, "3 inputs, 2 outputs, cross_entropy")
    >>> page = survey_markdown([row])
    >>> page.splitlines()[0]
    '# NeuroGym environments as neurodyn tasks'
    >>> page.splitlines()[-1]
    '| `GoNogo-v0` | yes | 3 inputs, 2 outputs, cross_entropy |'
    """
    version = import_neurogym().__version__
    n_ok = sum(r.adapts for r in rows)
    lines = [
        "# NeuroGym environments as neurodyn tasks",
        "",
        "<!-- Written by `python -m neurodyn.tasks.neurogym_adapter --write-docs "
        "docs/neurogym.md`; tests/tasks/neurogym/test_neurogym_docs.py checks it. -->",
        "",
        f"NeuroGym {version} registers {len(rows)} environments and collections here; "
        f"{n_ok} adapt with their default arguments and {len(rows) - n_ok} do not. "
        f'Use one as `make_task("{PREFIX}<id>", dt=...)`, '
        f"`neurodyn train --task {PREFIX}<id> --task-option dt=20`, or "
        '`neurodyn.tasks.from_neurogym("<id>")`. A collection (last rows) interleaves '
        "its environments trial by trial with one rule input per environment.",
        "",
        "Each trial is one `new_trial()` of the environment, kept whole: inputs are its "
        "`ob`, targets its `gt` (one-hot over the actions with the cross-entropy for "
        "discrete actions, `gt` itself with the mean squared error for continuous ones), "
        "trial variables its `trial` dictionary. Decision steps weigh 1 in the loss and "
        "fixation steps 0.05, as in NeuroGym's yang19 example (`fixation_weight`; "
        "`fixation=False` scores the decision only). A trial is correct when the first "
        "response of each decision is `gt`, as the environments' own `step()` scores it. "
        "The same seed gives the same batch, bit for bit. Details: "
        "`neurodyn/tasks/neurogym_adapter/trials.py` and `seeding.py`.",
        "",
        "| environment | adapts | inputs, outputs, loss — or why not |",
        "| --- | --- | --- |",
    ]
    for r in rows:
        detail = r.detail.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{r.env_id}` | {'yes' if r.adapts else 'no'} | {detail} |")
    return "\n".join(lines) + "\n"
