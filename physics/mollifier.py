"""Exact Dirichlet conditions for learned solutions: ``u = g + m N`` with ``m = 0`` on the wall.

A network ``N(x)`` multiplied by a function ``m`` that vanishes on the boundary of a box, plus
a lifting ``g`` of the boundary data, satisfies ``u = g`` on the boundary *exactly*, whatever
the network: no boundary loss, no penalty weight to tune.

* ``kind="sine"`` (the DGNO choice on the unit square): ``m = prod_i sin(pi t_i)`` with
  ``t_i = (x_i - lo_i) / (hi_i - lo_i)``. Evaluated as ``sin(pi min(t, 1 - t))`` so that it is
  exactly zero at both ends in floating point (``sin(pi * 1.0)`` is not).
* ``kind="polynomial"``: ``m = prod_i 4 t_i (1 - t_i)`` (also exactly zero on the walls).

Both are 1 at the centre of the box. Gradients are analytic (:meth:`value_and_gradient`).

>>> mol = DirichletMollifier(((0.0, 1.0), (0.0, 1.0)))
>>> x = torch.tensor([[0.0, 0.3], [1.0, 0.7], [0.5, 0.5]])
>>> mol(x).tolist()
[0.0, 0.0, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from sciml.physics.pdes.pde import PDE

__all__ = ["DirichletMollifier"]


class DirichletMollifier:
    """``m(x)`` vanishing on the boundary of the box ``domain``, and ``u = g + m N``.

    Args:
        domain: ``((lo, hi), ...)`` per axis (a PDE's ``domain``; ``None``: unit square).
        kind: ``"sine"`` or ``"polynomial"``.
        lift: boundary data ``g(x: [..., d]) -> [...]`` extended into the box (default 0);
            it must be differentiable by autograd (its gradient is taken for ``grad u``).
    """

    def __init__(
        self,
        domain: Sequence[Sequence[float]] | None = None,
        *,
        kind: str = "sine",
        lift: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        domain = ((0.0, 1.0), (0.0, 1.0)) if domain is None else domain
        self.domain = tuple((float(lo), float(hi)) for lo, hi in domain)
        if any(not hi > lo for lo, hi in self.domain):
            raise ValueError(f"domain must be ((lo, hi), ...) with lo < hi, got {domain!r}")
        if kind not in ("sine", "polynomial"):
            raise ValueError(f"kind must be 'sine' or 'polynomial', got {kind!r}")
        self.kind, self.lift = kind, lift

    @classmethod
    def for_pde(cls, pde: PDE, **kwargs) -> DirichletMollifier:
        """The mollifier of the PDE's box (:attr:`PDE.box`: ``domain``, or the unit box)."""
        return cls(pde.box, **kwargs)

    @property
    def dim(self) -> int:
        return len(self.domain)

    def _factors(self, x: torch.Tensor):
        if x.shape[-1] != self.dim:
            raise ValueError(f"x must have shape [..., {self.dim}], got {list(x.shape)}")
        lo = torch.tensor([d[0] for d in self.domain], dtype=x.dtype, device=x.device)
        length = torch.tensor([d[1] - d[0] for d in self.domain], dtype=x.dtype, device=x.device)
        t = (x - lo) / length
        if self.kind == "sine":
            f = torch.sin(math.pi * torch.minimum(t, 1 - t))
            df = math.pi * torch.cos(math.pi * t) / length
        else:
            f = 4 * t * (1 - t)
            df = 4 * (1 - 2 * t) / length
        return f, df

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``m(x)`` for ``x: [..., d]`` -> ``[...]``."""
        f, _ = self._factors(x)
        return f.prod(dim=-1)

    def value_and_gradient(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``m: [...]`` and ``grad m: [..., d]``."""
        f, df = self._factors(x)
        grads = []
        for i in range(self.dim):
            others = torch.cat([f[..., :i], f[..., i + 1 :]], dim=-1).prod(dim=-1)
            grads.append(df[..., i] * others)
        return f.prod(dim=-1), torch.stack(grads, dim=-1)

    def apply(
        self, x: torch.Tensor, n: torch.Tensor, grad_n: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``u = g + m n`` and ``grad u = grad g + n grad m + m grad n``.

        Args:
            x: points ``[..., d]``.
            n: network values at ``x``, ``[...]`` (broadcast against ``x[..., 0]``).
            grad_n: their gradients ``[..., d]`` (optional).

        Returns:
            ``(u, grad_u)`` (``grad_u`` is ``None`` without ``grad_n``).
        """
        m, dm = self.value_and_gradient(x)
        u = m * n
        grad_u = None if grad_n is None else n.unsqueeze(-1) * dm + m.unsqueeze(-1) * grad_n
        if self.lift is not None:
            with torch.enable_grad():
                xs = x.detach().requires_grad_(True)
                g = self.lift(xs)
                (dg,) = torch.autograd.grad(g.sum(), xs, create_graph=True)
            u = u + g
            if grad_u is not None:
                grad_u = grad_u + dg
        return u, grad_u
