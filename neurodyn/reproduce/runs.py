r"""A reproduction's runs over seeds, and the table cells computed from them.

Every number a reproduction reports is measured on each of its seeds. :class:`Runs`
holds the per-seed results and gives, for any quantity (a function of one seed's
results), its values over seeds, their mean and their spread (the sample standard
deviation, :math:`s = \sqrt{\sum_s (x_s - \bar x)^2 / (n - 1)}`).

A table cell of the "ours" columns is a :class:`Measured` string, made only by
:meth:`Runs.cell` (or :meth:`Measured.join` of such cells), so the harness can refuse
an "ours" cell typed into the code. A quantity undefined on every seed prints as
``n/a (why)``, never as a blank.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..io.tables import table_cell

__all__ = ["Measured", "Runs"]


class Measured(str):
    """Text of a table cell computed from the runs (see :meth:`Runs.cell`).

    A :class:`str` in every other respect; the harness refuses an "ours" cell that is
    a plain string.

    Examples
    --------
    >>> runs = Runs([{"acc": 0.9, "loss": 0.2}, {"acc": 0.8, "loss": 0.3}], seeds=[0, 1])
    >>> cell = runs.cell(lambda r: r["acc"], ".2f")
    >>> isinstance(cell, Measured), cell
    (True, '0.85 ± 0.07')
    >>> Measured.join(" / ", [cell, runs.cell(lambda r: r["loss"], ".2f")])
    '0.85 ± 0.07 / 0.25 ± 0.07'
    """

    __slots__ = ()

    @classmethod
    def join(cls, sep: str, cells: Iterable[str]) -> Measured:
        """Several measured cells as one (``"1.2 / 3.4"``); every part must be measured.

        Parameters
        ----------
        sep : str
            The separator.
        cells : iterable of Measured
            The cells to join.

        Returns
        -------
        Measured

        Raises
        ------
        TypeError
            When a part is not :class:`Measured`.
        """
        cells = list(cells)
        for c in cells:
            if not isinstance(c, Measured):
                raise TypeError(f"only measured cells can be joined, got {c!r}")
        return cls(sep.join(cells))


class Runs(Sequence):
    """The results of a reproduction, one mapping per seed.

    Parameters
    ----------
    results : sequence of mapping
        One seed's results each (what the reproduction's ``run`` returned).
    seeds : sequence of int
        The seeds, in the same order.

    Examples
    --------
    >>> runs = Runs([{"acc": 0.9}, {"acc": 0.8}, {"acc": 1.0}], seeds=[0, 1, 2])
    >>> runs.values(lambda r: r["acc"]).tolist(), runs.cell(lambda r: r["acc"])
    ([0.9, 0.8, 1.0], '0.9 ± 0.1')
    """

    def __init__(self, results: Sequence[Mapping], seeds: Sequence[int]):
        if len(results) != len(seeds) or not results:
            raise ValueError(
                f"results and seeds must be non-empty and of equal length, got "
                f"{len(results)} and {len(seeds)}"
            )
        self._results = list(results)
        self.seeds = [int(s) for s in seeds]

    def __getitem__(self, i):
        return self._results[i]

    def __len__(self) -> int:
        return len(self._results)

    @property
    def first(self) -> Mapping:
        """The first seed's results (figures draw its working data)."""
        return self._results[0]

    def values(self, get: Callable[[Mapping], Any]) -> np.ndarray:
        """``get`` of every seed's results, stacked: shape (n_seeds, ...); None → NaN.

        Parameters
        ----------
        get : callable
            ``get(results)``: the quantity, from one seed's results.

        Returns
        -------
        array (n_seeds, ...)

        Examples
        --------
        >>> runs = Runs([{"acc": 0.9}, {"acc": None}], seeds=[0, 1])
        >>> runs.values(lambda r: r["acc"]).tolist()
        [0.9, nan]
        """
        out = [np.nan if (v := get(r)) is None else v for r in self._results]
        return np.asarray(out, dtype=float)

    def mean(self, get: Callable[[Mapping], Any]):
        """Mean over seeds (NaN where a seed's value is undefined).

        Parameters
        ----------
        get : callable
            ``get(results)``: the quantity, from one seed's results.

        Examples
        --------
        >>> runs = Runs([{"curve": [1.0, 2.0]}, {"curve": [3.0, 6.0]}], seeds=[0, 1])
        >>> runs.mean(lambda r: r["curve"]).tolist()
        [2.0, 4.0]
        """
        return np.mean(self.values(get), axis=0)

    def spread(self, get: Callable[[Mapping], Any]):
        """Sample standard deviation over seeds (0 for one seed).

        Parameters
        ----------
        get : callable
            ``get(results)``: the quantity, from one seed's results.

        Examples
        --------
        >>> runs = Runs([{"acc": 0.7}, {"acc": 0.9}], seeds=[0, 1])
        >>> round(float(runs.spread(lambda r: r["acc"])), 4)
        0.1414
        """
        x = self.values(get)
        return np.std(x, axis=0, ddof=1) if len(x) > 1 else np.zeros_like(x[0])

    def cell(
        self, get: Callable[[Mapping], Any], spec: str = ".3g", *, missing: str = "not measured"
    ) -> Measured:
        """One "ours" table cell: the value, or ``mean ± spread`` over seeds.

        Values equal on every seed print once (as integers where they are). A value
        undefined on some seeds is averaged over the others, with their count; on every
        seed, the cell is ``n/a (missing)``.

        Parameters
        ----------
        get : callable
            ``get(results)``: the quantity (a number, or text equal on every seed).
        spec : str
            Number format.
        missing : str
            Why the quantity can be undefined, printed in the cell when it is.

        Returns
        -------
        Measured

        Examples
        --------
        >>> runs = Runs([{"n": 3, "tau": 12.0}, {"n": 3, "tau": None}], seeds=[0, 1])
        >>> runs.cell(lambda r: r["n"])
        '3'
        >>> runs.cell(lambda r: r["tau"], missing="no fit")
        '12 (1 of 2 seeds; n/a on the others: no fit)'
        """
        raw = [get(r) for r in self._results]
        if all(isinstance(v, str) for v in raw):
            return Measured(raw[0] if len(set(raw)) == 1 else " / ".join(raw))
        x = self.values(get)
        ok = np.isfinite(x)
        if not ok.any():
            return Measured(f"n/a ({missing})")
        v = x[ok]
        if np.all(v == v[0]):
            number = raw[int(np.argmax(ok))]
            text = table_cell(number if isinstance(number, (int, np.integer)) else v[0], spec)
        else:
            text = f"{table_cell(float(v.mean()), spec)} ± {table_cell(float(v.std(ddof=1)), spec)}"
        if not ok.all():
            text += f" ({int(ok.sum())} of {len(x)} seeds; n/a on the others: {missing})"
        return Measured(text)

    def records(self, get: Callable[[Mapping], Iterable[Mapping]]) -> list[dict]:
        """Rows of every seed (``get(results)`` → mappings), each with its ``seed``.

        Parameters
        ----------
        get : callable
            ``get(results)``: one seed's rows, an iterable of mappings.

        Returns
        -------
        list of dict

        Examples
        --------
        >>> runs = Runs([{"curve": [{"step": 10, "loss": 0.5}]},
        ...              {"curve": [{"step": 10, "loss": 0.4}]}], seeds=[3, 4])
        >>> runs.records(lambda r: r["curve"])
        [{'seed': 3, 'step': 10, 'loss': 0.5}, {'seed': 4, 'step': 10, 'loss': 0.4}]
        """
        pairs = zip(self.seeds, self._results, strict=True)
        return [{"seed": s, **row} for s, r in pairs for row in get(r)]
