"""What every latent traversal offers: K directions of motion and their discrete flows."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Traversal", "as_index"]


def as_index(k: int | torch.Tensor, n: int, num: int, device: torch.device) -> torch.Tensor:
    """``k`` (an int or ``LongTensor [n]``) as a validated ``LongTensor [n]`` of direction ids."""
    if isinstance(k, int) and not isinstance(k, bool):
        if not 0 <= k < num:
            raise ValueError(f"k must be in [0, {num}), got {k}")
        return torch.full((n,), k, dtype=torch.long, device=device)
    if not isinstance(k, torch.Tensor) or k.dtype != torch.long or k.shape != (n,):
        raise ValueError(f"k must be an int or a LongTensor of shape [{n}], got {k!r}")
    if n and (int(k.min()) < 0 or int(k.max()) >= num):
        raise ValueError(f"k must be in [0, {num}), got values in [{int(k.min())}, {int(k.max())}]")
    return k.to(device)


class Traversal(nn.Module):
    """``K`` ways to move a latent code: ``z_{t+1} = z_t + v_k(z_t, t)``.

    Subclasses implement :meth:`velocity`. Potential flows use ``v_k = grad_z u_k``; linear
    directions use a constant ``v_k``.

    Attributes:
        dim: latent dimension ``d``.
        num_directions: ``K``.
    """

    dim: int
    num_directions: int
    start_time: int = 0

    def codes(self, z: torch.Tensor) -> torch.Tensor:
        """The coordinate of ``z: [N, d]`` along each traversal: ``[N, K]``.

        The representation a set of traversals induces (scored with MIG and DCI): a quantity
        that traversal ``k`` increases and the others leave alone if they are disentangled.
        """
        raise NotImplementedError

    def velocity(
        self, z: torch.Tensor, k: int | torch.Tensor, t: float, *, create_graph: bool = False
    ) -> torch.Tensor:
        """The step ``v_k(z, t)``: ``z: [N, d]``, ``k``: int or ``LongTensor [N]`` -> ``[N, d]``.

        ``create_graph=True`` keeps the graph to the traversal's parameters (training).
        """
        raise NotImplementedError

    def trajectory(
        self,
        z0: torch.Tensor,
        k: int | torch.Tensor,
        steps: int,
        *,
        t0: int | None = None,
        create_graph: bool = False,
    ) -> torch.Tensor:
        """``[steps + 1, N, d]``: ``z0`` and ``steps`` flow steps at integer times ``t0, t0+1, ...``
        (default ``t0``: :attr:`start_time`)."""
        t0 = self.start_time if t0 is None else t0
        if z0.ndim != 2 or z0.shape[1] != self.dim:
            raise ValueError(f"z0 must be [N, {self.dim}], got {list(z0.shape)}")
        if not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be a non-negative int, got {steps!r}")
        k = as_index(k, z0.shape[0], self.num_directions, z0.device)
        zs = [z0]
        for s in range(steps):
            zs.append(zs[-1] + self.velocity(zs[-1], k, float(t0 + s), create_graph=create_graph))
        return torch.stack(zs)
