"""Operators on grids, ``[B, C_in, *S] -> [B, C_out, *S]``: LSM (Latent Spectral Models), FNO
(neuraloperator's) and a plain U-Net."""

from sciml.operators.grid.fno import FNO
from sciml.operators.grid.lsm import LSM
from sciml.operators.grid.unet import UNet

__all__ = ["FNO", "LSM", "UNet"]
