"""The DCDM network bound to one system: ``r -> q`` on the unknowns, with symmetric Jacobi scaling.

:class:`LearnedDirection` is what :func:`~sciml.solvers.dcdm.method.dcdm` calls each iteration
and what flexible PCG uses as a preconditioner. With ``D = diag(A)``:

.. code-block:: text

    r_hat = D^-1/2 r / rms(D^-1/2 r)       scatter to the grid, unit RMS over the unknowns
    q     = D^-1/2 f(r_hat; stencil of D^-1/2 A D^-1/2)  * rms(D^-1/2 r)

so the network only ever sees the Jacobi-scaled system: multiplying ``A`` (or the density) by a
constant leaves every input channel unchanged and scales ``q`` like ``A^-1``, and the iterates
of DCDM on ``c A x = c b`` equal those on ``A x = b``. The geometry branch of the network runs
once here (the gates are cached per device and dtype); each application runs only the linear
residual path.

It joins the preconditioner contract of :mod:`sciml.solvers.krylov.preconditioners`:
``linear = True`` (the network is linear in ``r``, exactly up to round-off), ``symmetric =
False`` and ``positive_definite = False`` (nothing forces them), ``needs_matrix = True`` (the
stencil is read off the assembled matrix).
"""

from __future__ import annotations

import time
import warnings

import torch

from sciml.solvers.dcdm.features import stencil_features
from sciml.solvers.dcdm.network import DCDMNet, Gates

__all__ = ["LearnedDirection", "OutsideTrainingWarning"]


class OutsideTrainingWarning(UserWarning):
    """The system differs from what the model was trained on (the safeguard still converges)."""


class LearnedDirection:
    """The network as a map ``r: [B, n] -> q: [B, n]`` on the unknowns of a system on a grid.

    Args:
        model: a :class:`~sciml.solvers.dcdm.network.DCDMNet` (``ndim`` matching the grid).
        system: an object with ``matrix`` (scipy sparse ``[n, n]``, unknowns in C order) and
            ``active`` (``bool [*shape]``), e.g. an
            :class:`~sciml.physics.elliptic.EllipticSystem` or a
            :class:`~sciml.solvers.system.GridSystem`.

    Raises:
        ValueError: the model's dimension differs from the grid's.

    Warns:
        OutsideTrainingWarning: the matrix couples cells that are not grid neighbours (periodic
            axes, wider stencils), or no side is Dirichlet, i.e. a boundary setup the model
            never saw.
    """

    name = "dcdm-net"
    symmetric = False
    positive_definite = False
    linear = True
    needs_matrix = True
    runs_on_host = False

    def __init__(self, model: DCDMNet, system) -> None:
        if not isinstance(model, DCDMNet):
            raise TypeError(f"model must be a DCDMNet, got {type(model).__name__}")
        active = system.active
        if model.ndim != active.ndim:
            raise ValueError(
                f"the model is {model.ndim}-D but the system's grid is {active.ndim}-D "
                f"{list(active.shape)}; train or load a {active.ndim}-D model"
            )
        t0 = time.perf_counter()
        self.model = model
        self.system = system
        self.shape = tuple(active.shape)
        feats = stencil_features(system.matrix, active)
        self.n = int(feats.inv_sqrt_diag.numel())
        self.features = feats.features
        self.dirichlet_sides = feats.dirichlet_sides
        self._inv_sqrt_diag = feats.inv_sqrt_diag
        self._index = torch.nonzero(active.reshape(-1), as_tuple=False)[:, 0]
        self._size = int(active.numel())
        self._cache: dict = {}
        if feats.outside_stencil:
            warnings.warn(
                f"the matrix has {feats.outside_stencil} entries that couple cells which are not "
                f"grid neighbours (periodic axes or a wider stencil); the model was trained on {2 * model.ndim + 1}-point "
                "stencils of box walls, so its directions may help less (DCDM's safeguard still "
                "converges)",
                OutsideTrainingWarning,
                stacklevel=2,
            )
        if not self.dirichlet_sides:
            warnings.warn(
                "no box side of this system is Dirichlet (no diagonal excess on any wall); the "
                "model was trained with at least one Dirichlet side, so its directions may help "
                "less (DCDM's safeguard still converges)",
                OutsideTrainingWarning,
                stacklevel=2,
            )
        self.setup_time = time.perf_counter() - t0

    def _state(self, device: torch.device, dtype: torch.dtype):
        key = (str(device), dtype)
        if key not in self._cache:
            with torch.no_grad():
                feats = self.features[None].to(device=device, dtype=dtype)
                if feats.ndim == 5:
                    feats = feats.contiguous(memory_format=torch.channels_last_3d)
                gates: Gates = self.model.gates(feats)
            self._cache[key] = (
                gates,
                self._index.to(device),
                self._inv_sqrt_diag.to(device),
            )
        return self._cache[key]

    @torch.no_grad()
    def apply(self, r: torch.Tensor) -> torch.Tensor:
        """``r: [B, n]`` (or ``[n]``) -> direction of the same shape, dtype and device."""
        if not isinstance(r, torch.Tensor) or r.ndim not in (1, 2) or r.shape[-1] != self.n:
            shape = list(r.shape) if isinstance(r, torch.Tensor) else type(r)
            raise ValueError(f"r must be a tensor [B, {self.n}] or [{self.n}], got {shape}")
        squeeze = r.ndim == 1
        rb = r[None] if squeeze else r
        p = next(self.model.parameters())
        gates, index, isd = self._state(rb.device, p.dtype)
        rs = rb * isd.to(rb.dtype)
        scale = rs.square().mean(-1).sqrt().clamp_min(torch.finfo(rb.dtype).tiny)
        field = rs.new_zeros(rb.shape[0], self._size)
        field[:, index] = rs / scale[:, None]
        field = field.to(p.dtype).reshape(rb.shape[0], 1, *self.shape)
        if field.ndim == 5:
            field = field.contiguous(memory_format=torch.channels_last_3d)
        out = self.model(field, gates=gates)
        q = out.reshape(rb.shape[0], -1)[:, index].to(rb.dtype)
        q = q * isd.to(rb.dtype) * scale[:, None]
        return q[0] if squeeze else q

    __call__ = apply

    def to_dense(self, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """The matrix of the (linear) direction map ``[n, n]`` (small systems, for tests)."""
        eye = torch.eye(self.n, dtype=dtype)
        return self.apply(eye).T

    def __repr__(self) -> str:
        return f"LearnedDirection(n={self.n}, grid={list(self.shape)})"
