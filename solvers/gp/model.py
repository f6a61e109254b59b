"""GP-HM: a Kronecker spectral-mixture Gaussian-process PDE solver (the model).

Method (Fang et al., ICLR 2024, "Solving High Frequency and Multi-Scale PDEs with Gaussian
Processes"): put a GP prior with a learned spectral-mixture product kernel on the solution,
take the solution VALUES ``U`` on a tensor-product collocation grid as unknowns and maximise

    log N(vec(U) | 0, K)                                    GP prior (quad form + log det)
  + lambda_b * log N(g | U_boundary, 1 / tau_b)             boundary / initial data
  + log N(0 | R(U), 1 / tau_r)                              PDE residual at every grid point

over ``U``, the kernel hyperparameters and the two noise precisions ``tau_b, tau_r``. The
residual ``R`` is the PDE's own ``residual_from(u, d, x)`` (``sciml.physics``) fed with the
derivatives of the GP conditional mean ``m(x) = k(x, X) K^{-1} vec(U)`` at the grid points,
which on a grid are mode-wise products ``(K_d^(k) K_d^{-1})``
(:mod:`sciml.solvers.gp.kronecker`) with the closed-form kernel derivatives of
:mod:`sciml.solvers.gp.kernels`. After training, the solution and its derivatives are
available anywhere through cross-kernels.

This module holds the unknowns, the loss and prediction. How the loss is minimised is a fit
strategy (:mod:`sciml.solvers.gp.adam`, :mod:`~sciml.solvers.gp.adam_lbfgs`,
:mod:`~sciml.solvers.gp.gauss_newton`); how it is initialised is
:mod:`sciml.solvers.gp.initialization`; :func:`sciml.solvers.gp.solve.solve_gp` ties them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from sciml.grid import Grid
from sciml.solvers.gp.collocation import boundary_mask, check_pde, default_faces
from sciml.solvers.gp.densities import SpectralDensity
from sciml.solvers.gp.gauss_newton import dense_gauss_newton_step
from sciml.solvers.gp.initialization import (
    FrequencyInit,
    forcing_field,
    initialize_frequencies,
    set_noise_from_data,
)
from sciml.solvers.gp.kernels import SpectralMixture1D
from sciml.solvers.gp.kronecker import KroneckerFactors, mode_apply

__all__ = ["KroneckerGPSolver"]


class KroneckerGPSolver(torch.nn.Module):
    """GP-HM on a tensor-product grid (an ``nn.Module`` holding all unknowns).

    Args:
        pde: a ``sciml.physics`` PDE (``dim``, ``time_dependent``, ``required_derivatives``,
            ``residual_from(u, d, x)``).
        grid: vertex-centred :class:`~sciml.grid.Grid` with ``pde.dim`` axes (+ time last).
        boundary: data on the boundary faces: a callable ``g(points: [M, ndim]) -> [M]`` or a
            tensor ``[M]`` of values at ``grid.points()[mask.flatten()]``.
        faces: which faces carry data; default every face of every spatial axis (and the
            initial-time face ``"t-"`` for a time-dependent PDE).
        num_mixtures: ``Q`` per axis. density: a
            :class:`~sciml.solvers.gp.densities.SpectralDensity` (default ``Gaussian()``).
        jitter: relative diagonal jitter of each ``K_d``; default ``1e-10`` on grids with up to
            two axes and ``1e-8`` on three (the prior ``(x)_d (K_d + jitter I)`` compounds the
            per-axis floors: at 1e-10 a 3-D Gauss-Newton matrix is so ill-conditioned that CG
            stalls -- 800 iterations to 5e-3 on 3-D Poisson 49^3 -- where 1e-8 needs 57 and
            gives 7.7e-6; on 2-D grids the error and iterations barely change).
        boundary_weight: ``lambda_b``.
        learn_noise: learn ``tau_b, tau_r`` (default) or hold them at their initial values.
        whitened: False (published: the unknowns ARE the grid values ``U``) or True
            (``U = L z`` with ``L`` the Kronecker Cholesky factor of ``K`` and
            the unknowns ``z``; the same objective in other coordinates, whose Hessian in
            ``z`` is identity plus a few large directions, so L-BFGS converges in far fewer
            steps).

    Attributes: ``latent: [*grid.shape]`` (``U`` or ``z``, a parameter), ``kernels`` one
    :class:`SpectralMixture1D` per axis, ``log_tau_b``, ``log_tau_r``; :meth:`values` gives
    ``U``.
    """

    def __init__(
        self,
        pde: Any,
        grid: Grid,
        boundary: Callable[[torch.Tensor], torch.Tensor] | torch.Tensor,
        *,
        faces: Sequence[str] | None = None,
        num_mixtures: int = 30,
        density: SpectralDensity | None = None,
        jitter: float | None = None,
        boundary_weight: float = 1.0,
        learn_noise: bool = True,
        whitened: bool = False,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        self.letters = check_pde(pde, grid)
        if jitter is None:
            jitter = 1e-10 if grid.ndim <= 2 else 1e-8
        if jitter < 0:
            raise ValueError(f"jitter must be >= 0, got {jitter}")
        if boundary_weight <= 0:
            raise ValueError(f"boundary_weight must be > 0, got {boundary_weight}")
        self.whitened = bool(whitened)
        self.pde, self.grid = pde, grid
        self.jitter, self.boundary_weight = float(jitter), float(boundary_weight)
        kw = {"dtype": dtype, "device": device}
        self.faces = default_faces(self.letters) if faces is None else tuple(faces)
        self.register_buffer("mask", boundary_mask(grid, self.faces, self.letters).to(device))
        self.register_buffer("points", grid.points(device, dtype))  # [N, ndim]
        self.axes = [a for a in grid.axes(device, dtype)]
        bpts = self.points[self.mask.flatten()]
        if callable(boundary):
            g = boundary(bpts)
        else:
            g = torch.as_tensor(boundary, **kw)
        g = g.to(**kw).reshape(-1)
        if g.shape[0] != bpts.shape[0]:
            raise ValueError(
                f"boundary must give one value per boundary point ({bpts.shape[0]}), "
                f"got {g.shape[0]}"
            )
        self.register_buffer("g", g)
        self.kernels = torch.nn.ModuleList(
            [SpectralMixture1D(num_mixtures, density=density, **kw) for _ in grid.shape]
        )
        self.latent = torch.nn.Parameter(torch.zeros(grid.shape, **kw))
        self.log_tau_b = torch.nn.Parameter(torch.zeros((), **kw), requires_grad=learn_noise)
        self.log_tau_r = torch.nn.Parameter(torch.zeros((), **kw), requires_grad=learn_noise)
        # derivative orders per key: "xx" -> (2, 0), "xy" -> (1, 1), "t" -> (0, ..., 1)
        self.keys = tuple(pde.required_derivatives)
        self.orders = {key: tuple(key.count(c) for c in self.letters) for key in self.keys}

    # --------------------------------------------------------------- structure
    def hyperparameters(self) -> list[torch.nn.Parameter]:
        """Kernel parameters (not ``u``, not the noise precisions)."""
        return [p for k in self.kernels for p in k.parameters()]

    def factors(self) -> KroneckerFactors:
        """Per-axis covariance factors on the grid with their Cholesky factors."""
        fac, _ = self.factors_and_derivatives(need_derivatives=False)
        return fac

    def factors_and_derivatives(
        self, need_derivatives: bool = True
    ) -> tuple[KroneckerFactors, dict[tuple[int, int], torch.Tensor]]:
        """Factors and ``{(axis, order): K_d^(order) K_d^{-1}}`` for every order the PDE needs.

        Kernel matrices come from the Toeplitz fast path (the grid is evenly spaced).
        """
        top = {d: 0 for d in range(self.grid.ndim)}
        if need_derivatives:
            for orders in self.orders.values():
                for d, o in enumerate(orders):
                    top[d] = max(top[d], o)
        mats = [
            k.grid_matrices(n, h, top[d])
            for d, (k, n, h) in enumerate(zip(self.kernels, self.grid.shape, self.grid.spacing))
        ]
        fac = KroneckerFactors([m[0] for m in mats], jitter=self.jitter)
        apply = fac.right_half_solve if self.whitened else fac.right_solve
        ops = {
            (d, o): apply(d, mats[d][o])
            for d in range(self.grid.ndim)
            for o in range(1, top[d] + 1)
        }
        return fac, ops

    def values(self, fac: KroneckerFactors | None = None) -> torch.Tensor:
        """Solution values ``U: [*grid.shape]`` at the grid points (differentiable)."""
        if not self.whitened:
            return self.latent
        fac = self.factors() if fac is None else fac
        return fac.half_matmul(self.latent)

    def fields(
        self,
        fac: KroneckerFactors | None = None,
        ops: dict[tuple[int, int], torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``u`` and the derivatives the PDE needs at the grid points, each ``[N]``."""
        if fac is None or ops is None:
            fac, ops = self.factors_and_derivatives()
        # values: D U with D = K^(o) K^{-1}; whitened: (K^(o) L^{-T}) z and L z on other axes
        plain = fac.chols if self.whitened else [None] * self.grid.ndim
        d = {}
        for key, orders in self.orders.items():
            mats = [ops[(ax, o)] if o else plain[ax] for ax, o in enumerate(orders)]
            d[key] = mode_apply(mats, self.latent).reshape(-1)
        return self.values(fac).reshape(-1), d

    def residual(
        self,
        fac: KroneckerFactors | None = None,
        ops: dict[tuple[int, int], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """PDE residual ``[N]`` at the grid points, from ``pde.residual_from``."""
        u, d = self.fields(fac, ops)
        return self.pde.residual_from(u, d, self.points).reshape(-1)

    # -------------------------------------------------------------------- loss
    def loss(self) -> tuple[torch.Tensor, dict[str, float]]:
        """Negative log joint (divided by the number of grid points) and its parts."""
        fac, ops = self.factors_and_derivatives()
        n = fac.numel
        u, d = self.fields(fac, ops)
        quad = self.latent.pow(2).sum() if self.whitened else fac.inv_quad(self.latent)
        prior = 0.5 * (quad + fac.logdet())
        rb = u[self.mask.flatten()] - self.g
        rr = self.pde.residual_from(u, d, self.points).reshape(-1)
        tb, tr = self.log_tau_b.exp(), self.log_tau_r.exp()
        nb, nr = rb.numel(), rr.numel()
        bterm = self.boundary_weight * (0.5 * tb * rb.pow(2).sum() - 0.5 * nb * self.log_tau_b)
        rterm = 0.5 * tr * rr.pow(2).sum() - 0.5 * nr * self.log_tau_r
        total = (prior + bterm + rterm) / n
        parts = {
            "prior": float(prior.detach()) / n,
            "boundary_rms": float(rb.detach().pow(2).mean().sqrt()),
            "residual_rms": float(rr.detach().pow(2).mean().sqrt()),
        }
        return total, parts

    # ------------------------------------------------------------ Gauss-Newton

    # ------------------------------------------------------------ Gauss-Newton
    def gauss_newton_step(self, dense_limit: int = 6000) -> float:
        """One dense Gauss-Newton step on the grid values (kernel and precisions fixed).

        See :func:`sciml.solvers.gp.gauss_newton.dense_gauss_newton_step`; returns
        ``||dU|| / ||U_new||``.
        """

        return dense_gauss_newton_step(self, dense_limit=dense_limit)

    def set_noise_from_data(self, level: float = 1e-7) -> tuple[float, float]:
        """Precisions from the data's scale; see
        :func:`sciml.solvers.gp.initialization.set_noise_from_data`."""
        return set_noise_from_data(self, level)

    def forcing(self) -> torch.Tensor:
        """``-R(0)`` on the grid ``[*grid.shape]`` (the forcing of a linear PDE)."""
        return forcing_field(self)

    def initialize(self, init: FrequencyInit | None = None) -> dict[str, list[float]]:
        """Initialise the mixture frequencies and lengthscales (``init``: :class:`SpectrumInit`,
        the default, or :class:`UniformInit`); returns the peaks found.

        See :func:`sciml.solvers.gp.initialization.initialize_frequencies`.
        """
        return initialize_frequencies(self, init)

    # -------------------------------------------------------------- prediction
    @torch.no_grad()
    def predict(self, points: torch.Tensor, derivative: str = "") -> torch.Tensor:
        """Posterior mean (or a derivative of it) at ``points: [P, ndim]`` -> ``[P]``.

        ``derivative``: axis letters, e.g. ``""`` (the solution), ``"x"``, ``"xx"``, ``"t"``.
        Uses cross-kernels ``k_d(x*_d, X_d)`` per axis and ``alpha = K^{-1} vec(U)``:
        ``O(P N)`` time; the points are processed in chunks so that memory stays at about
        ``2^22`` numbers beyond ``alpha`` whatever ``P`` (use :meth:`predict_grid` for points
        on a grid: it is much cheaper).
        """
        points = torch.as_tensor(points, dtype=self.latent.dtype, device=self.latent.device)
        if points.ndim != 2 or points.shape[1] != self.grid.ndim:
            raise ValueError(f"points must be [P, {self.grid.ndim}], got {list(points.shape)}")
        self._check_derivative(derivative)
        fac = self.factors()
        alpha = fac.solve(self.values(fac))  # [*shape]
        nd = self.grid.ndim
        orders = [derivative.count(c) for c in self.letters]
        q = max(k.num_mixtures for k in self.kernels)
        per_point = max(max(self.grid.shape) * q, self.grid.size // self.grid.shape[-1])
        chunk = max(1, 2**22 // per_point)
        outs = []
        for start in range(0, points.shape[0], chunk):
            pts = points[start : start + chunk]
            out = alpha
            # contract the last grid axis first: alpha[..., n_D] x k_D(x*, X_D)^T -> [..., c];
            # then each earlier axis d: out[..., n_d, c] * k_d(x*, X_d)^T[n_d, c] summed
            for d in reversed(range(nd)):
                kx = self.kernels[d].matrix(pts[:, d], self.axes[d], orders[d])  # [c, n_d]
                if d == nd - 1:
                    out = torch.tensordot(out, kx, dims=([d], [1]))
                else:
                    out = (out * kx.T).sum(-2)
            outs.append(out.reshape(-1))
        return torch.cat(outs)

    def _check_derivative(self, derivative: str) -> None:
        if any(c not in self.letters for c in derivative) or any(
            derivative.count(c) > 2 for c in set(derivative)
        ):
            raise ValueError(
                f"derivative must use letters from {self.letters!r}, at most twice each; "
                f"got {derivative!r}"
            )

    @torch.no_grad()
    def predict_grid(self, target: Grid, derivative: str = "") -> torch.Tensor:
        """Posterior mean (or derivative) on another grid of the same box -> ``[*target.shape]``
        (mode-wise cross-kernel products, ``O(sum m_d n_d N)``)."""
        if not isinstance(target, Grid) or target.ndim != self.grid.ndim:
            raise ValueError(f"target must be a Grid with {self.grid.ndim} axes")
        return self.predict_axes(target.axes(self.latent.device, self.latent.dtype), derivative)

    @torch.no_grad()
    def predict_axes(self, axes: Sequence[torch.Tensor], derivative: str = "") -> torch.Tensor:
        """Posterior mean (or derivative) on the tensor-product points of ``axes`` (one 1-D
        coordinate tensor ``[m_d]`` per axis, e.g. a single value for a slice of a 3-D
        solution) -> ``[m_1, ..., m_D]``."""
        if len(axes) != self.grid.ndim:
            raise ValueError(f"axes needs one coordinate tensor per axis ({self.grid.ndim})")
        self._check_derivative(derivative)
        fac = self.factors()
        alpha = fac.solve(self.values(fac))
        mats = [
            k.matrix(torch.as_tensor(xt).to(self.latent).reshape(-1), x, derivative.count(c))
            for k, xt, x, c in zip(self.kernels, axes, self.axes, self.letters)
        ]
        return mode_apply(mats, alpha)

    @torch.no_grad()
    def spectrum(self, axis: int, frequencies: torch.Tensor) -> torch.Tensor:
        """Learned power spectrum of ``axis`` at ``frequencies: [M]`` (cycles/unit) -> ``[M]``."""
        return self.kernels[axis].spectral_density(frequencies.to(self.latent))

    @torch.no_grad()
    def dominant_frequencies(self, axis: int, k: int = 1) -> torch.Tensor:
        """Frequencies (cycles per unit) of the ``k`` heaviest mixture components of ``axis``."""
        kern = self.kernels[axis]
        order = torch.argsort(kern.weights, descending=True)[:k]
        return kern.frequencies[order].abs()

    # ---------------------------------------------------------- initialisation
