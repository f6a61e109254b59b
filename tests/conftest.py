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


@pytest.fixture
def one_thread():
    """One torch thread for the test (small models: fastest, and the machine is shared); the
    previous count is restored afterwards. Modules opt in with
    ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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


def pytest_collection_modifyitems(config, items):
    """The documentation site's browser test runs last: its quick build reuses the notebooks
    that tests/test_tutorials.py executed (build/docs/executed/smoke/). ``@pytest.mark.nightly``
    tests (long fuzzing) run only with SCIML_NIGHTLY=1."""
    import os

    site = [i for i in items if i.path.name == "test_site.py" and i.path.parent.name == "docs"]
    if site:
        items[:] = [i for i in items if i not in site] + site
    if os.environ.get("SCIML_NIGHTLY") != "1":
        skip = pytest.mark.skip(reason="nightly run only (SCIML_NIGHTLY=1)")
        for item in items:
            if "nightly" in item.keywords:
                item.add_marker(skip)


# ------------------------------------------------------------------ folders that refuse writes
def _mount_tmpfs(path, options: str) -> bool:
    """Mount a tmpfs at ``path`` (root only); False where that is not possible."""
    import os
    import subprocess

    if os.geteuid() != 0:
        return False
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True
    )
    return r.returncode == 0


def _umount(path) -> None:
    import subprocess

    subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture
def readonly_dir(tmp_path):
    """A folder nobody can write into: ``chmod 500`` for a normal user; a read-only tmpfs for
    root (root ignores permission bits). Skips where neither works."""
    import os

    path = tmp_path / "readonly"
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o500)
        yield path
        path.chmod(0o700)
        return
    if not _mount_tmpfs(path, "ro,size=64k"):
        pytest.skip("running as root without mount: no read-only folder available")
    try:
        yield path
    finally:
        _umount(path)


@pytest.fixture
def small_disk(tmp_path):
    """``make(size) -> folder`` on a tmpfs of ``size`` (e.g. ``"1m"``); ``grow(folder, size)``
    remounts it larger. A real full disk (ENOSPC); skips where tmpfs cannot be mounted."""
    mounted = []

    def make(size: str):
        path = tmp_path / f"disk{len(mounted)}"
        path.mkdir()
        if not _mount_tmpfs(path, f"size={size}"):
            pytest.skip("cannot mount a tmpfs here (needs root and mount)")
        mounted.append(path)
        return path

    def grow(path, size: str) -> None:
        import subprocess

        subprocess.run(
            ["mount", "-o", f"remount,size={size}", str(path)], check=True, capture_output=True
        )

    make.grow = grow
    yield make
    for path in mounted:
        _umount(path)
