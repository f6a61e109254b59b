"""The training objective of latent traversals: disentanglement + PDE + initial condition -
generator variation (Song, Keller, Sebe, Welling, ICML 2023, with the true Laplacian)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from sciml.traversal.base import Traversal
from sciml.traversal.constraint import PDEConstraint
from sciml.traversal.flow import PotentialFlow
from sciml.traversal.variation import generator_variation

__all__ = ["TraversalObjective"]


@dataclass
class TraversalObjective:
    """Per-item loss of ``K`` traversals of a frozen generator.

    For each latent ``z0`` of a batch (or once for the whole batch, ``per_batch=True``, the
    paper's choice) draw a traversal ``k ~ U{0..K-1}``, and for each latent a step
    ``tau ~ U{0..T-1}``; flow ``T`` steps; decode the pair ``(G(z_tau), G(z_{tau+1}))``. With
    probability ``reverse_prob`` the path is mirrored through ``z0`` (``2 z0 - z_s``), so each
    traversal must be recognisable in both directions (the paper's VAE setting). The loss of
    the item is

    ``cls * CE(R(pair), k) + pde * mean_s r_k(z_s, s)^2 + ic * |grad u_k(z0, 0)|^2
    - variation * phi(V)``,  ``V = mean((J_G(z_tau) v_k(z_tau, tau))^2)``

    where ``R`` is the reconstructor, ``r_k`` the residual of the constraint's PDE (the PDE and
    IC terms apply to potential flows only; linear directions get the classifier and variation
    terms: the learned-linear baseline of Voynov & Babenko 2020) and ``V`` the generator
    variation (:func:`~sciml.traversal.variation.generator_variation`).

    ``phi``: the paper subtracts ``V`` itself (``variation_form="linear"``). That term is
    unbounded below, and all of the PDE, IC and variation terms are quadratic in the size of
    the potentials, so the outcome depends on their scale: on the two-direction toy problem of
    the tests the potentials either collapse to a constant (PDE + IC win; nothing moves, the
    classifier stays at chance) or run away (without IC: ``V`` 0.005 -> 2.2 and the PDE
    residual 0.007 -> 4.3 in 100 steps, classifier at 0.6). The default ``"log"`` subtracts
    ``log(V + 1e-8)``: its pull grows as the flow stalls and fades as it speeds up, so the
    quadratic PDE and IC terms fix a finite scale (classifier loss 0.68 -> 0.001 in 300 steps
    on the same problem with the wave equation).

    Args:
        steps: ``T``, flow steps per item.
        constraint: the PDE of the potentials (``None``: no PDE / IC terms).
        cls, pde, ic, variation: weights (all 1 in the paper).
        reverse_prob: probability of mirroring a path (the paper's VAE trainer uses 0.5, its
            GAN trainer 0; mirrored pairs make the reconstructor's task harder: on 32x32
            sprites the learned-linear baseline's classifier loss fell from 1.61 to 0.83 in 600
            steps without mirroring and stayed at 1.57 with 0.5).
        variation_form: ``"log"`` (default) or ``"linear"`` (the paper's).
        collocation: PDE collocation steps drawn per item (``None``: all ``T`` steps of the
            path, as the paper; a number ``m < T`` gives an unbiased estimate of the same mean
            at ``m / T`` of the cost).
        per_batch: one traversal per batch (the paper) instead of one per item. The
            potentials then run as one graph instead of ``K`` small ones: 3.8x faster steps
            for K = 5 wave potentials on 32x32 sprites (CPU).
    """

    steps: int = 5
    constraint: PDEConstraint | None = None
    cls: float = 1.0
    pde: float = 1.0
    ic: float = 1.0
    variation: float = 1.0
    reverse_prob: float = 0.0
    variation_form: str = "log"
    collocation: int | None = None
    per_batch: bool = True

    def __post_init__(self) -> None:
        if self.variation_form not in ("log", "linear"):
            raise ValueError(
                f"variation_form must be 'log' or 'linear', got {self.variation_form!r}"
            )
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"steps must be a positive int, got {self.steps!r}")
        if self.collocation is not None and not (
            isinstance(self.collocation, int) and 1 <= self.collocation <= self.steps
        ):
            raise ValueError(
                f"collocation must be None or an int in [1, steps], got {self.collocation!r}"
            )
        if not 0.0 <= self.reverse_prob <= 1.0:
            raise ValueError(f"reverse_prob must be in [0, 1], got {self.reverse_prob!r}")

    def __call__(
        self,
        traversal: Traversal,
        generator: Callable[[torch.Tensor], torch.Tensor],
        reconstructor: nn.Module,
        z0: torch.Tensor,
        *,
        k: torch.Tensor | None = None,
        generator_rng: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Per-item losses ``[N]`` and the per-item terms (dict of ``[N]`` tensors, detached).

        Args:
            traversal: the K traversals (potential flow or linear directions).
            generator: frozen ``z: [N, d] -> [N, *shape]``.
            reconstructor: ``(x0, x1) -> logits [N, K]``.
            z0: ``[N, d]`` starting latents.
            k: optional traversal ids ``LongTensor [N]`` (default drawn at random).
            generator_rng: torch generator for the random draws (default the global one).
        """
        n, dev = z0.shape[0], z0.device
        kk = traversal.num_directions
        draw = dict(generator=generator_rng, device="cpu")
        if k is None:
            k = torch.randint(0, kk, (1,) if self.per_batch else (n,), **draw)
            k = k.expand(n).to(dev)
        tau = torch.randint(0, self.steps, (n,), **draw).to(dev)
        flip = (torch.rand(n, **draw) < self.reverse_prob).to(dev)
        traj = traversal.trajectory(z0, k, self.steps, create_graph=True)  # [T + 1, N, d]
        rows = torch.arange(n, device=dev)
        za, zb = traj[tau, rows], traj[tau + 1, rows]
        sign = torch.where(flip, -1.0, 1.0).to(z0.dtype)[:, None]
        za = z0 + sign * (za - z0)
        zb = z0 + sign * (zb - z0)
        xa, xb = generator(za), generator(zb)
        terms = {"cls": F.cross_entropy(reconstructor(xa, xb), k, reduction="none")}
        zero = torch.zeros(n, dtype=z0.dtype, device=dev)
        if self.variation:  # the step taken at tau is v_k(z_tau, tau) = z_{tau+1} - z_tau
            terms["variation"] = generator_variation(generator, za, zb - za)
        else:
            terms["variation"] = zero
        if isinstance(traversal, PotentialFlow) and self.constraint is not None:
            terms["pde"] = self.constraint.loss(
                traversal, traj, k, steps=self._collocation_steps(n, draw, dev)
            )
            terms["ic"] = self.constraint.initial_condition(traversal, z0, k)
        else:
            terms["pde"], terms["ic"] = zero, zero
        var = terms["variation"]
        reward = torch.log(var + 1e-8) if self.variation_form == "log" else var
        loss = (
            self.cls * terms["cls"]
            + self.pde * terms["pde"]
            + self.ic * terms["ic"]
            - (self.variation * reward if self.variation else 0.0)
        )
        return loss, {name: v.detach() for name, v in terms.items()}

    def _collocation_steps(self, n: int, draw: dict, device) -> torch.Tensor | None:
        if self.collocation is None or self.collocation == self.steps:
            return None
        keys = torch.rand(n, self.steps, generator=draw["generator"])
        return keys.argsort(1)[:, : self.collocation].to(device)  # [N, m] distinct steps
