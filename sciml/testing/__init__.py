"""Shared test contracts per model family, reusable by downstream code (a new member of a
family is tested by registering it). Nothing here is imported by the library; import the
module you need:

* :mod:`sciml.testing.recipes` -- data-set recipes: declared shapes match the worker's output,
  a seed gives the same sample whatever the batch, bad parameters give a clear error;
* :mod:`sciml.testing.nde_regularizers` -- NDE regularizers (imports pytest);
* :mod:`sciml.testing.processes` -- kill -9 and orphan checks for fault tests.
"""
