# %% [markdown]
# # Making a data set: FNO's Darcy problem with FEniCSx
#
# Neural operators learn from pairs (input field, solution field). `sciml.datasets` turns
# the PDE engine into such pairs, stored in HDF5 with their provenance. The recipe
# `darcy-pwc` is the piecewise-constant Darcy benchmark of the FNO paper:
#
# $$ -\nabla \cdot \big(a(x) \nabla u(x)\big) = 1 \ \text{in } (0,1)^2, \qquad u = 0 \ \text{on the walls}, $$
#
# where the permeability takes two values by the sign of a Gaussian random field $g$:
#
# $$ a(x) = \begin{cases} 12, & g(x) \ge 0, \\ 3, & g(x) < 0, \end{cases} \qquad
#    g \sim \mathcal{N}\big(0,\ (-\Delta + \tau^2 I)^{-\alpha}\big), \quad \tau = 3,\ \alpha = 2. $$
#
# The covariance operator damps high frequencies like $|k|^{-2\alpha}$, so $g$ is smooth and
# its zero level set gives blobs of a few tenths of the box. Each sample is solved with
# FEniCSx (P1 elements) on a mesh twice as fine as the output grid and stored on the grid.
#
# On the command line the same is `sciml data generate darcy-pwc --n 16 --out darcy.h5`
# (add `--workers 2`, or run it under `mpirun -n 2`: the file is the same bit for bit).

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sciml.datasets import GridDataset, generate, read_meta, split_indices
from sciml.physics.steppers.darcy import solve_darcy

SMOKE = os.environ.get("SCIML_SMOKE") == "1"
OUT = Path(os.environ.get("SCIML_TUTORIAL_OUT", "."))
N, RES = (6, 33) if SMOKE else (32, 85)

# %%
path = generate("darcy-pwc", N, OUT / "darcy_pwc.h5", params={"resolution": RES})
meta = read_meta(path)
print(meta["recipe"], meta["params"], meta["arrays"]["inputs"])

# %% [markdown]
# ## Loading
#
# `GridDataset` is a lazy torch Dataset (it works with DataLoader workers); splits are
# deterministic.

# %%
ds = GridDataset(path)
train, test = split_indices(len(ds), [N - 2, 2], seed=0)
a, u = ds[int(test[0])]
print("input", tuple(a.shape), "output", tuple(u.shape), "grid", ds.grid.shape)

# %% [markdown]
# ## Cross-check with the finite-difference engine
#
# The same coefficient solved by the engine's finite differences agrees with FEniCSx to
# discretisation error. We measure the relative $L^2$ gap on the grid,
#
# $$ \text{gap} = \frac{\lVert u_{\mathrm{FD}} - u_{\mathrm{FEM}} \rVert_2}{\lVert u_{\mathrm{FEM}} \rVert_2}, $$
#
# the same relative $L^2$ error the neural operators are trained and scored with later. The
# coefficient jumps, so the solution's gradient jumps too and both discretisations are only
# first order near the interfaces: a few per cent is the expected size of the gap.

# %%
fd = solve_darcy(a[None].double(), ds.grid, forcing=1.0)[0]
gap = ((fd - u.double()).norm() / u.double().norm()).item()
print(f"relative L2 gap FEniCSx vs finite differences: {gap:.3f}")
assert gap < 0.1


# %%
def visualize():
    fig, axs = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, data, title in zip(
        axs, (a[0], u[0], (fd - u.double())[0]), ("a", "u (FEniCSx)", "FD - FEM")
    ):
        im = ax.imshow(np.asarray(data).T, origin="lower", extent=(0, 1, 0, 1))
        ax.set_title(title)
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(OUT / "datasets_darcy.png", dpi=100)


if __name__ == "__main__":
    visualize()


# %% [markdown]
# The figure shows one test sample: the coefficient $a$, the FEniCSx solution $u$, and the
# difference between the finite-difference and the FEniCSx solutions, largest along the
# interfaces where $a$ jumps.
#
# ## Exercises
#
# 1. Generate the same file twice, once with `workers=2` (`generate(..., workers=2)`), and
#    compare the `/inputs` and `/outputs` arrays of the two files. Why are they identical?
# 2. Repeat the cross-check at resolutions 33, 65 and 129 (one sample each is enough). How
#    does the gap between the two engines shrink with the spacing $h$, and what does that
#    say about the interfaces?
# 3. Switch to the recipe `darcy-smooth` ($a = e^{g}$, no jumps) and measure the gap again.
#    Read the recipe's parameters and software versions back with `read_meta`.
