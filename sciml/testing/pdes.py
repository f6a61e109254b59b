"""The contract every PDE family of :mod:`sciml.physics` passes.

Each family declares what it promises as class attributes (``order``: its differential order;
``time_dependent``; ``channels``) and registers at least one example here: an instance whose
``exact`` field is an analytic solution and whose ``forcing`` is written out by hand (not
derived through the code under test). The checks measure, per registered example:

* the declared contract: ``order`` is the longest derivative key the residual reads;
* the autograd residual of the exact solution vanishes to round-off (the formula in
  ``residual_from`` agrees with the hand-written forcing);
* :meth:`~sciml.physics.pdes.pde.PDE.manufactured_forcing` of the exact solution reproduces the
  hand-written forcing (to round-off);
* the finite-difference grid residual (:meth:`~sciml.physics.pdes.pde.PDE.grid_residual`) of the
  exact solution sampled on grids of three resolutions converges to zero at the declared
  order of the stencils, ``accuracy = 2`` and ``4`` (log-log slope by
  :func:`~sciml.testing.convergence.observed_order`);

and :func:`pde_classes` lists every PDE class exported by ``sciml.physics``: a new family is
covered by exporting it and registering an example in :data:`EXAMPLES` (the contract fails for
an exported family without one). Use it from a test module::

    from sciml.testing.pdes import PDEContract

    class TestRegisteredPDEs(PDEContract):
        pass
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

import pytest
import torch

import sciml.physics
from sciml.grid import Grid
from sciml.physics import (
    AcousticWave,
    Advection,
    AllenCahn,
    Burgers,
    Darcy,
    FokkerPlanck,
    HamiltonJacobi,
    Heat,
    Helmholtz,
    NavierStokesVorticity,
    Poisson,
    fno_forcing,
)
from sciml.physics.derivative_keys import VECTOR_KEYS
from sciml.physics.pdes.pde import PDE
from sciml.testing.convergence import observed_order

__all__ = ["EXAMPLES", "PDEContract", "pde_classes", "example_grid", "sample_points"]

PI = math.pi
sin, cos, exp = torch.sin, torch.cos, torch.exp
DT = torch.float64
T_END = 0.5  # time span of the space-time checks


# ---------------------------------------------------------------------------------- examples
def _poisson() -> PDE:
    def u(p):
        return sin(PI * p[:, 0]) * sin(2 * PI * p[:, 1]) + p[:, 0] ** 3 * p[:, 1]

    def f(p):
        return 5 * PI**2 * sin(PI * p[:, 0]) * sin(2 * PI * p[:, 1]) - 6 * p[:, 0] * p[:, 1]

    return Poisson(dim=2, forcing=f, exact=u)


def _helmholtz() -> PDE:
    def u(p):
        return sin(PI * p[:, 0]) * cos(PI * p[:, 1])

    return Helmholtz(wavenumber=3.0, forcing=lambda p: (2 * PI**2 - 9) * u(p), exact=u)


def _darcy() -> PDE:
    def u(p):
        return sin(PI * p[:, 0]) * sin(PI * p[:, 1])

    def a(p):
        return 1 + p[:, 0] ** 2 + p[:, 1]

    def f(p):
        s0, c0, s1, c1 = sin(PI * p[:, 0]), cos(PI * p[:, 0]), sin(PI * p[:, 1]), cos(PI * p[:, 1])
        return -(2 * p[:, 0] * PI * c0 * s1 + PI * s0 * c1) + a(p) * 2 * PI**2 * s0 * s1

    return Darcy(coefficient=a, forcing=f, exact=u)


def _allen_cahn() -> PDE:
    def u(p):
        return sin(PI * p[:, 0]) * sin(PI * p[:, 1])

    return AllenCahn(forcing=lambda p: -2 * PI**2 * u(p) + u(p) * (u(p) ** 2 - 1), exact=u)


def _heat() -> PDE:
    return Heat(kappa=0.5, dim=1, exact=lambda p: exp(-0.5 * PI**2 * p[:, 1]) * sin(PI * p[:, 0]))


def _advection() -> PDE:
    return Advection(velocity=0.7, dim=1, exact=lambda p: sin(2 * PI * (p[:, 0] - 0.7 * p[:, 1])))


def _burgers_1d() -> PDE:
    nu = 0.1

    def u(p):  # Cole-Hopf: phi = 2 + exp(-nu pi^2 t) cos(pi x) solves the heat equation
        e = exp(-nu * PI**2 * p[:, 1])
        return 2 * nu * PI * e * sin(PI * p[:, 0]) / (2 + e * cos(PI * p[:, 0]))

    return Burgers(nu=nu, dim=1, exact=u, boundary="dirichlet")


def _burgers_2d() -> PDE:
    nu = 0.1

    def u(p):  # Cole-Hopf in 2-D: u = -2 nu grad(phi) / phi
        e = exp(-2 * nu * PI**2 * p[:, 2])
        cx, cy, sx, sy = cos(PI * p[:, 0]), cos(PI * p[:, 1]), sin(PI * p[:, 0]), sin(PI * p[:, 1])
        phi = 2 + e * cx * cy
        return torch.stack([2 * nu * PI * e * sx * cy / phi, 2 * nu * PI * e * cx * sy / phi], 1)

    return Burgers(nu=nu, dim=2, exact=u, boundary="dirichlet")


def _navier_stokes() -> PDE:
    nu = 0.01

    def psi(p):  # Taylor-Green decay + the steady response to the FNO forcing (same |k|^2)
        tg = 0.05 * exp(-8 * PI**2 * nu * p[:, 2]) * sin(2 * PI * p[:, 0]) * sin(2 * PI * p[:, 1])
        return tg + fno_forcing(p) / (64 * PI**4 * nu)

    return NavierStokesVorticity(nu=nu, exact=psi)


def _acoustic() -> PDE:
    c = 1.5

    def u(p):
        return sin(PI * p[:, 0]) * sin(PI * p[:, 1]) * cos(math.sqrt(2) * PI * c * p[:, 2])

    return AcousticWave(velocity=c, exact=u)


def _fokker_planck() -> PDE:
    d, m0, s0 = 0.5, 0.5, 0.25

    def density(p):  # Ornstein-Uhlenbeck (drift -x): Gaussian with relaxing mean and variance
        m = m0 * exp(-p[:, 1])
        s = d + (s0 - d) * exp(-2 * p[:, 1])
        return exp(-((p[:, 0] - m) ** 2) / (2 * s)) / torch.sqrt(2 * PI * s)

    return FokkerPlanck(diffusion=d, dim=1, exact=density, domain=((-2.0, 2.0),))


def _hamilton_jacobi() -> PDE:
    return HamiltonJacobi(dim=2, exact=lambda p: (p[:, :2] ** 2).sum(1) / (2 * (1 + p[:, 2])))


#: name -> factory of an example with an analytic ``exact`` solution and a hand-written forcing
#: (None where the exact solution solves the unforced PDE). Register a new family here.
EXAMPLES: dict[str, Callable[[], PDE]] = {
    "poisson-2d": _poisson,
    "helmholtz-2d": _helmholtz,
    "darcy-2d": _darcy,
    "allen-cahn-2d": _allen_cahn,
    "heat-1d": _heat,
    "advection-1d": _advection,
    "burgers-1d": _burgers_1d,
    "burgers-2d": _burgers_2d,
    "navier-stokes-2d": _navier_stokes,
    "acoustic-2d": _acoustic,
    "fokker-planck-1d": _fokker_planck,
    "hamilton-jacobi-2d": _hamilton_jacobi,
}


def pde_classes() -> list[type[PDE]]:
    """Every :class:`~sciml.physics.pdes.pde.PDE` subclass exported by ``sciml.physics``."""
    out = []
    for name in sciml.physics.__all__:
        obj = getattr(sciml.physics, name)
        if isinstance(obj, type) and issubclass(obj, PDE) and obj is not PDE:
            out.append(obj)
    return out


# ---------------------------------------------------------------------------------- helpers
def example_grid(pde: PDE, n: int) -> Grid:
    """A vertex grid with ``n`` points per axis on the example's box (space-time box
    ``[0, T_END]`` appended for time-dependent PDEs); spatial axes periodic when the example's
    boundary is ``"periodic"``."""
    periodic = (pde.boundary == "periodic",) * pde.dim
    bounds = pde.box
    if pde.time_dependent:
        bounds, periodic = bounds + ((0.0, T_END),), periodic + (False,)
    return Grid((n,) * len(bounds), bounds=bounds, periodic=periodic)


def sample_points(pde: PDE, n: int = 64, seed: int = 0) -> torch.Tensor:
    """``n`` uniform random points ``[n, dim (+1)]`` in the example's (space-time) box."""
    bounds = pde.box + (((0.0, T_END),) if pde.time_dependent else ())
    lo = torch.tensor([b[0] for b in bounds], dtype=DT)
    hi = torch.tensor([b[1] for b in bounds], dtype=DT)
    g = torch.Generator().manual_seed(seed)
    return lo + (hi - lo) * torch.rand(n, len(bounds), generator=g, dtype=DT)


def _on_grid(pde: PDE, grid: Grid) -> torch.Tensor:
    """The exact solution sampled on ``grid``: ``[1, C, *grid.shape]``."""
    u = pde.exact(grid.points(dtype=DT))
    if u.ndim == 2:
        return u.T.reshape(1, pde.channels, *grid.shape)
    return u.reshape(1, 1, *grid.shape)


def _scale(pde: PDE, x: torch.Tensor) -> float:
    """Size of the terms that cancel in the residual (round-off is relative to it)."""
    f = pde.manufactured_forcing(pde.exact)(x)
    return max(1.0, float(f.abs().max()))


def _key_order(key: str) -> int:
    return {"grad": 1, "lap": 2}[key] if key in VECTOR_KEYS else len(key)


# ---------------------------------------------------------------------------------- contract
class PDEContract:
    """Mixin of checks, parametrized over every registered example (:data:`EXAMPLES`)."""

    #: round-off budget of the autograd checks, relative to the size of the cancelling terms
    rtol: ClassVar[float] = 1e-12
    #: points per axis of the three grids of the convergence check (space-time grids with
    #: three axes are smaller: their cost grows like n^3); measured slopes 1.95-2.95 at
    #: accuracy 2 and 3.84-4.98 at accuracy 4 (one-sided rows at the ends can superconverge)
    sizes_2d: ClassVar[tuple[int, ...]] = (33, 65, 129)
    sizes_3d: ClassVar[tuple[int, ...]] = (17, 33, 65)
    #: allowed distance of the observed order below the stencils' design order (the coarsest
    #: grid is not yet asymptotic where one-sided boundary rows dominate)
    order_slack: ClassVar[float] = 0.3

    @pytest.fixture(autouse=True)
    def _one_thread(self):
        n = torch.get_num_threads()
        torch.set_num_threads(1)  # small problems; threads only contend on a shared machine
        yield
        torch.set_num_threads(n)

    @pytest.fixture(params=sorted(EXAMPLES))
    def name(self, request: pytest.FixtureRequest) -> str:
        return request.param

    def make(self, name: str) -> PDE:
        return EXAMPLES[name]()

    # ------------------------------------------------------------------------------ checks
    def test_every_exported_family_has_an_example(self) -> None:
        covered = {type(EXAMPLES[n]()) for n in EXAMPLES}
        missing = [c.__name__ for c in pde_classes() if c not in covered]
        assert not missing, f"register an example in sciml.testing.pdes.EXAMPLES for {missing}"

    def test_declares_its_contract(self, name) -> None:
        pde = self.make(name)
        assert pde.exact is not None, "an example needs an exact solution"
        assert isinstance(pde.time_dependent, bool) and pde.channels >= 1
        assert isinstance(pde.order, int) and pde.order >= 1
        assert max(_key_order(k) for k in pde.required_derivatives) == pde.order, (
            pde.required_derivatives,
            pde.order,
        )
        assert pde.letters[-1:] == ("t" if pde.time_dependent else pde.letters[-1:])

    def test_autograd_residual_vanishes_on_exact_solution(self, name) -> None:
        pde = self.make(name)
        x = sample_points(pde)
        r = pde.residual(pde.exact, x).detach()
        assert r.shape == ((64,) if pde.channels == 1 else (64, pde.channels))
        scale = _scale(pde, x)
        assert r.abs().max().item() <= self.rtol * scale, (r.abs().max().item(), scale)

    def test_manufactured_forcing_reproduces_the_forcing(self, name) -> None:
        pde = self.make(name)
        x = sample_points(pde, seed=1)
        f = pde.manufactured_forcing()(x)
        written = torch.zeros_like(f) if pde.forcing is None else pde.forcing(x).reshape(f.shape)
        scale = max(1.0, float(written.abs().max()))
        assert (f - written).abs().max().item() <= self.rtol * scale
        # the manufactured problem's residual vanishes, and the method leaves pde alone
        assert pde.manufactured(pde.exact).residual(pde.exact, x).abs().max() <= self.rtol * scale

    @pytest.mark.parametrize("accuracy", [2, 4])
    def test_grid_residual_converges_at_the_stencil_order(self, name, accuracy) -> None:
        pde = self.make(name)
        axes = pde.dim + pde.time_dependent
        sizes = self.sizes_3d if axes == 3 else self.sizes_2d
        errs, hs = [], []
        for n in sizes:
            grid = example_grid(pde, n)
            r = pde.grid_residual(_on_grid(pde, grid), grid, accuracy=accuracy)
            assert r.shape[0] == 1 and tuple(r.shape[-grid.ndim :]) == grid.shape
            errs.append(r.abs().max().item())
            hs.append(max(grid.spacing))
        order = observed_order(errs, hs)
        assert order > accuracy - self.order_slack, (errs, order)
