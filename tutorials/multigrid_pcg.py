# %% [markdown]
# # Multigrid PCG with learned parts: a learned solve that wins on the clock
#
# The learned CG of the previous lesson (DCDM) needs few iterations, but each one applies a
# network that costs hundreds of matrix-vector products. Multigrid gets the same effect --
# an iteration count that does not grow with the grid -- from a handful of matvecs, by
# correcting the smooth part of the error on coarser grids. This lesson builds geometric
# multigrid for the package's cell-centred pressure-Poisson systems (obstacles, open-top
# tanks, a 1:1000 density jump), uses it as a PCG preconditioner, and looks at what learning
# its parameters buys.
#
# **Coarse grids.** Blocks of $2 \times 2 \times 2$ cells become one coarse cell. The
# prolongation $P$ copies a coarse value to its fine cells, the restriction is $R = P^\top$
# (block sums), and the coarse operator is Galerkin's $A_c = P^\top A P$. For this $P$ it is
# again a 7-point stencil, in closed form: a coarse face coefficient is the *sum of the fine
# face coefficients* that cross between the two blocks, and the coarse diagonal is the sum of
# the block's walls plus its coarse faces. Solid cells and walls carry no flux at any level,
# a density jump enters through the fine faces that cross it, and $A_c$ is symmetric positive
# definite whenever $A$ is.
#
# **The cycle.** On each level: two Chebyshev smoothing sweeps, restrict the residual, recurse,
# add the prolonged correction scaled by $\alpha$, two sweeps back; the coarsest grid
# ($\le 512$ cells) is solved by a stored Cholesky inverse. With $S$ the smoother's error
# propagation and $B_c$ the coarse cycle,
#
# $$B = (I - S^2) A^{-1} + \alpha\, S P B_c P^\top S^\top ,$$
#
# which is symmetric positive definite for every $\alpha > 0$ and every convergent smoother:
# a plain PCG preconditioner. **Why $\alpha$:** on a uniform grid the Galerkin aggregation
# operator is *twice* the rediscretised coarse Laplacian (a piecewise-constant function has
# too much energy at the block edges), so $\alpha = 1$ under-corrects, and the loss compounds
# with every level: the iteration count grows with $n$. $\alpha = 2$ undoes the factor.
#
# **What is learned.** Per level (counted from the coarsest), the Chebyshev interval and
# $\alpha$: six numbers trained through the package's Trainer to minimise the measured PCG
# convergence factor, $\rho = (\lVert e_m \rVert_A / \lVert e_0 \rVert_A)^{1/m}$, on the errors
# the cycle leaves (`sciml train-lmg`).

# %%
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from sciml.solvers import solve
from sciml.solvers.multigrid import MGPCG, CycleParameters, LearnedMGPCG, build_cycle
from sciml.solvers.poisson_problems import HELD_OUT_FAMILY, make_problem
from sciml.workflows.linear_solvers import build_method

SMOKE = os.environ.get("SCIML_SMOKE") == "1"
OUT = os.environ.get("SCIML_TUTORIAL_OUT", ".")
SIZES = [16, 24, 32] if SMOKE else [32, 48, 64, 96]
N = 24 if SMOKE else 64
torch.set_num_threads(min(torch.get_num_threads(), 2))

# %% [markdown]
# ## The hierarchy of one tank
# The held-out obstacle family (`blobs`), an open top, a heavy fluid below a wavy interface.

# %%
problem = make_problem(N, ndim=3, family=HELD_OUT_FAMILY, density_ratio=1000.0, seed=0)
M = build_cycle(problem.system)
print(f"{N}^3 tank, {problem.system.n} unknowns")
print(M.hierarchy, f"setup {M.setup_time * 1e3:.0f} ms")
print(f"one cycle costs {M.cost:.1f} fine-grid stencil applications")

# %% [markdown]
# ## Iterations and convergence factors across sizes
# Three cycles of the same cost: Galerkin ($\alpha = 1$), the unlearned cycle of `mg-pcg`
# ($\alpha = 2$, textbook Chebyshev interval) and the learned one (`lmg-pcg`, the shipped
# model). The convergence factor is the measured residual reduction per iteration.

# %%
cycles = {
    "Galerkin, alpha=1": MGPCG(CycleParameters.plain(3, alpha=1.0)),
    "mg-pcg": MGPCG(),
    "lmg-pcg (learned)": LearnedMGPCG(),
}
iters = {name: [] for name in cycles}
factor = {name: [] for name in cycles}
histories = {}
for n in SIZES:
    p = make_problem(n, ndim=3, family=HELD_OUT_FAMILY, density_ratio=1000.0, seed=0)
    for name, method in cycles.items():
        res = solve(p.system, p.b, method, rtol=1e-6, device="cpu")
        assert res.converged
        iters[name].append(res.iterations)
        factor[name].append(float(res.residual) ** (1.0 / res.iterations))
        histories[name] = res.residuals[:, 0].numpy()
for name in cycles:
    print(f"{name:<18} iterations {iters[name]}  factor {np.round(factor[name], 3).tolist()}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for name in cycles:
    axes[0].plot(SIZES, factor[name], "o-", label=name)
    axes[1].semilogy(histories[name], label=f"{name} ({len(histories[name]) - 1})")
axes[0].set_xlabel("n (grid n^3, 1:1000 jump)")
axes[0].set_ylabel("convergence factor per iteration")
axes[0].set_ylim(0, None)
axes[1].set_xlabel(f"iteration ({SIZES[-1]}^3)")
axes[1].set_ylabel("||b - Ax|| / ||b||")
for ax in axes:
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(os.path.join(OUT, "multigrid_factor.png"), dpi=120)

# %% [markdown]
# ## Time to a residual of 1e-6 against the classical preconditioners
# Setup (factorisation, AMG hierarchy, multigrid levels) plus solve, the time a user waits.
# PETSc's ICC and GAMG run on the CPU in float64; the multigrid cycle runs in float32 inside
# a float64 PCG.

# %%
table = {}
for name in ("cg", "icc", "petsc-gamg", "mg-pcg", "lmg-pcg"):
    res = solve(problem.system, problem.b, build_method(name), rtol=1e-6, maxiter=3000,
                device="cpu")  # fmt: skip
    table[name] = res
    flag = "" if res.converged else "  (not converged: capped)"
    print(f"{name:<11} iterations {res.iterations:5d}   setup {res.setup_time:6.3f} s   "
          f"solve {res.solve_time:6.3f} s   total {res.setup_time + res.solve_time:6.3f} s{flag}")  # fmt: skip

# %% [markdown]
# ## Headline
# The unlearned cycle's iteration count is flat in $n$ (Galerkin's grows), and MG-PCG needs a
# small fraction of ICC's iterations. The learned cycle is within an iteration of the
# unlearned one: the textbook values already sit at the optimum of what these six numbers can
# reach (see the zoo's card, `sciml models info lmg-3d`, for the experiments).

# %%
mg, icc = iters["mg-pcg"], table["icc"].iterations
print(f"mg-pcg iterations {mg} (Galerkin alpha=1: {iters['Galerkin, alpha=1']}); ICC {icc}")
assert max(mg) <= 12 and max(mg) - min(mg) <= 2, mg
assert table["mg-pcg"].iterations * 4 <= icc, (table["mg-pcg"].iterations, icc)

# %% [markdown]
# ## Exercises
# 1. Solve with `MGPCG(CycleParameters.plain(3, alpha=a))` for `a` in 1, 1.5, 2, 2.5, 3 at two
#    sizes: where is the minimum, and why does it not move with `n`?
# 2. Use `JacobiSmoother(omega=6/7)` with `sweeps=1`: fewer stencil applications per cycle,
#    more iterations. Which wins on the clock (`res.time_per_iteration`)?
# 3. Train a 2-D cycle with `sciml train-lmg --ndim 2 --sizes 64 128 --budget 60 --out run`
#    and compare it with the zoo's `lmg-2d` on a 1024^2 problem.
# 4. Give `build_cycle(system, dtype=torch.float64)` and compare the time per iteration with
#    the float32 cycle: how much of an iteration is the cycle's memory traffic?
