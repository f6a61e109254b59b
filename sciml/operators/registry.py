"""Names -> model constructors, for the command line and for checkpoints.

Inside the library, pass model objects; the registry is the edge where a name from the CLI or
a config file becomes a class. :func:`build` records the name and keyword arguments on the model
(``model.spec``) so a checkpoint can rebuild it (:func:`sciml.operators.load_operator`).

>>> m = build("unet", in_channels=1, out_channels=1, width=8, levels=2)
>>> m.spec["name"]
'unet'
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from sciml.operators.grid.fno import FNO
from sciml.operators.grid.lsm import LSM
from sciml.operators.grid.unet import UNet
from sciml.operators.mesh.geo_lsm import GeoLSM
from sciml.operators.mesh.gino import GINO
from sciml.operators.mesh.transolver import Transolver
from sciml.operators.point.deeponet import DeepONet
from sciml.operators.point.dgno import DGNO
from sciml.operators.point.multionet import MultiONet
from sciml.operators.seismic.fno import SeismicFNO
from sciml.operators.seismic.inversionnet import InversionNet
from sciml.operators.seismic.latent_unet import LatentUNet
from sciml.operators.seismic.xnet import InvertibleXNet

__all__ = ["MODELS", "build", "names", "register"]


#: registry name -> model class (keyword-only constructors)
MODELS: dict[str, Callable[..., nn.Module]] = {
    "lsm": LSM,
    "fno": FNO,
    "unet": UNet,
    "deeponet": DeepONet,
    "multionet": MultiONet,
    "dgno": DGNO,
    # meshes and point clouds: (points [B, N, d], x [B, C_in, N], mask [B, N]) -> [B, C_out, N]
    "geo-lsm": GeoLSM,
    "transolver": Transolver,
    "gino": GINO,
    # seismic imaging (velocity <-> shot gathers), GFI framework and its baselines
    "latent-unet": LatentUNet,
    "xnet": InvertibleXNet,
    "inversionnet": InversionNet,
    "seismic-fno": SeismicFNO,
}


def register(name: str, constructor: Callable[..., nn.Module]) -> None:
    """Add a model under ``name`` (constructor takes keyword arguments only)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    MODELS[name] = constructor


def names() -> list[str]:
    """The registered model names, sorted."""
    return sorted(MODELS)


def build(name: str, **kwargs) -> nn.Module:
    """Build the model registered as ``name`` with keyword arguments ``kwargs``."""
    if name not in MODELS:
        raise KeyError(f"model must be one of {names()}, got {name!r}")
    model = MODELS[name](**kwargs)
    model.spec = {"name": name, "kwargs": dict(kwargs)}
    return model
