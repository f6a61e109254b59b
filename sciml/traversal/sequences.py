"""Transformation sequences of coloured digits (scikit-learn's bundled 8x8 digits, no download).

The likelihood experiment of Song et al. (2023) trains a VAE on coloured MNIST sequences in
which one of three transformations acts step by step: scale ``1.0 .. 1.8``, rotation
``0 .. 80`` degrees and hue (``+20`` degrees of colour per step), nine frames each. Here the
digits are scikit-learn's 1797 bundled 8x8 images (offline), drawn at half the frame size,
tinted with a seeded random base hue; a sequence is rendered on demand from
``(digit, transformation, base hue)`` with ``torch.nn.functional.grid_sample`` (bilinear), so a
data set is a few kilobytes of indices and any batch is made in milliseconds.

>>> data = digit_sequences("train", size=16, seed=0)
>>> len(data), data.num_transforms, tuple(data.render(torch.arange(2)).shape)
(4314, 3, (2, 9, 3, 16, 16))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

__all__ = ["TRANSFORMS", "DigitSequences", "digit_sequences", "hue_to_rgb", "digits_8x8"]

TRANSFORMS = ("scale", "rotation", "hue")
_STEP = {"scale": 0.1, "rotation": math.radians(10.0), "hue": 20.0}


def digits_8x8() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled digits: images ``[1797, 8, 8]`` in ``[0, 1]`` and labels ``[1797]``."""
    # heavy optional dependency (scikit-learn): loaded when first used
    from sklearn.datasets import load_digits

    d = load_digits()
    return torch.tensor(d.images, dtype=torch.float32) / 16.0, torch.tensor(d.target)


def hue_to_rgb(hue: torch.Tensor) -> torch.Tensor:
    """Fully saturated colours of hues in degrees: ``[N] -> [N, 3]`` (HSV with S = V = 1)."""
    h = (hue % 360.0) / 60.0
    k = (torch.tensor([5.0, 3.0, 1.0]) + h[:, None]) % 6.0
    return 1.0 - torch.clamp(torch.minimum(k, 4.0 - k), 0.0, 1.0)


@dataclass
class DigitSequences:
    """Sequences ``x_0 .. x_{T-1}`` of one transformed coloured digit each.

    Attributes:
        digits: ``[M, 8, 8]`` the source digit images.
        digit: ``LongTensor [N]`` which digit each sequence shows.
        transform: ``LongTensor [N]`` which transformation acts (index into :data:`TRANSFORMS`).
        hue: ``[N]`` base hue in degrees.
        labels: ``LongTensor [N]`` the digit class.
        size: frame side in pixels; steps: frames per sequence ``T``.
    """

    digits: torch.Tensor
    digit: torch.Tensor
    transform: torch.Tensor
    hue: torch.Tensor
    labels: torch.Tensor
    size: int = 16
    steps: int = 9

    num_transforms = len(TRANSFORMS)

    def __len__(self) -> int:
        return self.digit.shape[0]

    def render(self, idx: torch.Tensor, frames: torch.Tensor | None = None) -> torch.Tensor:
        """Frames of sequences ``idx: LongTensor [B]`` -> ``[B, T, 3, size, size]`` in ``[0, 1]``.

        ``frames``: optional ``LongTensor [F]`` of the frame numbers to render (default all).
        """
        idx = torch.as_tensor(idx, dtype=torch.long).cpu()
        frames = torch.arange(self.steps) if frames is None else torch.as_tensor(frames).cpu()
        b, f = idx.shape[0], frames.shape[0]
        j = frames.float()[None].expand(b, f)  # [B, F] step number
        k = self.transform[idx][:, None].expand(b, f)
        scale = torch.where(k == 0, 1.0 + _STEP["scale"] * j, torch.ones_like(j))
        angle = torch.where(k == 1, _STEP["rotation"] * j, torch.zeros_like(j))
        hue = self.hue[idx][:, None] + torch.where(k == 2, _STEP["hue"] * j, torch.zeros_like(j))
        # the digit fills half the frame at scale 1: zoom = 2 / scale in the sampling grid
        zoom = 2.0 / scale.reshape(-1)
        c, s = torch.cos(angle.reshape(-1)), torch.sin(angle.reshape(-1))
        theta = torch.stack(
            [
                torch.stack([c * zoom, -s * zoom, 0 * c], -1),
                torch.stack([s * zoom, c * zoom, 0 * c], -1),
            ],
            1,
        )  # [B*F, 2, 3]: output coords -> source coords
        src = self.digits[self.digit[idx]][:, None].repeat_interleave(f, 0)  # [B*F, 1, 8, 8]
        grid = F.affine_grid(theta, [b * f, 1, self.size, self.size], align_corners=False)
        gray = F.grid_sample(src, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        rgb = gray * hue_to_rgb(hue.reshape(-1))[:, :, None, None]  # [B*F, 3, H, W]
        return rgb.reshape(b, f, 3, self.size, self.size).clamp(0.0, 1.0)


def digit_sequences(
    split: str = "train",
    *,
    size: int = 16,
    steps: int = 9,
    seed: int = 0,
    test_fraction: float = 0.2,
) -> DigitSequences:
    """One sequence per (digit, transformation) of a seeded split of the 1797 digits.

    Args:
        split: ``"train"`` or ``"test"`` (disjoint digit images: ``test_fraction`` of them,
            drawn with a fixed seed independent of ``seed``).
        size: frame side in pixels (the digit occupies ``size / 2`` at scale 1; scale 1.8 and
            rotations up to 80 degrees stay inside the frame).
        steps: frames per sequence (9 in the paper).
        seed: seed of the base hues.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an int >= 8, got {size!r}")
    if not isinstance(steps, int) or not 2 <= steps <= 9:
        raise ValueError(f"steps must be an int in [2, 9], got {steps!r}")
    images, labels = digits_8x8()
    perm = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(20230601))
    n_test = int(round(test_fraction * images.shape[0]))
    ids = perm[:n_test] if split == "test" else perm[n_test:]
    ids = ids.sort().values
    nt = len(TRANSFORMS)
    digit = ids.repeat_interleave(nt)
    transform = torch.arange(nt).repeat(ids.shape[0])
    g = torch.Generator().manual_seed(seed + (0 if split == "train" else 1_000_003))
    hue = torch.rand(digit.shape[0], generator=g) * 360.0
    return DigitSequences(images, digit, transform, hue, labels[digit], size=size, steps=steps)
