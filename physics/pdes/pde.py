"""The PDE base class: one place per PDE where its formula is written.

Every PDE family is a small dataclass deriving from :class:`PDE` (one per file:
``poisson.py``, ``darcy.py``, ...). Its formula lives in :meth:`PDE.residual_from`, which takes
the solution values and a dict of derivatives keyed by axis letters. Three callers reuse it:

* :meth:`PDE.residual` computes the derivatives of a point function ``u_fn`` by autograd
  (PINNs, mesh-free methods, latent potential flows);
* :meth:`PDE.grid_residual` computes them by finite differences or FFTs on a
  :class:`~sciml.grid.Grid` (physics losses of neural operators);
* the GP solver computes them in closed form and calls ``residual_from`` directly.

Derivative keys are strings of axis letters: the spatial axes are ``"x", "y", "z"`` (first
``dim`` of them) and time is ``"t"``; ``"xx"`` is ``d^2u/dx^2``, ``"xy"`` the mixed derivative,
``"t"`` the time derivative. Keys are canonical when their letters are sorted in the order
``x, y, z, t`` (``canonical_key("yx") == "xy"``).

Two whole-vector keys serve spaces of any dimension (latent spaces of potential flows, where
``dim`` may exceed 3 and axis letters run out): ``"grad"`` is the spatial gradient ``[N, dim]``
and ``"lap"`` the spatial Laplacian ``[N]`` (exact, one backward pass per axis, or
Hutchinson's estimator inside :func:`~sciml.physics.laplacian.laplacian_estimator`). For
``dim > 3`` the point columns are lettered ``"s"`` (space) and ``"t"`` (time), and the PDEs
whose formula needs a gradient or a Laplacian read these keys (see :meth:`PDE.laplacian_keys`).

Points: ``x: [N, dim]`` for steady PDEs and ``[N, dim + 1]`` (time last) for time-dependent
ones. Forcing and exact-solution callables take the same points and return ``[N]``
(or ``[N, C]`` for systems).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import torch

from sciml.grid import Grid
from sciml.physics._pointwise import on_grid
from sciml.physics.derivative_keys import VECTOR_KEYS, canonical_key
from sciml.physics.fd import grid_derivatives
from sciml.physics.laplacian import (
    current_laplacian_estimator,
    exact_laplacian,
    hutchinson_laplacian,
)

__all__ = [
    "PDE",
    "ManufacturedForcing",
    "canonical_key",
    "autograd_derivatives",
    "PointFn",
    "VECTOR_KEYS",
]

PointFn = Callable[[torch.Tensor], torch.Tensor]


def autograd_derivatives(
    u: torch.Tensor, x: torch.Tensor, keys: Iterable[str], letters: str
) -> dict[str, torch.Tensor]:
    """Derivatives of ``u`` (computed from ``x`` in the autograd graph) keyed by axis letters.

    Args:
        u: ``[N]`` or ``[N, C]`` values that depend on ``x``.
        x: ``[N, D]`` points (``requires_grad`` somewhere upstream).
        keys: derivative keys, e.g. ``("x", "xx", "yy", "t")``.
        letters: the letter of each column of ``x``, e.g. ``"xyt"``.

    Returns:
        dict canonical key -> tensor shaped like ``u``. The graph is kept (``create_graph``),
        so the result can be differentiated again (training).
    """
    if len(letters) != x.shape[-1]:
        raise ValueError(f"letters {letters!r} must name each of the {x.shape[-1]} columns of x")
    keys = list(keys)
    vector_keys = [k for k in keys if k in VECTOR_KEYS]
    keys = sorted({canonical_key(k) for k in keys if k not in VECTOR_KEYS}, key=len)
    for k in keys:
        missing = set(k) - set(letters)
        if missing:
            raise ValueError(f"derivative key {k!r} uses axes {sorted(missing)} not in {letters!r}")
    values: dict[str, torch.Tensor] = {"": u}
    grads: dict[str, torch.Tensor] = {}

    def full_grad(key: str) -> torch.Tensor:
        # gradient of the (already known) derivative `key` w.r.t. all columns of x
        if key not in grads:
            v = value(key)
            if v.ndim == 1:
                (g,) = torch.autograd.grad(v.sum(), x, create_graph=True, allow_unused=True)
                g = torch.zeros_like(x) if g is None else g
            else:  # [N, C]: one backward pass per channel
                parts = []
                for c in range(v.shape[1]):
                    (g,) = torch.autograd.grad(
                        v[:, c].sum(), x, create_graph=True, allow_unused=True
                    )
                    parts.append(torch.zeros_like(x) if g is None else g)
                g = torch.stack(parts, dim=1)  # [N, C, D]
            grads[key] = g
        return grads[key]

    def value(key: str) -> torch.Tensor:
        if key not in values:
            parent, letter = key[:-1], key[-1]
            values[key] = full_grad(parent)[..., letters.index(letter)]
        return values[key]

    out = {k: value(k) for k in keys}
    if vector_keys:
        if u.ndim != 1:
            raise ValueError("'grad' and 'lap' need a scalar u: [N]")
        cols = [i for i, letter in enumerate(letters) if letter != "t"]
        grad = full_grad("")[:, cols]  # [N, dim]
        if "grad" in vector_keys:
            out["grad"] = grad
        if "lap" in vector_keys:
            estimator = current_laplacian_estimator()
            if estimator is None:  # one backward pass per spatial axis
                out["lap"] = exact_laplacian(grad, x, cols)
            else:  # one backward pass per probe
                out["lap"] = hutchinson_laplacian(grad, x, cols, estimator)
    return out


class ManufacturedForcing:
    """``f = R_0(u)``: a PDE's residual with zero forcing at a known solution ``u``, by autograd.

    The forcing for which ``u`` solves the PDE (the method of manufactured solutions), computed
    through the PDE's own :meth:`PDE.residual_from`, so no formula is typed twice. Callable like
    any forcing: ``f(x: [N, dim (+1)]) -> [N]`` (``[N, C]`` for systems), detached. The value at
    the last ``x`` is cached (solvers evaluate the forcing at the same points at every step).
    Made by :meth:`PDE.manufactured_forcing`.
    """

    def __init__(self, pde: PDE, exact: PointFn) -> None:
        if not callable(exact):
            raise TypeError(f"exact must be a callable of the points, got {type(exact)}")
        self.pde0 = dataclasses.replace(pde, forcing=None)
        self.exact = exact
        self._key: tuple | None = None
        self._x: torch.Tensor | None = None  # held, so its memory (and data_ptr) is not reused
        self._val: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        key = (x.data_ptr(), tuple(x.shape), x.dtype, x.device, x._version)
        if key != self._key:
            with torch.enable_grad():
                self._val = self.pde0.residual(self.exact, x.detach()).detach()
            self._key, self._x = key, x
        return self._val


@dataclass(kw_only=True)
class PDE:
    """Base class of the PDE families.

    Subclasses are dataclasses that add ``dim`` (a field, with the family's default) and their
    coefficients, set the class attributes below and implement :meth:`residual_from` and
    :attr:`required_derivatives`. The fields every family shares are declared here, keyword-only
    (a family's own coefficients come first and may be given positionally):

    Args:
        forcing: ``f(x: [N, dim (+1)]) -> [N]`` (``[N, C]`` for systems); None = 0.
        exact: optional exact solution ``u(x: [N, dim (+1)])`` (error measurement, Dirichlet
            data of the FEM drivers, manufactured problems).
        initial: optional initial condition ``u0(x: [N, dim])`` of time-dependent PDEs (the
            grid and FEM drivers start from it); steady PDEs leave it None.
        domain: ``((lo, hi), ...)`` per spatial axis; None = the unit box.
        boundary: boundary-condition kind: ``"dirichlet"`` (``u = exact``, or 0), ``"periodic"``,
            and for some families ``"absorbing"``, ``"decay"`` or ``"none"``.

    Class attributes:
        time_dependent: whether the points carry time as their last column.
        channels: number of solution components (1 = scalar ``u: [N]``).
        order: the PDE's differential order (highest derivative its residual reads).
    """

    forcing: PointFn | None = None
    exact: PointFn | None = None
    initial: PointFn | None = None
    domain: tuple[tuple[float, float], ...] | None = None
    boundary: str = "dirichlet"

    if TYPE_CHECKING:
        dim: int  # declared by every family (its default differs)
    time_dependent: ClassVar[bool] = False
    channels: ClassVar[int] = 1
    order: ClassVar[int] = 2

    # ------------------------------------------------------------- the formula
    @property
    def required_derivatives(self) -> tuple[str, ...]:
        raise NotImplementedError

    def residual_from(
        self, u: torch.Tensor, d: dict[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        """The residual ``[N]`` (``[N, C]`` for systems) from values ``u``, derivatives ``d``
        and points ``x: [N, dim (+1)]``."""
        raise NotImplementedError

    # ------------------------------------------------------------- helpers
    @property
    def letters(self) -> str:
        """Letters of the point columns: ``"xy"`` or ``"xyt"`` etc. (``"ss...s(t)"`` if dim > 3)."""
        space = "xyz"[: self.dim] if self.dim <= 3 else "s" * self.dim
        return space + ("t" if self.time_dependent else "")

    def spatial_keys(self, order: int) -> tuple[str, ...]:
        """Pure derivative keys of the given order on every spatial axis: ``("xx", "yy")``."""
        return tuple(a * order for a in "xyz"[: self.dim])

    def gradient_keys(self) -> tuple[str, ...]:
        """Keys of the spatial gradient: ``("x", "y")`` for ``dim <= 3``, ``("grad",)`` above."""
        return self.spatial_keys(1) if self.dim <= 3 else ("grad",)

    def laplacian_keys(self) -> tuple[str, ...]:
        """Keys of the Laplacian: ``("xx", "yy")`` for ``dim <= 3``, ``("lap",)`` above."""
        return self.spatial_keys(2) if self.dim <= 3 else ("lap",)

    def laplacian(self, d: dict[str, torch.Tensor]) -> torch.Tensor:
        """``sum_i d[ii]`` over the spatial axes (``d["lap"]`` for ``dim > 3``)."""
        if self.dim > 3:
            return d["lap"]
        return sum(d[a + a] for a in "xyz"[: self.dim])

    def gradient_norm2(self, d: dict[str, torch.Tensor]) -> torch.Tensor:
        """``|grad u|^2`` ``[N]`` from the keys of :meth:`gradient_keys`."""
        if self.dim > 3:
            return (d["grad"] ** 2).sum(-1)
        return sum(d[a] ** 2 for a in "xyz"[: self.dim])

    def _forcing(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor | float:
        f = self.forcing
        if f is None:
            return 0.0
        return f(x).reshape(like.shape)

    def _check_derivatives(self, d: dict[str, torch.Tensor]) -> None:
        missing = [k for k in self.required_derivatives if k not in d]
        if missing:
            raise KeyError(
                f"{type(self).__name__}.residual_from needs derivatives {missing}; "
                f"got keys {sorted(d)}"
            )

    def _points(self, x: torch.Tensor, t: torch.Tensor | None) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor [N, {self.dim}], got {type(x)}")
        width = self.dim + (1 if self.time_dependent else 0)
        if t is not None:
            if not self.time_dependent:
                raise ValueError(f"{type(self).__name__} is steady; t must be None")
            t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
            if t.ndim == 0:
                t = t.expand(x.shape[0])
            t = t.reshape(-1, 1)
            if x.ndim != 2 or x.shape[1] != self.dim or t.shape[0] != x.shape[0]:
                raise ValueError(
                    f"x must be [N, {self.dim}] and t [N] (or a scalar), got "
                    f"{list(x.shape)} and {list(t.shape)}"
                )
            x = torch.cat([x, t], dim=1)
        if x.ndim != 2 or x.shape[1] != width:
            raise ValueError(
                f"x must have shape [N, {width}] ("
                + ("space then time" if self.time_dependent else "space")
                + f"), got {list(x.shape)}"
            )
        return x

    # ------------------------------------------------------------- autograd residual
    def residual(
        self, u_fn: PointFn, x: torch.Tensor, t: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Pointwise residual by autograd.

        Args:
            u_fn: maps points ``[N, dim (+1)]`` to values ``[N]`` (or ``[N, 1]``; ``[N, C]``
                for systems).
            x: ``[N, dim]`` (with ``t: [N]``) or ``[N, dim + 1]`` (time last) points.
            t: optional times for time-dependent PDEs.

        Returns:
            ``[N]`` residual (``[N, C]`` for systems), differentiable w.r.t. ``u_fn``'s
            parameters.
        """
        pts = self._points(x, t)
        if not pts.requires_grad:
            pts = pts.detach().clone().requires_grad_(True)
        u = u_fn(pts)
        if u.ndim == 2 and u.shape[1] == 1 and self.channels == 1:
            u = u[:, 0]
        d = autograd_derivatives(u, pts, self.required_derivatives, self.letters)
        return self.residual_from(u, d, pts)

    # ------------------------------------------------------------- grid residual
    def grid_residual(
        self,
        u: torch.Tensor,
        grid: Grid,
        *,
        accuracy: int = 2,
        spectral: bool = False,
    ) -> torch.Tensor:
        """Residual of grid values ``u: [B, C, *grid.shape]`` by finite differences.

        For time-dependent PDEs the grid's LAST axis is time (a space-time grid with
        ``dim + 1`` axes). ``accuracy`` is the finite-difference order (2 or 4; one-sided
        stencils of the same order at non-periodic ends); ``spectral=True`` uses FFT
        derivatives on the periodic axes. Returns ``[B, *grid.shape]`` (``[B, C, *shape]`` for
        systems).
        """
        width = self.dim + (1 if self.time_dependent else 0)
        if grid.ndim != width:
            raise ValueError(
                f"grid must have {width} axes ("
                + ("space then time" if self.time_dependent else "space")
                + f") for this {self.dim}-D PDE, got {grid.ndim}"
            )
        grid.check_field(u, "u", channels=self.channels)
        d = grid_derivatives(
            u,
            grid,
            self.required_derivatives,
            letters=self.letters,
            accuracy=accuracy,
            spectral=spectral,
        )
        b = u.shape[0]
        pts = grid.points(u.device, u.dtype).repeat(b, 1)  # [B * size, D]

        def flat(v: torch.Tensor) -> torch.Tensor:  # [B, C, *S] -> [B*size] or [B*size, C]
            v = v.reshape(b, self.channels, -1).transpose(1, 2).reshape(-1, self.channels)
            return v[:, 0] if self.channels == 1 else v

        r = self.residual_from(flat(u), {k: flat(v) for k, v in d.items()}, pts)
        if self.channels == 1:
            return r.reshape(b, *grid.shape)
        return (
            r.reshape(b, -1, self.channels).transpose(1, 2).reshape(b, self.channels, *grid.shape)
        )

    # ------------------------------------------------------------- domain
    @property
    def box(self) -> tuple[tuple[float, float], ...]:
        """The spatial box ``((lo, hi), ...)``: ``domain``, or the unit box when it is None."""
        return tuple(self.domain) if self.domain else ((0.0, 1.0),) * self.dim

    def grid(self, n: int | tuple[int, ...], **kwargs) -> Grid:
        """A :class:`~sciml.grid.Grid` on this PDE's spatial box (:attr:`box`) with ``n``
        points per axis; ``kwargs`` go to ``Grid``."""
        shape = (n,) * self.dim if isinstance(n, int) else tuple(n)
        return Grid(shape, bounds=self.box, **kwargs)

    def check_grid(self, grid: Grid, name: str = "grid") -> None:
        """Raise ``ValueError`` unless ``grid`` is a ``dim``-D grid on this PDE's :attr:`box`
        (the drivers that take a PDE object evaluate its point functions on ``grid``)."""
        if not isinstance(grid, Grid):
            raise TypeError(f"{name} must be a sciml.grid.Grid, got {type(grid)}")
        if grid.ndim != self.dim:
            raise ValueError(f"{name} must have {self.dim} axes for this PDE, got {grid.ndim}")
        box = tuple((float(lo), float(hi)) for lo, hi in self.box)
        if any(abs(a - b) > 1e-12 * max(1.0, abs(b)) for g, d in zip(grid.bounds, box)
               for a, b in zip(g, d)):  # fmt: skip
            raise ValueError(
                f"{name} bounds {grid.bounds} differ from the PDE's domain {box}; build the "
                "grid with pde.grid(n) or set domain="
            )

    def initial_field(self, grid: Grid) -> torch.Tensor:
        """The initial condition sampled at the points of ``grid``: ``[1, C, *grid.shape]``
        float64 (``initial``, else ``exact`` at ``t = 0``; the grid drivers start from it)."""
        if not self.time_dependent:
            raise ValueError(f"{type(self).__name__} is steady; it has no initial condition")
        self.check_grid(grid)
        if self.initial is not None:
            v = on_grid(self.initial, grid)
        elif self.exact is not None:
            v = on_grid(self.exact, grid, t=0.0)
        else:
            raise ValueError(
                f"{type(self).__name__} has neither initial nor exact: give the initial field"
            )
        return v.reshape(1, self.channels, *grid.shape)

    # ------------------------------------------------------------- manufactured solutions
    def manufactured_forcing(self, exact: PointFn | None = None) -> ManufacturedForcing:
        """The forcing ``f = R_0(exact)`` for which ``exact`` solves this PDE.

        ``R_0`` is this PDE's residual with zero forcing, evaluated by autograd through
        :meth:`residual_from` (for ``-Laplacian(u) = f`` that is ``-Laplacian(exact)``, for
        Allen-Cahn ``Laplacian(exact) + exact (exact^2 - 1)``).

        Args:
            exact: ``u(x: [N, dim (+1)])``; default ``self.exact``.

        Returns:
            a callable ``f(x) -> [N]`` (cached per ``x``; see :class:`ManufacturedForcing`).

        >>> import math, torch
        >>> from sciml.physics import Poisson
        >>> pde = Poisson(dim=1)
        >>> f = pde.manufactured_forcing(lambda p: torch.sin(3 * p[:, 0]))   # f = 9 sin(3x)
        >>> x = torch.tensor([[0.5]], dtype=torch.float64)
        >>> abs(f(x).item() - 9 * math.sin(1.5)) < 1e-12
        True
        """
        exact = self.exact if exact is None else exact
        if exact is None:
            raise ValueError("manufactured_forcing needs an exact solution (exact= or pde.exact)")
        return ManufacturedForcing(self, exact)

    def manufactured(self, exact: PointFn) -> PDE:
        """A copy of this PDE whose exact solution is ``exact`` and whose forcing is
        :meth:`manufactured_forcing` of it."""
        return dataclasses.replace(self, exact=exact, forcing=self.manufactured_forcing(exact))
