"""FEniCSx (dolfinx) discretizations on a :class:`sciml.mesh.Mesh`: the ground-truth engine.

All heavy imports are local to the functions, so ``import sciml.physics`` never loads
dolfinx or PETSc. Every solver returns a :class:`FemSolution` that knows its dolfinx
function, can report L2 errors against an exact solution, and gives nodal values in the
input Mesh's numbering (gathered to rank 0 under MPI) for transfer to a Grid.

Coefficients and forcings are given as

* a number,
* a callable ``f(x)`` of the UFL spatial coordinate ``x`` returning a UFL expression
  (exact quadrature of manufactured data), or
* a grid field ``(grid, values)`` with ``values: [*grid.shape]`` (a torch tensor or
  numpy array), sampled multilinearly at the cell midpoints into a piecewise-constant
  (DG0) function: the way grid data sets hand a coefficient to the FEM solver.

Solvers: ``"cg-gamg"`` (CG + PETSc GAMG, the default for SPD problems), ``"mumps"``
(direct LU), ``"gmres-gamg"`` (indefinite problems such as Helmholtz with large k).

The PDE objects of :mod:`sciml.physics` drive the same engine: :func:`solve_elliptic` takes a
``Poisson``, ``Darcy`` or ``Helmholtz`` object and :func:`solve_heat_fem` a ``Heat`` object.
Their pointwise (torch) coefficient, forcing, initial condition and exact solution are
interpolated on the mesh (Lagrange elements one degree above the solution's); the exact
solution, when given, is the Dirichlet data. :func:`solve_scalar_elliptic` and
:func:`solve_heat` keep the UFL-callable interface (exact quadrature of manufactured data,
grid coefficients); the grid engine's heat solver is
:func:`sciml.physics.steppers.heat.solve_heat_grid`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from sciml.grid import Grid
from sciml.mesh import Mesh
from sciml.physics._pointwise import evaluate
from sciml.physics.pdes.darcy import Darcy
from sciml.physics.pdes.heat import Heat
from sciml.physics.pdes.helmholtz import Helmholtz
from sciml.physics.pdes.poisson import Poisson

__all__ = [
    "FemSolution",
    "PETSC_SOLVERS",
    "solve_elliptic",
    "solve_heat_fem",
    "solve_scalar_elliptic",
    "solve_heat",
    "solve_elasticity",
    "GridCoefficientElliptic",
]

PETSC_SOLVERS: dict[str, dict[str, Any]] = {
    "cg-gamg": {
        "ksp_type": "cg",
        "pc_type": "gamg",
        "ksp_rtol": 1e-12,
        "ksp_atol": 1e-14,
        "ksp_max_it": 2000,
        "ksp_error_if_not_converged": True,
    },
    "mumps": {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"},
    "gmres-gamg": {
        "ksp_type": "gmres",
        "pc_type": "gamg",
        "ksp_rtol": 1e-12,
        "ksp_max_it": 5000,
        "ksp_error_if_not_converged": True,
    },
}

_prefix_counter = iter(range(1, 1 << 62))


def _dolfinx():
    import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx / petsc4py)

    # heavy optional dependency (FEniCSx): loaded when first used
    import dolfinx
    import dolfinx.fem.petsc  # noqa: F401

    # heavy optional dependency (FEniCSx): loaded when first used
    import ufl

    return dolfinx, ufl


@dataclass
class FemSolution:
    """A solved FEM field.

    Attributes:
        u: the dolfinx Function.
        mesh: the input :class:`Mesh` (on every rank) whose numbering ``values`` follows.
        iterations: Krylov iterations used (0 for direct solves).
    """

    u: Any
    mesh: Mesh
    iterations: int

    def l2_error(self, exact: Callable) -> float:
        """``||u - exact||_L2`` with ``exact(x)`` a UFL expression of the coordinate."""
        dolfinx, ufl = _dolfinx()
        # heavy optional dependency (MPI (import dolfinx_solver first)): loaded when first used
        from mpi4py import MPI

        dmesh = self.u.function_space.mesh
        x = ufl.SpatialCoordinate(dmesh)
        e = self.u - exact(x)
        form = dolfinx.fem.form(ufl.inner(e, e) * ufl.dx(metadata={"quadrature_degree": 8}))
        local = dolfinx.fem.assemble_scalar(form)
        return float(np.sqrt(dmesh.comm.allreduce(local, op=MPI.SUM)))

    def l2_error_pointwise(self, exact: Callable, t: float | None = None) -> float:
        """``||u - exact||_L2`` with ``exact(x: [N, dim (+1)]) -> [N]`` a torch point function
        (the ``exact`` of a PDE object; ``t`` appends the time column), interpolated into
        Lagrange elements three degrees above the solution's."""
        dolfinx, ufl = _dolfinx()
        # heavy optional dependency (MPI (import dolfinx_solver first)): loaded when first used
        from mpi4py import MPI

        V = self.u.function_space
        dmesh = V.mesh
        degree = V.element.basix_element.degree + 3
        ex = _interpolate_point_fn(exact, dolfinx.fem.functionspace(dmesh, ("Lagrange", degree)), t)
        e = self.u - ex
        form = dolfinx.fem.form(
            ufl.inner(e, e) * ufl.dx(metadata={"quadrature_degree": 2 * degree})
        )
        local = dolfinx.fem.assemble_scalar(form)
        return float(np.sqrt(dmesh.comm.allreduce(local, op=MPI.SUM)))

    def values(self, root: int = 0) -> np.ndarray | None:
        """Nodal (P1) values ``[N]`` in the input Mesh's point order, on rank ``root``."""
        dolfinx, _ = _dolfinx()
        V = self.u.function_space
        dmesh = V.mesh
        if V.element.basix_element.degree == 1 and V.dofmap.index_map_bs == 1:
            u1 = self.u
        else:
            V1 = dolfinx.fem.functionspace(dmesh, ("Lagrange", 1))
            u1 = dolfinx.fem.Function(V1)
            u1.interpolate(self.u)
            V = V1
        geom = np.asarray(dmesh.geometry.dofmaps[0])
        node_to_dof = np.empty(geom.max() + 1, dtype=np.int64)
        node_to_dof[geom.ravel()] = np.asarray(V.dofmap.list).ravel()
        gidx = np.asarray(dmesh.geometry.input_global_indices, dtype=np.int64)
        vals = u1.x.array[node_to_dof]
        parts = dmesh.comm.gather((gidx, vals), root=root)
        if dmesh.comm.rank != root:
            return None
        out = np.empty(self.mesh.num_points)
        for g, v in parts:
            out[g] = v
        return out

    def to_grid(self, grid: Grid, outside: str = "raise") -> np.ndarray | None:
        """P1 values sampled at ``grid`` points ``[*grid.shape]`` (rank 0; None elsewhere)."""
        vals = self.values()
        return None if vals is None else self.mesh.to_grid(vals, grid, outside)


def _set_dg0_from_grid(fn, grid: Grid, values, name: str, sampling: str = "linear") -> None:
    """Sample grid values ``[*grid.shape]`` at the cell midpoints of ``fn``'s mesh, multilinearly
    (``sampling="linear"``) or from the nearest grid point (``"nearest"``: a piecewise-constant
    field on the grid points' Voronoi cells, jumps kept sharp)."""
    dolfinx, _ = _dolfinx()
    values = torch.as_tensor(np.asarray(values), dtype=torch.float64)
    if tuple(values.shape) != grid.shape:
        raise ValueError(
            f"{name}: grid values must have shape {grid.shape}, got {tuple(values.shape)}"
        )
    if not torch.isfinite(values).all():
        raise ValueError(f"{name}: grid values contain NaN or inf")
    Q = fn.function_space
    mid = getattr(fn, "_sciml_midpoints", None)
    if mid is None or mid.shape[1] != grid.ndim:  # cell midpoints, computed once per function
        dmesh = Q.mesh
        tdim = dmesh.topology.dim
        imap = dmesh.topology.index_map(tdim)
        cells = np.arange(imap.size_local + imap.num_ghosts, dtype=np.int32)
        mid = torch.as_tensor(dolfinx.mesh.compute_midpoints(dmesh, tdim, cells)[:, : grid.ndim])
        fn._sciml_midpoints = mid
    lo = torch.tensor([b[0] for b in grid.bounds], dtype=torch.float64)
    hi = torch.tensor([b[1] for b in grid.bounds], dtype=torch.float64)
    mid = torch.minimum(torch.maximum(mid, lo), hi)
    if sampling == "nearest":
        index = tuple(
            torch.round((mid[:, ax] - grid.offset(ax)) / grid.spacing[ax])
            .long()
            .clamp(0, grid.shape[ax] - 1)
            for ax in range(grid.ndim)
        )
        sampled = values[index].numpy()
    elif sampling == "linear":
        sampled = grid.interpolate(values[None, None], mid)[0, 0].numpy()
    else:
        raise ValueError(f"sampling must be 'linear' or 'nearest', got {sampling!r}")
    fn.x.array[np.asarray(Q.dofmap.list).ravel()] = sampled


def _coefficient(spec, dmesh, name: str, sampling: str = "linear"):
    """Turn a number / UFL callable / (grid, values) pair into something UFL accepts
    (``sampling``: how a grid field is read at the cells, see :func:`_set_dg0_from_grid`)."""
    dolfinx, ufl = _dolfinx()
    if spec is None:
        return None
    if isinstance(spec, (int, float)):
        if not np.isfinite(spec):
            raise ValueError(f"{name} must be finite, got {spec}")
        return dolfinx.fem.Constant(dmesh, dolfinx.default_scalar_type(spec))
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], Grid):
        fn = dolfinx.fem.Function(dolfinx.fem.functionspace(dmesh, ("DG", 0)))
        _set_dg0_from_grid(fn, spec[0], spec[1], name, sampling)
        return fn
    if callable(spec):
        return spec(ufl.SpatialCoordinate(dmesh))
    raise TypeError(
        f"{name} must be a number, a callable of x, or (Grid, values), got {type(spec)}"
    )


def _interpolate_point_fn(fn, space, t: float | None = None, out=None):
    """A dolfinx Function of ``space`` interpolating a torch point function (or a number)
    ``fn(x: [N, dim (+1)]) -> [N]`` at the space's interpolation points; ``t`` appends a time
    column. ``out`` (a Function of ``space``) is filled in place when given."""
    dolfinx, _ = _dolfinx()

    dim = space.mesh.geometry.dim
    tdim = space.mesh.topology.dim

    def values(x: np.ndarray) -> np.ndarray:  # x: [3, N] interpolation points
        pts = torch.from_numpy(np.ascontiguousarray(x[: min(dim, tdim)].T)).to(torch.float64)
        if t is not None:
            pts = torch.cat([pts, torch.full_like(pts[:, :1], float(t))], dim=1)
        with torch.no_grad():
            v = evaluate(fn, pts)
        v = v.detach().to("cpu", torch.float64).reshape(-1).numpy()
        if not np.isfinite(v).all():
            raise ValueError("a point function of the PDE returned NaN or inf on the mesh")
        return v

    out = dolfinx.fem.Function(space) if out is None else out
    out.interpolate(values)
    return out


def _dirichlet_dofs(dmesh, V, facet_tags, dirichlet_markers):
    dolfinx, _ = _dolfinx()
    tdim = dmesh.topology.dim
    dmesh.topology.create_connectivity(tdim - 1, tdim)
    if dirichlet_markers is None:
        facets = dolfinx.mesh.exterior_facet_indices(dmesh.topology)
    else:
        if facet_tags is None:
            raise ValueError("dirichlet_markers given but the mesh has no facet markers")
        facets = np.concatenate([facet_tags.find(m) for m in dirichlet_markers])
    return dolfinx.fem.locate_dofs_topological(V, tdim - 1, facets)


def _solve_elliptic_forms(
    mesh: Mesh, data, *, k2: float, degree: int, solver: str, dirichlet_markers, comm
) -> FemSolution:
    """``-div(a grad u) - k2 u = f``, ``u = g`` on the Dirichlet facets; ``data(dmesh, V)``
    returns ``(a, f, g)``: UFL coefficient and forcing, boundary Function of ``V``."""
    if solver not in PETSC_SOLVERS:
        raise ValueError(f"solver must be one of {sorted(PETSC_SOLVERS)}, got {solver!r}")
    if degree not in (1, 2, 3):
        raise ValueError(f"degree must be 1, 2 or 3, got {degree}")
    if not isinstance(mesh, Mesh):
        raise TypeError(f"mesh must be a sciml.Mesh, got {type(mesh)}")
    dolfinx, ufl = _dolfinx()
    # heavy optional dependency (FEniCSx): loaded when first used
    from dolfinx.fem.petsc import LinearProblem

    dmesh, _, facet_tags = mesh.to_dolfinx(comm)
    V = dolfinx.fem.functionspace(dmesh, ("Lagrange", degree))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    a_c, f, g = data(dmesh, V)
    form_a = ufl.inner(a_c * ufl.grad(u), ufl.grad(v)) * ufl.dx
    if k2:
        form_a = form_a - float(k2) * u * v * ufl.dx
    form_L = f * v * ufl.dx
    bc = dolfinx.fem.dirichletbc(g, _dirichlet_dofs(dmesh, V, facet_tags, dirichlet_markers))
    problem = LinearProblem(
        form_a,
        form_L,
        bcs=[bc],
        petsc_options=dict(PETSC_SOLVERS[solver]),
        petsc_options_prefix=f"sciml_elliptic_{next(_prefix_counter)}_",
    )
    uh = problem.solve()
    its = problem.solver.getIterationNumber()
    return FemSolution(uh, mesh, int(its))


def solve_scalar_elliptic(
    mesh: Mesh,
    *,
    coefficient=1.0,
    forcing=0.0,
    boundary_value=0.0,
    k2: float = 0.0,
    degree: int = 1,
    solver: str = "cg-gamg",
    dirichlet_markers: list[int] | None = None,
    coefficient_sampling: str = "linear",
    comm=None,
) -> FemSolution:
    """Solve ``-div(a grad u) - k2 u = f`` with ``u = g`` on the Dirichlet boundary.

    Covers Poisson (``a = 1``), Darcy (``a`` a coefficient field) and Helmholtz (``k2 > 0``)
    given as UFL callables, numbers or grid fields; :func:`solve_elliptic` is the same solve
    for a PDE object.

    Args:
        mesh: the domain (a Mesh; distributed over ``comm``).
        coefficient, forcing: see the module docstring for the accepted forms.
        boundary_value: ``g``: a number or a callable of the UFL coordinate.
        degree: Lagrange degree (1 or 2).
        solver: a key of :data:`PETSC_SOLVERS`.
        dirichlet_markers: facet markers carrying the Dirichlet condition; default: the
            whole boundary (other facets are zero-flux).
        coefficient_sampling: how a grid coefficient is read at the cells: ``"linear"``
            (multilinear at the midpoints) or ``"nearest"`` (piecewise constant, jumps kept).
    """
    if coefficient_sampling not in ("linear", "nearest"):
        raise ValueError(
            f"coefficient_sampling must be 'linear' or 'nearest', got {coefficient_sampling!r}"
        )

    def data(dmesh, V):
        dolfinx, ufl = _dolfinx()
        g = dolfinx.fem.Function(V)
        if callable(boundary_value):
            expr = dolfinx.fem.Expression(
                boundary_value(ufl.SpatialCoordinate(dmesh)), V.element.interpolation_points
            )
            g.interpolate(expr)
        else:
            g.x.array[:] = float(boundary_value)
        a_c = _coefficient(coefficient, dmesh, "coefficient", coefficient_sampling)
        return a_c, _coefficient(forcing, dmesh, "forcing"), g

    return _solve_elliptic_forms(
        mesh, data, k2=k2, degree=degree, solver=solver,
        dirichlet_markers=dirichlet_markers, comm=comm,
    )  # fmt: skip


def solve_elliptic(
    pde,
    mesh: Mesh,
    *,
    degree: int = 1,
    solver: str | None = None,
    data_degree: int | None = None,
    dirichlet_markers: list[int] | None = None,
    comm=None,
) -> FemSolution:
    """FEM solve of a :class:`~sciml.physics.pdes.poisson.Poisson`,
    :class:`~sciml.physics.pdes.darcy.Darcy` or :class:`~sciml.physics.pdes.helmholtz.Helmholtz` object.

    The object's point functions (``coefficient``, ``forcing``; None = 0) are interpolated on
    the mesh in Lagrange elements of degree ``data_degree`` (default ``degree + 1``: the
    interpolation error stays below the discretisation's); ``u = exact`` on the Dirichlet
    facets (interpolated in the solution's space), ``u = 0`` when ``exact`` is None. The
    object's ``boundary`` must be ``"dirichlet"``; its ``dim`` must be the mesh's.

    Args:
        pde: the PDE object.
        mesh: the domain (distributed over ``comm``).
        degree: Lagrange degree of the solution (1-3).
        solver: a key of :data:`PETSC_SOLVERS`; default ``"cg-gamg"`` for Poisson/Darcy,
            ``"mumps"`` for Helmholtz (indefinite once ``k^2`` exceeds the first eigenvalue).
        data_degree: Lagrange degree of the interpolated coefficient and forcing.
        dirichlet_markers: facet markers carrying the Dirichlet condition (default all).

    Returns:
        the :class:`FemSolution` (compare with ``exact`` by :meth:`FemSolution.l2_error_pointwise`).
    """

    if not isinstance(pde, (Poisson, Darcy, Helmholtz)):
        raise TypeError(f"pde must be a Poisson, Darcy or Helmholtz object, got {type(pde)}")
    if not isinstance(mesh, Mesh):
        raise TypeError(f"mesh must be a sciml.Mesh, got {type(mesh)}")
    if pde.dim != mesh.tdim:
        raise ValueError(f"the PDE is {pde.dim}-D but the mesh is {mesh.tdim}-D")
    if pde.boundary != "dirichlet":
        raise ValueError(f"solve_elliptic needs boundary='dirichlet', got {pde.boundary!r}")
    k2 = pde.wavenumber**2 if isinstance(pde, Helmholtz) else 0.0
    solver = solver or ("mumps" if isinstance(pde, Helmholtz) else "cg-gamg")
    data_degree = degree + 1 if data_degree is None else data_degree

    def data(dmesh, V):
        dolfinx, _ = _dolfinx()
        W = dolfinx.fem.functionspace(dmesh, ("Lagrange", data_degree))
        a_c = _interpolate_point_fn(getattr(pde, "coefficient", 1.0), W)
        f = _interpolate_point_fn(0.0 if pde.forcing is None else pde.forcing, W)
        g = _interpolate_point_fn(0.0 if pde.exact is None else pde.exact, V)
        return a_c, f, g

    return _solve_elliptic_forms(
        mesh, data, k2=k2, degree=degree, solver=solver,
        dirichlet_markers=dirichlet_markers, comm=comm,
    )  # fmt: skip


class GridCoefficientElliptic:
    """Reusable ``-div(a grad u) = f`` solver for many grid coefficients on one mesh.

    The dolfinx mesh, function spaces, compiled forms and PETSc solver are built once;
    :meth:`solve` only resamples ``a`` into a DG0 function and re-solves. This is what
    data-set recipes use (thousands of coefficients, one mesh).

    Args:
        mesh: the domain; Dirichlet ``u = boundary_value`` on its whole boundary.
        degree, solver: as in :func:`solve_scalar_elliptic`.
        comm: MPI communicator for the mesh (default ``COMM_SELF``: one solve per rank, the
            sample-parallel mode of data generation).
    """

    def __init__(
        self,
        mesh: Mesh,
        *,
        degree: int = 1,
        solver: str = "cg-gamg",
        boundary_value: float = 0.0,
        comm=None,
    ):
        if solver not in PETSC_SOLVERS:
            raise ValueError(f"solver must be one of {sorted(PETSC_SOLVERS)}, got {solver!r}")
        dolfinx, ufl = _dolfinx()
        # heavy optional dependency (FEniCSx): loaded when first used
        from dolfinx.fem.petsc import LinearProblem

        # heavy optional dependency (MPI (import dolfinx_solver first)): loaded when first used
        from mpi4py import MPI

        self.mesh = mesh
        dmesh, _, _ = mesh.to_dolfinx(comm or MPI.COMM_SELF)
        V = dolfinx.fem.functionspace(dmesh, ("Lagrange", degree))
        Q = dolfinx.fem.functionspace(dmesh, ("DG", 0))
        self.a, self.f = dolfinx.fem.Function(Q), dolfinx.fem.Function(Q)
        u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
        tdim = dmesh.topology.dim
        dmesh.topology.create_connectivity(tdim - 1, tdim)
        facets = dolfinx.mesh.exterior_facet_indices(dmesh.topology)
        dofs = dolfinx.fem.locate_dofs_topological(V, tdim - 1, facets)
        bc = dolfinx.fem.dirichletbc(dolfinx.default_scalar_type(boundary_value), dofs, V)
        self.problem = LinearProblem(
            ufl.inner(self.a * ufl.grad(u), ufl.grad(v)) * ufl.dx,
            self.f * v * ufl.dx,
            bcs=[bc],
            petsc_options=dict(PETSC_SOLVERS[solver]),
            petsc_options_prefix=f"sciml_gridcoef_{next(_prefix_counter)}_",
        )

    def solve(
        self, grid: Grid, coefficient, forcing=1.0, *, sampling: str = "linear"
    ) -> FemSolution:
        """Solve with ``a`` on ``grid`` (``[*grid.shape]``, > 0) and ``f`` a number or on ``grid``.

        ``sampling`` says how ``a`` is read at the mesh cells: ``"linear"`` (multilinear at the
        cell midpoints) or ``"nearest"`` (the value of the nearest grid point, so ``a`` is
        piecewise constant on the grid points' cells: the coefficient a grid field stands for
        when its jumps must stay sharp).
        """
        if (np.asarray(coefficient) <= 0).any():
            raise ValueError("coefficient must be positive everywhere")
        _set_dg0_from_grid(self.a, grid, coefficient, "coefficient", sampling)
        if np.isscalar(forcing):
            if not np.isfinite(forcing):
                raise ValueError(f"forcing must be finite, got {forcing}")
            self.f.x.array[:] = forcing
        else:
            _set_dg0_from_grid(self.f, grid, forcing, "forcing")
        uh = self.problem.solve()
        return FemSolution(uh, self.mesh, int(self.problem.solver.getIterationNumber()))


def solve_elasticity(
    mesh: Mesh,
    *,
    young: float = 1.0,
    poisson_ratio: float = 0.3,
    traction: tuple[float, float] = (1.0, 0.0),
    clamped_marker: int = 1,
    traction_marker: int = 2,
    degree: int = 1,
    solver: str = "mumps",
    body_force=None,
    clamped_value=None,
    comm=None,
) -> tuple[FemSolution, np.ndarray]:
    """Plane-strain linear elasticity on a 2-D mesh.

    ``-div(sigma(u)) = body_force``, ``u = clamped_value`` (default 0) on facets marked
    ``clamped_marker``, ``sigma n = traction`` on ``traction_marker``, traction-free
    elsewhere (holes). Returns the displacement and the von Mises stress per node ``[N]``
    (P1 projection of the DG stress) in the input Mesh's numbering (rank 0; ``None``
    elsewhere). ``body_force`` and ``clamped_value`` may be callables of the UFL coordinate
    returning 2-vectors (manufactured solutions).
    """
    if mesh.tdim != 2:
        raise ValueError(f"mesh must be 2-D for plane strain, got tdim={mesh.tdim}")
    if mesh.facets is None:
        raise ValueError("mesh needs facet markers for the clamped and traction boundaries")
    if not (young > 0 and -1 < poisson_ratio < 0.5):
        raise ValueError(
            f"need young > 0 and -1 < poisson_ratio < 0.5, got {young}, {poisson_ratio}"
        )
    dolfinx, ufl = _dolfinx()
    # heavy optional dependency (FEniCSx): loaded when first used
    from dolfinx.fem.petsc import LinearProblem

    dmesh, _, ftags = mesh.to_dolfinx(comm)
    V = dolfinx.fem.functionspace(dmesh, ("Lagrange", degree, (2,)))
    lam = young * poisson_ratio / ((1 + poisson_ratio) * (1 - 2 * poisson_ratio))
    mu = young / (2 * (1 + poisson_ratio))

    def sigma(w):
        eps = ufl.sym(ufl.grad(w))
        return 2 * mu * eps + lam * ufl.tr(eps) * ufl.Identity(2)

    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    x = ufl.SpatialCoordinate(dmesh)
    ds = ufl.Measure("ds", domain=dmesh, subdomain_data=ftags)
    t = dolfinx.fem.Constant(dmesh, np.asarray(traction, dtype=dolfinx.default_scalar_type))
    L = ufl.inner(t, v) * ds(traction_marker)
    if body_force is not None:
        L = L + ufl.inner(body_force(x), v) * ufl.dx
    tdim = dmesh.topology.dim
    dmesh.topology.create_connectivity(tdim - 1, tdim)
    dofs = dolfinx.fem.locate_dofs_topological(V, tdim - 1, ftags.find(clamped_marker))
    g = dolfinx.fem.Function(V)
    if clamped_value is not None:
        g.interpolate(dolfinx.fem.Expression(clamped_value(x), V.element.interpolation_points))
    bc = dolfinx.fem.dirichletbc(g, dofs)
    problem = LinearProblem(
        ufl.inner(sigma(u), ufl.grad(v)) * ufl.dx,
        L,
        bcs=[bc],
        petsc_options=dict(PETSC_SOLVERS[solver]),
        petsc_options_prefix=f"sciml_elasticity_{next(_prefix_counter)}_",
    )
    uh = problem.solve()
    s = sigma(uh)
    dev = s - ufl.tr(s) / 3 * ufl.Identity(2)
    # plane strain: sigma_zz = lam tr(eps) enters the von Mises stress
    szz = lam * ufl.tr(ufl.sym(ufl.grad(uh)))
    vm = ufl.sqrt(1.5 * (ufl.inner(dev, dev) + (szz - ufl.tr(s) / 3) ** 2) + 1e-30)
    V1 = dolfinx.fem.functionspace(dmesh, ("Lagrange", 1))
    vm_h = dolfinx.fem.Function(V1)
    vm_h.interpolate(dolfinx.fem.Expression(vm, V1.element.interpolation_points))
    stress = FemSolution(vm_h, mesh, 0).values()
    return FemSolution(uh, mesh, int(problem.solver.getIterationNumber())), stress


def _solve_heat_forms(
    mesh: Mesh, *, kappa, t_end, steps, degree, solver, save_every, comm, data
) -> tuple[FemSolution, list[np.ndarray]]:
    """Backward Euler for ``u_t - kappa Laplacian(u) = f``, ``u = g`` on the boundary.

    ``data(dmesh, V, t)`` returns ``(u0_fill, f, g, update)``: a function filling the initial
    Function, the UFL forcing, the boundary Function, and ``update(t)`` refreshing the
    time-dependent data for the step ending at ``t`` (a dolfinx Constant ``t`` is passed).
    """
    if steps < 1 or t_end <= 0 or kappa <= 0:
        raise ValueError(f"need steps >= 1, t_end > 0, kappa > 0; got {steps}, {t_end}, {kappa}")
    if solver not in PETSC_SOLVERS:
        raise ValueError(f"solver must be one of {sorted(PETSC_SOLVERS)}, got {solver!r}")
    if not isinstance(mesh, Mesh):
        raise TypeError(f"mesh must be a sciml.Mesh, got {type(mesh)}")
    dolfinx, ufl = _dolfinx()
    # heavy optional dependency (FEniCSx): loaded when first used
    from dolfinx.fem.petsc import LinearProblem

    dmesh, _, _ = mesh.to_dolfinx(comm)
    V = dolfinx.fem.functionspace(dmesh, ("Lagrange", degree))
    dt = t_end / steps
    t = dolfinx.fem.Constant(dmesh, dolfinx.default_scalar_type(0.0))
    u_old = dolfinx.fem.Function(V)
    fill_initial, f, g, update = data(dmesh, V, t)
    fill_initial(u_old)
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    a = u * v * ufl.dx + dt * kappa * ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx
    L = (u_old + dt * f) * v * ufl.dx
    bc = dolfinx.fem.dirichletbc(g, _dirichlet_dofs(dmesh, V, None, None))
    problem = LinearProblem(
        a, L, bcs=[bc], petsc_options=dict(PETSC_SOLVERS[solver]),
        petsc_options_prefix=f"sciml_heat_{next(_prefix_counter)}_",
    )  # fmt: skip
    snapshots = []
    its = 0
    for step in range(1, steps + 1):
        t.value = step * dt
        update(step * dt)
        uh = problem.solve()
        its += problem.solver.getIterationNumber()
        u_old.x.array[:] = uh.x.array
        if save_every and step % save_every == 0:
            snapshots.append(FemSolution(u_old, mesh, 0).values())
    return FemSolution(u_old, mesh, int(its)), snapshots


def solve_heat(
    mesh: Mesh,
    *,
    kappa: float = 1.0,
    initial,
    forcing=0.0,
    t_end: float = 0.1,
    steps: int = 10,
    degree: int = 1,
    solver: str = "cg-gamg",
    save_every: int | None = None,
    comm=None,
) -> tuple[FemSolution, list[np.ndarray]]:
    """``u_t - kappa Δu = f`` with ``u = 0`` on the boundary, backward Euler in time (FEM).

    ``initial`` and ``forcing`` are callables of the UFL coordinate (``forcing`` may also
    take ``(x, t)`` with ``t`` a dolfinx Constant). Returns the final state and, when
    ``save_every`` is set, nodal snapshots ``[N]`` every that many steps (rank 0).
    :func:`solve_heat_fem` is the same solve for a ``Heat`` object; the grid engine's heat
    solver is :func:`sciml.physics.steppers.heat.solve_heat_grid`.
    """

    def data(dmesh, V, t):
        dolfinx, ufl = _dolfinx()
        x = ufl.SpatialCoordinate(dmesh)

        def fill(u_old):
            u_old.interpolate(dolfinx.fem.Expression(initial(x), V.element.interpolation_points))

        if callable(forcing):
            two = len(inspect.signature(forcing).parameters) == 2
            f = forcing(x, t) if two else forcing(x)
        else:
            f = dolfinx.fem.Constant(dmesh, dolfinx.default_scalar_type(forcing))
        g = dolfinx.fem.Function(V)  # u = 0
        return fill, f, g, lambda _t: None

    return _solve_heat_forms(
        mesh, kappa=kappa, t_end=t_end, steps=steps, degree=degree, solver=solver,
        save_every=save_every, comm=comm, data=data,
    )  # fmt: skip


def solve_heat_fem(
    heat,
    mesh: Mesh,
    *,
    t_end: float,
    steps: int,
    degree: int = 1,
    solver: str = "cg-gamg",
    data_degree: int | None = None,
    save_every: int | None = None,
    comm=None,
) -> tuple[FemSolution, list[np.ndarray]]:
    """FEM solve of a :class:`~sciml.physics.pdes.heat.Heat` object, backward Euler in time.

    ``kappa`` from the object; ``initial`` (else ``exact`` at ``t = 0``) interpolated in the
    solution's space; ``forcing(x: [N, dim + 1])`` (time last, None = 0) interpolated in
    Lagrange elements of degree ``data_degree`` (default ``degree + 1``) at the end of every
    step; ``u = exact`` on the boundary at the end of every step (``u = 0`` when ``exact`` is
    None). The object's ``boundary`` must be ``"dirichlet"`` and its ``dim`` the mesh's.

    Returns:
        the state at ``t_end`` and, when ``save_every`` is set, nodal snapshots ``[N]`` every
        that many steps (rank 0). First order in time: ``tests/fem/test_fem_pde_drivers.py``.
    """

    if not isinstance(heat, Heat):
        raise TypeError(f"heat must be a sciml.physics.Heat object, got {type(heat)}")
    if not isinstance(mesh, Mesh):
        raise TypeError(f"mesh must be a sciml.Mesh, got {type(mesh)}")
    if heat.dim != mesh.tdim:
        raise ValueError(f"the PDE is {heat.dim}-D but the mesh is {mesh.tdim}-D")
    if heat.boundary != "dirichlet":
        raise ValueError(f"solve_heat_fem needs boundary='dirichlet', got {heat.boundary!r}")
    if heat.initial is None and heat.exact is None:
        raise ValueError("the Heat object needs initial (or exact) for the initial condition")
    data_degree = degree + 1 if data_degree is None else data_degree

    def data(dmesh, V, t):
        dolfinx, _ = _dolfinx()
        W = dolfinx.fem.functionspace(dmesh, ("Lagrange", data_degree))

        def fill(u_old):
            if heat.initial is not None:
                _interpolate_point_fn(heat.initial, V, out=u_old)
            else:
                _interpolate_point_fn(heat.exact, V, t=0.0, out=u_old)

        f = dolfinx.fem.Function(W)  # zero unless a forcing is given
        g = dolfinx.fem.Function(V)

        def update(time: float) -> None:
            if heat.forcing is not None:
                _interpolate_point_fn(heat.forcing, W, t=time, out=f)
            if heat.exact is not None:
                _interpolate_point_fn(heat.exact, V, t=time, out=g)

        return fill, f, g, update

    return _solve_heat_forms(
        mesh, kappa=heat.kappa, t_end=t_end, steps=steps, degree=degree, solver=solver,
        save_every=save_every, comm=comm, data=data,
    )  # fmt: skip
