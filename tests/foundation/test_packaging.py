"""The distribution installs physics/, solvers/, datasets/ as sciml subpackages only."""

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_folder_is_listed_in_pyproject():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(cfg["packages"])
    dirs = {v: k for k, v in cfg["package-dir"].items()}
    found = set()
    for top, name in dirs.items():
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top)
            found.add(".".join([name, *rel.parts]) if rel.parts else name)
    assert found == listed, f"pyproject packages {sorted(listed)} != folders {sorted(found)}"


def test_wheel_installs_subpackages_and_imports_from_any_folder(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    wheel = next(tmp_path.glob("sciml-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for mod in ("sciml/grid.py", "sciml/physics/__init__.py", "sciml/solvers/__init__.py",
                "sciml/datasets/__init__.py"):  # fmt: skip
        assert mod in names
    tops = {n.split("/")[0] for n in names if not n.startswith("sciml-")}
    assert tops == {"sciml"}, f"the wheel installs top-level names {tops}"
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import sciml, sciml.physics, sciml.solvers, sciml.datasets, sys;"
        "print(sciml.physics.__file__); print('dolfinx' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd="/", env={"PYTHONPATH": str(site), "PATH": "/usr/bin"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    path, dolfinx_loaded = out.stdout.split()
    assert path.startswith(str(site)) and dolfinx_loaded == "False"
