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
rate 0.01) with a cosine learning-rate schedule, and is certified
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
from pathlib import Path

import numpy as np

from ..devices import model_device, resolve_device
from ..io.atomic import atomic_write_json, atomic_write_text
from ..io.tables import csv_text, markdown_table, table_cell
from ..progress import progress_bar
from ..seeding import make_rng, resolve_seed, torch_generator
from ..threads import check_threads, limit
from ..train.resources import recurrent_flops

__all__ = ["PAPER", "reproduce_rnns_of_rnns", "train_classifier"]


def _fmt(value, spec=".2f") -> str:
    return table_cell(value, spec, missing="")


logger = logging.getLogger(__name__)

#: The paper's numbers (full MNIST, 784 steps; research notes §4.4).
PAPER = {
    ("sparse_combo", "sequential"): 99.04,
    ("sparse_combo", "permuted"): 96.85,
}

MODEL_LABELS = {
    "sparse_combo": "Sparse Combo Net",
    "svd_combo": "SVD Combo Net",
    "baseline": "unconstrained RNN",
}


@dataclass(frozen=True)
class _Size:
    n_modules: int
    module_size: int
    epochs: int
    sweep_modules: tuple
    sweep_sizes: tuple
    sweep_epochs: int
    variants: tuple


FULL = _Size(8, 16, 60, (2, 4, 8), (8, 16, 32), 15, ("sequential", "permuted"))
QUICK = _Size(8, 16, 6, (2, 4), (8, 16), 3, ("sequential", "permuted"))
TAU, DT, LR, BATCH = 20.0, 1.0, 1e-2, 64
#: Standard deviation of the input weights: pixels in [0, 1] need a strong drive to
#: move a network that forgets at rate c/tau (tuned: ~95 % sequential, ~90 % permuted).
INPUT_SCALE = 6.0


def train_classifier(
    model,
    x_train,
    y_train,
    x_test,
    y_test,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 5e-3,
    clip_grad: float = 1.0,
    seed: int = 0,
    progress: bool = False,
    desc: str = "training",
    device=None,
) -> dict:
    """Train ``model`` on a fixed data set, classifying from the last step's outputs.

    Adam with a cosine learning-rate schedule over ``epochs`` passes of shuffled
    mini-batches; cross-entropy on the outputs at the last step (the masked
    cross-entropy of the task, with its mask on the last step only).

    Parameters
    ----------
    model : Model
    x_train, x_test : array (n, time, n_input)
    y_train, y_test : array of int (n,)
    epochs, batch_size, lr, clip_grad : training settings.
    seed : int
        Seeds the shuffling.
    progress : bool
        Show a progress bar over epochs.
    device : str or torch.device, optional
        Where to train: ``None`` (the model's device), ``"auto"``, ``"cpu"``,
        ``"cuda"``... The model is moved there and stays; the data are moved once.

    Returns
    -------
    dict
        ``epoch``, ``train_loss`` and ``test_accuracy`` (lists, one per epoch),
        ``accuracy`` (final test accuracy in %) and ``seconds``.
    """
    import torch
    import torch.nn.functional as F

    start = time.perf_counter()
    dev = model_device(model) if device is None else resolve_device(device)
    model.to(dev)
    xtr, xte = (torch.as_tensor(x, device=dev) for x in (x_train, x_test))
    ytr, yte = (torch.as_tensor(y, device=dev) for y in (y_train, y_test))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(epochs, 1))
    gen = torch_generator(seed, "data")
    history = {"epoch": [], "train_loss": [], "test_accuracy": []}
    for epoch in progress_bar(range(epochs), progress=progress, desc=desc, unit="epoch"):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        total, count = 0.0, 0
        for i in range(0, len(xtr), batch_size):
            idx = perm[i : i + batch_size].to(dev)
            loss = F.cross_entropy(model(xtr[idx]).outputs[:, -1], ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
            opt.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
        sched.step()
        history["epoch"].append(epoch + 1)
        history["train_loss"].append(total / count)
        history["test_accuracy"].append(accuracy(model, xte, yte))
    model.eval()
    history["accuracy"] = history["test_accuracy"][-1] if epochs else accuracy(model, xte, yte)
    history["seconds"] = time.perf_counter() - start
    return history


def accuracy(model, x, y) -> float:
    """Test accuracy in % of the last step's arg-max output."""
    import torch

    model.eval()
    dev = model_device(model)
    with torch.no_grad():
        out = model(torch.as_tensor(x, device=dev)).outputs[:, -1]
    return 100.0 * float((out.argmax(-1) == torch.as_tensor(y, device=dev)).float().mean())


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


def _build(kind: str, n_modules: int, module_size: int, seed: int):
    from ..rnn_models.rnns_of_rnns import SparseComboNet, SVDComboNet, unconstrained_baseline

    n = n_modules * module_size
    common = {"n_modules": n_modules, "tau": TAU, "dt": DT, "input_scale": INPUT_SCALE,
              "seed": seed}  # fmt: skip
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


def reproduce_rnns_of_rnns(
    out_dir,
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    device="auto",
    threads: int | None = None,
) -> dict:
    """Train Sparse Combo Net, SVD Combo Net and the baseline; write tables and a figure.

    Parameters
    ----------
    out_dir : path-like
        Folder for ``rnns_of_rnns.png``, ``.csv``, ``.md``, ``.json`` (summary and
        certificates) and ``rnns_of_rnns_curves.csv`` (training curves), each written
        atomically.
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

    Returns
    -------
    dict
        ``models`` (one row per model × task: ``accuracy``, ``accuracy_paper``,
        certificate before and after training), ``sweep`` (one row per number of
        modules × module size), ``curves``, ``claims``, ``config``, ``seconds`` and
        ``files``.
    """

    from ..analysis.contraction import certify
    from ..tasks.digits import SequentialDigits

    start = time.perf_counter()
    seed = resolve_seed(seed)
    dev = resolve_device(device)
    check_threads(threads)
    size = QUICK if quick else FULL
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_units = max(size.n_modules * size.module_size,
                  max(size.sweep_modules) * max(size.sweep_sizes))  # fmt: skip
    with limit(threads, work=recurrent_flops(BATCH, n_units, 1), what="reproduce rnns-of-rnns"):
        data = {}
        for variant in size.variants:
            permuted = variant == "permuted"
            tr = SequentialDigits(split="train", permuted=permuted)
            te = SequentialDigits(split="test", permuted=permuted)
            data[variant] = (*tr.arrays(), *te.arrays())
        jobs = [("main", v, k, size.n_modules, size.module_size, size.epochs)
                for v in size.variants for k in MODEL_LABELS]  # fmt: skip
        jobs += [("sweep", "sequential", "sparse_combo", m, s, size.sweep_epochs)
                 for m in size.sweep_modules for s in size.sweep_sizes]  # fmt: skip
        rows, curves = [], []
        bar = progress_bar(jobs, progress=progress, desc="RNNs of RNNs", unit="model")
        for k, (section, variant, kind, n_mod, mod_size, epochs) in enumerate(bar):
            bar.set_postfix_str(f"{kind} {variant} {n_mod}x{mod_size}")
            model_seed = int(make_rng(seed, "init", k).integers(0, 2**31 - 1))
            model = _build(kind, n_mod, mod_size, model_seed)
            before = certify(model, seed=seed)
            hist = train_classifier(model, *data[variant], epochs=epochs, batch_size=BATCH,
                                    lr=LR, seed=model_seed, desc=f"{kind} {variant}",
                                    device=dev)  # fmt: skip
            after = certify(model.cpu(), seed=seed)
            row = {
                "section": section,
                "model": kind,
                "label": MODEL_LABELS[kind],
                "task": variant,
                "n_modules": n_mod,
                "module_size": mod_size,
                "n_units": n_mod * mod_size,
                "trained_parameters": _trained_parameters(model),
                "epochs": epochs,
                "accuracy": hist["accuracy"],
                "accuracy_paper": PAPER.get((kind, variant)) if section == "main" else None,
                "seconds": hist["seconds"],
                **{f"{key}_before": v for key, v in _certificate_row(before).items()},
                **{f"{key}_after": v for key, v in _certificate_row(after).items()},
            }
            rows.append(row)
            logger.info("%s %s %dx%d: %.2f %% (%s)", kind, variant, n_mod, mod_size,
                        row["accuracy"], after.message)  # fmt: skip
            for e, loss, acc in zip(hist["epoch"], hist["train_loss"], hist["test_accuracy"],
                                    strict=True):  # fmt: skip
                curves.append({"section": section, "model": kind, "task": variant,
                               "n_modules": n_mod, "module_size": mod_size, "epoch": e,
                               "train_loss": loss, "test_accuracy": acc})  # fmt: skip

    models = [r for r in rows if r["section"] == "main"]
    sweep = [r for r in rows if r["section"] == "sweep"]
    combo = [r for r in rows if r["model"] != "baseline"]

    def acc(kind, variant):
        return next(r["accuracy"] for r in models if r["model"] == kind and r["task"] == variant)

    claims = {
        "combo_nets_certified_before_and_after": all(
            r["certified_before"] and r["certified_after"] for r in combo
        ),
        "baseline_not_certified": all(
            not r["certified_after"] for r in rows if r["model"] == "baseline"
        ),
        "sparse_above_chance": all(acc("sparse_combo", v) > 30.0 for v in size.variants),
        "sparse_beats_svd": all(
            acc("sparse_combo", v) >= acc("svd_combo", v) for v in size.variants
        ),
    }
    result = {
        "models": models,
        "sweep": sweep,
        "curves": curves,
        "claims": claims,
        "paper": {f"{k[0]}/{k[1]}": v for k, v in PAPER.items()},
        "config": {
            "quick": quick, "seed": seed, "data": "sklearn digits 8x8, one pixel per step",
            "n_train": int(len(data["sequential"][1])), "n_test": int(len(data["sequential"][3])),
            "tau_ms": TAU, "dt_ms": DT, "lr": LR, "batch_size": BATCH, "epochs": size.epochs,
            "input_scale": INPUT_SCALE,
            "sweep_epochs": size.sweep_epochs, "n_modules": size.n_modules,
            "module_size": size.module_size,
        },
        "seconds": None,
    }  # fmt: skip
    result["seconds"] = time.perf_counter() - start
    result["files"] = _write(out_dir, result)
    logger.info("RNNs of RNNs reproduction done in %.0f s: %s", result["seconds"], claims)
    return result


_MODEL_HEADER = ("model", "task", "accuracy (ours)", "accuracy (paper)", "trained params",
                 "certified before / after", "rate", "numerical rate", "step factor")  # fmt: skip
_SWEEP_HEADER = ("modules", "module size", "units", "accuracy", "certified after", "rate")


def _write(out_dir: Path, result: dict) -> dict:
    import matplotlib.pyplot as plt

    from ..plotting.tasks import save_figure

    stem = "rnns_of_rnns"
    paths = {k: out_dir / f"{stem}.{k}" for k in ("png", "csv", "md", "json")}
    paths["curves"] = out_dir / f"{stem}_curves.csv"
    fields = ["section", "model", "task", "n_modules", "module_size", "n_units",
              "trained_parameters", "epochs", "accuracy", "accuracy_paper", "certified_before",
              "certified_after", "rate_after", "numerical_rate_after", "step_factor_after",
              "seconds"]  # fmt: skip
    for key, rows, cols in (("csv", result["models"] + result["sweep"], fields),
                            ("curves", result["curves"], list(result["curves"][0]))):  # fmt: skip
        atomic_write_text(paths[key], csv_text(cols, rows))

    cfg = result["config"]
    model_rows = [
        [MODEL_LABELS[r["model"]], r["task"], _fmt(r["accuracy"]), _fmt(r["accuracy_paper"]),
         r["trained_parameters"], f"{r['certified_before']} / {r['certified_after']}",
         _fmt(r["rate_after"], ".4f"), _fmt(r["numerical_rate_after"], ".4f"),
         _fmt(r["step_factor_after"], ".4f")]
        for r in result["models"]
    ]  # fmt: skip
    sweep_rows = [
        [r["n_modules"], r["module_size"], r["n_units"], _fmt(r["accuracy"]),
         r["certified_after"], _fmt(r["rate_after"], ".4f")]
        for r in result["sweep"]
    ]  # fmt: skip
    lines = [
        "# RNNs of RNNs reproduction (Kozachkov, Ennis & Slotine, NeurIPS 2022)",
        "",
        f"Ours: {cfg['data']} ({cfg['n_train']} train / {cfg['n_test']} test, 64 steps), "
        f"{cfg['n_modules']} modules x {cfg['module_size']} units, tau = {cfg['tau_ms']:g} ms, "
        f"dt = {cfg['dt_ms']:g} ms, input scale {cfg['input_scale']:g}, lr {cfg['lr']:g}, "
        f"{cfg['epochs']} epochs, seed {cfg['seed']}. Paper: MNIST "
        "(784 steps), full size. Accuracies in %; rates per ms; the step factor is the "
        "certified per-step contraction of the discrete-time network.",
        "",
        *markdown_table(_MODEL_HEADER, model_rows),
        "",
        "## Sparse Combo Net: number of modules x module size (sequential digits)",
        "",
        *markdown_table(_SWEEP_HEADER, sweep_rows),
    ]
    lines += ["", "Claims: " + ", ".join(f"{k} = {v}" for k, v in result["claims"].items()), ""]
    atomic_write_text(paths["md"], "\n".join(lines))

    fig, axes = plt.subplots(1, 3, figsize=(15.0, 4.2), constrained_layout=True)
    ax = axes[0]
    names = [f"{MODEL_LABELS[r['model']]}\n{r['task']}" for r in result["models"]]
    x = np.arange(len(names))
    ax.bar(x - 0.2, [r["accuracy"] for r in result["models"]], 0.4, label="ours (8x8 digits)")
    paper = [r["accuracy_paper"] if r["accuracy_paper"] is not None else np.nan
             for r in result["models"]]  # fmt: skip
    ax.bar(x + 0.2, paper, 0.4, color="0.6", label="paper (MNIST)")
    ax.set_xticks(x, names, fontsize="x-small", rotation=30, ha="right")
    ax.set(ylim=(0, 115), ylabel="test accuracy (%)", title="accuracy")
    ax.legend(fontsize="small", loc="upper center", ncols=2)
    ax = axes[1]
    for r in result["models"]:
        pts = [c for c in result["curves"] if c["section"] == "main" and c["model"] == r["model"]
               and c["task"] == r["task"]]  # fmt: skip
        ax.plot([c["epoch"] for c in pts], [c["test_accuracy"] for c in pts],
                "-" if r["task"] == "sequential" else "--",
                label=f"{MODEL_LABELS[r['model']]} ({r['task']})")  # fmt: skip
    ax.set(xlabel="epoch", ylabel="test accuracy (%)", title="training curves")
    ax.legend(fontsize="x-small")
    ax = axes[2]
    mods = sorted({r["n_modules"] for r in result["sweep"]})
    sizes = sorted({r["module_size"] for r in result["sweep"]})
    grid = np.full((len(mods), len(sizes)), np.nan)
    for r in result["sweep"]:
        grid[mods.index(r["n_modules"]), sizes.index(r["module_size"])] = r["accuracy"]
    im = ax.imshow(grid, origin="lower", cmap="viridis", vmin=0, vmax=100)
    for i in range(len(mods)):
        for j in range(len(sizes)):
            ax.text(j, i, _fmt(grid[i, j], ".1f"), ha="center", va="center", color="w")
    ax.set_xticks(range(len(sizes)), sizes)
    ax.set_yticks(range(len(mods)), mods)
    ax.set(xlabel="module size", ylabel="number of modules", title="Sparse Combo Net sweep")
    fig.colorbar(im, ax=ax, label="test accuracy (%)")
    save_figure(fig, paths["png"])

    atomic_write_json(paths["json"], result, default=str)
    return {k: str(v) for k, v in paths.items()}
