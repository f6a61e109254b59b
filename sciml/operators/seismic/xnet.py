"""Invertible X-Net (Gupta et al., "A Unified Framework for Forward and Inverse Problems in
Subsurface Imaging using Latent Space Translations", ICLR 2025): one invertible U-Net maps
the velocity latent space to the seismic one; its exact inverse maps back.

    forward  (velocity -> seismic):  p = D_p( f( E_v(v) ) )
    inverse  (seismic -> velocity):  v = D_v( f^-1( E_p(p) ) )

``E_v, D_v`` are :mod:`~sciml.operators.seismic.velocity_codec`, ``E_p, D_p``
:mod:`~sciml.operators.seismic.seismic_codec` and ``f`` an :class:`~sciml.operators.seismic.iunet.InvertibleUNet`
on ``[B, C, h, w]`` latents. Both directions share ``f``'s weights, so one model is trained
on both tasks at once (and with cycle-consistency terms ``v -> p -> v``, ``p -> v -> p``).
Inputs and outputs are normalised fields (velocity in ``[-1, 1]``, seismic z-scores).

>>> import torch
>>> net = InvertibleXNet(latent_channels=8, latent_size=16, levels=2, blocks=1)
>>> tuple(net(torch.randn(2, 1, 70, 70)).shape)
(2, 5, 1000, 70)
>>> tuple(net(torch.randn(2, 5, 1000, 70), direction="inverse").shape)
(2, 1, 70, 70)
"""

from __future__ import annotations

import torch
from torch import nn

from sciml.operators.seismic.directions import DIRECTIONS, check_direction
from sciml.operators.seismic.iunet import InvertibleUNet
from sciml.operators.seismic.seismic_codec import SeismicDecoder, SeismicEncoder
from sciml.operators.seismic.velocity_codec import VelocityDecoder, VelocityEncoder

__all__ = ["InvertibleXNet"]


class InvertibleXNet(nn.Module):
    """Velocity ``[B, 1, nz, nx]`` <-> seismic ``[B, shots, nt, receivers]`` through one
    invertible U-Net in latent space.

    Args:
        shots, nt, receivers: seismic data shape; size: velocity map size (square ``nz = nx``
            or a pair).
        latent_channels: ``C`` of both latent grids (even).
        latent_size: side of the square latent grid (divisible by ``2**(levels - 1)``).
        levels, blocks: of the :class:`~sciml.operators.seismic.iunet.InvertibleUNet`.
        widths: channels of the codecs' first four blocks.
    """

    directions = DIRECTIONS

    def __init__(
        self,
        *,
        shots: int = 5,
        nt: int = 1000,
        receivers: int = 70,
        size: int | tuple[int, int] = 70,
        latent_channels: int = 128,
        latent_size: int = 64,
        levels: int = 4,
        blocks: int = 4,
        widths: tuple[int, ...] = (8, 16, 32, 64),
    ) -> None:
        super().__init__()
        m = 2 ** (levels - 1)
        if not isinstance(latent_size, int) or latent_size < m or latent_size % m:
            raise ValueError(
                f"latent_size must be a positive multiple of 2**(levels-1) = {m}, "
                f"got {latent_size!r}"
            )
        lat = (latent_size, latent_size)
        kw = dict(latent_channels=latent_channels, latent_size=lat, widths=tuple(widths))
        self.vel_encoder = VelocityEncoder(size, **kw)
        self.vel_decoder = VelocityDecoder(size, **kw)
        self.seis_encoder = SeismicEncoder(shots, nt, receivers, **kw)
        self.seis_decoder = SeismicDecoder(shots, nt, receivers, **kw)
        self.translator = InvertibleUNet(latent_channels, levels=levels, blocks=blocks)

    def forward(self, x: torch.Tensor, direction: str | None = None) -> torch.Tensor:
        """``direction="forward"``: velocity ``[B, 1, nz, nx]`` -> seismic
        ``[B, shots, nt, receivers]``; ``"inverse"``: seismic -> velocity."""
        if check_direction(direction, self.directions) == "forward":
            return self.seis_decoder(self.translator(self.vel_encoder(x)))
        return self.vel_decoder(self.translator.inverse(self.seis_encoder(x)))
