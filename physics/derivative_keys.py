"""Derivative keys: the names the PDE formulas and the grid/autograd derivative engines share.

A key is a string of axis letters: ``"x", "y", "z"`` for space and ``"t"`` for time;
``"xx"`` is ``d^2u/dx^2``, ``"xy"`` the mixed derivative. Keys are canonical when their letters
are sorted in the order ``x, y, z, t`` (``canonical_key("yx") == "xy"``). Two whole-vector keys
serve spaces of any dimension: ``"grad"`` (the spatial gradient ``[N, dim]``) and ``"lap"``
(the spatial Laplacian ``[N]``).

Both :mod:`sciml.physics.pdes.pde` (autograd derivatives, the PDE formulas) and
:mod:`sciml.physics.fd` (grid derivatives) import this module; neither imports the other's
internals for the keys.

>>> canonical_key("tyx")
'xyt'
"""

from __future__ import annotations

__all__ = ["AXIS_ORDER", "VECTOR_KEYS", "canonical_key"]

AXIS_ORDER = "xyzt"
VECTOR_KEYS = ("grad", "lap")  # whole-vector derivatives, any spatial dimension


def canonical_key(key: str) -> str:
    """Sort the letters of a derivative key into the order x, y, z, t.

    Raises:
        ValueError: when ``key`` is empty or has letters outside ``"xyzt"``.
    """
    bad = set(key) - set(AXIS_ORDER)
    if not key or bad:
        raise ValueError(
            f"derivative key {key!r} must be a non-empty string of letters from 'xyzt'"
        )
    return "".join(sorted(key, key=AXIS_ORDER.index))
