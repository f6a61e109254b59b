"""Every registered regularizer passes the shared contract (sciml.testing.nde_regularizers)."""

import pytest

from sciml.testing.nde_regularizers import RegularizerContract

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


class TestRegisteredRegularizers(RegularizerContract):
    pass
