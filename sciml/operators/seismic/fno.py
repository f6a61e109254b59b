"""FNO as a forward seismic model (the GFI paper's forward baseline): velocity -> shot gathers.

The Fourier Neural Operator (neuraloperator's, through :class:`sciml.operators.grid.fno.FNO`) maps
fields on one grid, while the forward problem maps a ``nz x nx`` velocity map to
``shots x nt x receivers`` data. :class:`SeismicFNO` resamples the map (bilinear) onto a
``time_size x receivers`` grid (depth becomes time, receivers are the map's columns), runs the
FNO with one output channel per shot, and resamples the time axis to ``nt``. The data are
band-limited (a 15 Hz Ricker wavelet: no energy above ~50 Hz), so a ``time_size`` of 250 (4 ms)
loses nothing the linear resampling cannot restore.

>>> import torch
>>> net = SeismicFNO(width=8, modes=(8, 8), layers=2)
>>> tuple(net(torch.randn(2, 1, 70, 70)).shape)
(2, 5, 1000, 70)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sciml.operators.grid.fno import FNO
from sciml.operators.seismic.directions import check_direction

__all__ = ["SeismicFNO"]


class SeismicFNO(nn.Module):
    """Velocity ``[B, 1, nz, nx]`` -> seismic ``[B, shots, nt, receivers]`` by an FNO.

    Args:
        shots, nt, receivers: seismic data shape.
        time_size: time samples of the FNO's working grid (resampled to ``nt`` at the end).
        width, modes, layers: the FNO's hidden channels, Fourier modes (time, receiver), layers.
    """

    directions = ("forward",)

    def __init__(
        self,
        *,
        shots: int = 5,
        nt: int = 1000,
        receivers: int = 70,
        time_size: int = 250,
        width: int = 32,
        modes: int | tuple[int, int] = (48, 16),
        layers: int = 4,
    ) -> None:
        super().__init__()
        for name, v in (("shots", shots), ("nt", nt), ("receivers", receivers),
                        ("time_size", time_size)):  # fmt: skip
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        self.shots, self.nt, self.receivers, self.time_size = shots, nt, receivers, time_size
        modes = tuple(modes) if isinstance(modes, (tuple, list)) else modes
        self.fno = FNO(1, shots, width=width, modes=modes, layers=layers, padding=0.1)

    def forward(self, v: torch.Tensor, direction: str | None = None) -> torch.Tensor:
        """``v: [B, 1, nz, nx] -> [B, shots, nt, receivers]`` (normalised fields)."""
        check_direction(direction, self.directions)
        if v.ndim != 4 or v.shape[1] != 1:
            raise ValueError(f"velocity must be [B, 1, nz, nx], got {list(v.shape)}")
        grid = (self.time_size, self.receivers)
        h = self.fno(F.interpolate(v, size=grid, mode="bilinear", align_corners=False))
        return F.interpolate(h, size=(self.nt, self.receivers), mode="bilinear",
                             align_corners=False)  # fmt: skip
