"""``sciml solve``: solve a PDE problem (``poisson``: CG/PCG/DCDM; ``gp``: GP-HM)."""

from __future__ import annotations

import argparse


def _solve_poisson(args: argparse.Namespace) -> int:
    from sciml.solvers.methods import solve_poisson_command

    results = solve_poisson_command(
        n=args.n,
        methods=args.method or ["cg", "dcdm"],
        rtol=args.rtol,
        family=args.family,
        density_ratio=args.density_ratio,
        seed=args.seed,
        device=args.device,
        model_path=args.model,
        plot=args.plot,
        k=args.k,
    )
    return 0 if all(bool(r.converged) for r in results.values()) else 1


#: method names of ``sciml solve poisson`` (plain data: building the parser imports no torch;
#: tests/foundation/test_cli.py checks them against sciml.solvers.methods.METHODS)
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


def _add_solve_poisson(solve_sub) -> None:
    from sciml.commands._types import positive_float

    p = solve_sub.add_parser(
        "poisson", help="pressure Poisson with obstacles: CG, PCG (Jacobi/ICC/GAMG/AMG), DCDM"
    )
    p.add_argument("--n", type=int, default=64, help="cells per side of the 3-D box")
    p.add_argument(
        "--method", action="extend", nargs="+", choices=METHODS, help="one or more methods"
    )
    p.add_argument(
        "--rtol", type=positive_float, default=1e-6, help="true relative residual to reach (> 0)"
    )
    p.add_argument("--family", default="blobs", help="obstacle family (blobs = held out)")
    p.add_argument("--density-ratio", type=float, default=None, help="e.g. 1000 (two phases)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="cpu / cuda (default: cuda if available)")
    p.add_argument("--model", default=None, help="DCDM checkpoint (default: the shipped one)")
    p.add_argument("--plot", default=None, help="PNG with the convergence curves")
    p.add_argument("--k", type=int, default=2, help="DCDM: directions kept (paper: 2)")
    p.set_defaults(func=_solve_poisson)


def _solve_gp(args: argparse.Namespace) -> int:
    from sciml.solvers.gp_command import solve_gp_command

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
    p.add_argument("--n", type=int, nargs="+", default=None, help="grid points per axis")
    p.add_argument("--steps", type=int, default=200, help="Adam steps")
    p.add_argument("--newton-steps", type=int, default=3, help="Gauss-Newton solves")
    p.add_argument("--lbfgs-steps", type=int, default=0, help="L-BFGS iterations (adam+lbfgs)")
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--mixtures", type=int, default=30, help="mixture components per axis")
    p.add_argument("--density", default="gaussian", choices=["gaussian", "student_t"])
    p.add_argument("--device", default=None, help="cpu / cuda (default: cuda if available)")
    p.add_argument("--out", default="out/gp", help="folder for the PNG and JSON summary")
    p.set_defaults(func=_solve_gp)


def add_parser(sub) -> None:
    p = sub.add_parser("solve", help="solve a PDE problem (subcommands: poisson, ...)")
    solve_sub = p.add_subparsers(dest="solve_command", metavar="PROBLEM")
    _add_solve_poisson(solve_sub)
    _add_solve_gp(solve_sub)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
