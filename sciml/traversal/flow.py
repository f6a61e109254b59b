"""Potential flows: ``K`` potentials ``u_k`` and the discrete flows ``z <- z + grad_z u_k``."""

from __future__ import annotations

import torch
from torch import nn

from sciml.traversal.base import Traversal, as_index
from sciml.traversal.potential import Potential

__all__ = ["PotentialFlow"]


class PotentialFlow(Traversal):
    """``K`` latent traversals as potential flows (Song, Keller, Sebe, Welling, ICML 2023).

    Traversal ``k`` moves a code along the gradient of its potential with a unit step (or
    ``step_size``): ``z_{t+1} = z_t + step_size * grad_z u_k(z_t, t)``. The potentials are
    constrained to obey a PDE (:class:`~sciml.traversal.constraint.PDEConstraint`).

    Args:
        dim: latent dimension ``d``.
        num_potentials: ``K``.
        hidden: width of each potential's MLP.
        step_size: the flow's step (1 in the paper).
        potentials: ready-made potentials instead (any modules ``(z [N, d], t) -> [N]``, e.g.
            analytic solutions in tests); ``hidden`` is then ignored.
        start_time: the time of the first step. A wave potential starts at rest at ``t = 0``
            (its initial condition ``grad u(., 0) = 0``), so its flows start at ``t = 1``
            (:attr:`PDEConstraint.start_time <sciml.traversal.constraint.PDEConstraint>`);
            otherwise the first step of every path would be empty.
        code_time: the time at which :meth:`codes` reads the potentials.
    """

    def __init__(
        self,
        dim: int,
        num_potentials: int,
        *,
        hidden: int = 64,
        step_size: float = 1.0,
        potentials: list[nn.Module] | None = None,
        start_time: int = 0,
        code_time: float = 1.0,
    ) -> None:
        super().__init__()
        if potentials is None:
            if not isinstance(num_potentials, int) or num_potentials < 1:
                raise ValueError(f"num_potentials must be a positive int, got {num_potentials!r}")
            potentials = [Potential(dim, hidden) for _ in range(num_potentials)]
        elif len(potentials) != num_potentials:
            raise ValueError(
                f"got {len(potentials)} potentials but num_potentials={num_potentials}"
            )
        if not step_size > 0:
            raise ValueError(f"step_size must be positive, got {step_size!r}")
        self.dim, self.num_directions, self.step_size = dim, num_potentials, float(step_size)
        self.potentials = nn.ModuleList(potentials)
        self.start_time, self.code_time = int(start_time), float(code_time)

    def codes(self, z: torch.Tensor) -> torch.Tensor:
        """``[N, K]``: the potentials ``u_k(z, code_time)``; flow ``k`` climbs ``u_k``."""
        with torch.no_grad():
            return torch.stack([p(z, self.code_time) for p in self.potentials], 1)

    def potential(
        self, z: torch.Tensor, k: int | torch.Tensor, t: float | torch.Tensor
    ) -> torch.Tensor:
        """``u_k(z, t)``: ``[N]`` (``k`` an int or ``LongTensor [N]``)."""
        k = as_index(k, z.shape[0], self.num_directions, z.device)
        t = torch.as_tensor(t, dtype=z.dtype, device=z.device).expand(z.shape[0])
        out = torch.zeros(z.shape[0], dtype=z.dtype, device=z.device)
        for j in torch.unique(k).tolist():  # a loop over potentials, not samples
            idx = (k == j).nonzero()[:, 0]
            out = out.index_put((idx,), self.potentials[j](z[idx], t[idx]))
        return out

    def velocity(
        self, z: torch.Tensor, k: int | torch.Tensor, t: float, *, create_graph: bool = False
    ) -> torch.Tensor:
        """``step_size * grad_z u_k(z, t)``: ``[N, d]``.

        With ``create_graph=False`` the result is detached (works under ``torch.no_grad``);
        with ``True`` it carries the graph to the potentials and to ``z``.
        """
        with torch.enable_grad():
            zz = z if (create_graph and z.requires_grad) else z.detach().requires_grad_(True)
            u = self.potential(zz, k, t)
            (g,) = torch.autograd.grad(u.sum(), zz, create_graph=create_graph)
        return self.step_size * (g if create_graph else g.detach())
