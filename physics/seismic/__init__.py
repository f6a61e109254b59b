"""Seismic wave propagation: the acquisition (:class:`Survey`, Ricker wavelets), the deepwave
propagator (:mod:`~sciml.physics.seismic.deepwave`, loaded when first used), the OpenFWI-scheme
propagator in pure torch (:mod:`~sciml.physics.seismic.acoustic_fd`) and the OpenFWI velocity
families (:mod:`~sciml.physics.seismic.velocity_models`)."""

from sciml.physics.seismic.deepwave import Survey, check_velocity, envelope, ricker, simulate

__all__ = ["Survey", "check_velocity", "envelope", "ricker", "simulate"]
