"""Neural operators on grids: ``[B, C_in, *S] -> [B, C_out, *S]``.

* :class:`~sciml.operators.lsm.LSM` -- Latent Spectral Models (Wu et al., ICML 2023), 1-3-D.
* :class:`~sciml.operators.fno.FNO` -- neuraloperator's Fourier Neural Operator.
* :class:`~sciml.operators.unet.UNet` -- a plain U-Net.

Point operators (queried at any coordinates: a Grid, a Mesh's vertices, points ``[N, d]``):

* :class:`~sciml.operators.deeponet.DeepONet` -- branch-trunk inner product (Lu et al. 2021);
* :class:`~sciml.operators.multionet.MultiONet` -- products of the last ``l`` layers combined
  (Zang & Koutsourelakis 2025).

``sciml.operators.registry.build(name, **kwargs)`` maps the CLI names ``lsm``, ``fno``,
``unet``, ``deeponet``, ``multionet`` to these classes.
"""

from sciml.operators.deeponet import DeepONet
from sciml.operators.fno import FNO
from sciml.operators.lsm import LSM
from sciml.operators.multionet import MultiONet
from sciml.operators.registry import build
from sciml.operators.unet import UNet

__all__ = ["FNO", "LSM", "DeepONet", "MultiONet", "UNet", "build"]
