"""sciml: scientific machine learning for forward and inverse PDEs.

``import sciml`` is light: ``sciml.Grid`` and ``sciml.Mesh`` load on first use (so the
``sciml`` command builds its parser without importing torch). FEniCSx, PETSc and gmsh are
imported lazily by the functions that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Grid", "Mesh", "__version__"]

if TYPE_CHECKING:
    from sciml.grid import Grid
    from sciml.mesh import Mesh


def __getattr__(name: str) -> Any:
    if name == "Grid":
        from sciml.grid import Grid

        return Grid
    if name == "Mesh":
        from sciml.mesh import Mesh

        return Mesh
    raise AttributeError(f"module 'sciml' has no attribute {name!r}")
