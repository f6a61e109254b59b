# %% [markdown]
# # Grids, meshes and FEniCSx ground truth
#
# Every method in sciml speaks two geometry types:
#
# * a **Grid**: a tensor-product grid on a box (what neural operators and finite
#   differences see), fields are tensors `[B, C, *shape]`;
# * a **Mesh**: an unstructured triangulation (what FEniCSx solves on).
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
# interpolation is second order: halving the spacing divides the error by four.


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
# We mesh the unit square minus a disc with gmsh, and solve `-Δu = 1` with `u = 0` on the
# outer boundary and the hole. `Mesh.to_dolfinx` does the hand-over; the solver returns a
# `FemSolution` whose nodal values follow the Mesh's numbering.

# %%
mesh = Mesh.rectangle_with_holes([(0.5, 0.5, 0.2)], h=0.06 if SMOKE else 0.02)
sol = solve_scalar_elliptic(mesh, forcing=1.0, degree=1)
print(f"{mesh.num_cells} triangles, {sol.iterations} CG+GAMG iterations")

# %% [markdown]
# ## 3. Mesh to grid
#
# P1 transfer locates every grid point in a triangle (a vectorised search, no loop over
# points) and interpolates. Points inside the hole have no value: we ask for NaN there.

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
# With `u = sin(pi x) sin(pi y)` (a manufactured solution) the transferred solution on the
# grid matches the exact one to the FEM error.


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
