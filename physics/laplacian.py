"""The Laplacian of a point function by autograd: exact trace or Hutchinson's estimator.

The autograd residuals of :mod:`sciml.physics.pdes.pde` read the whole-vector key ``"lap"`` (the
spatial Laplacian ``[N]``) in spaces of any dimension (latent spaces of potential flows).
Computed exactly, it costs one backward pass per spatial axis (``dim`` passes). Hutchinson's
estimator replaces the trace by ``mean_p v_p^T H v_p`` over ``probes`` random vectors ``v``
with ``E[v v^T] = I`` (Rademacher or Gaussian entries), so it costs one backward pass per
probe whatever the dimension, and it is unbiased: ``E[v^T H v] = tr(H E[v v^T]) = tr H``.

Which one ``autograd_derivatives`` uses is a context (a knob that threads through every
residual, so it is not an argument passed down)::

    >>> import torch
    >>> from sciml.physics import Hutchinson, laplacian_estimator
    >>> from sciml.physics.pdes.pde import autograd_derivatives
    >>> x = torch.randn(4, 8, dtype=torch.float64, requires_grad=True)
    >>> u = (x**2).sum(1)  # Laplacian = 2 * 8 = 16 everywhere
    >>> autograd_derivatives(u, x, ["lap"], "s" * 8)["lap"].tolist()
    [16.0, 16.0, 16.0, 16.0]
    >>> with laplacian_estimator(Hutchinson(probes=1)):  # Rademacher: exact on diagonal H
    ...     autograd_derivatives(u, x, ["lap"], "s" * 8)["lap"].tolist()
    [16.0, 16.0, 16.0, 16.0]

Note the difference from a "Hessian times a ones-vector" (the row sums ``H 1``, a
``dim``-vector that the published PDETraversal code uses as its "Laplacian"): ``H 1`` mixes
the off-diagonal curvature into every component and is not invariant under rotations of the
space; the trace is a scalar, invariant, and is the operator in the heat and wave equations.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass

import torch

__all__ = [
    "Hutchinson",
    "laplacian_estimator",
    "current_laplacian_estimator",
    "exact_laplacian",
    "hutchinson_laplacian",
]

_DISTRIBUTIONS = ("rademacher", "gaussian")


@dataclass(frozen=True)
class Hutchinson:
    """Hutchinson's trace estimator ``tr H ~ mean_p v_p^T H v_p``.

    Args:
        probes: number of random vectors per point (one backward pass each).
        distribution: ``"rademacher"`` (entries +-1: the smallest variance among estimators of
            this form, exact for diagonal H) or ``"gaussian"``.
        generator: optional torch generator for the probes (reproducible estimates); it must
            live on the device of the points.

    Attributes:
        unbiased: the estimator's contract, checked by the tests (mean within 3 standard
            errors of the exact trace).
    """

    probes: int = 1
    distribution: str = "rademacher"
    generator: torch.Generator | None = None
    unbiased = True

    def __post_init__(self) -> None:
        if not isinstance(self.probes, int) or isinstance(self.probes, bool) or self.probes < 1:
            raise ValueError(f"probes must be a positive int, got {self.probes!r}")
        if self.distribution not in _DISTRIBUTIONS:
            raise ValueError(
                f"distribution must be one of {_DISTRIBUTIONS}, got {self.distribution!r}"
            )

    def sample(self, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """Random probe vectors ``[*shape]`` with ``E[v v^T] = I``, dtype/device of ``like``."""
        if self.distribution == "gaussian":
            return torch.randn(
                shape, generator=self.generator, dtype=like.dtype, device=like.device
            )
        bits = torch.randint(0, 2, shape, generator=self.generator, device=like.device)
        return (2 * bits - 1).to(like.dtype)


_ESTIMATOR: contextvars.ContextVar[Hutchinson | None] = contextvars.ContextVar(
    "sciml_laplacian_estimator", default=None
)


@contextlib.contextmanager
def laplacian_estimator(estimator: Hutchinson | None) -> Iterator[None]:
    """Within the block, ``"lap"`` derivatives use ``estimator`` (``None``: the exact trace)."""
    if estimator is not None and not isinstance(estimator, Hutchinson):
        raise TypeError(f"estimator must be a Hutchinson or None, got {type(estimator).__name__}")
    token = _ESTIMATOR.set(estimator)
    try:
        yield
    finally:
        _ESTIMATOR.reset(token)


def current_laplacian_estimator() -> Hutchinson | None:
    """The estimator set by the innermost :func:`laplacian_estimator` (``None`` = exact)."""
    return _ESTIMATOR.get()


def exact_laplacian(grad: torch.Tensor, x: torch.Tensor, cols: list[int]) -> torch.Tensor:
    """``sum_j d(grad_j)/dx_{cols[j]}``: the exact trace, one backward pass per axis.

    Args:
        grad: ``[N, dim]`` spatial gradient of a scalar ``u: [N]`` (graph kept).
        x: ``[N, D]`` points ``u`` was computed from.
        cols: the column of ``x`` of each spatial axis (``len(cols) == dim``).

    Returns:
        ``[N]``, differentiable (``create_graph``).
    """
    lap = torch.zeros(grad.shape[0], dtype=grad.dtype, device=grad.device)
    for j, col in enumerate(cols):
        (g,) = torch.autograd.grad(grad[:, j].sum(), x, create_graph=True, allow_unused=True)
        if g is not None:
            lap = lap + g[:, col]
    return lap


def hutchinson_laplacian(
    grad: torch.Tensor, x: torch.Tensor, cols: list[int], estimator: Hutchinson
) -> torch.Tensor:
    """Hutchinson estimate of the Laplacian, one backward pass per probe.

    Args: as :func:`exact_laplacian`, plus the ``estimator``.

    Returns:
        ``[N]`` unbiased estimate (each point gets its own probes), differentiable.
    """
    v = estimator.sample((estimator.probes, *grad.shape), grad)  # [P, N, dim]
    est = torch.zeros(grad.shape[0], dtype=grad.dtype, device=grad.device)
    for p in range(estimator.probes):
        (hv,) = torch.autograd.grad(
            (grad * v[p]).sum(), x, create_graph=True, allow_unused=True
        )  # row p of H v, all columns of x
        if hv is not None:
            est = est + (v[p] * hv[:, cols]).sum(-1)
    return est / estimator.probes
