"""One harness for every paper reproduction.

A :class:`Reproduction` declares what is particular to a paper: its configurations
(full and quick), the paper's numbers, how to run the experiment, the result tables
(paper beside ours), the claims checked on the run and the figure. Calling it does
everything common: validating the arguments, the output folder, seeding, device and
threads, timing, logging, and writing the Markdown, CSV and JSON reports and the
figure atomically (:mod:`neurodyn.reproduce.report`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_int
from .._version import __version__
from ..devices import resolve_device
from ..io.tables import json_safe
from ..seeding import resolve_seed
from ..threads import check_threads, limit
from .report import write_report

__all__ = ["Claim", "Reproduction", "Sizes", "Table", "check_sizes"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """One of the paper's claims, checked on a run.

    Attributes
    ----------
    name : str
        Short identifier (the key in the results' ``claims``).
    description : str
        The claim in words, as the report prints it.
    check : callable
        ``check(results) -> bool``, computed from the run's measured results.
    """

    name: str
    description: str
    check: Callable[[Mapping], Any]

    def __call__(self, results: Mapping) -> bool:
        return bool(self.check(results))


@dataclass(frozen=True)
class Table:
    """A table of the report.

    Attributes
    ----------
    header : tuple of str
    rows : callable
        ``rows(results, config) -> list`` of rows (sequences in header order, or
        mappings). Every "ours" cell is computed from ``results``; the paper's cells
        come from the reproduction's ``PAPER``.
    title : str, optional
        A section heading above the table in the Markdown report.
    markdown : bool
        Whether the Markdown report shows it.
    csv : str, optional
        Write it as CSV too: ``""`` to ``{stem}.csv``, ``"_curves"`` to
        ``{stem}_curves.csv`` (file key ``csv`` and ``csv_curves``).
    """

    header: tuple[str, ...]
    rows: Callable[[Mapping, Any], Sequence]
    title: str | None = None
    markdown: bool = True
    csv: str | None = None


@dataclass(frozen=True)
class Sizes:
    """Base of reproduction configurations: every field is validated at construction.

    Integers must be >= 1, other numbers finite and > 0, tuples non-empty with such
    elements; ``None`` is allowed where the default is ``None``. Text fields (names,
    choices) are left to the subclass to check.
    """

    def __post_init__(self):
        check_sizes(self)


def check_sizes(config) -> None:
    """Raise ValueError naming the first field of ``config`` (a dataclass) that is not a
    positive size (see :class:`Sizes`); a field whose default is an integer (or a tuple
    of integers) must hold integers."""
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
    """A paper's headline experiment, run and reported by one harness.

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
        The paper's numbers.
    config_type : type
        The frozen dataclass of its sizes; ``full`` and ``quick`` are instances.
    full, quick
        The full run (minutes on two cores) and a small one (tests, a first look).
    run : callable
        ``run(config, *, seed, progress, device) -> dict`` of measured results (keys
        starting with ``_`` hold working data for the figure and are not saved).
        ``device`` is as the caller gave it (validated).
    work : callable, optional
        ``work(config)``: floating-point operations of one training step, for the
        thread policy (:func:`neurodyn.threads.limit`). ``None``: each part of the run
        chooses its own threads unless the caller fixes a count.
    summary : callable
        ``summary(results, config, seed) -> str``: the paragraph under the title.
    tables : tuple of Table
    claims : tuple of Claim
    figure : callable
        ``figure(results, claims, config) -> matplotlib Figure``; ``claims`` maps each
        claim's description to its outcome.
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
    summary: Callable[[Mapping, Any, int], str]
    tables: tuple[Table, ...]
    claims: tuple[Claim, ...]
    figure: Callable[[Mapping, dict, Any], Any]

    def config(self, quick: bool = False, config=None):
        """The configuration to run: ``config`` if given, else the quick or full one."""
        if config is None:
            return self.quick if quick else self.full
        if not isinstance(config, self.config_type):
            raise ValueError(
                f"config must be a {self.config_type.__name__}, got {type(config).__name__}"
            )
        return config

    def check_claims(self, results: Mapping) -> dict[str, bool]:
        """Every claim's outcome on ``results``, by name."""
        return {c.name: c(results) for c in self.claims}

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
    ) -> dict:
        """Run the experiment and write its report into ``out_dir``.

        Parameters
        ----------
        out_dir : path-like
            Folder for the figure and the reports (created; each file written
            atomically).
        quick : bool
            The quick configuration instead of the full one.
        seed : int
            Seeds everything the run draws.
        progress : bool
            Show progress bars.
        device : str or torch.device
            Where networks train (``"auto"``: a GPU when present).
        threads : int, optional
            CPU threads for the whole run (default: :mod:`neurodyn.threads`' policy).
        config : optional
            Every size explicitly (an instance of ``config_type``; overrides ``quick``).

        Returns
        -------
        dict
            The measured results, and ``claims`` (name → bool), ``config``, ``quick``,
            ``seed``, ``paper``, ``reproduction``, ``citation``, ``neurodyn_version``,
            ``seconds`` and ``files`` (key → path written).
        """
        seed = resolve_seed(seed)
        resolve_device(device)
        check_threads(threads)
        cfg = self.config(quick, config)
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        logger.info("reproducing %s (%s), seed %d", self.name, self.citation, seed)
        with self._threads(threads, cfg):
            results = self.run(cfg, seed=seed, progress=progress, device=device)
        claims = self.check_claims(results)
        summary = {
            **results,
            "claims": claims,
            "config": dataclasses.asdict(cfg),
            "quick": cfg == self.quick,
            "seed": seed,
            "paper": self.paper,
            "reproduction": self.name,
            "citation": self.citation,
            "neurodyn_version": __version__,
            "seconds": round(time.perf_counter() - start, 1),
        }
        files = write_report(self, out_dir, summary, cfg)
        logger.info("%s reproduced in %.0f s: %s", self.name, summary["seconds"], claims)
        return {**json_safe(summary, drop_private=True), "files": files}

    def _threads(self, threads, cfg):
        if self.work is None and threads is None:
            return contextlib.nullcontext()
        work = None if self.work is None else self.work(cfg)
        return limit(threads, work=work, what=f"reproduce {self.name}")
