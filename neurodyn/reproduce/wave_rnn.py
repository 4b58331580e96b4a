"""Reproduce Keller et al. (ICLR 2024) at CPU scale (``neurodyn reproduce wave-rnn``).

A :class:`~neurodyn.rnn_models.WaveRNN` (shift and single-source initialisation)
and an :class:`~neurodyn.rnn_models.IRNN` with a matched number of parameters are
trained under the same iteration budget, batch, optimiser and learning rate on

* the **adding** problem (sequence length T), scoring the first validation at which
  the MSE is at most 0.05 (the paper's "solved") and the final MSE;
* the **copy** problem (10 symbols, ``delay`` blank steps, the delimiter, 10 recall
  steps), scoring the final cross-entropy (reported as cross-entropy: the paper's
  logged copy "loss" is most likely the cross-entropy divided again by the batch
  size, research/models.md §2.3) and the recall accuracy on fresh trials;
* **sequential digits**, the CPU-sized stand-in for sequential and permuted
  sequential MNIST (Table 2): scikit-learn's 8x8 digits fed one pixel per step (64
  steps), plain and with one fixed pixel permutation drawn from the seed, scoring
  the accuracy on held-out images.

Then the wave analyses (:mod:`neurodyn.analysis.waves`): the space-time image and
2-D FFT of an untrained wRNN driven by random input (velocity, fraction of power on
the wave diagonal), the same for the copy-trained network, the circulant spectrum of
the kernel at initialisation and after training, and the decodability of past
inputs from the states of the adding-trained networks as a function of lag.

The paper's numbers (Tables 1, 2 and 4, Fig. 3) are written beside ours in a table
(CSV and Markdown), with a figure and a JSON file of every number.

Differences from the paper, all for CPU scale: 4 channels for adding (paper 27), a
64-neuron ring for copy (paper 100), T = 100 for adding and a delay of 30 for copy,
1000 iterations instead of up to 60 000, one learning rate (no grid search), copy
trials drawn from a fixed pool of 4096 sequences (generating fresh trials per step
would cost more than training on them), and 8x8 digits (64 steps, 400 iterations)
instead of 28x28 MNIST (784 steps, 120 epochs).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure

from ..analysis.waves import circulant_spectrum, decode_past_inputs, space_time, wave_spectrum
from ..io.tables import table_cell
from ..plotting.waves import (
    plot_circulant_spectrum,
    plot_decoding,
    plot_space_time,
    plot_wave_spectrum,
)
from ..rnn_models.irnn import IRNN, irnn_parameter_count, matched_irnn_size
from ..rnn_models.wave import WaveRNN, wave_parameter_count
from ..seeding import make_rng
from ..tasks.digits import SequentialDigits
from ..tasks.sequence import Adding, Copy
from ..train import fit
from ..train.losses import masked_cross_entropy
from .harness import Claim, Reproduction, Sizes, Table

__all__ = ["PAPER", "WAVE_RNN", "WaveReproductionConfig", "reproduce_wave_rnn"]


def _fmt(x, spec=".3g") -> str:
    # "×": a criterion never reached (the iRNN on adding) or an undefined value.
    return table_cell(x, spec, missing="×")


logger = logging.getLogger(__name__)

#: Solved criterion of the adding problem (the paper's).
SOLVED_MSE = 0.05

#: The paper's numbers (research/models.md §2.5).
PAPER = {
    "adding": {
        "T": [100, 200, 400, 700, 1000],
        "irnn_mse": [1e-5, 4e-5, 1e-4, 0.16, 0.16],
        "irnn_solved_at": [14_000, 22_000, 30_000, None, None],
        "wrnn_mse": [4e-6, 2e-5, 4e-5, 8e-5, 6e-5],
        "wrnn_solved_at": [300, 1_000, 1_000, 3_000, 2_000],
        "params": {"wrnn": "10.29k (n=100, c=27)", "irnn": "10.3k (n=100)"},
    },
    "copy": {
        "claim": "wRNN reaches >5 orders of magnitude lower loss than iRNN (n=100 and n=625) "
        "for T = 0, 30, 80 (Fig. 3)",
        "table4_T30": {"wrnn": 8e-11, "irnn_n100": 2e-3, "irnn_shift_init": 2e-7},
        "loss_note": "logged as cross-entropy divided by the batch size (128)",
        "params": {"wrnn": "12.7k (n=100, c=6)", "irnn": "12.2k (n=100)"},
    },
    "digits": {
        "note": "Table 2, test accuracy on sMNIST / psMNIST (28x28, 784 steps); ours: 8x8 digits",
        "wrnn_16c": {"smnist": 0.976, "psmnist": 0.967, "params": "47k (n=256, c=16)"},
        "irnn": {"smnist": 0.985, "psmnist": 0.925, "params": "68k (n=256)"},
    },
    "waves": {
        "speed": "≈ 1 neuron per step (2-D FFT power on the diagonal, trained sMNIST models)",
        "eigenvalues_at_init": "on the unit circle (each channel a cyclic shift)",
        "memory": "traveling waves encode the recent past",
    },
}


@dataclass(frozen=True)
class WaveReproductionConfig(Sizes):
    """Sizes and budget of the reproduction (defaults: the full run, a few minutes);
    validated at construction."""

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
        """About 15–30 s on 2 cores (the tests use it)."""
        return cls(
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
    out = {"length": cfg.adding_length, "params": params, "irnn_hidden": n_irnn, "models": {}}
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
        solved = next(
            (s for s, v in zip(curve["step"], curve["val_loss"], strict=True) if v <= SOLVED_MSE),
            None,
        )
        out["models"][name] = {
            "solved_at": solved,
            "final_mse": curve["val_loss"][-1],
            "best_mse": min(curve["val_loss"]),
            "curve": curve,
            "train_s": round(time.monotonic() - start, 1),
        }
    return out, models


def _copy(cfg: WaveReproductionConfig, seed: int, progress: bool, device) -> tuple[dict, dict]:
    task = Copy(delay=cfg.copy_delay)
    pool = task.batch(cfg.copy_pool, seed=make_rng(seed, "data", 7)).to_xarray()
    test = task.batch(cfg.n_validation, seed=make_rng(seed, "eval", 7))
    models, params, n_irnn = _models(
        task.n_inputs, task.n_outputs, cfg.copy_neurons, cfg.copy_channels, seed
    )
    init_kernel = models["wrnn"].kernel.detach().clone()
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
        ev = task.evaluate(y.numpy(), test)
        out["models"][name] = {
            "final_cross_entropy": float(ce),
            "cross_entropy_per_batch": float(ce) / cfg.batch_size,
            "recall_accuracy": float(np.mean(ev["recall_accuracy"])),
            "curve": _curve(res),
            "train_s": round(time.monotonic() - start, 1),
        }
    ratio = out["models"]["irnn"]["final_cross_entropy"] / max(
        out["models"]["wrnn"]["final_cross_entropy"], 1e-300
    )
    out["orders_of_magnitude"] = float(np.log10(ratio))
    return out, {"models": models, "init_kernel": init_kernel, "test": test}


def _waves(cfg: WaveReproductionConfig, seed: int, trained: dict) -> dict:
    n, c = cfg.copy_neurons, cfg.copy_channels
    # An untrained wRNN (the copy network's initialisation) driven by random input:
    # its activity moves one neuron per step from the source around the ring.
    init = WaveRNN(10, 9, n_neurons=n, n_channels=c, seed=seed)
    rng = make_rng(seed, "analysis", 1)
    x = torch.as_tensor(rng.random((cfg.wave_trials, 3 * n, 10)), dtype=torch.float32)
    with torch.no_grad():
        h_init = init(x).states
    st_init = space_time(h_init, c)
    spec_init = wave_spectrum(st_init, skip=n)
    wave = trained["models"]["wrnn"]
    with torch.no_grad():
        h_trained = wave(torch.from_numpy(trained["test"].inputs[: cfg.wave_trials])).states
    st_trained = space_time(h_trained, c)
    spec_trained = wave_spectrum(st_trained)
    cs_init = circulant_spectrum(trained["init_kernel"], n)
    cs_trained = circulant_spectrum(wave)
    mod = np.abs(cs_init.eigenvalues)
    return {
        "init": {
            "velocity": spec_init.velocity,
            "speed": spec_init.speed,
            "diagonal_fraction": spec_init.diagonal_fraction,
            "chance_fraction": spec_init.chance_fraction,
        },
        "trained": {
            "velocity": spec_trained.velocity,
            "speed": spec_trained.speed,
            "diagonal_fraction": spec_trained.diagonal_fraction,
            "chance_fraction": spec_trained.chance_fraction,
        },
        "eigen_init_modulus": [float(mod.min()), float(mod.max())],
        "spectral_radius_trained": cs_trained.spectral_radius,
        "_objects": {
            "st_init": st_init,
            "spec_init": spec_init,
            "st_trained": st_trained,
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
            "longest_lag_r2_0.5": int(res.lags[k - 1]) if k else None,
            "_result": res,
        }
    return out


def _digits(cfg: WaveReproductionConfig, seed: int, progress: bool, device) -> dict:
    """Sequential and permuted-sequential 8x8 digits (the CPU-sized s/psMNIST), one pixel a step."""
    out = {}
    for permuted in (False, True):
        kw = {"per_step": "pixel", "permuted": permuted, "permutation_seed": seed}
        task = SequentialDigits(split="train", **kw)
        test = SequentialDigits(split="test", **kw).full_batch()
        models, params, n_irnn = _models(task.n_inputs, task.n_outputs, cfg.digits_neurons,
                                         cfg.digits_channels, seed)  # fmt: skip
        key = "permuted" if permuted else "sequential"
        out[key] = {"params": params, "irnn_hidden": n_irnn, "models": {}}
        for name, model in models.items():
            logger.info("%s digits: training the %s", key, name)
            fit(model, task, n_steps=cfg.digits_steps, batch_size=cfg.batch_size,
                lr=cfg.digits_lr, clip_grad=cfg.clip_grad, val_every=cfg.val_every,
                n_validation=cfg.n_validation, seed=seed, device=device,
                progress=progress)  # fmt: skip
            model.cpu()
            with torch.no_grad():
                y = model(torch.from_numpy(test.inputs)).outputs.numpy()
            acc = float(np.mean(task.evaluate(y, test)["correct"]))
            out[key]["models"][name] = {"test_accuracy": acc}
    return out


def _adding_solved(r) -> bool:
    return r["adding"]["models"]["wrnn"]["solved_at"] is not None


def _adding_sooner(r) -> bool:
    w, i = r["adding"]["models"]["wrnn"]["solved_at"], r["adding"]["models"]["irnn"]["solved_at"]
    return w is not None and (i is None or 3 * w <= i)


def _copy_lower(r) -> bool:
    return r["copy"]["orders_of_magnitude"] >= 2


def _speed_one(r) -> bool:
    return abs(r["waves"]["init"]["speed"] - 1) <= 0.05


def _diagonal_power(r) -> bool:
    init = r["waves"]["init"]
    return init["diagonal_fraction"] >= 0.5 and init["diagonal_fraction"] >= 3 * init["chance_fraction"]


def _unit_circle(r) -> bool:
    return max(abs(m - 1) for m in r["waves"]["eigen_init_modulus"]) < 1e-5


def _permuted_digits(r) -> bool:
    # The paper: the wRNN learns much faster at first and barely minds the permutation.
    acc = r["digits"]["permuted"]["models"]
    return acc["wrnn"]["test_accuracy"] > acc["irnn"]["test_accuracy"]


CLAIMS = (
    Claim("wrnn_solves_adding", "wRNN solves adding", _adding_solved),
    Claim("wrnn_solves_adding_sooner",
          "wRNN solves adding far sooner than the iRNN (≥ 3× fewer steps, or iRNN never)",
          _adding_sooner),
    Claim("copy_loss_orders_lower",
          "copy cross-entropy at least 2 orders of magnitude lower for the wRNN", _copy_lower),
    Claim("wave_speed_one_at_init", "wave speed at initialisation ≈ 1 neuron/step", _speed_one),
    Claim("power_on_wave_diagonal",
          "power concentrated on the wave diagonal (≥ 50%, ≥ 3× chance)", _diagonal_power),
    Claim("eigenvalues_on_unit_circle",
          "kernel eigenvalues on the unit circle at initialisation", _unit_circle),
    Claim("wrnn_ahead_on_permuted_digits",
          "wRNN ahead on permuted digits after the same short budget", _permuted_digits),
)  # fmt: skip


_HEADER = ["quantity", "wRNN (ours)", "iRNN (ours)", "wRNN (paper)", "iRNN (paper)"]


def _rows(results, cfg) -> list[list[str]]:
    add, cp, waves = results["adding"], results["copy"], results["waves"]
    dec, dig = results["decoding"], results["digits"]
    aw, ai = add["models"]["wrnn"], add["models"]["irnn"]
    cw, ci = cp["models"]["wrnn"], cp["models"]["irnn"]
    pa, pc = PAPER["adding"], PAPER["copy"]
    budget = f" (budget {cfg.n_steps})"
    return [
        [
            f"adding T={add['length']}: parameters",
            _fmt(add["params"]["wrnn"]),
            _fmt(add["params"]["irnn"]),
            pa["params"]["wrnn"],
            pa["params"]["irnn"],
        ],
        [
            f"adding T={add['length']}: steps to MSE ≤ 0.05" + budget,
            _fmt(aw["solved_at"]),
            _fmt(ai["solved_at"]),
            "300 (T=100)",
            "14k (T=100)",
        ],
        [
            f"adding T={add['length']}: final validation MSE",
            _fmt(aw["final_mse"]),
            _fmt(ai["final_mse"]),
            "4e-06 (T=100, 60k steps)",
            "1e-05 (T=100, 60k steps)",
        ],
        [
            f"copy delay={cp['delay']}: parameters",
            _fmt(cp["params"]["wrnn"]),
            _fmt(cp["params"]["irnn"]),
            pc["params"]["wrnn"],
            pc["params"]["irnn"],
        ],
        [
            f"copy delay={cp['delay']}: final cross-entropy",
            _fmt(cw["final_cross_entropy"]),
            _fmt(ci["final_cross_entropy"]),
            "8e-11 (T=30, CE/128, 60k steps)",
            "2e-3 (T=30, CE/128)",
        ],
        [
            "copy: cross-entropy / batch size (the paper's logged quantity)",
            _fmt(cw["cross_entropy_per_batch"]),
            _fmt(ci["cross_entropy_per_batch"]),
            "8e-11",
            "2e-3",
        ],
        [
            "copy: orders of magnitude iRNN / wRNN loss",
            _fmt(cp["orders_of_magnitude"]),
            "",
            "> 5",
            "",
        ],
        ["copy: recall accuracy", _fmt(cw["recall_accuracy"]), _fmt(ci["recall_accuracy"]), "", ""],
        ["wave speed at init (neurons/step)", _fmt(waves["init"]["speed"]), "", "1", ""],
        [
            "power on the wave diagonal at init (chance)",
            f"{_fmt(waves['init']['diagonal_fraction'])} ({_fmt(waves['init']['chance_fraction'])})",
            "",
            "concentrated",
            "",
        ],
        [
            "wave speed after copy training (neurons/step)",
            _fmt(waves["trained"]["speed"]),
            "",
            "≈ 1 (sMNIST)",
            "",
        ],
        [
            "power on the diagonal after training (chance)",
            f"{_fmt(waves['trained']['diagonal_fraction'])} "
            f"({_fmt(waves['trained']['chance_fraction'])})",
            "",
            "",
            "",
        ],
        [
            "|eigenvalues| of the kernel at init (min–max)",
            "–".join(_fmt(m, ".6g") for m in waves["eigen_init_modulus"]),
            "",
            "1 (unit circle)",
            "",
        ],
        [
            "spectral radius of the kernel after copy training",
            _fmt(waves["spectral_radius_trained"]),
            "",
            "",
            "",
        ],
        [
            "adding: longest lag (steps) up to which the value input is decoded with R² ≥ 0.5",
            _fmt(dec["wrnn"]["longest_lag_r2_0.5"]),
            _fmt(dec["irnn"]["longest_lag_r2_0.5"]),
            "encodes the recent past",
            "",
        ],
        [
            "8x8 digits, one pixel per step (64 steps): test accuracy "
            f"({dig['sequential']['params']['wrnn']} / {dig['sequential']['params']['irnn']} params)",
            _fmt(dig["sequential"]["models"]["wrnn"]["test_accuracy"]),
            _fmt(dig["sequential"]["models"]["irnn"]["test_accuracy"]),
            "0.976 (sMNIST, 784 steps)",
            "0.985 (sMNIST)",
        ],
        [
            "the same with a fixed seeded pixel permutation: test accuracy",
            _fmt(dig["permuted"]["models"]["wrnn"]["test_accuracy"]),
            _fmt(dig["permuted"]["models"]["irnn"]["test_accuracy"]),
            "0.967 (psMNIST)",
            "0.925 (psMNIST)",
        ],
    ]


def _summary(results, cfg: WaveReproductionConfig, seed: int) -> str:
    return (
        f"neurodyn {results['neurodyn_version']}, seed {seed}. Adding: T = {cfg.adding_length}, "
        f"wRNN n = {cfg.adding_neurons}, c = {cfg.adding_channels}. Copy: delay "
        f"{cfg.copy_delay}, wRNN n = {cfg.copy_neurons}, c = {cfg.copy_channels}. iRNN sizes "
        f"matched in parameters. {cfg.n_steps} Adam steps each, batch {cfg.batch_size}. "
        "Paper: up to 60 000 steps, batch 128, grid-searched learning rates."
    )


def _figure(results, claims: dict, cfg) -> Figure:
    add, cp, waves, dec = (results[k] for k in ("adding", "copy", "waves", "decoding"))
    fig = Figure(figsize=(15, 8), layout="constrained")
    ax = fig.subplots(2, 4)
    colors = {"wrnn": "C0", "irnn": "C3"}
    labels = {"wrnn": "wRNN", "irnn": "iRNN"}
    for name in ("wrnn", "irnn"):
        c = add["models"][name]["curve"]
        ax[0, 0].semilogy(
            c["step"],
            c["val_loss"],
            color=colors[name],
            label=f"{labels[name]} ({add['params'][name]} params)",
        )
        c = cp["models"][name]["curve"]
        ax[0, 1].semilogy(
            c["step"],
            c["val_loss"],
            color=colors[name],
            label=f"{labels[name]} ({cp['params'][name]} params)",
        )
    ax[0, 0].axhline(SOLVED_MSE, color="0.5", ls="--", lw=1, label="solved (0.05)")
    ax[0, 0].set(
        xlabel="training step",
        ylabel="validation MSE",
    )
    ax[0, 0].set_title(
        f"Adding, T = {add['length']}\n(paper, T = 100: solved at 300 vs 14k steps)",
        fontsize="medium",
    )
    ax[0, 1].set(
        xlabel="training step",
        ylabel="validation cross-entropy",
    )
    ax[0, 1].set_title(
        f"Copy, delay {cp['delay']}\n(paper: > 5 orders of magnitude lower)", fontsize="medium"
    )
    for a in ax[0, :2]:
        a.legend(fontsize="small")
    obj = waves["_objects"]
    plot_space_time(obj["st_init"], ax=ax[0, 2])
    ax[0, 2].set_title("untrained wRNN, random input\n(channel 0)")
    plot_wave_spectrum(obj["spec_init"], ax=ax[0, 3])
    ax[0, 3].set_title(
        f"2-D FFT: v = {obj['spec_init'].velocity:+.2f}, "
        f"{100 * obj['spec_init'].diagonal_fraction:.0f}% on the line",
        fontsize="medium",
    )
    plot_space_time(obj["st_trained"], ax=ax[1, 0])
    ax[1, 0].set_title("copy-trained wRNN (channel 0)")
    plot_circulant_spectrum(obj["cs_init"], ax=ax[1, 1], label="shift init", ms=6)
    plot_circulant_spectrum(obj["cs_trained"], ax=ax[1, 1], label="after copy training")
    plot_decoding(
        [dec["wrnn"]["_result"], dec["irnn"]["_result"]], labels=["wRNN", "iRNN"], ax=ax[1, 2]
    )
    ax[1, 2].set_title("adding-trained networks:\ndecoding the past value")
    ax[1, 3].axis("off")
    lines = [
        f"adding solved at (wRNN / iRNN): {_fmt(add['models']['wrnn']['solved_at'])} / "
        f"{_fmt(add['models']['irnn']['solved_at'])}",
        f"copy cross-entropy (wRNN / iRNN): {_fmt(cp['models']['wrnn']['final_cross_entropy'])} / "
        f"{_fmt(cp['models']['irnn']['final_cross_entropy'])}",
        f"  = {cp['orders_of_magnitude']:.1f} orders of magnitude",
        f"wave speed at init: {waves['init']['speed']:.2f} neurons/step, "
        f"{100 * waves['init']['diagonal_fraction']:.0f}% of power on the line",
        "",
        "the paper's claims on this run:",
        *[f"  {'yes' if v else 'NO '}  {k.split(' (')[0]}" for k, v in claims.items()],
    ]
    ax[1, 3].text(
        0,
        1,
        "\n".join(lines),
        va="top",
        fontsize="x-small",
        family="monospace",
        transform=ax[1, 3].transAxes,
        wrap=True,
    )
    return fig


def _run(cfg: WaveReproductionConfig, *, seed: int, progress: bool, device) -> dict:
    add, adding_models = _adding(cfg, seed, progress, device)
    cp, trained = _copy(cfg, seed, progress, device)
    return {
        "adding": add,
        "copy": cp,
        "waves": _waves(cfg, seed, trained),
        "decoding": _decoding(cfg, seed, adding_models),
        "digits": _digits(cfg, seed, progress, device),
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
    summary=_summary,
    tables=(Table(tuple(_HEADER), _rows, csv=""),),
    claims=CLAIMS,
    figure=_figure,
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
    """Train wRNN and iRNN on adding and copy, run the wave analyses, write figure and tables.

    Parameters
    ----------
    out_dir : path-like
        Folder for ``wave_rnn.png``, ``wave_rnn.csv``, ``wave_rnn.md`` and
        ``wave_rnn.json`` (each written atomically; the folder is created).
    quick : bool
        A small run (15–30 s on 2 cores; the tests use it) instead of the
        full one (about 3 minutes).
    seed : int
        Seeds the initialisations (the same seed for both models), data and analyses.
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
        ``adding``, ``copy``, ``digits``, ``waves``, ``decoding`` (every number measured)
        and what :class:`~neurodyn.reproduce.harness.Reproduction` adds (``claims``,
        ``config``, ``seconds``, ``files``...).
    """
    return WAVE_RNN(out_dir, quick=quick, seed=seed, progress=progress, device=device,
                    threads=threads, config=config)  # fmt: skip
