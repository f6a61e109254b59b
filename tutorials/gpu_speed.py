# %% [markdown]
# # How far from the hardware's limit? Fused CG and the roofline
#
# A conjugate-gradient iteration on the pressure Poisson equation $A x = b$ ($A$ symmetric
# positive definite) is
#
# $$ \alpha_k = \frac{r_k^\top r_k}{p_k^\top A p_k}, \quad x_{k+1} = x_k + \alpha_k p_k, \quad
#    r_{k+1} = r_k - \alpha_k A p_k, \quad
#    p_{k+1} = r_{k+1} + \frac{r_{k+1}^\top r_{k+1}}{r_k^\top r_k}\, p_k : $$
#
# very little arithmetic per byte: one stencil application ($A p$), two dot products and
# three vector updates. Its speed limit is therefore **memory bandwidth**: an iteration must
# at least read and write its vectors once. For the variable-coefficient 7-point stencil in 3-D that is
# `ndim + 12 = 15` arrays of the grid's size (the stencil reads `p`, the diagonal and the
# three face coefficients and writes `Ap`; the `x`/`r` update reads `x, p, r, Ap` and writes
# `x, r`; the `p` update reads `r, p` and writes `p`). Dividing those bytes by the machine's
# bandwidth $\beta$ gives the **bound**: the time of an iteration that does nothing but move
# its data. For $N$ cells in $d$ dimensions, in float64,
#
# $$ B = 8\,(d + 12)\,N \ \text{bytes}, \qquad t_{\text{iter}} \ge \frac{B}{\beta}, \qquad
#    \text{fraction of the roofline} = \frac{B}{t_{\text{iter}}\,\beta}. $$
#
# Eager PyTorch is far from it on a GPU: one iteration is ~20 small kernels, and
# `cg` reads the residual norm on the host after every one of them, so the GPU idles between
# launches. `fused_cg` removes both costs:
#
# * the matrix is a **grid stencil** (`StencilOperator`: the engine's own coefficients from
#   `assemble_elliptic`, applied as shifts of whole arrays, no sparse matrix);
# * one CG step is one pure function, which `torch.compile` fuses into a few kernels
#   (Triton on CUDA, C++ on the CPU);
# * converged columns are frozen on the device by masks, and the host looks at the
#   convergence flags only every `check_every` iterations;
# * on CUDA a chunk of `check_every` iterations is captured once as a **CUDA graph** and
#   replayed: one launch per chunk.
#
# The iterates are the same as `cg`'s, to round-off. This tutorial shows that on the CPU,
# measures this machine's bandwidth, and places each variant on the roofline.

# %%
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from sciml.solvers.krylov import StencilOperator, cg, fused_cg
from sciml.solvers.krylov.fused import iteration_bytes
from sciml.solvers.poisson_problems import make_problem

SMOKE = os.environ.get("SCIML_SMOKE") == "1"
OUT = os.environ.get("SCIML_TUTORIAL_OUT", ".")
N = 20 if SMOKE else 48
torch.manual_seed(0)
torch.set_num_threads(1)  # one thread: the bandwidth and the solves under the same conditions

# %% [markdown]
# ## The stencil is the matrix
# `StencilOperator.from_system` takes the face transmissibilities $T_{d,i}$ (between cell $i$
# and its neighbour $i + e_d$ along axis $d$) and the diagonal $c_i$ (which includes the
# Dirichlet walls) that `assemble_elliptic` computed:
#
# $$ (A p)_i = c_i\, p_i - \sum_{d} \big( T_{d,i}\, p_{i+e_d} + T_{d,i-e_d}\, p_{i-e_d} \big). $$
#
# Solid cells stay zero in the field layout.

# %%
problem = make_problem(N, ndim=3, family="blobs", seed=0)
system = problem.system
op = StencilOperator.from_system(system)
x = torch.randn(2, system.n, dtype=torch.float64)
ref = torch.from_numpy(system.matrix @ x.numpy().T).T
print(op, f"max |stencil - CSR| = {float((op(x) - ref).abs().max()):.1e}")

# %% [markdown]
# ## Same iterates as `cg`
# Two right-hand sides in one batch, solved to a true relative residual of 1e-8 by eager
# `cg` (scipy's CSR kernel on the CPU) and by `fused_cg` (checking convergence every 16
# iterations). Both freeze a converged column at the same iteration, so the per-column
# iteration counts agree, and the residual histories lie on top of each other until CG's
# round-off amplification shows (late, and far below the tolerance's scale).

# %%
b = torch.stack([problem.b, torch.randn(system.n, dtype=torch.float64)])
t0 = time.perf_counter()
eager = cg(system.matrix, b, rtol=1e-8)
t_eager = time.perf_counter() - t0
fused = fused_cg(op, b, rtol=1e-8, check_every=16, compile=not SMOKE)
per_column = fused.extra["iterations_per_column"].tolist()
err = float((fused.x - eager.x).abs().max() / eager.x.abs().max())
print(f"eager cg: {eager.iterations} iterations; fused: {fused.iterations} {per_column}")
print(f"max relative difference of the solutions: {err:.1e}")
print(f"fused ran {fused.extra['iterations_run']} iterations (masked tail of the last chunk)")
print(f"compiled: {fused.extra['compiled']} (compile {fused.extra['compile_s']:.1f} s)")

fig, ax = plt.subplots(figsize=(6, 3.6))
for j in range(2):
    ax.semilogy(eager.residuals[:, j], lw=3, alpha=0.4, label=f"cg, column {j}")
    ax.semilogy(fused.residuals[:, j], "k--", lw=1, label=f"fused_cg, column {j}")
ax.set_xlabel("iteration")
ax.set_ylabel("||r|| / ||b||")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(os.path.join(OUT, "gpu_speed_iterates.png"), dpi=110)

# %% [markdown]
# ## This machine's roofline
# The peak is measured, not looked up: a STREAM-like triad `a = b + 1.5 c` on arrays much
# larger than the caches, counting 3 arrays of bytes. Then each CG variant's time per
# iteration is compared with the bound `15 arrays x 8 bytes x cells / bandwidth`
# (`iteration_bytes`). On a GPU the same script is `benchmarks/roofline.py --device cuda`,
# run by `benchmarks/gpu_session.sh`.

# %%
n = (1 << 22) if SMOKE else (1 << 25)
a_, b_, c_ = (torch.rand(n, dtype=torch.float64) for _ in range(3))
torch.add(b_, c_, alpha=1.5, out=a_)
t0 = time.perf_counter()
for _ in range(5):
    torch.add(b_, c_, alpha=1.5, out=a_)
bandwidth = 5 * 3 * n * 8 / (time.perf_counter() - t0)
del a_, b_, c_
need = iteration_bytes(op)
print(f"triad bandwidth {bandwidth / 1e9:.1f} GB/s; one iteration moves >= {need / 1e6:.2f} MB")
print(f"bound: {1e6 * need / bandwidth:.0f} us per iteration")

rows = {}
iters = 30
b1 = problem.b
for label, run in {
    "cg (CSR, eager)": lambda: cg(system.matrix, b1, rtol=0.0, maxiter=iters),
    "cg (stencil, eager)": lambda: cg(op, b1, rtol=0.0, maxiter=iters),
    "fused_cg (eager)": lambda: fused_cg(op, b1, rtol=0.0, maxiter=iters, compile=False),
    **(
        {}
        if SMOKE
        else {
            "fused_cg (compiled)": lambda: fused_cg(op, b1, rtol=0.0, maxiter=iters, compile=True)
        }
    ),
}.items():
    run()
    res = run()
    rows[label] = res.solve_time / res.iterations
for label, t in rows.items():
    print(f"{label:<22} {1e6 * t:8.0f} us/iteration = {need / t / bandwidth:6.1%} of the bandwidth")

fig, ax = plt.subplots(figsize=(6, 2.8))
ax.barh(list(rows), [100 * need / t / bandwidth for t in rows.values()])
ax.axvline(100, color="k", lw=0.8)
ax.set_xlabel("% of measured bandwidth (useful bytes / time)")
ax.invert_yaxis()
fig.tight_layout()
fig.savefig(os.path.join(OUT, "gpu_speed_roofline.png"), dpi=110)

# %% [markdown]
# On a CPU the eager variants are already within a small factor of the bound (a CPU core
# launches an operation in a microsecond, and a grid of `48^3` cells is small enough that
# parts of it stay in cache, which can even push a variant past the DRAM "bound"). The
# GPU is where fusion and graphs matter: there, an eager iteration at `128^3` took 0.7 ms
# against a bound of tens of microseconds (BENCHMARKS.md).
#
# ## Headline
# `fused_cg` reproduces `cg`: the same iteration counts per column, the same solution to
# round-off.

# %%
assert fused.iterations == eager.iterations, (fused.iterations, eager.iterations)
assert bool(fused.converged.all()) and err < 1e-8, err
print(f"headline: same {fused.iterations} iterations, solutions agree to {err:.0e}")

# %% [markdown]
# ## Exercises
# 1. Change `check_every` to 1 and to 64: the iterates do not change (why?), the number of
#    iterations *run* does. On a GPU, what does each choice cost?
# 2. Add a 1:1000 density jump (`make_problem(..., density_ratio=1000.0)`) and compare plain
#    CG with Jacobi (`fused_cg(op, b, M=1 / op.diagonal())`).
# 3. Count the arrays your own PDE step reads and writes (the Navier-Stokes step of
#    `physics/steppers/navier_stokes.py` is a good start) and compute its bound on this machine.
