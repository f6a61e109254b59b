"""2-D acoustic wave propagation (seismic shot gathers) through deepwave, on a Grid.

The engine's interface is a velocity map on a :class:`~sciml.grid.Grid` (axis 0 = depth ``z``,
axis 1 = ``x``; coordinates in metres), a :class:`Survey` (source and receiver positions in
the grid's coordinates, a source wavelet and the time step) and :func:`simulate`, which
returns receiver data ``[B, S, nt, R]`` (the OpenFWI layout: sample, shot, time, receiver).
Deepwave (``deepwave.scalar``: C/CUDA kernels, CFS-CPML absorbing layers, spatial accuracy
2-8, gradients for full-waveform inversion) does the propagation; every shot of every sample
runs in one batched call (deepwave's batched models), on the velocity's device.

Sign and amplitude convention (``convention="physical"``, the default). The data are the
pressure-like field ``u`` of

    u_tt - c(x)^2 Laplacian(u) = c(x)^2 w(t) delta(x - x_s)

with ``w`` the survey's wavelet, a point source of unit strength, ``u = 0`` before ``t = 0``.
In a homogeneous 2-D medium ``u = w * G`` with ``G(r, t) = H(t - r/c) / (2 pi sqrt(t^2 - r^2/c^2))``,
so a positive wavelet arrives positive (with the 2-D half-integration's 45 degree phase tail)
and the amplitude decays like ``1/sqrt(r)``. ``tests/physics/test_physics_seismic.py`` checks
this against the frequency-domain solution ``(-i / 4) H0^(2)(omega r / c)`` (correlation
> 0.999, amplitude within 2 %). Deepwave's own output for the same source is
``-dx dz`` times this (its source term is the right-hand side of a point cell, with the
opposite sign); ``convention="deepwave"`` returns that raw output.

The OpenFWI recipe (Deng et al. 2022): 70 x 70 velocity map at 10 m, 5 sources evenly spaced
along the top at 10 m depth, 70 receivers at 10 m depth, 1000 steps of 1 ms, 15 Hz Ricker
wavelet (:meth:`Survey.openfwi`). OpenFWI's released data come from its own finite-difference
code, so amplitudes differ from ours by a constant factor; arrival times and waveforms agree.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch

from sciml.grid import Grid
from sciml.physics.seismic.velocity_models import openfwi_grid

__all__ = ["Survey", "check_velocity", "ricker", "simulate", "envelope"]

_CONVENTIONS = ("physical", "deepwave")


def ricker(
    freq: float,
    nt: int,
    dt: float,
    peak_time: float | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Ricker wavelet ``(1 - 2 pi^2 f^2 tau^2) exp(-pi^2 f^2 tau^2)``, ``tau = t - peak_time``.

    Returns ``[nt]`` sampled at ``t = i dt``; ``peak_time`` defaults to ``1.5 / freq`` (the
    wavelet then starts at ~0). Its peak value is 1.
    """
    if not (freq > 0 and dt > 0 and nt >= 1):
        raise ValueError(f"need freq > 0, dt > 0 and nt >= 1, got {freq}, {dt}, {nt}")
    peak_time = 1.5 / freq if peak_time is None else float(peak_time)
    tau = torch.arange(nt, dtype=torch.float64) * dt - peak_time
    a = (math.pi * freq * tau) ** 2
    return ((1 - 2 * a) * torch.exp(-a)).to(dtype)


@dataclass
class Survey:
    """Acquisition geometry and source signature.

    Attributes:
        sources: ``[S, 2]`` source positions ``(z, x)`` in the grid's coordinates; one source
            per shot.
        receivers: ``[R, 2]`` receiver positions ``(z, x)``, shared by all shots.
        wavelet: ``[nt]`` source time function (see :func:`ricker`).
        dt: time step of the wavelet and of the output (deepwave may sub-step internally
            to satisfy the CFL condition).
        freq: the wavelet's dominant frequency (tunes the absorbing layer); optional.
        max_vel: velocity ceiling handed to deepwave, which sets its internal time sub-step
            and absorbing-layer profile from it. Fix it (the OpenFWI survey uses 4500 m/s, its
            families' upper bound) to make each sample's data independent of which other
            samples share its batch; None uses the batch maximum (results then depend on
            the batch at the ~1e-3 level).
    """

    sources: torch.Tensor
    receivers: torch.Tensor
    wavelet: torch.Tensor
    dt: float
    freq: float | None = None
    max_vel: float | None = None

    def __post_init__(self) -> None:
        self.sources = torch.as_tensor(self.sources, dtype=torch.float64)
        self.receivers = torch.as_tensor(self.receivers, dtype=torch.float64)
        self.wavelet = torch.as_tensor(self.wavelet)
        for name in ("sources", "receivers"):
            t = getattr(self, name)
            if t.ndim != 2 or t.shape[1] != 2 or t.shape[0] < 1:
                raise ValueError(f"{name} must be [N, 2] positions (z, x), got {list(t.shape)}")
        if self.wavelet.ndim != 1 or self.wavelet.numel() < 2:
            raise ValueError(f"wavelet must be a 1-D tensor [nt], got {list(self.wavelet.shape)}")
        if not self.dt > 0:
            raise ValueError(f"dt must be > 0, got {self.dt}")

    @property
    def nt(self) -> int:
        return self.wavelet.numel()

    def dominant_frequency(self) -> float:
        """``freq`` if given, else the peak of the wavelet's amplitude spectrum (Hz if dt in s)."""
        if self.freq is not None:
            return float(self.freq)
        spec = torch.fft.rfft(self.wavelet.double(), n=4 * self.nt).abs()
        spec[0] = 0.0
        return float(torch.fft.rfftfreq(4 * self.nt, d=self.dt)[spec.argmax()])

    @classmethod
    def openfwi(
        cls,
        grid: Grid | None = None,
        *,
        n_sources: int = 5,
        depth: float = 10.0,
        nt: int = 1000,
        dt: float = 1e-3,
        freq: float = 15.0,
        max_vel: float | None = 4500.0,
        peak_time: float | None = None,
    ) -> Survey:
        """The OpenFWI acquisition on ``grid`` (default 70 x 70 at 10 m): ``n_sources`` sources
        evenly spaced from the left to the right edge and a receiver at every grid column, all
        at ``depth``; ``nt`` steps of ``dt``; Ricker wavelet of ``freq`` Hz. ``max_vel`` is
        the velocity ceiling (OpenFWI's families stay below 4500 m/s; pass your own upper
        bound for faster media, or None for the per-batch maximum). ``peak_time`` is the
        wavelet's peak delay (default ``1.5 / freq``; OpenFWI's released data peak at
        ``1.1 / freq``, 73 ms at 15 Hz)."""
        if grid is None:
            grid = openfwi_grid()
        x = grid.axes(dtype=torch.float64)[1]
        iz = round((depth - grid.offset(0)) / grid.spacing[0])
        z = grid.offset(0) + iz * grid.spacing[0]
        cols = torch.linspace(0, grid.shape[1] - 1, n_sources, dtype=torch.float64).round().long()
        sources = torch.stack([torch.full((n_sources,), z, dtype=torch.float64), x[cols]], 1)
        receivers = torch.stack([torch.full_like(x, z), x], 1)
        wavelet = ricker(freq, nt, dt, peak_time=peak_time)
        return cls(sources, receivers, wavelet, dt, freq, max_vel=max_vel)


def _indices(points: torch.Tensor, grid: Grid, name: str) -> torch.Tensor:
    """Grid indices ``[N, 2]`` of positions that must lie on grid points."""
    off = torch.tensor([grid.offset(0), grid.offset(1)], dtype=torch.float64)
    h = torch.tensor(grid.spacing, dtype=torch.float64)
    s = (points - off) / h
    idx = torch.round(s)
    if (s - idx).abs().max() > 1e-6:
        raise ValueError(f"{name} must lie on grid points (spacing {grid.spacing})")
    n = torch.tensor(grid.shape, dtype=torch.float64)
    if (idx < 0).any() or (idx >= n).any():
        raise ValueError(f"{name} must lie inside the grid {grid.bounds}")
    return idx.long()


def check_velocity(velocity: torch.Tensor, grid: Grid) -> tuple[torch.Tensor, bool]:
    """Validate a velocity model on ``grid`` for the propagators: ``[nz, nx]``,
    ``[B, nz, nx]`` or ``[B, 1, nz, nx]``, floating point, finite and > 0. Returns
    ``(v [B, nz, nx], unbatched)``; errors name ``velocity`` and the expected shape."""
    if not isinstance(velocity, torch.Tensor):
        raise TypeError(f"velocity must be a torch.Tensor [B, 1, nz, nx], got {type(velocity)}")
    unbatched = velocity.ndim == 2
    v = velocity[None] if unbatched else velocity
    if v.ndim == 4:
        if v.shape[1] != 1:
            raise ValueError(f"velocity must have one channel, got {list(velocity.shape)}")
        v = v[:, 0]
    if v.ndim != 3 or tuple(v.shape[1:]) != grid.shape:
        raise ValueError(
            f"velocity must be [B, 1, {grid.shape[0]}, {grid.shape[1]}] for this grid, "
            f"got {list(velocity.shape)}"
        )
    if not v.dtype.is_floating_point:
        raise ValueError(f"velocity must be a floating-point tensor, got {v.dtype}")
    if not torch.isfinite(v.detach()).all() or (v.detach() <= 0).any():
        raise ValueError("velocity must be finite and > 0")
    return v, unbatched


def simulate(
    velocity: torch.Tensor,
    grid: Grid,
    survey: Survey,
    *,
    accuracy: int = 4,
    pml_width: int = 20,
    convention: str = "physical",
    chunk: int | None = None,
) -> torch.Tensor:
    """Shot gathers for velocity maps.

    Args:
        velocity: ``[B, 1, nz, nx]``, ``[B, nz, nx]`` or ``[nz, nx]`` wave speed on ``grid``
            (positive); its device and dtype are used (float32 is deepwave's fast path).
            Differentiable (full-waveform inversion).
        grid: 2-D grid (axis 0 depth, axis 1 x); spacings are the finite-difference spacings.
        survey: sources, receivers, wavelet, dt.
        accuracy: spatial finite-difference order (2, 4, 6 or 8).
        pml_width: absorbing (CFS-CPML) layer width in cells, added outside the model.
        convention: ``"physical"`` (see the module docstring) or ``"deepwave"`` (raw).
        chunk: at most this many samples per deepwave call (bounds memory); default all.

    Returns:
        ``[B, S, nt, R]`` receiver data (``[S, nt, R]`` for an unbatched velocity).
    """
    # heavy optional dependency (deepwave): loaded when first used
    import deepwave

    if not isinstance(grid, Grid) or grid.ndim != 2:
        raise ValueError(f"grid must be a 2-D sciml.grid.Grid, got {grid!r}")
    if convention not in _CONVENTIONS:
        raise ValueError(f"convention must be one of {_CONVENTIONS}, got {convention!r}")
    v, unbatched = check_velocity(velocity, grid)
    b, device, dtype = v.shape[0], v.device, v.dtype
    vmax = float(v.detach().max())
    if survey.max_vel is not None and vmax > survey.max_vel:
        raise ValueError(f"velocity reaches {vmax:.6g}, above survey.max_vel={survey.max_vel}")
    src = _indices(survey.sources, grid, "survey.sources").to(device)
    rec = _indices(survey.receivers, grid, "survey.receivers").to(device)
    n_src, n_rec, nt = src.shape[0], rec.shape[0], survey.nt
    wavelet = survey.wavelet.to(device=device, dtype=dtype)
    chunk = b if chunk is None else max(1, int(chunk))
    freq = survey.freq if survey.freq is not None else survey.dominant_frequency()
    outputs = []
    for start in range(0, b, chunk):  # chunks of samples; all their shots in one call
        vb = v[start : start + chunk]
        nb = vb.shape[0]
        models = vb.repeat_interleave(n_src, dim=0)  # [nb * S, nz, nx]
        amps = wavelet.expand(nb * n_src, 1, nt).contiguous()
        src_loc = src[:, None, :].repeat(nb, 1, 1)  # [nb * S, 1, 2]
        rec_loc = rec[None].expand(nb * n_src, n_rec, 2).contiguous()
        with warnings.catch_warnings():  # deepwave's sampling advice is repeated per call
            warnings.simplefilter("ignore", UserWarning)
            out = deepwave.scalar(
                models,
                list(grid.spacing),
                survey.dt,
                source_amplitudes=amps,
                source_locations=src_loc,
                receiver_locations=rec_loc,
                accuracy=accuracy,
                pml_width=pml_width,
                pml_freq=freq,
                max_vel=survey.max_vel,
            )
        data = out[-1]  # [nb * S, R, nt]
        outputs.append(data.reshape(nb, n_src, n_rec, nt).transpose(2, 3))
    data = torch.cat(outputs, 0)
    if convention == "physical":
        data = data * (-1.0 / (grid.spacing[0] * grid.spacing[1]))
    return data[0] if unbatched else data


def envelope(traces: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Amplitude envelope ``|trace + i Hilbert(trace)|`` along ``dim`` (via the FFT)."""
    n = traces.shape[dim]
    spec = torch.fft.fft(traces, dim=dim)
    h = torch.zeros(n, dtype=traces.dtype, device=traces.device)
    h[0] = 1
    if n % 2 == 0:
        h[n // 2] = 1
        h[1 : n // 2] = 2
    else:
        h[1 : (n + 1) // 2] = 2
    shape = [1] * traces.ndim
    shape[dim] = n
    return torch.fft.ifft(spec * h.reshape(shape), dim=dim).abs()
