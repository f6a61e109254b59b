"""Pseudo-spectral Crank-Nicolson solver for 2-D Navier-Stokes in vorticity form (FNO setting).

Solves ``w_t + u . grad(w) = nu Laplacian(w) + f`` with ``u = (psi_y, -psi_x)`` and
``-Laplacian(psi) = w`` on a periodic 2-D :class:`~sciml.grid.Grid` (axis 0 = x, axis 1 = y),
batched over samples and on the device of the initial vorticity. The time step is the one of
Li et al.'s FNO data generator: Crank-Nicolson for the viscous term, explicit Euler for the
advection (computed pseudo-spectrally with the 2/3 dealiasing rule) and the forcing:

    w_hat^{n+1} = [(1 - dt nu |k|^2 / 2) w_hat^n + dt (f_hat - F_hat^n)] / (1 + dt nu |k|^2 / 2)

so the viscous decay is second order in ``dt`` (a Taylor-Green vortex, whose advection
vanishes, decays at the analytic rate to ~1e-10; ``tests/physics/test_physics_navier_stokes.py``)
and the nonlinear part first order.

>>> import math, torch
>>> from sciml.grid import Grid
>>> g = Grid((32, 32), periodic=True)
>>> x, y = g.coords(dtype=torch.float64)
>>> w0 = (torch.sin(2 * math.pi * x) * torch.sin(2 * math.pi * y))[None, None]
>>> w, _ = solve_navier_stokes(w0, g, nu=1e-2, t_end=0.5, dt=1e-2, forcing=None)
>>> rate = math.exp(-8 * math.pi**2 * 1e-2 * 0.5)
>>> bool(((w - rate * w0).norm() / (rate * w0).norm()) < 1e-4)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from tqdm.auto import tqdm

from sciml.grid import Grid
from sciml.physics._pointwise import on_grid, steady_on_grid
from sciml.physics.fields.random_fields import gaussian_random_field
from sciml.physics.pdes.navier_stokes import NavierStokesVorticity, fno_forcing
from sciml.physics.spectral import wavenumbers

__all__ = ["solve_navier_stokes", "fno_forcing_field", "navier_stokes_initial", "CN_ORDER"]

CN_ORDER = {"viscous": 2, "advection": 1}  # declared orders in dt (tests measure them)


def fno_forcing_field(grid: Grid, device=None, dtype=torch.float32) -> torch.Tensor:
    """:func:`~sciml.physics.pdes.navier_stokes.fno_forcing` at the points of ``grid``:
    ``0.1 (sin 2pi(x + y) + cos 2pi(x + y))``, ``[*grid.shape]`` (one formula, two uses)."""
    return fno_forcing(grid.points(device, dtype)).reshape(grid.shape)


def navier_stokes_initial(
    grid: Grid, seeds, *, alpha: float = 2.5, tau: float = 7.0, device=None, dtype=torch.float32
) -> torch.Tensor:
    """FNO initial vorticity: GRF with ``(-Laplacian + 49)^(-2.5)`` spectrum, ``[B, 1, *shape]``.

    ``sigma = sqrt(2) tau^(alpha - 1)`` reproduces the variance of FNO's ``GaussianRF``
    (complex noise of variance 2 per mode).
    """
    sigma = math.sqrt(2) * tau ** (alpha - grid.ndim / 2)
    return gaussian_random_field(
        grid, seeds, alpha=alpha, tau=tau, sigma=sigma, device=device, dtype=dtype
    )


def _check_grid(grid: Grid) -> None:
    if not isinstance(grid, Grid) or grid.ndim != 2 or not all(grid.periodic):
        raise ValueError(f"grid must be a 2-D sciml.grid.Grid periodic on both axes, got {grid!r}")


def solve_navier_stokes(
    pde_or_w0: NavierStokesVorticity | torch.Tensor,
    grid: Grid,
    *,
    w0: torch.Tensor | None = None,
    nu: float | None = None,
    t_end: float,
    dt: float = 1e-4,
    forcing: torch.Tensor | Callable | str | None = "fno",
    record_steps: int = 1,
    dealias: bool = True,
    progress: bool = False,
    cuda_graph: bool | None = None,
    graph_steps: int = 100,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Integrate vorticity from ``t = 0`` to ``t_end``.

    Args:
        pde_or_w0: a :class:`~sciml.physics.pdes.navier_stokes.NavierStokesVorticity` object
            (``nu`` and the forcing, sampled at the grid points and steady, come from it;
            ``w0=`` gives the initial vorticity, else its ``initial``, read as the initial
            VORTICITY ``w0(x: [N, 2])``, sampled at the grid points in float64), or (the older
            form) the initial vorticity ``w0: [B, 1, nx, ny]`` (or ``[B, nx, ny]``) itself;
            device and dtype are used.
        grid: periodic 2-D grid (on the PDE's domain).
        w0: initial vorticity for a PDE object.
        nu: viscosity (> 0); only with a tensor ``w0``.
        t_end: final time; ``ceil(t_end / dt)`` steps are taken (the last one shortened so
            the run ends exactly at ``t_end``).
        dt: time step.
        forcing: ``"fno"`` (default, :func:`fno_forcing_field`), a field ``[nx, ny]`` or
            ``[B, 1, nx, ny]``, a callable ``grid -> field``, or None (no forcing); with a PDE
            object it must be left at its default (the object's forcing is used).
        record_steps: number of snapshots, evenly spaced in ``(0, t_end]``.
        dealias: apply the 2/3 rule to the advection term.
        progress: show a tqdm progress bar.
        cuda_graph: on CUDA, capture ``graph_steps`` full steps as one CUDA graph and replay
            it (default: on CUDA). The steps are the eager ones, so the result is the same bit
            for bit; only the ~15 kernel launches per step are saved. Ignored on the CPU.
        graph_steps: steps per captured graph (chunks never cross a recorded frame or the
            shortened last step, which run eagerly).

    Returns:
        ``(w, trajectory)``: the final vorticity ``[B, 1, nx, ny]`` and snapshots
        ``[B, record_steps, nx, ny]`` (time as channels, the FNO data layout).
    """
    _check_grid(grid)
    if isinstance(pde_or_w0, NavierStokesVorticity):
        pde = pde_or_w0
        pde.check_grid(grid)
        if nu is not None or not (isinstance(forcing, str) and forcing == "fno"):
            raise ValueError("nu and forcing come from the PDE object; leave them unset")
        nu = pde.nu
        forcing = (
            None if pde.forcing is None else steady_on_grid(pde.forcing, grid, t_end, "forcing")
        )
        if w0 is None:
            if pde.initial is None:
                raise ValueError("give w0= or set the PDE object's initial (vorticity)")
            w0 = on_grid(pde.initial, grid)[None, None]
    else:
        if w0 is not None:
            raise ValueError("w0 is given twice (positionally and as w0=)")
        if nu is None:
            raise ValueError("nu is required with a tensor w0 (or pass a NavierStokesVorticity)")
        w0 = pde_or_w0
    if not isinstance(w0, torch.Tensor):
        raise TypeError(f"w0 must be a torch.Tensor [B, 1, nx, ny], got {type(w0)}")
    w = w0[:, None] if w0.ndim == 3 else w0
    grid.check_field(w, "w0", channels=1)
    if not (nu > 0 and t_end > 0 and dt > 0):
        raise ValueError(f"need nu > 0, t_end > 0 and dt > 0, got {nu}, {t_end}, {dt}")
    if record_steps < 1:
        raise ValueError(f"record_steps must be >= 1, got {record_steps}")
    if not isinstance(graph_steps, int) or graph_steps < 1:
        raise ValueError(f"graph_steps must be a positive int, got {graph_steps!r}")
    device, dtype = w.device, w.dtype
    w = w[:, 0]
    nx, ny = grid.shape

    if isinstance(forcing, str):
        if forcing != "fno":
            raise ValueError(
                f"forcing must be 'fno', a tensor, a callable or None, got {forcing!r}"
            )
        f = fno_forcing_field(grid, device, dtype)
    elif callable(forcing):
        f = torch.as_tensor(forcing(grid), device=device, dtype=dtype)
    elif forcing is None:
        f = None
    else:
        f = torch.as_tensor(forcing, device=device, dtype=dtype)
    if f is not None:
        f = f.reshape(-1, nx, ny) if f.ndim == 4 else f
        if tuple(f.shape[-2:]) != (nx, ny):
            raise ValueError(
                f"forcing must be [{nx}, {ny}] or [B, 1, {nx}, {ny}], got {list(f.shape)}"
            )
        f_h = torch.fft.rfft2(f)

    kx = wavenumbers(grid, 0, device=device, dtype=dtype)[:, None]
    ky = wavenumbers(grid, 1, real=True, device=device, dtype=dtype)[None, :]
    k2 = kx**2 + ky**2
    inv_k2 = torch.where(k2 > 0, 1.0 / torch.where(k2 > 0, k2, 1.0), 0.0)
    ix = torch.fft.fftfreq(nx, device=device).abs()[:, None] * nx  # |integer mode|
    iy = torch.fft.rfftfreq(ny, device=device)[None, :] * ny
    mask = ((ix <= 2 / 3 * (nx // 2)) & (iy <= 2 / 3 * (ny // 2))).to(dtype) if dealias else 1.0

    steps = max(1, math.ceil(t_end / dt - 1e-9))
    # steps whose result is a snapshot (step 0, the initial state, never is)
    record_at = sorted({round(steps * (j + 1) / record_steps) for j in range(record_steps)} - {0})

    def advance(w_h: torch.Tensor, h: float) -> torch.Tensor:
        psi_h = w_h * inv_k2
        # psi_y, -psi_x, w_x, w_y in one inverse FFT
        grads = torch.stack([ky * psi_h, -kx * psi_h, kx * w_h, ky * w_h]) * 1j
        u, v, w_x, w_y = torch.fft.irfft2(grads, s=(nx, ny))
        adv_h = torch.fft.rfft2(u * w_x + v * w_y) * mask
        rhs = -h * adv_h if f is None else h * (f_h - adv_h)
        return ((1 - 0.5 * h * nu * k2) * w_h + rhs) / (1 + 0.5 * h * nu * k2)

    def step_size(step: int) -> float:
        return min(dt, t_end - (step - 1) * dt)

    snapshots = []
    w_h = torch.fft.rfft2(w)
    if cuda_graph is None:
        cuda_graph = device.type == "cuda"
    chunk = (
        _GraphChunk(advance, w_h, dt, graph_steps) if cuda_graph and device.type == "cuda" else None
    )
    bar = None
    if progress:
        pass

        bar = tqdm(total=steps, desc="navier-stokes", unit="step")
    step, rec = 1, 0
    while step <= steps:
        nxt = record_at[rec]  # the next step whose result is recorded
        if (
            chunk is not None
            and step + chunk.steps - 1 <= nxt
            and step_size(step + chunk.steps - 1) == dt
        ):
            w_h = chunk(w_h)  # graph_steps full steps in one replay
            step += chunk.steps
        else:
            w_h = advance(w_h, step_size(step))
            step += 1
        if bar is not None:
            bar.n = step - 1
            bar.refresh()
        if step - 1 == nxt:
            snapshots.append(torch.fft.irfft2(w_h, s=(nx, ny)))
            rec = min(rec + 1, len(record_at) - 1)
    if bar is not None:
        bar.close()
    w = torch.fft.irfft2(w_h, s=(nx, ny))
    return w[:, None], torch.stack(snapshots, dim=1)


class _GraphChunk:
    """``steps`` full time steps captured once as a CUDA graph and replayed (no launch gaps).

    Replays run the same kernels on the same data as the eager steps, so the result equals the
    eager loop's on that device bit for bit (``tests/physics/test_physics_gpu.py``).
    """

    def __init__(self, advance, w_h: torch.Tensor, dt: float, steps: int) -> None:
        self.steps = steps
        self.buf = w_h.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up: cuFFT plans, allocator pools
            for _ in range(2):
                self._run(advance, dt)
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self._run(advance, dt)

    def _run(self, advance, dt: float) -> None:
        for _ in range(self.steps):
            self.buf.copy_(advance(self.buf, dt))

    def __call__(self, w_h: torch.Tensor) -> torch.Tensor:
        self.buf.copy_(w_h)
        self.graph.replay()
        return self.buf.clone()
