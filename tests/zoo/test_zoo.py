"""The model zoo: every shipped model loads safely, keeps the size limits, has a card whose
command parses, and measures again near its card on a small fresh sample (seconds each)."""

from __future__ import annotations

import shlex
import shutil

import pytest

from sciml import zoo
from sciml.zoo.evaluate import evaluate, problem_key

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py

NAMES = zoo.names()


def test_the_zoo_is_within_its_size_limits():
    sizes = {n: zoo.path(n).stat().st_size for n in NAMES}
    assert all(s <= zoo.MAX_MODEL_BYTES for s in sizes.values()), sizes
    assert sum(sizes.values()) <= zoo.MAX_ZOO_BYTES
    assert {"dcdm-3d", "lmg-3d", "lmg-2d"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_card_loads_and_its_command_parses(name):
    from sciml.cli import build_parser

    card = zoo.card(name)
    model, c = zoo.load(name)
    assert c == card and not model.training
    argv = shlex.split(card["command"])
    if argv[0] == "sciml":  # the command that made it is a sciml command line: it parses
        build_parser().parse_args(argv[1:])
    assert card["metrics"] and card["measured"], "a card states what was measured, and when"
    for key in ("seed", "steps", "machine"):
        assert key in card["training"], key


def _small(card: dict) -> dict:
    """The smallest part of the card's own evaluation (seconds)."""
    spec = card["eval"][0] if isinstance(card["eval"], list) else card["eval"]
    if spec["kind"] == "solver-iterations":
        first = {**spec["problems"][0], "seed": 1}  # a fresh geometry of the same size and family
        return {"problems": [first], "keys": [problem_key(first)]}
    if spec["kind"] in ("operator-rel-l2", "seismic-imaging"):
        return {"n": 4, "keys": [k for k in card["metrics"] if "rel_l2" in k or "mae" in k]}
    return {"skip": f"{spec['kind']}: measured by sciml models eval only (minutes)"}


@pytest.mark.parametrize("name", NAMES)
def test_model_measures_near_its_card_on_a_fresh_sample(name, tmp_path):
    """On a few fresh samples of the card's recipe the error (or the iteration count) is at
    most 1.5x the card's: the file still does what its card says."""
    card = zoo.card(name)
    small = _small(card)
    if "skip" in small:
        pytest.skip(small["skip"])
    measured = evaluate(name, n=small.get("n"), problems=small.get("problems"), workdir=tmp_path)
    for key in small["keys"]:
        if key in measured:
            assert measured[key] <= 1.5 * card["metrics"][key], (key, measured, card["metrics"])


def test_a_code_running_file_in_the_zoo_is_refused(malicious_file, monkeypatch, tmp_path):
    """A zoo folder is files someone sent too: the one safe loader refuses a pickle that runs
    code, placed there as a model with a valid card."""
    evil, marker = malicious_file("model")
    fake = tmp_path / "zoo"
    fake.mkdir()
    shutil.copy(zoo.ZOO / "lmg-3d.json", fake / "evil.json")
    shutil.copy(evil, fake / "evil.pt")
    monkeypatch.setattr(zoo, "ZOO", fake)
    from sciml.io import FileFormatError

    with pytest.raises(FileFormatError, match="refused.*run code"):
        zoo.load("evil")
    assert not marker.exists()


def test_unknown_names_list_the_available_ones():
    with pytest.raises(KeyError, match="available: dcdm-3d"):
        zoo.card("zoo:nope")
    assert zoo.resolve("zoo:dcdm-3d") == zoo.path("dcdm-3d")
    assert str(zoo.resolve("runs/x")) == "runs/x"
