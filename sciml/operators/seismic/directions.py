"""The two directions of seismic imaging models: ``"forward"`` (velocity -> seismic data)
and ``"inverse"`` (seismic data -> velocity). Models declare the ones they serve in a
``directions`` class attribute and take ``forward(x, direction=None)``."""

from __future__ import annotations

__all__ = ["DIRECTIONS", "check_direction"]

DIRECTIONS: tuple[str, str] = ("forward", "inverse")


def check_direction(direction: str | None, allowed: tuple[str, ...]) -> str:
    """``direction`` (default: the first of ``allowed``) or a clear ``ValueError``.

    >>> check_direction(None, ("inverse",))
    'inverse'
    """
    if direction is None:
        return allowed[0]
    if direction not in allowed:
        raise ValueError(f"direction must be one of {allowed}, got {direction!r}")
    return direction
