"""Names -> model constructors, for the command line and for checkpoints.

Inside the library, pass model objects; the registry is the edge where a name from the CLI or
a config file becomes a class. :func:`build` records the name and keyword arguments on the model
(``model.spec``) so a checkpoint can rebuild it (:func:`sciml.train.checkpoint.load_model`).

>>> m = build("unet", in_channels=1, out_channels=1, width=8, levels=2)
>>> m.spec["name"]
'unet'
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

__all__ = ["MODELS", "build", "names", "register"]


def _lsm(**kw) -> nn.Module:
    from sciml.operators.lsm import LSM

    return LSM(**kw)


def _fno(**kw) -> nn.Module:
    from sciml.operators.fno import FNO

    return FNO(**kw)


def _unet(**kw) -> nn.Module:
    from sciml.operators.unet import UNet

    return UNet(**kw)


def _deeponet(**kw) -> nn.Module:
    from sciml.operators.deeponet import DeepONet

    return DeepONet(**kw)


def _multionet(**kw) -> nn.Module:
    from sciml.operators.multionet import MultiONet

    return MultiONet(**kw)


def _dgno(**kw) -> nn.Module:
    from sciml.operators.dgno import DGNO

    return DGNO(**kw)


def _latent_unet(**kw) -> nn.Module:
    from sciml.operators.latent_unet import LatentUNet

    return LatentUNet(**kw)


def _xnet(**kw) -> nn.Module:
    from sciml.operators.xnet import InvertibleXNet

    return InvertibleXNet(**kw)


def _inversionnet(**kw) -> nn.Module:
    from sciml.operators.inversionnet import InversionNet

    return InversionNet(**kw)


def _seismic_fno(**kw) -> nn.Module:
    from sciml.operators.seismic_fno import SeismicFNO

    return SeismicFNO(**kw)


MODELS: dict[str, Callable[..., nn.Module]] = {
    "lsm": _lsm,
    "fno": _fno,
    "unet": _unet,
    "deeponet": _deeponet,
    "multionet": _multionet,
    "dgno": _dgno,
    # seismic imaging (velocity <-> shot gathers), GFI framework and its baselines
    "latent-unet": _latent_unet,
    "xnet": _xnet,
    "inversionnet": _inversionnet,
    "seismic-fno": _seismic_fno,
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
