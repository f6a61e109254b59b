"""Shared test contracts per model family, reusable by downstream code (a new member of a
family is tested by registering it). Contract modules import pytest; nothing here is imported
by the library. :mod:`sciml.testing.convergence` (``observed_order``) needs only numpy, so
tutorials and benchmarks may use it too.

* :mod:`sciml.testing.operators` -- grid operators (shapes, gradients, fresh-process reload,
  golden output, resolution transfer);
* :mod:`sciml.testing.pdes` -- PDE families (exact solutions, manufactured forcing, FD order);
* :mod:`sciml.testing.nde_regularizers` -- neural-ODE regularizers;
* :mod:`sciml.testing.convergence` -- the observed order of convergence.
"""
