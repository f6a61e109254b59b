"""Neural operators by family: grid (LSM, FNO, U-Net), point (DeepONet, MultiONet, DGNO) and
seismic imaging. On grids: ``[B, C_in, *S] -> [B, C_out, *S]``.

* :class:`~sciml.operators.grid.lsm.LSM` -- Latent Spectral Models (Wu et al., ICML 2023), 1-3-D.
* :class:`~sciml.operators.grid.fno.FNO` -- neuraloperator's Fourier Neural Operator.
* :class:`~sciml.operators.grid.unet.UNet` -- a plain U-Net.

Point operators (queried at any coordinates: a Grid, a Mesh's vertices, points ``[N, d]``):

* :class:`~sciml.operators.point.deeponet.DeepONet` -- branch-trunk inner product (Lu et al. 2021);
* :class:`~sciml.operators.point.multionet.MultiONet` -- products of the last ``l`` layers combined
  (Zang & Koutsourelakis 2025).

Meshes and point clouds (``(points [B, N, d], x [B, C_in, N], mask [B, N]) -> [B, C_out, N]``,
any number of points, 2-D or 3-D):

* :class:`~sciml.operators.mesh.geo_lsm.GeoLSM` -- LSM through a learned geometry map;
* :class:`~sciml.operators.mesh.transolver.Transolver` -- physics attention (Wu et al. 2024);
* :class:`~sciml.operators.mesh.gino.GINO` -- neuraloperator's GINO.

Seismic imaging (velocity ``[B, 1, 70, 70]`` <-> shot gathers ``[B, 5, 1000, 70]``; the GFI
framework of Gupta et al., ICLR 2025, and its baselines):

* :class:`~sciml.operators.seismic.latent_unet.LatentUNet` -- a U-Net translator per direction;
* :class:`~sciml.operators.seismic.xnet.InvertibleXNet` -- one invertible U-Net for both directions
  (:mod:`~sciml.operators.seismic.iunet`, :mod:`~sciml.operators.seismic.invertible_layers`);
* :class:`~sciml.operators.seismic.inversionnet.InversionNet` (inverse) and
  :class:`~sciml.operators.seismic.fno.SeismicFNO` (forward) baselines;
* the domain codecs :mod:`~sciml.operators.seismic.velocity_codec`, :mod:`~sciml.operators.seismic.seismic_codec`.

``sciml.operators.registry.build(name, **kwargs)`` maps the CLI names ``lsm``, ``fno``,
``unet``, ``deeponet``, ``multionet``, ``dgno``, ``geo-lsm``, ``transolver``, ``gino``, ``latent-unet``, ``xnet``, ``inversionnet``,
``seismic-fno`` to these classes.
"""

from sciml.operators.grid import FNO, LSM, UNet
from sciml.operators.mesh import GINO, GeoLSM, Transolver
from sciml.operators.model_file import load_operator
from sciml.operators.point import DGNO, DeepONet, MultiONet
from sciml.operators.registry import build, names
from sciml.operators.seismic import InversionNet, InvertibleXNet, LatentUNet, SeismicFNO

__all__ = [
    "DGNO",
    "FNO",
    "GINO",
    "GeoLSM",
    "LSM",
    "DeepONet",
    "InversionNet",
    "InvertibleXNet",
    "LatentUNet",
    "MultiONet",
    "SeismicFNO",
    "Transolver",
    "UNet",
    "build",
    "load_operator",
    "names",
]
