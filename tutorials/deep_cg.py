# %% [markdown]
# # Deep conjugate directions: a learned solver for the pressure Poisson equation
#
# Incompressible flow solvers spend most of their time on one linear system per time step,
# the pressure Poisson equation `A p = b`: `A` is the cell-centred finite-volume matrix of
# `-div(a grad p)` on the fluid cells (solid obstacles are Neumann walls, the open top of the
# tank is a Dirichlet wall, `a = 1/rho` jumps by 1000 between water and air), `b` a velocity
# divergence. `A` is symmetric positive definite, so the default answer is preconditioned
# conjugate gradients (PCG), and the work is in the preconditioner: incomplete Cholesky (ICC)
# is cheap but its iteration count grows like `n`; algebraic multigrid (GAMG) needs ~10
# iterations but a costly setup.
#
# The **deep conjugate direction method** (DCDM, Kaneda et al., ICML 2023) asks a network `f`
# for each search direction. One iteration:
#
# 1. `q = f(r)`: the network maps the residual to a direction (an approximation of `A^-1 r`);
# 2. A-orthogonalise `q` against the last two steps and take the exact line-search step.
#
# In formulas, with $r_k = b - A x_k$ and $p_k$ the A-orthogonalised network direction,
#
# $$\alpha_k = \frac{p_k^\top r_k}{p_k^\top A p_k}, \qquad x_{k+1} = x_k + \alpha_k p_k,
# \qquad r_{k+1} = r_k - \alpha_k A p_k,$$
#
# which is the step that minimises the A-norm error $\lVert x^\ast - x_{k+1} \rVert_A$ along
# $p_k$. With $f(r) = A^{-1} r$ one step would solve the system; CG is the case $f(r) = r$.
#
# Three ideas make the version in `sciml.solvers.dcdm` usable at every size:
#
# * **a V-cycle-shaped network.** Pooling levels are added until the coarsest grid has a few
#   cells, so the receptive field always spans the box and one model serves 16^3 to 256^3. The
#   network is *linear* in `r`; the geometry (read off the Jacobi-scaled matrix stencil:
#   couplings, walls, density jumps) only sets multiplicative gates, computed once per system.
# * **symmetric Jacobi scaling.** The network sees `D^-1/2 r` and the stencil of
#   `D^-1/2 A D^-1/2` and its output is scaled by `D^-1/2`: the density's scale never reaches
#   it raw, and `cA x = cb` gives the same iterates as `A x = b`.
# * **a never-stall safeguard.** Each step minimises the A-norm error over
#   `{q, D^-1 r, the step of a shadow Jacobi-PCG run}`. Whatever the network returns, the error
#   is never above Jacobi-PCG's and the solve never takes more iterations than Jacobi-PCG.
#
# The network is trained without any solution: draw an error `x*`, set `b = A x*`, run DCDM
# with the current model, and use the residuals it meets (with their known errors) as training
# data; the loss is the A-norm error left after the best step in `span{q, D^-1 r}`,
#
# $$L(\theta) = \min_{\beta, \gamma} \big\lVert e - \beta\, q_\theta(r) - \gamma\, D^{-1} r
# \big\rVert_A^2 \big/ \lVert e \rVert_A^2, \qquad e = x^\ast - x,\; r = A e .$$

# %%
import os

import matplotlib

matplotlib.use("Agg")
import torch

from sciml.solvers import solve
from sciml.solvers.dcdm import load_dcdm
from sciml.solvers.poisson_problems import HELD_OUT_FAMILY, make_problem
from sciml.workflows.linear_solvers import build_method, plot_convergence

SMOKE = os.environ.get("SCIML_SMOKE") == "1"
OUT = os.environ.get("SCIML_TUTORIAL_OUT", ".")
N = 24 if SMOKE else 64
torch.manual_seed(0)
torch.set_num_threads(min(torch.get_num_threads(), 2))

# %% [markdown]
# ## The problem
# An `N^3` tank of "blob" obstacles (level sets of a smooth random field), an obstacle family
# the model never saw in training. Neumann walls on the sides, the bottom and the obstacles,
# `p = 0` on the open top, and a heavy fluid below a wavy interface (density ratio 1:1000).

# %%
problem = make_problem(N, ndim=3, family=HELD_OUT_FAMILY, density_ratio=1000.0, seed=0)
print(f"{N}^3 tank, {problem.system.n} fluid unknowns, {int(problem.solid.sum())} solid cells")

# %% [markdown]
# ## The shipped model
# It was trained on the CPU by one command (`sciml train-dcdm ...`), which its model file
# records together with the data recipe, the optimiser steps and the wall time:

# %%
model = load_dcdm()
card = model.card
print(f"trained by: {card['command']}")
print(f"{card['steps']} optimiser steps, {card['train_seconds'] / 60:.0f} min; families "
      f"{card['recipe']['families']}, sizes {card['recipe']['sizes']}")  # fmt: skip
print(f"{sum(p.numel() for p in model.parameters())} parameters")

# %% [markdown]
# ## Solve to a true relative residual of 1e-6
# Plain CG, Jacobi-PCG, incomplete-Cholesky PCG, PETSc's CG with algebraic multigrid, and
# DCDM. `solve` takes method *objects*; `build_method` is the command line's name table.

# %%
results = {}
for name in ("cg", "jacobi", "icc", "petsc-gamg", "dcdm"):
    res = solve(problem.system, problem.b, build_method(name, model=model), rtol=1e-6,
                maxiter=3000, device="cpu")  # fmt: skip
    results[name] = res
    print(f"{name:<11} iterations {res.iterations:5d}   residual {float(res.residual):.1e}   "
          f"setup {res.setup_time:6.2f} s   solve {res.solve_time:7.2f} s")  # fmt: skip

# %%
plot_convergence(results, os.path.join(OUT, "deep_cg_convergence.png"),
                 title=f"{N}^3 blobs, density 1:1000")  # fmt: skip

# %% [markdown]
# ## Headline
# DCDM converges on an obstacle family it never saw, with the density jump, in a fraction of
# ICC's iterations. Where the error went: the share of the squared A-norm error removed by the
# network's directions (the rest by the safeguard's Jacobi and shadow-PCG directions):

# %%
dc, icc = results["dcdm"], results["icc"]
share = dc.extra["energy_share"]["network"]
print(f"DCDM: {dc.iterations} iterations vs ICC {icc.iterations} "
      f"({icc.iterations / dc.iterations:.1f}x fewer); network share of the energy: {share:.0%}")  # fmt: skip
assert dc.converged and float(dc.residual) <= 1e-6
assert dc.iterations <= icc.iterations / 2, (dc.iterations, icc.iterations)

# %% [markdown]
# On the CPU each DCDM iteration costs one network application (see BENCHMARKS.md for the ms
# per application), so PETSc's GAMG, with ~10 cheap iterations, is faster in wall-clock time
# here; the network's cost is what a GPU removes.
#
# ## Exercises
# 1. Run `dcdm` with `DCDM(model, safeguard=False)` (the paper's iteration) on the same
#    problem, then with an untrained `DCDMNet()`: which one stalls, and why does the
#    safeguarded one not?
# 2. Multiply the matrix and `b` by 1e4 (`sciml.solvers.solve_system(1e4 * A, 1e4 * b, ...)`)
#    and compare the iteration counts: what in the network's input makes them equal?
# 3. Solve the same geometry at `N = 40` and `N = 96`: how do the iteration counts of DCDM and
#    ICC grow with `N`?
# 4. Train a small 2-D model with `sciml train-dcdm --ndim 2 --sizes 48 64 --budget 300` and
#    solve a 2-D problem at 256^2 with it.
