r"""The sine-wave generator's numbers and claims (:mod:`neurodyn.reproduce.sussillo2013`).

:data:`PAPER` holds what Sussillo & Barak (2013) report of their sine-wave generator,
each with its source; :data:`CLAIMS` the claims checked on every seed's trained
network, with the bars below. Each bar was set, with its reason, before the full run.

Per seed, a claim about "the levels" reads the trained network at every input level;
a median over levels counts a level where the quantity is missing (no fixed point with
an unstable complex pair, no limit cycle) as an infinite error, so missing levels
cannot make a median look better. Medians are then compared with their bar across
seeds (:func:`~neurodyn.reproduce.claims.less`: a one-sided t-test over three or more
seeds, every seed below two).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..claims import Claim, Verdict, all_hold, greater, less
from ..runs import Runs

__all__ = [
    "ACCURACY",
    "AGREEMENT",
    "CLAIMS",
    "CYCLE_BAR",
    "LINEAR_BAR",
    "PAPER",
    "RANK_BAR",
    "RESOLVED",
    "TRIVIAL_TOL",
    "cycle_error",
    "linear_error",
    "rank_correlation",
    "relative_errors",
]

#: Fraction of the levels the trained network must generate within the task's tolerance
#: (normalised error 0.2 on a trial of the training length).
ACCURACY = 0.9
#: Bar of the median relative error of the linear prediction, ``|Im λ − ω_j| / ω_j``. The
#: linearization is exact only at the Hopf bifurcation: at a distance γ from it (the
#: pair's growth rate) the normal form's cycle turns at ω − bγ, b its twist, of order one
#: in a generic network, so the relative error bγ/ω is small where γ ≪ ω and not at
#: the slowest levels. The paper gives no number for "near the diagonal" (Fig. 7); we
#: ask for a median within a fifth of the target. The best constant (0.44 for the 51
#: levels) has a median error of 0.26, so the median alone would barely tell a
#: prediction that ignores the input: :data:`RANK_BAR` does.
LINEAR_BAR = 0.2
#: The linear prediction must order the levels: Spearman's rank correlation with the
#: targets above this (1 is a monotonic relation; random orderings of 51 levels exceed
#: 0.46 with probability 0.1 %).
RANK_BAR = 0.9
#: Bar of the median relative error of the limit cycle's frequency 2π/T. The network is
#: trained as its Euler map (Δt = τ/10); the ODE analysed differs from it at first
#: order in Δt, by about αω/2 of the frequency (1.75 % at the middle level ω = 0.35,
#: α = 0.1). 5 % leaves room for that and still asks the cycle to be the oscillation
#: the network was trained to make.
CYCLE_BAR = 0.05
#: Largest ``|μ_trivial − 1|`` of a converged cycle: RK4 with 400 steps per period carries
#: the flow direction around the orbit back onto itself to O(h⁴); 1e-3 is far above
#: that and far below a multiplier that would decide stability.
TRIVIAL_TOL = 1e-3
#: Relative agreement of the Lyapunov exponents with the Floquet multipliers: the top
#: exponent within this fraction of the attraction rate ρ = ln|μ₂|/T of 0, and the
#: second within this fraction of ρ. The finite-time estimate of the zero exponent is
#: ln(max‖f‖ / min‖f‖) / T_avg at worst (the tangent along the orbit is the flow), a
#: few thousandths per τ over the averaging time; a tenth of ρ separates "zero" from
#: "attracting" by an order of magnitude.
AGREEMENT = 0.1
#: A Floquet multiplier is resolved when it is this many times the error of the trivial
#: one (the integration's error in the monodromy matrix, which perturbs every
#: multiplier by about as much). A strongly attracting cycle's μ₂ (e^{-0.3 × 63} ≈ 6e-9
#: for an attraction rate of 0.3/τ at period 63 τ) lies below that error; its ln|μ₂|/T
#: is then only a bound, above the true rate, and the second exponent is held to lie
#: below it.
RESOLVED = 100.0

PAPER = {
    "citation": (
        "Sussillo & Barak, Opening the black box: low-dimensional dynamics in "
        "high-dimensional recurrent neural networks, Neural Comput. 25(3):626-649 (2013)"
    ),
    "levels": {
        "value": "51 levels, input u_j = j/51 + 0.25 (j = 1 ... 51)",
        "source": "the sine-wave generator section",
    },
    "frequencies": {
        "value": "ω_j from 0.1 to 0.6 radians per time unit",
        "source": "the sine-wave generator section",
    },
    "fixed_points": {
        "value": "for every input, a fixed point near the centre of the oscillation whose "
        "linearization has an unstable complex-conjugate pair",
        "source": "the sine-wave generator section, Fig. 7",
    },
    "linear_frequency": {
        "value": "the pair's imaginary part predicts ω_j well: linear-prediction frequency "
        "against target close to the diagonal",
        "source": "Fig. 7",
    },
}

_SEEDS_TEST = "one-sided t-test across seeds at 5 % (every seed with fewer than 3)"


def _levels(r, key: str) -> np.ndarray:
    return np.asarray(r["levels"][key], dtype=float)


def relative_errors(estimate, target) -> np.ndarray:
    r""":math:`|\hat\omega - \omega| / \omega` per level; a missing estimate (NaN) is an
    infinite error.

    Parameters
    ----------
    estimate : array_like (n_levels,)
        Estimated frequencies :math:`\hat\omega` (NaN where there is none).
    target : array_like (n_levels,)
        The levels' target frequencies :math:`\omega > 0`.

    Returns
    -------
    array (n_levels,)

    Examples
    --------
    >>> relative_errors([0.22, float("nan")], [0.2, 0.4]).round(3).tolist()
    [0.1, inf]
    """
    estimate, target = np.asarray(estimate, dtype=float), np.asarray(target, dtype=float)
    err = np.abs(estimate - target) / target
    return np.where(np.isfinite(err), err, np.inf)


def linear_error(r) -> float:
    """Median relative error of the linear prediction over one seed's levels.

    Parameters
    ----------
    r : mapping
        One seed's results; ``r["levels"]`` holds ``omega`` (the targets),
        ``omega_linear`` (the fixed points' predictions) and ``omega_cycle`` (the
        limit cycles' frequencies), one per level, in radians per time unit.

    Returns
    -------
    float

    Examples
    --------
    Errors 0.1, 0.05, ∞ (no prediction at the third level) and 0.05:

    >>> r = {"levels": {"level": [0, 1, 2, 3],
    ...                 "omega": [0.2, 0.4, 0.6, 0.8],
    ...                 "omega_linear": [0.22, 0.38, float("nan"), 0.84],
    ...                 "omega_cycle": [0.2, 0.41, 0.6, 0.8]}}
    >>> round(linear_error(r), 3)
    0.075
    """
    return float(np.median(relative_errors(_levels(r, "omega_linear"), _levels(r, "omega"))))


def cycle_error(r) -> float:
    """Median relative error of the limit cycles' frequencies over one seed's levels.

    Parameters
    ----------
    r : mapping
        One seed's results; ``r["levels"]`` holds ``omega`` (the targets),
        ``omega_linear`` (the fixed points' predictions) and ``omega_cycle`` (the
        limit cycles' frequencies), one per level, in radians per time unit.

    Returns
    -------
    float

    Examples
    --------
    >>> r = {"levels": {"level": [0, 1, 2, 3],
    ...                 "omega": [0.2, 0.4, 0.6, 0.8],
    ...                 "omega_linear": [0.22, 0.38, float("nan"), 0.84],
    ...                 "omega_cycle": [0.2, 0.41, 0.6, 0.8]}}
    >>> round(cycle_error(r), 4)
    0.0
    """
    return float(np.median(relative_errors(_levels(r, "omega_cycle"), _levels(r, "omega"))))


def rank_correlation(r) -> float:
    """Spearman's correlation of the linear prediction with the targets (NaN with fewer
    than three levels that have a prediction, or a constant one).

    Parameters
    ----------
    r : mapping
        One seed's results; ``r["levels"]`` holds ``omega`` (the targets),
        ``omega_linear`` (the fixed points' predictions) and ``omega_cycle`` (the
        limit cycles' frequencies), one per level, in radians per time unit.

    Returns
    -------
    float

    Examples
    --------
    The three predictions rise with the targets, in the same order:

    >>> r = {"levels": {"level": [0, 1, 2, 3],
    ...                 "omega": [0.2, 0.4, 0.6, 0.8],
    ...                 "omega_linear": [0.22, 0.38, float("nan"), 0.84],
    ...                 "omega_cycle": [0.2, 0.41, 0.6, 0.8]}}
    >>> rank_correlation(r)
    1.0
    """
    est, target = _levels(r, "omega_linear"), _levels(r, "omega")
    ok = np.isfinite(est)
    if ok.sum() < 3 or np.ptp(est[ok]) == 0:
        return math.nan
    return float(stats.spearmanr(est[ok], target[ok]).statistic)


def _every(runs: Runs, ok, what: str, among=None) -> Verdict:
    """Held when ``ok(r)`` (bool per level) holds at every level of every seed, or at
    every level where ``among(r)`` holds (and at one at least)."""
    shown, held = [], True
    for s, r in zip(runs.seeds, runs, strict=True):
        level = np.asarray(r["levels"]["level"])
        where = np.ones(len(level), bool) if among is None else np.asarray(among(r), bool)
        good = np.asarray(ok(r), dtype=bool)[where]
        held &= bool(good.all() and good.size)
        bad = level[where][~good].tolist()
        shown.append(f"seed {s}: {int(good.sum())} of {good.size}"
                     + (f" (not at levels {bad})" if bad else ""))  # fmt: skip
    scope = "every level" if among is None else "every such level, and one at least"
    return Verdict(held, f"{what}: " + "; ".join(shown) + f" (needs {scope} on every seed)")


def task_learned(runs: Runs) -> Verdict:
    """The network generates the sine of each level within the task's tolerance."""
    return greater(
        runs.values(lambda r: r["accuracy"]),
        ACCURACY,
        margin=-1e-12,  # "at least the bar": a seed at exactly 0.9 holds
        names=("fraction of levels generated", "bar"),
    )


def fixed_point_every_level(runs: Runs) -> Verdict:
    """At every level, a fixed point with an unstable complex pair inside the cycle."""
    return _every(
        runs,
        lambda r: (_levels(r, "n_with_pair") > 0) & (np.abs(_levels(r, "winding")) == 1),
        "levels with a fixed point with an unstable complex pair that the cycle winds around once",
    )


def linear_frequency(runs: Runs) -> Verdict:
    """Im λ of the unstable pair predicts ω_j: small median error, and it orders the levels."""
    return all_hold(
        less(runs.values(linear_error), LINEAR_BAR, names=("median |Im λ − ω_j| / ω_j", "bar")),
        greater(
            runs.values(rank_correlation),
            RANK_BAR,
            names=("Spearman correlation of Im λ with ω_j", "bar"),
        ),
    )


def stable_cycles(runs: Runs) -> Verdict:
    """At every level, a converged limit cycle whose Floquet multipliers make it stable."""
    return _every(
        runs,
        lambda r: (
            np.asarray(r["levels"]["cycle_stable"], dtype=bool)
            & (_levels(r, "trivial_error") <= TRIVIAL_TOL)
        ),
        f"stable cycles (one multiplier within {TRIVIAL_TOL:g} of 1, the others inside "
        "the unit circle)",
    )


def cycle_frequency(runs: Runs) -> Verdict:
    """The limit cycles oscillate at the targets' frequencies."""
    return less(runs.values(cycle_error), CYCLE_BAR,
                names=("median |2π/T − ω_j| / ω_j", "bar"))  # fmt: skip


def _agree(r) -> np.ndarray:
    """Per level: the top exponent is 0 and the second ln|μ₂|/T, each within
    AGREEMENT × |ln|μ₂|/T| (the second only below it where μ₂ is not resolved)."""
    rho = _levels(r, "floquet_rate")
    top, second = _levels(r, "lyapunov_top"), _levels(r, "lyapunov_second")
    band = AGREEMENT * np.abs(rho)
    resolved = _levels(r, "max_multiplier") >= RESOLVED * _levels(r, "trivial_error")
    second_ok = np.where(resolved, np.abs(second - rho) <= band, second <= rho + band)
    return (np.abs(top) <= band) & second_ok


def analyses_agree(runs: Runs) -> Verdict:
    """On every stable cycle, Benettin's exponents agree with the Floquet multipliers."""
    return _every(
        runs,
        _agree,
        f"stable cycles whose top Lyapunov exponent is 0 and second is ln|μ₂|/T, each within "
        f"{AGREEMENT:g} of ln|μ₂|/T",
        among=lambda r: np.asarray(r["levels"]["cycle_stable"], dtype=bool),
    )


CLAIMS = (
    Claim(
        "task_learned",
        "The trained network generates sin(ω_j t) at its input levels",
        task_learned,
        threshold=f"at least {ACCURACY:g} of the levels within the task's tolerance "
        "(normalised error 0.2) on a trial of the training length; " + _SEEDS_TEST,
    ),
    Claim(
        "fixed_point_every_level",
        "For every input level there is a fixed point, inside the oscillation, whose "
        "linearization has an unstable complex-conjugate pair (Fig. 7)",
        fixed_point_every_level,
        threshold="every level of every seed: a root with an eigenvalue pair γ ± iω, "
        "γ > 1e-4 per ms, that the limit cycle winds around once in its principal plane",
    ),
    Claim(
        "linear_frequency",
        "The imaginary part of the unstable pair predicts the target frequency ω_j "
        "(linear-prediction frequency against target near the diagonal, Fig. 7)",
        linear_frequency,
        threshold=f"median relative error below {LINEAR_BAR:g} (a first-order prediction "
        "away from the Hopf bifurcation; see LINEAR_BAR) and Spearman correlation above "
        f"{RANK_BAR:g} (it orders the levels); " + _SEEDS_TEST,
    ),
    Claim(
        "stable_cycles",
        "The oscillation at every level is a stable limit cycle (Floquet multipliers: one "
        "at 1, the others inside the unit circle)",
        stable_cycles,
        threshold=f"Newton shooting converged, |μ_trivial − 1| ≤ {TRIVIAL_TOL:g} (RK4 "
        "error) and every other |μ| < 1, at every level of every seed",
    ),
    Claim(
        "cycle_frequency",
        "The limit cycles' periods are the targets': 2π/T = ω_j",
        cycle_frequency,
        threshold=f"median relative error below {CYCLE_BAR:g} (the Euler map trained vs "
        "the ODE analysed differ by about αω/2; see CYCLE_BAR); " + _SEEDS_TEST,
    ),
    Claim(
        "analyses_agree",
        "The Lyapunov exponents and the Floquet multipliers describe the same stable "
        "cycle: top exponent 0, no positive one, second = ln|μ₂|/T",
        analyses_agree,
        threshold=f"both within {AGREEMENT:g} × |ln|μ₂|/T| on every stable cycle of every seed "
        "(an order of magnitude between 'zero' and the attraction rate); where μ₂ is below "
        f"{RESOLVED:g} × the trivial multiplier's error, the second exponent below that bound",
    ),
)
