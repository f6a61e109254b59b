"""The course table (docs/course.py) and the course standard every tutorial meets.

Every file in ``tutorials/`` has a row in the course, and every tutorial of the course that
exists has a title, the maths as ``$`` equations, a figure, an ``## Exercises`` section, an
asserted number and a smoke mode. ``NOT_YET`` is the explicit list of what some tutorials
still lack (being reworked in other branches); it only shrinks: an entry that a tutorial now
meets fails the test until it is removed here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs"))

import course  # noqa: E402

# tutorial stem -> the parts of the standard it does not meet yet (empty this over time)
NOT_YET: dict[str, set[str]] = {
    "gp_high_frequency": {"equation", "exercises"},
    "nde_regularization": {"equation"},
    "deep_cg": {"equation", "exercises"},
}


def test_every_tutorial_is_in_the_course():
    unlisted = course.unlisted()
    assert not unlisted, (
        "tutorials missing from the course table: add a Lesson row to docs/course.py "
        f"(in the order of the path) for {[str(p.relative_to(ROOT)) for p in unlisted]}"
    )
    stems = [item.stem for item in course.COURSE]
    assert len(stems) == len(set(stems)), "a tutorial is listed twice in docs/course.py"
    titles = [item.title for item in course.COURSE]
    assert len(titles) == len(set(titles)), "two course rows share a title"


def test_missing_rows_are_reported_not_fatal():
    for item in course.missing():
        assert not item.path.exists()
        assert item.title and item.summary and item.stage


PRESENT = course.lessons(present_only=True)


@pytest.mark.parametrize("item", PRESENT, ids=[i.stem for i in PRESENT])
def test_tutorial_meets_the_course_standard(item):
    gaps = course.standard_gaps(item.path)
    allowed = NOT_YET.get(item.stem, set())
    unexpected = gaps - allowed
    assert not unexpected, f"{item.path.name} lacks: " + "; ".join(
        course.STANDARD[g] for g in sorted(unexpected)
    )
    stale = allowed - gaps
    assert not stale, (
        f"{item.path.name} now meets {sorted(stale)}: remove them from NOT_YET in "
        "tests/docs/test_course.py"
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
    bad = tmp_path / "bad.py"
    bad.write_text("# %%\nprint('no title, no maths, no figure')\n")
    assert course.standard_gaps(bad) == set(course.STANDARD)
