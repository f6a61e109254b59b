"""The course: the ONE ordered table of tutorials that drives the site's navigation and index.

A tutorial joins the course by a row here (and its file in ``tutorials/``). A row whose file
is not there yet is listed on the index as *coming* and reported by the build; it never
breaks the build. ``tests/docs/test_course.py`` checks that every file in ``tutorials/`` has
a row and that every tutorial meets the course standard (``STANDARD`` below).

Adding a tutorial ``tutorials/NAME.py`` (jupytext percent format, runnable as a script):

1. a row ``Lesson("NAME", title, stage, summary)`` in ``COURSE`` at its place on the path
   (the test names a tutorial that has none, in one line);
2. the first cell is Markdown starting ``# Title``; the idea and the maths in Markdown cells
   with ``$...$`` / ``$$...$$`` equations (valid TeX: the browser test fails on MathJax errors);
3. it reads ``SCIML_SMOKE`` (``=1``: the tests' small sizes, well under a minute) and asserts
   its headline number with an ``assert`` statement;
4. it saves at least one PNG with matplotlib into ``SCIML_TUTORIAL_OUT`` (default ``.``):
   the executor (docs/execute.py) shows each PNG under the cell that wrote it, and the
   browser test fails on a tutorial page without a figure;
5. it ends with an ``## Exercises`` Markdown section;
6. links in its Markdown resolve inside the site (or are full ``https://`` addresses), and it
   downloads nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"


@dataclass(frozen=True)
class Lesson:
    """One step of the course path."""

    stem: str  # tutorials/<stem>.py
    title: str  # the navigation title
    stage: str  # where it stands on the path (the wording)
    summary: str  # one line for the index

    @property
    def path(self) -> Path:
        return TUTORIALS / f"{self.stem}.py"

    @property
    def present(self) -> bool:
        return self.path.exists()


COURSE: tuple[Lesson, ...] = (
    Lesson(
        "grid_mesh_fem",
        "Grids, meshes and FEniCSx",
        "grids and meshes",
        "Grid and Mesh, the two geometry types; a FEniCSx solve on a plate with a hole, moved "
        "to a grid; second-order resampling.",
    ),
    Lesson(
        "physics_engine",
        "The PDE engine",
        "the PDE engine",
        "Random media, Darcy flow, Navier-Stokes vorticity and seismic shot gathers, each "
        "checked against a known answer.",
    ),
    Lesson(
        "datasets_darcy",
        "FEniCSx ground truth and data sets",
        "FEniCSx ground truth, data sets",
        "The darcy-pwc recipe: FEniCSx solves stored in HDF5 with their provenance, "
        "cross-checked against the finite-difference engine.",
    ),
    Lesson(
        "neural_operator_darcy",
        "Neural operators",
        "neural operators",
        "Train LSM and FNO on Darcy flow, look at the errors, and apply them at another "
        "resolution.",
    ),
    Lesson(
        "operators_on_meshes",
        "Operators on meshes",
        "neural operators on meshes and point clouds",
        "FEniCSx Stokes flow in random channels: physics attention on the meshes themselves "
        "against an FNO on a resampled grid, and the same model on finer meshes.",
    ),
    Lesson(
        "inverse_darcy_uncertainty",
        "Label-free operators and inverse problems",
        "physics-informed and label-free operators, inverse problems with uncertainty",
        "DGNO trained from weak-form residuals without solutions, then a permeability "
        "recovered from a few noisy pressure readings, with error bars.",
    ),
    Lesson(
        "seismic_imaging",
        "Seismic imaging",
        "seismic imaging",
        "Simulate a survey, train a Latent U-Net / Invertible X-Net, refine with full-waveform "
        "inversion.",
    ),
    Lesson(
        "gp_high_frequency",
        "A GP solver for high frequencies",
        "the GP solver",
        "Kronecker spectral-mixture Gaussian processes solve sin(100x)-type problems where a "
        "PINN with the same residual fails.",
    ),
    Lesson(
        "nde_regularization",
        "Regularized neural ODEs and SDEs",
        "regularized NDEs",
        "Trajectories and step sizes of neural ODEs with and without error and stiffness "
        "regularizers.",
    ),
    Lesson(
        "gpu_speed",
        "CG at the hardware's limit",
        "Krylov solvers at the speed of memory",
        "One CG iteration's bytes, this machine's roofline, and a fused CG with the same "
        "iterates as plain CG.",
    ),
    Lesson(
        "deep_cg",
        "Learned CG",
        "learned CG",
        "A network proposes search directions (DCDM): fewer iterations than CG on the pressure "
        "Poisson equation.",
    ),
    Lesson(
        "multigrid_pcg",
        "Multigrid PCG with learned parts",
        "learned solves that win on the clock",
        "Galerkin aggregation multigrid as an SPD PCG preconditioner: iterations flat in n, "
        "a fraction of ICC's and GAMG's time; what learning its parameters buys.",
    ),
    Lesson(
        "latent_potential_flows",
        "Latent potential flows",
        "latent potential flows",
        "Traverse a generative model's latent space along potential flows: image strips, one "
        "row per potential.",
    ),
)


def lessons(*, present_only: bool = False) -> list[Lesson]:
    """The course in order (only the tutorials that exist, with ``present_only``)."""
    return [item for item in COURSE if item.present or not present_only]


def missing() -> list[Lesson]:
    """Rows whose tutorial file is not in ``tutorials/`` yet."""
    return [item for item in COURSE if not item.present]


def unlisted() -> list[Path]:
    """Tutorial files that have no row in the course."""
    stems = {item.stem for item in COURSE}
    return sorted(p for p in TUTORIALS.glob("*.py") if p.stem not in stems)


# --------------------------------------------------------------------------------------------
# the course standard, checked on the source (tests/docs/test_course.py)

STANDARD = {
    "title": "a title: the first cell is Markdown starting with '# Title'",
    "equation": "the maths as equations: at least one $...$ or $$...$$ in a Markdown cell",
    "figure": "a figure: the code saves a PNG into SCIML_TUTORIAL_OUT (shown under its cell)",
    "exercises": "an '## Exercises' section in a Markdown cell",
    "assert": "an asserted headline number (an assert statement)",
    "smoke": "a smoke mode: reads SCIML_SMOKE",
}


def cells(path: Path) -> list[tuple[str, str]]:
    """``(kind, text)`` per cell of a jupytext percent-format script; Markdown unprefixed."""
    out: list[tuple[str, list[str]]] = []
    for line in path.read_text().splitlines():
        if line.startswith("# %%"):
            out.append(("markdown" if "[markdown]" in line else "code", []))
            continue
        if not out:
            out.append(("code", []))
        kind, body = out[-1]
        if kind == "markdown":
            line = line[2:] if line.startswith("# ") else line.lstrip("#")
        body.append(line)
    return [(kind, "\n".join(body).strip()) for kind, body in out if "\n".join(body).strip()]


def standard_gaps(path: Path) -> set[str]:
    """The keys of STANDARD that the tutorial at ``path`` does not meet."""
    import re

    parts = cells(path)
    markdown = "\n".join(text for kind, text in parts if kind == "markdown")
    code = "\n".join(text for kind, text in parts if kind == "code")
    gaps = set()
    if not parts or parts[0][0] != "markdown" or not parts[0][1].startswith("# "):
        gaps.add("title")
    display = re.search(r"\$\$.+?\$\$", markdown, flags=re.DOTALL)  # may span lines
    inline = re.search(r"(?<!\$)\$[^$\n]+\$(?!\$)", markdown)
    if not (display or inline):
        gaps.add("equation")
    if not re.search(r"""\.png["']""", code):
        gaps.add("figure")
    if not re.search(r"^## Exercises\b", markdown, flags=re.MULTILINE):
        gaps.add("exercises")
    if not re.search(r"^\s*assert\s", code, flags=re.MULTILINE):
        gaps.add("assert")
    if "SCIML_SMOKE" not in code:
        gaps.add("smoke")
    return gaps
