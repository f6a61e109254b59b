"""Geometric multigrid for the package's cell-centred grid systems, with learned parts."""
