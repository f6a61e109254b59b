"""Seismic imaging, velocity ``[B, 1, 70, 70]`` <-> shot gathers ``[B, 5, 1000, 70]`` (the GFI
framework of Gupta et al., ICLR 2025, and its baselines): Latent U-Net, Invertible X-Net,
InversionNet, a seismic FNO, the domain codecs and normalisations, and the training task."""

from sciml.operators.seismic.fno import SeismicFNO
from sciml.operators.seismic.inversionnet import InversionNet
from sciml.operators.seismic.latent_unet import LatentUNet
from sciml.operators.seismic.xnet import InvertibleXNet

__all__ = ["InversionNet", "InvertibleXNet", "LatentUNet", "SeismicFNO"]
