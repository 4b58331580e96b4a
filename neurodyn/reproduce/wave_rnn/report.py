"""The wave-RNN reproduction's table, summary and figure (:mod:`neurodyn.reproduce.wave_rnn`).

Every "ours" cell is computed from the runs (mean ± standard deviation over seeds); every
paper cell reads :data:`~neurodyn.reproduce.wave_rnn.claims.PAPER`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from ...io.tables import table_cell
from ...plotting.waves import (
    plot_circulant_spectrum,
    plot_decoding,
    plot_space_time,
    plot_wave_spectrum,
)
from ..runs import Measured, Runs
from .claims import PAPER, SOLVED_MSE, _at, _drop, _steps_ratio, wave_power

if TYPE_CHECKING:  # the configuration's module imports this one
    from . import WaveReproductionConfig

__all__ = ["HEADER", "OURS", "figure", "rows", "summary"]

# -- the table -------------------------------------------------------------------------------
HEADER = ("quantity", "wRNN (ours)", "iRNN (ours)", "wRNN (paper)", "iRNN (paper)")
OURS = ("wRNN (ours)", "iRNN (ours)")
_MODEL = "{model}"  # the place of the network's name in a path of _pair


def _pair(runs: Runs, *path: str, missing: str = "not measured", spec: str = ".3g") -> list:
    """The wRNN and iRNN cells of ``results[path...]``, ``_MODEL`` in ``path`` standing for
    ``"wrnn"`` and ``"irnn"``."""
    return [
        runs.cell(_at(*(model if k == _MODEL else k for k in path)), spec, missing=missing)
        for model in ("wrnn", "irnn")
    ]


def _none(runs: Runs, why: str) -> Measured:
    """An "ours" cell for a quantity that does not exist for that network."""
    return runs.cell(lambda r: None, missing=why)


def _paper(value, note: str = "") -> str:
    """A paper cell from :data:`PAPER`: the value (``None``: never reached) and a note."""
    text = "never (×)" if value is None else table_cell(value)
    return f"{text} ({note})" if note else text


_NO_RING = "the iRNN has no ring kernel"
_RATIO = "a ratio of the two networks, in the wRNN column"
_NOT_REPORTED = "not reported"
_OUR_MEASURE = "n/a (a measure of this reproduction)"


def _adding_rows(runs: Runs, cfg: WaveReproductionConfig) -> list[list]:
    pa, t = PAPER["adding"], cfg.adding_length
    never = f"never reached MSE ≤ {SOLVED_MSE} within {cfg.n_steps} steps"
    paper_ratio = float(np.log10(pa["irnn_solved_at"][0] / pa["wrnn_solved_at"][0]))
    return [
        [
            f"adding T={t}: parameters",
            *_pair(runs, "adding", "params", _MODEL),
            pa["params"]["wrnn"],
            pa["params"]["irnn"],
        ],
        [
            f"adding T={t}: steps to MSE ≤ {SOLVED_MSE} (budget {cfg.n_steps})",
            *_pair(runs, "adding", "models", _MODEL, "solved_at", missing=never),
            _paper(pa["wrnn_solved_at"][0], "T=100, Table 1"),
            _paper(pa["irnn_solved_at"][0], "T=100, Table 1"),
        ],
        [
            f"adding T={t}: final validation MSE",
            *_pair(runs, "adding", "models", _MODEL, "final_mse"),
            _paper(pa["wrnn_mse"][0], "T=100, up to 60k steps"),
            _paper(pa["irnn_mse"][0], "T=100"),
        ],
        [
            f"adding T={t}: log10(iRNN / wRNN steps to solve), iRNN unsolved = budget",
            runs.cell(_steps_ratio, ".2f", missing="the wRNN never solved it"),
            _none(runs, _RATIO),
            _paper(round(paper_ratio, 2), "T=100, Table 1"),
            f"n/a ({_RATIO})",
        ],
    ]


def _copy_rows(runs: Runs, cfg: WaveReproductionConfig) -> list[list]:
    pc, loss = PAPER["copy"], PAPER["copy"]["loss"]
    note = f"T={pc['T']}, Table 4"
    ablation = [
        runs.cell(_at("copy", "models", m, "cross_entropy_per_batch"))
        for m in ("wrnn_no_shift_init", "irnn_shift_init")
    ]
    return [
        [
            f"copy delay={cfg.copy_delay}: parameters",
            *_pair(runs, "copy", "params", _MODEL),
            pc["params"]["wrnn"],
            pc["params"]["irnn"],
        ],
        [
            f"copy delay={cfg.copy_delay}: final cross-entropy",
            *_pair(runs, "copy", "models", _MODEL, "final_cross_entropy"),
            f"{_NOT_REPORTED} (the paper logs it / 128)",
            f"{_NOT_REPORTED} (the paper logs it / 128)",
        ],
        [
            "copy: cross-entropy / batch size (the paper's logged loss)",
            *_pair(runs, "copy", "models", _MODEL, "cross_entropy_per_batch"),
            _paper(loss["wrnn"], note),
            _paper(loss["irnn"], note),
        ],
        [
            "copy: orders of magnitude between the iRNN's and the wRNN's loss",
            runs.cell(_at("copy", "orders_of_magnitude"), ".2f"),
            _none(runs, _RATIO),
            f"> {pc['orders_lower']} (Fig. 3)",
            f"n/a ({_RATIO})",
        ],
        [
            "copy: recall accuracy",
            *_pair(runs, "copy", "models", _MODEL, "recall_accuracy"),
            _NOT_REPORTED,
            _NOT_REPORTED,
        ],
        [
            "copy ablation, CE / batch size: wRNN without shift init; iRNN with U = Σ",
            *ablation,
            _paper(loss["wrnn_no_shift_init"], note),
            _paper(loss["irnn_shift_init"], note),
        ],
    ]


def _trained_wave_rows(runs: Runs, cfg: WaveReproductionConfig) -> list[list]:
    digits = ("waves", "digits_trained", _MODEL)
    copy = ("waves", "copy_trained")
    return [
        [
            "trained on sequential digits: wave speed (neurons/step)",
            *_pair(runs, *digits, "speed"),
            _paper(PAPER["waves"]["speed"], "trained sMNIST models"),
            "n/a (no waves)",
        ],
        [
            "trained on sequential digits: velocity resolution of the spectrum",
            *_pair(runs, *digits, "speed_resolution"),
            _OUR_MEASURE,
            _OUR_MEASURE,
        ],
        [
            "trained on sequential digits: fraction of power on the best line (any speed)",
            *_pair(runs, *digits, "diagonal_fraction"),
            _NOT_REPORTED,
            _NOT_REPORTED,
        ],
        [
            "trained on sequential digits: wave power (the same if that line moves, else 0)",
            *(runs.cell(wave_power(m)) for m in ("wrnn", "irnn")),
            _NOT_REPORTED,
            _NOT_REPORTED,
        ],
        [
            "trained on sequential digits: the same fraction by chance",
            *_pair(runs, *digits, "chance_fraction"),
            _OUR_MEASURE,
            _OUR_MEASURE,
        ],
        [
            "trained on copy: wave speed (neurons/step)",
            runs.cell(_at(*copy, "speed")),
            _none(runs, "not analysed"),
            _NOT_REPORTED,
            _NOT_REPORTED,
        ],
        [
            "trained on copy: fraction of power on the wave line",
            runs.cell(_at(*copy, "diagonal_fraction")),
            _none(runs, "not analysed"),
            _NOT_REPORTED,
            _NOT_REPORTED,
        ],
        [
            "spectral radius of the kernel after copy training",
            runs.cell(_at("waves", "spectral_radius_trained")),
            _none(runs, _NO_RING),
            _NOT_REPORTED,
            "n/a",
        ],
    ]


def _init_wave_rows(runs: Runs, cfg: WaveReproductionConfig) -> list[list]:
    modulus = [runs.cell(lambda r, k=k: r["waves"]["eigen_init_modulus"][k], ".6g") for k in (0, 1)]
    return [
        [
            "at initialisation (true by construction): wave speed under random input",
            runs.cell(_at("waves", "init", "speed")),
            _none(runs, _NO_RING),
            "1 (the shift kernel, §3)",
            "n/a",
        ],
        [
            "at initialisation (true by construction): fraction of power on the wave line",
            runs.cell(_at("waves", "init", "diagonal_fraction")),
            _none(runs, _NO_RING),
            _NOT_REPORTED,
            "n/a",
        ],
        [
            "at initialisation (true by construction): |eigenvalues| of the kernel, min / max",
            Measured.join(" / ", modulus),
            _none(runs, _NO_RING),
            "1 (a permutation, §3)",
            "n/a",
        ],
    ]


def _memory_rows(runs: Runs, cfg: WaveReproductionConfig) -> list[list]:
    lags = f"lags 0..{cfg.adding_length // 2}"
    return [
        [
            f"adding-trained: mean held-out R² of the past value input, {lags}",
            *_pair(runs, "decoding", _MODEL, "mean_r2"),
            _OUR_MEASURE,
            _OUR_MEASURE,
        ],
        [
            "adding-trained: longest lag (steps) decoded with R² ≥ 0.5",
            *_pair(runs, "decoding", _MODEL, "longest_lag_r2_0.5", missing="R² < 0.5 at lag 0"),
            _OUR_MEASURE,
            _OUR_MEASURE,
        ],
    ]


def _digit_rows(runs: Runs, cfg: WaveReproductionConfig) -> list[list]:
    pd = PAPER["digits"]
    return [
        [
            "8x8 digits, one pixel per step (64 steps, "
            f"{cfg.digits_steps} iterations): test accuracy",
            *_pair(runs, "digits", "sequential", "models", _MODEL, "test_accuracy"),
            _paper(pd["smnist"]["wrnn"], "sMNIST, 784 steps, Table 2"),
            _paper(pd["smnist"]["irnn"], "sMNIST, Table 2"),
        ],
        [
            "8x8 digits: parameters",
            *_pair(runs, "digits", "sequential", "params", _MODEL),
            pd["params"]["wrnn"],
            pd["params"]["irnn"],
        ],
        [
            "the same with a fixed seeded pixel permutation: test accuracy",
            *_pair(runs, "digits", "permuted", "models", _MODEL, "test_accuracy"),
            _paper(pd["psmnist"]["wrnn"], "psMNIST, Table 2"),
            _paper(pd["psmnist"]["irnn"], "psMNIST, Table 2"),
        ],
        [
            "accuracy lost to the permutation",
            *(runs.cell(_drop(m)) for m in ("wrnn", "irnn")),
            _paper(round(pd["smnist"]["wrnn"] - pd["psmnist"]["wrnn"], 3), "Table 2"),
            _paper(round(pd["smnist"]["irnn"] - pd["psmnist"]["irnn"], 3), "Table 2"),
        ],
    ]


def rows(runs: Runs, cfg: WaveReproductionConfig) -> list[list]:
    """The report's table: adding, copy, the waves, memory and digits, wRNN beside iRNN.

    Parameters
    ----------
    runs : Runs
        The runs of every seed (:class:`~neurodyn.reproduce.runs.Runs`).
    cfg : WaveReproductionConfig
        The sizes of the run.

    Returns
    -------
    list of list
        One row per quantity, in :data:`HEADER` order.

    Examples
    --------
    One seed at the smallest sizes (every network of 4 neurons per channel, trained for
    two steps: the pipeline, not the science), then the report's table:

    >>> from neurodyn.reproduce.wave_rnn.report import HEADER, rows
    >>> from neurodyn.reproduce.runs import Runs
    >>> from neurodyn.reproduce.wave_rnn import WAVE_RNN, WaveReproductionConfig
    >>> cfg = WaveReproductionConfig(
    ...     seeds=1, adding_length=10, adding_neurons=4, adding_channels=1, copy_delay=2,
    ...     copy_neurons=4, copy_channels=1, copy_pool=16, n_steps=2, batch_size=8,
    ...     val_every=1, n_validation=8, wave_trials=2, decode_trials=8, digits_neurons=4,
    ...     digits_channels=1, digits_steps=2)
    >>> runs = Runs([WAVE_RNN.run(cfg, seed=0, progress=False, device="cpu")], seeds=[0])
    >>> table = rows(runs, cfg)
    >>> len(table), all(len(row) == len(HEADER) for row in table)
    (27, True)
    >>> table[0][0], table[0][3]
    ('adding T=10: parameters', '10.29k (n = 100, c = 27)')
    """
    builders = (
        _adding_rows,
        _copy_rows,
        _trained_wave_rows,
        _init_wave_rows,
        _memory_rows,
        _digit_rows,
    )
    return [row for build in builders for row in build(runs, cfg)]


# -- summary and figure ----------------------------------------------------------------------
def summary(runs: Runs, cfg: WaveReproductionConfig) -> str:
    """The paragraph under the report's title: the sizes of this run beside the paper's.

    Parameters
    ----------
    runs : Runs
        The runs of every seed (:class:`~neurodyn.reproduce.runs.Runs`).
    cfg : WaveReproductionConfig
        The sizes of the run.

    Returns
    -------
    str

    Examples
    --------
    One seed at the smallest sizes (every network of 4 neurons per channel, trained for
    two steps: the pipeline, not the science), then the report's opening paragraph:

    >>> from neurodyn.reproduce.wave_rnn.report import summary
    >>> from neurodyn.reproduce.runs import Runs
    >>> from neurodyn.reproduce.wave_rnn import WAVE_RNN, WaveReproductionConfig
    >>> cfg = WaveReproductionConfig(
    ...     seeds=1, adding_length=10, adding_neurons=4, adding_channels=1, copy_delay=2,
    ...     copy_neurons=4, copy_channels=1, copy_pool=16, n_steps=2, batch_size=8,
    ...     val_every=1, n_validation=8, wave_trials=2, decode_trials=8, digits_neurons=4,
    ...     digits_channels=1, digits_steps=2)
    >>> runs = Runs([WAVE_RNN.run(cfg, seed=0, progress=False, device="cpu")], seeds=[0])
    >>> print(summary(runs, cfg).split(". ")[0])
    Adding: T = 10, wRNN n = 4, c = 1
    """
    return (
        f"Adding: T = {cfg.adding_length}, wRNN n = {cfg.adding_neurons}, c = "
        f"{cfg.adding_channels}. Copy: delay {cfg.copy_delay}, wRNN n = {cfg.copy_neurons}, "
        f"c = {cfg.copy_channels}, with Table 4's two ablations. Sequential 8x8 digits: wRNN "
        f"n = {cfg.digits_neurons}, c = {cfg.digits_channels}, {cfg.digits_steps} iterations. "
        f"iRNN sizes matched in parameters; {cfg.n_steps} Adam iterations on adding and copy, "
        f"batch {cfg.batch_size}, one learning rate per task. The paper: up to 60 000 "
        "iterations, batch 128, grid-searched learning rates, 28x28 MNIST. Wave claims are "
        "checked on the trained networks; what holds at initialisation by construction is "
        "listed in the table only."
    )


_COLORS = {"wrnn": "C0", "irnn": "C3"}
_LABELS = {"wrnn": "wRNN", "irnn": "iRNN"}


def _plot_curves(ax, r: Mapping) -> None:
    """Validation curves of adding (ax[0]) and copy (ax[1]) of one seed."""
    add, cp = r["adding"], r["copy"]
    for name in ("wrnn", "irnn"):
        for a, part in zip(ax, (add, cp), strict=True):
            c = part["models"][name]["curve"]
            label = f"{_LABELS[name]} ({part['params'][name]} params)"
            a.semilogy(c["step"], c["val_loss"], color=_COLORS[name], label=label)
    ax[0].axhline(SOLVED_MSE, color="0.5", ls="--", lw=1, label=f"solved ({SOLVED_MSE})")
    ax[0].set(xlabel="training step", ylabel="validation MSE")
    pa = PAPER["adding"]
    ax[0].set_title(
        f"Adding, T = {add['length']}\n(paper, T = 100: solved at {pa['wrnn_solved_at'][0]} "
        f"vs {pa['irnn_solved_at'][0]} steps)",
        fontsize="medium",
    )
    ax[1].set(xlabel="training step", ylabel="validation cross-entropy")
    ax[1].set_title(
        f"Copy, delay {cp['delay']}\n(paper: > {PAPER['copy']['orders_lower']} orders of "
        "magnitude lower)",
        fontsize="medium",
    )
    for a in ax:
        a.legend(fontsize="small")


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _claims_text(ax, runs: Runs, outcomes: Mapping[str, str]) -> None:
    held = {"held": "yes", "not held": "NO ", "not tested": " - "}
    cp = runs.values(_at("copy", "orders_of_magnitude"))
    speed = runs.values(_at("waves", "digits_trained", "wrnn", "speed"))
    lines = [
        f"{len(runs)} seed(s) from {runs.seeds[0]}; the panels show seed {runs.seeds[0]}",
        f"copy: {np.mean(cp):.1f} orders of magnitude (paper > {PAPER['copy']['orders_lower']})",
        f"trained wRNN wave speed: {np.mean(speed):.2f} neurons/step",
        "",
        "the paper's claims on this run:",
        *[f"  {held[v]}  {_shorten(k.split(' (')[0], 58)}" for k, v in outcomes.items()],
    ]
    ax.axis("off")
    text = "\n".join(lines)
    ax.text(0, 1, text, va="top", fontsize="xx-small", family="monospace", transform=ax.transAxes)


def figure(runs: Runs, outcomes: Mapping[str, str], cfg: WaveReproductionConfig) -> Figure:
    """The report's figure: training curves, space-time waves, spectra, decoding and claims.

    Parameters
    ----------
    runs : Runs
        The runs of every seed (:class:`~neurodyn.reproduce.runs.Runs`).
    outcomes : mapping of str to str
        Each claim's description mapped to its status.
    cfg : WaveReproductionConfig
        The sizes of the run.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    One seed at the smallest sizes (every network of 4 neurons per channel, trained for
    two steps: the pipeline, not the science), its claims checked as the harness checks
    them, then the figure (a plain Figure, not held by pyplot: ``fig.savefig(path)``
    writes it and nothing needs closing):

    >>> from neurodyn.reproduce.wave_rnn.report import figure
    >>> from neurodyn.reproduce.runs import Runs
    >>> from neurodyn.reproduce.wave_rnn import WAVE_RNN, WaveReproductionConfig
    >>> cfg = WaveReproductionConfig(
    ...     seeds=1, adding_length=10, adding_neurons=4, adding_channels=1, copy_delay=2,
    ...     copy_neurons=4, copy_channels=1, copy_pool=16, n_steps=2, batch_size=8,
    ...     val_every=1, n_validation=8, wave_trials=2, decode_trials=8, digits_neurons=4,
    ...     digits_channels=1, digits_steps=2)
    >>> runs = Runs([WAVE_RNN.run(cfg, seed=0, progress=False, device="cpu")], seeds=[0])
    >>> outcomes = {c["description"]: c["status"]
    ...             for c in WAVE_RNN.check_claims(runs).values()}
    >>> fig = figure(runs, outcomes, cfg)
    >>> len(fig.axes), fig.axes[2].get_title().splitlines()[0]
    (8, 'wRNN trained on sequential digits')
    """
    r = runs.first
    obj, dec = r["waves"]["_objects"], r["decoding"]
    fig = Figure(figsize=(16, 8), layout="constrained")
    ax = fig.subplots(2, 4)
    _plot_curves(ax[0, :2], r)
    plot_space_time(obj["st_wrnn"], ax=ax[0, 2])
    ax[0, 2].set_title("wRNN trained on sequential digits\n(channel 0)", fontsize="medium")
    plot_space_time(obj["st_irnn"], ax=ax[0, 3])
    ax[0, 3].set_title(
        "iRNN trained on sequential digits\n(units in index order)", fontsize="medium"
    )
    spec = obj["spec_wrnn"]
    plot_wave_spectrum(spec, ax=ax[1, 0])
    ax[1, 0].set_title(
        f"trained wRNN, 2-D FFT: v = {spec.velocity:+.2f}, "
        f"{100 * spec.diagonal_fraction:.0f}% on the line",
        fontsize="medium",
    )
    plot_circulant_spectrum(obj["cs_init"], ax=ax[1, 1], label="shift init", ms=6)
    plot_circulant_spectrum(obj["cs_trained"], ax=ax[1, 1], label="after copy training")
    plot_decoding(
        [dec["wrnn"]["_result"], dec["irnn"]["_result"]], labels=["wRNN", "iRNN"], ax=ax[1, 2]
    )
    ax[1, 2].set_title("adding-trained networks:\ndecoding the past value", fontsize="medium")
    _claims_text(ax[1, 3], runs, outcomes)
    return fig
