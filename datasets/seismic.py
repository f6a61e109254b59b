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

from sciml.datasets.loaders import split_indices
from sciml.datasets.recipe import Recipe, SampleBatch
from sciml.grid import Grid
from sciml.physics.seismic import Survey, simulate, velocity_models
from sciml.physics.seismic.acoustic_fd import simulate_fd
from sciml.physics.seismic.velocity_models import openfwi_grid, openfwi_velocity


@dataclass
class SeismicParams:
    """Acquisition and layered-model parameters of the deepwave seismic recipes.

    ``resolution`` grid points per side at ``spacing`` metres, ``n_sources`` shots, ``nt``
    time steps of ``dt`` seconds, Ricker peak frequency ``freq`` (Hz), ``min_layers`` to
    ``max_layers`` layers with velocities in ``[v_min, v_max]`` (m/s), FD ``accuracy``.
    """

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

        return openfwi_grid(p.resolution, p.spacing)

    def shapes(self, p: SeismicParams):
        return (1, p.resolution, p.resolution), (p.n_sources, p.nt, p.resolution)

    def worker(self, p: SeismicParams):

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
    """``seismic-flatvel``: flat-layered velocity ``[1, n, n]`` -> gathers ``[S, nt, n]``."""

    name = "seismic-flatvel"
    version = 1
    description = "OpenFWI FlatVel-style layers -> 5 shot gathers (deepwave)"
    family = "flat_layers"


class SeismicCurveVel(_SeismicRecipe):
    """``seismic-curvevel``: curved-layer velocity ``[1, n, n]`` -> gathers ``[S, nt, n]``."""

    name = "seismic-curvevel"
    version = 1
    description = "OpenFWI CurveVel-style curved layers -> 5 shot gathers (deepwave)"
    family = "curved_layers"


# --------------------------------------------------------------------------------------------
# The eight OpenFWI families, simulated by the OpenFWI scheme (pure torch, no deepwave)
# --------------------------------------------------------------------------------------------

#: OpenFWI's published statistics per family (GFI's ``dataset_config.json``, computed on the
#: released data): seismic min / max / mean / std and velocity mean / std (m/s).
OPENFWI_STATISTICS: dict[str, dict[str, float]] = {
    "flatvel-a": dict(data_min=-26.95, data_max=52.77, data_mean=-3.3804e-05, data_std=1.4797,
                      label_mean=2782.0442, label_std=786.1557),
    "curvevel-a": dict(data_min=-27.11, data_max=55.10, data_mean=-5.0961e-05, data_std=1.4870,
                       label_mean=2788.1562, label_std=794.2432),
    "flatvel-b": dict(data_min=-27.17, data_max=56.05, data_mean=-0.0002, data_std=1.7832,
                      label_mean=3001.3389, label_std=866.6636),
    "curvevel-b": dict(data_min=-29.04, data_max=57.03, data_mean=-0.0002, data_std=1.7648,
                       label_mean=3000.5669, label_std=865.4404),
    "flatfault-a": dict(data_min=-26.10, data_max=50.86, data_mean=-0.00043503, data_std=1.5410,
                        label_mean=3088.6873, label_std=855.37024),
    "curvefault-a": dict(data_min=-26.48, data_max=52.32, data_mean=-0.00045604,
                         data_std=1.5449, label_mean=3082.6616, label_std=852.38995),
    "flatfault-b": dict(data_min=-24.86, data_max=50.28, data_mean=-0.0001, data_std=1.4952,
                        label_mean=3055.4231, label_std=875.8992),
    "curvefault-b": dict(data_min=-24.93, data_max=50.98, data_mean=-8.8825e-05,
                         data_std=1.50228, label_mean=3035.5576, label_std=890.48785),
}  # fmt: skip


@dataclass
class OpenFWIParams:
    """The OpenFWI acquisition and scheme (defaults) for one family."""

    resolution: int = 70
    spacing: float = 10.0
    n_sources: int = 5
    nt: int = 1000
    dt: float = 1e-3
    freq: float = 15.0
    #: the Ricker wavelet's peak delay in seconds; OpenFWI's wavelet peaks at 1.1 / freq
    peak_time: float = 1.1 / 15.0
    order: int = 8
    nbc: int = 120
    convention: str = "openfwi"
    v_min: float = 1500.0
    v_max: float = 4500.0
    #: ``"torch"``: the OpenFWI scheme (damping layer of ``nbc`` cells), pure torch, any
    #: device; ``"deepwave"``: deepwave's CFS-CPML (20 cells) with the same 8th-order stencil,
    #: about 6x faster on a CPU; its gathers agree with the torch scheme's to ~0.6 %
    #: (tests/physics), in the same ``convention``
    propagator: str = "torch"


class _OpenFWIRecipe(Recipe):
    Params = OpenFWIParams
    version = 1
    small_params = {"resolution": 16, "nt": 20, "n_sources": 1, "nbc": 10}
    batch_size = 8
    input_names = ("velocity",)
    output_names = ("gathers",)
    family = ""

    def validate(self, p: OpenFWIParams) -> None:
        if p.resolution < 16 or p.nt < 10 or p.n_sources < 1:
            raise ValueError("params: need resolution >= 16, nt >= 10, n_sources >= 1")
        if not 0 < p.v_min < p.v_max:
            raise ValueError("params: need 0 < v_min < v_max")
        if p.order not in (2, 4, 6, 8):
            raise ValueError(f"params: order must be 2, 4, 6 or 8, got {p.order}")
        if p.nbc < 0:
            raise ValueError(f"params: nbc must be >= 0, got {p.nbc}")
        if p.convention not in ("openfwi", "physical"):
            raise ValueError(
                f"params: convention must be openfwi or physical, got {p.convention!r}"
            )
        if p.propagator not in ("torch", "deepwave"):
            raise ValueError(f"params: propagator must be torch or deepwave, got {p.propagator!r}")

    def grid(self, p: OpenFWIParams) -> Grid:

        return openfwi_grid(p.resolution, p.spacing)

    def shapes(self, p: OpenFWIParams) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return (1, p.resolution, p.resolution), (p.n_sources, p.nt, p.resolution)

    def worker(self, p: OpenFWIParams):

        grid = self.grid(p)
        survey = Survey.openfwi(
            grid, n_sources=p.n_sources, nt=p.nt, dt=p.dt, freq=p.freq, max_vel=p.v_max,
            peak_time=p.peak_time,
        )  # fmt: skip
        device = "cuda" if torch.cuda.is_available() else "cpu"

        # deepwave records u(t = n dt) ("physical"); the OpenFWI convention is the cell area
        # times the field one step later: simulate one more step and shift
        longer = Survey.openfwi(
            grid, n_sources=p.n_sources, nt=p.nt + 1, dt=p.dt, freq=p.freq, max_vel=p.v_max,
            peak_time=p.peak_time,
        )  # fmt: skip

        def run(seeds: np.ndarray) -> SampleBatch:
            v = openfwi_velocity(self.family, grid, seeds.tolist(), velocity=(p.v_min, p.v_max),
                                 device=device)  # fmt: skip
            with torch.no_grad():
                if p.propagator == "deepwave":
                    if p.convention == "openfwi":
                        d = simulate(v.float(), grid, longer, accuracy=p.order)[:, :, 1:]
                        data = d * (grid.spacing[0] * grid.spacing[1])
                    else:
                        data = simulate(v.float(), grid, survey, accuracy=p.order)
                else:
                    data = simulate_fd(v, grid, survey, order=p.order, nbc=p.nbc,
                                       convention=p.convention)  # fmt: skip
            return SampleBatch(v.float().cpu().numpy(), data.float().cpu().numpy())

        return run


class SeismicFlatVelA(_OpenFWIRecipe):
    """OpenFWI FlatVel-A: velocity ``[1, 70, 70]`` -> gathers ``[5, 1000, 70]`` (defaults)."""

    name = "seismic-flatvel-a"
    description = "OpenFWI FlatVel-A: velocity -> 5 shot gathers (OpenFWI FD scheme, torch)"
    family = "flatvel-a"


class SeismicFlatVelB(_OpenFWIRecipe):
    """OpenFWI FlatVel-B: velocity ``[1, 70, 70]`` -> gathers ``[5, 1000, 70]`` (defaults)."""

    name = "seismic-flatvel-b"
    description = "OpenFWI FlatVel-B: velocity -> 5 shot gathers (OpenFWI FD scheme, torch)"
    family = "flatvel-b"


class SeismicCurveVelA(_OpenFWIRecipe):
    """OpenFWI CurveVel-A: velocity ``[1, 70, 70]`` -> gathers ``[5, 1000, 70]`` (defaults)."""

    name = "seismic-curvevel-a"
    description = "OpenFWI CurveVel-A: velocity -> 5 shot gathers (OpenFWI FD scheme, torch)"
    family = "curvevel-a"


class SeismicCurveVelB(_OpenFWIRecipe):
    """OpenFWI CurveVel-B: velocity ``[1, 70, 70]`` -> gathers ``[5, 1000, 70]`` (defaults)."""

    name = "seismic-curvevel-b"
    description = "OpenFWI CurveVel-B: velocity -> 5 shot gathers (OpenFWI FD scheme, torch)"
    family = "curvevel-b"


class SeismicFlatFaultA(_OpenFWIRecipe):
    """OpenFWI FlatFault-A: velocity ``[1, 70, 70]`` -> gathers ``[5, 1000, 70]`` (defaults)."""

    name = "seismic-flatfault-a"
    description = "OpenFWI FlatFault-A: velocity -> 5 shot gathers (OpenFWI FD scheme, torch)"
    family = "flatfault-a"


class SeismicFlatFaultB(_OpenFWIRecipe):
    """OpenFWI FlatFault-B: velocity ``[1, 70, 70]`` -> gathers ``[5, 1000, 70]`` (defaults)."""

    name = "seismic-flatfault-b"
    description = "OpenFWI FlatFault-B: velocity -> 5 shot gathers (OpenFWI FD scheme, torch)"
    family = "flatfault-b"


class SeismicCurveFaultA(_OpenFWIRecipe):
    """OpenFWI CurveFault-A: velocity ``[1, 70, 70]`` -> gathers ``[5, 1000, 70]`` (defaults)."""

    name = "seismic-curvefault-a"
    description = "OpenFWI CurveFault-A: velocity -> 5 shot gathers (OpenFWI FD scheme, torch)"
    family = "curvefault-a"


class SeismicCurveFaultB(_OpenFWIRecipe):
    """OpenFWI CurveFault-B: velocity ``[1, 70, 70]`` -> gathers ``[5, 1000, 70]`` (defaults)."""

    name = "seismic-curvefault-b"
    description = "OpenFWI CurveFault-B: velocity -> 5 shot gathers (OpenFWI FD scheme, torch)"
    family = "curvefault-b"


def openfwi_splits(
    n: int, *, val: float = 0.1, test: float = 0.2, seed: int = 0
) -> dict[str, np.ndarray]:
    """Train / validation / test indices of an ``n``-sample OpenFWI-style set.

    As OpenFWI, the test split is the last ``test`` fraction of the samples (its files
    49-60 of 60); the validation split is a seeded random ``val`` fraction of the rest,
    carved from training, so checkpoints are selected without looking at the test set.

    >>> s = openfwi_splits(100)
    >>> [len(s[k]) for k in ("train", "val", "test")], int(s["test"].min())
    ([72, 8, 20], 80)
    """

    if not isinstance(n, (int, np.integer)) or n < 3:
        raise ValueError(f"n must be an int >= 3, got {n!r}")
    if not (0 < val < 1 and 0 < test < 1 and val + test < 1):
        raise ValueError(
            f"val and test must be fractions in (0, 1) summing below 1, got {val}, {test}"
        )
    n_test = max(1, int(round(test * n)))
    n_rest = n - n_test
    n_val = max(1, int(round(val * n_rest)))
    val_idx, train_idx = split_indices(n_rest, [n_val, n_rest - n_val], seed=seed)
    return {
        "train": np.sort(train_idx),
        "val": np.sort(val_idx),
        "test": np.arange(n_rest, n),
    }
