"""The course table (docs/course.py) and the course standard every tutorial meets.

Every file in ``tutorials/`` has a row in the course, and every tutorial of the course that
exists has a title, the maths as ``$`` equations, a figure, an ``## Exercises`` section, an
asserted number and a smoke mode. Each failure is one line naming the tutorial and what to
do (add its row to docs/course.py; add what it lacks).

``NOT_YET`` is the explicit list of what some tutorials still lack (being reworked in other
branches). An entry that a tutorial now meets is reported as a warning (remove it), never a
failure, so merging a branch that improves a tutorial does not break the suite.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs"))

import course  # noqa: E402

# tutorial stem -> the parts of the standard it does not meet yet (empty this over time)
NOT_YET: dict[str, set[str]] = {}


FILES = sorted((ROOT / "tutorials").glob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_tutorial_has_a_course_row(path):
    stems = {item.stem for item in course.COURSE}
    if path.stem not in stems:
        pytest.fail(
            f"tutorials/{path.name} is not in the course: add "
            f'Lesson("{path.stem}", TITLE, STAGE, SUMMARY) to COURSE in docs/course.py at its '
            "place on the path",
            pytrace=False,
        )


def test_course_rows_are_unique():
    stems = [item.stem for item in course.COURSE]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    assert not twice, f"listed twice in docs/course.py: {twice}"
    titles = [item.title for item in course.COURSE]
    twice = sorted({t for t in titles if titles.count(t) > 1})
    assert not twice, f"two course rows share a title in docs/course.py: {twice}"


def test_missing_rows_are_reported_not_fatal():
    for item in course.missing():
        assert not item.path.exists()
        assert item.title and item.summary and item.stage


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_tutorial_meets_the_course_standard(path):
    gaps = course.standard_gaps(path)
    allowed = NOT_YET.get(path.stem, set())
    unexpected = gaps - allowed
    if unexpected:
        pytest.fail(
            f"tutorials/{path.name} lacks "
            + "; ".join(course.STANDARD[g] for g in sorted(unexpected))
            + " (the course standard: docs/course.py)",
            pytrace=False,
        )
    if stale := allowed - gaps:
        warnings.warn(
            f"{path.name} now meets {sorted(stale)}: remove them from NOT_YET in "
            "tests/docs/test_course.py",
            stacklevel=1,
        )


def test_not_yet_names_course_tutorials():
    stems = {item.stem for item in course.COURSE}
    assert set(NOT_YET) <= stems, set(NOT_YET) - stems
    assert all(gaps <= set(course.STANDARD) for gaps in NOT_YET.values())


def test_the_standard_check_sees_a_gap(tmp_path):
    good = tmp_path / "good.py"
    good.write_text(
        "# %% [markdown]\n# # Title\n#\n# $$ -\\Delta u = f $$\n\n"
        "# %%\nimport os\nSMOKE = os.environ.get('SCIML_SMOKE') == '1'\n"
        "fig.savefig('out.png')\nassert 1 < 2\n\n"
        "# %% [markdown]\n# ## Exercises\n# 1. Try.\n"
    )
    assert course.standard_gaps(good) == set()
    multiline = tmp_path / "multiline.py"
    multiline.write_text(
        good.read_text().replace("$$ -\\Delta u = f $$", "$$ -\\Delta u\n# = f $$")
    )
    assert "\n# = f $$" in multiline.read_text()
    assert course.standard_gaps(multiline) == set()
    bad = tmp_path / "bad.py"
    bad.write_text("# %%\nprint('no title, no maths, no figure')\n")
    assert course.standard_gaps(bad) == set(course.STANDARD)
