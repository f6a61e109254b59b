"""Latent U-Net (Gupta et al., ICLR 2025): one U-Net translator per direction between the
velocity and seismic latent spaces.

    forward  (velocity -> seismic):  p = D_p( U_f( E_v(v) ) )
    inverse  (seismic -> velocity):  v = D_v( U_i( E_p(p) ) )

The two directions share no weights (GFI trains them separately; training them in one run
with a summed loss is the same optimisation problem). The translators are sciml's
:class:`~sciml.operators.grid.unet.UNet` on the ``[B, C, h, w]`` latent grids (GFI's has two
levels at widths ``C, 2C, 4C``); the codecs are :mod:`~sciml.operators.seismic.velocity_codec` and
:mod:`~sciml.operators.seismic.seismic_codec`. Fields are normalised (velocity in ``[-1, 1]``,
seismic z-scores).

>>> import torch
>>> net = LatentUNet(latent_channels=8, width=8, directions=("inverse",))
>>> tuple(net(torch.randn(2, 5, 1000, 70)).shape)
(2, 1, 70, 70)
"""

from __future__ import annotations

import torch
from torch import nn

from sciml.operators.grid.unet import UNet
from sciml.operators.seismic.directions import DIRECTIONS, check_direction
from sciml.operators.seismic.seismic_codec import SeismicDecoder, SeismicEncoder
from sciml.operators.seismic.velocity_codec import VelocityDecoder, VelocityEncoder

__all__ = ["LatentUNet"]


class LatentUNet(nn.Module):
    """Velocity ``[B, 1, nz, nx]`` <-> seismic ``[B, shots, nt, receivers]`` by two U-Nets in
    latent space (or one, with ``directions=("inverse",)`` or ``("forward",)``).

    Args:
        shots, nt, receivers: seismic data shape; size: velocity map size.
        latent_channels: ``C`` of the latent grids; latent_size: their side (default 70).
        width: U-Net channels at the finest level (GFI: ``2 C``); levels: U-Net depth (GFI: 2).
        norm: the U-Net's normalisation (``"batch"``, ``"instance"``, ``"none"``).
        directions: which translators to build (the first is the default direction).
        widths: channels of the codecs' first four blocks.
    """

    def __init__(
        self,
        *,
        shots: int = 5,
        nt: int = 1000,
        receivers: int = 70,
        size: int | tuple[int, int] = 70,
        latent_channels: int = 128,
        latent_size: int = 70,
        width: int = 256,
        levels: int = 2,
        norm: str = "batch",
        directions: tuple[str, ...] = DIRECTIONS,
        widths: tuple[int, ...] = (8, 16, 32, 64),
    ) -> None:
        super().__init__()
        directions = tuple(directions)
        if not directions or len(set(directions)) != len(directions):
            raise ValueError(f"directions must name distinct directions, got {directions!r}")
        for d in directions:
            check_direction(d, DIRECTIONS)
        self.directions = directions
        lat = (latent_size, latent_size)
        kw = dict(latent_channels=latent_channels, latent_size=lat, widths=tuple(widths))
        unet = dict(width=width, levels=levels, norm=norm)
        if "forward" in directions:
            self.vel_encoder = VelocityEncoder(size, **kw)
            self.forward_translator = UNet(latent_channels, latent_channels, **unet)
            self.seis_decoder = SeismicDecoder(shots, nt, receivers, **kw)
        if "inverse" in directions:
            self.seis_encoder = SeismicEncoder(shots, nt, receivers, **kw)
            self.inverse_translator = UNet(latent_channels, latent_channels, **unet)
            self.vel_decoder = VelocityDecoder(size, **kw)

    def forward(self, x: torch.Tensor, direction: str | None = None) -> torch.Tensor:
        """``direction="forward"``: velocity ``[B, 1, nz, nx]`` -> seismic
        ``[B, shots, nt, receivers]``; ``"inverse"``: seismic -> velocity."""
        if check_direction(direction, self.directions) == "forward":
            return self.seis_decoder(self.forward_translator(self.vel_encoder(x)))
        return self.vel_decoder(self.inverse_translator(self.seis_encoder(x)))
