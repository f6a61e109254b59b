"""Closed-form directions: the principal directions of the decoder's Jacobian (SeFa-style).

SeFa (Shen & Zhou, CVPR 2021) takes the eigenvectors of ``A^T A`` for the generator's first
layer ``A``: the latent directions that change that layer's output the most. For a
nonlinear decoder the same idea, applied to the whole network, is the eigenvectors of the
average pull-back metric ``M = mean_n J(z_n)^T J(z_n)`` (``J``: the decoder's Jacobian at
codes ``z_n`` of real data): the directions along which the decoded image changes the most, in
order. No training; the baseline closed-form traversal.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from sciml.traversal.linear import LinearDirections

__all__ = ["pullback_metric", "sefa_directions"]


def pullback_metric(
    generator: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor, *, batch_size: int = 64
) -> torch.Tensor:
    """``mean_n J(z_n)^T J(z_n)``: ``[d, d]`` (``J`` by forward-mode AD, one JVP per axis).

    Args:
        generator: ``z: [B, d] -> [B, *shape]``.
        z: ``[N, d]`` codes at which the Jacobian is taken.
    """
    if z.ndim != 2:
        raise ValueError(f"z must be [N, d], got {list(z.shape)}")
    d = z.shape[1]
    eye = torch.eye(d, dtype=z.dtype, device=z.device)
    m = torch.zeros(d, d, dtype=torch.float64, device=z.device)
    for i in range(0, z.shape[0], batch_size):
        zb = z[i : i + batch_size].detach()
        cols = [
            torch.func.jvp(generator, (zb,), (eye[j].expand_as(zb),))[1].flatten(1)
            for j in range(d)
        ]
        jac = torch.stack(cols, -1).double()  # [B, D_out, d]
        m += torch.einsum("bod,boe->de", jac, jac)
    return (m / z.shape[0]).to(z.dtype)


def sefa_directions(
    generator: Callable[[torch.Tensor], torch.Tensor],
    z: torch.Tensor,
    num_directions: int,
    *,
    step_size: float = 0.5,
) -> LinearDirections:
    """The ``num_directions`` leading eigenvectors of :func:`pullback_metric` as fixed
    :class:`LinearDirections` (largest image change first)."""
    if not 1 <= num_directions <= z.shape[1]:
        raise ValueError(f"num_directions must be in [1, {z.shape[1]}], got {num_directions}")
    with torch.no_grad():
        evals, evecs = torch.linalg.eigh(pullback_metric(generator, z).double())
    top = evecs[:, evals.argsort(descending=True)[:num_directions]].T  # [K, d]
    return LinearDirections(
        z.shape[1], num_directions, step_size=step_size, directions=top.float(), learnable=False
    )
