"""Which model a run folder trains, and how: constructor options and task from the data file.

Supervised operators (``lsm``, ``fno``, ``unet``, ``deeponet``, ...) take their channels and
dimension from the data and train on (input, output) pairs with the default task. ``dgno``
trains label-free (:class:`~sciml.operators.point.dgno_task.DGNOTask`): the data file must come from
one of the DGNO Darcy recipes, which give the medium, the two phases and the forcing; its
solutions are only logged (``val_l2``), never used for the loss or for selection.

Mesh operators (``geo-lsm``, ``transolver``, ``gino``: subclasses of
:class:`~sciml.operators.mesh.mesh_operator.MeshOperator`) train on the per-sample meshes of a
mesh data file (:mod:`sciml.datasets.mesh_files`) with
:class:`~sciml.operators.mesh.mesh_task.MeshTask`; their channels and coordinate dimension
come from the samples.
"""

from __future__ import annotations

from typing import Any

import torch

from sciml.datasets import get_recipe, recipe_names
from sciml.datasets.mesh_sample import MeshSample
from sciml.operators.mesh.mesh_operator import MeshOperator
from sciml.operators.mesh.mesh_task import MeshTask
from sciml.operators.point.dgno import dgno_preset
from sciml.operators.point.dgno_task import DGNOLoss, DGNOTask
from sciml.operators.registry import MODELS
from sciml.operators.seismic.imaging_task import SeismicImagingTask
from sciml.train.task import Task

__all__ = [
    "LABEL_FREE",
    "is_mesh_model",
    "mesh_model_setup",
    "model_kwargs_for_data",
    "run_model_setup",
]

#: registry models that train without solutions (their task is built here)
LABEL_FREE = ("dgno",)
#: seismic imaging models: velocity ``[N, 1, nz, nx]`` <-> gathers ``[N, S, nt, R]``, trained
#: by :class:`~sciml.operators.seismic.imaging_task.SeismicImagingTask` in every direction
#: they serve
SEISMIC = ("latent-unet", "xnet", "inversionnet", "seismic-fno")
#: the CPU-sized defaults of ``sciml train`` for them (the published sizes are 25-35 M
#: parameters; pass --width etc. or model_options for others)
SEISMIC_DEFAULTS = {
    "latent-unet": {"latent_channels": 16, "width": 32, "levels": 2},
    "xnet": {"latent_channels": 16, "latent_size": 64, "levels": 3, "blocks": 2},
    "inversionnet": {"width": 8},
    "seismic-fno": {"width": 16, "modes": (32, 12)},
}


def model_kwargs_for_data(
    name: str, x: torch.Tensor, y: torch.Tensor, input_frames: int | None, user: dict
) -> dict:
    """Channels and dimension from the data, merged with the user's model options."""
    kw = dict(user)
    kw["in_channels"] = input_frames if input_frames else int(x.shape[1])
    kw["out_channels"] = 1 if input_frames else int(y.shape[1])
    kw["ndim"] = x.ndim - 2
    return kw


def _dgno_setup(x: torch.Tensor, meta: dict, user: dict, task_options: dict, data: str):

    recipe = meta.get("recipe")
    medium = getattr(get_recipe(recipe), "medium", None) if recipe in recipe_names() else None
    if medium is None:
        raise ValueError(
            f"--model dgno trains on data of a DGNO Darcy recipe (darcy-two-phase, "
            f"darcy-lognormal, ...); {data!r} was made by recipe {recipe!r}"
        )
    params = meta.get("params") if isinstance(meta.get("params"), dict) else {}
    kw = dgno_preset(medium)
    kw["sensor_shape"] = tuple(int(s) for s in x.shape[2:])
    if medium == "two-phase":
        kw.update(low=float(params.get("low", 5.0)), high=float(params.get("high", 10.0)))
    kw.update(user)
    loss = {"forcing": float(params.get("forcing", 10.0)), **task_options}
    try:
        spec = DGNOLoss.from_dict(loss)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"task_options for dgno: {exc}") from None
    return kw, DGNOTask(spec)


def _seismic_setup(
    name: str,
    x: torch.Tensor,
    y: torch.Tensor,
    meta: dict,
    user: dict,
    task_options: dict,
    data: str,
) -> tuple[dict, Task]:
    """Shapes from a ``seismic-*`` data file (inputs: velocity, outputs: shot gathers)."""
    recipe = str(meta.get("recipe") or "")
    gathers = y.ndim == 4 and y.shape[2] >= 4 * x.shape[-2]  # many more time samples than depth
    if x.ndim != 4 or x.shape[1] != 1 or not (recipe.startswith("seismic") or gathers):
        raise ValueError(
            f"--model {name} trains on seismic data (inputs: velocity [N, 1, nz, nx], outputs: "
            f"shot gathers [N, shots, nt, receivers], e.g. a seismic-flatvel-a file); {data!r} "
            f"holds inputs {list(x.shape)} and outputs {list(y.shape)}"
        )
    shots, nt, receivers = (int(s) for s in y.shape[1:])
    stride = task_options.get("time_stride", 1)
    if not isinstance(stride, int) or stride < 1 or nt % stride:
        raise ValueError(f"task_options time_stride must divide nt = {nt}, got {stride!r}")
    kw: dict[str, Any] = {"shots": shots, "nt": nt // stride, "receivers": receivers}
    if name != "seismic-fno":
        nz, nx = (int(s) for s in x.shape[2:])
        kw["size"] = nz if nz == nx else (nz, nx)
    else:
        kw["time_size"] = min(nt // stride, 250)
    kw.update(SEISMIC_DEFAULTS[name])
    kw.update(user)
    try:
        task = SeismicImagingTask(**task_options)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"task_options for {name}: {exc}") from None
    return kw, task


def run_model_setup(
    name: str,
    x: torch.Tensor,
    y: torch.Tensor,
    meta: dict,
    *,
    input_frames: int | None,
    model_options: dict[str, Any],
    task_options: dict[str, Any],
    data: str,
) -> tuple[dict, Task | None]:
    """``(constructor keywords, task or None)`` for registry model ``name`` on this data.

    ``task_options`` are the task's settings (for ``dgno`` the fields of
    :class:`~sciml.operators.point.dgno_task.DGNOLoss`); supervised models take none.
    """
    if name == "dgno":
        return _dgno_setup(x, meta, model_options, task_options, data)
    if name in SEISMIC:
        return _seismic_setup(name, x, y, meta, model_options, task_options, data)
    if task_options:
        raise ValueError(
            f"task_options are for label-free and seismic models "
            f"{list(LABEL_FREE) + list(SEISMIC)}; {name!r} trains "
            f"supervised and takes none, got {sorted(task_options)}"
        )
    return model_kwargs_for_data(name, x, y, input_frames, model_options), None


def is_mesh_model(name: str) -> bool:
    """Whether registry model ``name`` is a mesh operator (trains on per-sample meshes)."""
    cls = MODELS.get(name)
    return isinstance(cls, type) and issubclass(cls, MeshOperator)


def mesh_model_setup(
    name: str,
    samples: list[MeshSample],
    *,
    model_options: dict[str, Any],
    task_options: dict[str, Any],
) -> tuple[dict, Task]:
    """``(constructor keywords, MeshTask)`` for mesh operator ``name`` on ``samples``: input
    and output channels and the coordinate dimension from the data, merged with the user's
    model options (which may not override them)."""
    if task_options:
        raise ValueError(
            f"task_options: {name!r} trains supervised on meshes and takes none, got "
            f"{sorted(task_options)}"
        )
    first = samples[0]
    fixed = {
        "in_channels": first.in_channels,
        "out_channels": first.out_channels,
        "coord_dim": first.coord_dim,
    }
    clash = sorted(k for k in fixed if k in model_options and model_options[k] != fixed[k])
    if clash:
        raise ValueError(
            f"model_options: {clash} come from the data ({ {k: fixed[k] for k in clash} })"
        )
    return {**model_options, **fixed}, MeshTask()
