"""``sciml invert darcy RUN_DIR --obs FILE --out DIR``: recover a Darcy coefficient with a DGNO.

Reads a trained DGNO run (``RUN_DIR/model.pt``, written by the Trainer with ``DGNOTask``) and
an observation file (``.json`` / ``.npz``: points, values, ``noise_std`` or ``snr_db``; see
:mod:`sciml.inverse.observations`), samples the latent posterior
(:func:`sciml.inverse.latent_inversion.invert_dgno`) and writes into ``DIR``:

* ``posterior.npz`` -- ``a_mean``, ``a_std``, ``a_lower``/``a_upper`` (95% band), ``u_mean``,
  ``u_std``, ``p_high`` (two-phase), latent samples, the observations;
* ``summary.json`` -- settings, diagnostics, and with ``--truth`` the relative error and the
  95%-band coverage;
* ``coefficient.png`` -- truth (if given) / posterior mean / spread / observation points;
  ``solution.png`` -- the recovered ``u`` and its spread with the observations.

``--truth FILE.npz`` holds the true coefficient as an array ``a`` of the model's grid shape.
"""

from __future__ import annotations

import argparse

from sciml.commands._types import describe, nonnegative_float, nonnegative_int, positive_int


def _truth(path: str, shape: tuple[int, ...]):
    from pathlib import Path

    import numpy as np

    from sciml.io import FileFormatError

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"truth file {path!r} does not exist")
    try:
        with np.load(p, allow_pickle=False) as z:
            if "a" not in z.files:
                raise FileFormatError(f"truth file {path!r}: missing array 'a'")
            a = np.asarray(z["a"], dtype=np.float64)
    except (ValueError, OSError) as exc:
        if isinstance(exc, FileFormatError):
            raise
        raise FileFormatError(f"truth file {path!r} is not a readable .npz ({exc})") from None
    if a.shape != shape:
        raise FileFormatError(f"truth file {path!r}: array 'a' must have shape {list(shape)}")
    return a


def _plots(post, obs, truth, out) -> None:
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    extent = [post.grid.bounds[0][0], post.grid.bounds[0][1], post.grid.bounds[1][0],
              post.grid.bounds[1][1]]  # fmt: skip
    panels = [
        ("posterior mean of a", post.a_mean, "viridis"),
        ("pointwise std of a", post.a_std, "magma"),
    ]
    if truth is not None:
        panels.insert(0, ("true a", truth, "viridis"))
    fig, axes = plt.subplots(1, len(panels) + 1, figsize=(4 * (len(panels) + 1), 3.6))
    both = [post.a_mean] + ([truth] if truth is not None else [])
    vmin, vmax = min(float(f.min()) for f in both), max(float(f.max()) for f in both)
    for ax, (title, field, cmap) in zip(axes, panels):
        kw = {"vmin": vmin, "vmax": vmax} if "std" not in title else {}
        im = ax.imshow(np.asarray(field).T, origin="lower", extent=extent, cmap=cmap, **kw)
        ax.set_title(title)
        fig.colorbar(im, ax=ax, shrink=0.8)
    ax = axes[-1]
    pts, vals = obs.points.numpy(), obs.values.numpy()
    sc = ax.scatter(pts[:, 0], pts[:, 1], c=vals, s=14, cmap="coolwarm")
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_aspect("equal")
    ax.set_title(f"{obs.count} observations of u")
    fig.colorbar(sc, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(out / "coefficient.png", dpi=110)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
    for ax, (title, field) in zip(
        axes, (("posterior mean of u", post.u_mean), ("std of u", post.u_std))
    ):
        im = ax.imshow(np.asarray(field).T, origin="lower", extent=extent)
        ax.scatter(pts[:, 0], pts[:, 1], s=6, c="w", edgecolors="k", linewidths=0.3)
        ax.set_title(title)
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(out / "solution.png", dpi=110)
    plt.close(fig)


def _invert(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import torch

    from sciml.inverse.latent_inversion import invert_dgno, load_dgno_run, save_posterior
    from sciml.inverse.observations import load_observations
    from sciml.io import check_out_dir

    out = Path(args.out)
    check_out_dir(out, what="--out")  # a file, or a folder nobody can write: before any work
    targets = [out / n for n in ("posterior.npz", "summary.json", "coefficient.png")]
    if any(t.exists() for t in targets) and not args.overwrite:
        raise FileExistsError(f"--out {str(out)!r} already holds results; pass --overwrite")
    obs = load_observations(args.obs)
    model, loss, std = load_dgno_run(args.run, device=args.device or "cpu")
    truth = _truth(args.truth, model.grid.shape) if args.truth else None
    torch.set_num_threads(max(1, args.threads))
    post = invert_dgno(
        model, obs, loss,
        physics_std=std, physics_weight=args.physics_weight, method=args.method,
        chains=args.chains, map_steps=args.map_steps, sample_steps=args.sample_steps,
        seed=args.seed,
    )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    save_posterior(post, out / "posterior.npz", obs=obs)
    summary = {
        "run": str(args.run),
        "observations": str(args.obs),
        "count": obs.count,
        "method": args.method,
        "physics_weight": args.physics_weight,
        **{k: v for k, v in post.info.items()},
    }
    if truth is not None:
        summary["relative_l2"] = post.relative_error(torch.as_tensor(truth))
        summary["coverage_95"] = post.coverage(torch.as_tensor(truth))
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    _plots(post, obs, None if truth is None else torch.as_tensor(truth).float(), out)
    print(f"{obs.count} observations, {post.info['samples']} posterior samples "
          f"({post.info['seconds']:.1f} s); mean |std(a)| = {float(post.a_std.mean()):.3g}")  # fmt: skip
    if truth is not None:
        print(f"relative L2 of the mean: {summary['relative_l2']:.4f}; truth inside the 95% band "
              f"at {100 * summary['coverage_95']:.1f}% of the grid points")  # fmt: skip
    print(f"wrote {out / 'posterior.npz'}, {out / 'summary.json'}, {out / 'coefficient.png'}, "
          f"{out / 'solution.png'}")  # fmt: skip
    return 0


def add_parser(invert_sub: argparse._SubParsersAction) -> None:
    """Register ``sciml invert darcy`` on the ``sciml invert`` subparsers ``invert_sub``."""
    p = invert_sub.add_parser(
        "darcy",
        help="recover the Darcy coefficient (and its uncertainty) from observations of u",
        description=describe(__doc__),
    )
    p.add_argument("run", help="DGNO run folder (model.pt written by the Trainer with DGNOTask)")
    p.add_argument("--obs", required=True, help="observation file (.json or .npz)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--truth", help=".npz with the true coefficient 'a' (scores and plots)")
    p.add_argument(
        "--method", choices=["langevin", "ensemble"], default="langevin",
        help="posterior sampler: Langevin (MALA) chains, or an ensemble of mode searches",
    )  # fmt: skip
    p.add_argument(
        "--chains", type=positive_int, default=8, help="starting points (independent chains)"
    )
    p.add_argument(
        "--map-steps", type=nonnegative_int, default=300, help="mode-search steps per chain"
    )
    p.add_argument(
        "--sample-steps", type=positive_int, default=200, help="Langevin steps per chain"
    )
    p.add_argument(
        "--physics-weight", type=nonnegative_float, default=1.0, help="weight of the residual"
    )
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the chains")
    p.add_argument(
        "--threads", type=nonnegative_int, default=1, help="torch CPU threads (0: torch default)"
    )
    p.add_argument("--device", help="cpu (default), cuda, ...")
    p.add_argument("--overwrite", action="store_true", help="replace results in --out")
    p.set_defaults(func=_invert)
