"""The experiments of the traversal benchmark and tutorial, as functions (all training through
the one Trainer).

* :func:`train_sprite_vae` - a VAE on the dSprites-style set (:mod:`sciml.traversal.sprites`);
* :func:`build_traversal` / :func:`train_traversal` - ``K`` traversals of its latent space by
  one of :data:`METHODS`: potential flows under each PDE, learned linear directions, closed-form
  Jacobian (SeFa-style) directions, and the VAE's own axes as a reference;
* :func:`evaluate_traversal` - MIG and DCI of the code the traversals induce, and traversal
  quality measured on decoded images with the sprite oracle;
* :func:`likelihood_experiment` - a VAE on digit transformation sequences with and without the
  potential-flow prior, scored by the importance-weighted bound on test frames.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from sciml.train import TrainConfig, Trainer
from sciml.traversal.constraint import PDEConstraint, traversal_pde
from sciml.traversal.dci import dci
from sciml.traversal.flow import PotentialFlow
from sciml.traversal.flow_vae import FlowVAE, FlowVAETask
from sciml.traversal.likelihood import iw_log_likelihood
from sciml.traversal.linear import LinearDirections
from sciml.traversal.mig import mig
from sciml.traversal.model import (
    TraversalModel,
    load_traversal_model,
    load_vae,
    save_traversal_model,
)
from sciml.traversal.objective import TraversalObjective
from sciml.traversal.quality import factor_changes, traversal_quality
from sciml.traversal.reconstructor import Reconstructor
from sciml.traversal.sefa import sefa_directions
from sciml.traversal.sequences import DigitSequences, digit_sequences
from sciml.traversal.sprite_oracle import SpriteOracle
from sciml.traversal.sprites import SpriteSet, sprites
from sciml.traversal.traversal_task import TraversalTask
from sciml.traversal.vae import ConvVAE
from sciml.traversal.vae_task import VAETask

__all__ = [
    "METHODS",
    "PDE_METHODS",
    "SpriteBudget",
    "LikelihoodBudget",
    "train_sprite_vae",
    "build_traversal",
    "train_traversal",
    "evaluate_traversal",
    "disentanglement_experiment",
    "fit_traversal_run",
    "sprite_data",
    "likelihood_experiment",
]

PDE_METHODS = ("wave", "heat", "fokker-planck", "hamilton-jacobi")
METHODS = PDE_METHODS + ("linear", "sefa", "vae-axes")


@dataclass(frozen=True)
class SpriteBudget:
    """Sizes of the disentanglement experiment (defaults: the benchmark's CPU budget)."""

    size: int = 32
    n_train: int = 10_000
    n_val: int = 500
    n_eval: int = 2_000
    latent: int = 8
    vae_width: int = 32
    vae_epochs: int = 10
    vae_warmup: int = 500
    #: KL weight of the VAE (beta-VAE; 1: the plain ELBO). Disentangled axes need beta > 1.
    vae_beta: float = 1.0
    directions: int = 5
    steps: int = 6
    hidden: int = 32
    rec_width: int = 16
    trav_items: int = 4_000
    trav_epochs: int = 8
    trav_batch: int = 32
    trav_lr: float = 3e-3
    collocation: int = 2
    linear_step: float = 0.5
    starts: int = 64

    @classmethod
    def quick(cls) -> SpriteBudget:
        return cls(
            n_train=5_000,
            n_val=200,
            n_eval=1_000,
            vae_epochs=6,
            vae_warmup=150,
            trav_items=1_600,
            trav_epochs=5,
            starts=32,
        )

    @classmethod
    def smoke(cls) -> SpriteBudget:
        return cls(
            size=16,
            n_train=600,
            n_val=64,
            n_eval=300,
            latent=4,
            vae_width=8,
            vae_epochs=3,
            vae_warmup=10,
            directions=3,
            steps=3,
            hidden=16,
            rec_width=8,
            trav_items=128,
            trav_epochs=2,
            starts=8,
        )


def _quiet(cfg: TrainConfig) -> TrainConfig:
    return dataclasses.replace(cfg, progress=False)


def sprite_data(seed: int, budget: SpriteBudget) -> dict[str, SpriteSet]:
    """The seeded, disjoint ``{"train", "val", "eval"}`` sprite sets of an experiment."""
    b = budget
    return {
        "train": sprites(b.n_train, size=b.size, seed=1000 * seed),
        "val": sprites(b.n_val, size=b.size, seed=1000 * seed + 1),
        "eval": sprites(b.n_eval, size=b.size, seed=1000 * seed + 2),
    }


def train_sprite_vae(
    seed: int,
    budget: SpriteBudget,
    *,
    out_dir: str | Path | None = None,
    device="cpu",
    beta: float | None = None,
    resume: bool = False,
    progress: bool = False,
) -> tuple[ConvVAE, dict[str, SpriteSet]]:
    """A VAE (Bernoulli pixels) trained on ``budget.n_train`` sprites; returns it (eval mode)
    and the data ``{"train", "val", "eval"}`` (disjoint seeded draws)."""
    b = budget
    data = sprite_data(seed, budget)
    torch.manual_seed(seed)
    vae = ConvVAE(1, b.size, b.latent, width=b.vae_width)
    cfg = TrainConfig(
        epochs=b.vae_epochs,
        batch_size=64,
        lr=2e-3,
        weight_decay=0.0,
        scheduler="cosine",
        seed=seed,
        progress=progress,
    )
    task = VAETask(b.vae_beta if beta is None else beta, warmup=b.vae_warmup)
    Trainer(vae, cfg, task=task, out_dir=out_dir, device=device).fit(
        data["train"].images, data["val"].images, resume=resume
    )
    return vae.eval(), data


@torch.no_grad()
def _codes(vae: ConvVAE, x: torch.Tensor) -> torch.Tensor:
    dev = next(vae.parameters()).device
    return torch.cat([vae.encode(x[i : i + 256].to(dev))[0].cpu() for i in range(0, len(x), 256)])


def build_traversal(
    method: str, vae: ConvVAE, train_images: torch.Tensor, budget: SpriteBudget
) -> tuple[TraversalModel, TraversalObjective | None]:
    """An untrained traversal of ``vae`` by ``method`` and its objective (``None``: nothing to
    train: the closed-form SeFa directions and the VAE's axes are built here)."""
    b = budget
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    shape = (vae.channels, vae.size, vae.size)
    rec = Reconstructor(shape, b.directions, width=b.rec_width)
    if method in PDE_METHODS:
        c = PDEConstraint(traversal_pde(method, b.latent))
        flow = PotentialFlow(
            b.latent,
            b.directions,
            hidden=b.hidden,
            start_time=c.start_time,
            code_time=c.start_time + b.steps / 2,
        )
        obj = TraversalObjective(steps=b.steps, constraint=c, collocation=b.collocation)
        return TraversalModel(vae, flow, rec, pde=method), obj
    if method == "linear":
        trav = LinearDirections(b.latent, b.directions, step_size=b.linear_step)
        return TraversalModel(vae, trav, rec), TraversalObjective(steps=b.steps)
    z = _codes(vae, train_images[:512])
    if method == "sefa":
        trav = sefa_directions(vae.mean_image, z, b.directions, step_size=b.linear_step)
    else:  # the VAE's most used axes (largest mean KL per dimension)
        with torch.no_grad():
            mu, logvar = vae.encode(train_images[:512].to(next(vae.parameters()).device))
            kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).mean(0).cpu()
        axes = torch.eye(b.latent)[kl.argsort(descending=True)[: b.directions]]
        trav = LinearDirections(
            b.latent, b.directions, step_size=b.linear_step, directions=axes, learnable=False
        )
    return TraversalModel(vae, trav, None), None


def train_traversal(
    model: TraversalModel,
    objective: TraversalObjective,
    data: dict[str, SpriteSet],
    budget: SpriteBudget,
    *,
    seed: int,
    out_dir: str | Path | None = None,
    device="cpu",
    resume: bool = False,
    progress: bool = False,
) -> list[dict]:
    """Train ``model``'s traversal and reconstructor (Trainer + :class:`TraversalTask`)."""
    b = budget
    cfg = TrainConfig(
        epochs=b.trav_epochs,
        batch_size=b.trav_batch,
        lr=b.trav_lr,
        weight_decay=0.0,
        scheduler="none",
        seed=seed,
        progress=progress,
    )
    return Trainer(model, cfg, task=TraversalTask(objective), out_dir=out_dir, device=device).fit(
        data["train"].images[: b.trav_items], data["val"].images, resume=resume
    )


def fit_traversal_run(
    out: str | Path,
    method: str = "wave",
    budget: SpriteBudget | None = None,
    *,
    seed: int = 0,
    beta: float | None = None,
    vae: str | Path | None = None,
    device: str = "cpu",
    resume: bool = False,
    progress: bool = False,
    log=print,
) -> dict:
    """The traversal run that ``sciml traverse`` reads, made in two stages through the Trainer:
    a VAE on the dSprites-style set (``out/vae/``, skipped when ``vae`` names a trained VAE
    file), then the ``method``'s traversal of its latent space (``out/model.pt``). Each stage
    checkpoints every epoch; ``resume`` continues a stopped run (a finished stage is not
    trained again). Returns the traversal's evaluation (MIG, DCI, quality)."""
    b = budget or SpriteBudget()
    out = Path(out)
    data = sprite_data(seed, b)
    if vae is not None:
        net, _ = load_vae(vae, map_location=device)
        if (net.channels, net.size) != (1, b.size):
            raise ValueError(
                f"vae: {str(vae)!r} is a {net.channels}x{net.size}x{net.size} VAE; the sprite "
                f"set is 1x{b.size}x{b.size}"
            )
        b = dataclasses.replace(b, latent=net.latent)
    else:
        stage = out / "vae"
        if resume and (stage / "summary.json").exists():
            log(f"VAE stage finished earlier ({stage})")
        else:
            shown = b.vae_beta if beta is None else beta
            log(f"stage 1: VAE (latent {b.latent}, beta {shown}) for {b.vae_epochs} epochs")
            train_sprite_vae(seed, b, out_dir=stage, device=device, beta=beta,
                             resume=resume and (stage / "last.pt").exists(), progress=progress)  # fmt: skip
            (stage / "summary.json").write_text('{"stage": "vae", "finished": true}\n')
        net, _ = load_vae(stage / "model.pt", map_location=device)
    torch.manual_seed(seed)
    model, obj = build_traversal(method, net, data["train"].images, b)
    model = model.to(device)
    if obj is not None:
        log(f"stage 2: {method} traversal ({b.directions} directions) for {b.trav_epochs} epochs")
        train_traversal(model, obj, data, b, seed=seed, out_dir=out, device=device,
                        resume=resume and (out / "last.pt").exists(), progress=progress)  # fmt: skip
        model, _ = load_traversal_model(out / "model.pt", map_location=device)
    else:  # closed-form directions: nothing to train, the file is written directly
        out.mkdir(parents=True, exist_ok=True)
        save_traversal_model(out / "model.pt", model, {"steps": b.steps, "method": method})
    scores = evaluate_traversal(model, data, b, seed=seed)
    (out / "scores.json").write_text(
        json.dumps({"method": method, "seed": seed, **scores}, indent=2)
    )
    return scores


def evaluate_traversal(
    model: TraversalModel, data: dict[str, SpriteSet], budget: SpriteBudget, *, seed: int
) -> dict[str, float]:
    """MIG and DCI of the traversals' codes of the evaluation images, and traversal quality
    (purity and rate of the matched factor per step, :func:`traversal_quality`)."""
    b = budget
    model.eval()
    ev = data["eval"]
    mu = _codes(model.vae, ev.images)
    codes = model.traversal.codes(mu.to(next(model.parameters()).device)).cpu()
    m, _ = mig(codes, ev.factors)
    d = dci(codes, ev.factors, seed=seed)
    oracle = SpriteOracle(b.size, ev.sizes)
    gen = model.generator
    changes = factor_changes(
        model.traversal,
        lambda z: gen(z).cpu(),
        oracle,
        mu[: b.starts].to(next(model.parameters()).device),
        b.steps,
        categorical=oracle.categorical,
    )
    q = traversal_quality(changes)
    return {
        "mig": m,
        "dci_d": d["disentanglement"],
        "dci_c": d["completeness"],
        "dci_i": d["informativeness"],
        "quality": q["quality"],
        "rate": q["rate"],
        "factors": [ev.names[j] if j >= 0 else "-" for j in q["factor"].tolist()],
    }


def disentanglement_experiment(
    seed: int,
    budget: SpriteBudget,
    methods: tuple[str, ...] = METHODS,
    *,
    device="cpu",
    log=print,
) -> list[dict]:
    """One seed of the disentanglement comparison: one VAE, then every method on it."""
    t0 = time.perf_counter()
    vae, data = train_sprite_vae(seed, budget, device=device)
    log(f"seed {seed}: VAE trained in {time.perf_counter() - t0:.0f} s")
    rows = []
    for method in methods:
        t1 = time.perf_counter()
        torch.manual_seed(seed)
        model, obj = build_traversal(method, vae, data["train"].images, budget)
        model = model.to(device)
        hist = train_traversal(model, obj, data, budget, seed=seed, device=device) if obj else []
        train_s = time.perf_counter() - t1
        row = {"seed": seed, "method": method, "train_s": train_s}
        if hist:
            row["val_cls"] = hist[-1].get("val_cls")
        row.update(evaluate_traversal(model, data, budget, seed=seed))
        rows.append(row)
        log(
            f"seed {seed} {method:>15}: MIG {row['mig']:.3f} DCI-D {row['dci_d']:.3f} "
            f"quality {row['quality']:.3f} ({train_s:.0f} s)"
        )
    return rows


@dataclass(frozen=True)
class LikelihoodBudget:
    """Sizes of the likelihood experiment (defaults: the benchmark's CPU budget)."""

    size: int = 16
    steps: int = 9
    latent: int = 8
    width: int = 32
    scale: float = 0.1
    epochs: int = 3
    batch: int = 16
    lr: float = 2e-3
    warmup: int = 120
    hidden: int = 32
    pde: str = "wave"
    pde_weight: float = 1.0
    n_val: int = 200
    n_test: int = 150
    samples: int = 100
    n_train: int | None = None

    @classmethod
    def quick(cls) -> LikelihoodBudget:
        return cls(epochs=2, n_train=1500, n_test=80, samples=50)

    @classmethod
    def smoke(cls) -> LikelihoodBudget:
        return cls(
            size=8, steps=4, latent=4, width=8, epochs=1, n_train=96, n_val=24, n_test=16, samples=8
        )


def _subset(d: DigitSequences, idx: torch.Tensor) -> DigitSequences:
    return dataclasses.replace(
        d, digit=d.digit[idx], transform=d.transform[idx], hue=d.hue[idx], labels=d.labels[idx]
    )


def likelihood_experiment(
    seed: int, budget: LikelihoodBudget, *, flow: bool, device="cpu"
) -> dict[str, float]:
    """Train a VAE on digit transformation sequences with (``flow=True``) or without the
    potential-flow prior; return the IW bound (nats per frame) on test frames and timings."""
    b = budget
    train = digit_sequences("train", size=b.size, steps=b.steps, seed=seed)
    test = digit_sequences("test", size=b.size, steps=b.steps, seed=seed)
    if b.n_train is not None:
        keep = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))
        train = _subset(train, keep[: b.n_train].sort().values)
    perm = torch.randperm(len(test), generator=torch.Generator().manual_seed(12345))
    val = _subset(test, perm[: b.n_val])
    test = _subset(test, perm[b.n_val : b.n_val + b.n_test])
    torch.manual_seed(seed)
    vae = ConvVAE(3, b.size, b.latent, width=b.width, likelihood="gaussian", scale=b.scale)
    if flow:
        c = PDEConstraint(traversal_pde(b.pde, b.latent))
        pf = PotentialFlow(b.latent, 3, hidden=b.hidden, start_time=c.start_time)
        model, task = FlowVAE(vae, pf), FlowVAETask(c, warmup=b.warmup, pde=b.pde_weight)
    else:
        model, task = FlowVAE(vae), FlowVAETask(warmup=b.warmup)
    cfg = TrainConfig(
        epochs=b.epochs,
        batch_size=b.batch,
        lr=b.lr,
        weight_decay=0.0,
        scheduler="cosine",
        seed=seed,
        progress=False,
    )
    t0 = time.perf_counter()
    hist = Trainer(model, cfg, task=task, device=device).fit(train, val)
    train_s = time.perf_counter() - t0
    vae.eval()
    x = test.render(torch.arange(len(test))).reshape(-1, 3, b.size, b.size)
    ll = iw_log_likelihood(vae, x, samples=b.samples, generator=torch.Generator().manual_seed(seed))
    return {
        "seed": seed,
        "flow": flow,
        "iw_ll": float(ll.mean()),
        "iw_ll_se": float(ll.std() / len(ll) ** 0.5),
        "val_nelbo": hist[-1]["val"],
        "kl_per_frame": hist[-1]["kl"] / b.steps,
        "train_s": train_s,
    }
