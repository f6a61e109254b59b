"""Execute a tutorial as a notebook, cell by cell, and keep the figures it wrote.

The tutorials are jupytext percent-format scripts that save their plots as PNG files with
matplotlib's Agg backend (``SCIML_TUTORIAL_OUT``) instead of displaying them. To show those
plots where they belong, this runner executes the notebook one cell at a time in a Jupyter
kernel (nbclient) and, after each cell, attaches every PNG that the cell created or rewrote
as an ``image/png`` output of that cell. Nothing in the tutorials has to change for it.

Executed notebooks are cached under ``build/docs/executed/<mode>/`` with a key made of the
tutorial's source, the mode (``smoke`` or ``full``) and the package's sources, so the tests
(``tests/test_tutorials.py`` runs each tutorial through this module in smoke mode) and the
quick site build share one execution.

Command line: ``python docs/execute.py tutorials/NAME.py [--full] [--force]``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "docs" / "executed"
# the sources whose change can change a tutorial's output
PACKAGE_DIRS = ("sciml", "physics", "solvers", "datasets")


@dataclass
class Execution:
    """What running one tutorial gave: the executed notebook file and how it went."""

    path: Path  # the executed .ipynb
    seconds: float
    cached: bool
    figures: int
    error: str | None = None  # the failing cell's traceback, None when every cell ran


def package_digest(root: Path = ROOT) -> str:
    """A hash of the package's Python sources (and shipped models), in a stable order."""
    h = hashlib.sha256()
    for top in PACKAGE_DIRS:
        for f in sorted((root / top).rglob("*")):
            if f.is_file() and f.suffix in (".py", ".pt", ".json") and "__pycache__" not in f.parts:
                h.update(str(f.relative_to(root)).encode())
                h.update(f.read_bytes())
    return h.hexdigest()


def cache_key(tutorial: Path, mode: str, digest: str) -> str:
    h = hashlib.sha256()
    h.update(Path(tutorial).read_bytes())
    h.update(mode.encode())
    h.update(digest.encode())
    return h.hexdigest()[:24]


def cached_path(tutorial: Path, mode: str) -> Path:
    return CACHE / mode / f"{Path(tutorial).stem}.ipynb"


def read_cached(tutorial: Path, mode: str, key: str) -> Path | None:
    """The cached executed notebook of ``tutorial`` if it was made with ``key`` and ran."""
    path = cached_path(tutorial, mode)
    if not path.exists():
        return None
    try:
        meta = json.loads(path.read_text())["metadata"].get("sciml_docs", {})
    except (ValueError, KeyError):
        return None
    return path if meta.get("key") == key and meta.get("error") is None else None


def _pngs(folder: Path) -> dict[Path, tuple[int, int]]:
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*.png")}


def _png_output(path: Path) -> dict:
    from nbformat.v4 import new_output

    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return new_output(
        "display_data", data={"image/png": data, "text/plain": f"<{path.name}>"}, metadata={}
    )


def run_notebook(
    tutorial: Path, out: Path, *, smoke: bool, key: str = "", timeout: int = 900
) -> Execution:
    """Execute ``tutorial`` cell by cell in a fresh kernel and write the notebook to ``out``.

    The kernel runs in a temporary folder that is also ``SCIML_TUTORIAL_OUT``, with
    ``SCIML_SMOKE=1`` in smoke mode and ``MPLBACKEND=Agg``. Standard-error streams (progress
    bars, warnings) are dropped from the stored outputs; a failing cell keeps its traceback
    and stops the run (``Execution.error``).
    """
    import jupytext
    import nbformat
    from jupyter_client import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    tutorial = Path(tutorial)
    nb = jupytext.read(tutorial)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    error = None
    figures = 0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"sciml_{tutorial.stem}_") as work:
        work = Path(work)
        env = dict(os.environ, SCIML_TUTORIAL_OUT=str(work), MPLBACKEND="Agg")
        env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # ipykernel's debugger warning on stderr
        if smoke:
            env["SCIML_SMOKE"] = "1"
        else:
            env.pop("SCIML_SMOKE", None)
        # IPC sockets in the work folder: nothing listens on the network
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(work / "kernel"))
        client = NotebookClient(nb, km=km, timeout=timeout, resources={"metadata": {"path": work}})
        try:
            with client.setup_kernel(env=env, cwd=str(work)):
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type != "code":
                        continue
                    before = _pngs(work)
                    try:
                        client.execute_cell(cell, index)
                    except CellExecutionError as exc:
                        error = f"{tutorial.name}, cell {index}:\n{exc}"
                    cell.outputs = [
                        o for o in cell.outputs if not (o.get("name") == "stderr" and error is None)
                    ]
                    after = _pngs(work)
                    for png in sorted(p for p, stamp in after.items() if before.get(p) != stamp):
                        cell.outputs.append(_png_output(png))
                        figures += 1
                    if error is not None:
                        break
        finally:
            # we own the kernel (km was passed in): nbclient leaves it running otherwise
            if client.kc is not None:
                client.kc.stop_channels()
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    seconds = time.perf_counter() - t0
    nb.metadata["sciml_docs"] = {
        "key": key,
        "mode": "smoke" if smoke else "full",
        "seconds": round(seconds, 1),
        "figures": figures,
        "error": error,
        "executed": time.strftime("%Y-%m-%d %H:%M"),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    tmp.replace(out)
    return Execution(out, seconds, False, figures, error)


def execute(
    tutorial: Path, *, smoke: bool, force: bool = False, digest: str | None = None
) -> Execution:
    """The executed notebook of ``tutorial``, from the cache when its key matches."""
    mode = "smoke" if smoke else "full"
    key = cache_key(tutorial, mode, digest or package_digest())
    if not force and (hit := read_cached(tutorial, mode, key)) is not None:
        meta = json.loads(hit.read_text())["metadata"]["sciml_docs"]
        return Execution(hit, meta["seconds"], True, meta["figures"])
    return run_notebook(tutorial, cached_path(tutorial, mode), smoke=smoke, key=key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tutorials", nargs="+", type=Path)
    parser.add_argument("--full", action="store_true", help="full sizes (default: smoke mode)")
    parser.add_argument("--force", action="store_true", help="ignore the cache")
    args = parser.parse_args(argv)
    digest = package_digest()
    status = 0
    for t in args.tutorials:
        res = execute(t, smoke=not args.full, force=args.force, digest=digest)
        how = "cached" if res.cached else f"{res.seconds:.0f} s"
        print(f"{t.name}: {res.figures} figures ({how}) -> {res.path}")
        if res.error:
            print(res.error, file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
