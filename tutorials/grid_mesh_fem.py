# %% [markdown]
# # Grids, meshes and FEniCSx ground truth
#
# Every method in sciml speaks two geometry types:
#
# * a **Grid**: a tensor-product grid on a box (what neural operators and finite
#   differences see), fields are tensors `[B, C, *shape]`;
# * a **Mesh**: an unstructured triangulation (what FEniCSx solves on).
#
# On a vertex-centred grid of the box $[a, b]$ with $n$ points per axis the nodes are
#
# $$ x_i = a + i\,h, \qquad h = \frac{b - a}{n - 1}, \qquad i = 0, \dots, n - 1, $$
#
# and a batch of fields is one tensor of values at the nodes. A mesh instead carries values at
# the vertices of triangles, and a function on it is the piecewise-linear (P1) or -quadratic
# (P2) interpolant of those values.
#
# This tutorial solves a Poisson problem with FEniCSx on a plate with a hole, moves the
# solution to a grid, and measures how grid resampling converges.

# %%
import math
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
import ufl

from sciml import Grid, Mesh
from sciml.physics.fem import solve_scalar_elliptic

SMOKE = os.environ.get("SCIML_SMOKE") == "1"
OUT = Path(os.environ.get("SCIML_TUTORIAL_OUT", "."))

# %% [markdown]
# ## 1. Resampling on a Grid converges at second order
#
# `Grid.resample` moves a batched field to another grid of the same box. Linear
# interpolation between neighbouring nodes has the error bound
#
# $$ \max_x |u(x) - (I_h u)(x)| \le \frac{h^2}{8} \max_x |u''(x)| $$
#
# per axis, so it is second order: halving the spacing divides the error by four. From the
# errors $e_h$ at successive spacings we read the observed order
# $p = \log_2 (e_{h} / e_{h/2})$, which must be close to 2.


# %%
def field(c):
    return torch.sin(3 * c[0]) * torch.cos(2 * c[1])


errors = []
sizes = (16, 32, 64) if SMOKE else (16, 32, 64, 128)
for n in sizes:
    g = Grid((n, n))
    target = Grid((3 * n + 1, 2 * n + 3))
    u = field(g.coords(dtype=torch.float64))[None, None]
    errors.append(
        (g.resample(u, target) - field(target.coords(dtype=torch.float64))).abs().max().item()
    )
rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
print("resampling errors", [f"{e:.2e}" for e in errors], "observed orders", rates.round(2))
assert abs(rates[-1] - 2) < 0.2

# %% [markdown]
# ## 2. A FEniCSx solve on a mesh with a hole
#
# We mesh the unit square minus a disc $D$ of radius $r = 0.2$ with gmsh, and solve
#
# $$ -\Delta u = 1 \ \text{in } \Omega = (0,1)^2 \setminus D, \qquad u = 0 \ \text{on } \partial\Omega $$
#
# (the outer boundary and the hole). FEniCSx solves the weak form: find $u_h$ in the
# finite-element space $V_h$ (zero on $\partial\Omega$) with
#
# $$ \int_\Omega \nabla u_h \cdot \nabla v \, dx = \int_\Omega f\, v \, dx \qquad \text{for all } v \in V_h, $$
#
# a sparse symmetric positive definite system, solved here by CG preconditioned with algebraic
# multigrid (PETSc's GAMG). `Mesh.to_dolfinx` does the hand-over; the solver returns a
# `FemSolution` whose nodal values follow the Mesh's numbering.

# %%
mesh = Mesh.rectangle_with_holes([(0.5, 0.5, 0.2)], h=0.06 if SMOKE else 0.02)
sol = solve_scalar_elliptic(mesh, forcing=1.0, degree=1)
print(f"{mesh.num_cells} triangles, {sol.iterations} CG+GAMG iterations")

# %% [markdown]
# ## 3. Mesh to grid
#
# P1 transfer locates every grid point $x$ in a triangle with vertices $v_1, v_2, v_3$ (a
# vectorised search, no loop over points) and interpolates with the barycentric coordinates
# $\lambda_k(x)$ of that triangle:
#
# $$ u(x) = \sum_{k=1}^{3} \lambda_k(x)\, u(v_k), \qquad \sum_k \lambda_k = 1, \quad \lambda_k \ge 0. $$
#
# Points inside the hole have no triangle and no value: we ask for NaN there. The fraction of
# NaN points must then be the area of the hole, $\pi r^2 \approx 0.126$.

# %%
grid = Grid((64, 64))
u_grid = sol.to_grid(grid, outside="nan")
inside = np.isfinite(u_grid)
print(f"grid points in the hole: {(~inside).sum()} of {grid.size}")
# the area fraction of the hole is pi r^2 = 0.126: the NaN fraction must match it
hole_fraction = (~inside).mean()
assert abs(hole_fraction - math.pi * 0.2**2) < 0.02

# %% [markdown]
# ## 4. Check against an exact solution
#
# A *manufactured solution* gives an exact answer to compare with: choose
# $u = \sin(\pi x)\sin(\pi y)$ on the unit square, which vanishes on the boundary, and put
# $f = -\Delta u = 2\pi^2 \sin(\pi x)\sin(\pi y)$ on the right-hand side. With P2 elements the
# error is $O(h^3)$ in the mean-square sense, so on a $32 \times 32$ mesh the solution moved to
# the grid matches the exact one to about $10^{-6}$.


# %%
def exact(x):
    return ufl.sin(ufl.pi * x[0]) * ufl.sin(ufl.pi * x[1])


square = Mesh.rectangle(32, 32)
s2 = solve_scalar_elliptic(square, forcing=lambda x: 2 * ufl.pi**2 * exact(x), degree=2)
g33 = Grid((33, 33))
c = g33.coords(dtype=torch.float64).numpy()
err = np.abs(s2.to_grid(g33) - np.sin(np.pi * c[0]) * np.sin(np.pi * c[1])).max()
print(f"P2 solution on the grid, max error vs exact: {err:.2e}")
assert err < 1e-4


# %%
def visualize():
    fig, axs = plt.subplots(1, 2, figsize=(9, 4))
    axs[0].loglog(sizes, errors, "o-")
    axs[0].set(xlabel="n", ylabel="max error", title="Grid.resample: second order")
    im = axs[1].imshow(np.ma.masked_invalid(u_grid).T, origin="lower", extent=(0, 1, 0, 1))
    axs[1].set_title("FEniCSx solution moved to a 64x64 grid")
    fig.colorbar(im, ax=axs[1])
    fig.tight_layout()
    fig.savefig(OUT / "grid_mesh_fem.png", dpi=100)


if __name__ == "__main__":
    visualize()


# %% [markdown]
# The figure: left, the resampling errors against $n$ on log-log axes (a line of slope $-2$);
# right, the FEniCSx solution on the plate with a hole, moved to a $64 \times 64$ grid (the
# hole is NaN, shown blank).
#
# ## Exercises
#
# 1. Make the grids periodic (`Grid((n, n), periodic=True)`) with a periodic field such as
#    $\sin(2\pi x)\cos(2\pi y)$ and resample with `method="spectral"`. What order do you
#    observe now, and why?
# 2. Solve the plate-with-a-hole problem with `degree=2` and with a mesh twice as fine
#    (`h=0.03`). How do the number of CG+GAMG iterations and the maximum of $u$ change?
# 3. Repeat the manufactured-solution check on `Mesh.rectangle(n, n)` for $n = 8, 16, 32$
#    with `degree=1` and `degree=2`, and fit the observed orders of the maximum error on the
#    grid. Which orders do you expect?
