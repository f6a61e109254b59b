"""DGNO: a deep generative neural operator for forward and inverse PDE problems.

Zang & Koutsourelakis (J. Comput. Phys. 2025; "DGenNO"): a low-dimensional latent code
``beta`` explains both the PDE input ``a`` and its solution ``u``:

* an **encoder** ``q(beta | a) = N(mu(a), diag sigma^2(a))`` (:class:`FieldEncoder`). The
  published code is deterministic; here it is a real amortised Gaussian posterior with a KL
  term to the prior ``N(0, I)``, so the latent space carries uncertainty and the inverse
  problem has a proper prior;
* a **coefficient decoder** ``p(a | beta)``, a :class:`MultiONet` of ``(beta, x)``: Bernoulli
  (``logit``) over the two phases for two-phase media, Gaussian over ``log a`` (learned
  ``sigma``) for log-normal media;
* a **solution decoder** ``u(x; beta)`` (and, in the mixed form for discontinuous ``a``, the
  flux ``s(x; beta)``), one MultiONet with the multi-output head; ``u`` is multiplied by the
  :class:`~sciml.physics.mollifier.DirichletMollifier`, so ``u = 0`` on the walls exactly.

Training (:class:`~sciml.operators.point.dgno_task.DGNOTask`) uses *no solutions*: the loss is the
reconstruction of ``a``, the KL term and weak-form residuals of the PDE
(:class:`~sciml.physics.weak_form.WeakForm`) at random test-function centres. Inverse problems
(:mod:`sciml.inverse`) freeze the decoders and search the latent space.

As a grid operator (``forward(a)``) DGNO predicts ``u`` on ``a``'s grid from the posterior
mean of ``beta``; the decoders can be queried at any points (:meth:`decode_solution`).

>>> model = DGNO(latent=8, width=20, layers=3, coefficient_width=20, encoder_channels=8)
>>> a = 5 + 5 * (torch.rand(2, 1, 29, 29) > 0.5).float()
>>> model(a).shape
torch.Size([2, 1, 29, 29])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sciml.grid import Grid
from sciml.operators.point.field_encoder import FieldEncoder, gaussian_kl
from sciml.operators.point.multionet import MultiONet
from sciml.physics.mollifier import DirichletMollifier

__all__ = ["DGNO", "dgno_preset", "gaussian_kl"]

_MEDIA = ("two-phase", "lognormal")


def dgno_preset(medium: str) -> dict:
    """Constructor options of the DGNO used for ``medium`` in our Darcy benchmark
    (``benchmarks/dgno_darcy.py``) and by ``sciml train --model dgno``: the mixed weak form,
    a 5-layer width-100 solution decoder and the ``u`` / flux scales of ``-div(a grad u) = 10``
    on the unit square (two-phase ``a`` in ``{5, 10}``; log-normal ``a = exp(g)``).

    >>> dgno_preset("lognormal")["u_scale"]
    1.0
    """
    if medium not in _MEDIA:
        raise ValueError(f"medium must be one of {_MEDIA}, got {medium!r}")
    common = dict(medium=medium, latent=64, width=100, layers=5, activation="tanh_sin",
                  encoder_channels=32, mixed=True)  # fmt: skip
    if medium == "two-phase":
        return {**common, "coefficient_width": 128, "u_scale": 0.1, "flux_scale": 2.5}
    return {**common, "coefficient_width": 100, "u_scale": 1.0, "flux_scale": 5.0}


class DGNO(nn.Module):
    """Encoder + coefficient decoder + solution (and flux) decoder.

    Args:
        medium: ``"two-phase"`` (``a`` in ``{low, high}``, Bernoulli decoder) or
            ``"lognormal"`` (Gaussian decoder of ``log a``).
        latent: dimension of ``beta``.
        sensor_shape: grid of the input field (unit square unless ``bounds``).
        low, high: the two phases' values (two-phase media).
        mixed: decode the flux too (mixed weak form); default ``medium == "two-phase"``.
        width, layers, terms, activation: the solution decoder (a :class:`MultiONet`).
        coefficient_width, coefficient_layers: the coefficient decoder's size.
        encoder, encoder_channels: :class:`FieldEncoder` kind and width.
        u_scale, flux_scale: typical sizes of ``u`` and the flux (the networks work in these
            units; e.g. ``f / (8 a_mean)`` and ``f / 2`` for ``-div(a grad u) = f`` on the unit
            square).
        mollifier: ``"sine"`` or ``"polynomial"`` (:class:`DirichletMollifier`).
    """

    def __init__(
        self,
        *,
        medium: str = "two-phase",
        latent: int = 64,
        sensor_shape: Sequence[int] = (29, 29),
        bounds: Sequence[Sequence[float]] | None = None,
        low: float = 5.0,
        high: float = 10.0,
        mixed: bool | None = None,
        width: int = 100,
        layers: int = 5,
        terms: int | None = None,
        activation: str = "tanh_sin",
        coefficient_width: int = 128,
        coefficient_layers: int = 5,
        encoder: str = "cnn",
        encoder_channels: int = 64,
        u_scale: float = 0.1,
        flux_scale: float = 1.0,
        mollifier: str = "sine",
    ) -> None:
        super().__init__()
        if medium not in _MEDIA:
            raise ValueError(f"medium must be one of {_MEDIA}, got {medium!r}")
        if medium == "two-phase" and not (0 < low < high):
            raise ValueError(f"need 0 < low < high for two-phase media, got {low}, {high}")
        if not (u_scale > 0 and flux_scale > 0):
            raise ValueError(
                f"u_scale and flux_scale must be positive, got {u_scale}, {flux_scale}"
            )
        self.medium, self.low, self.high = medium, float(low), float(high)
        self.mixed = medium == "two-phase" if mixed is None else bool(mixed)
        self.latent, self.u_scale, self.flux_scale = latent, float(u_scale), float(flux_scale)
        self.grid = Grid(tuple(sensor_shape), bounds=tuple(map(tuple, bounds)) if bounds else None)
        self.encoder = FieldEncoder(
            latent, self.grid.shape, kind=encoder, channels=encoder_channels, bounds=bounds
        )
        self.coefficient_decoder = MultiONet(
            latent, 1, coord_dim=2, width=coefficient_width, layers=coefficient_layers,
            terms=terms if terms is None else min(terms, coefficient_layers),
            activation=activation, bounds=self.grid.bounds,
        )  # fmt: skip
        channels = 3 if self.mixed else 1
        self.solution_decoder = MultiONet(
            latent, channels, coord_dim=2, width=width, layers=layers, terms=terms,
            activation=activation, head="linear" if channels > 1 else "split",
            bounds=self.grid.bounds,
        )  # fmt: skip
        if medium == "lognormal":
            self.log_sigma = nn.Parameter(torch.tensor(-2.0))
        self.mollifier = DirichletMollifier(self.grid.bounds, kind=mollifier)

    # ------------------------------------------------------------------ encoder side
    def normalize_coefficient(self, a: torch.Tensor) -> torch.Tensor:
        """The decoder's target: ``(a - low) / (high - low)`` (two-phase) or ``log a``."""
        if self.medium == "two-phase":
            return (a - self.low) / (self.high - self.low)
        return torch.log(a)

    def encode(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``a: [B, 1, *S]`` -> posterior ``(mu, logvar)``, ``[B, latent]`` each."""
        if (a <= 0).any():
            raise ValueError("a must be positive (a coefficient field)")
        z = self.normalize_coefficient(a)
        if self.medium == "two-phase":
            z = 2 * z - 1
        return self.encoder(z)

    @staticmethod
    def sample(
        mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """A reparameterised draw ``mu + sigma eps`` (differentiable in ``mu, logvar``)."""
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        return mu + (0.5 * logvar).exp() * eps

    # ------------------------------------------------------------------ decoders
    def coefficient_output(self, beta: torch.Tensor, points: Grid | torch.Tensor) -> torch.Tensor:
        """Raw coefficient decoder output ``[B, N]``: the Bernoulli logit of the high phase, or
        the mean of ``log a``."""
        return self.coefficient_decoder(beta, points).flatten(1)

    def coefficient_mean(self, beta: torch.Tensor, points: Grid | torch.Tensor) -> torch.Tensor:
        """``E[a | beta]`` at ``points``, ``[B, N]``."""
        out = self.coefficient_output(beta, points)
        if self.medium == "two-phase":
            return self.low + (self.high - self.low) * torch.sigmoid(out)
        return torch.exp(out + 0.5 * torch.exp(2 * self.log_sigma))

    def coefficient_nll(self, beta: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """``-log p(a | beta)`` per pixel, averaged per sample: ``a: [B, 1, *S]`` -> ``[B]``.

        Bernoulli (two-phase, on ``(a - low) / (high - low)``) or Gaussian on ``log a``.
        """
        grid = self.grid.with_shape(a.shape[2:])
        out = self.coefficient_decoder(beta, grid).flatten(1)
        target = self.normalize_coefficient(a).flatten(1)
        if self.medium == "two-phase":
            nll = nn.functional.binary_cross_entropy_with_logits(out, target, reduction="none")
        else:
            s = self.log_sigma
            nll = 0.5 * ((target - out) / s.exp()).square() + s + 0.9189385332046727
        return nll.mean(-1)

    def decode_solution(
        self, beta: torch.Tensor, points: torch.Tensor, *, gradient: bool = False
    ) -> dict[str, torch.Tensor]:
        """The solution (and flux) at ``points: [N, 2]`` or ``[B, N, 2]``.

        Returns a dict with ``u: [B, N]`` (``u = 0`` on the walls exactly), ``flux: [B, N, 2]``
        (mixed form), and with ``gradient=True`` ``grad_u: [B, N, 2]`` (exact, forward mode).
        """
        if not isinstance(points, torch.Tensor):
            points = points.points(beta.device, beta.dtype) if isinstance(points, Grid) else points
        pts = torch.as_tensor(points, dtype=beta.dtype, device=beta.device)
        if gradient:
            y, dy = self.solution_decoder.forward_with_gradient(beta, pts)
        else:
            y, dy = self.solution_decoder(beta, pts), None
        xb = pts if pts.ndim == 3 else pts.unsqueeze(0)
        n = self.u_scale * y[:, 0]
        dn = None if dy is None else self.u_scale * dy[:, 0]
        u, grad_u = self.mollifier.apply(xb, n, dn)
        out = {"u": u}
        if grad_u is not None:
            out["grad_u"] = grad_u
        if self.mixed:
            out["flux"] = self.flux_scale * y[:, 1:3].transpose(1, 2)
        return out

    # ------------------------------------------------------------------ as an operator
    def forward(self, a: torch.Tensor, points: Grid | torch.Tensor | None = None) -> torch.Tensor:
        """Predict ``u`` from ``a: [B, 1, *S]`` (posterior-mean latent).

        Returns ``[B, 1, *S]`` on ``a``'s grid (or ``[B, 1, *grid.shape]`` for a
        :class:`Grid`, ``[B, 1, N]`` for points ``[N, 2]``).
        """
        if not isinstance(a, torch.Tensor) or a.ndim != 4 or a.shape[1] != 1:
            raise ValueError(
                f"x must have shape [B, 1, H, W] (the coefficient), got "
                f"{list(getattr(a, 'shape', [type(a).__name__]))}"
            )
        mu, _ = self.encode(a)
        target = self.grid.with_shape(a.shape[2:]) if points is None else points
        if isinstance(target, Grid):
            u = self.decode_solution(mu, target.points(a.device, a.dtype))["u"]
            return u.reshape(a.shape[0], 1, *target.shape)
        return self.decode_solution(mu, target)["u"].unsqueeze(1)
