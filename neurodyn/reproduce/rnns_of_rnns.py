r"""Reproduce RNNs of RNNs at CPU scale (``neurodyn reproduce rnns-of-rnns``).

Kozachkov, Ennis & Slotine (NeurIPS 2022), Fig. 2 and Table 1: Sparse Combo Net
(fixed sparse Theorem-1 modules, trained negative-feedback couplings) classifies
sequential MNIST at 99.04 % and permuted sequential MNIST at 96.85 % while provably
contracting; SVD Combo Net is certified too but learns more slowly; the paper also
sweeps the number of modules against the module size.

Here, as in research notes §4.5: scikit-learn's 8x8 digits, one pixel per step
(64 steps instead of 784), with a fixed stratified 75/25 train/test split, and the
same digits under one fixed pixel permutation. Every network has 8 modules of 16
units (128 units), :math:`\alpha = \Delta t/\tau = 0.05`, ReLU, the read-out at the
last step (the Combo Nets' input weights drawn with standard deviation 6, as the
pixels lie in [0, 1]; the baseline keeps its own initialisation), Adam (learning
rate 0.01) with a cosine learning-rate schedule in epochs of shuffled mini-batches
(:func:`~neurodyn.train.fit`, validated on the test split after every epoch), and is
certified
(:func:`~neurodyn.analysis.contraction.certify`) before and after training. The
unconstrained baseline is a dense rate RNN of the same size and step
(:func:`~neurodyn.rnn_models.rnns_of_rnns.unconstrained_baseline`). The sweep
trains Sparse Combo Net for every number of modules × module size, with module
density :math:`1.5/\text{size}` so that Theorem 1 can be met at every size.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from ..analysis.contraction import certify
from ..io.tables import table_cell
from ..progress import progress_bar
from ..rnn_models.rnns_of_rnns import SparseComboNet, SVDComboNet, unconstrained_baseline
from ..seeding import make_rng
from ..tasks.digits import SequentialDigits
from ..train import fit
from ..train.resources import recurrent_flops
from .harness import Claim, Reproduction, Sizes, Table

__all__ = ["PAPER", "RNNS_OF_RNNS", "RNNsOfRNNsConfig", "reproduce_rnns_of_rnns"]

logger = logging.getLogger(__name__)

#: The paper's numbers (full MNIST, 784 steps; research notes §4.4): test accuracy in %
#: by model and task.
PAPER = {"sparse_combo": {"sequential": 99.04, "permuted": 96.85}}

MODEL_LABELS = {
    "sparse_combo": "Sparse Combo Net",
    "svd_combo": "SVD Combo Net",
    "baseline": "unconstrained RNN",
}

VARIANTS = ("sequential", "permuted")


@dataclass(frozen=True)
class RNNsOfRNNsConfig(Sizes):
    """Sizes of the RNNs-of-RNNs reproduction (defaults: the full run).

    The main comparison trains every model of :data:`MODEL_LABELS` with ``n_modules``
    modules of ``module_size`` units for ``epochs`` epochs on each of ``variants``;
    the sweep trains Sparse Combo Net on sequential digits for every number of modules
    in ``sweep_modules`` × module size in ``sweep_sizes``, ``sweep_epochs`` each.
    """

    n_modules: int = 8
    module_size: int = 16
    epochs: int = 60
    sweep_modules: tuple = (2, 4, 8)
    sweep_sizes: tuple = (8, 16, 32)
    sweep_epochs: int = 15
    variants: tuple = VARIANTS
    tau: float = 20.0
    dt: float = 1.0
    lr: float = 1e-2
    batch_size: int = 64
    #: Standard deviation of the input weights: pixels in [0, 1] need a strong drive to
    #: move a network that forgets at rate c/tau (tuned: ~95 % sequential, ~90 % permuted).
    input_scale: float = 6.0

    def __post_init__(self):
        bad = [v for v in self.variants if v not in VARIANTS]
        if bad or not self.variants:
            raise ValueError(f"variants must be a non-empty subset of {VARIANTS}, got {self.variants!r}")
        super().__post_init__()


FULL = RNNsOfRNNsConfig()
QUICK = RNNsOfRNNsConfig(epochs=6, sweep_modules=(2, 4), sweep_sizes=(8, 16), sweep_epochs=3)

#: Gradient-norm clip of every training.
CLIP_GRAD = 1.0


def _fmt(value, spec=".2f") -> str:
    return table_cell(value, spec, missing="")


# -- the experiment ------------------------------------------------------------------------
def _trained_parameters(model) -> int:
    """Trained parameters; a masked coupling counts only its entries on the graph's edges."""
    total = 0
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if not p.requires_grad:
                continue
            mask = getattr(module, "mask", None)
            total += int(mask.sum()) if name == "B" and mask is not None else p.numel()
    return total


def _build(kind: str, n_modules: int, module_size: int, seed: int, cfg: RNNsOfRNNsConfig = FULL):
    n = n_modules * module_size
    common = {"n_modules": n_modules, "tau": cfg.tau, "dt": cfg.dt,
              "input_scale": cfg.input_scale, "seed": seed}  # fmt: skip
    if kind == "svd_combo":
        return SVDComboNet(1, n, 10, **common)
    density = min(0.5, 1.5 / module_size)
    sparse = SparseComboNet(1, n, 10, density=density, **common)
    return sparse if kind == "sparse_combo" else unconstrained_baseline(sparse)


def _certificate_row(cert) -> dict:
    return {
        "certified": bool(cert.success),
        "rate": float(cert.rate),
        "numerical_rate": float(cert.numerical_rate),
        "step_factor": cert.step.get("factor"),
        "message": cert.message,
    }


def _data(variants) -> dict:
    """Train and test Datasets of every variant: one pixel per step, the label at the last."""
    data = {}
    for variant in sorted({*variants, "sequential"}):  # the sweep uses sequential digits
        permuted = variant == "permuted"
        data[variant] = tuple(
            SequentialDigits(split=split, permuted=permuted).full_batch().to_xarray()
            for split in ("train", "test")
        )
    return data


def _train(model, train, test, epochs: int, cfg: RNNsOfRNNsConfig, seed: int, device):
    """Adam with a cosine learning rate over ``epochs`` epochs, cross-entropy on the last
    step, test accuracy after every epoch."""
    start = time.perf_counter()
    res = fit(model, train, validation=test, epochs=epochs, batch_size=cfg.batch_size,
              lr=cfg.lr, lr_schedule="cosine", loss="cross_entropy", val_every="epoch",
              clip_grad=CLIP_GRAD, seed=seed, device=device, progress=False)  # fmt: skip
    curve = [
        {"epoch": i + 1, "train_loss": r["train_loss"], "test_accuracy": 100.0 * r["val_accuracy"]}
        for i, r in enumerate(res.history)
    ]
    return curve, time.perf_counter() - start


def _jobs(cfg: RNNsOfRNNsConfig) -> list[tuple]:
    jobs = [("main", v, k, cfg.n_modules, cfg.module_size, cfg.epochs)
            for v in cfg.variants for k in MODEL_LABELS]  # fmt: skip
    jobs += [("sweep", "sequential", "sparse_combo", m, s, cfg.sweep_epochs)
             for m in cfg.sweep_modules for s in cfg.sweep_sizes]  # fmt: skip
    return jobs


def _run(cfg: RNNsOfRNNsConfig, *, seed: int, progress: bool, device) -> dict:
    data = _data(cfg.variants)
    rows, curves = [], []
    bar = progress_bar(_jobs(cfg), progress=progress, desc="RNNs of RNNs", unit="model")
    for k, (section, variant, kind, n_mod, mod_size, epochs) in enumerate(bar):
        bar.set_postfix_str(f"{kind} {variant} {n_mod}x{mod_size}")
        model_seed = int(make_rng(seed, "init", k).integers(0, 2**31 - 1))
        model = _build(kind, n_mod, mod_size, model_seed, cfg)
        before = certify(model, seed=seed)
        curve, seconds = _train(model, *data[variant], epochs, cfg, model_seed, device)
        after = certify(model.cpu(), seed=seed)
        row = {
            "section": section, "model": kind, "label": MODEL_LABELS[kind], "task": variant,
            "n_modules": n_mod, "module_size": mod_size, "n_units": n_mod * mod_size,
            "trained_parameters": _trained_parameters(model), "epochs": epochs,
            "accuracy": curve[-1]["test_accuracy"],
            "accuracy_paper": PAPER.get(kind, {}).get(variant) if section == "main" else None,
            "seconds": seconds,
            **{f"{key}_before": v for key, v in _certificate_row(before).items()},
            **{f"{key}_after": v for key, v in _certificate_row(after).items()},
        }  # fmt: skip
        rows.append(row)
        logger.info("%s %s %dx%d: %.2f %% (%s)", kind, variant, n_mod, mod_size,
                    row["accuracy"], after.message)  # fmt: skip
        common = {"section": section, "model": kind, "task": variant, "n_modules": n_mod,
                  "module_size": mod_size}  # fmt: skip
        curves += [{**common, **point} for point in curve]
    train, test = data["sequential"]
    return {
        "models": [r for r in rows if r["section"] == "main"],
        "sweep": [r for r in rows if r["section"] == "sweep"],
        "curves": curves,
        "data": {"name": "sklearn digits 8x8, one pixel per step",
                 "n_train": train.sizes["trial"], "n_test": test.sizes["trial"]},
    }  # fmt: skip


# -- claims --------------------------------------------------------------------------------
def _accuracy(results, kind: str, variant: str) -> float:
    return next(r["accuracy"] for r in results["models"]
                if r["model"] == kind and r["task"] == variant)  # fmt: skip


def _variants(results) -> list[str]:
    return sorted({r["task"] for r in results["models"]})


def combo_nets_certified(results) -> bool:
    """Every Combo Net is certified contracting before and after training."""
    return all(r["certified_before"] and r["certified_after"]
               for r in results["models"] + results["sweep"] if r["model"] != "baseline")  # fmt: skip


def baseline_not_certified(results) -> bool:
    """No trained unconstrained baseline is certified."""
    return all(not r["certified_after"] for r in results["models"] if r["model"] == "baseline")


def sparse_above_chance(results) -> bool:
    """Sparse Combo Net is far above chance (10 %) on every task: above 30 %."""
    return all(_accuracy(results, "sparse_combo", v) > 30.0 for v in _variants(results))


def sparse_beats_svd(results) -> bool:
    """Sparse Combo Net is at least as accurate as SVD Combo Net on every task."""
    return all(_accuracy(results, "sparse_combo", v) >= _accuracy(results, "svd_combo", v)
               for v in _variants(results))  # fmt: skip


CLAIMS = (
    Claim("combo_nets_certified_before_and_after",
          "Combo Nets certified contracting before and after training", combo_nets_certified),
    Claim("baseline_not_certified", "the unconstrained baseline is not certified",
          baseline_not_certified),
    Claim("sparse_above_chance", "Sparse Combo Net far above chance (> 30 %) on every task",
          sparse_above_chance),
    Claim("sparse_beats_svd", "Sparse Combo Net at least as accurate as SVD Combo Net",
          sparse_beats_svd),
)  # fmt: skip


# -- tables and figure ---------------------------------------------------------------------
def _summary(results, cfg: RNNsOfRNNsConfig, seed: int) -> str:
    d = results["data"]
    return (
        f"Ours: {d['name']} ({d['n_train']} train / {d['n_test']} test, 64 steps), "
        f"{cfg.n_modules} modules x {cfg.module_size} units, tau = {cfg.tau:g} ms, "
        f"dt = {cfg.dt:g} ms, input scale {cfg.input_scale:g}, lr {cfg.lr:g}, "
        f"{cfg.epochs} epochs, seed {seed}. Paper: MNIST (784 steps), full size. Accuracies "
        "in %; rates per ms; the step factor is the certified per-step contraction of the "
        "discrete-time network."
    )


def _model_rows(results, cfg) -> list:
    return [
        [MODEL_LABELS[r["model"]], r["task"], _fmt(r["accuracy"]), _fmt(r["accuracy_paper"]),
         r["trained_parameters"], f"{r['certified_before']} / {r['certified_after']}",
         _fmt(r["rate_after"], ".4f"), _fmt(r["numerical_rate_after"], ".4f"),
         _fmt(r["step_factor_after"], ".4f")]
        for r in results["models"]
    ]  # fmt: skip


def _sweep_rows(results, cfg) -> list:
    return [
        [r["n_modules"], r["module_size"], r["n_units"], _fmt(r["accuracy"]),
         r["certified_after"], _fmt(r["rate_after"], ".4f")]
        for r in results["sweep"]
    ]  # fmt: skip


CSV_FIELDS = ("section", "model", "task", "n_modules", "module_size", "n_units",
              "trained_parameters", "epochs", "accuracy", "accuracy_paper", "certified_before",
              "certified_after", "rate_after", "numerical_rate_after", "step_factor_after",
              "seconds")  # fmt: skip
CURVE_FIELDS = ("section", "model", "task", "n_modules", "module_size", "epoch", "train_loss",
                "test_accuracy")  # fmt: skip

TABLES = (
    Table(("model", "task", "accuracy (ours)", "accuracy (paper)", "trained params",
           "certified before / after", "rate", "numerical rate", "step factor"), _model_rows),
    Table(("modules", "module size", "units", "accuracy", "certified after", "rate"), _sweep_rows,
          title="Sparse Combo Net: number of modules x module size (sequential digits)"),
    Table(CSV_FIELDS, lambda results, cfg: results["models"] + results["sweep"], markdown=False,
          csv=""),
    Table(CURVE_FIELDS, lambda results, cfg: results["curves"], markdown=False, csv="_curves"),
)  # fmt: skip


def _figure(results, claims, cfg) -> Figure:
    fig = Figure(figsize=(15.0, 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    _accuracy_bars(axes[0], results["models"])
    _curves(axes[1], results)
    _sweep_grid(fig, axes[2], results["sweep"])
    return fig


def _accuracy_bars(ax, models) -> None:
    names = [f"{MODEL_LABELS[r['model']]}\n{r['task']}" for r in models]
    x = np.arange(len(names))
    ax.bar(x - 0.2, [r["accuracy"] for r in models], 0.4, label="ours (8x8 digits)")
    paper = [np.nan if r["accuracy_paper"] is None else r["accuracy_paper"] for r in models]
    ax.bar(x + 0.2, paper, 0.4, color="0.6", label="paper (MNIST)")
    ax.set_xticks(x, names, fontsize="x-small", rotation=30, ha="right")
    ax.set(ylim=(0, 115), ylabel="test accuracy (%)", title="accuracy")
    ax.legend(fontsize="small", loc="upper center", ncols=2)


def _curves(ax, results) -> None:
    for r in results["models"]:
        pts = [c for c in results["curves"] if c["section"] == "main" and c["model"] == r["model"]
               and c["task"] == r["task"]]  # fmt: skip
        ax.plot([c["epoch"] for c in pts], [c["test_accuracy"] for c in pts],
                "-" if r["task"] == "sequential" else "--",
                label=f"{MODEL_LABELS[r['model']]} ({r['task']})")  # fmt: skip
    ax.set(xlabel="epoch", ylabel="test accuracy (%)", title="training curves")
    ax.legend(fontsize="x-small")


def _sweep_grid(fig, ax, sweep) -> None:
    mods = sorted({r["n_modules"] for r in sweep})
    sizes = sorted({r["module_size"] for r in sweep})
    grid = np.full((len(mods), len(sizes)), np.nan)
    for r in sweep:
        grid[mods.index(r["n_modules"]), sizes.index(r["module_size"])] = r["accuracy"]
    im = ax.imshow(grid, origin="lower", cmap="viridis", vmin=0, vmax=100)
    for i in range(len(mods)):
        for j in range(len(sizes)):
            ax.text(j, i, _fmt(grid[i, j], ".1f"), ha="center", va="center", color="w")
    ax.set_xticks(range(len(sizes)), sizes)
    ax.set_yticks(range(len(mods)), mods)
    ax.set(xlabel="module size", ylabel="number of modules", title="Sparse Combo Net sweep")
    fig.colorbar(im, ax=ax, label="test accuracy (%)")


def _work(cfg: RNNsOfRNNsConfig) -> float:
    """A training step of the largest network trained."""
    n_units = max(cfg.n_modules * cfg.module_size, max(cfg.sweep_modules) * max(cfg.sweep_sizes))
    return recurrent_flops(cfg.batch_size, n_units, 1)


#: The reproduction (``neurodyn reproduce rnns-of-rnns``).
RNNS_OF_RNNS = Reproduction(
    name="rnns-of-rnns",
    stem="rnns_of_rnns",
    title="RNNs of RNNs reproduction (Kozachkov, Ennis & Slotine, NeurIPS 2022)",
    citation="Kozachkov, Ennis & Slotine (2022). RNNs of RNNs: Recursive construction of "
    "stable assemblies of recurrent neural networks. NeurIPS 2022.",
    paper=PAPER,
    config_type=RNNsOfRNNsConfig,
    full=FULL,
    quick=QUICK,
    run=_run,
    work=_work,
    summary=_summary,
    tables=TABLES,
    claims=CLAIMS,
    figure=_figure,
)


def reproduce_rnns_of_rnns(
    out_dir,
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    device="auto",
    threads: int | None = None,
    config: RNNsOfRNNsConfig | None = None,
) -> dict:
    """Train Sparse Combo Net, SVD Combo Net and the baseline; write tables and a figure.

    Parameters
    ----------
    out_dir : path-like
        Folder for ``rnns_of_rnns.png``, ``.csv``, ``.md``, ``.json`` and
        ``rnns_of_rnns_curves.csv`` (training curves), each written atomically.
    quick : bool
        6 epochs per model and a 2 × 2 sweep of 3 epochs (about a minute) instead of
        60 epochs and a 3 × 3 sweep of 15 (a few minutes on two cores).
    seed : int
        Seeds the networks and the shuffling (the data split is fixed).
    progress : bool
        Show a progress bar.
    device : str or torch.device
        Where the networks train (``"auto"``: a GPU when present); the contraction
        certificates are computed on the CPU.
    threads : int, optional
        CPU threads for the whole reproduction (default: :mod:`neurodyn.threads`'
        policy for a training step of the largest network).
    config : RNNsOfRNNsConfig, optional
        Every size explicitly (overrides ``quick``).

    Returns
    -------
    dict
        ``models`` (one row per model × task: ``accuracy``, ``accuracy_paper``,
        certificate before and after training), ``sweep`` (one row per number of
        modules × module size), ``curves``, ``data``, and what
        :class:`~neurodyn.reproduce.harness.Reproduction` adds (``claims``,
        ``config``, ``seconds``, ``files``...).
    """
    return RNNS_OF_RNNS(out_dir, quick=quick, seed=seed, progress=progress, device=device,
                        threads=threads, config=config)  # fmt: skip
