"""The Fourier Neural Operator from ``neuraloperator`` (the library's model, not a rewrite).

:class:`FNO` is a thin ``nn.Module`` around :class:`neuralop.models.FNO` that fixes the calling
convention of sciml's operators (``[B, C, *S] -> [B, C_out, *S]``, clear shape errors) and
exposes the knobs people tune (width, modes, layers). The unit-box positional embedding of
neuraloperator (``positional_embedding="grid"``) is kept, so the model sees coordinates just as
LSM and the U-Net do.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from sciml.operators.grid.unet import check_input

__all__ = ["FNO"]


class FNO(nn.Module):
    """neuraloperator's FNO, ``[B, in_channels, *S] -> [B, out_channels, *S]``.

    Args:
        in_channels, out_channels: channels of input and output fields.
        width: hidden channels (neuraloperator's ``hidden_channels``).
        modes: Fourier modes kept per axis (an int for all axes, or one per axis).
        ndim: number of spatial axes (1, 2 or 3).
        layers: number of Fourier layers.
        padding: domain padding fraction (neuraloperator's ``domain_padding``; useful for
            non-periodic problems such as Darcy), ``None`` for none.
        **kwargs: passed on to :class:`neuralop.models.FNO`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        width: int = 32,
        modes: int | tuple[int, ...] = 12,
        ndim: int = 2,
        layers: int = 4,
        padding: float | None = None,
        **kwargs,
    ) -> None:
        super().__init__()
        # heavy optional dependency (neuraloperator): loaded when first used
        from neuralop.models import FNO as _FNO

        if ndim not in (1, 2, 3):
            raise ValueError(f"ndim must be 1, 2 or 3, got {ndim!r}")
        n_modes = (modes,) * ndim if isinstance(modes, int) else tuple(modes)
        if len(n_modes) != ndim or any(int(m) < 1 for m in n_modes):
            raise ValueError(f"modes must be a positive int or {ndim} positive ints, got {modes!r}")
        for name, v in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("width", width),
        ):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        self.in_channels, self.out_channels, self.ndim = in_channels, out_channels, ndim
        self.net = _FNO(
            n_modes=n_modes,
            in_channels=in_channels,
            out_channels=out_channels,
            hidden_channels=width,
            n_layers=layers,
            domain_padding=padding,
            **kwargs,
        )

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        # neuralop's BaseModel adds a top-level "_metadata" entry (its init kwargs) to whatever
        # state dict it is part of; that entry is not a tensor and breaks nested loading
        sd = super().state_dict(*args, **kwargs)
        if isinstance(sd, dict) and "_metadata" in sd:
            sd.pop("_metadata")
        return sd

    def _apply(self, fn, *args, **kwargs):
        # neuraloperator's grid embedding caches its coordinate grid (a plain attribute, not a
        # buffer) on the device of the first call; drop it when the module moves or casts
        for module in self.modules():
            if hasattr(module, "_grid") and hasattr(module, "_res"):
                module._grid, module._res = None, None
        return super()._apply(fn, *args, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x: [B, in_channels, *S] -> [B, out_channels, *S]``."""
        check_input(x, self.in_channels, self.ndim)
        if torch.is_autocast_enabled(x.device.type):
            # FFTs have no bf16 kernels: run the spectral network in float32 under autocast
            with torch.autocast(x.device.type, enabled=False):
                return self.net(x.float())
        return self.net(x)
