"""OpenFWI-style seismic recipes: velocity maps and their shot gathers (deepwave).

``seismic-flatvel`` (flat layers) and ``seismic-curvevel`` (curved layers) follow the
OpenFWI acquisition (Deng et al. 2022): 70 x 70 velocity maps at 10 m, 5 sources and 70
receivers at 10 m depth, 1000 steps of 1 ms, 15 Hz Ricker wavelet. Input: the velocity
``[1, 70, 70]`` (m/s); output: the gathers ``[5, 1000, 70]`` (shot, time, receiver) in the
engine's physical sign/amplitude convention (see :mod:`sciml.physics.seismic`). Inversion
models (GFI) read them the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sciml.datasets.recipe import Recipe, SampleBatch
from sciml.grid import Grid


@dataclass
class SeismicParams:
    resolution: int = 70
    spacing: float = 10.0
    n_sources: int = 5
    nt: int = 1000
    dt: float = 1e-3
    freq: float = 15.0
    min_layers: int = 2
    max_layers: int = 5
    v_min: float = 1500.0
    v_max: float = 4500.0
    accuracy: int = 4


class _SeismicRecipe(Recipe):
    Params = SeismicParams
    batch_size = 8
    input_names = ("velocity",)
    output_names = ("gathers",)
    family = ""

    small_params = {"resolution": 16, "nt": 10, "n_sources": 1}

    def validate(self, p: SeismicParams) -> None:
        if p.resolution < 16 or p.nt < 10 or p.n_sources < 1:
            raise ValueError(
                "params: need resolution >= 16, nt >= 10, n_sources >= 1, got "
                f"{p.resolution}, {p.nt}, {p.n_sources}"
            )
        if p.n_sources > p.resolution:
            raise ValueError(
                f"params: n_sources ({p.n_sources}) must be <= resolution ({p.resolution})"
            )
        if not 0 < p.v_min < p.v_max:
            raise ValueError(f"params: need 0 < v_min < v_max, got {p.v_min}, {p.v_max}")
        if not (p.spacing > 0 and p.dt > 0 and p.freq > 0):
            raise ValueError(
                f"params: spacing, dt and freq must be > 0, got {p.spacing}, {p.dt}, {p.freq}"
            )
        if not 1 <= p.min_layers <= p.max_layers:
            raise ValueError(
                f"params: need 1 <= min_layers <= max_layers, got {p.min_layers}, {p.max_layers}"
            )
        if p.accuracy not in (2, 4, 6, 8):
            raise ValueError(f"params: accuracy must be 2, 4, 6 or 8, got {p.accuracy}")

    def grid(self, p: SeismicParams) -> Grid:
        from sciml.physics.velocity_models import openfwi_grid

        return openfwi_grid(p.resolution, p.spacing)

    def shapes(self, p: SeismicParams):
        return (1, p.resolution, p.resolution), (p.n_sources, p.nt, p.resolution)

    def worker(self, p: SeismicParams):
        from sciml.physics import velocity_models
        from sciml.physics.seismic import Survey, simulate

        grid = self.grid(p)
        # a fixed velocity ceiling fixes deepwave's time sub-step: a sample's data then do not
        # depend on the other samples in its batch
        survey = Survey.openfwi(
            grid, n_sources=p.n_sources, nt=p.nt, dt=p.dt, freq=p.freq,
            max_vel=max(4500.0, p.v_max),
        )  # fmt: skip
        device = "cuda" if torch.cuda.is_available() else "cpu"
        make = getattr(velocity_models, self.family)

        def run(seeds: np.ndarray) -> SampleBatch:
            v = make(grid, seeds.tolist(), layers=(p.min_layers, p.max_layers),
                     velocity=(p.v_min, p.v_max), device=device)  # fmt: skip
            data = simulate(v, grid, survey, accuracy=p.accuracy)
            return SampleBatch(v.float().cpu().numpy(), data.float().cpu().numpy())

        return run


class SeismicFlatVel(_SeismicRecipe):
    name = "seismic-flatvel"
    version = 1
    description = "OpenFWI FlatVel-style layers -> 5 shot gathers (deepwave)"
    family = "flat_layers"


class SeismicCurveVel(_SeismicRecipe):
    name = "seismic-curvevel"
    version = 1
    description = "OpenFWI CurveVel-style curved layers -> 5 shot gathers (deepwave)"
    family = "curved_layers"
