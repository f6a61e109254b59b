"""Build the documentation site: the course, getting started, benchmarks and the API reference.

``make docs`` runs ``python docs/build.py`` (full sizes); ``make docs QUICK=1`` runs it with
``--quick`` (tutorials in smoke mode, ``SCIML_SMOKE=1``). Both reuse executed notebooks from
``build/docs/executed/`` when the tutorial and the package are unchanged (docs/execute.py).

What it does, offline:

1. executes every tutorial of the course table (docs/course.py) that exists, cell by cell,
   attaching the PNGs each cell wrote; rows whose tutorial is not there yet are reported
   and listed as *coming* on the index, never an error;
2. lays out the pages in ``build/docs/src``: the index (the course path), README.md as
   *Getting started*, the executed tutorials, BENCHMARKS.md, one API page per package
   (mkdocstrings reads the docstrings of a copy of the package's sources, without
   importing it), and MathJax from the docs extra's local copy;
3. writes ``build/docs/mkdocs.yml`` (docs/mkdocs.yml plus the navigation) and runs
   ``mkdocs build --strict`` into ``site/``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import course  # noqa: E402
import execute  # noqa: E402

BUILD = ROOT / "build" / "docs"
SRC = BUILD / "src"
PKG = BUILD / "pkg"  # sciml laid out as it installs (physics/ -> sciml/physics) for griffe

# API reference: (page title, file stem, modules). "pkg.*" means every public module of pkg.
API_PAGES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Grid, Mesh and files", "foundation", ("sciml.grid", "sciml.mesh", "sciml.io")),
    (
        "PDE engine",
        "physics",
        (
            "sciml.physics.*",
            "sciml.physics.pdes.*",
            "sciml.physics.fields.*",
            "sciml.physics.seismic.*",
            "sciml.physics.steppers.*",
        ),
    ),
    ("Data sets", "datasets", ("sciml.datasets.*",)),
    (
        "Solvers",
        "solvers",
        ("sciml.solvers.*", "sciml.solvers.krylov.*", "sciml.solvers.dcdm.*", "sciml.solvers.gp.*"),
    ),
    (
        "Neural operators",
        "operators",
        (
            "sciml.operators.*",
            "sciml.operators.grid.*",
            "sciml.operators.point.*",
            "sciml.operators.seismic.*",
        ),
    ),
    ("Training", "train", ("sciml.train.*",)),
    ("Inverse problems", "inverse", ("sciml.inverse.*",)),
    ("Neural ODEs and SDEs", "nde", ("sciml.nde.*",)),
    ("Latent traversals", "traversal", ("sciml.traversal.*",)),
    ("Workflows", "workflows", ("sciml.workflows.*",)),
)
# where each installed subpackage lives in the repository
PACKAGE_DIRS = {"sciml": "sciml", "sciml.physics": "physics", "sciml.solvers": "solvers",
                "sciml.datasets": "datasets"}  # fmt: skip


def log(msg: str) -> None:
    print(f"[docs] {msg}", flush=True)


# ---------------------------------------------------------------------------------------
# the package as griffe reads it


def copy_package() -> None:
    """Copy the package's .py files into build/docs/pkg/sciml with the installed layout."""
    if PKG.exists():
        shutil.rmtree(PKG)
    ignore = shutil.ignore_patterns("__pycache__", "*.pt", "*.h5", "*.json", "*.md", "*.png")
    shutil.copytree(ROOT / "sciml", PKG / "sciml", ignore=ignore)
    for name, folder in PACKAGE_DIRS.items():
        if name != "sciml":
            shutil.copytree(ROOT / folder, PKG / name.replace(".", "/"), ignore=ignore)


def expand_modules(patterns: tuple[str, ...]) -> list[str]:
    """Module names for an API page (``pkg.*``: the public modules of ``pkg``, in file order)."""
    names: list[str] = []
    for pattern in patterns:
        if not pattern.endswith(".*"):
            if (PKG / (pattern.replace(".", "/") + ".py")).exists():
                names.append(pattern)
            continue
        pkg = pattern[:-2]
        folder = PKG / pkg.replace(".", "/")
        if not (folder / "__init__.py").exists():
            continue
        modules = [
            f"{pkg}.{f.stem}" for f in sorted(folder.glob("*.py")) if not f.stem.startswith("_")
        ]
        if modules or (folder / "__init__.py").read_text().strip():  # else: an empty placeholder
            names += [pkg, *modules]
    return names


# ---------------------------------------------------------------------------------------
# pages


def rewrite_links(text: str) -> str:
    """Links between the repository's Markdown files, as the site names them."""
    text = text.replace("(BENCHMARKS.md", "(benchmarks.md").replace("(README.md", "(index.md")
    return text


def index_page(built: set[str], mode: str) -> str:
    rows = []
    for n, item in enumerate(course.COURSE, 1):
        if item.stem in built:
            link = f"**[{item.title}](tutorials/{item.stem}.ipynb)**"
        elif item.present:
            link = f'<span class="coming">{item.title} (not executed in this build)</span>'
        else:
            link = f'<span class="coming">{item.title} (coming)</span>'
        stage = f'<br><span class="stage">{item.stage}</span>'
        rows.append(f"| {n} | {link}{stage} | {item.summary} |")
    coming = [item for item in course.COURSE if not item.present]
    note = (
        f'\n!!! note "Coming"\n    {len(coming)} step(s) of the path are being written: '
        + ", ".join(f"`tutorials/{i.stem}.py`" for i in coming)
        + ". They join the site when they land.\n"
        if coming
        else ""
    )
    how = (
        "the small sizes of the tests (`SCIML_SMOKE=1`): the numbers and figures show the "
        "method working, not its best result; `make docs` builds it at full size"
        if mode == "smoke"
        else "full size"
    )
    return f"""# sciml: a course in scientific machine learning

sciml solves forward and inverse partial differential equations with learned and classical
methods on one foundation: `Grid` and `Mesh`, one PDE engine, and FEniCSx for ground truth.
This course walks through the package in the order its parts build on each other, from the
geometry to learned solvers. Each step is a tutorial that explains the idea and its
mathematics, runs real code, shows the result as a plot, asserts its headline number, and
ends with exercises.

## The path

| # | Tutorial | What you do |
|---|---|---|
{chr(10).join(rows)}
{note}
## How to use it

* New here? Start with [Getting started](getting-started.md): installing, the `sciml`
  command and the data sets.
* Every tutorial is a script in `tutorials/` (jupytext percent format): run it with
  `python tutorials/NAME.py`, or open it as a notebook (`jupytext --to ipynb`). With
  `SCIML_SMOKE=1` it runs at the small sizes the tests use, in about a minute.
* The [API reference](api/foundation.md) is generated from the docstrings, with tensor
  shapes (`x: [B, C, H, W]`) and examples; [Benchmarks](benchmarks.md) has the measured
  speed and accuracy against the peers.

The pages of this build were executed at {how}.
"""


def tutorial_header(item: course.Lesson, meta: dict) -> str:
    """A note under the title (HTML: notebook Markdown has no admonitions)."""
    mode = meta.get("mode", "?")
    how = (
        "at the tests' small sizes (<code>SCIML_SMOKE=1</code>)"
        if mode == "smoke"
        else "at full size"
    )
    return (
        '<div class="admonition info"><p class="admonition-title">Run it yourself</p>'
        f"<p><code>python tutorials/{item.stem}.py</code> (add <code>SCIML_SMOKE=1</code> "
        f"for the small version), or open <code>tutorials/{item.stem}.py</code> as a notebook "
        f"with jupytext. This page was executed {how} in {meta.get('seconds', 0):.0f} s on "
        f"{meta.get('executed', '?')}.</p></div>"
    )


def write_tutorial(item: course.Lesson, executed: Path) -> None:
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    meta = nb.metadata.get("sciml_docs", {})
    first_md = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), -1)
    nb.cells.insert(first_md + 1, nbformat.v4.new_markdown_cell(tutorial_header(item, meta)))
    out = SRC / "tutorials" / f"{item.stem}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)


def api_page(title: str, modules: list[str]) -> str:
    blocks = [f"# {title}\n"]
    for name in modules:
        blocks.append(f"::: {name}\n")
    return "\n".join(blocks)


def copy_mathjax() -> None:
    """MathJax 3 from the docs extra (a PyPI wheel of the MathJax distribution)."""
    spec = importlib.util.find_spec("mathjax")
    base = Path(spec.submodule_search_locations[0]) / "static" / "mathjax" / "es5" if spec else None
    if base is None or not (base / "tex-chtml.js").exists():
        raise SystemExit(
            "MathJax is missing: install the docs extra (pip install -e '.[docs]'), which "
            "brings a local copy (django-static-mathjax); the site loads nothing from the web"
        )
    dest = SRC / "assets" / "mathjax"
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(base / "tex-chtml.js", dest / "tex-chtml.js")
    for sub in ("input", "output", "ui", "a11y", "adaptors"):
        shutil.copytree(base / sub, dest / sub, dirs_exist_ok=True)


def mkdocs_config(nav: list, site_dir: Path) -> Path:
    cfg = yaml.safe_load((HERE / "mkdocs.yml").read_text())
    cfg["docs_dir"] = str(SRC)
    cfg["site_dir"] = str(site_dir)
    cfg["nav"] = nav
    for plugin in cfg["plugins"]:
        if isinstance(plugin, dict) and "mkdocs-jupyter" in plugin:
            plugin["mkdocs-jupyter"]["cache_dir"] = str(BUILD / "jupyter-cache")
        if isinstance(plugin, dict) and "mkdocstrings" in plugin:
            py = plugin["mkdocstrings"]["handlers"]["python"]
            py["paths"] = [str(PKG)]
            py["options"]["extensions"] = [f"{HERE / 'griffe_sciml.py'}:SciMLDocstrings"]
    path = BUILD / "mkdocs.yml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


# ---------------------------------------------------------------------------------------


def build(
    *, quick: bool, site_dir: Path, force: bool = False, only: list[str] | None = None
) -> int:
    t_start = time.perf_counter()
    if not quick:
        log("full build: tutorials at full size (use QUICK=1 for the smoke sizes)")
    missing = course.missing()
    for item in missing:
        log(f"course: tutorials/{item.stem}.py is listed in docs/course.py but not present: "
            "shown as 'coming' on the index, not built")  # fmt: skip
    for path in course.unlisted():
        log(f"course: {path.relative_to(ROOT)} is not in docs/course.py: not in the site")

    if SRC.exists():
        shutil.rmtree(SRC)
    (SRC / "assets").mkdir(parents=True)
    for f in (HERE / "assets").iterdir():
        shutil.copy2(f, SRC / "assets" / f.name)
    copy_mathjax()
    copy_package()

    # 1. tutorials
    digest = execute.package_digest()
    present = course.lessons(present_only=True)
    failures = []
    course_nav = []
    for n, item in enumerate(course.COURSE, 1):
        if not item.present:
            continue
        if only and item.stem not in only:
            # not asked for: reuse whatever executed notebook exists, else leave it out
            cached = execute.cached_path(item.path, "smoke" if quick else "full")
            if not cached.exists():
                log(f"{item.stem}: skipped (--only) and never executed: left out")
                continue
            res = execute.Execution(cached, 0.0, True, 0)
        else:
            log(f"{item.stem}: executing ({'smoke' if quick else 'full'} mode) ...")
            res = execute.execute(item.path, smoke=quick, force=force, digest=digest)
            how = "cached" if res.cached else f"{res.seconds:.0f} s"
            log(f"{item.stem}: {res.figures} figure(s), {how}")
            if res.error:
                failures.append(res.error)
        write_tutorial(item, res.path)
        course_nav.append({f"{n}. {item.title}": f"tutorials/{item.stem}.ipynb"})

    # 2. pages
    mode = "smoke" if quick else "full"
    built = {item.stem for item in present if (SRC / "tutorials" / f"{item.stem}.ipynb").exists()}
    (SRC / "index.md").write_text(index_page(built, mode))
    readme = (ROOT / "README.md").read_text()
    readme = re.sub(r"\A# sciml\s*\n", "# Getting started\n\n", readme)
    (SRC / "getting-started.md").write_text(rewrite_links(readme))
    (SRC / "benchmarks.md").write_text(rewrite_links((ROOT / "BENCHMARKS.md").read_text()))
    api_nav = []
    for title, stem, patterns in API_PAGES:
        modules = expand_modules(patterns)
        if not modules:
            log(f"api: {stem}: no module yet ({', '.join(patterns)}): no page")
            continue
        (SRC / "api").mkdir(exist_ok=True)
        (SRC / "api" / f"{stem}.md").write_text(api_page(title, modules))
        api_nav.append({title: f"api/{stem}.md"})

    nav = [
        {"Home": "index.md"},
        {"Getting started": "getting-started.md"},
        {"Course": course_nav},
        {"API reference": api_nav},
        {"Benchmarks": "benchmarks.md"},
    ]
    config = mkdocs_config(nav, site_dir)

    # 3. mkdocs
    log(f"mkdocs build -> {site_dir}")
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(config)],
        cwd=ROOT,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
    )
    log(
        f"mkdocs: {time.perf_counter() - t0:.0f} s; whole build {time.perf_counter() - t_start:.0f} s"
    )
    if proc.returncode != 0:
        log("mkdocs build failed")
        return proc.returncode
    if failures:
        for err in failures:
            print(err, file=sys.stderr)
        log(f"{len(failures)} tutorial(s) failed: their pages show the error")
        return 1
    log(f"site: {site_dir / 'index.html'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the documentation site (offline).")
    parser.add_argument("--quick", action="store_true", help="tutorials in smoke mode")
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="output folder")
    parser.add_argument("--force", action="store_true", help="re-execute every tutorial")
    parser.add_argument("--only", default="", help="comma-separated tutorial stems to execute")
    args = parser.parse_args(argv)
    only = [s for s in args.only.split(",") if s] or None
    return build(quick=args.quick, site_dir=args.site.resolve(), force=args.force, only=only)


if __name__ == "__main__":
    sys.exit(main())
