"""Initialisation of a GP-HM model: mixture frequencies and noise precisions from the data.

* the frequency initialisations, as objects: :class:`UniformInit` is the published recipe
  (frequencies evenly on ``[0, max_frequency]``, a hand-set maximum per axis);
  :class:`SpectrumInit` puts the mixture components on the peaks of the forcing's and the
  boundary data's spectra along each axis (:func:`~sciml.solvers.gp.spectrum.spectral_peaks`),
  so no frequency range is chosen by hand (:func:`initialize_frequencies` runs either).
* :func:`set_noise_from_data` -- precisions ``1 / (level * data scale)^2``.
* :func:`forcing_field` -- ``-R(0)``, the residual at ``u = 0`` (the forcing of a linear PDE).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from sciml.solvers.gp.spectrum import spectral_peaks, unique_peaks

if TYPE_CHECKING:
    from sciml.solvers.gp.model import KroneckerGPSolver

__all__ = [
    "FrequencyInit",
    "SpectrumInit",
    "UniformInit",
    "forcing_field",
    "initialize_frequencies",
    "set_noise_from_data",
]


@dataclass(frozen=True)
class FrequencyInit:
    """How the mixture frequencies start: ``max_frequency`` (one value, or one per axis, in
    cycles per unit) and the components' ``lengthscale`` (default: the axis length)."""

    max_frequency: float | tuple[float, ...] | None = None
    lengthscale: float | None = None

    def __call__(self, model: KroneckerGPSolver) -> dict[str, list[float]]:
        """Initialise ``model``'s kernels (in place); returns ``{axis letter: peaks found}``."""
        return initialize_frequencies(model, self)


@dataclass(frozen=True)
class SpectrumInit(FrequencyInit):
    """Components on the peaks of the forcing's and boundary data's spectra; ``max_frequency``
    (default a quarter of the grid's sampling rate) only spreads the rest off the peaks."""


@dataclass(frozen=True)
class UniformInit(FrequencyInit):
    """The published recipe: frequencies evenly on ``[0, max_frequency]`` (required)."""

    def __post_init__(self) -> None:
        if self.max_frequency is None:
            raise ValueError("UniformInit needs max_frequency (the published recipe)")


@torch.no_grad()
def forcing_field(model: KroneckerGPSolver) -> torch.Tensor:
    """``-R(0)``: the PDE residual at ``u = 0`` on the grid, ``[*grid.shape]``.

    For a linear PDE this is the forcing; for Allen-Cahn (``u(u^2 - 1)`` vanishes at 0) too.
    """
    zero = torch.zeros(model.grid.size, dtype=model.latent.dtype, device=model.latent.device)
    d = {key: zero for key in model.keys}
    return -model.pde.residual_from(zero, d, model.points).reshape(model.grid.shape)


@torch.no_grad()
def initialize_frequencies(
    model: KroneckerGPSolver, init: FrequencyInit | None = None
) -> dict[str, list[float]]:
    """Initialise the mixture frequencies and lengthscales of every axis (in place).

    Args:
        model: the GP-HM model.
        init: :class:`SpectrumInit` (default) or :class:`UniformInit`.

    Returns:
        ``{axis letter: peaks found}`` (empty for :class:`UniformInit`).
    """
    init = SpectrumInit() if init is None else init
    if not isinstance(init, FrequencyInit):
        raise TypeError(f"init must be SpectrumInit(...) or UniformInit(...), got {init!r}")
    spectrum = not isinstance(init, UniformInit)
    max_frequency, lengthscale = init.max_frequency, init.lengthscale
    grid = model.grid
    nd = grid.ndim
    if max_frequency is None:
        max_frequency = [0.25 / h for h in grid.spacing]
    elif isinstance(max_frequency, (int, float)):
        max_frequency = [float(max_frequency)] * nd
    max_frequency = list(max_frequency)
    if len(max_frequency) != nd:
        raise ValueError(f"max_frequency needs one value per axis ({nd})")
    found = {}
    if spectrum:
        forcing = forcing_field(model)
        gfield = torch.zeros_like(model.latent)
        gfield.reshape(-1)[model.mask.flatten()] = model.g
    letters = model.letters
    for d in range(nd):
        h = grid.spacing[d]
        peaks = amps = None
        if spectrum:
            sources = [forcing]
            # boundary data along axis d: faces of the OTHER axes carry lines along d
            for c in letters:
                if c == letters[d]:
                    continue
                ax = letters.index(c)
                for side, idx in (("-", 0), ("+", -1)):
                    if c + side in model.faces:
                        sources.append(gfield.select(ax, idx).unsqueeze(ax))
            pairs = [spectral_peaks(s, h, d, with_amplitude=True) for s in sources]
            p = torch.cat([f for f, _ in pairs])
            a = torch.cat([w for _, w in pairs])
            order = torch.argsort(a, descending=True)
            peaks, amps = unique_peaks(p[order], a[order], tol=0.5 / grid.lengths[d])
            found[letters[d]] = peaks.tolist()
        ell = lengthscale if lengthscale is not None else grid.lengths[d]
        model.kernels[d].initialize_frequencies(
            max_frequency=max_frequency[d],
            peaks=peaks,
            peak_weights=amps,
            lengthscale=ell,
        )
    return found


@torch.no_grad()
def set_noise_from_data(model: KroneckerGPSolver, level: float = 1e-7) -> tuple[float, float]:
    """Set the precisions to ``1 / (level * scale)^2`` (in place); returns ``(tau_b, tau_r)``.

    ``scale`` is the RMS of the forcing for the residual and the RMS of the boundary data for
    the boundary (1 where that is zero). A misfit of ``level`` times the data's size then
    costs as much as one unit of prior.
    """
    if not level > 0:
        raise ValueError(f"level must be > 0, got {level}")
    f = forcing_field(model)
    sf = float(f.pow(2).mean().sqrt())
    sg = float(model.g.pow(2).mean().sqrt())
    sf = sf if sf > 0 else 1.0
    sg = sg if sg > 0 else 1.0
    model.log_tau_r.fill_(-2 * math.log(level * sf))
    model.log_tau_b.fill_(-2 * math.log(level * sg))
    return float(model.log_tau_b.exp()), float(model.log_tau_r.exp())
