"""Every PDE family exported by sciml.physics passes the shared contract (sciml.testing.pdes)."""

from sciml.testing.pdes import PDEContract


class TestRegisteredPDEs(PDEContract):
    pass
