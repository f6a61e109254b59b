"""The PDE a potential must obey, as a loss: the autograd residual of a :mod:`sciml.physics` PDE.

The potentials of a :class:`~sciml.traversal.flow.PotentialFlow` live on the latent space
``z in R^d`` and in time. Any time-dependent PDE of the engine whose ``dim`` is ``d`` serves;
its residual is computed by :meth:`sciml.physics.PDE.residual` (autograd) at collocation
points, which are the flowing latents themselves at the integer times of the flow. The
traversal code never re-types an equation. The four of the papers:

* **wave** ``u_tt = c_k^2 Laplacian u`` (:class:`~sciml.physics.AcousticWave`; Song et al.
  2023), with a learnable speed ``c_k`` per potential;
* **heat / diffusion** ``u_t = kappa Laplacian u`` (:class:`~sciml.physics.Heat`);
* **Fokker-Planck** ``u_t + div(u b) = D Laplacian u`` with the Ornstein-Uhlenbeck drift
  ``b = -z`` whose stationary law is the VAE prior ``N(0, D I)``
  (:class:`~sciml.physics.FokkerPlanck`);
* **Hamilton-Jacobi** ``u_t + |grad u|^2 / 2 = 0`` (:class:`~sciml.physics.HamiltonJacobi`;
  Song et al. 2023b): the flow's velocity ``grad u`` is then constant along each path, so
  codes move on straight lines at constant speed (optimal transport).

For ``d > 3`` the Laplacian is the exact trace (one backward pass per latent axis) unless a
:func:`~sciml.physics.laplacian_estimator` context selects Hutchinson's estimator (one pass per
probe). The published PDETraversal code instead uses the Hessian times a ones-vector (the row
sums of the Hessian, a ``d``-vector) as its "Laplacian", which is not the operator of the
wave equation; here the residual is the true scalar ``u_tt - c^2 tr(H)``.
"""

from __future__ import annotations

import dataclasses

import torch

from sciml.physics import AcousticWave, FokkerPlanck, HamiltonJacobi, Heat
from sciml.physics.pdes.pde import PDE
from sciml.traversal.base import as_index
from sciml.traversal.flow import PotentialFlow

__all__ = ["PDEConstraint", "TRAVERSAL_PDES", "traversal_pde"]


def _wave(dim: int) -> PDE:
    return AcousticWave(velocity=1.0, dim=dim)


def _heat(dim: int) -> PDE:
    return Heat(kappa=1.0, dim=dim)


def _fokker_planck(dim: int) -> PDE:
    return FokkerPlanck(diffusion=1.0, dim=dim)


def _hamilton_jacobi(dim: int) -> PDE:
    return HamiltonJacobi(dim=dim)


TRAVERSAL_PDES = {
    "wave": _wave,
    "heat": _heat,
    "fokker-planck": _fokker_planck,
    "hamilton-jacobi": _hamilton_jacobi,
}


def traversal_pde(name: str, dim: int) -> PDE:
    """The PDE registered as ``name`` (``wave``, ``heat``, ``fokker-planck``,
    ``hamilton-jacobi``) on a ``dim``-dimensional latent space, unit coefficients."""
    if name not in TRAVERSAL_PDES:
        raise ValueError(f"pde must be one of {sorted(TRAVERSAL_PDES)}, got {name!r}")
    return TRAVERSAL_PDES[name](dim)


class PDEConstraint:
    """Mean squared PDE residual of each potential along its own flow.

    Args:
        pde: a time-dependent :class:`~sciml.physics.PDE` with ``dim`` = latent dimension.
        learn_speed: for :class:`~sciml.physics.AcousticWave`, use each potential's learnable
            ``speed`` parameter as ``c`` (the paper's learnable wave speed) instead of the
            PDE's own velocity.

    Attributes:
        second_order_in_time: the PDE reads ``u_tt`` (the wave equation). Then the initial
            condition "start at rest", ``grad_z u(z, 0) = 0``, is meaningful; for PDEs of first
            order in time ``u(., 0)`` is the free initial data (a constant one would make the
            heat, Fokker-Planck and Hamilton-Jacobi potentials trivial).
    """

    def __init__(self, pde: PDE, *, learn_speed: bool = True) -> None:
        if not isinstance(pde, PDE) or not pde.time_dependent:
            raise ValueError(f"pde must be a time-dependent sciml.physics PDE, got {pde!r}")
        self.pde = pde
        self.learn_speed = learn_speed
        self.second_order_in_time = "tt" in pde.required_derivatives

    @property
    def start_time(self) -> int:
        """When flows under this PDE take their first step: 1 for second order in time (the
        potential is at rest at ``t = 0``), else 0. Pass it to ``PotentialFlow(start_time=)``."""
        return 1 if self.second_order_in_time else 0

    def _pde_for(self, potential) -> PDE:
        if (
            self.learn_speed
            and isinstance(self.pde, AcousticWave)
            and isinstance(getattr(potential, "speed", None), torch.Tensor)
        ):
            return dataclasses.replace(self.pde, velocity=potential.speed)
        return self.pde

    def residual(
        self, flow: PotentialFlow, z: torch.Tensor, k: int | torch.Tensor, t: torch.Tensor
    ) -> torch.Tensor:
        """PDE residual ``[N]`` of potential ``k`` (int or ``LongTensor [N]``) at points
        ``z: [N, d]``, times ``t: [N]``; differentiable w.r.t. the potentials."""
        if self.pde.dim != flow.dim:
            raise ValueError(f"the PDE has dim={self.pde.dim} but the latent dim is {flow.dim}")
        k = as_index(k, z.shape[0], flow.num_directions, z.device)
        t = torch.as_tensor(t, dtype=z.dtype, device=z.device).expand(z.shape[0])
        out = torch.zeros(z.shape[0], dtype=z.dtype, device=z.device)
        with torch.enable_grad():
            for j in torch.unique(k).tolist():  # a loop over potentials, not points
                idx = (k == j).nonzero()[:, 0]
                pot = flow.potentials[j]
                r = self._pde_for(pot).residual(pot.points, z[idx].detach(), t[idx].detach())
                out = out.index_put((idx,), r)
        return out

    def loss(
        self,
        flow: PotentialFlow,
        traj: torch.Tensor,
        k: int | torch.Tensor,
        *,
        steps: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Per-item mean squared residual over the flow: ``traj: [T + 1, N, d]`` -> ``[N]``.

        The collocation points are the latents ``traj[s]`` at times ``t0 + s``, ``s = 0 .. T-1``
        (``t0 = flow.start_time``; the points the flow visits, detached: they are where the PDE
        is imposed, not variables). ``steps``: optional ``LongTensor [N, m]`` of the steps ``s``
        to use per item (a random subset: an unbiased estimate at ``m / T`` of the cost).
        """
        total, n = traj.shape[0] - 1, traj.shape[1]
        if total < 1:
            raise ValueError("traj must hold at least one step ([T + 1, N, d] with T >= 1)")
        k = as_index(k, n, flow.num_directions, traj.device)
        if steps is None:
            steps = torch.arange(total, device=traj.device).expand(n, total)
        m = steps.shape[1]
        rows = torch.arange(n, device=traj.device).expand(m, n).T  # [N, m]
        z = traj[steps, rows].reshape(-1, traj.shape[-1])  # [N * m, d]
        t = (steps.to(traj.dtype) + flow.start_time).reshape(-1)
        r = self.residual(flow, z, k[:, None].expand(n, m).reshape(-1), t)
        return r.reshape(n, m).pow(2).mean(1)

    def initial_condition(
        self, flow: PotentialFlow, z: torch.Tensor, k: int | torch.Tensor
    ) -> torch.Tensor:
        """``|grad_z u_k(z, 0)|^2`` ``[N]`` (start at rest; zero unless second order in time)."""
        if not self.second_order_in_time:
            return torch.zeros(z.shape[0], dtype=z.dtype, device=z.device)
        v = flow.velocity(z.detach(), k, 0.0, create_graph=True) / flow.step_size
        return v.pow(2).sum(-1)
