"""``sciml solve``: linear solves (``poisson``: a generated pressure-Poisson problem; ``system``:
the user's own matrix on a grid) and the GP-HM PDE solver (``gp``).

The name -> method table of the linear solvers lives here, at the edge: the library takes
method objects (:mod:`sciml.solvers.methods`, :class:`sciml.solvers.dcdm.DCDM`). Names are
plain data so that building the parser imports no torch.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sciml.solvers.dcdm import DCDM, DCDMNet
    from sciml.solvers.krylov.result import SolveResult
    from sciml.solvers.methods import CG, PCG, FusedCG, PETScCG
    from sciml.solvers.multigrid import MGPCG

#: method names of ``sciml solve poisson|system`` (plain data: the parser imports no torch)
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
    "mg-pcg",
    "lmg-pcg",
)


def _learned_preconditioner(dcdm, system):
    """The network of ``dcdm`` (loaded on first use) between Jacobi sweeps, bound to ``system``."""
    from sciml.solvers.dcdm import LearnedPreconditioner

    return LearnedPreconditioner(dcdm.model, system)


def build_method(
    name: str, *, model: DCDMNet | None = None, k: int = 2, lmg_model=None
) -> CG | PCG | FusedCG | PETScCG | DCDM | MGPCG:
    """The method object for a CLI name (``model``: a DCDMNet for the ``dcdm*`` methods;
    ``lmg_model``: a learned-cycle file or module for ``lmg-pcg``, default the shipped one)."""
    from functools import partial

    from sciml.solvers.dcdm import DCDM
    from sciml.solvers.krylov.preconditioners import GAMG, ICC, Jacobi, PyAMG
    from sciml.solvers.methods import CG, PCG, FusedCG, PETScCG
    from sciml.solvers.multigrid import MGPCG, LearnedMGPCG

    table = {
        "cg": lambda: CG(),
        "jacobi": lambda: PCG(Jacobi, name="jacobi"),
        "cg-fused": lambda: FusedCG(jacobi=False),
        "jacobi-fused": lambda: FusedCG(jacobi=True),
        "icc": lambda: PCG(ICC, name="icc"),
        "gamg": lambda: PCG(GAMG, name="gamg"),
        "amg": lambda: PCG(PyAMG, name="amg"),
        "petsc-gamg": lambda: PETScCG("gamg"),
        "dcdm": lambda: DCDM(model, k=k),
        "dcdm-fpcg": lambda: PCG(
            partial(_learned_preconditioner, DCDM(model)), flexible=True, name="dcdm-fpcg"
        ),
        "mg-pcg": lambda: MGPCG(),
        "lmg-pcg": lambda: LearnedMGPCG(lmg_model),
    }
    if name not in table:
        raise ValueError(f"method must be one of {METHODS}, got {name!r}")
    return table[name]()


def plot_convergence(results: dict, path, *, title: str = "") -> None:
    """One PNG: relative residual vs iteration and vs time for every method in ``results``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

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


def _load_model(path):
    from sciml.solvers.dcdm import load_model

    return load_model(path)


def run_methods(
    system,
    b,
    methods,
    *,
    rtol,
    device,
    model_path,
    k,
    maxiter=None,
    threads=0,
    print_fn=print,
    lmg_model=None,
) -> dict[str, SolveResult]:
    """Solve with each named method, print one table row per method; returns name -> result."""
    import warnings

    from sciml.solvers.dcdm import OutsideTrainingWarning
    from sciml.solvers.linear_solve import solve

    model = _load_model(model_path) if any(m.startswith("dcdm") for m in methods) else None
    if threads:
        import torch

        torch.set_num_threads(threads)
    print_fn(
        f"{'method':<11} {'iters':>6} {'setup s':>8} {'solve s':>8} {'s/iter':>8} {'residual':>10}"
    )
    results = {}
    for name in methods:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", OutsideTrainingWarning)
            method = build_method(name, model=model, k=k, lmg_model=lmg_model)
            res = solve(system, b, method, rtol=rtol, maxiter=maxiter, device=device)
        for w in caught:
            if issubclass(w.category, OutsideTrainingWarning):
                print_fn(f"note ({name}): {w.message}")
        results[name] = res
        if res.extra.get("fallback"):
            print_fn(f"note ({name}): fell back to Jacobi-PCG: {res.extra['fallback']}")
        flag = "" if bool(res.converged) else "  (not converged)"
        print_fn(
            f"{name:<11} {res.iterations:>6d} {res.setup_time:>8.3f} {res.solve_time:>8.3f} "
            f"{res.time_per_iteration:>8.4f} {float(res.residual):>10.2e}{flag}"
        )
    return results


def _solve_poisson(args: argparse.Namespace) -> int:
    import time

    from sciml.solvers.poisson_problems import make_problem

    t0 = time.perf_counter()
    problem = make_problem(
        args.n, ndim=3, family=args.family, density_ratio=args.density_ratio, seed=args.seed,
        walls=args.walls,
    )  # fmt: skip
    print(
        f"pressure Poisson {args.n}^3, family={args.family}, walls={args.walls}, "
        f"density_ratio={args.density_ratio}, unknowns={problem.system.n}, "
        f"assembled in {time.perf_counter() - t0:.2f} s"
    )
    results = run_methods(
        problem.system, problem.b, args.method or ["cg", "dcdm"], rtol=args.rtol,
        device=args.device, model_path=args.model, k=args.k, maxiter=args.maxiter,
        threads=args.threads, lmg_model=args.lmg_model,
    )  # fmt: skip
    if args.plot:
        plot_convergence(results, args.plot, title=f"pressure Poisson {args.n}^3 ({args.family})")
        print(f"wrote {args.plot}")
    return 0 if all(bool(r.converged) for r in results.values()) else 1


def _add_common(p) -> None:
    p.add_argument(
        "--method", action="extend", nargs="+", choices=METHODS, help="one or more methods"
    )
    from sciml.commands._types import positive_float

    p.add_argument(
        "--rtol", type=positive_float, default=1e-6, help="true relative residual to reach (> 0)"
    )
    p.add_argument("--maxiter", type=int, default=None, help="iteration cap (default: method's)")
    p.add_argument("--device", default=None, help="cpu / cuda (default: cuda if available)")
    p.add_argument("--model", default=None, help="DCDM model file (default: the shipped one)")
    p.add_argument(
        "--lmg-model", default=None,
        help="learned multigrid cycle file for lmg-pcg (default: the shipped one for the grid's "
        "dimension)",
    )  # fmt: skip
    p.add_argument("--plot", default=None, help="PNG with the convergence curves")
    p.add_argument("--k", type=int, default=2, help="DCDM: steps kept (paper: 2)")
    p.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads (0: torch's default; use 1 "
        "on a loaded machine, where OpenMP threads wait on each other)"
    )  # fmt: skip


def _add_solve_poisson(solve_sub) -> None:
    p = solve_sub.add_parser(
        "poisson",
        help="pressure Poisson with obstacles: CG, PCG (Jacobi/ICC/GAMG/AMG), DCDM, multigrid",
    )
    p.add_argument("--n", type=int, default=64, help="cells per side of the 3-D box")
    p.add_argument("--family", default="blobs", help="obstacle family (blobs = held out)")
    p.add_argument("--walls", default="open-top", choices=["open-top", "dirichlet"])
    p.add_argument("--density-ratio", type=float, default=None, help="e.g. 1000 (two phases)")
    p.add_argument("--seed", type=int, default=0)
    _add_common(p)
    p.set_defaults(func=_solve_poisson)


def _read_array(path: str, what: str):
    """A numpy array from ``.npy`` (no pickles) or a sparse matrix from ``.npz`` / ``.mtx``."""
    from pathlib import Path

    import numpy as np

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} file {path!r} not found")
    suffix = p.suffix.lower()
    try:
        if suffix == ".npy":
            return np.load(p, allow_pickle=False)
        if suffix == ".npz":
            import scipy.sparse as sp

            return sp.load_npz(p)
        if suffix == ".mtx":
            import scipy.io

            try:
                return scipy.io.mmread(p, spmatrix=True)
            except TypeError:  # scipy < 1.15
                return scipy.io.mmread(p)
    except (ValueError, OSError, KeyError) as exc:
        raise ValueError(f"{what} file {path!r} could not be read: {exc}") from None
    raise ValueError(f"{what} file {path!r}: expected .npy, .npz (scipy sparse) or .mtx")


def _parse_walls(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    out = {}
    for item in text.split(","):
        side, _, kind = item.partition("=")
        if not kind:
            raise ValueError(f"--walls must look like z+=dirichlet,x-=neumann, got {text!r}")
        out[side.strip()] = kind.strip()
    return out


def _solve_system(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from sciml.io import check_out_path
    from sciml.solvers.system import grid_system

    if args.out:
        check_out_path(args.out, overwrite=args.overwrite)
    A = _read_array(args.matrix, "--matrix")
    b = _read_array(args.rhs, "--rhs")
    mask = _read_array(args.mask, "--mask")
    if not isinstance(b, np.ndarray) or not isinstance(mask, np.ndarray):
        raise ValueError("--rhs and --mask must be dense .npy arrays")
    system = grid_system(A, mask=mask, walls=_parse_walls(args.walls))
    bt = torch.as_tensor(np.asarray(b, dtype=np.float64))
    from sciml.solvers.krylov.operator import check_rhs

    check_rhs(bt, system.n, "--rhs")
    print(
        f"system: {system.n} unknowns on a {'x'.join(map(str, system.shape))} grid, "
        f"{system.matrix.nnz} nonzeros"
    )
    results = run_methods(
        system, bt, args.method or ["jacobi", "dcdm"], rtol=args.rtol, device=args.device,
        model_path=args.model, k=args.k, maxiter=args.maxiter, threads=args.threads,
        lmg_model=args.lmg_model,
    )  # fmt: skip
    if args.plot:
        plot_convergence(results, args.plot, title=f"{args.matrix}")
        print(f"wrote {args.plot}")
    if args.out:
        best = min(results.values(), key=lambda r: float(r.residual))
        np.save(args.out, best.x.cpu().numpy())
        print(f"wrote {args.out} (solution of {best.method})")
    return 0 if all(bool(r.converged) for r in results.values()) else 1


def _add_solve_system(solve_sub) -> None:
    p = solve_sub.add_parser(
        "system", help="your own SPD system on a grid: A (.npz/.mtx), b (.npy), mask (.npy)"
    )
    p.add_argument("--matrix", required=True, help="A [n, n]: scipy sparse .npz or MatrixMarket")
    p.add_argument("--rhs", required=True, help="b [n] or [B, n] (.npy)")
    p.add_argument("--mask", required=True, help="bool [*shape] (.npy): True = unknown, C order")
    p.add_argument("--walls", default=None, help="e.g. z+=dirichlet,x-=neumann (optional)")
    p.add_argument("--out", default=None, help="write the solution x (.npy)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    _add_common(p)
    p.set_defaults(func=_solve_system)


def _solve_gp(args: argparse.Namespace) -> int:
    from sciml.commands.solve_gp import solve_gp_command

    summary = solve_gp_command(
        problem=args.problem,
        method=args.method,
        init=args.init,
        n=args.n,
        adam_steps=args.steps,
        newton_steps=args.newton_steps,
        lbfgs_steps=args.lbfgs_steps,
        lr=args.lr,
        num_mixtures=args.mixtures,
        density=args.density,
        device=args.device,
        out=args.out,
        overwrite=args.overwrite,
    )
    return 0 if summary["rel_l2"] is not None else 1


def _add_solve_gp(solve_sub) -> None:
    p = solve_sub.add_parser(
        "gp", help="GP-HM spectral-mixture GP solver on a published high-frequency problem"
    )
    p.add_argument("--problem", default="poisson-1d-sin100", help="registered problem name")
    p.add_argument(
        "--method", default="gauss-newton", choices=["gauss-newton", "adam", "adam+lbfgs"]
    )
    p.add_argument("--init", default="spectrum", choices=["spectrum", "uniform"])
    p.add_argument(
        "--n",
        type=int,
        nargs="+",
        default=None,
        help="grid points per axis (default: chosen from the spectra of the forcing and the "
        "boundary data, 4 points per shortest wavelength)",
    )
    p.add_argument("--steps", type=int, default=200, help="Adam steps")
    p.add_argument("--newton-steps", type=int, default=3, help="Gauss-Newton solves")
    p.add_argument("--lbfgs-steps", type=int, default=0, help="L-BFGS iterations (adam+lbfgs)")
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--mixtures", type=int, default=30, help="mixture components per axis")
    p.add_argument("--density", default="gaussian", choices=["gaussian", "student_t"])
    p.add_argument("--device", default=None, help="cpu / cuda (default: cuda if available)")
    p.add_argument("--out", default="out/gp", help="folder for the PNG and JSON summary")
    p.add_argument("--overwrite", action="store_true", help="replace an existing PNG/JSON")
    p.set_defaults(func=_solve_gp)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sciml solve`` and its problems (poisson, system, gp) on ``sub``."""
    p = sub.add_parser("solve", help="solve a PDE problem or a linear system (poisson, system, gp)")
    solve_sub = p.add_subparsers(dest="solve_command", metavar="PROBLEM")
    _add_solve_poisson(solve_sub)
    _add_solve_system(solve_sub)
    _add_solve_gp(solve_sub)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
