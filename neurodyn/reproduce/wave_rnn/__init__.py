"""Reproduce Keller et al. (ICLR 2024) at CPU scale (``neurodyn reproduce wave-rnn``).

A :class:`~neurodyn.rnn_models.WaveRNN` (shift and single-source initialisation)
and an :class:`~neurodyn.rnn_models.IRNN` with a matched number of parameters are
trained from the same seed under the same iteration budget, batch, optimiser and
learning rate on

* the **adding** problem (sequence length T), scoring the first validation at which
  the MSE is at most 0.05 (the paper's "solved") and the final MSE;
* the **copy** problem (10 symbols, ``delay`` blank steps, the delimiter, 10 recall
  steps), scoring the final cross-entropy (reported as cross-entropy: the paper's
  logged copy "loss" is most likely the cross-entropy divided again by the batch
  size, research/models.md §2.3) and the recall accuracy on fresh trials; the
  ablation of Table 4 trains two more networks on it: the wRNN without the shift
  initialisation of its kernel, and the iRNN with :math:`U = \\Sigma` (the shift);
* **sequential digits**, the CPU-sized stand-in for sequential and permuted
  sequential MNIST (Table 2): scikit-learn's 8x8 digits fed one pixel per step (64
  steps), plain and with one fixed pixel permutation drawn from the seed, scoring
  the accuracy on held-out images.

Then the wave analyses (:mod:`neurodyn.analysis.waves`) of the **trained** networks:
the space-time image and 2-D FFT of the hidden state of the digit-trained wRNN and
iRNN (wave speed, fraction of power on the wave line; the iRNN's units in index
order, a ring it was never given), the same for the copy-trained wRNN, the circulant
spectrum of the kernel after training, and how well past inputs are decoded from the
states of the adding-trained networks by lag. What holds at initialisation by
construction (a permutation kernel: eigenvalues on the unit circle, waves of speed 1)
is reported in the table for comparison, never as one of the paper's claims.

Every paper value lives in :data:`PAPER` with its source, and the claims in
:data:`CLAIMS` (both in :mod:`neurodyn.reproduce.wave_rnn.claims`); the table and the
figure (:mod:`neurodyn.reproduce.wave_rnn.report`) read them. Every measured number is
the mean ± standard deviation over the seeds, and the claims are decided across seeds
(:mod:`neurodyn.reproduce.claims`).

Differences from the paper, all for CPU scale: 4 channels for adding (paper 27), a
64-neuron ring for copy (paper 100), T = 100 for adding and a delay of 30 for copy,
1000 iterations instead of up to 60 000, one learning rate (no grid search), copy
trials drawn from a fixed pool of 4096 sequences (generating fresh trials per step
would cost more than training on them), 8x8 digits (64 steps, 400 iterations) instead
of 28x28 MNIST (784 steps, 120 epochs), and 3 seeds. One seed of the full run costs
about 200 s of one core (3 seeds: 10 minutes of CPU time, measured with one thread; 27
minutes of wall time on two cores shared with other work), the budget of a full
reproduction (10-15 minutes); more iterations or seeds did not fit it.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass

import numpy as np
import torch

from ...analysis.waves import circulant_spectrum, decode_past_inputs, space_time, wave_spectrum
from ...rnn_models.irnn import IRNN, irnn_parameter_count, matched_irnn_size
from ...rnn_models.wave import WaveRNN, wave_parameter_count
from ...seeding import make_rng
from ...tasks.digits import SequentialDigits
from ...tasks.sequence import Adding, Copy
from ...train import fit
from ...train.losses import masked_cross_entropy
from ..harness import Reproduction, Sizes, Table
from .claims import CLAIMS, PAPER, SOLVED_MSE
from .report import HEADER, OURS, figure, rows, summary

__all__ = [
    "CLAIMS",
    "PAPER",
    "SOLVED_MSE",
    "WAVE_RNN",
    "WaveReproductionConfig",
    "reproduce_wave_rnn",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WaveReproductionConfig(Sizes):
    """Sizes and budget of the reproduction (defaults: the full run, about 10 minutes of
    one core for its 3 seeds); validated at construction.

    The wRNN of each task has ``*_neurons`` neurons per channel and ``*_channels``
    channels; its iRNN baseline is sized to the same number of parameters.

    Parameters
    ----------
    seeds : int
        Seeds of the run (each seeds both networks' initialisation, data and analyses).
    adding_length : int
        Sequence length :math:`T` of the adding problem.
    adding_neurons, adding_channels : int
        The adding task's wRNN: neurons per channel and channels.
    adding_lr : float
        Adam's learning rate on the adding task.
    copy_delay : int
        Blank steps of the copy task.
    copy_neurons, copy_channels : int
        The copy task's wRNN: neurons per channel and channels.
    copy_lr : float
        Adam's learning rate on the copy task.
    copy_pool : int
        Fixed training sequences of the copy task.
    n_steps : int
        Training steps on the adding and copy tasks.
    batch_size : int
        Training batch size.
    clip_grad : float
        Gradient-norm clipping bound of every training.
    val_every : int
        Training steps between validations.
    n_validation : int
        Validation trials.
    wave_trials : int
        Trials whose activity gives the space-time plots and wave spectra.
    decode_trials : int
        Adding-problem trials for decoding past inputs from the states.
    digits_neurons, digits_channels : int
        The sequential-digits wRNN: neurons per channel and channels.
    digits_steps : int
        Training steps on sequential digits.
    digits_lr : float
        Adam's learning rate on sequential digits.

    Examples
    --------
    >>> quick = WaveReproductionConfig.quick()
    >>> quick.seeds, quick.adding_length, quick.copy_delay, quick.n_steps
    (1, 40, 10, 500)
    >>> WaveReproductionConfig(seeds=1, n_steps=200).adding_length
    100
    """

    seeds: int = 3
    adding_length: int = 100
    adding_neurons: int = 100
    adding_channels: int = 4
    adding_lr: float = 2e-3
    copy_delay: int = 30
    copy_neurons: int = 64
    copy_channels: int = 6
    copy_lr: float = 2e-3
    copy_pool: int = 4096
    n_steps: int = 1000
    batch_size: int = 128
    clip_grad: float = 1.0
    val_every: int = 25
    n_validation: int = 256
    wave_trials: int = 16
    decode_trials: int = 128
    digits_neurons: int = 64
    digits_channels: int = 4
    digits_steps: int = 400
    digits_lr: float = 3e-3

    @classmethod
    def quick(cls) -> WaveReproductionConfig:
        """One seed, about 30-60 s on 2 cores (the tests use it)."""
        return cls(
            seeds=1,
            adding_length=40,
            adding_neurons=48,
            adding_channels=2,
            adding_lr=3e-3,
            copy_delay=10,
            copy_neurons=32,
            copy_channels=4,
            copy_lr=3e-3,
            copy_pool=1024,
            n_steps=500,
            batch_size=64,
            val_every=20,
            n_validation=128,
            wave_trials=8,
            decode_trials=64,
            digits_neurons=32,
            digits_steps=100,
        )


# -- one seed's run ------------------------------------------------------------------------
def _models(n_input: int, n_output: int, n_neurons: int, n_channels: int, seed: int):
    n_params = wave_parameter_count(n_input, n_output, n_neurons, n_channels)
    n_irnn = matched_irnn_size(n_params, n_input, n_output)
    wave = WaveRNN(n_input, n_output, n_neurons=n_neurons, n_channels=n_channels, seed=seed)
    irnn = IRNN(n_input, n_irnn, n_output, seed=seed)
    params = {"wrnn": n_params, "irnn": irnn_parameter_count(n_input, n_irnn, n_output)}
    return {"wrnn": wave, "irnn": irnn}, params, n_irnn


def _curve(result) -> dict:
    return {
        "step": [int(r["step"]) for r in result.history],
        "val_loss": [float(r["val_loss"]) for r in result.history],
    }


def _adding(cfg: WaveReproductionConfig, seed: int, progress: bool, device) -> tuple[dict, dict]:
    task = Adding(length=cfg.adding_length)
    models, params, n_irnn = _models(2, 1, cfg.adding_neurons, cfg.adding_channels, seed)
    out = {
        "length": cfg.adding_length,
        "budget": cfg.n_steps,
        "params": params,
        "irnn_hidden": n_irnn,
        "models": {},
    }
    for name, model in models.items():
        logger.info("adding T=%d: training the %s", cfg.adding_length, name)
        start = time.monotonic()
        res = fit(
            model,
            task,
            n_steps=cfg.n_steps,
            batch_size=cfg.batch_size,
            lr=cfg.adding_lr,
            clip_grad=cfg.clip_grad,
            val_every=cfg.val_every,
            n_validation=cfg.n_validation,
            seed=seed,
            device=device,
            progress=progress,
        )
        model.cpu()  # the analyses that follow run on the CPU
        curve = _curve(res)
        pairs = zip(curve["step"], curve["val_loss"], strict=True)
        out["models"][name] = {
            "solved_at": next((s for s, v in pairs if v <= SOLVED_MSE), None),
            "final_mse": curve["val_loss"][-1],
            "best_mse": min(curve["val_loss"]),
            "curve": curve,
            "train_s": round(time.monotonic() - start, 1),
        }
    return out, models


def _copy_models(task: Copy, cfg: WaveReproductionConfig, seed: int):
    """The wRNN and the matched iRNN, and Table 4's ablations of their initialisations."""
    models, params, n_irnn = _models(
        task.n_inputs, task.n_outputs, cfg.copy_neurons, cfg.copy_channels, seed
    )
    kw = {"n_neurons": cfg.copy_neurons, "n_channels": cfg.copy_channels, "seed": seed}
    models["wrnn_no_shift_init"] = WaveRNN(task.n_inputs, task.n_outputs, shift_init=False, **kw)
    models["irnn_shift_init"] = IRNN(task.n_inputs, n_irnn, task.n_outputs, init="shift", seed=seed)
    params["wrnn_no_shift_init"], params["irnn_shift_init"] = params["wrnn"], params["irnn"]
    return models, params, n_irnn


def _copy(cfg: WaveReproductionConfig, seed: int, progress: bool, device) -> tuple[dict, dict]:
    task = Copy(delay=cfg.copy_delay)
    pool = task.batch(cfg.copy_pool, seed=make_rng(seed, "data", 7)).to_xarray()
    test = task.batch(cfg.n_validation, seed=make_rng(seed, "eval", 7))
    models, params, n_irnn = _copy_models(task, cfg, seed)
    out = {"delay": cfg.copy_delay, "params": params, "irnn_hidden": n_irnn, "models": {}}
    for name, model in models.items():
        logger.info("copy delay=%d: training the %s", cfg.copy_delay, name)
        start = time.monotonic()
        res = fit(
            model,
            pool,
            loss="cross_entropy",
            n_steps=cfg.n_steps,
            batch_size=cfg.batch_size,
            lr=cfg.copy_lr,
            clip_grad=cfg.clip_grad,
            val_every=cfg.val_every,
            val_fraction=0.125,
            seed=seed,
            device=device,
            progress=progress,
        )
        model.cpu()  # the analyses that follow run on the CPU
        with torch.no_grad():
            y = model(torch.from_numpy(test.inputs)).outputs
            ce = masked_cross_entropy(
                y, torch.from_numpy(test.targets), torch.from_numpy(test.mask)
            )
        out["models"][name] = {
            "final_cross_entropy": float(ce),
            "cross_entropy_per_batch": float(ce) / cfg.batch_size,
            "recall_accuracy": float(np.mean(task.evaluate(y.numpy(), test)["recall_accuracy"])),
            "curve": _curve(res),
            "train_s": round(time.monotonic() - start, 1),
        }
    ce = {name: m["final_cross_entropy"] for name, m in out["models"].items()}
    out["orders_of_magnitude"] = _orders(ce["irnn"], ce["wrnn"])
    out["orders_shift_init_wrnn"] = _orders(ce["wrnn_no_shift_init"], ce["wrnn"])
    out["orders_shift_init_irnn"] = _orders(ce["irnn"], ce["irnn_shift_init"])
    return out, {"wrnn": models["wrnn"], "test": test}


def _orders(higher: float, lower: float) -> float:
    """log10(higher / lower): how many orders of magnitude ``lower`` lies below ``higher``."""
    return float(np.log10(max(higher, 1e-300) / max(lower, 1e-300)))


def _spectrum(states, n_channels: int, skip: int = 0) -> tuple[dict, object, object]:
    """Speed and power on the wave line of ``states``, with the velocity resolution.

    The resolution: a velocity error :math:`\\delta v` moves the line by
    :math:`\\delta v\\,|k_x| \\le \\delta v / 2` in temporal frequency, so velocities
    within :math:`2 b / T` of each other (band half-width :math:`b/T`) share the band at
    every spatial frequency and cannot be told apart; a dominant line within the
    resolution of :math:`v = 0` is a standing pattern, not a traveling wave.
    """
    st = space_time(states, n_channels)
    spec = wave_spectrum(st, skip=skip)
    resolution = 2.0 * spec.bandwidth / (st.images.shape[2] - skip)
    summary = {
        "velocity": spec.velocity,
        "speed": spec.speed,
        "diagonal_fraction": spec.diagonal_fraction,
        "chance_fraction": spec.chance_fraction,
        "speed_resolution": resolution,
    }
    return summary, st, spec


def _waves(cfg: WaveReproductionConfig, seed: int, copy: dict, digits: dict) -> dict:
    n, c = cfg.copy_neurons, cfg.copy_channels
    # For comparison only: an untrained wRNN (the copy network's initialisation) driven
    # by random input moves its activity one neuron per step, by construction.
    init = WaveRNN(10, 9, n_neurons=n, n_channels=c, seed=seed)
    rng = make_rng(seed, "analysis", 1)
    x = torch.as_tensor(rng.random((cfg.wave_trials, 3 * n, 10)), dtype=torch.float32)
    with torch.no_grad():
        h_init = init(x).states
        h_copy = copy["wrnn"](torch.from_numpy(copy["test"].inputs[: cfg.wave_trials])).states
        h_digits = {k: m(digits["inputs"]).states for k, m in digits["models"].items()}
    s_init, st_init, spec_init = _spectrum(h_init, c, skip=n)
    s_copy, _, _ = _spectrum(h_copy, c)
    s_wrnn, st_wrnn, spec_wrnn = _spectrum(h_digits["wrnn"], cfg.digits_channels)
    s_irnn, st_irnn, _ = _spectrum(h_digits["irnn"], 1)  # its units in index order
    cs_init = circulant_spectrum(init)
    cs_trained = circulant_spectrum(copy["wrnn"])
    mod = np.abs(cs_init.eigenvalues)
    return {
        "init": s_init,
        "copy_trained": s_copy,
        "digits_trained": {"wrnn": s_wrnn, "irnn": s_irnn},
        "eigen_init_modulus": [float(mod.min()), float(mod.max())],
        "spectral_radius_trained": cs_trained.spectral_radius,
        "_objects": {
            "st_init": st_init,
            "spec_init": spec_init,
            "st_wrnn": st_wrnn,
            "spec_wrnn": spec_wrnn,
            "st_irnn": st_irnn,
            "cs_init": cs_init,
            "cs_trained": cs_trained,
        },
    }


def _decoding(cfg: WaveReproductionConfig, seed: int, adding_models: dict) -> dict:
    batch = Adding(length=cfg.adding_length).batch(
        cfg.decode_trials, seed=make_rng(seed, "eval", 8)
    )
    # Lags up to half the sequence: beyond, too few (state, past input) pairs remain
    # per trial for a held-out estimate with as many features as units.
    lags = range(0, cfg.adding_length // 2 + 1, max(1, cfg.adding_length // 20))
    out = {}
    for name, model in adding_models.items():
        with torch.no_grad():
            h = model(torch.from_numpy(batch.inputs)).states
        # Decode the value channel (the one that carries information at every step).
        res = decode_past_inputs(h, batch.inputs[:, :, :1], lags=lags, ridge=1e-2, seed=seed)
        k = res.memory(0.5)
        out[name] = {
            "lags": res.lags.tolist(),
            "r2": res.r2.tolist(),
            "mean_r2": float(np.mean(res.r2)),
            "longest_lag_r2_0.5": int(res.lags[k - 1]) if k else None,
            "_result": res,
        }
    return out


def _digits(cfg: WaveReproductionConfig, seed: int, progress: bool, device) -> tuple[dict, dict]:
    """Sequential and permuted-sequential 8x8 digits (the CPU-sized s/psMNIST), one pixel a
    step; also the sequential networks and test inputs for the wave analysis."""
    out, kept = {}, {}
    for permuted in (False, True):
        kw = {"per_step": "pixel", "permuted": permuted, "permutation_seed": seed}
        task = SequentialDigits(split="train", **kw)
        test = SequentialDigits(split="test", **kw).full_batch()
        models, params, n_irnn = _models(
            task.n_inputs, task.n_outputs, cfg.digits_neurons, cfg.digits_channels, seed
        )
        key = "permuted" if permuted else "sequential"
        out[key] = {"params": params, "irnn_hidden": n_irnn, "models": {}}
        for name, model in models.items():
            logger.info("%s digits: training the %s", key, name)
            start = time.monotonic()
            fit(
                model,
                task,
                n_steps=cfg.digits_steps,
                batch_size=cfg.batch_size,
                lr=cfg.digits_lr,
                clip_grad=cfg.clip_grad,
                val_every=cfg.val_every,
                n_validation=cfg.n_validation,
                seed=seed,
                device=device,
                progress=progress,
            )
            model.cpu()
            with torch.no_grad():
                y = model(torch.from_numpy(test.inputs)).outputs.numpy()
            acc = float(np.mean(task.evaluate(y, test)["correct"]))
            out[key]["models"][name] = {
                "test_accuracy": acc,
                "train_s": round(time.monotonic() - start, 1),
            }
        if not permuted:
            inputs = torch.from_numpy(test.inputs[: cfg.wave_trials])
            kept = {"models": models, "inputs": inputs}
    return out, kept


def _run(cfg: WaveReproductionConfig, *, seed: int, progress: bool, device) -> dict:
    add, adding_models = _adding(cfg, seed, progress, device)
    cp, copy_trained = _copy(cfg, seed, progress, device)
    digits, digits_trained = _digits(cfg, seed, progress, device)
    return {
        "adding": add,
        "copy": cp,
        "digits": digits,
        "waves": _waves(cfg, seed, copy_trained, digits_trained),
        "decoding": _decoding(cfg, seed, adding_models),
    }


def _work(cfg: WaveReproductionConfig) -> float:
    """A training step: about 2 operations per weight per trial, largest network."""
    n_weights = max(
        wave_parameter_count(2, 1, cfg.adding_neurons, cfg.adding_channels),
        wave_parameter_count(10, 9, cfg.copy_neurons, cfg.copy_channels),
    )
    return 2.0 * cfg.batch_size * n_weights


#: The reproduction (``neurodyn reproduce wave-rnn``).
WAVE_RNN = Reproduction(
    name="wave-rnn",
    stem="wave_rnn",
    title="Wave-RNN vs iRNN (Keller, Muller, Sejnowski & Welling, ICLR 2024)",
    citation="Keller, Muller, Sejnowski & Welling (2024). Traveling waves encode the recent "
    "past and enhance sequence learning. ICLR 2024.",
    paper=PAPER,
    config_type=WaveReproductionConfig,
    full=WaveReproductionConfig(),
    quick=WaveReproductionConfig.quick(),
    run=_run,
    work=_work,
    summary=summary,
    tables=(Table(HEADER, rows, ours=OURS, csv=""),),
    claims=CLAIMS,
    figure=figure,
)


def reproduce_wave_rnn(
    out_dir: str | os.PathLike,
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    config: WaveReproductionConfig | None = None,
    device="auto",
    threads: int | None = None,
) -> dict:
    """Train wRNN and iRNN on adding, copy and sequential digits over seeds, analyse their
    waves, check the paper's claims and write the figure and tables.

    Parameters
    ----------
    out_dir : path-like
        Folder for ``wave_rnn.png``, ``wave_rnn.csv``, ``wave_rnn.md``, ``wave_rnn.json``
        (each written atomically; the folder is created) and ``seeds/`` (each seed's
        results, so an interrupted run resumes).
    quick : bool
        A small run (one seed, 30-60 s on 2 cores; the tests use it) instead of the full
        one (3 seeds, about 10 minutes of one core).
    seed : int
        The first seed: seeds ``seed, seed + 1, ...`` each seed the initialisations (the
        same for both networks), data and analyses.
    progress : bool
        Show training progress bars.
    config : WaveReproductionConfig, optional
        Every size explicitly (overrides ``quick``).
    device : str or torch.device
        Where the networks train (``"auto"``: a GPU when present); the analyses run on
        the CPU.
    threads : int, optional
        CPU threads for the whole reproduction (default: :mod:`neurodyn.threads`'
        policy for a training step's work, about 2 operations per weight per trial).

    Returns
    -------
    dict
        ``runs`` (one dict per seed: ``adding``, ``copy``, ``digits``, ``waves``,
        ``decoding``, every number measured), ``claims`` (name → ``status`` held / not
        held / not tested, ``evidence``, ``description``, ``threshold``), ``claims_line``,
        ``seeds``, ``config``, ``paper``, ``seconds`` and ``files`` (see
        :class:`~neurodyn.reproduce.harness.Reproduction`).

    Examples
    --------
    Even the quick run trains four networks for 30-60 s, so this shows what it runs;
    ``reproduce_wave_rnn("out/waves", quick=True)`` runs it.

    >>> quick = WAVE_RNN.config(quick=True)
    >>> quick == WaveReproductionConfig.quick(), quick.seeds
    (True, 1)
    >>> len(WAVE_RNN.claims), WAVE_RNN.claims[0].name
    (16, 'wrnn_solves_adding')
    """
    return WAVE_RNN(
        out_dir,
        quick=quick,
        seed=seed,
        progress=progress,
        device=device,
        threads=threads,
        config=config,
    )
