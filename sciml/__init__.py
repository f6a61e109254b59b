"""sciml: scientific machine learning for forward and inverse PDEs.

``import sciml`` is light: it loads the Grid and Mesh types only. FEniCSx, PETSc and
gmsh are imported lazily by the functions that need them.
"""

from sciml.grid import Grid
from sciml.mesh import Mesh

__version__ = "0.1.0"
__all__ = ["Grid", "Mesh", "__version__"]
