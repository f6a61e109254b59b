"""Self-supervised training of the DCDM network (no solutions needed).

For a right-hand side ``b`` (unit norm) and network output ``q = f(b)`` the loss is the
residual after one exact line search along ``q`` (Kaneda et al., ICML 2023, eq. 5):

    L(q; b) = || b - (q.b / q.Aq) A q ||^2 / ||b||^2,

which is zero exactly when ``A q`` is parallel to ``b`` (``q`` is the solution direction).
Right-hand sides are synthesised on the fly, weighted toward the operator's low-frequency
modes (fast inverse DCT of decaying random cosine-mode amplitudes,
:func:`sciml.solvers.poisson_problems.low_frequency_fields`), on random problems from the
training obstacle families (never the held-out family), a fraction of them with a 1:1000
density jump. ``A q`` uses the system's matrix-free, differentiable matvec.

Reproduce the shipped model ``solvers/models/dcdm3d.pt`` (CPU, 2 torch threads; three stages,
~66 min of wall time in all on a shared 2-core machine; the right-hand-side spectrum is widened
in stages 2-3 because a model trained only on smooth ``b`` stalls once DCDM's residuals turn
rough)::

    python -m sciml.solvers.dcdm_train --schedule 32:450 --batch 4 --seed 0 --out stage1.pt
    python -m sciml.solvers.dcdm_train --init stage1.pt --schedule 32:150 --batch 4 --seed 1 \
        --lr 1e-3 --warmup 10 --k0-max 16 --noise-max 0.5 --out stage2.pt
    python -m sciml.solvers.dcdm_train --init stage2.pt --schedule 32:400 --batch 4 --seed 2 \
        --lr 1e-3 --warmup 10 --k0-max 32 --noise-max 1.0 --out solvers/models/dcdm3d.pt

(stage 1 ran with ``torch.nn.utils.clip_grad_norm_``, since replaced by an equivalent local
clip, so a rerun matches up to floating-point differences.)

``--schedule`` is a list of ``n:steps`` stages (grid size per side : optimiser steps).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch

from sciml.solvers.dcdm_net import DCDMNet, geometry_features
from sciml.solvers.poisson_problems import (
    TRAIN_FAMILIES,
    low_frequency_fields,
    make_problem,
)

__all__ = ["dcdm_loss", "train_dcdm", "main"]


def dcdm_loss(q: torch.Tensor, b: torch.Tensor, Aq: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``||b - (q.b / q.Aq) Aq||^2 / ||b||^2``.

    ``q, b, Aq: [B, n]`` (vectors on the unknowns). Returns a scalar.
    """
    if not (q.shape == b.shape == Aq.shape) or q.ndim != 2:
        raise ValueError(
            f"q, b, Aq must all be [B, n]; got {list(q.shape)}, {list(b.shape)}, {list(Aq.shape)}"
        )
    qb = (q * b).sum(-1)
    qAq = (q * Aq).sum(-1)
    alpha = qb / torch.where(qAq.abs() > 0, qAq, torch.ones_like(qAq))
    res = b - alpha[:, None] * Aq
    return (res.square().sum(-1) / b.square().sum(-1)).mean()


def _clip_grad_norm(params, max_norm: float) -> None:
    """Scale gradients to total norm <= max_norm (torch's version imports DTensor, ~10 s)."""
    grads = [p.grad for p in params if p.grad is not None]
    total = torch.sqrt(sum(g.square().sum() for g in grads))
    scale = (max_norm / (total + 1e-12)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale)


class _ProblemPool:
    """Random training problems, regenerated every ``refresh`` draws (assembly is not free)."""

    def __init__(self, n: int, ndim: int, rng: np.random.Generator, density_fraction: float):
        self.n, self.ndim, self.rng = n, ndim, rng
        self.density_fraction = density_fraction

    def draw(self):
        family = str(self.rng.choice(TRAIN_FAMILIES))
        ratio = 1000.0 if self.rng.uniform() < self.density_fraction else None
        seed = int(self.rng.integers(2**31))
        p = make_problem(self.n, ndim=self.ndim, family=family, density_ratio=ratio, seed=seed)
        geo = geometry_features(p.active, p.walls, p.coefficient)
        return p, geo


def train_dcdm(
    *,
    schedule: list[tuple[int, int]],
    ndim: int = 3,
    batch: int = 4,
    lr: float = 2e-3,
    seed: int = 0,
    density_fraction: float = 0.3,
    problem_every: int = 4,
    warmup: int = 50,
    k0_max: float = 6.0,
    noise_max: float = 0.1,
    model: DCDMNet | None = None,
    progress: bool = True,
    log: list | None = None,
) -> DCDMNet:
    """Train a :class:`DCDMNet` by the self-supervised DCDM loss.

    Args:
        schedule: stages ``[(n, steps), ...]``: grid size per side and optimiser steps.
        ndim: 2 or 3.
        batch: right-hand sides per step (all on the same problem).
        lr: peak AdamW learning rate (cosine decay over all steps).
        seed: seeds torch and the problem / right-hand-side generator.
        density_fraction: share of problems with a 1:1000 density jump.
        problem_every: steps between new random problems.
        warmup: linear learning-rate warm-up steps.
        k0_max, noise_max: right-hand-side spectrum: mode roll-off ``k0`` drawn log-uniformly in
            ``[1, k0_max]``, white-noise share in ``[0, noise_max]``.
        model: continue training this model (default: a fresh ``DCDMNet(ndim)``).
        log: if a list, ``(step, n, loss, seconds)`` rows are appended.
    """
    from tqdm import tqdm

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = model if model is not None else DCDMNet(ndim=ndim)
    net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-5)
    total = sum(s for _, s in schedule)
    warm = max(1, warmup)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda i: min(1.0, (i + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(i, total) / total)),
    )
    step = 0
    t0 = time.perf_counter()
    bar = tqdm(total=total, disable=not progress, unit="step")
    ema = None
    for n, steps in schedule:
        pool = _ProblemPool(n, ndim, rng, density_fraction)
        for i in range(steps):
            if i % problem_every == 0:
                prob, geo = pool.draw()
                sysm = prob.system
            f = low_frequency_fields(
                prob.shape, batch, rng=rng, k0=(1.0, k0_max), noise=(0.0, noise_max)
            )
            b = sysm.to_vector(torch.from_numpy(f).float())
            b = b / b.norm(dim=-1, keepdim=True)
            field = sysm.to_field(b)
            rms = b.square().mean(-1).sqrt()
            q = net(field / rms.reshape(-1, *[1] * ndim), geo)
            qv = sysm.to_vector(q)
            loss = dcdm_loss(qv, b, sysm.matvec(qv))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            _clip_grad_norm(net.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            lv = float(loss.detach())
            ema = lv if ema is None else 0.95 * ema + 0.05 * lv
            bar.set_postfix(n=n, loss=f"{ema:.4f}", refresh=False)
            bar.update()
            if log is not None:
                log.append((step, n, lv, time.perf_counter() - t0))
    bar.close()
    net.eval()
    return net


def save_model(net: DCDMNet, path: str | Path, meta: dict) -> None:
    """Save config + float32 weights + metadata (reproduction command, losses)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().float().cpu() for k, v in net.state_dict().items()}
    torch.save({"config": net.config, "state_dict": state, "meta": meta}, path)


def _parse_schedule(text: str) -> list[tuple[int, int]]:
    try:
        out = [(int(a), int(b)) for a, b in (s.split(":") for s in text.split(","))]
    except ValueError:
        raise ValueError(f"--schedule must look like 32:1000,64:100, got {text!r}") from None
    if not out or any(n < 8 or s < 0 for n, s in out):
        raise ValueError(f"--schedule needs n >= 8 and steps >= 0, got {text!r}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schedule", default="32:450", help="n:steps stages")
    ap.add_argument("--ndim", type=int, default=3)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--density-fraction", type=float, default=0.3)
    ap.add_argument("--k0-max", type=float, default=6.0, help="highest mode roll-off of b")
    ap.add_argument("--noise-max", type=float, default=0.1, help="largest white-noise share")
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--init", default=None, help="continue from this checkpoint")
    ap.add_argument("--out", default="solvers/models/dcdm3d.pt")
    args = ap.parse_args(argv)
    schedule = _parse_schedule(args.schedule)
    model = None
    if args.init:
        from sciml.solvers.dcdm import load_model

        model = load_model(args.init)
    log: list = []
    t0 = time.perf_counter()
    net = train_dcdm(
        schedule=schedule,
        ndim=args.ndim,
        batch=args.batch,
        lr=args.lr,
        seed=args.seed,
        density_fraction=args.density_fraction,
        warmup=args.warmup,
        k0_max=args.k0_max,
        noise_max=args.noise_max,
        model=model,
        log=log,
    )
    wall = time.perf_counter() - t0
    tail = [row[2] for row in log[-50:]]
    meta = {
        "command": "python -m sciml.solvers.dcdm_train "
        + " ".join(argv if argv is not None else __import__("sys").argv[1:]),
        "schedule": schedule,
        "families": list(TRAIN_FAMILIES),
        "final_loss_mean50": float(np.mean(tail)) if tail else None,
        "train_seconds": wall,
        "torch": str(torch.__version__),
        "threads": torch.get_num_threads(),
    }
    save_model(net, args.out, meta)
    print(f"saved {args.out}: loss(last 50) {meta['final_loss_mean50']:.4f}, {wall:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
