r"""A paper's claims, checked on a reproduction's runs, with the evidence for each verdict.

A claim is held, not held, or not tested at this scale, never assumed. Each checked
claim compares numbers measured on the run in the paper's own direction and says why
its threshold is what it is (the paper's effect size, a chance level, a significance
test across seeds). The verdict carries the numbers it was decided on, so a report
can be read without the code.

Comparisons across seeds
------------------------
Most claims compare two conditions trained from the same seeds (multi- against
single-head, NALSM against LSM). :func:`greater` decides "a exceeds b by more than a
margin" on the per-seed differences :math:`d_s = a_s - b_s - m`:

* one seed: :math:`d_1 > 0`;
* two seeds: both :math:`d_s > 0` (too few for a test);
* three or more: the mean difference is positive and a one-sided paired t-test
  rejects :math:`\mathbb{E}\,d \le 0` at level :data:`ALPHA`,

.. math::

    t = \frac{\bar d}{s_d / \sqrt{n}}, \qquad p = P(T_{n-1} \ge t).

``b`` may be a constant (a chance level, the paper's number); the test is then the
one-sample test of the same statistic. A value that is undefined on some seed (NaN)
leaves the claim not held, with the count of such seeds in the evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "ALPHA",
    "HELD",
    "NOT_HELD",
    "NOT_TESTED",
    "Claim",
    "Verdict",
    "all_hold",
    "count_line",
    "greater",
    "less",
]

#: Level of the one-sided tests across seeds.
ALPHA = 0.05

HELD, NOT_HELD, NOT_TESTED = "held", "not held", "not tested"


@dataclass(frozen=True)
class Verdict:
    """The outcome of one claim on one run.

    Attributes
    ----------
    held : bool or None
        True (held), False (not held) or None (not tested at this scale).
    evidence : str
        The numbers the verdict was decided on, or why the claim was not tested.

    Examples
    --------
    :func:`greater` and :func:`less` return one; its ``status`` is what reports print:

    >>> v = less([0.10, 0.12], 0.5, names=("error", "chance"))
    >>> v.held, v.status
    (True, 'held')
    >>> v.evidence
    'error = 0.11 ± 0.0141, chance = 0.5; needs chance − error > 0 on every seed'
    >>> Verdict(None, "needs 100 seeds").status
    'not tested'
    """

    held: bool | None
    evidence: str

    @property
    def status(self) -> str:
        """``"held"``, ``"not held"`` or ``"not tested"``."""
        return NOT_TESTED if self.held is None else HELD if self.held else NOT_HELD


@dataclass(frozen=True)
class Claim:
    """One of the paper's claims.

    Attributes
    ----------
    name : str
        Short identifier (the key in the results' ``claims``).
    description : str
        The claim in words, in the paper's direction, as the report prints it.
    check : callable or None
        ``check(runs) -> Verdict`` on the reproduction's
        :class:`~neurodyn.reproduce.runs.Runs`; ``None`` for a claim that cannot be
        tested at this scale.
    threshold : str
        Why the check's threshold is what it is (required for a checked claim).
    untested : str or None
        Why the claim cannot be tested at this scale (exactly when ``check`` is None).

    Examples
    --------
    A claim checked on the runs, and one that cannot be tested at this scale; calling a
    claim on a :class:`~neurodyn.reproduce.runs.Runs` gives its verdict:

    >>> from neurodyn.reproduce.runs import Runs
    >>> runs = Runs([{"acc": 0.93}, {"acc": 0.95}, {"acc": 0.91}], seeds=[0, 1, 2])
    >>> learned = Claim(
    ...     "learned", "the network learns the task",
    ...     lambda runs: greater(runs.values(lambda r: r["acc"]), 0.5,
    ...                          names=("accuracy", "chance")),
    ...     threshold="0.5 is chance for two choices")
    >>> learned(runs).status
    'held'
    >>> scaling = Claim("scaling", "accuracy grows with size", None,
    ...                 untested="needs networks of 10 000 units")
    >>> scaling(runs).evidence
    'not tested at this scale: needs networks of 10 000 units'
    """

    name: str
    description: str
    check: Callable[..., Verdict] | None
    threshold: str = ""
    untested: str | None = None

    def __post_init__(self):
        if (self.check is None) == (self.untested is None):
            raise ValueError(
                f"claim {self.name!r}: give either check (a claim tested on the run) or "
                "untested (why it cannot be tested at this scale), not both or neither"
            )
        if self.check is not None and not self.threshold.strip():
            raise ValueError(f"claim {self.name!r}: threshold must say why the check is what it is")

    def __call__(self, runs) -> Verdict:
        """The verdict on ``runs`` (not tested: the reason, never a pass)."""
        if self.check is None:
            return Verdict(None, f"not tested at this scale: {self.untested}")
        verdict = self.check(runs)
        if not isinstance(verdict, Verdict) or verdict.held is None:
            raise TypeError(f"claim {self.name!r}: check must return a Verdict that held or not")
        return verdict


def _no_spread(x: np.ndarray) -> bool:
    """All values equal up to rounding."""
    return bool(np.ptp(x) <= 1e-12 * max(1.0, float(np.max(np.abs(x)))))


def _fmt(x: np.ndarray, spec: str) -> str:
    x = np.asarray(x, dtype=float).reshape(-1)
    if x.size == 1 or (np.all(np.isfinite(x)) and _no_spread(x)):  # one seed, or a constant
        return format(float(x[0]), spec)
    return f"{format(float(np.mean(x)), spec)} ± {format(float(np.std(x, ddof=1)), spec)}"


def greater(
    a,
    b=0.0,
    *,
    margin: float = 0.0,
    names: tuple[str, str] = ("a", "b"),
    spec: str = ".3g",
    alpha: float = ALPHA,
) -> Verdict:
    """Whether ``a`` exceeds ``b`` by more than ``margin``, across seeds (module docstring).

    Parameters
    ----------
    a : array_like, shape (n_seeds,)
        The measured values, one per seed.
    b : float or array_like, shape (n_seeds,)
        A constant, or the compared condition's values from the same seeds (paired).
    margin : float
        The difference that must be exceeded (the paper's effect size, a chance gap).
    names : (str, str)
        How the evidence names ``a`` and ``b``.
    spec : str
        Number format of the evidence.
    alpha : float
        Level of the one-sided test (three seeds or more).

    Returns
    -------
    Verdict

    Examples
    --------
    Multi-head against single-head accuracy over three paired seeds, with the
    paper's effect size of 0.05 as margin:

    >>> v = greater([0.92, 0.95, 0.90], [0.80, 0.82, 0.79], margin=0.05,
    ...             names=("multi", "single"))
    >>> v.held
    True
    >>> print(v.evidence)
    multi = 0.923 ± 0.0252, single = 0.803 ± 0.0153; needs multi − single > 0.05: one-sided t-test over 3 seeds, p = 0.0034
    """
    return _compare(a, b, 1.0, margin, names, spec, alpha)


def less(
    a,
    b=0.0,
    *,
    margin: float = 0.0,
    names: tuple[str, str] = ("a", "b"),
    spec: str = ".3g",
    alpha: float = ALPHA,
) -> Verdict:
    """Whether ``a`` lies below ``b`` by more than ``margin`` (:func:`greater` reversed).

    Parameters
    ----------
    a : array_like, shape (n_seeds,)
        The measured values, one per seed.
    b : float or array_like, shape (n_seeds,)
        A constant, or the compared condition's values from the same seeds (paired).
    margin : float
        How far below ``b`` ``a`` must lie.
    names : (str, str)
        How the evidence names ``a`` and ``b``.
    spec : str
        Number format of the evidence.
    alpha : float
        Level of the one-sided test (three seeds or more).

    Returns
    -------
    Verdict

    Examples
    --------
    A test error against chance (0.5), on two seeds: both must be below:

    >>> v = less([0.10, 0.12], 0.5, names=("error", "chance"))
    >>> v.held, v.evidence.endswith("on every seed")
    (True, True)
    >>> less([0.10, float("nan")], 0.5).evidence
    'a = nan ± nan, b = 0.5: undefined on 1 of 2 seeds'
    """
    return _compare(a, b, -1.0, margin, names, spec, alpha)


def _compare(a, b, sign: float, margin: float, names, spec: str, alpha: float) -> Verdict:
    """Decide ``sign·(a − b) > margin`` across seeds; the evidence shows a and b as measured."""
    a = np.atleast_1d(np.asarray(a, dtype=float))
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"a must hold one value per seed, got shape {a.shape}")
    b = np.broadcast_to(np.asarray(b, dtype=float), a.shape)
    d = sign * (a - b) - margin
    first, second = names if sign > 0 else names[::-1]
    shown = f"{names[0]} = {_fmt(a, spec)}, {names[1]} = {_fmt(b, spec)}"
    need = f"needs {first} − {second} > {margin:{spec}}"
    bad = ~np.isfinite(d)
    if bad.any():
        return Verdict(False, f"{shown}: undefined on {int(bad.sum())} of {a.size} seeds")
    n = a.size
    if n < 3:
        rule = "on every seed" if n == 2 else "(one seed)"
        return Verdict(bool(np.all(d > 0)), f"{shown}; {need} {rule}")
    if _no_spread(d):
        # No spread beyond rounding: the t statistic is ±inf or undefined (and SciPy
        # warns of cancellation); the sign of the difference decides.
        p = 0.0 if np.mean(d) > 0 else 1.0
    else:
        p = float(stats.ttest_1samp(d, 0.0, alternative="greater").pvalue)
    held = bool(np.mean(d) > 0 and p < alpha)
    return Verdict(held, f"{shown}; {need}: one-sided t-test over {n} seeds, p = {p:.2g}")


def all_hold(*verdicts: Verdict) -> Verdict:
    """A claim made of several parts holds when every part does.

    Parameters
    ----------
    *verdicts : Verdict
        The parts' verdicts.

    Returns
    -------
    Verdict
        Held when every part held; the evidence joins the parts'.

    Examples
    --------
    >>> v = all_hold(greater([0.9], 0.5, names=("accuracy", "chance")),
    ...              less([0.2], 0.1, names=("error", "bound")))
    >>> v.held
    False
    >>> print(v.evidence)
    accuracy = 0.9, chance = 0.5; needs accuracy − chance > 0 (one seed); and error = 0.2, bound = 0.1; needs bound − error > 0 (one seed)
    """
    held = all(v.held for v in verdicts)
    return Verdict(held, "; and ".join(v.evidence for v in verdicts))


def count_line(outcomes: Mapping[str, Mapping]) -> str:
    """``"5 of 7 claims held"`` (plus how many were not tested at this scale).

    Parameters
    ----------
    outcomes : mapping of str to mapping
        Claim name → outcome with a ``status`` (``"held"``, ``"not held"`` or
        ``"not tested"``), as :meth:`~neurodyn.reproduce.harness.Reproduction.check_claims`
        returns them.

    Returns
    -------
    str

    Examples
    --------
    >>> count_line({"learned": {"status": "held"}, "clusters": {"status": "not held"},
    ...             "scaling": {"status": "not tested"}})
    '1 of 2 claims held; 1 not tested at this scale'
    """
    statuses = [o["status"] for o in outcomes.values()]
    tested = [s for s in statuses if s != NOT_TESTED]
    line = f"{sum(s == HELD for s in tested)} of {len(tested)} claims held"
    untested = len(statuses) - len(tested)
    return line + (f"; {untested} not tested at this scale" if untested else "")
