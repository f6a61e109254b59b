"""``sciml solve``: linear solves (``poisson``: a generated pressure-Poisson problem; ``system``:
the user's own matrix on a grid) and the GP-HM PDE solver (``gp``).

The name -> method table of the linear solvers lives here, at the edge: the library takes
method objects (:mod:`sciml.solvers.methods`, :class:`sciml.solvers.dcdm.DCDM`). Names are
plain data so that building the parser imports no torch.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sciml.commands._types import nonnegative_int, positive_float, positive_int

if TYPE_CHECKING:
    from sciml.solvers.krylov.result import SolveResult

#: obstacle families of ``sciml solve poisson`` (plain data; a test checks it against
#: :data:`sciml.solvers.poisson_problems.FAMILIES`)
FAMILIES = ("none", "spheres", "boxes", "cylinders", "baffles", "terrain", "blobs")
#: GP-HM problems of ``sciml solve gp`` (plain data; checked against
#: :data:`sciml.solvers.gp.problems.PROBLEMS`)
GP_PROBLEMS = (
    "poisson-1d-sin100",
    "poisson-1d-sin6cos100",
    "poisson-1d-xsin200",
    "poisson-1d-multiscale",
    "poisson-1d-sin500",
    "allen-cahn-1d-sin100",
    "allen-cahn-1d-sin6cos100",
    "poisson-2d-sin100",
    "poisson-2d-sin6cos20",
    "allen-cahn-2d-mixed",
    "advection-1d-beta200",
    "burgers-1d-sin60",
    "poisson-3d-sin100",
)

#: method names of ``sciml solve poisson|system`` (plain data: the parser imports no torch; the
#: same as :data:`sciml.workflows.linear_solvers.METHODS`, which a test checks)
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


def _load_model(path):
    from sciml.solvers.dcdm import load_dcdm

    return load_dcdm(path)


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
) -> tuple[dict[str, SolveResult], dict[str, str]]:
    """Solve with each named method, print one table row per method; returns ``(name ->
    result, name -> why the method refused the system)``. A method that refuses (say DCDM on
    a 2-D system) does not stop the others; with one method its error is the command's."""
    import warnings

    import torch

    from sciml.solvers.dcdm import OutsideTrainingWarning
    from sciml.solvers.linear_solve import solve
    from sciml.workflows.linear_solvers import build_method

    model = _load_model(model_path) if any(m.startswith("dcdm") for m in methods) else None
    if threads:
        torch.set_num_threads(threads)
    print_fn(
        f"{'method':<11} {'iters':>6} {'setup s':>8} {'solve s':>8} {'s/iter':>8} {'residual':>10}"
    )
    results, refused = {}, {}
    for name in methods:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", OutsideTrainingWarning)
            try:
                method = build_method(name, model=model, k=k, lmg_model=lmg_model)
                res = solve(system, b, method, rtol=rtol, maxiter=maxiter, device=device)
            except (ValueError, TypeError) as exc:  # this method cannot take this system
                if len(methods) == 1:  # (DCDM in 2-D, multigrid without grid structure)
                    raise
                refused[name] = str(exc)
                print_fn(f"{name:<11} refused: {exc}")
                continue
        for w in caught:
            if issubclass(w.category, OutsideTrainingWarning):
                print_fn(f"note ({name}): {w.message}")
        results[name] = res
        if res.extra.get("fallback"):
            print_fn(f"note ({name}): fell back to Jacobi-PCG: {res.extra['fallback']}")
        flag = "" if bool(torch.as_tensor(res.converged).all()) else "  (not converged)"
        residual = float(torch.as_tensor(res.residual).max())  # the worst column of a batch
        print_fn(
            f"{name:<11} {res.iterations:>6d} {res.setup_time:>8.3f} {res.solve_time:>8.3f} "
            f"{res.time_per_iteration:>8.4f} {residual:>10.2e}{flag}"
        )
    if not results:
        raise ValueError("every method refused the system: " + "; ".join(
            f"{n}: {m}" for n, m in refused.items()))  # fmt: skip
    return results, refused


def _converged(results: dict) -> bool:
    import torch

    return all(bool(torch.as_tensor(r.converged).all()) for r in results.values())


def _check_outputs(args: argparse.Namespace) -> None:
    """--plot (a PNG) and --out (a .npy), checked before any work (nothing is replaced
    without --overwrite)."""
    from sciml.io import check_out_path

    if args.plot:
        if not args.plot.lower().endswith(".png"):
            raise ValueError(f"--plot {args.plot!r}: expected a .png file name")
        check_out_path(args.plot, overwrite=args.overwrite, what="--plot")
    if getattr(args, "out", None):
        args.out = str(check_out_path(args.out, overwrite=args.overwrite, suffix=".npy"))


def _solve_poisson(args: argparse.Namespace) -> int:
    import time

    from sciml.solvers.poisson_problems import make_problem

    _check_outputs(args)
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
    results, refused = run_methods(
        problem.system, problem.b, args.method or ["cg", "dcdm"], rtol=args.rtol,
        device=args.device, model_path=args.model, k=args.k, maxiter=args.maxiter,
        threads=args.threads, lmg_model=args.lmg_model,
    )  # fmt: skip
    if args.plot:
        from sciml.workflows.linear_solvers import plot_convergence

        plot_convergence(results, args.plot, title=f"pressure Poisson {args.n}^3 ({args.family})")
        print(f"wrote {args.plot}")
    _report_refused(refused)
    return 0 if _converged(results) else 1


def _report_refused(refused: dict[str, str]) -> None:
    """After the outputs of the other methods are written: the refusals, as the one error."""
    if refused:
        name, why = next(iter(refused.items()))
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        raise ValueError(
            f"method {name!r} refused the system{more}: {why}; the other methods' results "
            "were reported and written"
        )


def _add_common(p) -> None:
    p.add_argument(
        "--method", action="extend", nargs="+", choices=METHODS, help="one or more methods"
    )
    p.add_argument(
        "--rtol", type=positive_float, default=1e-6, help="true relative residual to reach (> 0)"
    )
    p.add_argument(
        "--maxiter", type=positive_int, default=None, help="iteration cap (default: the method's)"
    )
    p.add_argument("--device", default=None, help="cpu / cuda (default: cuda if available)")
    p.add_argument("--model", default=None, help="DCDM model file (default: the shipped one)")
    p.add_argument(
        "--lmg-model", default=None,
        help="learned multigrid cycle file for lmg-pcg (default: the shipped one for the grid's "
        "dimension)",
    )  # fmt: skip
    p.add_argument("--plot", default=None, help="PNG with the convergence curves")
    p.add_argument("--k", type=positive_int, default=2, help="DCDM: steps kept (paper: 2)")
    p.add_argument(
        "--threads", type=nonnegative_int, default=0, help="torch CPU threads (0: torch's default; use 1 "
        "on a loaded machine, where OpenMP threads wait on each other)"
    )  # fmt: skip
    p.add_argument("--overwrite", action="store_true", help="replace an existing --plot/--out")


def _add_solve_poisson(solve_sub) -> None:
    p = solve_sub.add_parser(
        "poisson",
        help="pressure Poisson with obstacles: CG, PCG (Jacobi/ICC/GAMG/AMG), DCDM, multigrid",
    )
    p.add_argument(
        "--n", type=positive_int, default=64, help="cells per side of the 3-D box (>= 4)"
    )
    p.add_argument(
        "--family", default="blobs", choices=FAMILIES,
        help="obstacle family (blobs: held out of DCDM's training)",
    )  # fmt: skip
    p.add_argument(
        "--walls", default="open-top", choices=["open-top", "dirichlet"],
        help="open-top: Dirichlet at the top, Neumann elsewhere; dirichlet: all walls",
    )  # fmt: skip
    p.add_argument(
        "--density-ratio",
        type=positive_float,
        default=None,
        help="heavy/light density, e.g. 1000 (two phases)",
    )
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the obstacle geometry")
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

    from sciml.solvers.system import grid_system

    _check_outputs(args)
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
    results, refused = run_methods(
        system, bt, args.method or ["jacobi", "dcdm"], rtol=args.rtol, device=args.device,
        model_path=args.model, k=args.k, maxiter=args.maxiter, threads=args.threads,
        lmg_model=args.lmg_model,
    )  # fmt: skip
    if args.plot:
        from sciml.workflows.linear_solvers import plot_convergence

        plot_convergence(results, args.plot, title=f"{args.matrix}")
        print(f"wrote {args.plot}")
    if args.out:
        best = min(results.values(), key=lambda r: float(torch.as_tensor(r.residual).max()))
        np.save(args.out, best.x.cpu().numpy())
        print(f"wrote {args.out} (solution of {best.method})")
    _report_refused(refused)
    return 0 if _converged(results) else 1


def _add_solve_system(solve_sub) -> None:
    p = solve_sub.add_parser(
        "system", help="your own SPD system on a grid: A (.npz/.mtx), b (.npy), mask (.npy)"
    )
    p.add_argument("--matrix", required=True, help="A [n, n]: scipy sparse .npz or MatrixMarket")
    p.add_argument("--rhs", required=True, help="b [n] or [B, n] (.npy)")
    p.add_argument("--mask", required=True, help="bool [*shape] (.npy): True = unknown, C order")
    p.add_argument("--walls", default=None, help="e.g. z+=dirichlet,x-=neumann (optional)")
    p.add_argument("--out", default=None, help="write the solution x (.npy is added if missing)")
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
    p.add_argument(
        "--problem", default="poisson-1d-sin100", choices=GP_PROBLEMS, metavar="PROBLEM",
        help="published test problem: " + ", ".join(GP_PROBLEMS),
    )  # fmt: skip
    p.add_argument(
        "--method", default="gauss-newton", choices=["gauss-newton", "adam", "adam+lbfgs"],
        help="fit strategy: Gauss-Newton (dense or matrix-free), Adam (published), Adam+L-BFGS",
    )  # fmt: skip
    p.add_argument(
        "--init", default="spectrum", choices=["spectrum", "uniform"],
        help="mixture frequencies: on the forcing's spectral peaks, or evenly (published)",
    )  # fmt: skip
    p.add_argument(
        "--n",
        type=positive_int,
        nargs="+",
        default=None,
        help="grid points per axis (default: chosen from the spectra of the forcing and the "
        "boundary data, 4 points per shortest wavelength)",
    )
    p.add_argument(
        "--steps",
        type=nonnegative_int,
        default=200,
        help="Adam steps (on the kernel between Gauss-Newton solves, or the whole fit with --method adam)",
    )
    p.add_argument("--newton-steps", type=positive_int, default=3, help="Gauss-Newton solves")
    p.add_argument(
        "--lbfgs-steps", type=nonnegative_int, default=0, help="L-BFGS iterations (adam+lbfgs)"
    )
    p.add_argument("--lr", type=positive_float, default=1e-2, help="Adam learning rate")
    p.add_argument("--mixtures", type=positive_int, default=30, help="mixture components per axis")
    p.add_argument(
        "--density", default="gaussian", choices=["gaussian", "student_t"],
        help="spectral density of each mixture component (student_t: Matern-5/2)",
    )  # fmt: skip
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
