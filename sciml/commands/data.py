"""``sciml data``: generate, inspect, plot, list and import PDE data sets (HDF5)."""

from __future__ import annotations

import argparse


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
    from sciml.datasets import get_recipe, recipe_names

    for name in recipe_names():
        rec = get_recipe(name)
        print(f"{name:<20} v{rec.version}  {rec.description}")
    return 0


def _data_import(args: argparse.Namespace) -> int:
    from sciml.datasets import import_file

    print(f"wrote {import_file(args.file, args.out, fmt=args.format)}")
    return 0


def add_parser(sub) -> None:
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
