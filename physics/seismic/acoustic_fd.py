"""The OpenFWI finite-difference scheme for 2-D acoustic shot gathers, in pure torch.

:func:`simulate_fd` is the engine's second seismic propagator, beside the deepwave-backed
:func:`sciml.physics.seismic.simulate`. It takes the same inputs (a velocity map on a
:class:`~sciml.grid.Grid`, a :class:`~sciml.physics.seismic.Survey`) and returns the same
``[B, S, nt, R]`` gathers, but needs nothing beyond torch: it runs wherever torch runs (CPU,
CUDA), batches every shot of every model in one tensor, and is differentiable by autograd
(full-waveform inversion), with gradient checkpointing over blocks of time steps so that
memory grows like ``sqrt(nt)`` instead of ``nt``.

The scheme is the one OpenFWI's data were made with (Deng et al. 2022, after the CSIM
``FD2.8`` laboratory code): the constant-density acoustic equation with a damping term in an
absorbing layer,

    u_tt + gamma(x) u_t - c(x)^2 Laplacian(u) = c(x)^2 w(t) delta(x - x_s),

explicit leapfrog in time (2nd order) and a central ``order``-point Laplacian in space (8th
order by default: weights ``-205/72, 8/5, -1/5, 8/315, -1/560``). The update is

    u^{n+1} = (2 + c_0 (c dt)^2 (1/dz^2 + 1/dx^2) - gamma dt) u^n - (1 - gamma dt) u^{n-1}
              + (c dt)^2 (L_z u^n / dz^2 + L_x u^n / dx^2) + (c dt)^2 w^n / (dz dx) [source cell]

with ``L_z``, ``L_x`` the off-centre parts of the stencil. The model is padded by ``nbc``
cells on every side (velocity replicated from the edge) where the damping grows
quadratically, ``gamma(d) = kappa (d / a)^2`` with ``d`` the distance into the layer,
``a = (nbc - 1) h`` and ``kappa = 3 v_min ln(10^7) / (2 a)`` (``v_min`` per model).
OpenFWI uses ``nbc = 120``: waves that reach the layer in one second never come back.

Conventions (``convention=``):

* ``"physical"`` (default): the same as :func:`sciml.physics.seismic.simulate` -- ``u`` at
  ``t = n dt`` for a unit point source; a positive wavelet arrives positive.
* ``"openfwi"``: OpenFWI's released amplitudes -- ``dz dx`` times the physical field (the
  CSIM code adds ``(c dt)^2 w`` to the source cell without dividing by the cell area), and
  sample ``n`` holds the field one step after the source sample ``n`` is injected (the CSIM
  loop records after the update). With the OpenFWI survey this gives FlatVel-like data with
  a standard deviation near OpenFWI's published 1.48 (``tests/datasets``). Users who
  re-simulated OpenFWI with deepwave saw the opposite sign: deepwave's raw output is
  ``-dz dx`` times the physical field.

>>> from sciml.physics.seismic import Survey
>>> from sciml.physics.seismic.velocity_models import flat_layers, openfwi_grid
>>> grid = openfwi_grid()
>>> survey = Survey.openfwi(grid, nt=50)
>>> d = simulate_fd(flat_layers(grid, [0, 1]), grid, survey, nbc=20, compile=False)
>>> tuple(d.shape)
(2, 5, 50, 70)
"""

from __future__ import annotations

import math
import shutil
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from sciml.grid import Grid
from sciml.physics.fd import stencil_weights
from sciml.physics.seismic.deepwave import Survey, _indices, check_velocity

__all__ = ["simulate_fd", "laplacian_weights", "stability_number", "damping_profile"]

_CONVENTIONS = ("physical", "openfwi")
_ORDERS = (2, 4, 6, 8)
#: reflection coefficient the damping layer is tuned for (OpenFWI's ln(10^7))
_REFLECTION = 1e-7


@lru_cache(maxsize=8)
def laplacian_weights(order: int) -> tuple[float, ...]:
    """Central second-derivative weights ``(c_0, c_1, ..., c_m)``, ``m = order / 2``.

    ``sum_k c_|k| f(x + k h) = h^2 f''(x) + O(h^(order + 2))``; order 8 gives
    ``(-205/72, 8/5, -1/5, 8/315, -1/560)``.
    """
    if order not in _ORDERS:
        raise ValueError(f"order must be one of {_ORDERS}, got {order!r}")
    m = order // 2
    w = stencil_weights(2, tuple(range(-m, m + 1)))
    return tuple(float(x) for x in w[m:])


def stability_number(order: int, v_max: float, dt: float, spacing: tuple[float, float]) -> float:
    """``(v_max dt)^2 |lambda_max| (1/dz^2 + 1/dx^2) / 4``: the leapfrog scheme is stable
    when this is at most 1 (``lambda_max`` is the stencil's symbol at the Nyquist wave number).
    OpenFWI (4500 m/s, 1 ms, 10 m, order 8) gives 0.66."""
    c = laplacian_weights(order)
    lam = abs(c[0] + 2 * sum(ck * (-1) ** k for k, ck in enumerate(c[1:], start=1)))
    return (v_max * dt) ** 2 * lam * (1 / spacing[0] ** 2 + 1 / spacing[1] ** 2) / 4


def damping_profile(
    shape: tuple[int, int],
    spacing: tuple[float, float],
    nbc: int,
    v_min: torch.Tensor,
    *,
    device=None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Damping ``gamma [B, 1, nz + 2 nbc, nx + 2 nbc]`` (1/s) of the absorbing layer.

    Zero inside the model; ``kappa (d / a)^2`` at distance ``d`` (metres, Euclidean in the
    corners) from the model, ``a = (nbc - 1) h``, ``kappa = 3 v_min ln(10^7) / (2 a)`` with
    ``v_min: [B]`` the slowest velocity of each model (a constant of the scheme: not
    differentiated).
    """
    if nbc < 2:
        return torch.zeros(v_min.shape[0], 1, shape[0], shape[1], device=device, dtype=dtype)
    dist = []
    for n, h in zip(shape, spacing):
        i = torch.arange(n + 2 * nbc, device=device, dtype=torch.float64)
        d = torch.clamp(nbc - 1 - i, min=0) + torch.clamp(i - nbc - n, min=0)
        dist.append(d * h)
    a = (nbc - 1) * min(spacing)
    r2 = (dist[0][:, None] ** 2 + dist[1][None, :] ** 2) / a**2
    kappa = 3 * math.log(1 / _REFLECTION) / (2 * a) * v_min.detach().to(device, dtype)
    return kappa[:, None, None, None] * r2.to(dtype)


def _leapfrog_step(
    p: torch.Tensor,
    p_prev: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    vdt2: torch.Tensor,
    coef: tuple[float, ...],
    inv_h2: tuple[float, float],
) -> torch.Tensor:
    """One damped leapfrog step without the source: ``p: [B, S, H, W] -> [B, S, H, W]``."""
    m = len(coef) - 1
    h, w = p.shape[-2:]
    q = F.pad(p, (m, m, m, m))
    lz = None
    lx = None
    for k in range(1, m + 1):
        tz = q[..., m - k : m - k + h, m : m + w] + q[..., m + k : m + k + h, m : m + w]
        tx = q[..., m : m + h, m - k : m - k + w] + q[..., m : m + h, m + k : m + k + w]
        lz = coef[k] * tz if lz is None else lz + coef[k] * tz
        lx = coef[k] * tx if lx is None else lx + coef[k] * tx
    return a * p - b * p_prev + vdt2 * (lz * inv_h2[0] + lx * inv_h2[1])


def _compiler_available() -> bool:
    return shutil.which("g++") is not None or shutil.which("c++") is not None


@lru_cache(maxsize=1)
def _compiled_step():
    return torch.compile(_leapfrog_step, dynamic=False)


def _use_compile(compile: bool | None, device: torch.device) -> bool:
    if compile is not None:
        return bool(compile)
    if not hasattr(torch, "compile"):
        return False
    return device.type == "cuda" or (device.type == "cpu" and _compiler_available())


def simulate_fd(
    velocity: torch.Tensor,
    grid: Grid,
    survey: Survey,
    *,
    order: int = 8,
    nbc: int = 120,
    convention: str = "physical",
    damping_velocity: float | None = None,
    compile: bool | None = None,
    checkpoint_steps: int | None = None,
) -> torch.Tensor:
    """Shot gathers by the OpenFWI finite-difference scheme (see the module docstring).

    Args:
        velocity: ``[B, 1, nz, nx]``, ``[B, nz, nx]`` or ``[nz, nx]`` wave speed (m/s) on
            ``grid`` (axis 0 depth); its device and dtype are used. Differentiable.
        grid: 2-D grid; its spacings are the finite-difference spacings.
        survey: sources (one per shot) and receivers on grid points, wavelet, dt.
        order: spatial order of the Laplacian (2, 4, 6, 8; OpenFWI: 8).
        nbc: damping-layer width in cells on every side (OpenFWI: 120).
        convention: ``"physical"`` or ``"openfwi"`` (amplitude and sampling; module docstring).
        damping_velocity: the ``v_min`` that scales the damping (m/s). None: each model's
            slowest velocity (OpenFWI). The damping is not differentiated; fix this value in
            full-waveform inversion so the misfit is one smooth function of the velocity.
        compile: fuse each time step with ``torch.compile`` (one kernel per step; ~8x faster
            on CPU). None: on CUDA, and on CPU when a C++ compiler is found.
        checkpoint_steps: time steps per gradient-checkpoint block when a gradient is
            needed (default ``ceil(sqrt(nt))``); 0 disables checkpointing.

    Returns:
        ``[B, S, nt, R]`` receiver data (``[S, nt, R]`` for an unbatched velocity).
    """
    if not isinstance(grid, Grid) or grid.ndim != 2:
        raise ValueError(f"grid must be a 2-D sciml.grid.Grid, got {grid!r}")
    if not isinstance(survey, Survey):
        raise ValueError(f"survey must be a sciml.physics.seismic.Survey, got {type(survey)}")
    if convention not in _CONVENTIONS:
        raise ValueError(f"convention must be one of {_CONVENTIONS}, got {convention!r}")
    coef = laplacian_weights(order)
    if not isinstance(nbc, int) or nbc < 0:
        raise ValueError(f"nbc must be an int >= 0, got {nbc!r}")
    v, unbatched = check_velocity(velocity, grid)
    vd = v.detach()
    spacing = tuple(float(h) for h in grid.spacing)
    dt = float(survey.dt)
    sigma = stability_number(order, float(vd.max()), dt, spacing)
    if sigma > 1:
        raise ValueError(
            f"velocity up to {float(vd.max()):.6g} m/s is unstable with dt={dt:g} s and spacing "
            f"{spacing} at order {order} (stability number {sigma:.3g} > 1): lower dt"
        )
    device, dtype = v.device, v.dtype
    bsz, n_src, nt = v.shape[0], survey.sources.shape[0], survey.nt
    src = _indices(survey.sources, grid, "survey.sources").to(device) + nbc
    rec = _indices(survey.receivers, grid, "survey.receivers").to(device) + nbc

    if damping_velocity is None:
        v_damp = vd.amin(dim=(1, 2))
    elif damping_velocity > 0:
        v_damp = torch.full((bsz,), float(damping_velocity), device=device, dtype=dtype)
    else:
        raise ValueError(f"damping_velocity must be > 0 or None, got {damping_velocity!r}")
    # model padded into the layer (edge values replicated); per-cell scheme coefficients
    vp = F.pad(v[:, None], (nbc, nbc, nbc, nbc), mode="replicate") if nbc else v[:, None]
    gdt = damping_profile(grid.shape, spacing, nbc, v_damp, device=device, dtype=dtype) * dt
    vdt2 = (vp * dt) ** 2  # [B, 1, H, W]
    a = 2 + coef[0] * vdt2 * (1 / spacing[0] ** 2 + 1 / spacing[1] ** 2) - gdt
    b = 1 - gdt
    inv_h2 = (1 / spacing[0] ** 2, 1 / spacing[1] ** 2)
    area = spacing[0] * spacing[1]
    # source term per shot: (c_s dt)^2 w^n / (dz dx) (physical) or (c_s dt)^2 w^n (OpenFWI)
    beta = vdt2[:, 0, src[:, 0], src[:, 1]]  # [B, S]
    if convention == "physical":
        beta = beta / area
    wavelet = survey.wavelet.to(device=device, dtype=dtype)
    shots = torch.arange(n_src, device=device)
    # source cells as an advanced index into [B, S, H, W]: (sample, shot, z, x), each [B, S]
    index = (
        torch.arange(bsz, device=device)[:, None].expand(bsz, n_src),
        shots[None].expand(bsz, n_src),
        src[None, :, 0].expand(bsz, n_src),
        src[None, :, 1].expand(bsz, n_src),
    )
    step = _compiled_step() if _use_compile(compile, device) else _leapfrog_step
    record_after = convention == "openfwi"

    n_rec = rec.shape[0]

    def advance(p, p_prev, n0: int, n1: int):
        # the traces go into one preallocated block: small per-step tensors that outlive
        # the step would interleave with the large fields on the heap and fragment it (glibc
        # then grows by one field per step)
        traces = p.new_empty(bsz, n_src, n1 - n0, n_rec)
        for n in range(n0, n1):
            if not record_after:
                traces[:, :, n - n0] = p[:, :, rec[:, 0], rec[:, 1]]
            new = step(p, p_prev, a, b, vdt2, coef, inv_h2)
            new.index_put_(index, beta * wavelet[n], accumulate=True)  # new: a fresh tensor
            if record_after:
                traces[:, :, n - n0] = new[:, :, rec[:, 0], rec[:, 1]]
            p_prev, p = p, new
        return p, p_prev, traces

    hh, ww = vp.shape[-2:]
    p = torch.zeros(bsz, n_src, hh, ww, device=device, dtype=dtype)
    p_prev = torch.zeros_like(p)
    needs_grad = torch.is_grad_enabled() and v.requires_grad
    block = checkpoint_steps if checkpoint_steps is not None else math.ceil(math.sqrt(nt))
    if not needs_grad or block <= 0 or block >= nt:
        data = advance(p, p_prev, 0, nt)[2]
    else:
        chunks = []
        for n0 in range(0, nt, block):
            p, p_prev, traces = checkpoint(
                advance, p, p_prev, n0, min(n0 + block, nt), use_reentrant=False
            )
            chunks.append(traces)
        data = torch.cat(chunks, dim=2)
    return data[0] if unbatched else data
