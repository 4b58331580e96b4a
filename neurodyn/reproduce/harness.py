"""One harness for every paper reproduction.

A :class:`Reproduction` declares what is particular to a paper: its configurations
(full and quick), the paper's numbers, how to run the experiment on one seed, the
result tables (paper beside ours), the claims checked on the runs and the figure.
Calling it does everything common: validating the arguments, the output folder, one
run per seed (``config.seeds`` of them, each kept on disk so that an interrupted
reproduction resumes), device and threads, timing, logging, checking every claim
(:mod:`neurodyn.reproduce.claims`: held, not held, or not tested at this scale) and
writing the Markdown, CSV and JSON reports and the figure atomically
(:mod:`neurodyn.reproduce.report`).

The harness refuses a table with a blank cell (a missing value prints as
``n/a (why)``) and an "ours" cell that was not computed from the runs
(:class:`~neurodyn.reproduce.runs.Measured`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import pickle
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_int
from .._version import __version__
from ..devices import resolve_device
from ..io.atomic import atomic_path
from ..io.tables import json_safe
from ..seeding import resolve_seed
from ..threads import check_threads, limit
from .claims import Claim, count_line
from .report import write_report
from .runs import Measured, Runs

__all__ = ["Claim", "Reproduction", "Sizes", "Table", "check_sizes"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Table:
    """A table of the report.

    Attributes
    ----------
    header : tuple of str
        The column names.
    rows : callable
        ``rows(runs, config) -> list`` of rows (sequences in header order, or
        mappings) from the :class:`~neurodyn.reproduce.runs.Runs`. The paper's cells
        come from the reproduction's ``PAPER``. No cell may be blank (write
        ``n/a (why)``).
    ours : tuple of str
        The columns holding measured values: a text cell there must be
        :class:`~neurodyn.reproduce.runs.Measured` (made by ``runs.cell``).
    title : str, optional
        A section heading above the table in the Markdown report.
    markdown : bool
        Whether the Markdown report shows it.
    csv : str, optional
        Write it as CSV too: ``""`` to ``{stem}.csv``, ``"_curves"`` to
        ``{stem}_curves.csv`` (file key ``csv`` and ``csv_curves``).

    Examples
    --------
    The paper's number beside ours, which must come from the runs:

    >>> from neurodyn.reproduce.runs import Runs
    >>> runs = Runs([{"acc": 0.9}, {"acc": 0.8}, {"acc": 1.0}], seeds=[0, 1, 2])
    >>> table = Table(("quantity", "paper", "ours"),
    ...               lambda runs, config: [("accuracy", "0.95", runs.cell(lambda r: r["acc"]))],
    ...               ours=("ours",))
    >>> table.checked_rows(runs, None)
    [('accuracy', '0.95', '0.9 ± 0.1')]
    >>> typed = Table(("quantity", "ours"), lambda runs, config: [("accuracy", "0.9")],
    ...               ours=("ours",))
    >>> try:
    ...     typed.checked_rows(runs, None)
    ... except ValueError as err:
    ...     print(err)
    table 'quantity', row 0: the ours column 'ours' holds '0.9', which was not computed from the runs
    """

    header: tuple[str, ...]
    rows: Callable[[Runs, Any], Sequence]
    ours: tuple[str, ...] = ()
    title: str | None = None
    markdown: bool = True
    csv: str | None = None

    def __post_init__(self):
        unknown = set(self.ours) - set(self.header)
        if unknown:
            raise ValueError(f"ours names columns not in the header: {sorted(unknown)}")

    def checked_rows(self, runs: Runs, config) -> list:
        """The rows, refused if a cell is blank or an "ours" text cell was typed in.

        Parameters
        ----------
        runs : Runs
            The reproduction's runs.
        config
            The configuration they ran with (passed to ``rows``).

        Returns
        -------
        list
            ``rows(runs, config)``, checked.

        Raises
        ------
        ValueError
            Naming the table, row and column of a blank cell, or of an "ours" text
            cell that is not :class:`~neurodyn.reproduce.runs.Measured`.
        """
        rows = list(self.rows(runs, config))
        ours = [self.header.index(c) for c in self.ours]
        for i, row in enumerate(rows):
            cells = [row.get(h) for h in self.header] if isinstance(row, Mapping) else list(row)
            for j, cell in enumerate(cells):
                if cell is None or (isinstance(cell, str) and not cell.strip()):
                    raise ValueError(
                        f"table {self.title or self.header[0]!r}, row {i}, column "
                        f"{self.header[j]!r} is blank: write 'n/a (why)'"
                    )
                if j in ours and isinstance(cell, str) and not isinstance(cell, Measured):
                    raise ValueError(
                        f"table {self.title or self.header[0]!r}, row {i}: the ours column "
                        f"{self.header[j]!r} holds {cell!r}, which was not computed from the runs"
                    )
        return rows


@dataclass(frozen=True)
class Sizes:
    """Base of reproduction configurations: every field is validated at construction.

    Integers must be >= 1, other numbers finite and > 0, tuples non-empty with such
    elements; ``None`` is allowed where the default is ``None``. Text fields (names,
    choices) are left to the subclass to check.

    Attributes
    ----------
    seeds : int
        How many seeds the reproduction runs (``seed``, ``seed + 1``, ...); every
        reported number is a mean ± spread over them, and the claims use the spread.

    Examples
    --------
    A reproduction's configuration adds its sizes; they are checked when it is made:

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class CoinConfig(Sizes):
    ...     n_flips: int = 200
    ...     bias: float = 0.7
    >>> CoinConfig(seeds=3)
    CoinConfig(seeds=3, n_flips=200, bias=0.7)
    >>> try:
    ...     CoinConfig(n_flips=0)
    ... except ValueError as err:
    ...     print(err)
    n_flips must be an integer >= 1, got 0
    """

    seeds: int = 1

    def __post_init__(self):
        check_sizes(self)


def check_sizes(config) -> None:
    """Raise ValueError naming the first field of ``config`` that is not a positive size.

    See :class:`Sizes`; a field whose default is an integer (or a tuple of integers)
    must hold integers. :class:`Sizes` calls it at construction.

    Parameters
    ----------
    config : dataclass instance
        A reproduction's configuration.

    Raises
    ------
    ValueError
        Naming the field and its value.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Grid:
    ...     sizes: tuple = (16, 32)
    ...     lr: float = 1e-3
    >>> check_sizes(Grid())
    >>> try:
    ...     check_sizes(Grid(sizes=(16, 32.5)))
    ... except ValueError as err:
    ...     print(err)
    sizes must be an integer >= 1, got 32.5
    >>> try:
    ...     check_sizes(Grid(lr=float("nan")))
    ... except ValueError as err:
    ...     print(err)
    lr must be finite and > 0, got nan
    """
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if value is None and f.default is None:
            continue
        default = f.default[0] if isinstance(f.default, tuple) and f.default else f.default
        integer = isinstance(default, int) and not isinstance(default, bool)
        for v in value if isinstance(value, tuple) and value else (value,):
            _check_size(f.name, v, integer)


def _check_size(name: str, v, integer: bool) -> None:
    if isinstance(v, str):
        return
    if integer:
        check_int(name, v)
    elif isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a positive number, got {v!r}")
    elif not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be finite and > 0, got {v!r}")


@dataclass(frozen=True, kw_only=True)
class Reproduction:
    """A paper's headline experiment, run over seeds and reported by one harness.

    Attributes
    ----------
    name : str
        Its name on the command line (``neurodyn reproduce NAME``).
    stem : str
        File names: ``{stem}.png``, ``{stem}.md``, ``{stem}.json``, ``{stem}.csv``.
    title : str
        The report's heading.
    citation : str
        The paper.
    paper : mapping
        The paper's numbers, each with its source.
    config_type : type
        The frozen dataclass of its sizes (a :class:`Sizes`); ``full`` and ``quick``
        are instances.
    full, quick
        The full run (minutes on two cores, several seeds) and a small one (tests, a
        first look). Both check the same claims.
    run : callable
        ``run(config, *, seed, progress, device) -> dict``: one seed's measured
        results (keys starting with ``_`` hold working data for the figure and are not
        saved). ``device`` is as the caller gave it (validated).
    work : callable, optional
        ``work(config)``: floating-point operations of one training step, for the
        thread policy (:func:`neurodyn.threads.limit`). ``None``: each part of the run
        chooses its own threads unless the caller fixes a count.
    summary : callable
        ``summary(runs, config) -> str``: the paragraph under the title.
    tables : tuple of Table
    claims : tuple of Claim
        Every claim of the paper the reproduction can speak to; those that cannot be
        tested at this scale say why.
    figure : callable
        ``figure(runs, outcomes, config) -> matplotlib Figure``; ``outcomes`` maps each
        claim's description to its status (``"held"``, ``"not held"``, ``"not tested"``).

    Examples
    --------
    The whole harness on a toy experiment: 200 flips of a coin with bias 0.7 per
    seed, the paper's claim that it favours heads, one table and a figure:

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
    >>> result = coin("coin-report", quick=True, progress=False)
    >>> result["claims_line"], result["seeds"], sorted(result["files"])
    ('1 of 1 claims held', [0, 1, 2], ['figure', 'json', 'markdown'])
    >>> result["claims"]["biased"]["status"]  # what check_claims gave
    'held'
    >>> result["runs"][0]["heads"] == flip(None, seed=0, progress=False, device="cpu")["heads"]
    True
    """

    name: str
    stem: str
    title: str
    citation: str
    paper: Mapping
    config_type: type
    full: Any
    quick: Any
    run: Callable[..., dict]
    work: Callable[[Any], float] | None
    summary: Callable[[Runs, Any], str]
    tables: tuple[Table, ...]
    claims: tuple[Claim, ...]
    figure: Callable[[Runs, dict, Any], Any]

    def __post_init__(self):
        names = [c.name for c in self.claims]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"{self.name}: claims must be non-empty with distinct names")

    def config(self, quick: bool = False, config=None):
        """The configuration to run: ``config`` if given, else the quick or full one.

        Parameters
        ----------
        quick : bool
            The quick configuration instead of the full one.
        config : optional
            An explicit configuration, an instance of ``config_type``.

        Returns
        -------
        config
            An instance of ``config_type``.

        Examples
        --------
        >>> from neurodyn.reproduce import get_reproduction
        >>> rep = get_reproduction("sussillo2013")
        >>> rep.config(quick=True) == rep.quick, rep.config() == rep.full
        (True, True)
        """
        if config is None:
            return self.quick if quick else self.full
        if not isinstance(config, self.config_type):
            raise ValueError(
                f"config must be a {self.config_type.__name__}, got {type(config).__name__}"
            )
        return config

    def check_claims(self, runs: Runs) -> dict[str, dict]:
        """Every claim's outcome on ``runs``, by name.

        Parameters
        ----------
        runs : Runs
            The reproduction's runs.

        Returns
        -------
        dict of str to dict
            Claim name → ``status`` (held, not held, not tested), ``evidence``,
            ``description`` and ``threshold``; the :class:`Reproduction` example shows
            them on a toy experiment.
        """
        outcomes = {}
        for c in self.claims:
            verdict = c(runs)
            outcomes[c.name] = {
                "status": verdict.status,
                "evidence": verdict.evidence,
                "description": c.description,
                "threshold": c.threshold if c.check is not None else "",
            }
        return outcomes

    def __call__(
        self,
        out_dir: str | os.PathLike,
        *,
        quick: bool = False,
        seed: int = 0,
        progress: bool = True,
        device="auto",
        threads: int | None = None,
        config=None,
        resume: bool = True,
    ) -> dict:
        """Run the experiment on every seed and write its report into ``out_dir``.

        Parameters
        ----------
        out_dir : path-like
            Folder for the figure and the reports (created; each file written
            atomically).
        quick : bool
            The quick configuration instead of the full one.
        seed : int
            The first seed; the run uses ``seed, seed + 1, ...`` (``config.seeds``).
        progress : bool
            Show progress bars.
        device : str or torch.device
            Where networks train (``"auto"``: a GPU when present).
        threads : int, optional
            CPU threads for the whole run (default: :mod:`neurodyn.threads`' policy).
        config : optional
            Every size explicitly (an instance of ``config_type``; overrides ``quick``).
        resume : bool
            Reuse a seed's results kept in ``out_dir/seeds/`` by an earlier call with
            the same configuration and neurodyn version (an interrupted reproduction
            goes on where it stopped); False runs every seed again.

        Returns
        -------
        dict
            ``runs`` (each seed's measured results), ``claims`` (name → outcome, see
            :meth:`check_claims`), ``claims_line`` ("5 of 7 claims held"), ``config``,
            ``quick``, ``seeds``, ``paper``, ``reproduction``, ``citation``,
            ``neurodyn_version``, ``seconds`` (the wall time of every seed's run, a
            resumed seed's as it was measured, plus this call's checks of the claims) and
            ``files`` (key → path written).
        """
        seed = resolve_seed(seed)
        resolve_device(device)
        check_threads(threads)
        cfg = self.config(quick, config)
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        seeds = list(range(seed, seed + cfg.seeds))
        logger.info("reproducing %s (%s), seeds %s", self.name, self.citation, seeds)
        results, fresh = [], 0.0
        for s in seeds:
            kept = self._kept(out_dir, cfg, s) if resume else None
            if kept is None:
                began = time.perf_counter()
                with self._threads(threads, cfg):
                    kept = self.run(cfg, seed=s, progress=progress, device=device)
                # Kept with the seed, so that a resumed run still reports what it cost.
                kept["_seconds"] = time.perf_counter() - began
                fresh += kept["_seconds"]
                self._keep(out_dir, cfg, s, kept)
            results.append(kept)
        runs = Runs(results, seeds)
        outcomes = self.check_claims(runs)
        # Every seed's own run (those resumed as they were timed) and this call's rest.
        spent = sum(float(r.get("_seconds", 0.0)) for r in results)
        seconds = spent + time.perf_counter() - start - fresh
        summary = {
            "runs": [json_safe(r, drop_private=True) for r in results],
            "claims": outcomes,
            "claims_line": count_line(outcomes),
            "config": dataclasses.asdict(cfg),
            "quick": cfg == self.quick,
            "seeds": seeds,
            "paper": self.paper,
            "reproduction": self.name,
            "citation": self.citation,
            "neurodyn_version": __version__,
            "seconds": round(seconds, 1),
        }
        files = write_report(self, out_dir, runs, summary, cfg)
        line = summary["claims_line"]
        logger.info("%s reproduced in %.0f s: %s", self.name, summary["seconds"], line)
        return {**json_safe(summary), "files": files}

    def _threads(self, threads, cfg):
        if self.work is None and threads is None:
            return contextlib.nullcontext()
        work = None if self.work is None else self.work(cfg)
        return limit(threads, work=work, what=f"reproduce {self.name}")

    def _seed_file(self, out_dir: Path, seed: int) -> Path:
        return out_dir / "seeds" / f"{self.stem}-seed{seed}.pkl"

    def _kept(self, out_dir: Path, cfg, seed: int) -> dict | None:
        """A seed's results from an earlier call with the same configuration, or None."""
        path = self._seed_file(out_dir, seed)
        if not path.exists():
            return None
        try:
            with open(path, "rb") as f:
                kept = pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as e:
            logger.warning("ignoring %s (%s); seed %d runs again", path, e, seed)
            return None
        if kept.get("key") != self._key(cfg, seed):
            logger.info("seed %d: %s is from another configuration; running again", seed, path)
            return None
        logger.info("seed %d: reusing the results kept in %s", seed, path)
        return kept["results"]

    def _keep(self, out_dir: Path, cfg, seed: int, results: dict) -> None:
        with atomic_path(self._seed_file(out_dir, seed)) as tmp, open(tmp, "wb") as f:
            pickle.dump({"key": self._key(cfg, seed), "results": results}, f)

    def _key(self, cfg, seed: int) -> dict:
        # One seed's results do not depend on how many seeds the reproduction runs.
        config = json_safe({k: v for k, v in dataclasses.asdict(cfg).items() if k != "seeds"})
        return {"reproduction": self.name, "config": config, "seed": seed, "version": __version__}
