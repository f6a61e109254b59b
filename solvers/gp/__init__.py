"""GP-HM: the Kronecker spectral-mixture Gaussian-process PDE solver (Fang et al., ICLR 2024).

One file per piece:

* :mod:`~sciml.solvers.gp.kernels` -- :class:`SpectralMixture1D`, the per-axis kernel with
  closed-form derivatives;
* :mod:`~sciml.solvers.gp.kronecker` -- Kronecker algebra on a tensor-product grid
  (:class:`KroneckerFactors`, :func:`mode_apply`);
* :mod:`~sciml.solvers.gp.collocation` -- axis letters, boundary faces and masks;
* :mod:`~sciml.solvers.gp.spectrum` -- the spectral peak finder;
* :mod:`~sciml.solvers.gp.auto_grid` -- the collocation grid from the data's spectra
  (:func:`choose_grid`);
* :mod:`~sciml.solvers.gp.initialization` -- frequencies and noise levels from the data;
* :mod:`~sciml.solvers.gp.model` -- :class:`KroneckerGPSolver` (unknowns, loss, prediction);
* fit strategies (objects): :class:`Adam` (the published recipe), :class:`AdamLBFGS`,
  :class:`GaussNewton`, on the contract :class:`FitStrategy`, reporting to a :class:`Monitor`;
* :mod:`~sciml.solvers.gp.normal_equations` -- the Gauss-Newton normal equations as a
  matrix-free Kronecker operator (:class:`GaussNewtonSystem`), solved by the Krylov core's CG
  with :class:`KroneckerEigenJacobi` (Jacobi in the prior's Kronecker eigenbasis); the dense
  step stays as the reference;
* :mod:`~sciml.solvers.gp.solve` -- :func:`solve_gp`, the entry point, returning a
  :class:`GPSolution`;
* :mod:`~sciml.solvers.gp.problems` -- the published test problems;
* the figure of a solve is a workflow (:func:`sciml.workflows.gp_figures.plot_gp_solution`);
  the ``sciml solve gp`` handler is in :mod:`sciml.commands.solve_gp`.
"""

from sciml.solvers.gp.adam import Adam
from sciml.solvers.gp.adam_lbfgs import AdamLBFGS
from sciml.solvers.gp.auto_grid import GridChoice, choose_grid
from sciml.solvers.gp.collocation import axis_letters, boundary_mask
from sciml.solvers.gp.densities import DENSITIES, Gaussian, SpectralDensity, StudentT
from sciml.solvers.gp.eigen_preconditioner import KroneckerEigenJacobi
from sciml.solvers.gp.gauss_newton import (
    GaussNewton,
    dense_gauss_newton_step,
    matrix_free_gauss_newton_step,
)
from sciml.solvers.gp.initialization import FrequencyInit, SpectrumInit, UniformInit
from sciml.solvers.gp.kernels import SpectralMixture1D
from sciml.solvers.gp.kronecker import KroneckerFactors, mode_apply
from sciml.solvers.gp.model import KroneckerGPSolver
from sciml.solvers.gp.monitor import Monitor
from sciml.solvers.gp.normal_equations import GaussNewtonSystem
from sciml.solvers.gp.problems import PROBLEMS, GPProblem, get_problem, manufactured_forcing
from sciml.solvers.gp.solution import GPSolution
from sciml.solvers.gp.solve import SpectralMixturePrior, solve_gp
from sciml.solvers.gp.spectrum import spectral_peaks
from sciml.solvers.gp.strategy import FitStrategy

__all__ = [
    "DENSITIES",
    "PROBLEMS",
    "Adam",
    "AdamLBFGS",
    "FitStrategy",
    "FrequencyInit",
    "Gaussian",
    "SpectralDensity",
    "SpectralMixturePrior",
    "SpectrumInit",
    "StudentT",
    "UniformInit",
    "GPProblem",
    "GPSolution",
    "GaussNewton",
    "GaussNewtonSystem",
    "GridChoice",
    "KroneckerEigenJacobi",
    "KroneckerFactors",
    "KroneckerGPSolver",
    "Monitor",
    "SpectralMixture1D",
    "axis_letters",
    "boundary_mask",
    "choose_grid",
    "dense_gauss_newton_step",
    "get_problem",
    "manufactured_forcing",
    "matrix_free_gauss_newton_step",
    "mode_apply",
    "solve_gp",
    "spectral_peaks",
]
