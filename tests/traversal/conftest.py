import pytest


@pytest.fixture(autouse=True)
def _tiny_models(one_thread):
    """Tiny models: one thread is fastest, and the machine is shared (tests/conftest.py)."""
    yield
