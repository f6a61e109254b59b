"""Registry of the published GP-HM test problems (Fang et al., ICLR 2024).

Each problem is a PDE from :mod:`sciml.physics` with a manufactured exact solution. The
forcing is NOT typed here: it is the PDE's own autograd residual of the exact solution with
zero forcing (``f = R_0(u_exact)``: for ``-u'' = f`` that is ``-u''``, for Allen-Cahn
``u'' + u(u^2 - 1)``), so the formula lives only in ``sciml.physics``.

>>> p = get_problem("poisson-1d-sin100")
>>> p.pde.dim, p.grid.shape
(1, (200,))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from sciml.grid import Grid
from sciml.physics import Advection, AllenCahn, Burgers, Poisson

__all__ = ["GPProblem", "PROBLEMS", "get_problem", "manufactured_forcing"]

PointFn = Callable[[torch.Tensor], torch.Tensor]


def manufactured_forcing(pde, exact: PointFn) -> PointFn:
    """``f = R_0(u_exact)``: :meth:`sciml.physics.pdes.pde.PDE.manufactured_forcing` (cached per x)."""
    return pde.manufactured_forcing(exact)


@dataclass
class GPProblem:
    """One test problem: ``pde`` (with forcing and exact solution), the default collocation
    ``grid`` (``quick_grid`` for a small CPU run), the boundary ``faces`` that carry data, and
    the published recipe's hand-set largest initial frequency ``max_frequency`` (cycles/unit,
    per axis)."""

    name: str
    pde: object
    grid: Grid
    quick_grid: Grid
    faces: tuple[str, ...] | None
    max_frequency: tuple[float, ...]
    description: str = ""
    true_frequencies: dict[str, list[float]] = field(default_factory=dict)

    @property
    def exact(self) -> PointFn:
        return self.pde.exact

    def boundary(self, points: torch.Tensor) -> torch.Tensor:
        """Boundary / initial / inflow data: the exact solution at ``points: [M, ndim]``."""
        return self.pde.exact(points)


def _cyc(*omega: float) -> list[float]:
    """Angular frequencies -> cycles per unit."""
    return [w / (2 * math.pi) for w in omega]


def _poisson_1d(name, u, n, quick, fmax, freqs, desc):
    pde = Poisson(dim=1, exact=u)
    pde.forcing = manufactured_forcing(pde, u)
    return GPProblem(
        name, pde, Grid((n,)), Grid((quick,)), None, (fmax,), desc, {"x": _cyc(*freqs)}
    )


def _ac_1d(name, u, n, quick, fmax, freqs, desc):
    pde = AllenCahn(dim=1, exact=u)
    pde.forcing = manufactured_forcing(pde, u)
    return GPProblem(
        name, pde, Grid((n,)), Grid((quick,)), None, (fmax,), desc, {"x": _cyc(*freqs)}
    )


def _x(p, i=0):
    return p[:, i]


def _build() -> dict[str, GPProblem]:
    s, c = torch.sin, torch.cos
    out = [
        _poisson_1d(
            "poisson-1d-sin100",
            lambda p: s(100 * _x(p)),
            200,
            200,
            20.0,
            [100],
            "-u'' = f on [0, 1], u = sin(100x)",
        ),
        _poisson_1d(
            "poisson-1d-sin6cos100",
            lambda p: s(6 * _x(p)) * c(100 * _x(p)),
            200,
            200,
            20.0,
            [94, 106],
            "-u'' = f on [0, 1], u = sin(6x) cos(100x)",
        ),
        _poisson_1d(
            "poisson-1d-xsin200",
            lambda p: _x(p) * s(200 * _x(p)),
            400,
            400,
            40.0,
            [200],
            "-u'' = f on [0, 1], u = x sin(200x)",
        ),
        _poisson_1d(
            "poisson-1d-multiscale",
            lambda p: s(_x(p)) + 0.1 * s(20 * _x(p)) + 0.05 * s(100 * _x(p)),
            200,
            200,
            20.0,
            [1, 20, 100],
            "-u'' = f on [0, 1], u = sin(x) + 0.1 sin(20x) + 0.05 sin(100x)",
        ),
        _poisson_1d(
            "poisson-1d-sin500",
            lambda p: s(500 * _x(p)) - 2 * (_x(p) - 0.5) ** 2,
            600,
            600,
            100.0,
            [500],
            "-u'' = f on [0, 1], u = sin(500x) - 2 (x - 0.5)^2",
        ),
        _ac_1d(
            "allen-cahn-1d-sin100",
            lambda p: s(100 * _x(p)),
            200,
            200,
            20.0,
            [100],
            "u'' + u(u^2 - 1) = f on [0, 1], u = sin(100x)",
        ),
        _ac_1d(
            "allen-cahn-1d-sin6cos100",
            lambda p: s(6 * _x(p)) * c(100 * _x(p)),
            200,
            200,
            20.0,
            [94, 106],
            "u'' + u(u^2 - 1) = f on [0, 1], u = sin(6x) cos(100x)",
        ),
    ]

    def two_d(name, pde_cls, u, n, quick, fmax, freqs, desc):
        pde = pde_cls(dim=2, exact=u)
        pde.forcing = manufactured_forcing(pde, u)
        f = _cyc(*freqs)
        return GPProblem(
            name,
            pde,
            Grid((n, n)),
            Grid((quick, quick)),
            None,
            (fmax, fmax),
            desc,
            {"x": f, "y": f},
        )

    out += [
        two_d(
            "poisson-2d-sin100",
            Poisson,
            lambda p: s(100 * _x(p)) * s(100 * _x(p, 1)),
            72,
            56,
            20.0,
            [100],
            "-Laplacian u = f on [0, 1]^2, u = sin(100x) sin(100y)",
        ),
        two_d(
            "poisson-2d-sin6cos20",
            Poisson,
            lambda p: s(6 * _x(p)) * c(20 * _x(p)) + s(6 * _x(p, 1)) * c(20 * _x(p, 1)),
            40,
            32,
            6.0,
            [14, 26],
            "-Laplacian u = f on [0, 1]^2, u = sin(6x)cos(20x) + sin(6y)cos(20y)",
        ),
    ]

    def mixed(p, i):
        v = _x(p, i)
        return s(v) + 0.1 * s(20 * v) + c(100 * v)

    out.append(
        two_d(
            "allen-cahn-2d-mixed",
            AllenCahn,
            lambda p: mixed(p, 0) * mixed(p, 1),
            72,
            56,
            20.0,
            [1, 20, 100],
            "Laplacian u + u(u^2 - 1) = f on [0, 1]^2, "
            "u = (sin x + 0.1 sin 20x + cos 100x)(sin y + 0.1 sin 20y + cos 100y)",
        )
    )
    beta = 200.0
    adv = Advection(
        velocity=beta,
        dim=1,
        domain=((0.0, 2 * math.pi),),
        exact=lambda p: s(_x(p) - beta * _x(p, 1)),
        initial=lambda p: s(_x(p)),
    )
    box = ((0.0, 2 * math.pi), (0.0, 1.0))
    out.append(
        GPProblem(
            "advection-1d-beta200",
            adv,
            Grid((32, 160), bounds=box),
            Grid((24, 140), bounds=box),
            ("x-", "t-"),  # inflow (beta > 0) and initial data only: no final-time data
            (1.0, 40.0),
            "u_t + 200 u_x = 0 on [0, 2pi] x [0, 1], u(x, 0) = sin x, inflow u(0, t) = "
            "sin(-200 t); exact sin(x - 200 t)",
            {"x": _cyc(1), "t": _cyc(beta)},
        )
    )
    # a nonlinear time-dependent problem on a space-time grid: viscous Burgers with a
    # decaying high-frequency mode (manufactured), initial data and both walls
    nu = 0.01

    def burgers_u(p):
        return torch.exp(-_x(p, 1)) * s(60 * _x(p))

    burgers = Burgers(nu=nu, dim=1, exact=burgers_u, initial=lambda p: s(60 * _x(p)))
    burgers.forcing = manufactured_forcing(burgers, burgers_u)
    out.append(
        GPProblem(
            "burgers-1d-sin60",
            burgers,
            Grid((48, 24)),
            Grid((40, 20)),
            ("x-", "x+", "t-"),
            (20.0, 5.0),
            "u_t + u u_x - 0.01 u_xx = f on [0, 1] x [0, 1], u = exp(-t) sin(60 x); initial "
            "data and both walls",
            {"x": _cyc(60), "t": []},
        )
    )

    # 3-D: the Kronecker algebra is per axis; 65^3 = 274 625 points (4 per wavelength)
    def sin3(p):
        return s(100 * _x(p)) * s(100 * _x(p, 1)) * s(100 * _x(p, 2))

    pde3 = Poisson(dim=3, exact=sin3)
    pde3.forcing = manufactured_forcing(pde3, sin3)
    f3 = _cyc(100)
    out.append(
        GPProblem(
            "poisson-3d-sin100",
            pde3,
            Grid((65, 65, 65)),
            Grid((41, 41, 41)),
            None,
            (20.0, 20.0, 20.0),
            "-Laplacian u = f on [0, 1]^3, u = sin(100x) sin(100y) sin(100z)",
            {"x": f3, "y": f3, "z": f3},
        )
    )
    return {p.name: p for p in out}


PROBLEMS: dict[str, GPProblem] = _build()


def get_problem(name: str) -> GPProblem:
    """The registered problem ``name`` (see ``PROBLEMS``); a clear error lists the names."""
    if name not in PROBLEMS:
        raise KeyError(f"unknown GP problem {name!r}; known: {', '.join(sorted(PROBLEMS))}")
    return PROBLEMS[name]
