"""InversionNet (Wu and Lin, "InversionNet: An Efficient and Accurate Data-Driven Full Waveform
Inversion", IEEE TCI 2019), the OpenFWI inverse baseline; our implementation.

Seismic data ``[B, shots, nt, receivers]`` -> velocity ``[B, 1, nz, nx]`` (normalised to
``[-1, 1]``): a convolutional encoder (first along time only, then 3x3 stride-2 blocks) squeezes
the data into one latent vector (a convolution whose kernel covers the last feature map), and
a decoder of transposed convolutions grows it to 80 x 80, centre-cropped to the map, with a
tanh output. Blocks are convolution -> BatchNorm -> LeakyReLU(0.2). ``width=32`` is OpenFWI's
size (latent 512).

>>> import torch
>>> net = InversionNet(width=4)
>>> tuple(net(torch.randn(2, 5, 1000, 70)).shape)
(2, 1, 70, 70)
"""

from __future__ import annotations

import torch
from torch import nn

from sciml.operators.seismic.directions import check_direction

__all__ = ["InversionNet"]


def _block(conv: nn.Module, c_out: int) -> nn.Sequential:
    return nn.Sequential(conv, nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2))


def _out_size(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


class InversionNet(nn.Module):
    """Seismic ``[B, shots, nt, receivers]`` -> velocity ``[B, 1, *size]`` (see module doc).

    Args:
        shots, nt, receivers: seismic data shape.
        size: velocity map side (at most 80; the decoder's 80 x 80 output is centre-cropped).
        width: channels of the first block (the latent vector has ``16 * width``).
    """

    directions = ("inverse",)

    def __init__(
        self,
        *,
        shots: int = 5,
        nt: int = 1000,
        receivers: int = 70,
        size: int = 70,
        width: int = 32,
    ) -> None:
        super().__init__()
        for name, v in (("shots", shots), ("nt", nt), ("receivers", receivers), ("width", width)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if not isinstance(size, int) or not 1 <= size <= 80:
            raise ValueError(f"size must be an int in [1, 80], got {size!r}")
        self.shots, self.nt, self.receivers, self.size = shots, nt, receivers, size
        w = width
        # (c_in, c_out, kernel, stride, padding) of the encoder blocks
        spec = [
            (shots, w, (7, 1), (2, 1), (3, 0)),
            (w, 2 * w, (3, 1), (2, 1), (1, 0)),
            (2 * w, 2 * w, (3, 1), (1, 1), (1, 0)),
            (2 * w, 4 * w, (3, 1), (2, 1), (1, 0)),
            (4 * w, 4 * w, (3, 1), (1, 1), (1, 0)),
            (4 * w, 8 * w, (3, 1), (2, 1), (1, 0)),
            (8 * w, 8 * w, (3, 1), (1, 1), (1, 0)),
            (8 * w, 8 * w, (3, 3), (2, 2), (1, 1)),
            (8 * w, 8 * w, (3, 3), (1, 1), (1, 1)),
            (8 * w, 16 * w, (3, 3), (2, 2), (1, 1)),
            (16 * w, 16 * w, (3, 3), (1, 1), (1, 1)),
            (16 * w, 16 * w, (3, 3), (2, 2), (1, 1)),
            (16 * w, 16 * w, (3, 3), (1, 1), (1, 1)),
            (16 * w, 16 * w, (3, 3), (2, 2), (1, 1)),
        ]
        h, r = nt, receivers
        for _, _, k, s, p in spec:
            h, r = _out_size(h, k[0], s[0], p[0]), _out_size(r, k[1], s[1], p[1])
            if h < 1 or r < 1:
                raise ValueError(f"nt={nt}, receivers={receivers} are too small for InversionNet")
        self.encoder = nn.Sequential(
            *(_block(nn.Conv2d(a, b, k, s, p), b) for a, b, k, s, p in spec),
            nn.Conv2d(16 * w, 16 * w, (h, r)),  # the whole feature map -> one latent vector
            nn.LeakyReLU(0.2),
        )
        chans = (16 * w, 16 * w, 8 * w, 4 * w, 2 * w, w)
        dec = [_block(nn.ConvTranspose2d(chans[0], chans[1], 5), chans[1])]  # 1 -> 5
        for a, b in zip(chans[1:-1], chans[2:]):  # 5 -> 10 -> 20 -> 40 -> 80
            dec += [
                _block(nn.ConvTranspose2d(a, b, 4, 2, 1), b),
                _block(nn.Conv2d(b, b, 3, padding=1), b),
            ]
        self.decoder = nn.Sequential(*dec)
        self.out = nn.Conv2d(w, 1, 3, padding=1)

    def forward(self, p: torch.Tensor, direction: str | None = None) -> torch.Tensor:
        """``p: [B, shots, nt, receivers] -> [B, 1, size, size]`` (normalised velocity)."""
        check_direction(direction, self.directions)
        if p.ndim != 4 or tuple(p.shape[1:]) != (self.shots, self.nt, self.receivers):
            raise ValueError(
                f"seismic data must be [B, {self.shots}, {self.nt}, {self.receivers}], "
                f"got {list(p.shape)}"
            )
        h = self.decoder(self.encoder(p))  # [B, w, 80, 80]
        lo = (h.shape[-1] - self.size) // 2
        h = h[..., lo : lo + self.size, lo : lo + self.size]
        return torch.tanh(self.out(h))
