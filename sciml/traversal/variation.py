"""The generator-variation term: how much the generator's output moves along a traversal."""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["generator_variation"]


def generator_variation(
    generator: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    """Mean square of the Jacobian-vector product ``J_G(z) v`` per item: ``[N]``.

    Song et al. (2023) subtract this from the potentials' loss (maximise it) so that a flow
    does not stall in a region where the generator's output does not change. The product is
    computed by the double-backward trick (``torch.autograd.functional.jvp`` with
    ``create_graph``) so the result is differentiable w.r.t. ``v`` (the potentials); the
    generator's own parameters need not be trainable.

    Args:
        generator: ``z: [N, d] -> [N, *shape]`` (e.g. a VAE decoder's mean image).
        z: ``[N, d]`` latents; v: ``[N, d]`` tangents (the flow's step).
    """
    if z.shape != v.shape or z.ndim != 2:
        raise ValueError(f"z and v must both be [N, d], got {list(z.shape)} and {list(v.shape)}")
    with torch.enable_grad():
        _, jv = torch.autograd.functional.jvp(generator, z.detach(), v, create_graph=True)
    return jv.pow(2).reshape(jv.shape[0], -1).mean(1)
