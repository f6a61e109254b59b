"""Inverse problems: observations, latent-space inversion with uncertainty, FWI.

* :mod:`~sciml.inverse.observations` -- :class:`Observations` and the observation file format
  (``.json`` / ``.npz``, validated with errors naming the file and the field);
* :mod:`~sciml.inverse.langevin` -- Metropolis-adjusted Langevin sampling of batched chains;
* :mod:`~sciml.inverse.latent_inversion` -- DGNO inversion: frozen decoders, a latent code that
  fits the observations and the weak-form physics, posterior samples of the coefficient with
  mean, pointwise spread and 95% bands;
* :mod:`~sciml.inverse.fwi` -- full-waveform inversion through the torch OpenFWI propagator;
  :mod:`~sciml.inverse.seismic_refinement` refines a seismic imaging network's velocity
  estimate with it.
"""

from sciml.inverse.langevin import MALAResult, mala
from sciml.inverse.observations import (
    Observations,
    load_observations,
    noise_std_for_snr,
    save_observations,
)

__all__ = [
    "MALAResult",
    "Observations",
    "load_observations",
    "mala",
    "noise_std_for_snr",
    "save_observations",
]
