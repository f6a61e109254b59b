"""Linear solvers by name, and their convergence figure: what ``sciml solve``, the tutorials
and ``benchmarks/linear_solvers.py`` share.

The library takes method objects (:mod:`sciml.solvers.methods`,
:class:`sciml.solvers.dcdm.DCDM`); :func:`build_method` is the one place where a name becomes
one.

>>> type(build_method("icc")).__name__
'PCG'
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sciml.solvers.dcdm import DCDM, DCDMNet, LearnedPreconditioner  # noqa: E402
from sciml.solvers.krylov.preconditioners import GAMG, ICC, Jacobi, PyAMG  # noqa: E402
from sciml.solvers.methods import CG, PCG, FusedCG, PETScCG  # noqa: E402
from sciml.solvers.multigrid import MGPCG, LearnedMGPCG  # noqa: E402

__all__ = ["METHODS", "build_method", "plot_convergence"]


def _learned_preconditioner(dcdm, system):
    """The network of ``dcdm`` (loaded on first use) between Jacobi sweeps, bound to ``system``."""
    return LearnedPreconditioner(dcdm.model, system)


#: the method names :func:`build_method` knows (``sciml solve --method`` offers the same)
METHODS = (
    "cg",
    "jacobi",
    "cg-fused",
    "jacobi-fused",
    "icc",
    "gamg",
    "amg",
    "petsc-gamg",
    "dcdm",
    "dcdm-fpcg",
    "mg-pcg",
    "lmg-pcg",
)


def build_method(
    name: str, *, model: DCDMNet | None = None, k: int = 2, lmg_model=None
) -> CG | PCG | FusedCG | PETScCG | DCDM | MGPCG:
    """The method object for a name of :data:`METHODS` (``model``: a DCDMNet or model file for
    the ``dcdm*`` methods; ``lmg_model``: a learned-cycle file or module for ``lmg-pcg``,
    default the shipped one)."""
    table = {
        "cg": lambda: CG(),
        "jacobi": lambda: PCG(Jacobi, name="jacobi"),
        "cg-fused": lambda: FusedCG(jacobi=False),
        "jacobi-fused": lambda: FusedCG(jacobi=True),
        "icc": lambda: PCG(ICC, name="icc"),
        "gamg": lambda: PCG(GAMG, name="gamg"),
        "amg": lambda: PCG(PyAMG, name="amg"),
        "petsc-gamg": lambda: PETScCG("gamg"),
        "dcdm": lambda: DCDM(model, k=k),
        "dcdm-fpcg": lambda: PCG(
            partial(_learned_preconditioner, DCDM(model)), flexible=True, name="dcdm-fpcg"
        ),
        "mg-pcg": lambda: MGPCG(),
        "lmg-pcg": lambda: LearnedMGPCG(lmg_model),
    }
    if name not in table:
        raise ValueError(f"method must be one of {tuple(table)}, got {name!r}")
    return table[name]()


def plot_convergence(results: dict, path: str | Path, *, title: str = "") -> None:
    """One PNG: relative residual vs iteration and vs time for every method in ``results``."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, res in results.items():
        hist = res.residuals[:, 0].numpy()
        axes[0].semilogy(np.arange(len(hist)), hist, label=f"{name} ({res.iterations})")
        axes[1].semilogy(res.setup_time + res.times.numpy(), hist, label=name)
    axes[0].set_xlabel("iteration")
    axes[1].set_xlabel("seconds (setup + solve)")
    for ax in axes:
        ax.set_ylabel("||b - Ax|| / ||b||")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
