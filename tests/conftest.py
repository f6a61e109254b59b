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


class _RunsCode:
    """A pickle payload that runs ``touch MARKER`` when unpickled (the demonstrated attack)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def write_malicious_torch_file(path, marker, *, like: str = "model") -> None:
    """A ``torch.save`` file shaped like a sciml ``like`` file whose unpickling runs code.

    Every loader must refuse it without creating ``marker``.
    """
    evil = _RunsCode(marker)
    if like == "checkpoint":
        obj = {"format": "sciml-checkpoint-v2", "epoch": 1, "model": {}, "rng": evil}
    elif like == "model":
        obj = {"format": "sciml-model-v2", "spec": {"name": "fno", "kwargs": {}}, "extra": evil}
    else:
        obj = {"x": torch.zeros(2), "y": evil}
    torch.save(obj, path)


@pytest.fixture
def malicious_file(tmp_path):
    """``make(like) -> (path, marker)``: a code-running torch file and the file it would touch."""

    def make(like: str = "model", name: str | None = None):
        path = tmp_path / (name or f"evil_{like}.pt")
        marker = tmp_path / f"pwned_{like}"
        write_malicious_torch_file(path, marker, like=like)
        return path, marker

    return make
