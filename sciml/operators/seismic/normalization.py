"""The published normalisations of seismic imaging (OpenFWI, GFI) and the metrics on them.

* velocity: min-max from ``[v_min, v_max]`` (OpenFWI: ``[1500, 4500]`` m/s) to ``[-1, 1]``;
* seismic data: z-score with one mean and standard deviation per data set.

The metrics of the GFI paper are computed on these scales: MAE and RMSE over all pixels and
SSIM on ``x / 2 + 0.5`` (11 x 11 Gaussian window, :func:`sciml.train.ssim.ssim`), so a velocity
MAE of 0.01 is 15 m/s.

>>> import torch
>>> norm = SeismicNormalization(seismic_mean=0.0, seismic_std=1.5)
>>> norm.velocity(torch.tensor([1500.0, 3000.0, 4500.0])).tolist()
[-1.0, 0.0, 1.0]
>>> float(norm.velocity_from(torch.tensor(0.01)) - norm.velocity_from(torch.tensor(0.0)))
15.0
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from sciml.train.ssim import ssim

__all__ = ["SeismicNormalization", "imaging_metrics"]


@dataclass
class SeismicNormalization:
    """Velocity min-max to ``[-1, 1]`` and seismic z-score (see the module docstring)."""

    v_min: float = 1500.0
    v_max: float = 4500.0
    seismic_mean: float = 0.0
    seismic_std: float = 1.0

    def __post_init__(self) -> None:
        if not self.v_max > self.v_min:
            raise ValueError(f"v_max must exceed v_min, got {self.v_min}, {self.v_max}")
        if not self.seismic_std > 0:
            raise ValueError(f"seismic_std must be > 0, got {self.seismic_std}")

    @classmethod
    def fit(cls, seismic: torch.Tensor, *, v_min: float = 1500.0, v_max: float = 4500.0):
        """Mean and standard deviation of training data ``seismic: [N, S, nt, R]``."""
        s = seismic.double()
        return cls(v_min, v_max, float(s.mean()), float(s.std()))

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> SeismicNormalization:
        missing = {"v_min", "v_max", "seismic_mean", "seismic_std"} - set(d)
        if missing:
            raise ValueError(f"normalization misses {sorted(missing)}")
        return cls(*(float(d[k]) for k in ("v_min", "v_max", "seismic_mean", "seismic_std")))

    def velocity(self, v: torch.Tensor) -> torch.Tensor:
        """m/s -> ``[-1, 1]``."""
        return 2 * (v - self.v_min) / (self.v_max - self.v_min) - 1

    def velocity_from(self, u: torch.Tensor) -> torch.Tensor:
        """``[-1, 1]`` -> m/s."""
        return self.v_min + (u + 1) * (self.v_max - self.v_min) / 2

    def seismic(self, p: torch.Tensor) -> torch.Tensor:
        """data units -> z-score."""
        return (p - self.seismic_mean) / self.seismic_std

    def seismic_from(self, q: torch.Tensor) -> torch.Tensor:
        """z-score -> data units."""
        return q * self.seismic_std + self.seismic_mean


def imaging_metrics(pred: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """MAE, RMSE and SSIM of normalised fields ``[B, C, H, W]`` (GFI's protocol: SSIM on
    ``x / 2 + 0.5`` with data range 1)."""
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have one shape, got {list(pred.shape)}, "
                         f"{list(target.shape)}")  # fmt: skip
    err = (pred - target).double()
    return {
        "mae": float(err.abs().mean()),
        "rmse": float(err.square().mean().sqrt()),
        "ssim": float(ssim(pred.double() / 2 + 0.5, target.double() / 2 + 0.5)),
    }
