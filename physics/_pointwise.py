"""Small helpers shared by the PDE dataclasses (values and gradients of known point functions)."""

from __future__ import annotations

from collections.abc import Callable

import torch

PointFn = Callable[[torch.Tensor], torch.Tensor]


def evaluate(fn: PointFn | float | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``fn(x)``; a float gives a constant ``[N]``; a 0-d tensor (e.g. a learnable
    ``nn.Parameter``) is broadcast to ``[N]`` and keeps its graph."""
    if isinstance(fn, torch.Tensor):
        if fn.numel() != 1:
            raise ValueError(f"a tensor coefficient must be a scalar, got shape {list(fn.shape)}")
        return fn.reshape(()).to(x.dtype).expand(x.shape[0])
    if callable(fn):
        return fn(x)
    return torch.full((x.shape[0],), float(fn), dtype=x.dtype, device=x.device)


def value_and_gradient(fn: PointFn | float, x: torch.Tensor, dim: int):
    """``fn(x[:, :dim])`` ``[N]`` and its spatial gradient ``[N, dim]`` by autograd.

    A float ``fn`` is a constant (zero gradient). The graph is kept so a learnable ``fn``
    (an ``nn.Module``) receives gradients through the residual.
    """
    xs = x[:, :dim].detach().requires_grad_(True)
    if not callable(fn):
        v = torch.full((x.shape[0],), float(fn), dtype=x.dtype, device=x.device)
        return v, torch.zeros_like(xs)
    with torch.enable_grad():
        v = fn(xs).reshape(-1)
        (g,) = torch.autograd.grad(v.sum(), xs, create_graph=True, allow_unused=True)
    return v, torch.zeros_like(xs) if g is None else g


def field_and_divergence(fn: PointFn, x: torch.Tensor, dim: int):
    """Vector field ``fn(x[:, :dim])`` ``[N, dim]`` and its divergence ``[N]`` by autograd."""
    xs = x[:, :dim].detach().requires_grad_(True)
    with torch.enable_grad():
        v = fn(xs)
        if v.shape != xs.shape:
            raise ValueError(
                f"the vector field must map [N, {dim}] to [N, {dim}], got {list(v.shape)}"
            )
        div = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for i in range(dim):
            (g,) = torch.autograd.grad(v[:, i].sum(), xs, create_graph=True, allow_unused=True)
            if g is not None:
                div = div + g[:, i]
    return v, div


def check_any_dim(name: str, dim: int) -> None:
    """Spaces of any dimension (latent spaces): ``dim`` must be an integer ``>= 1``."""
    if not (isinstance(dim, int) and not isinstance(dim, bool) and dim >= 1):
        raise ValueError(f"{name}: dim must be an integer >= 1, got {dim!r}")


def check_dim(name: str, dim: int, allowed: tuple[int, ...]) -> None:
    if dim not in allowed:
        raise ValueError(f"{name}: dim must be one of {allowed}, got {dim!r}")
