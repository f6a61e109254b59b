"""Every tutorial runs as a script in smoke mode and asserts its own headline number."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("*.py"))
#: tutorials that show an optional package's path, skipped where it is not installed
REQUIRES = {"physics_engine": "deepwave"}


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_in_smoke_mode(path, tmp_path):
    if path.stem in REQUIRES:
        pytest.importorskip(REQUIRES[path.stem])
    env = dict(os.environ, SCIML_SMOKE="1", MPLBACKEND="Agg", SCIML_TUTORIAL_OUT=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, (
        f"{path.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
