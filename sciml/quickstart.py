"""`sciml quickstart`: the project's main job on small built-in defaults.

Step 1 (ground truth): a real FEniCSx solve of a manufactured Poisson problem on an
unstructured mesh, transferred to a Grid and checked against the exact solution.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from sciml.grid import Grid
from sciml.mesh import Mesh


def fem_ground_truth(out: Path, n: int = 32) -> float:
    """Solve ``-Δu = f`` with ``u = sin(πx) sin(2πy)`` on a mesh; return the grid max error."""
    import ufl

    from sciml.physics.fem import solve_scalar_elliptic

    def exact(x):
        return ufl.sin(ufl.pi * x[0]) * ufl.sin(2 * ufl.pi * x[1])

    mesh = Mesh.rectangle(n, n)
    sol = solve_scalar_elliptic(mesh, forcing=lambda x: 5 * ufl.pi**2 * exact(x), degree=2)
    l2 = sol.l2_error(exact)
    grid_n = n + 1  # grid points on the mesh vertices: the transfer adds no interpolation error
    grid = Grid((grid_n, grid_n))
    u = sol.to_grid(grid)
    c = grid.coords(dtype=torch.float64).numpy()
    truth = np.sin(math.pi * c[0]) * np.sin(2 * math.pi * c[1])
    err = np.abs(u - truth).max()
    print(
        f"FEniCSx P2 Poisson on {mesh.num_cells} triangles: L2 error {l2:.3e}, "
        f"{sol.iterations} CG+GAMG iterations"
    )
    print(f"transferred to a {grid_n}x{grid_n} grid: max error vs exact {err:.3e}")
    _plot(out / "fem_poisson.png", grid, u, truth)
    return float(err)


def _plot(path: Path, grid: Grid, u: np.ndarray, truth: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (x0, x1), (y0, y1) = grid.bounds
    fig, axs = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, data, title in zip(axs, (u, truth, u - truth), ("FEniCSx (on grid)", "exact", "error")):
        im = ax.imshow(data.T, origin="lower", extent=(x0, x1, y0, y1), cmap="RdBu_r")
        ax.set_title(title)
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


def run(out: str = "out/quickstart", n: int = 32) -> int:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    err = fem_ground_truth(out_dir, n=n)
    if not err < 1e-4:
        print(f"FEM ground truth error {err:.3e} is above 1e-4")
        return 1
    return 0
