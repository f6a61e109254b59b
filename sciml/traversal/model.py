"""A trained traversal run's model: a frozen VAE, its K traversals and the reconstructor.

The inference file is the package's one model format (``sciml-model-v2``, written atomically,
read with ``weights_only=True`` and checked field by field): the spec ``{"name":
"latent-traversal", "kwargs": ...}`` says how to rebuild every part, ``state_dict`` holds the
weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from sciml.io import atomic_save, load_model_file, model_file_payload
from sciml.traversal.base import Traversal
from sciml.traversal.flow import PotentialFlow
from sciml.traversal.linear import LinearDirections
from sciml.traversal.reconstructor import Reconstructor
from sciml.traversal.vae import ConvVAE

__all__ = [
    "MODEL_NAME",
    "TraversalModel",
    "build_traversal_model",
    "load_traversal_model",
    "load_vae",
    "save_traversal_model",
]

MODEL_NAME = "latent-traversal"


class TraversalModel(nn.Module):
    """``vae`` (frozen: its parameters do not train), ``traversal`` and ``reconstructor``.

    Args:
        vae: the generative model (its decoder's mean image is the generator).
        traversal: a :class:`PotentialFlow` or :class:`LinearDirections` on its latent space.
        reconstructor: the pair classifier (optional for closed-form directions).
        pde: registry name of the potentials' PDE (``None`` for linear directions), recorded
            for the file.
    """

    def __init__(
        self,
        vae: ConvVAE,
        traversal: Traversal,
        reconstructor: Reconstructor | None = None,
        *,
        pde: str | None = None,
    ) -> None:
        super().__init__()
        if traversal.dim != vae.latent:
            raise ValueError(
                f"the traversal's dim {traversal.dim} must equal the VAE latent {vae.latent}"
            )
        self.vae, self.traversal, self.reconstructor, self.pde = vae, traversal, reconstructor, pde
        self.vae.requires_grad_(False)

    def generator(self, z: torch.Tensor) -> torch.Tensor:
        """Decoded mean images ``[N, C, H, W]`` of latents ``z: [N, d]``."""
        return self.vae.mean_image(z)

    @property
    def spec(self) -> dict[str, Any]:
        """How to rebuild this model (plain data)."""
        t = self.traversal
        if isinstance(t, PotentialFlow):
            first = t.potentials[0]
            trav = {
                "kind": "potential",
                "hidden": int(first.head[0].in_features),
                "start_time": t.start_time,
                "code_time": t.code_time,
            }
        elif isinstance(t, LinearDirections):
            trav = {"kind": "linear", "learnable": isinstance(t.raw, nn.Parameter)}
        else:
            raise ValueError(f"cannot save a {type(t).__name__} traversal")
        trav.update(dim=t.dim, num=t.num_directions, step_size=t.step_size, pde=self.pde)
        rec = None
        if self.reconstructor is not None:
            r = self.reconstructor
            width = r.net[0].out_features if len(r.shape) == 1 else r.net[0].out_channels
            rec = {"shape": list(r.shape), "width": int(width)}
        return {
            "name": MODEL_NAME,
            "kwargs": {
                "vae": dict(self.vae.spec["kwargs"]),
                "traversal": trav,
                "reconstructor": rec,
            },
        }


def build_traversal_model(vae: dict, traversal: dict, reconstructor: dict | None) -> TraversalModel:
    """Rebuild a :class:`TraversalModel` from :meth:`TraversalModel.spec` kwargs."""
    v = ConvVAE(**vae)
    t = dict(traversal)
    kind = t.pop("kind")
    pde = t.pop("pde", None)
    if kind == "potential":
        trav: Traversal = PotentialFlow(
            t["dim"],
            t["num"],
            hidden=t["hidden"],
            step_size=t["step_size"],
            start_time=t["start_time"],
            code_time=t["code_time"],
        )
    elif kind == "linear":
        trav = LinearDirections(
            t["dim"], t["num"], step_size=t["step_size"], learnable=t["learnable"]
        )
    else:
        raise ValueError(f"unknown traversal kind {kind!r}")
    rec = None
    if reconstructor is not None:
        rec = Reconstructor(tuple(reconstructor["shape"]), t["num"], width=reconstructor["width"])
    return TraversalModel(v, trav, rec, pde=pde)


def save_traversal_model(
    path: str | Path, model: TraversalModel, extra: dict | None = None
) -> Path:
    """Write ``model`` as a ``sciml-model-v2`` file (atomic)."""
    return atomic_save(model_file_payload(model.spec, model.state_dict(), extra=extra), path)


def _build_traversal(payload: dict) -> TraversalModel:
    kw = payload["spec"]["kwargs"]
    for key, types in (("vae", dict), ("traversal", dict), ("reconstructor", (dict, type(None)))):
        if not isinstance(kw.get(key), types):
            raise ValueError(f"field 'spec.kwargs.{key}' is missing or malformed")
    return build_traversal_model(kw["vae"], kw["traversal"], kw["reconstructor"])


def load_traversal_model(
    path: str | Path, map_location: str | torch.device = "cpu"
) -> tuple[TraversalModel, dict]:
    """Read a traversal model file through the one loader (:func:`sciml.io.load_model_file`);
    returns ``(model in eval mode, extra)``.

    Raises ``FileNotFoundError`` or :class:`~sciml.io.FileFormatError` naming the file and
    the bad field; nothing in the file runs code.
    """
    return load_model_file(path, _build_traversal, names=(MODEL_NAME,), map_location=map_location)


def load_vae(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[ConvVAE, dict]:
    """Read a VAE model file (written by :class:`~sciml.traversal.vae_task.VAETask`) through the
    one loader."""
    return load_model_file(
        path,
        lambda payload: ConvVAE(**payload["spec"]["kwargs"]),
        names=("conv-vae",),
        map_location=map_location,
    )
