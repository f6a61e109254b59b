"""Inverse problems: estimates from data, with the physics in the loop.

* :mod:`~sciml.inverse.fwi` -- full-waveform inversion through the torch OpenFWI propagator
  (refines a seismic imaging network's velocity estimate).
"""
