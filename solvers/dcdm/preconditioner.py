"""The DCDM network as a preconditioner for flexible PCG: a Jacobi / network / Jacobi sandwich.

The network is trained to remove what Jacobi cannot (the smooth, long-range error; its loss
is the error left after the best step in ``span{q, D^-1 r}``), and its output has no
meaningful scale or sign. Alone it is therefore a poor preconditioner; inside a two-grid-like
sandwich it is a good one:

.. code-block:: text

    z  = w D^-1 r                                  pre-smoothing (weighted Jacobi)
    s  = r - A z;   q = f(s);   z += (q.s / q.Aq) q   network correction, exact line search
    s  = r - A z;   z += w D^-1 s                  post-smoothing

Each stage reduces the A-norm error of ``A z = r`` (weighted Jacobi with ``w <= 2/3`` is an
A-norm contraction for these stencils, the line search is A-norm optimal), so
``r . M(r) > 0`` for every ``r != 0``: flexible PCG never meets a non-descent direction. The
line search makes ``M`` nonlinear (``linear = False``). Cost: one network application and two
matrix-vector products.
"""

from __future__ import annotations

import torch

from sciml.solvers.dcdm.direction import LearnedDirection
from sciml.solvers.krylov.operator import as_operator

__all__ = ["LearnedPreconditioner"]


class LearnedPreconditioner:
    """``r: [B, n] -> z: [B, n]``, the network between two weighted-Jacobi sweeps.

    Args:
        model: a :class:`~sciml.solvers.dcdm.network.DCDMNet`.
        system: the system (``matrix``, ``active``).
        omega: Jacobi weight (``<= 2/3`` keeps each sweep an A-norm contraction).
    """

    name = "dcdm-net+jacobi"
    symmetric = False
    positive_definite = False
    linear = False
    needs_matrix = True
    runs_on_host = False

    def __init__(self, model, system, *, omega: float = 2.0 / 3.0) -> None:
        if not 0 < omega <= 1:
            raise ValueError(f"omega must be in (0, 1], got {omega}")
        self.direction = LearnedDirection(model, system)
        self.n = self.direction.n
        self.omega = float(omega)
        self._op = as_operator(system.matrix, check=False)
        self._dinv = 1.0 / torch.as_tensor(system.matrix.diagonal(), dtype=torch.float64)
        self._ops: dict = {}
        self.setup_time = self.direction.setup_time

    def _state(self, r: torch.Tensor):
        key = (str(r.device), r.dtype)
        if key not in self._ops:
            self._ops[key] = (
                self._op.to(r.device, r.dtype) if r.device.type != "cpu" else self._op,
                self._dinv.to(device=r.device, dtype=r.dtype),
            )
        return self._ops[key]

    @torch.no_grad()
    def apply(self, r: torch.Tensor) -> torch.Tensor:
        """``r: [B, n]`` (or ``[n]``) -> ``z`` of the same shape, dtype and device."""
        if not isinstance(r, torch.Tensor) or r.ndim not in (1, 2) or r.shape[-1] != self.n:
            got = list(r.shape) if isinstance(r, torch.Tensor) else type(r).__name__
            raise ValueError(f"r must be a tensor [n] or [B, n] with n = {self.n}, got {got}")
        squeeze = r.ndim == 1
        rb = r[None] if squeeze else r
        op, dinv = self._state(rb)
        z = self.omega * dinv * rb
        Az = op(z)
        s = rb - Az
        q = self.direction(s)
        Aq = op(q)
        qAq = (q * Aq).sum(-1)
        ok = torch.isfinite(qAq) & (qAq > 0)
        beta = torch.where(ok, (q * s).sum(-1) / torch.where(ok, qAq, 1.0), 0.0)
        q = torch.where(ok[:, None], q, 0.0)
        z = z + beta[:, None] * q
        Az = Az + beta[:, None] * torch.where(ok[:, None], Aq, 0.0)
        z = z + self.omega * dinv * (rb - Az)
        return z[0] if squeeze else z

    __call__ = apply

    def __repr__(self) -> str:
        return f"LearnedPreconditioner(n={self.n}, omega={self.omega:.3g})"
