"""Property-based tests (hypothesis): any input gives a result or a clear error, never a deep
traceback, a hang or a silently wrong file.

"Clear error" means the exception types a user error maps to (``ValueError`` -- including
:class:`sciml.io.FileFormatError` -- ``TypeError``, ``KeyError``, ``FileNotFoundError``; the CLI
turns them into one line and exit 2) or argparse's exit 2. Covered: the CLI's argument
parsing, the Grid and Mesh constructors, recipe parameters, and the loaders of every file kind
a user may be sent (data sets, outside formats, model files, checkpoints). Example counts are
small and every test has a deadline, so the whole file takes seconds.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import string
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sciml.grid import Grid
from sciml.io import FileFormatError

CLEAR = (ValueError, TypeError, KeyError, FileNotFoundError)
#: examples per property (SCIML_FUZZ_EXAMPLES=2000 for a long fuzzing run)
EXAMPLES = int(os.environ.get("SCIML_FUZZ_EXAMPLES", "40"))
# make test: a fixed example sequence (a CI run never fails on a newly drawn input; long fuzzing
# runs with SCIML_FUZZ_EXAMPLES draw fresh ones); no per-example deadline on a shared machine
FAST = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="SCIML_FUZZ_EXAMPLES" not in os.environ,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 0.5, 1e-300, 1e300]),
)
junk = st.one_of(
    numbers, st.text(max_size=6), st.none(), st.booleans(), st.lists(numbers, max_size=3)
)


# ------------------------------------------------------------------------------ the CLI
def _commands():
    """``(path, option strings)`` of every (sub)command of the parser."""
    from sciml.cli import build_parser

    out = []

    def walk(parser, path):
        subs = [a for a in parser._actions if a.choices and hasattr(a, "_name_parser_map")]
        opts = [s for a in parser._actions for s in a.option_strings if s not in ("-h", "--help")]
        out.append((path, opts))
        for action in subs:
            for name, child in action.choices.items():
                walk(child, [*path, name])

    walk(build_parser(), [])
    return out


COMMANDS = _commands()
VALUES = st.one_of(
    st.sampled_from(["0", "-1", "1", "2", "nan", "inf", "1e400", "x", "", "-", "--", "a,b", "3.5"]),
    st.text(alphabet=string.printable, max_size=6),
)


@st.composite
def argv(draw):
    path, opts = draw(st.sampled_from(COMMANDS))
    rest = draw(st.lists(st.one_of(st.sampled_from(opts or ["--x"]), VALUES), max_size=6))
    return [*path, *rest]


@FAST
@given(argv())
def test_cli_parsing_gives_a_namespace_or_exit_2(args):
    from sciml.cli import build_parser

    parser = build_parser()
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            parser.parse_args(args)
        except SystemExit as exc:
            assert exc.code in (0, 2), (args, exc.code)
            event(f"exit {exc.code}")
        else:
            event("parsed")


@FAST
@given(st.text(max_size=12))
def test_cli_number_types_accept_or_refuse_cleanly(text):
    import argparse

    from sciml.commands import _types

    for fn, ok in (
        (_types.positive_int, lambda v: isinstance(v, int) and v >= 1),
        (_types.nonnegative_int, lambda v: isinstance(v, int) and v >= 0),
        (_types.positive_float, lambda v: np.isfinite(v) and v > 0),
        (_types.int_list, lambda v: all(isinstance(i, int) and i >= 2 for i in v)),
    ):
        try:
            value = fn(text)
        except argparse.ArgumentTypeError:
            continue
        assert ok(value), (fn.__name__, text, value)


# ----------------------------------------------------------------------------- Grid and Mesh
good_bounds = st.lists(
    st.tuples(st.floats(-10, 10), st.floats(1e-3, 10)).map(lambda t: (t[0], t[0] + t[1])),
    min_size=1,
    max_size=3,
)
grid_args = st.one_of(
    st.fixed_dictionaries(  # mostly valid: sizes, boxes, flags of the right kinds
        {
            "shape": st.lists(st.integers(0, 20), min_size=1, max_size=3),
            "bounds": st.one_of(st.none(), good_bounds),
            "centering": st.sampled_from(["vertex", "cell"]),
            "periodic": st.one_of(st.booleans(), st.lists(st.booleans(), min_size=1, max_size=3)),
        }
    ),
    st.fixed_dictionaries(  # anything
        {
            "shape": st.one_of(st.lists(st.one_of(st.integers(-2, 40), numbers), max_size=4), junk),
            "bounds": st.one_of(
                st.none(), st.lists(st.lists(numbers, max_size=3), max_size=4), junk
            ),
            "centering": st.one_of(st.sampled_from(["vertex", "cell"]), st.text(max_size=5)),
            "periodic": st.one_of(st.booleans(), st.lists(st.booleans(), max_size=4)),
        }
    ),
)


@FAST
@given(grid_args)
def test_grid_constructor_is_valid_or_refused(kw):
    try:
        g = Grid(kw["shape"], kw["bounds"], kw["centering"], kw["periodic"])
    except CLEAR as exc:
        event(f"refused: {type(exc).__name__}")
        return
    event("accepted")
    assert 1 <= g.ndim <= 3 and all(isinstance(n, int) and n >= 1 for n in g.shape)
    assert all(np.isfinite(h) and h > 0 for h in g.spacing)
    assert Grid.from_dict(json.loads(json.dumps(g.to_dict()))) == g
    if g.size <= 10_000:
        assert tuple(g.coords()[0].shape) == g.shape


@st.composite
def mesh_args(draw):
    if draw(st.booleans()):  # anything
        points = draw(
            st.one_of(st.lists(st.lists(numbers, min_size=1, max_size=4), max_size=6), junk)
        )
        cells = draw(
            st.one_of(st.lists(st.lists(st.integers(-2, 8), max_size=5), max_size=5), junk)
        )
        cell_type = draw(st.sampled_from(["triangle", "quad", "tetra", "hexahedron", "line", ""]))
        return points, cells, cell_type
    cell_type = draw(st.sampled_from(["triangle", "quad", "tetra"]))
    k, gdim = {"triangle": (3, 2), "quad": (4, 2), "tetra": (4, 3)}[cell_type]
    n = draw(st.integers(1, 8))
    points = draw(st.lists(st.lists(st.floats(-1, 1), min_size=gdim, max_size=gdim), min_size=n,
                           max_size=n))  # fmt: skip
    cells = draw(st.lists(st.lists(st.integers(-1, n), min_size=k, max_size=k), max_size=4))
    return points, cells if cells else np.zeros((0, k), dtype=np.int64), cell_type


@FAST
@given(mesh_args())
def test_mesh_constructor_is_valid_or_refused(args):
    from sciml.mesh import Mesh

    try:
        m = Mesh(*args)
    except CLEAR as exc:
        event(f"refused: {type(exc).__name__}")
        return
    event("accepted")
    assert m.points.ndim == 2 and np.isfinite(m.points).all()
    assert m.cells.size == 0 or (0 <= m.cells.min() and m.cells.max() < len(m.points))


# ---------------------------------------------------------------------------- recipe parameters
def _recipes():
    from sciml.datasets import recipe_names

    return recipe_names()


@FAST
@given(name=st.sampled_from(_recipes()), data=st.data())
def test_recipe_parameters_are_valid_or_refused_before_any_work(name, data):
    import dataclasses

    from sciml.datasets import get_recipe

    rec = get_recipe(name)
    fields = [f.name for f in dataclasses.fields(rec.Params)]
    keys = st.one_of(st.sampled_from(fields), st.text(max_size=5))
    overrides = data.draw(
        st.dictionaries(
            keys, st.one_of(junk, st.text(alphabet="0123456789.-enaif", max_size=5)), max_size=4
        )  # fmt: skip
    )
    try:
        p = rec.params(overrides)
    except (ValueError, TypeError) as exc:
        event(f"refused: {type(exc).__name__}")
        return
    event("accepted")
    for f in dataclasses.fields(p):  # accepted: every number finite and of the declared type
        v, d = getattr(p, f.name), f.default
        assert type(v) is type(d) or (isinstance(d, float) and isinstance(v, float)), f.name
        if isinstance(v, float):
            assert np.isfinite(v), (f.name, v)
    in_shape, out_shape = rec.shapes(p)
    assert all(isinstance(n, int) and n >= 1 for n in (*in_shape, *out_shape))
    assert rec.grid(p).shape == tuple(in_shape[1:])


# ------------------------------------------------------------------------------ the loaders
def _write_h5(path: Path, spec: dict) -> None:
    with h5py.File(path, "w") as f:
        for name in ("inputs", "outputs", "seeds", "done"):
            if spec.get(name) is not None:
                f[name] = np.zeros(spec[name], dtype=np.float32 if name != "done" else bool)
        for key, value in spec["attrs"].items():
            f.attrs[key] = value


shapes = st.lists(st.integers(0, 4), min_size=0, max_size=6).map(tuple)
grid_attr = st.one_of(
    st.builds(lambda s: json.dumps(Grid(s).to_dict()), st.lists(st.integers(2, 4), min_size=1,
                                                                max_size=3).map(tuple)),
    st.text(st.characters(exclude_characters="\x00"), max_size=8),  # HDF5 strings: no NUL
    st.just(json.dumps({"shape": [4], "bounds": [[1, 0]]})),
    st.just(json.dumps([1, 2])),
    st.integers(),
)  # fmt: skip


@st.composite
def h5_spec(draw):
    """A sciml data-set layout: mostly right, with zero or more things broken."""
    n = draw(st.integers(0, 3))
    spatial = tuple(draw(st.lists(st.integers(2, 4), min_size=1, max_size=3)))
    inputs, outputs = (n, 1, *spatial), (n, draw(st.integers(1, 2)), *spatial)
    attrs = {"grid": json.dumps(Grid(spatial).to_dict()), "complete": True, "params": "{}"}
    spec = {"inputs": inputs, "outputs": outputs, "seeds": (n,), "done": None, "attrs": attrs}
    for _ in range(draw(st.integers(0, 2))):  # break something
        what = draw(st.sampled_from(["inputs", "outputs", "seeds", "grid", "complete", "n",
                                     "params", "input_names", "drop"]))  # fmt: skip
        if what in ("inputs", "outputs", "seeds"):
            spec[what] = draw(st.one_of(shapes, st.none()))
        elif what == "grid":
            attrs["grid"] = draw(grid_attr)
        elif what == "complete":
            attrs["complete"] = draw(st.one_of(st.booleans(), st.integers(-1, 2)))
        elif what == "n":
            attrs["n"] = draw(st.integers(-1, 4))
        elif what == "params":
            attrs["params"] = draw(
                st.one_of(
                    st.just("[]"), st.text(st.characters(exclude_characters="\x00"), max_size=4)
                )
            )
        elif what == "input_names":
            attrs["input_names"] = draw(st.sampled_from(['["a"]', "[1]", "x", '{"a": 1}']))
        else:
            attrs.pop(draw(st.sampled_from(sorted(attrs))), None)
    return spec


@FAST
@given(spec=h5_spec())
def test_data_set_loaders_read_or_refuse_any_hdf5_layout(tmp_path_factory, spec):
    from sciml.datasets import GridDataset, read_meta

    path = tmp_path_factory.mktemp("h5") / "d.h5"
    _write_h5(path, spec)
    try:
        meta = read_meta(path)
    except CLEAR:
        meta = None
    try:
        ds = GridDataset(path)
    except CLEAR as exc:
        event(f"refused: {type(exc).__name__}")
        return
    event("accepted")
    assert meta is not None  # what the dataset reads, info reads too
    x, y = ds[len(ds) - 1]
    assert tuple(x.shape[1:]) == ds.grid.shape and x.shape[0] >= 1
    assert len(ds) == meta["arrays"]["inputs"]["shape"][0] == meta["arrays"]["outputs"]["shape"][0]
    assert y.shape[0] >= 1 and torch.equal(ds.inputs_array()[-1], x)


file_bytes = st.one_of(
    st.binary(max_size=300),
    st.just(b"PK\x03\x04" + b"\x00" * 60),  # a zip header, as torch files start
    st.just(b"\x89HDF\r\n\x1a\n" + b"\x00" * 60),  # an HDF5 signature
    st.text(max_size=80).map(str.encode),
)


@FAST
@given(content=file_bytes)
def test_every_loader_refuses_arbitrary_bytes(tmp_path_factory, content):
    from sciml.datasets import read_meta, read_neuralop_pt, read_pdebench
    from sciml.operators.model_file import load_operator
    from sciml.train.checkpoint import load_checkpoint

    path = tmp_path_factory.mktemp("bytes") / "file"
    path.write_bytes(content)
    for loader in (read_meta, read_neuralop_pt, read_pdebench, load_checkpoint, load_operator):
        with pytest.raises(FileFormatError):
            loader(path)


torch_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=4),
        st.builds(lambda s: torch.zeros(s), st.lists(st.integers(0, 3), max_size=3).map(tuple)),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=6,
)  # fmt: skip
model_keys = ["format", "spec", "state_dict", "extra", "normalizers", "x", "y", "epoch", "model",
              "optimizer", "rng", "config", "history"]  # fmt: skip


def _model_payload(draw) -> dict:
    """A real ``sciml-model-v2`` payload of a tiny FNO, with one field possibly broken."""
    from sciml.operators.registry import build
    from sciml.train.checkpoint import model_file_payload, model_spec

    torch.manual_seed(0)
    net = build("fno", in_channels=1, out_channels=1, width=2, modes=2)
    payload = model_file_payload(model_spec(net), net.state_dict())
    what = draw(st.sampled_from(["none", "format", "spec", "kwargs", "tensor", "drop", "extra"]))
    if what == "format":
        payload["format"] = draw(st.one_of(st.text(max_size=4), st.integers()))
    elif what == "spec":
        payload["spec"] = draw(torch_values)
    elif what == "kwargs":
        payload["spec"]["kwargs"][draw(st.sampled_from(["width", "modes", "bogus"]))] = draw(
            st.integers(-2, 3)
        )
    elif what == "tensor":
        key = draw(st.sampled_from(sorted(payload["state_dict"])))
        payload["state_dict"][key] = draw(torch_values)
    elif what == "drop":
        payload.pop(draw(st.sampled_from(sorted(payload))))
    elif what == "extra":
        payload["extra"] = draw(torch_values)
    return payload


@st.composite
def torch_objects(draw):
    kind = draw(st.sampled_from(["any", "keys", "model", "neuralop"]))
    if kind == "any":
        return draw(torch_values)
    if kind == "keys":
        return draw(st.dictionaries(st.sampled_from(model_keys), torch_values, max_size=6))
    if kind == "model":
        return _model_payload(draw)
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=5)))
    y_shape = draw(st.one_of(st.just(shape), st.lists(st.integers(0, 4), max_size=5).map(tuple)))
    return {"x": torch.zeros(shape), "y": torch.ones(y_shape)}


@FAST
@given(obj=torch_objects())
def test_torch_file_loaders_accept_or_refuse_any_content(tmp_path_factory, obj):
    from sciml.datasets import read_neuralop_pt
    from sciml.operators.model_file import load_operator
    from sciml.train.checkpoint import load_checkpoint

    path = tmp_path_factory.mktemp("pt") / "file.pt"
    torch.save(obj, path)
    for loader in (load_operator, load_checkpoint, read_neuralop_pt):
        try:
            loader(path)
        except CLEAR as exc:
            event(f"{loader.__name__} refused: {type(exc).__name__}")
        else:
            event(f"{loader.__name__} accepted")


@pytest.mark.nightly
@settings(max_examples=int(os.environ.get("SCIML_NIGHTLY_EXAMPLES", "3000")), deadline=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(argv())
def test_nightly_cli_fuzzing_parses_and_checks_the_shared_options_or_exits_2(args):
    """The nightly-style run of the CLI fuzzing (issue 29): many more random command lines,
    through the parser and the shared option checks every command runs first (--device,
    --threads, --resume/--overwrite): each either passes, exits 2, or is one of the user errors
    the CLI turns into one line -- never another exception."""
    from sciml.cli import USER_ERRORS, build_parser, check_common_options

    parser = build_parser()
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            ns = parser.parse_args(args)
        except SystemExit as exc:
            assert exc.code in (0, 2), (args, exc.code)
            return
    try:
        check_common_options(ns)
    except USER_ERRORS:
        event("user error")
