"""``sciml data``: generate, inspect, plot, list and import PDE data sets (HDF5)."""

from __future__ import annotations

import argparse

from sciml.commands._types import nonnegative_int, positive_int


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
    from sciml.datasets.generate import mpi_rank

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
    if mpi_rank() == 0:  # under mpirun every rank returns the same path: one line
        print(f"wrote {path}")
    return 0


def _data_export_obs(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from sciml.inverse.observations import observations_from_dataset, save_observations
    from sciml.io import check_out_path

    out = check_out_path(args.out, overwrite=args.overwrite)
    truth_path = None
    if args.truth:
        truth_path = check_out_path(args.truth, overwrite=args.overwrite, what="--truth")
        if truth_path.suffix != ".npz":
            raise ValueError(f"--truth {args.truth!r}: expected a .npz file name")
    obs, truth, counts = observations_from_dataset(args.file, args.index, args.count)
    save_observations(obs, out, overwrite=args.overwrite)
    print(f"wrote {out}: {obs.values.shape[0]} observations of sample {args.index} "
          f"(sets in the file: {counts})")  # fmt: skip
    if truth_path is not None:
        tmp = Path(truth_path).with_name(f".{Path(truth_path).stem}.tmp.npz")
        np.savez(tmp, a=truth)
        tmp.replace(truth_path)
        print(f"wrote {truth_path} (the true coefficient 'a', for sciml invert darcy --truth)")
    return 0


def _data_info(args: argparse.Namespace) -> int:
    import json

    from sciml.datasets import read_meta

    meta = read_meta(args.file)  # schema-checked: a wrong file is an error, not None fields
    arrays = meta.pop("arrays")

    def row(label: str, value: object, as_json: bool = False) -> None:
        if value is not None:  # fields a file does not have are left out
            print(f"  {label:<15} {json.dumps(value) if as_json else value}")

    print(f"{args.file}")
    for key in ("recipe", "recipe_version", "n", "samples_done", "complete", "base_seed"):
        row(key, meta.get(key))
    row("grid", meta.get("grid"), as_json=True)
    row("params", meta.get("params"), as_json=True)
    row("inputs", meta.get("input_names"))
    row("outputs", meta.get("output_names"))
    for name, a in arrays.items():
        print(f"  /{name:<14} {a['dtype']:<8} {a['shape']}")
    row("versions", meta.get("versions"), as_json=True)
    row("created", meta.get("created"))
    return 0


def _data_show(args: argparse.Namespace) -> int:
    from sciml.workflows.data_figures import show_sample

    print(f"wrote {show_sample(args.file, args.index, args.out, overwrite=args.overwrite)}")
    return 0


def _data_list(args: argparse.Namespace) -> int:
    from sciml.datasets import get_recipe, recipe_names

    names = recipe_names()
    width = max(map(len, names), default=0)
    for name in names:
        rec = get_recipe(name)
        print(f"{name:<{width}}  v{rec.version}  {rec.description}")
    return 0


def _data_import(args: argparse.Namespace) -> int:
    from sciml.datasets import import_file

    out = import_file(args.file, args.out, fmt=args.format, overwrite=args.overwrite)
    print(f"wrote {out}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sciml data`` and its subcommands (generate, info, show, list, import,
    export-obs) on ``sub``."""
    p = sub.add_parser("data", help="generate, inspect and plot PDE data sets (HDF5)")
    dsub = p.add_subparsers(dest="data_command", metavar="DATA_COMMAND", required=True)
    g = dsub.add_parser("generate", help="run a recipe: resumable, atomic, parallel (workers/MPI)")
    g.add_argument("recipe", help="recipe name (see `sciml data list`)")
    g.add_argument("--n", type=positive_int, required=True, help="number of samples")
    g.add_argument("--out", required=True, help="output HDF5 file")
    g.add_argument("--resolution", type=positive_int, help="output grid points per axis")
    g.add_argument("--param", action="append", metavar="KEY=VALUE", help="recipe parameter")
    g.add_argument(
        "--seed", type=nonnegative_int, default=0, help="base seed (sample i: seed of (base, i))"
    )
    g.add_argument(
        "--workers", type=positive_int, default=1, help="worker processes (or use mpirun)"
    )
    g.add_argument("--resume", action="store_true", help="continue an interrupted run")
    g.add_argument("--overwrite", action="store_true", help="replace an existing file")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.set_defaults(func=_data_generate)
    i = dsub.add_parser("info", help="schema, sizes and metadata of a data file")
    i.add_argument("file", help="HDF5 data file (sciml data generate / import)")
    i.set_defaults(func=_data_info)
    s = dsub.add_parser("show", help="plot one sample (inputs and outputs) as a picture")
    s.add_argument("file", help="HDF5 data file (sciml data generate / import)")
    s.add_argument(
        "--index", type=nonnegative_int, default=0, help="sample to plot (0-based; default 0)"
    )
    s.add_argument(
        "--out",
        default="sample.png",
        help="picture to write; the extension picks the format: .png .pdf .svg .jpg "
        "(default sample.png)",
    )
    s.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    s.set_defaults(func=_data_show)
    ls = dsub.add_parser("list", help="the available recipes")
    ls.set_defaults(func=_data_list)
    im = dsub.add_parser("import", help="convert a neuraloperator .pt or PDEBench HDF5 file")
    im.add_argument("file", help="the file to convert (read without running code)")
    im.add_argument(
        "--format",
        required=True,
        choices=["neuralop-pt", "pdebench"],
        help="neuralop-pt: neuraloperator {'x', 'y'} .pt file; pdebench: PDEBench HDF5 file",
    )
    im.add_argument("--out", required=True, help="sciml HDF5 data file to write")
    im.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    im.set_defaults(func=_data_import)
    ex = dsub.add_parser(
        "export-obs",
        help="an observation file (for sciml invert darcy) from a sample of an -inverse data set",
    )
    ex.add_argument(
        "file", help="HDF5 data file of an -inverse recipe (e.g. darcy-two-phase-inverse)"
    )
    ex.add_argument("--index", type=nonnegative_int, default=0, help="sample (0-based)")
    ex.add_argument(
        "--count",
        type=positive_int,
        help="which stored set (e.g. 100 or 25 points; default the largest)",
    )
    ex.add_argument("--out", required=True, help="observation file to write (.json or .npz)")
    ex.add_argument("--truth", help="also write the true coefficient as .npz (for --truth)")
    ex.add_argument("--overwrite", action="store_true", help="replace existing --out/--truth")
    ex.set_defaults(func=_data_export_obs)
