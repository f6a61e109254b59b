"""Image strips and animations of a trained latent-traversal run (what ``sciml traverse``
writes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from sciml.io import check_memory, check_out_dir
from sciml.traversal.model import load_traversal_model
from sciml.traversal.strips import strip_grid, traversal_frames

__all__ = ["write_traversal_media"]


def write_traversal_media(
    run_dir,
    out,
    *,
    steps: int | None = None,
    starts: int = 4,
    seed: int = 0,
    scale: int = 4,
    overwrite: bool = False,
) -> list:
    """Write ``strip_<i>.png`` (one row per traversal, one file per start) and
    ``flow_<k>.gif`` (every start side by side, the traversal run back and forth) to ``out``.

    ``run_dir`` holds ``model.pt`` written by
    :class:`~sciml.traversal.traversal_task.TraversalTask`; starting codes are seeded draws
    from the prior ``N(0, I)``; ``steps`` defaults to the steps the model was trained with.
    Returns the written paths.
    """
    run_dir, out = Path(run_dir), Path(out)
    if not run_dir.exists():
        raise FileNotFoundError(f"run folder {str(run_dir)!r} does not exist")
    model_file = run_dir if run_dir.is_file() else run_dir / "model.pt"  # a zoo model file too
    for name, value in (("--starts", starts), ("--scale", scale), ("--steps", steps)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    check_out_dir(out, what="--out")  # a file, or a folder nobody can write: before any work
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"--out {str(out)!r} is not empty; pass --overwrite to replace it")
    model, extra = load_traversal_model(model_file)
    steps = int(steps if steps is not None else extra.get("steps", 5))
    vae = model.vae
    pixels = vae.channels * (vae.size * scale) ** 2  # one magnified frame
    k, f = model.traversal.num_directions, 2 * steps + 1
    check_memory(  # every frame of every GIF, as RGBA images, twice (PIL's copies)
        8 * pixels * k * f * starts, f"--scale {scale} with --steps {steps}, --starts {starts}"
    )
    z0 = torch.randn(starts, model.vae.latent, generator=torch.Generator().manual_seed(seed))
    frames = traversal_frames(model, z0, steps)  # [K, N, F, C, H, W]

    def to_image(t: torch.Tensor) -> Image.Image:  # [C, H, W] in [0, 1]
        a = (t.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
        a = np.repeat(np.repeat(a, scale, 0), scale, 1)
        return Image.fromarray(a[..., 0] if a.shape[2] == 1 else a)

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(starts):
        path = out / f"strip_{i}.png"
        to_image(strip_grid(frames[:, i])).save(path)
        written.append(path)
    for k in range(frames.shape[0]):
        seq = [to_image(strip_grid(frames[k, :, f][None])) for f in range(frames.shape[2])]
        seq = seq + seq[-2:0:-1]  # forwards, then backwards: a loop
        path = out / f"flow_{k}.gif"
        seq[0].save(path, save_all=True, append_images=seq[1:], duration=120, loop=0)
        written.append(path)
    return written
