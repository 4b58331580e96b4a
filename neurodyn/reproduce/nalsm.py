"""Reproduce the NALSM paper's headline experiment at CPU scale (``neurodyn reproduce nalsm``).

Ivanov & Michmizos (NeurIPS 2021), Fig. 2/3A and Table 1 (models.md §3.8): the
astrocyte's gain :math:`w_A` organises the liquid's branching factor (BF) from
super-critical (≈1.4 at :math:`w_A = 0.002`) toward sub-critical (≈0.9 at 0.2),
and the NALSM classifies better than the same liquid with plain STDP.

Here: a NALSM1000 (10x10x10 liquid) on scikit-learn's 8x8 digits, instead of
MNIST, with a 1000/300/497 train/validation/test split, an initialisation phase
of 1000 presentations instead of 50 000, and a logistic-regression readout. The
sweep covers the paper's seven :math:`w_A`; the baselines are the LSM with plain
STDP and the fixed-weight LSM (best of three weights on validation). Every model
uses the same liquid structure, data split and input spikes.

The 8x8 digits are used as they are: with the paper's per-image normalisation
they give about 12 input events per ms, close to MNIST's tens, whereas digits
upsampled to 28x28 give 173 per ms and saturate the liquid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
from matplotlib.figure import Figure

from ..backends import available_backends, resolve_backend
from ..devices import AUTO, resolve_device
from ..io.tables import table_cell
from ..plotting.spiking import plot_raster
from ..progress import progress_bar
from ..seeding import make_rng
from ..spiking.data import images_to_probabilities, load_digits
from ..spiking.measures import branching_factor
from ..spiking.nalsm import NALSM, NALSMConfig, liquid_counts
from ..spiking.readout import fit_readout, normalise_counts
from .harness import Claim, Reproduction, Sizes, Table

__all__ = ["NALSM_REPRODUCTION", "PAPER", "NALSMReproductionConfig", "reproduce_nalsm"]

logger = logging.getLogger(__name__)

#: The paper's MNIST numbers (NALSM1000, mean of 10 networks; models.md §3.8).
PAPER = {
    "w_astro": (0.002, 0.0075, 0.015, 0.025, 0.05, 0.1, 0.2),
    "bf": (1.42, 1.33, 1.25, 1.18, 1.09, 0.99, 0.89),
    "accuracy": (95.91, 96.00, 95.96, 95.87, 95.94, 95.67, 95.22),
    "models": {
        "LSM": {"accuracy": 95.30, "bf": None},
        "LSM+STDP": {"accuracy": 89.47, "bf": 1.41},
        "NALSM": {"accuracy": 95.96, "bf": 1.25},
    },
}

NALSM_W_ASTRO = 0.015  # the paper's NALSM1000 setting


@dataclass(frozen=True)
class NALSMReproductionConfig(Sizes):
    """Sizes of the NALSM reproduction (defaults: the full run), validated at construction.

    ``grid`` is the liquid's shape; ``n_train``/``n_val``/``n_test`` the digits of each
    split (``n_test=None``: every remaining image); ``n_init`` the presentations of the
    initialisation phase; ``w_astro`` the astrocyte gains swept (the paper's NALSM
    setting 0.015 among them); ``lsm_weights`` the fixed weights tried for the LSM
    baseline; ``n_bf`` the test samples whose spikes give the branching factor.
    """

    grid: tuple = (10, 10, 10)
    n_train: int = 1000
    n_val: int = 300
    n_test: int | None = None
    n_init: int = 1000
    w_astro: tuple = PAPER["w_astro"]
    lsm_weights: tuple = (0.5, 1.0, 1.5)
    n_bf: int = 20

    def __post_init__(self):
        super().__post_init__()
        if NALSM_W_ASTRO not in self.w_astro:
            raise ValueError(f"w_astro must include the NALSM setting {NALSM_W_ASTRO}, got "
                             f"{self.w_astro!r}")  # fmt: skip


FULL = NALSMReproductionConfig()
QUICK = NALSMReproductionConfig(grid=(6, 6, 6), n_train=300, n_val=100, n_test=200, n_init=300,
                                w_astro=(0.002, 0.015, 0.2), lsm_weights=(1.0,), n_bf=10)  # fmt: skip


def _fmt(value, spec=".2f") -> str:
    return table_cell(value, spec, missing="")


# -- the experiment ------------------------------------------------------------------------
def _split(labels: np.ndarray, size: NALSMReproductionConfig, seed: int):
    perm = make_rng(seed, "data").permutation(labels.size)
    a, b = size.n_train, size.n_train + size.n_val
    c = labels.size if size.n_test is None else b + size.n_test
    return perm[:a], perm[a:b], perm[b:c]


def _evaluate(name, cfg, p, labels, split, size, seed, progress, backend):
    """Initialise, run every sample, fit the readout, measure BF; one model."""
    train, val, test = split
    model = NALSM(p.shape[1], cfg, seed=seed).initialise(
        p[train], n_samples=size.n_init, seed=seed, backend=backend, progress=False
    )
    used = np.concatenate(split)
    ds = model.features(p[used], sample_ids=used, seed=seed, backend=backend, progress=progress)
    counts = np.zeros((labels.size, model.liquid.n))
    counts[used] = liquid_counts(ds)
    x_tr, scale = normalise_counts(counts[train])
    x_va, _ = normalise_counts(counts[val], scale=scale)
    x_te, _ = normalise_counts(counts[test], scale=scale)
    readout, val_acc = fit_readout(x_tr, labels[train], x_va, labels[val])
    # The branching factor needs every spike: rerun a few test samples with the
    # same ids, which reproduces their simulation exactly.
    bf_ids = test[: size.n_bf]
    spikes = model.features(
        p[bf_ids], sample_ids=bf_ids, record_spikes=True, seed=seed, backend=backend
    )
    bf = branching_factor(spikes, model.adjacency())
    out = {
        "model": name,
        "w_astro": cfg.w_astro if cfg.plasticity == "astro" else None,
        "w_init": cfg.w_init,
        "val_accuracy": 100.0 * val_acc,
        "accuracy": 100.0 * readout.score(x_te, labels[test]),
        "bf": bf.attrs["bf_mean"],
        "rate_hz": float(counts[used].mean() / (cfg.sample_ms / 1000.0)),
    }
    return out, spikes


def _backend(device) -> str:
    """The spiking engine's backend for ``device``: its CUDA kernels on a GPU where they
    were built (``NEURODYN_CUDA=1``), else its CPU kernels."""
    dev = resolve_device(device)
    if dev.type != "cuda":
        return "auto"
    if device == AUTO and "cuda" not in available_backends():
        logger.info("the spiking engine's CUDA kernels are not built; running on the CPU")
        return "auto"
    return "cuda"  # an explicit GPU: resolve_backend says why if its kernels are missing


def _jobs(cfg: NALSMReproductionConfig) -> list[tuple[str, NALSMConfig]]:
    base = NALSMConfig(grid=cfg.grid)
    jobs = [(f"NALSM w_A={w:g}", replace(base, w_astro=w)) for w in cfg.w_astro]
    jobs.append(("LSM+STDP", replace(base, plasticity="stdp")))
    jobs += [(f"LSM w={w:g}", replace(base, plasticity="none", w_init=w)) for w in cfg.lsm_weights]
    return jobs


def _with_paper(sweep: list[dict], runs: list[dict]) -> list[dict]:
    """The three models of the paper's table: NALSM, LSM+STDP and the LSM (best of its
    fixed weights on validation), each beside the paper's numbers."""
    nalsm = next(r for r in sweep if r["w_astro"] == NALSM_W_ASTRO)
    stdp = next(r for r in runs if r["model"] == "LSM+STDP")
    lsm = max((r for r in runs if r["model"].startswith("LSM w=")), key=lambda r: r["val_accuracy"])
    models = []
    for label, r in (("NALSM", nalsm), ("LSM+STDP", stdp), ("LSM", lsm)):
        paper = PAPER["models"][label]
        models.append({**r, "model": label, "run": r["model"], "accuracy_paper": paper["accuracy"],
                       "bf_paper": paper["bf"]})  # fmt: skip
    return models


def _run(cfg: NALSMReproductionConfig, *, seed: int, progress: bool, device) -> dict:
    backend = resolve_backend(_backend(device))
    images, labels = load_digits(upsample=None)
    split = _split(labels, cfg, seed)
    _, scale = images_to_probabilities(images[split[0]])
    p, _ = images_to_probabilities(images, scale=scale)
    runs, spikes = [], {}
    jobs = progress_bar(_jobs(cfg), progress=progress, desc="NALSM reproduction", unit="model")
    for name, model_cfg in jobs:
        logger.info("running %s", name)
        row, spikes[name] = _evaluate(name, model_cfg, p, labels, split, cfg, seed, False, backend)
        runs.append(row)
    sweep = [r for r in runs if r["w_astro"] is not None]
    for r in sweep:
        k = PAPER["w_astro"].index(r["w_astro"]) if r["w_astro"] in PAPER["w_astro"] else None
        r["bf_paper"] = PAPER["bf"][k] if k is not None else None
        r["accuracy_paper"] = PAPER["accuracy"][k] if k is not None else None
    models = _with_paper(sweep, runs)
    return {
        "sweep": sweep,
        "models": models,
        "runs": runs,
        "data": {"name": "sklearn digits 8x8", "n_train": int(split[0].size),
                 "n_val": int(split[1].size), "n_test": int(split[2].size),
                 "n_classes": int(np.unique(labels).size)},
        "_raster": spikes[models[0]["run"]],
    }  # fmt: skip


# -- claims --------------------------------------------------------------------------------
def bf_falls_with_w_astro(results) -> bool:
    """The branching factor falls as the astrocyte gain rises (ends and correlation)."""
    w = [r["w_astro"] for r in results["sweep"]]
    bfs = [r["bf"] for r in results["sweep"]]
    return bfs[-1] < bfs[0] and np.corrcoef(np.log(w), bfs)[0, 1] < 0


def _model(results, name: str) -> dict:
    return next(r for r in results["models"] if r["model"] == name)


CLAIMS = (
    Claim("bf_falls_with_w_astro", "the branching factor falls as w_A rises",
          bf_falls_with_w_astro),
    Claim("nalsm_at_least_stdp", "NALSM at least as accurate as the LSM with plain STDP",
          lambda r: _model(r, "NALSM")["accuracy"] >= _model(r, "LSM+STDP")["accuracy"]),
    Claim("above_chance", "every model above twice chance accuracy",
          lambda r: min(x["accuracy"] for x in r["runs"]) > 2 * 100.0 / r["data"]["n_classes"]),
)  # fmt: skip


# -- tables and figure ---------------------------------------------------------------------
def _summary(results, cfg: NALSMReproductionConfig, seed: int) -> str:
    d = results["data"]
    return (
        f"Ours: {np.prod(cfg.grid)}-neuron liquid on {d['name']} ({d['n_train']} train / "
        f"{d['n_val']} validation / {d['n_test']} test), seed {seed}. "
        "Paper: NALSM1000 on MNIST, mean of 10 networks. Accuracies in %."
    )


def _sweep_rows(results, cfg) -> list:
    return [
        [f"{r['w_astro']:g}", _fmt(r["bf"]), _fmt(r["bf_paper"]), _fmt(r["accuracy"]),
         _fmt(r["accuracy_paper"]), _fmt(r["rate_hz"], ".1f")]
        for r in results["sweep"]
    ]  # fmt: skip


def _model_rows(results, cfg) -> list:
    return [
        [r["model"], r["run"], _fmt(r["accuracy"]), _fmt(r["accuracy_paper"]), _fmt(r["bf"]),
         _fmt(r["bf_paper"]), _fmt(r["rate_hz"], ".1f")]
        for r in results["models"]
    ]  # fmt: skip


TABLES = (
    Table(("w_A", "BF (ours)", "BF (paper)", "accuracy (ours)", "accuracy (paper)", "rate (Hz)"),
          _sweep_rows, title="Branching factor and accuracy against the astrocyte gain w_A"),
    Table(("model", "run", "accuracy (ours)", "accuracy (paper)", "BF (ours)", "BF (paper)",
           "rate (Hz)"), _model_rows, title="Models"),
    Table(("section", "model", "w_astro", "accuracy", "accuracy_paper", "bf", "bf_paper",
           "val_accuracy", "rate_hz"),
          lambda results, cfg: [{**row, "section": section} for section in ("sweep", "models")
                                for row in results[section]],
          markdown=False, csv=""),
)  # fmt: skip


def _figure(results, claims, cfg) -> Figure:
    fig = Figure(figsize=(10.0, 7.5), layout="constrained")
    axes = fig.subplots(2, 2)
    sweep = results["sweep"]
    wa = [r["w_astro"] for r in sweep]
    for ax, key, label, title in ((axes[0, 0], "bf", "branching factor", "criticality"),
                                  (axes[0, 1], "accuracy", "test accuracy (%)", "accuracy")):  # fmt: skip
        ax.plot(wa, [r[key] for r in sweep], "o-", label="ours (digits)")
        ax.plot(PAPER["w_astro"], PAPER[key], "s--", color="0.5", label="paper (MNIST)")
        ax.set(xscale="log", xlabel="astrocyte gain $w_A$", ylabel=label, title=title)
        ax.legend(fontsize="small")
    axes[0, 0].axhline(1.0, color="0.8", lw=0.8, zorder=0)
    ax, models = axes[1, 0], results["models"]
    x = np.arange(len(models))
    ax.bar(x - 0.2, [r["accuracy"] for r in models], 0.4, label="ours (digits)")
    ax.bar(x + 0.2, [r["accuracy_paper"] for r in models], 0.4, color="0.6", label="paper (MNIST)")
    ax.set_xticks(x, [r["model"] for r in models])
    low = min(89.0, *(r["accuracy"] for r in models))
    ax.set(ylim=(max(0.0, low - 5.0), 100.0), ylabel="test accuracy (%)", title="models")
    ax.legend(fontsize="small", loc="lower right")
    plot_raster(results["_raster"], 0, populations=["input", "exc", "inh"], ax=axes[1, 1],
                markersize=0.8)  # fmt: skip
    axes[1, 1].set_title(f"NALSM (w_A = {NALSM_W_ASTRO:g}), one test sample")
    return fig


#: The reproduction (``neurodyn reproduce nalsm``).
NALSM_REPRODUCTION = Reproduction(
    name="nalsm",
    stem="nalsm_reproduction",
    title="NALSM reproduction (Ivanov & Michmizos, NeurIPS 2021)",
    citation="Ivanov & Michmizos (2021). Increasing liquid state machine performance with "
    "edge-of-chaos dynamics organized by astrocyte-modulated plasticity. NeurIPS 2021.",
    paper=PAPER,
    config_type=NALSMReproductionConfig,
    full=FULL,
    quick=QUICK,
    run=_run,
    work=None,  # each simulation chooses its threads from its own work and the machine
    summary=_summary,
    tables=TABLES,
    claims=CLAIMS,
    figure=_figure,
)


def reproduce_nalsm(
    out_dir,
    *,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    device="auto",
    threads: int | None = None,
    config: NALSMReproductionConfig | None = None,
) -> dict:
    """Run the w_A sweep and the baselines; write a figure and tables beside the paper's numbers.

    Parameters
    ----------
    out_dir : path-like
        Folder for ``nalsm_reproduction.png``, ``.csv``, ``.md`` and ``.json`` (each
        written atomically).
    quick : bool
        A 216-neuron liquid, 600 digits and three w_A values (15-30 s) instead of
        NALSM1000 on all 1797 digits and the paper's seven (about five minutes
        on two busy cores).
    seed : int
        Seeds the liquid, the data split, the initialisation and the input spikes.
    progress : bool
        Show progress bars.
    device : str or torch.device
        ``"auto"``: the spiking engine's CUDA kernels on a GPU where they were built,
        else its C++ kernels; ``"cpu"``; ``"cuda"`` (refused with the reason where the
        CUDA kernels are not available).
    threads : int, optional
        Threads for everything (default: each simulation's own choice from its work
        and the machine's load, :mod:`neurodyn.threads`).
    config : NALSMReproductionConfig, optional
        Every size explicitly (overrides ``quick``).

    Returns
    -------
    dict
        ``sweep`` (one row per w_A: ``bf``, ``accuracy``, ``val_accuracy``,
        ``rate_hz``, and the paper's ``bf_paper`` / ``accuracy_paper``),
        ``models`` (NALSM, LSM+STDP, LSM rows with the paper's numbers), ``runs``
        (every model run), ``data``, and what
        :class:`~neurodyn.reproduce.harness.Reproduction` adds (``claims``: the
        qualitative checks ``bf_falls_with_w_astro``, ``nalsm_at_least_stdp``,
        ``above_chance``; ``config``, ``seconds``, ``files``...).
    """
    return NALSM_REPRODUCTION(out_dir, quick=quick, seed=seed, progress=progress, device=device,
                              threads=threads, config=config)  # fmt: skip
