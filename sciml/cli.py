"""The ``sciml`` command.

One argparse parser; each subcommand's handler imports what it needs lazily, so
``sciml --version`` and ``sciml info`` stay fast. To add a subcommand: write an
``_add_<name>(sub)`` function that declares its arguments and sets ``func`` to a handler,
and call it from :func:`build_parser`.
"""

from __future__ import annotations

import argparse
import sys


def _info(args: argparse.Namespace) -> int:
    import platform

    import numpy as np
    import torch

    import sciml

    rows = [
        ("sciml", sciml.__version__),
        ("python", platform.python_version()),
        ("numpy", np.__version__),
        ("torch", torch.__version__),
        ("cuda", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "not available"),
        ("torch threads", str(torch.get_num_threads())),
    ]
    try:
        import dolfinx_solver  # noqa: F401  (must come before dolfinx / petsc4py)

        import dolfinx
        from mpi4py import MPI
        from petsc4py import PETSc

        rows += [
            ("dolfinx", dolfinx.__version__),
            ("petsc", ".".join(map(str, PETSc.Sys.getVersion()))),
            ("mpi", MPI.Get_library_version().splitlines()[0].strip()),
            ("mpi size", str(MPI.COMM_WORLD.size)),
        ]
    except ImportError as exc:  # pragma: no cover - depends on the install
        rows.append(("dolfinx", f"not available ({exc})"))
    for mod in ("neuralop", "gpytorch", "torchdiffeq", "torchsde", "deepwave", "pyamg", "h5py"):
        try:
            m = __import__(mod)
            rows.append((mod, getattr(m, "__version__", "installed")))
        except ImportError:
            rows.append((mod, "not installed"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


def _add_info(sub) -> None:
    p = sub.add_parser("info", help="versions of sciml and its engines, devices, MPI size")
    p.set_defaults(func=_info)


def _quickstart(args: argparse.Namespace) -> int:
    from sciml.quickstart import run

    return run(out=args.out, n=args.n, budget=args.budget, samples=args.samples)


def _add_quickstart(sub) -> None:
    p = sub.add_parser("quickstart", help="the project's main job on small built-in defaults")
    p.add_argument("--out", default="out/quickstart", help="folder for plots and tables")
    p.add_argument("--n", type=int, default=32, help="mesh cells per side")
    p.add_argument("--budget", type=float, default=60.0, help="training seconds per operator")
    p.add_argument("--samples", type=int, default=200, help="Darcy samples (80/20 train/test)")
    p.set_defaults(func=_quickstart)


def _parse_params(items: list[str]) -> dict[str, str]:
    params = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--param expects KEY=VALUE, got {item!r}")
        params[key.strip()] = value.strip()
    return params


def _data_generate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sciml.datasets import generate, partial_path

    params = _parse_params(args.param)
    if args.resolution is not None:
        params["resolution"] = str(args.resolution)
    out = Path(args.out)
    if args.resume and not (out.exists() or partial_path(out).exists()):
        raise FileNotFoundError(f"--resume: neither {out} nor {partial_path(out)} exists")
    path = generate(
        args.recipe, args.n, out, params=params, seed=args.seed, workers=args.workers,
        overwrite=args.overwrite, progress=not args.quiet,
    )  # fmt: skip
    print(f"wrote {path}")
    return 0


def _data_info(args: argparse.Namespace) -> int:
    import json

    from sciml.datasets import read_meta

    meta = read_meta(args.file)
    arrays = meta.pop("arrays")
    print(f"{args.file}")
    for key in ("recipe", "recipe_version", "n", "samples_done", "complete", "base_seed"):
        if key in meta:
            print(f"  {key:<15} {meta[key]}")
    print(f"  {'grid':<15} {json.dumps(meta.get('grid'))}")
    print(f"  {'params':<15} {json.dumps(meta.get('params'))}")
    print(f"  {'inputs':<15} {meta.get('input_names')}")
    print(f"  {'outputs':<15} {meta.get('output_names')}")
    for name, a in arrays.items():
        print(f"  /{name:<14} {a['dtype']:<8} {a['shape']}")
    print(f"  {'versions':<15} {json.dumps(meta.get('versions'))}")
    print(f"  {'created':<15} {meta.get('created')}")
    return 0


def _data_show(args: argparse.Namespace) -> int:
    from sciml.datasets import show_sample

    print(f"wrote {show_sample(args.file, args.index, args.out)}")
    return 0


def _data_list(args: argparse.Namespace) -> int:
    from sciml.datasets import RECIPES, get_recipe

    get_recipe(next(iter(RECIPES), "darcy-pwc"))  # fills the registry
    for name, rec in sorted(RECIPES.items()):
        print(f"{name:<20} v{rec.version}  {rec.description}")
    return 0


def _data_import(args: argparse.Namespace) -> int:
    from sciml.datasets import import_file

    print(f"wrote {import_file(args.file, args.out, fmt=args.format)}")
    return 0


def _add_data(sub) -> None:
    p = sub.add_parser("data", help="generate, inspect and plot PDE data sets (HDF5)")
    dsub = p.add_subparsers(dest="data_command", metavar="DATA_COMMAND", required=True)
    g = dsub.add_parser("generate", help="run a recipe: resumable, atomic, parallel (workers/MPI)")
    g.add_argument("recipe", help="recipe name (see `sciml data list`)")
    g.add_argument("--n", type=int, required=True, help="number of samples")
    g.add_argument("--out", required=True, help="output HDF5 file")
    g.add_argument("--resolution", type=int, help="output grid points per axis")
    g.add_argument("--param", action="append", metavar="KEY=VALUE", help="recipe parameter")
    g.add_argument("--seed", type=int, default=0, help="base seed (sample i: seed of (base, i))")
    g.add_argument("--workers", type=int, default=1, help="worker processes (or use mpirun)")
    g.add_argument("--resume", action="store_true", help="continue an interrupted run")
    g.add_argument("--overwrite", action="store_true", help="replace an existing file")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.set_defaults(func=_data_generate)
    i = dsub.add_parser("info", help="schema, sizes and metadata of a data file")
    i.add_argument("file")
    i.set_defaults(func=_data_info)
    s = dsub.add_parser("show", help="plot one sample as a PNG")
    s.add_argument("file")
    s.add_argument("--index", type=int, default=0)
    s.add_argument("--out", default="sample.png")
    s.set_defaults(func=_data_show)
    ls = dsub.add_parser("list", help="the available recipes")
    ls.set_defaults(func=_data_list)
    im = dsub.add_parser("import", help="convert a neuraloperator .pt or PDEBench HDF5 file")
    im.add_argument("file")
    im.add_argument("--format", required=True, choices=["neuralop-pt", "pdebench"])
    im.add_argument("--out", required=True)
    im.set_defaults(func=_data_import)


def _train(args: argparse.Namespace) -> int:
    from sciml.train.runs import train_from_args

    return train_from_args(args)


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train a neural operator (lsm, fno, unet) on a data file")
    p.add_argument("--model", help="registry name: lsm, fno or unet")
    p.add_argument("--data", help="HDF5 data file (sciml data generate)")
    p.add_argument("--out", required=True, help="run folder (checkpoints, logs, model.pt)")
    p.add_argument("--config", help="JSON: {model, model_options, train, n_train, n_test, ...}")
    p.add_argument("--test-data", help="separate test file (default: split --data)")
    p.add_argument("--n-train", type=int, help="training samples (default 80 %%)")
    p.add_argument("--n-test", type=int, help="test samples held out of --data (default 20 %%)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--scheduler", choices=["onecycle", "cosine", "step", "none"])
    p.add_argument("--time-budget", type=float, help="seconds of training (equal wall clock)")
    p.add_argument("--input-frames", type=int, help="autoregressive rollout: frames in")
    p.add_argument("--rollout-steps", type=int, help="autoregressive rollout: steps out")
    p.add_argument("--seed", type=int)
    p.add_argument("--amp", choices=["auto", "bf16", "none"])
    p.add_argument("--channels-last", action="store_true", default=None)
    p.add_argument("--compile", action="store_true", default=None)
    p.add_argument("--width", type=int, help="model width (all models)")
    p.add_argument("--modes", type=int, help="FNO Fourier modes per axis")
    p.add_argument("--levels", type=int, help="U-Net / LSM down-samplings")
    p.add_argument("--heads", type=int, help="LSM attention heads")
    p.add_argument("--tokens", type=int, help="LSM latent tokens")
    p.add_argument("--basis", type=int, help="LSM sin/cos basis size")
    p.add_argument("--norm", choices=["batch", "instance", "none"], help="U-Net / LSM norm")
    p.add_argument("--device", help="cuda, cpu, ... (default: cuda when available)")
    p.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last.pt")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_train)


def _eval(args: argparse.Namespace) -> int:
    from sciml.train.runs import eval_run

    res = [int(r) for r in args.resolutions.split(",")] if args.resolutions else None
    eval_run(args.run, args.data, resolutions=res, out=args.out, device=args.device)
    return 0


def _add_eval(sub) -> None:
    p = sub.add_parser("eval", help="evaluate a trained run: relative L2 table, plots, transfer")
    p.add_argument("run", help="run folder written by `sciml train`")
    p.add_argument("--data", required=True, help="data file (its test split if it trained)")
    p.add_argument("--resolutions", help="comma list, e.g. 32,64,128: discretisation transfer")
    p.add_argument("--out", help="output folder (default RUN/eval)")
    p.add_argument("--device")
    p.set_defaults(func=_eval)


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


def _add_solve_poisson(solve_sub) -> None:
    from sciml.solvers.methods import METHODS

    p = solve_sub.add_parser(
        "poisson", help="pressure Poisson with obstacles: CG, PCG (Jacobi/ICC/GAMG/AMG), DCDM"
    )
    p.add_argument("--n", type=int, default=64, help="cells per side of the 3-D box")
    p.add_argument(
        "--method", action="extend", nargs="+", choices=METHODS, help="one or more methods"
    )
    p.add_argument("--rtol", type=float, default=1e-6, help="true relative residual to reach")
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


def _add_solve(sub) -> None:
    p = sub.add_parser("solve", help="solve a PDE problem (subcommands: poisson, ...)")
    solve_sub = p.add_subparsers(dest="solve_command", metavar="PROBLEM")
    _add_solve_poisson(solve_sub)
    _add_solve_gp(solve_sub)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _nde(args: argparse.Namespace) -> int:
    import json

    import torch

    from sciml.nde.experiments import SDE_METHODS, run
    from sciml.nde.report import add_ratios, markdown_table

    if args.threads > 0:  # the models are tiny; extra threads only add contention
        torch.set_num_threads(args.threads)
    regs = list(dict.fromkeys(args.reg))
    if args.task == "spiral-sde":
        bad = [r for r in regs if r not in SDE_METHODS]
        if bad:
            raise ValueError(f"--reg for spiral-sde must be among {SDE_METHODS}, got {bad}")
    rows = [
        run(
            args.task,
            r,
            quick=args.quick,
            iters=args.iters,
            seed=args.seed,
            device=args.device,
            weight_scale=args.weight_scale,
        )
        for r in regs
    ]
    print(markdown_table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(add_ratios(rows), fh, indent=2)
    return 0


def _add_nde(sub) -> None:
    # names mirror sciml.nde.experiments.TASKS / METHODS (kept literal: no heavy import here)
    tasks = ("spiral-ode", "spiral-sde", "digits", "latent-ode")
    methods = ("none", "steer", "rnode", "error", "stiffness", "local-error", "local-stiffness")
    p = sub.add_parser(
        "nde", help="train regularized neural ODEs/SDEs; table of accuracy, time and NFE"
    )
    p.add_argument("task", choices=tasks)
    p.add_argument(
        "--reg",
        nargs="+",
        default=["none"],
        choices=methods,
        help="one or more regularizers (each trained from the same seed)",
    )
    p.add_argument("--quick", action="store_true", help="small training budget")
    p.add_argument("--iters", type=int, default=None, help="override the training iterations")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--weight-scale", type=float, default=1.0, help="multiply the task's regularization weights"
    )
    p.add_argument("--json", default=None, help="also write the rows as JSON here")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch default)")
    p.set_defaults(func=_nde)


def _bench(args: argparse.Namespace) -> int:
    import subprocess
    from pathlib import Path

    import sciml

    candidates = [
        Path.cwd() / "benchmarks",
        Path(sciml.__file__).resolve().parents[1] / "benchmarks",
    ]
    folder = next((c for c in candidates if (c / "run_all.py").is_file()), None)
    if folder is None:
        raise FileNotFoundError(
            "benchmarks: no benchmarks/run_all.py here or beside the installed package; run "
            "`sciml bench` from a source checkout of sciml"
        )
    cmd = [sys.executable, str(folder / "run_all.py"), "--out", args.out]
    if args.quick:
        cmd.append("--quick")
    if args.names:
        cmd += ["--only", *args.names]
    return subprocess.call(cmd)


def _add_bench(sub) -> None:
    p = sub.add_parser("bench", help="run the side-by-side benchmarks (from a source checkout)")
    p.add_argument("names", nargs="*", help="benchmark scripts (default: all), e.g. physics_speed")
    p.add_argument("--quick", action="store_true", help="small CPU-sized runs")
    p.add_argument("--out", default="bench_out", help="folder for JSON and markdown results")
    p.set_defaults(func=_bench)


def build_parser() -> argparse.ArgumentParser:
    import sciml

    parser = argparse.ArgumentParser(
        prog="sciml", description="Scientific ML: PDE engines, neural operators, learned solvers."
    )
    parser.add_argument("--version", action="version", version=f"sciml {sciml.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_info(sub)
    _add_quickstart(sub)
    _add_data(sub)
    _add_train(sub)
    _add_eval(sub)
    _add_solve(sub)
    _add_nde(sub)
    _add_bench(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, PermissionError, KeyError, TypeError) as exc:
        print(f"sciml {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
