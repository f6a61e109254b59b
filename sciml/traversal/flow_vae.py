"""Potential flows as a training-time prior of a VAE on transformation sequences.

Song et al. (ICML 2023, Sec. 5.3) train a VAE on sequences ``x_0 .. x_{T-1}`` in which one
known transformation ``k`` acts step by step, and ask the latent codes to move along the flow
of potential ``k``: the code of the first frame, flowed ``j`` steps, must decode to frame ``j``
and land near frame ``j``'s own code, while the potentials obey their PDE. The claim is a
better likelihood than the same VAE trained on the same frames without the flows.

Per sequence (``z_0 ~ q(z | x_0)``, ``z'_j = flow_k^j(z_0)``, ``mu_j`` the posterior mean):

``loss = sum_j [-log p(x_j | z_j) + KL_j]                       (the plain VAE's ELBO)
       + flow * sum_{j>=1} [-log p(x_j | z'_j) + match |z'_j - mu_j|^2]
       + pde * (mean PDE residual^2 + IC)``

With ``flow = pde = 0`` (or no flow module) this is exactly the plain VAE on the same batches.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from sciml.io import atomic_save
from sciml.train.checkpoint import model_file_payload
from sciml.train.task import Task
from sciml.traversal.constraint import PDEConstraint
from sciml.traversal.flow import PotentialFlow
from sciml.traversal.sequences import DigitSequences
from sciml.traversal.vae import ConvVAE

if TYPE_CHECKING:
    from pathlib import Path

    from sciml.train.trainer import TrainConfig

__all__ = ["FlowVAE", "FlowVAETask"]


class FlowVAE(nn.Module):
    """A VAE and (optionally) the ``K`` potential flows of its known transformations."""

    def __init__(self, vae: ConvVAE, flow: PotentialFlow | None = None) -> None:
        super().__init__()
        if flow is not None and flow.dim != vae.latent:
            raise ValueError(f"the flow's dim {flow.dim} must equal the VAE latent {vae.latent}")
        self.vae, self.flow = vae, flow


class FlowVAETask(Task):
    """Train a :class:`FlowVAE` on :class:`~sciml.traversal.sequences.DigitSequences`.

    ``Trainer(FlowVAE(vae, flow), cfg, task=FlowVAETask(constraint)).fit(train_seqs,
    val_seqs)``; items are sequences. ``val`` is the plain negative ELBO per frame on the
    validation sequences (the same criterion with and without the flows, so model selection
    does not favour either). The saved ``model.pt`` is the VAE alone (load it with
    :func:`~sciml.traversal.model.load_vae`).

    Args:
        constraint: the potentials' PDE (required when the model has a flow).
        flow: weight of the flowed reconstruction and latent-matching terms.
        match: weight of ``|z'_j - mu_j|^2`` inside the flow term.
        pde: weight of the PDE residual and initial-condition terms.
        warmup: optimiser steps over which the KL weight ramps from 0 to 1.
    """

    selection_metric = "val"

    def __init__(
        self,
        constraint: PDEConstraint | None = None,
        *,
        flow: float = 1.0,
        match: float = 1.0,
        pde: float = 1.0,
        warmup: int = 0,
    ) -> None:
        for name, v in (("flow", flow), ("match", match), ("pde", pde)):
            if not v >= 0:
                raise ValueError(f"{name} must be >= 0, got {v!r}")
        self.constraint = constraint
        self.w_flow, self.w_match, self.w_pde, self.warmup = flow, match, pde, int(warmup)
        self.step = 0

    def begin_step(self, step: int, total_steps: int | None) -> None:
        self.step = step

    def setup(
        self, model: nn.Module, train: Any, val: Any, *, config: TrainConfig, device: torch.device
    ) -> FlowVAE:
        """Check ``model`` is a :class:`FlowVAE` and ``train``/``val`` are
        :class:`~sciml.traversal.sequences.DigitSequences` (frames rendered per batch on
        ``device``); return ``model``."""
        if not isinstance(model, FlowVAE):
            raise TypeError(f"FlowVAETask trains a FlowVAE, got {type(model).__name__}")
        if model.flow is not None and self.constraint is None:
            raise ValueError("a FlowVAE with a flow needs constraint=PDEConstraint(...)")
        for name, d in (("train", train), ("val", val)):
            if d is not None and not isinstance(d, DigitSequences):
                raise ValueError(f"{name} must be DigitSequences, got {type(d).__name__}")
        if model.flow is not None and model.flow.num_directions != train.num_transforms:
            raise ValueError(
                f"the flow has {model.flow.num_directions} potentials but the data has "
                f"{train.num_transforms} transformations"
            )
        self.train_data, self.val_data, self.device = train, val, device
        return model

    def num_train(self) -> int:
        return len(self.train_data)

    def _batch(self, data: DigitSequences, idx: torch.Tensor):
        idx = idx.cpu()
        return data.render(idx).to(self.device), data.transform[idx].to(self.device)

    def terms(self, net: FlowVAE, x: torch.Tensor, k: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-sequence loss terms ``[B]`` of sequences ``x: [B, T, C, H, W]``, transforms ``k``."""
        b, steps = x.shape[:2]
        vae = net.vae
        frames = x.reshape(b * steps, *x.shape[2:])
        mu, logvar = vae.encode(frames)
        z = vae.sample(mu, logvar)
        rec = -vae.log_likelihood(frames, vae.decode(z)).reshape(b, steps)
        kl = vae.kl(mu, logvar).reshape(b, steps)
        out = {"rec": rec.sum(1), "kl": kl.sum(1)}
        zero = torch.zeros(b, dtype=x.dtype, device=x.device)
        out.update(flow_rec=zero, match=zero, pde=zero)
        if net.flow is not None and (self.w_flow > 0 or self.w_pde > 0):
            z0 = z.reshape(b, steps, -1)[:, 0]
            traj = net.flow.trajectory(z0, k, steps - 1, create_graph=True)  # [T, B, d]
            zf = traj[1:].transpose(0, 1).reshape(b * (steps - 1), -1)
            later = x[:, 1:].reshape(b * (steps - 1), *x.shape[2:])
            out["flow_rec"] = -vae.log_likelihood(later, vae.decode(zf)).reshape(b, -1).sum(1)
            mu_later = mu.reshape(b, steps, -1)[:, 1:].reshape(b * (steps - 1), -1)
            out["match"] = (zf - mu_later).pow(2).sum(1).reshape(b, -1).sum(1)
            out["pde"] = self.constraint.loss(
                net.flow, traj, k
            ) + self.constraint.initial_condition(net.flow, z0, k)
        return out

    def loss(self, net: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        """Summed per-sequence loss of the sequences ``idx: [b]`` (the module docstring's
        formula); logs the summed terms."""
        x, k = self._batch(self.train_data, idx)
        t = self.terms(net, x, k)
        beta = 1.0 if self.warmup == 0 else min(1.0, self.step / self.warmup)
        loss = (
            t["rec"]
            + beta * t["kl"]
            + self.w_flow * (t["flow_rec"] + self.w_match * t["match"])
            + self.w_pde * t["pde"]
        )
        return loss.sum(), {name: v.detach().sum() for name, v in t.items()}

    def validate(self, module: nn.Module) -> dict[str, float]:
        """``"val"``: the plain negative ELBO per frame on the validation sequences (seed 0)."""
        data = self.val_data
        if data is None or len(data) == 0:
            return {"val": math.nan}
        total, frames = 0.0, 0
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(0)
            with torch.no_grad():
                for i in range(0, len(data), 64):
                    idx = torch.arange(i, min(i + 64, len(data)))
                    x, _ = self._batch(data, idx)
                    flat = x.reshape(-1, *x.shape[2:])
                    total += float(module.vae(flat).sum())
                    frames += flat.shape[0]
        return {"val": total / frames}

    def save_model(self, module: nn.Module, path: Path, extra: dict[str, Any]) -> None:
        """Write the VAE alone as the model file (the flows are a training-time prior)."""

        vae = module.vae
        atomic_save(model_file_payload(vae.spec, vae.state_dict(), extra=extra), path)
