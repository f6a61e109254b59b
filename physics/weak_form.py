"""Local weak-form residuals of divergence-form PDEs on small balls ("particles").

For ``-div(F) = f`` with ``F = pde.flux(grad u, x)`` (``a grad u`` for
:class:`~sciml.physics.pdes.darcy.Darcy`, ``grad u`` for :class:`~sciml.physics.pdes.poisson.Poisson`)
and a test function ``v`` supported on the ball ``B(c, R)`` and vanishing on its sphere,
integration by parts gives ``int F . grad v dx = int f v dx``. With ``v(x) = phi((x - c)/R)``
(:class:`~sciml.physics.test_functions.Wendland`) and ``x = c + R xi`` every ball maps to the
reference ball, where one fixed rule (:func:`~sciml.physics.quadrature.ball_quadrature`)
integrates:

``r(c) = [ (1/R) sum_q w_q F(x_q) . grad_xi phi(xi_q) - sum_q w_q f(x_q) phi(xi_q) ]
/ sum_q w_q phi(xi_q)``

i.e. the ``phi``-weighted local mean of the strong residual ``-div F - f``, computed with
first derivatives only. It is zero for the exact solution (up to quadrature error, which
vanishes spectrally as the rule is refined and as ``R`` shrinks), and of the size of the strong
residual otherwise, whatever ``R``.

Two forms:

* **primal** (smooth coefficients): the network gives ``u``; ``F = pde.flux(grad u)``;
* **mixed** (discontinuous coefficients): the network gives ``u`` *and* a flux ``s``; the
  equation residual uses ``s`` (smooth even where ``a`` jumps) and a second, *constitutive*
  residual ``mean_ball |s - pde.flux(grad u)|^2`` ties them together.

Coefficients that live on a data set's grid (one field per sample) are read at the
quadrature nodes with :func:`sample_field` and passed as ``coefficient=``.

>>> import torch
>>> from sciml.physics.pdes.poisson import Poisson
>>> pde = Poisson(forcing=lambda x: 2 * torch.pi**2 * torch.sin(torch.pi * x[:, 0])
...               * torch.sin(torch.pi * x[:, 1]))
>>> wf = WeakForm(pde, radius=0.05)
>>> c = torch.tensor([[0.3, 0.6]], dtype=torch.float64)
>>> x = wf.nodes(c)                                       # [1, Q, 2]
>>> grad_u = torch.pi * torch.stack([torch.cos(torch.pi * x[..., 0]) * torch.sin(torch.pi * x[..., 1]),
...                                  torch.sin(torch.pi * x[..., 0]) * torch.cos(torch.pi * x[..., 1])], -1)
>>> bool(wf.primal(c, grad_u).abs().max() < 1e-6)   # f is ~20 here
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from sciml.grid import Grid
from sciml.physics._pointwise import evaluate
from sciml.physics.pdes.pde import PDE
from sciml.physics.quadrature import BallQuadrature, ball_quadrature
from sciml.physics.test_functions import Wendland

__all__ = ["WeakForm", "sample_field", "latin_hypercube"]


def latin_hypercube(
    n: int,
    bounds: tuple[tuple[float, float], ...],
    *,
    batch: int | None = None,
    generator: torch.Generator | None = None,
    device=None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``n`` Latin-hypercube points in the box ``bounds``: ``[n, d]`` (or ``[batch, n, d]``).

    Each axis is cut into ``n`` strata and every stratum holds exactly one point (a better
    spread than ``n`` uniform draws, the same marginal distribution).
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    d = len(bounds)
    b = 1 if batch is None else batch
    u = torch.rand(b, n, d, generator=generator, dtype=torch.float64)
    strata = torch.argsort(torch.rand(b, d, n, generator=generator), dim=-1).transpose(1, 2)
    t = (strata.to(torch.float64) + u) / n
    lo = torch.tensor([lo for lo, _ in bounds], dtype=torch.float64)
    hi = torch.tensor([hi for _, hi in bounds], dtype=torch.float64)
    x = (lo + (hi - lo) * t).to(device=device, dtype=dtype)
    return x[0] if batch is None else x


def sample_field(
    values: torch.Tensor, grid: Grid, points: torch.Tensor, *, method: str = "nearest"
) -> torch.Tensor:
    """Per-sample values of grid fields at per-sample points.

    Args:
        values: ``[B, C, *grid.shape]``.
        points: ``[B, ..., d]`` (each sample's own points) inside the grid's box.
        method: ``"nearest"`` (the value of the nearest grid point: keeps the jumps of a
            piecewise-constant field sharp) or ``"linear"`` (multilinear).

    Returns:
        ``[B, C, ...]``.
    """
    grid.check_field(values, "values")
    if method not in ("nearest", "linear"):
        raise ValueError(f"method must be 'nearest' or 'linear', got {method!r}")
    if points.shape[0] != values.shape[0] or points.shape[-1] != grid.ndim:
        raise ValueError(
            f"points must have shape [B={values.shape[0]}, ..., {grid.ndim}], "
            f"got {list(points.shape)}"
        )
    b, c = values.shape[:2]
    lead = points.shape[1:-1]
    pts = points.reshape(b, -1, grid.ndim).to(values.dtype)
    flat = values.reshape(b, c, -1)
    strides = [1] * grid.ndim
    for ax in range(grid.ndim - 2, -1, -1):
        strides[ax] = strides[ax + 1] * grid.shape[ax + 1]
    pos = [(pts[..., ax] - grid.offset(ax)) / grid.spacing[ax] for ax in range(grid.ndim)]
    pos = [p.clamp(0, n - 1) for p, n in zip(pos, grid.shape)]

    def gather(index: torch.Tensor) -> torch.Tensor:  # [B, P] -> [B, C, P]
        return flat.gather(2, index.unsqueeze(1).expand(b, c, index.shape[1]))

    if method == "nearest":
        index = sum(torch.round(p).long() * s for p, s in zip(pos, strides))
        out = gather(index)
    else:
        i0 = [p.floor().long().clamp(max=max(n - 2, 0)) for p, n in zip(pos, grid.shape)]
        w = [p - i.to(p.dtype) for p, i in zip(pos, i0)]
        out = 0
        for corner in range(2**grid.ndim):
            index, weight = 0, 1
            for ax in range(grid.ndim):
                up = (corner >> ax) & 1
                index = index + (i0[ax] + up) * strides[ax]
                weight = weight * (w[ax] if up else 1 - w[ax])
            out = out + gather(index) * weight.unsqueeze(1)
    return out.reshape(b, c, *lead)


@dataclass
class WeakForm:
    """Local weak residuals of ``pde`` (a :class:`Darcy` or :class:`Poisson`) on balls of radius
    ``radius`` (see the module docstring).

    Args:
        pde: the PDE object; its ``flux``, ``forcing``, ``dim`` and ``domain`` are used.
        radius: ``R``, the radius of every test-function support.
        test_function: default ``Wendland(pde.dim)`` (``C^4``).
        quadrature: rule on the reference ball; default ``ball_quadrature(dim, 6)`` (polar,
            84 nodes in 2-D).
    """

    pde: PDE
    radius: float
    test_function: Wendland | None = None
    quadrature: BallQuadrature | None = None
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.pde, PDE) or not callable(getattr(self.pde, "flux", None)):
            raise TypeError(
                f"pde must have a divergence form (a .flux method, e.g. Darcy or Poisson), "
                f"got {type(self.pde).__name__}"
            )
        if not (isinstance(self.radius, (int, float)) and self.radius > 0):
            raise ValueError(f"radius must be a positive number, got {self.radius!r}")
        dim = self.pde.dim
        self.test_function = self.test_function or Wendland(dim)
        self.quadrature = self.quadrature or ball_quadrature(dim, 6)
        if self.test_function.dim != dim or self.quadrature.dim != dim:
            raise ValueError(
                f"test_function and quadrature must be {dim}-D like the PDE, got "
                f"{self.test_function.dim}-D and {self.quadrature.dim}-D"
            )

    # ------------------------------------------------------------------ geometry
    @property
    def dim(self) -> int:
        return self.pde.dim

    @property
    def domain(self) -> tuple[tuple[float, float], ...]:
        return self.pde.box

    def _reference(self, device, dtype):
        """Nodes ``[Q, d]``, weights ``[Q]``, phi ``[Q]``, grad phi ``[Q, d]`` on (device, dtype)."""
        key = (str(device), dtype)
        if key not in self._cache:
            q = self.quadrature.to(device, torch.float64)
            phi = self.test_function.value(q.nodes)
            dphi = self.test_function.gradient(q.nodes)
            self._cache[key] = tuple(
                t.to(dtype) for t in (q.nodes, q.weights, phi, dphi, (q.weights * phi).sum())
            )
        return self._cache[key]

    def nodes(self, centres: torch.Tensor) -> torch.Tensor:
        """Quadrature nodes ``c + R xi_q``: ``centres [..., M, d]`` -> ``[..., M, Q, d]``."""
        if centres.shape[-1] != self.dim:
            raise ValueError(
                f"centres must have shape [..., {self.dim}], got {list(centres.shape)}"
            )
        xi = self._reference(centres.device, centres.dtype)[0]
        return centres.unsqueeze(-2) + self.radius * xi

    def sample_centres(
        self,
        n: int,
        *,
        batch: int | None = None,
        generator: torch.Generator | None = None,
        device=None,
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """``n`` Latin-hypercube centres whose balls lie inside the domain: ``[n, d]`` or
        ``[batch, n, d]``."""
        inner = tuple((lo + self.radius, hi - self.radius) for lo, hi in self.domain)
        if any(hi <= lo for lo, hi in inner):
            raise ValueError(f"radius {self.radius} is too large for the domain {self.domain}")
        return latin_hypercube(
            n, inner, batch=batch, generator=generator, device=device, dtype=dtype
        )

    # ------------------------------------------------------------------ residuals
    def _forcing(self, x: torch.Tensor) -> torch.Tensor:
        f = self.pde.forcing
        if f is None:
            return torch.zeros(x.shape[:-1], dtype=x.dtype, device=x.device)
        return evaluate(f, x.reshape(-1, self.dim)).reshape(x.shape[:-1])

    def _check(self, centres: torch.Tensor, t: torch.Tensor, name: str) -> None:
        q = self.quadrature.size
        want = (*centres.shape[:-1], q, self.dim)
        if tuple(t.shape) != want:
            raise ValueError(
                f"{name} must have shape {list(want)} (centres' leading axes, {q} quadrature "
                f"nodes, {self.dim}), got {list(t.shape)}"
            )

    def equation(
        self,
        centres: torch.Tensor,
        flux: torch.Tensor,
        *,
        forcing: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``r(c)`` from the flux at the nodes.

        Args:
            centres: ``[..., M, d]``.
            flux: ``F`` at :meth:`nodes` ``(centres)``, ``[..., M, Q, d]``.
            forcing: ``f`` at the nodes ``[..., M, Q]``; default ``pde.forcing``.

        Returns:
            ``[..., M]``: the ``phi``-weighted local mean of ``-div F - f`` on each ball.
        """
        self._check(centres, flux, "flux")
        _, w, phi, dphi, mass = self._reference(flux.device, flux.dtype)
        if forcing is None:
            forcing = self._forcing(self.nodes(centres))
        stiff = (flux * dphi).sum(-1) @ w / self.radius
        load = (forcing * phi) @ w
        return (stiff - load) / mass

    def primal(
        self,
        centres: torch.Tensor,
        grad_u: torch.Tensor,
        *,
        coefficient: torch.Tensor | None = None,
        forcing: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Primal residual ``[..., M]`` from ``grad u`` at the nodes (``[..., M, Q, d]``);
        ``coefficient`` (``[..., M, Q]``) overrides ``pde.coefficient``."""
        self._check(centres, grad_u, "grad_u")
        flux = self.pde.flux(grad_u, self.nodes(centres), coefficient)
        return self.equation(centres, flux, forcing=forcing)

    def mixed(
        self,
        centres: torch.Tensor,
        flux: torch.Tensor,
        grad_u: torch.Tensor,
        *,
        coefficient: torch.Tensor | None = None,
        forcing: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mixed-form residuals ``(equation [..., M], constitutive [..., M])``.

        ``flux`` is the learned ``s`` at the nodes; ``constitutive`` is the ball mean of
        ``|s - pde.flux(grad u)|^2``.
        """
        self._check(centres, grad_u, "grad_u")
        eq = self.equation(centres, flux, forcing=forcing)
        _, w, _, _, _ = self._reference(flux.device, flux.dtype)
        mismatch = flux - self.pde.flux(grad_u, self.nodes(centres), coefficient)
        return eq, (mismatch.square().sum(-1) @ w) / w.sum()

    def primal_of(
        self,
        u_fn: Callable[[torch.Tensor], torch.Tensor],
        centres: torch.Tensor,
        *,
        coefficient: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """:meth:`primal` of a pointwise function ``u_fn: [..., d] -> [...]`` (gradient by
        autograd; ``u_fn`` must treat every point independently)."""
        x = self.nodes(centres).detach().requires_grad_(True)
        with torch.enable_grad():
            u = u_fn(x)
            (grad_u,) = torch.autograd.grad(u.sum(), x, create_graph=True)
        return self.primal(centres, grad_u, coefficient=coefficient)
