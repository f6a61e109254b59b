"""Every spectral density passes the shared kernel contract (sciml.testing.gp_kernels)."""

from sciml.testing.gp_kernels import SpectralMixtureContract


class TestSpectralMixtureKernels(SpectralMixtureContract):
    pass
