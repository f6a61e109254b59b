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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from sciml.grid import Grid
from sciml.mesh import Mesh

__all__ = ["FemSolution", "solve_scalar_elliptic", "PETSC_SOLVERS"]

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

    import dolfinx
    import dolfinx.fem.petsc  # noqa: F401
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
        from mpi4py import MPI

        dmesh = self.u.function_space.mesh
        x = ufl.SpatialCoordinate(dmesh)
        e = self.u - exact(x)
        form = dolfinx.fem.form(ufl.inner(e, e) * ufl.dx(metadata={"quadrature_degree": 8}))
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


def _coefficient(spec, dmesh, name: str):
    """Turn a number / UFL callable / (grid, values) pair into something UFL accepts."""
    dolfinx, ufl = _dolfinx()
    if spec is None:
        return None
    if isinstance(spec, (int, float)):
        if not np.isfinite(spec):
            raise ValueError(f"{name} must be finite, got {spec}")
        return dolfinx.fem.Constant(dmesh, dolfinx.default_scalar_type(spec))
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], Grid):
        grid, values = spec
        values = torch.as_tensor(np.asarray(values), dtype=torch.float64)
        if tuple(values.shape) != grid.shape:
            raise ValueError(
                f"{name}: grid values must have shape {grid.shape}, got {tuple(values.shape)}"
            )
        if not torch.isfinite(values).all():
            raise ValueError(f"{name}: grid values contain NaN or inf")
        Q = dolfinx.fem.functionspace(dmesh, ("DG", 0))
        fn = dolfinx.fem.Function(Q)
        tdim = dmesh.topology.dim
        n_cells = (
            dmesh.topology.index_map(tdim).size_local + dmesh.topology.index_map(tdim).num_ghosts
        )
        mid = dolfinx.mesh.compute_midpoints(dmesh, tdim, np.arange(n_cells, dtype=np.int32))
        mid = torch.as_tensor(mid[:, : grid.ndim])
        lo = torch.tensor([b[0] for b in grid.bounds], dtype=torch.float64)
        hi = torch.tensor([b[1] for b in grid.bounds], dtype=torch.float64)
        mid = torch.minimum(torch.maximum(mid, lo), hi)
        sampled = grid.interpolate(values[None, None], mid)[0, 0].numpy()
        cell_dofs = np.asarray(Q.dofmap.list).ravel()
        fn.x.array[cell_dofs] = sampled
        return fn
    if callable(spec):
        return spec(ufl.SpatialCoordinate(dmesh))
    raise TypeError(
        f"{name} must be a number, a callable of x, or (Grid, values), got {type(spec)}"
    )


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
    comm=None,
) -> FemSolution:
    """Solve ``-div(a grad u) - k2 u = f`` with ``u = g`` on the Dirichlet boundary.

    Covers Poisson (``a = 1``), Darcy (``a`` a coefficient field) and Helmholtz (``k2 > 0``).

    Args:
        mesh: the domain (a Mesh; distributed over ``comm``).
        coefficient, forcing: see the module docstring for the accepted forms.
        boundary_value: ``g``: a number or a callable of the UFL coordinate.
        degree: Lagrange degree (1 or 2).
        solver: a key of :data:`PETSC_SOLVERS`.
        dirichlet_markers: facet markers carrying the Dirichlet condition; default: the
            whole boundary.
    """
    if solver not in PETSC_SOLVERS:
        raise ValueError(f"solver must be one of {sorted(PETSC_SOLVERS)}, got {solver!r}")
    if degree not in (1, 2, 3):
        raise ValueError(f"degree must be 1, 2 or 3, got {degree}")
    if not isinstance(mesh, Mesh):
        raise TypeError(f"mesh must be a sciml.Mesh, got {type(mesh)}")
    dolfinx, ufl = _dolfinx()
    from dolfinx.fem.petsc import LinearProblem

    dmesh, _, facet_tags = mesh.to_dolfinx(comm)
    V = dolfinx.fem.functionspace(dmesh, ("Lagrange", degree))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    a_c = _coefficient(coefficient, dmesh, "coefficient")
    f = _coefficient(forcing, dmesh, "forcing")
    form_a = ufl.inner(a_c * ufl.grad(u), ufl.grad(v)) * ufl.dx
    if k2:
        form_a = form_a - float(k2) * u * v * ufl.dx
    form_L = f * v * ufl.dx

    tdim = dmesh.topology.dim
    dmesh.topology.create_connectivity(tdim - 1, tdim)
    if dirichlet_markers is None:
        facets = dolfinx.mesh.exterior_facet_indices(dmesh.topology)
    else:
        if facet_tags is None:
            raise ValueError("dirichlet_markers given but the mesh has no facet markers")
        facets = np.concatenate([facet_tags.find(m) for m in dirichlet_markers])
    dofs = dolfinx.fem.locate_dofs_topological(V, tdim - 1, facets)
    g = dolfinx.fem.Function(V)
    if callable(boundary_value):
        expr = dolfinx.fem.Expression(
            boundary_value(ufl.SpatialCoordinate(dmesh)), V.element.interpolation_points
        )
        g.interpolate(expr)
    else:
        g.x.array[:] = float(boundary_value)
    bc = dolfinx.fem.dirichletbc(g, dofs)
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
