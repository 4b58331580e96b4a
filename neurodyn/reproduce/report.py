"""A reproduction's report: Markdown, CSV and JSON beside its figure, each written atomically."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..io.atomic import atomic_write_json, atomic_write_text
from ..io.tables import csv_text, markdown_table
from ..plotting import save_figure

__all__ = ["CLAIMS_HEADING", "claim_lines", "markdown_report", "write_report"]

#: The heading of the claims' section of every report.
CLAIMS_HEADING = "## The paper's claims on this run"

_STATUS = {"held": "**held**", "not held": "**NOT HELD**", "not tested": "not tested"}


def claim_lines(outcomes: Mapping[str, Mapping]) -> list[str]:
    """One Markdown bullet per claim: its status, the evidence and the threshold's reason.

    Parameters
    ----------
    outcomes : mapping of str to mapping
        Claim name → ``status``, ``evidence``, ``description`` and ``threshold``
        (:meth:`~neurodyn.reproduce.harness.Reproduction.check_claims`).

    Returns
    -------
    list of str

    Examples
    --------
    >>> outcomes = {
    ...     "learned": {"status": "held", "description": "the network learns the task",
    ...                 "evidence": "accuracy = 0.93, chance = 0.5",
    ...                 "threshold": "0.5 is chance"},
    ...     "scaling": {"status": "not tested", "description": "accuracy grows with size",
    ...                 "evidence": "not tested at this scale: needs 10 000 units",
    ...                 "threshold": ""}}
    >>> for line in claim_lines(outcomes):
    ...     print(line)
    - the network learns the task: **held** — accuracy = 0.93, chance = 0.5 (threshold: 0.5 is chance)
    - accuracy grows with size: not tested — not tested at this scale: needs 10 000 units
    """
    lines = []
    for o in outcomes.values():
        line = f"- {o['description']}: {_STATUS[o['status']]} — {o['evidence']}"
        if o["threshold"]:
            line += f" (threshold: {o['threshold']})"
        lines.append(line)
    return lines


def markdown_report(reproduction, runs, summary: Mapping, config) -> str:
    """The Markdown report: title, summary, tables, and every claim's outcome.

    Parameters
    ----------
    reproduction : Reproduction
        Gives the title, the summary paragraph and the tables.
    runs : Runs
        The runs the tables and the summary are computed from.
    summary : mapping
        At least ``seeds``, ``claims`` (name → outcome) and ``claims_line``, as
        :class:`~neurodyn.reproduce.harness.Reproduction` assembles them.
    config
        The configuration the runs used.

    Returns
    -------
    str

    Examples
    --------
    The toy coin reproduction of :class:`~neurodyn.reproduce.harness.Reproduction`:

    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from neurodyn.reproduce.claims import Claim, greater
    >>> from neurodyn.reproduce.harness import Reproduction, Sizes, Table
    >>> def heads(r):
    ...     return r["heads"]
    >>> def flip(config, *, seed, progress, device):  # one seed's experiment
    ...     flips = np.random.default_rng(seed).random(200) < 0.7
    ...     return {"heads": float(flips.mean())}
    >>> coin = Reproduction(
    ...     name="coin", stem="coin", title="A biased coin", citation="(none)",
    ...     paper={"heads": 0.7}, config_type=Sizes, full=Sizes(seeds=5),
    ...     quick=Sizes(seeds=3), run=flip, work=None,
    ...     summary=lambda runs, config: "200 flips per seed.",
    ...     tables=(Table(("quantity", "paper", "ours"),
    ...                   lambda runs, config: [("P(heads)", "0.7", runs.cell(heads, ".2f"))],
    ...                   ours=("ours",)),),
    ...     claims=(Claim("biased", "the coin favours heads",
    ...                   lambda runs: greater(runs.values(heads), 0.5, names=("heads", "fair")),
    ...                   threshold="0.5 is a fair coin"),),
    ...     figure=lambda runs, outcomes, config: plt.figure())
    >>> from neurodyn.reproduce.runs import Runs
    >>> runs = Runs([flip(None, seed=s, progress=False, device="cpu") for s in range(3)],
    ...             seeds=[0, 1, 2])
    >>> from neurodyn.reproduce.claims import count_line
    >>> outcomes = coin.check_claims(runs)
    >>> summary = {"seeds": runs.seeds, "claims": outcomes, "claims_line": count_line(outcomes)}
    >>> print(markdown_report(coin, runs, summary, coin.quick))  # doctest: +NORMALIZE_WHITESPACE
    # A biased coin
    <BLANKLINE>
    200 flips per seed.
    <BLANKLINE>
    Seeds 0–2 (3 runs): every measured number is the mean ± standard deviation over seeds.
    <BLANKLINE>
    **1 of 1 claims held.**
    <BLANKLINE>
    | quantity | paper | ours |
    |---|---|---|
    | P(heads) | 0.7 | 0.68 ± 0.04 |
    <BLANKLINE>
    ## The paper's claims on this run
    <BLANKLINE>
    - the coin favours heads: **held** — heads = 0.68 ± 0.0397, fair = 0.5; needs heads − fair > 0: one-sided t-test over 3 seeds, p = 0.0079 (threshold: 0.5 is a fair coin)
    <BLANKLINE>
    """
    seeds = summary["seeds"]
    lines = [f"# {reproduction.title}", "", reproduction.summary(runs, config), ""]
    lines.append(
        f"Seeds {seeds[0]}–{seeds[-1]} ({len(seeds)} runs): every measured number is the mean ± "
        "standard deviation over seeds."
        if len(seeds) > 1
        else f"One seed ({seeds[0]})."
    )
    lines += ["", f"**{summary['claims_line']}.**"]
    for table in reproduction.tables:
        if not table.markdown:
            continue
        lines += [""] + ([f"## {table.title}", ""] if table.title else [])
        lines += markdown_table(table.header, table.checked_rows(runs, config))
    lines += ["", CLAIMS_HEADING, "", *claim_lines(summary["claims"])]
    return "\n".join(lines) + "\n"


def write_report(reproduction, out_dir: Path, runs, summary: Mapping, config) -> dict[str, str]:
    """Write the figure, ``{stem}.md``, the CSV tables and ``{stem}.json`` into ``out_dir``.

    Every table is built and checked before the first file is written, so a table the
    harness refuses leaves no partial report.

    Parameters
    ----------
    reproduction : Reproduction
        Gives the file stem, the tables (and which are CSV), the summary and the figure.
    out_dir : Path
        The folder written into (must exist).
    runs : Runs
        The runs.
    summary : mapping
        What ``{stem}.json`` holds: at least ``seeds``, ``claims`` and ``claims_line``.
    config
        The configuration the runs used.

    Returns
    -------
    dict
        ``figure``, ``markdown``, ``json`` and ``csv`` (plus ``csv_<suffix>`` for
        further CSV tables) → the path written.

    Examples
    --------
    The toy coin reproduction of :class:`~neurodyn.reproduce.harness.Reproduction`:

    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from neurodyn.reproduce.claims import Claim, greater
    >>> from neurodyn.reproduce.harness import Reproduction, Sizes, Table
    >>> def heads(r):
    ...     return r["heads"]
    >>> def flip(config, *, seed, progress, device):  # one seed's experiment
    ...     flips = np.random.default_rng(seed).random(200) < 0.7
    ...     return {"heads": float(flips.mean())}
    >>> coin = Reproduction(
    ...     name="coin", stem="coin", title="A biased coin", citation="(none)",
    ...     paper={"heads": 0.7}, config_type=Sizes, full=Sizes(seeds=5),
    ...     quick=Sizes(seeds=3), run=flip, work=None,
    ...     summary=lambda runs, config: "200 flips per seed.",
    ...     tables=(Table(("quantity", "paper", "ours"),
    ...                   lambda runs, config: [("P(heads)", "0.7", runs.cell(heads, ".2f"))],
    ...                   ours=("ours",)),),
    ...     claims=(Claim("biased", "the coin favours heads",
    ...                   lambda runs: greater(runs.values(heads), 0.5, names=("heads", "fair")),
    ...                   threshold="0.5 is a fair coin"),),
    ...     figure=lambda runs, outcomes, config: plt.figure())
    >>> from neurodyn.reproduce.runs import Runs
    >>> runs = Runs([flip(None, seed=s, progress=False, device="cpu") for s in range(3)],
    ...             seeds=[0, 1, 2])
    >>> from neurodyn.reproduce.claims import count_line
    >>> outcomes = coin.check_claims(runs)
    >>> summary = {"seeds": runs.seeds, "claims": outcomes, "claims_line": count_line(outcomes)}
    >>> files = write_report(coin, Path("."), runs, summary, coin.quick)
    >>> sorted(files.items())
    [('figure', 'coin.png'), ('json', 'coin.json'), ('markdown', 'coin.md')]
    """
    stem = reproduction.stem
    files = {
        "figure": out_dir / f"{stem}.png",
        "markdown": out_dir / f"{stem}.md",
        "json": out_dir / f"{stem}.json",
    }
    csvs = {}
    for table in reproduction.tables:
        if table.csv is not None:
            files["csv" + table.csv] = out_dir / f"{stem}{table.csv}.csv"
            csvs["csv" + table.csv] = csv_text(table.header, table.checked_rows(runs, config))
    markdown = markdown_report(reproduction, runs, summary, config)
    outcomes = {o["description"]: o["status"] for o in summary["claims"].values()}
    figure = reproduction.figure(runs, outcomes, config)
    for key, text in csvs.items():
        atomic_write_text(files[key], text)
    atomic_write_text(files["markdown"], markdown)
    save_figure(figure, files["figure"])
    atomic_write_json(files["json"], summary)
    return {k: str(v) for k, v in files.items()}
