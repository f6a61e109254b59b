"""``navier-stokes-2d``: the FNO/LSM vorticity benchmark on the periodic unit square.

``w_t + u.grad w = nu Δw + f`` with ``f = 0.1 (sin 2π(x+y) + cos 2π(x+y))``, ``nu = 1e-5``,
initial vorticity from a GRF with a ``(-Δ + 49)^(-2.5)`` spectrum, solved by the engine's
Crank-Nicolson pseudo-spectral stepper. Input: ``w(t=0)`` ``[1, 64, 64]``; output: the
frames at ``t = 1, ..., 20`` ``[20, 64, 64]`` (the FNO layout: time as channels; models
read the first 10 and predict the next 10).

Solver resolution. The published data were solved at 256 x 256 with ``dt = 1e-4`` and
subsampled to 64 x 64. That is the default where CUDA is available
(``solver_resolution=0`` means "auto"). On a CPU the default is the documented coarser
setting ``solver_resolution=64, dt=4e-3`` so that the default 1200-sample set builds on two
cores in under 30 minutes; ``BENCHMARKS.md`` reports its difference from the fine solve.
The resolved values are stored in the file's ``params``.

Device. With CUDA the whole batch of ``batch_size`` trajectories is integrated on the GPU,
its time loop replayed as CUDA graphs (:func:`~sciml.physics.steppers.navier_stokes.solve_navier_stokes`).
The initial vorticity of every sample is drawn on the CPU from that sample's own seed (float64),
so a sample does not depend on the device, the batch it is in, or the number of workers: the
batched path equals the per-sample path (``tests/datasets/test_navier_stokes_batched.py``, on the
CPU to 1e-12, bit for bit in practice), and GPU frames equal CPU frames with the same
parameters up to the round-off of the two FFT libraries, grown by the flow's chaos over the
20 time units (the test bounds a short horizon at 1e-9 relative; ``benchmarks/ns_data_gpu.py``
measures the full recipe on a GPU machine).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from sciml.datasets.recipe import Recipe, SampleBatch
from sciml.grid import Grid
from sciml.physics.steppers.navier_stokes import navier_stokes_initial, solve_navier_stokes

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass
class NavierStokesParams:
    """Parameters of ``navier-stokes-2d``: grids, time stepping, viscosity, initial field.

    ``resolution`` of the stored frames, ``solver_resolution``/``dt`` of the solver (0: auto,
    see the module docstring), ``frames`` stored every ``frame_dt``, ``(alpha, tau)`` the
    initial vorticity's GRF spectrum ``(-Δ + tau^2)^(-alpha)``.
    """

    resolution: int = 64
    solver_resolution: int = 0  # 0: 256 with CUDA, else 64
    dt: float = 0.0  # 0: 1e-4 at 256, else 4e-3
    nu: float = 1e-5
    frames: int = 20
    frame_dt: float = 1.0
    alpha: float = 2.5
    tau: float = 7.0


class NavierStokes2D(Recipe):
    """``navier-stokes-2d``: ``w(t=0) [1, n, n]`` -> vorticity frames ``[frames, n, n]``."""

    name = "navier-stokes-2d"
    version = 2  # 2: resolution-consistent random fields (same seed, same field at any size)
    description = "FNO/LSM vorticity benchmark (nu 1e-5, 20 unit-time frames, 64x64)"
    Params = NavierStokesParams
    batch_size = 40  # samples integrated together (one batched FFT per step)
    input_names = ("vorticity_t0",)
    small_params = {
        "resolution": 8,
        "solver_resolution": 8,
        "frames": 1,
        "frame_dt": 0.05,
        "dt": 0.025,
    }

    def params(self, overrides: dict[str, Any] | None = None) -> NavierStokesParams:
        """The parameters with ``overrides``, ``solver_resolution = 0``/``dt = 0`` resolved."""
        p = super().params(overrides)
        if p.solver_resolution == 0:
            p.solver_resolution = 256 if torch.cuda.is_available() else 64
        if p.dt == 0.0:
            p.dt = 1e-4 if p.solver_resolution >= 256 else 4e-3
        self.validate(p)
        return p

    def validate(self, p: NavierStokesParams) -> None:
        if p.resolution < 8 or p.frames < 1 or p.nu <= 0 or p.frame_dt <= 0:
            raise ValueError(
                "params: need resolution >= 8, frames >= 1, nu > 0, frame_dt > 0, got "
                f"resolution={p.resolution}, frames={p.frames}, nu={p.nu}, "
                f"frame_dt={p.frame_dt}"
            )
        if p.solver_resolution and p.solver_resolution % p.resolution:
            raise ValueError(
                f"params: solver_resolution ({p.solver_resolution}) must be a multiple of "
                f"resolution ({p.resolution}): outputs are the solver grid subsampled"
            )
        if p.dt and p.dt > p.frame_dt:
            raise ValueError(f"params: dt ({p.dt}) must be <= frame_dt ({p.frame_dt})")
        if not p.alpha > 0.5 or not p.tau > 0:
            raise ValueError(f"params: need alpha > 0.5 and tau > 0, got {p.alpha}, {p.tau}")

    def channels(self, p: NavierStokesParams) -> tuple[int, int]:
        return 1, p.frames

    @property
    def output_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("vorticity_frames",)

    def grid(self, p: NavierStokesParams) -> Grid:
        return Grid((p.resolution, p.resolution), periodic=True)

    def worker(
        self, p: NavierStokesParams, *, device: torch.device | str | None = None
    ) -> Callable[[np.ndarray], SampleBatch]:
        """``seeds: [b] -> SampleBatch`` on ``device`` (default: CUDA when available)."""

        fine = Grid((p.solver_resolution,) * 2, periodic=True)
        step = p.solver_resolution // p.resolution
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"

        def run(seeds: np.ndarray) -> SampleBatch:
            w0 = navier_stokes_initial(fine, seeds.tolist(), alpha=p.alpha, tau=p.tau,
                                       device=device, dtype=torch.float64)  # fmt: skip
            _, traj = solve_navier_stokes(
                w0, fine, nu=p.nu, t_end=p.frames * p.frame_dt, dt=p.dt, record_steps=p.frames
            )
            inputs = w0[:, :, ::step, ::step].float().cpu().numpy()
            outputs = traj[:, :, ::step, ::step].float().cpu().numpy()
            return SampleBatch(inputs, outputs)

        return run
