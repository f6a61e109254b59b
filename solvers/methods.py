"""Named linear-solver recipes for the CLI and the benchmark (the registry lives at the edge).

:func:`run_method` solves one :class:`~sciml.solvers.poisson_problems.PoissonProblem` with one
named method and returns a :class:`~sciml.solvers.krylov.cg.SolveResult` whose ``setup_time``
includes the preconditioner / model setup:

==================  =====================================================================
``cg``              plain CG (torch, on ``device``)
``jacobi``          Jacobi-PCG (torch, on ``device``)
``cg-fused``        plain CG as a fused loop on the grid stencil (``fused_cg``: compiled and
                    CUDA-graph-captured on CUDA, eager on the CPU; same iterates as ``cg``)
``jacobi-fused``    Jacobi-PCG as the same fused loop
``icc``             ICC(0)-PCG, PETSc factor applied on the CPU
``gamg``            PETSc GAMG V-cycle inside our torch PCG (CPU)
``amg``             PyAMG smoothed-aggregation V-cycle inside our torch PCG (CPU)
``petsc-gamg``      PETSc's own KSPCG + GAMG (CPU): the peer a user would pick
``dcdm``            deep conjugate direction method, shipped model, k = 2 (``device``)
``dcdm-fpcg``       the same network as a nonlinear preconditioner in flexible PCG
==================  =====================================================================
"""

from __future__ import annotations

import time

import numpy as np
import torch

from sciml.solvers.krylov.cg import SolveResult, cg
from sciml.solvers.krylov.operator import as_operator

__all__ = ["METHODS", "CPU_ONLY", "run_method", "petsc_cg"]

METHODS = (
    "cg",
    "jacobi",
    "cg-fused",
    "jacobi-fused",
    "icc",
    "gamg",
    "amg",
    "petsc-gamg",
    "dcdm",
    "dcdm-fpcg",
)
#: methods whose preconditioner runs on the host; they always solve on the CPU
CPU_ONLY = ("icc", "gamg", "amg", "petsc-gamg")


def petsc_cg(
    A_scipy, b: np.ndarray, *, pc: str = "gamg", rtol: float = 1e-6, maxiter: int = 10_000
):
    """PETSc KSPCG with ``pc`` (``"gamg"``, ``"icc"``, ...), unpreconditioned-norm stopping.

    Returns ``(x, iterations, residual_history (relative), setup_seconds, solve_seconds)``.
    """
    import dolfinx_solver  # noqa: F401

    from petsc4py import PETSc

    from sciml.solvers.krylov.preconditioners import petsc_matrix

    t0 = time.perf_counter()
    mat = petsc_matrix(A_scipy)
    ksp = PETSc.KSP().create(comm=PETSc.COMM_SELF)
    ksp.setOperators(mat)
    ksp.setType("cg")
    ksp.getPC().setType(pc)
    ksp.setNormType(PETSc.KSP.NormType.UNPRECONDITIONED)
    ksp.setTolerances(rtol=rtol, atol=0.0, max_it=maxiter)
    ksp.setConvergenceHistory()
    x, bv = mat.createVecs()
    bv.setArray(np.asarray(b, dtype=np.float64))
    ksp.setUp()
    setup = time.perf_counter() - t0
    t1 = time.perf_counter()
    ksp.solve(bv, x)
    solve = time.perf_counter() - t1
    hist = np.asarray(ksp.getConvergenceHistory()) / np.linalg.norm(b)
    return x.getArray().copy(), ksp.getIterationNumber(), hist, setup, solve


def run_method(
    method: str,
    problem,
    *,
    rtol: float = 1e-6,
    device: str | torch.device = "cpu",
    model=None,
    maxiter: int | None = None,
    k: int = 2,
) -> SolveResult:
    """Solve ``problem.system x = problem.b`` with the named ``method`` (see :data:`METHODS`).

    ``model`` is the DCDM network for the ``dcdm*`` methods (default: the shipped model).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    system = problem.system
    dev = torch.device("cpu") if method in CPU_ONLY else torch.device(device)
    b = problem.b.to(device=dev, dtype=torch.float64)
    t0 = time.perf_counter()
    if method == "petsc-gamg":
        x, its, hist, setup, solve = petsc_cg(
            system.matrix, problem.b.numpy(), pc="gamg", rtol=rtol
        )
        true = float(np.linalg.norm(problem.b.numpy() - system.matrix @ x) / problem.b.norm())
        n = len(hist)
        return SolveResult(
            x=torch.from_numpy(x),
            converged=true <= rtol * (1 + 1e-6),
            iterations=int(its),
            residual=true,
            residuals=torch.from_numpy(hist)[:, None],
            times=torch.linspace(0.0, solve, n, dtype=torch.float64),
            setup_time=setup,
            method=method,
        )
    if method.endswith("-fused"):
        from sciml.solvers.krylov.fused import fused_cg
        from sciml.solvers.krylov.stencil import StencilOperator

        stencil = StencilOperator.from_system(system, device=dev, dtype=b.dtype)
        inv_diag = None if method == "cg-fused" else 1.0 / stencil.diagonal()
        setup = time.perf_counter() - t0
        res = fused_cg(stencil, b, M=inv_diag, rtol=rtol, maxiter=maxiter or 20_000)
        res.setup_time += setup
        res.method = method
        return res
    op = as_operator(system.matrix, device=dev, check=False)
    if maxiter is None:
        maxiter = 200 if method.startswith("dcdm") else 20_000
    if method.startswith("dcdm"):
        from sciml.solvers.dcdm import LearnedDirection, dcdm, load_model

        net = model if model is not None else load_model()
        net = net.to(dev)
        direction = LearnedDirection(net, system, coefficient=problem.coefficient)
        setup = time.perf_counter() - t0
        if method == "dcdm":
            res = dcdm(op, b, direction, rtol=rtol, maxiter=maxiter, k=k, check=False)
        else:
            res = cg(op, b, M=direction, rtol=rtol, maxiter=maxiter, flexible=True, check=False)
    else:
        from sciml.solvers.krylov.preconditioners import PRECONDITIONERS

        M = None if method == "cg" else PRECONDITIONERS[method](op, check=False)
        setup = time.perf_counter() - t0
        res = cg(op, b, M=M, rtol=rtol, maxiter=maxiter, check=False)
    res.setup_time += setup
    res.method = method
    return res


def plot_convergence(results: dict[str, SolveResult], path, *, title: str = "") -> None:
    """One PNG: relative residual vs iteration and vs time for every method in ``results``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, res in results.items():
        hist = res.residuals[:, 0].numpy()
        axes[0].semilogy(np.arange(len(hist)), hist, label=f"{name} ({res.iterations})")
        axes[1].semilogy(res.setup_time + res.times.numpy(), hist, label=name)
    axes[0].set_xlabel("iteration")
    axes[1].set_xlabel("seconds (setup + solve)")
    for ax in axes:
        ax.set_ylabel("||b - Ax|| / ||b||")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def solve_poisson_command(
    *,
    n: int,
    methods: list[str],
    rtol: float = 1e-6,
    family: str = "blobs",
    density_ratio: float | None = None,
    seed: int = 0,
    device: str | None = None,
    model_path: str | None = None,
    plot: str | None = None,
    k: int = 2,
    print_fn=print,
) -> dict[str, SolveResult]:
    """``sciml solve poisson``: build one 3-D problem, run ``methods``, print a table, plot."""
    from sciml.solvers.poisson_problems import make_problem

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    t0 = time.perf_counter()
    problem = make_problem(n, ndim=3, family=family, density_ratio=density_ratio, seed=seed)
    print_fn(
        f"pressure Poisson {n}^3, family={family}, density_ratio={density_ratio}, "
        f"unknowns={problem.system.n}, assembled in {time.perf_counter() - t0:.2f} s, "
        f"device={device}"
    )
    model = None
    if any(m.startswith("dcdm") for m in methods):
        from sciml.solvers.dcdm import load_model

        model = load_model(model_path)
    results = {}
    print_fn(
        f"{'method':<11} {'iters':>6} {'setup s':>8} {'solve s':>8} {'s/iter':>8} {'residual':>10}"
    )
    for m in methods:
        res = run_method(m, problem, rtol=rtol, device=device, model=model, k=k)
        results[m] = res
        flag = "" if bool(res.converged) else "  (not converged)"
        print_fn(
            f"{m:<11} {res.iterations:>6d} {res.setup_time:>8.3f} {res.solve_time:>8.3f} "
            f"{res.time_per_iteration:>8.4f} {float(res.residual):>10.2e}{flag}"
        )
    if plot:
        plot_convergence(results, plot, title=f"pressure Poisson {n}^3 ({family})")
        print_fn(f"wrote {plot}")
    return results
