import random

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_everything():
    """Fixed seeds for every generator in every test (python, numpy, torch)."""
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002  (seeds the legacy global generator some libraries use)
    torch.manual_seed(0)
    yield
