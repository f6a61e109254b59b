"""Every registered regularizer passes the shared contract (sciml.testing.nde_regularizers)."""

import pytest
import torch

from sciml.testing.nde_regularizers import RegularizerContract


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny matrices: one thread is fastest, and the machine is shared."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


class TestRegisteredRegularizers(RegularizerContract):
    pass
