"""Stokes flow on a :class:`~sciml.mesh.Mesh` with FEniCSx: Taylor-Hood P2-P1 elements.

Solves ``-nu Laplacian(u) + grad(p) = f``, ``div(u) = 0`` with a prescribed velocity on the
inflow facets, no slip (``u = 0``) on the wall facets and the natural "do-nothing" condition
``nu du/dn - p n = 0`` on every other facet (the outflow), which also fixes the pressure
level. The saddle-point system is solved directly (MUMPS). Nodal velocities come back at the
mesh's vertices (the P2 field interpolated into P1), in the input Mesh's numbering.

dolfinx is imported only inside :func:`solve_stokes`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from sciml.mesh import Mesh
from sciml.physics.fem import PETSC_SOLVERS, _dolfinx, _prefix_counter

__all__ = ["StokesSolution", "solve_stokes"]


class StokesSolution:
    """The velocity and pressure of a Stokes solve.

    Attributes:
        u, p: the dolfinx velocity (P2 vector) and pressure (P1) Functions.
        mesh: the input :class:`Mesh`.
    """

    def __init__(self, u, p, mesh: Mesh) -> None:
        self.u, self.p, self.mesh = u, p, mesh

    def nodal_velocity(self, root: int = 0) -> np.ndarray | None:
        """Velocity at the mesh vertices ``[N, gdim]`` in the input numbering (rank ``root``;
        ``None`` elsewhere)."""
        dolfinx, _ = _dolfinx()
        dmesh = self.u.function_space.mesh
        gdim = dmesh.geometry.dim
        V1 = dolfinx.fem.functionspace(dmesh, ("Lagrange", 1, (gdim,)))
        u1 = dolfinx.fem.Function(V1)
        u1.interpolate(self.u)
        return _gather_nodal(u1, self.mesh, root, gdim)

    def nodal_pressure(self, root: int = 0) -> np.ndarray | None:
        """Pressure at the mesh vertices ``[N]`` (rank ``root``; ``None`` elsewhere)."""
        return _gather_nodal(self.p, self.mesh, root, 1)


def _gather_nodal(fn, mesh: Mesh, root: int, bs: int) -> np.ndarray | None:
    """Values of a P1 Function (block size ``bs``) at the geometry nodes, input numbering."""
    dmesh = fn.function_space.mesh
    geom = np.asarray(dmesh.geometry.dofmaps[0])
    dofs = np.asarray(fn.function_space.dofmap.list)
    node_to_dof = np.empty(geom.max() + 1, dtype=np.int64)
    node_to_dof[geom.ravel()] = dofs.ravel()
    values = fn.x.array.reshape(-1, bs)[node_to_dof]
    gidx = np.asarray(dmesh.geometry.input_global_indices, dtype=np.int64)
    parts = dmesh.comm.gather((gidx, values), root=root)
    if dmesh.comm.rank != root:
        return None
    out = np.empty((mesh.num_points, bs))
    for g, v in parts:
        out[g] = v
    return out[:, 0] if bs == 1 else out


def solve_stokes(
    mesh: Mesh,
    *,
    inflow: Callable[[np.ndarray], np.ndarray],
    inflow_markers: Sequence[int],
    wall_markers: Sequence[int],
    viscosity: float = 1.0,
    comm=None,
) -> StokesSolution:
    """Taylor-Hood (P2-P1) Stokes solve on ``mesh`` (2-D or 3-D, simplices).

    Args:
        mesh: the domain, with facet markers.
        inflow: ``inflow(x: [gdim, P]) -> [gdim, P]`` the velocity on the inflow facets
            (dolfinx interpolation convention: coordinates by rows).
        inflow_markers, wall_markers: facet markers of the inflow (Dirichlet ``inflow``) and
            of the walls (no slip); all other boundary facets are outflow (do-nothing).
        viscosity: ``nu > 0``.
        comm: MPI communicator of the mesh (default ``COMM_WORLD``).
    """
    if not isinstance(mesh, Mesh):
        raise TypeError(f"mesh must be a sciml.Mesh, got {type(mesh).__name__}")
    if mesh.cell_type not in ("triangle", "tetra"):
        raise ValueError(f"mesh must be made of simplices for Taylor-Hood, got {mesh.cell_type}")
    if mesh.facets is None:
        raise ValueError("mesh needs facet markers for the inflow, wall and outflow boundaries")
    if not (np.isfinite(viscosity) and viscosity > 0):
        raise ValueError(f"viscosity must be > 0, got {viscosity}")
    known = set(np.unique(mesh.facet_markers).tolist())
    for name, markers in (("inflow_markers", inflow_markers), ("wall_markers", wall_markers)):
        missing = sorted(set(markers) - known)
        if missing or not markers:
            raise ValueError(f"{name}: no facets carry marker(s) {missing or markers}")
    dolfinx, ufl = _dolfinx()
    # heavy optional dependency (FEniCSx): loaded when first used
    import basix.ufl
    from dolfinx.fem.petsc import LinearProblem

    dmesh, _, ftags = mesh.to_dolfinx(comm)
    gdim, tdim = dmesh.geometry.dim, dmesh.topology.dim
    cell = dmesh.basix_cell()
    P2 = basix.ufl.element("Lagrange", cell, 2, shape=(gdim,))
    P1 = basix.ufl.element("Lagrange", cell, 1)
    W = dolfinx.fem.functionspace(dmesh, basix.ufl.mixed_element([P2, P1]))
    W0 = W.sub(0)
    V, _ = W0.collapse()
    dmesh.topology.create_connectivity(tdim - 1, tdim)

    def velocity_bc(values: Callable | None, markers: Sequence[int]):
        g = dolfinx.fem.Function(V)
        if values is not None:
            g.interpolate(values)
        facets = np.concatenate([ftags.find(m) for m in markers])
        dofs = dolfinx.fem.locate_dofs_topological((W0, V), tdim - 1, facets)
        return dolfinx.fem.dirichletbc(g, dofs, W0)

    bcs = [velocity_bc(None, wall_markers), velocity_bc(inflow, inflow_markers)]
    (u, p), (v, q) = ufl.TrialFunctions(W), ufl.TestFunctions(W)
    nu = dolfinx.fem.Constant(dmesh, dolfinx.default_scalar_type(viscosity))
    zero = dolfinx.fem.Constant(dmesh, np.zeros(gdim, dtype=dolfinx.default_scalar_type))
    a = (
        nu * ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx
        - p * ufl.div(v) * ufl.dx
        - q * ufl.div(u) * ufl.dx
    )
    L = ufl.inner(zero, v) * ufl.dx
    problem = LinearProblem(
        a,
        L,
        bcs=bcs,
        petsc_options=dict(PETSC_SOLVERS["mumps"]),
        petsc_options_prefix=f"sciml_stokes_{next(_prefix_counter)}_",
    )
    w = problem.solve()
    u_h = w.sub(0).collapse()
    p_h = w.sub(1).collapse()
    return StokesSolution(u_h, p_h, mesh)
