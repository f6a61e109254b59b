"""Every tutorial runs in smoke mode and asserts its own headline number.

Each tutorial runs as a notebook, cell by cell in a fresh Jupyter kernel (docs/execute.py,
with the docs extra installed): the same code, in the same order, as
``SCIML_SMOKE=1 python tutorials/NAME.py``. The executed notebook, with the PNGs each cell
wrote attached to it, is kept in ``build/docs/executed/smoke/`` so that the documentation
site's quick build (tests/docs/test_site.py, which runs after this file) shows it without
running the tutorial again. Without nbclient/jupytext the tutorial runs as a script.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("*.py"))


def _executor():
    if importlib.util.find_spec("nbclient") is None or importlib.util.find_spec("jupytext") is None:
        return None
    spec = importlib.util.spec_from_file_location(
        "sciml_docs_execute", ROOT / "docs" / "execute.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


EXECUTE = _executor()
#: tutorials that show an optional package's path, skipped where it is not installed
REQUIRES = {"physics_engine": "deepwave"}


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_in_smoke_mode(path, tmp_path):
    if path.stem in REQUIRES:
        pytest.importorskip(REQUIRES[path.stem])
    if EXECUTE is not None:
        res = EXECUTE.execute(path, smoke=True, force=True)
        assert res.error is None, res.error
        return
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
