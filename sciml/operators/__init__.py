"""Neural operators on grids: ``[B, C_in, *S] -> [B, C_out, *S]``.

* :class:`~sciml.operators.lsm.LSM` -- Latent Spectral Models (Wu et al., ICML 2023), 1-3-D.
* :class:`~sciml.operators.fno.FNO` -- neuraloperator's Fourier Neural Operator.
* :class:`~sciml.operators.unet.UNet` -- a plain U-Net.

``sciml.operators.registry.build(name, **kwargs)`` maps the CLI names ``lsm``, ``fno``,
``unet`` to these classes.
"""

from sciml.operators.fno import FNO
from sciml.operators.lsm import LSM
from sciml.operators.registry import build
from sciml.operators.unet import UNet

__all__ = ["FNO", "LSM", "UNet", "build"]
