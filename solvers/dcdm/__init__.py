"""The deep conjugate direction method (DCDM; Kaneda et al., ICML 2023) with a never-stall safeguard.

* :mod:`~sciml.solvers.dcdm.method` -- :func:`dcdm` (the iteration and its safeguard) and the
  method object :class:`DCDM`;
* :mod:`~sciml.solvers.dcdm.network` -- :class:`DCDMNet`, the multi-level network (linear in the
  residual, gated by the geometry);
* :mod:`~sciml.solvers.dcdm.features` -- the Jacobi-scaled stencil channels the network reads;
* :mod:`~sciml.solvers.dcdm.direction` -- :class:`LearnedDirection`, the network bound to a
  system (symmetric Jacobi scaling in and out);
* :mod:`~sciml.solvers.dcdm.preconditioner` -- :class:`LearnedPreconditioner`, the network
  between two Jacobi sweeps, a preconditioner for flexible PCG;
* :mod:`~sciml.solvers.dcdm.loss` -- the energy and residual losses;
* :mod:`~sciml.solvers.dcdm.task` -- :class:`DCDMTask`, training through the package's Trainer
  on DCDM's own residuals;
* :mod:`~sciml.solvers.dcdm.model_file` -- model files (the shipped one: the zoo's ``dcdm-3d``).
"""

from sciml.solvers.dcdm.direction import LearnedDirection, OutsideTrainingWarning
from sciml.solvers.dcdm.features import stencil_features
from sciml.solvers.dcdm.method import DCDM, dcdm
from sciml.solvers.dcdm.model_file import DEFAULT_MODEL, load_dcdm, save_model
from sciml.solvers.dcdm.network import DCDMNet
from sciml.solvers.dcdm.preconditioner import LearnedPreconditioner

__all__ = [
    "DCDM",
    "DCDMNet",
    "DEFAULT_MODEL",
    "LearnedDirection",
    "LearnedPreconditioner",
    "OutsideTrainingWarning",
    "dcdm",
    "load_dcdm",
    "save_model",
    "stencil_features",
]
