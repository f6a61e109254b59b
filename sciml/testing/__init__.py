"""Shared test contracts per model family, reusable by downstream code (a new member of a
family is tested by registering it). Nothing here is imported by the library; import the
module you need. Contract modules import pytest; :mod:`sciml.testing.convergence`
(``observed_order``) needs only numpy, so tutorials and benchmarks may use it too.

* :mod:`sciml.testing.operators` -- grid operators (shapes, gradients, fresh-process reload,
  golden output, resolution transfer);
* :mod:`sciml.testing.preconditioners` -- preconditioners (declared symmetry, definiteness,
  linearity measured; fewer CG iterations);
* :mod:`sciml.testing.pdes` -- PDE families (exact solutions, manufactured forcing, FD order);
* :mod:`sciml.testing.recipes` -- data-set recipes: declared shapes match the worker's output,
  a seed gives the same sample whatever the batch, bad parameters give a clear error;
* :mod:`sciml.testing.nde_regularizers` -- neural-ODE regularizers;
* :mod:`sciml.testing.gp_kernels` -- GP-HM spectral-mixture densities: PSD, the spectrum
  integrates to the variance, closed-form derivatives equal autograd, Kronecker matvec equals
  dense;
* :mod:`sciml.testing.processes` -- kill -9 and orphan checks for fault tests;
* :mod:`sciml.testing.convergence` -- the observed order of convergence.
"""
