"""Neural operators on grids: ``[B, C_in, *S] -> [B, C_out, *S]``.

* :class:`~sciml.operators.lsm.LSM` -- Latent Spectral Models (Wu et al., ICML 2023), 1-3-D.
* :class:`~sciml.operators.fno.FNO` -- neuraloperator's Fourier Neural Operator.
* :class:`~sciml.operators.unet.UNet` -- a plain U-Net.

Point operators (queried at any coordinates: a Grid, a Mesh's vertices, points ``[N, d]``):

* :class:`~sciml.operators.deeponet.DeepONet` -- branch-trunk inner product (Lu et al. 2021);
* :class:`~sciml.operators.multionet.MultiONet` -- products of the last ``l`` layers combined
  (Zang & Koutsourelakis 2025).

Seismic imaging (velocity ``[B, 1, 70, 70]`` <-> shot gathers ``[B, 5, 1000, 70]``; the GFI
framework of Gupta et al., ICLR 2025, and its baselines):

* :class:`~sciml.operators.latent_unet.LatentUNet` -- a U-Net translator per direction;
* :class:`~sciml.operators.xnet.InvertibleXNet` -- one invertible U-Net for both directions
  (:mod:`~sciml.operators.iunet`, :mod:`~sciml.operators.invertible_layers`);
* :class:`~sciml.operators.inversionnet.InversionNet` (inverse) and
  :class:`~sciml.operators.seismic_fno.SeismicFNO` (forward) baselines;
* the domain codecs :mod:`~sciml.operators.velocity_codec`, :mod:`~sciml.operators.seismic_codec`.

``sciml.operators.registry.build(name, **kwargs)`` maps the CLI names ``lsm``, ``fno``,
``unet``, ``deeponet``, ``multionet``, ``dgno``, ``latent-unet``, ``xnet``, ``inversionnet``,
``seismic-fno`` to these classes.
"""

from sciml.operators.deeponet import DeepONet
from sciml.operators.fno import FNO
from sciml.operators.lsm import LSM
from sciml.operators.multionet import MultiONet
from sciml.operators.registry import build
from sciml.operators.unet import UNet

__all__ = ["FNO", "LSM", "DeepONet", "MultiONet", "UNet", "build"]
