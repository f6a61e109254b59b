import subprocess
import sys

from sciml.cli import main

SCIML = [sys.executable, "-m", "sciml.cli"]


def test_version_and_info():
    out = subprocess.run([*SCIML, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "sciml 0.1.0"
    info = subprocess.run([*SCIML, "info"], capture_output=True, text=True, check=True).stdout
    for key in ("torch", "dolfinx", "petsc", "mpi size", "cuda"):
        assert any(line.startswith(key) for line in info.splitlines()), key


def test_no_subcommand_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_bench_rejects_unknown_benchmark_names():
    assert main(["bench", "no-such-benchmark"]) == 2


def test_parser_builds_without_torch_and_name_tables_match_the_library():
    code = (
        "import sys; from sciml.cli import build_parser; build_parser();"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # `sciml --help` stays fast
    from sciml.commands import solve
    from sciml.workflows.linear_solvers import METHODS, build_method

    assert solve.METHODS == METHODS  # the parser's plain-data copy of the workflow's names
    for name in solve.METHODS:  # every CLI name builds a method object of the library
        method = build_method(name, model="unused.pt")
        assert callable(method.solve) and isinstance(method.runs_on_host, bool)


def test_every_command_module_is_listed_and_adds_its_parser():
    from pathlib import Path

    import sciml.commands as commands
    from sciml.cli import build_parser

    listed = set(commands.COMMANDS)
    files = {p.stem for p in Path(commands.__file__).parent.glob("*.py")} - {"__init__"}
    # helper modules (shared by several commands) start with an underscore
    assert {f for f in files if not f.startswith("_")} >= listed
    actions = [a for a in build_parser()._actions if a.dest == "command"]
    # a module name is the subcommand with "_" for "-" (sciml train-dcdm: train_dcdm.py)
    assert set(actions[0].choices) == {c.replace("_", "-") for c in listed}


def _options(parser, prefix=("sciml",)):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options(sub, (*prefix, name))
        elif action.dest != "help":
            yield " ".join(prefix), action


def test_every_option_of_every_command_has_help_and_shows_its_default():
    from sciml.cli import build_parser

    parser = build_parser()
    missing = [f"{cmd} {a.option_strings or a.dest}" for cmd, a in _options(parser) if not a.help]
    assert not missing, f"options without help: {missing}"
    text = (
        next(a for a in parser._actions if a.dest == "command").choices["solve"]._actions[-1]
    )  # the subparsers of sciml solve
    gp = text.choices["gp"].format_help()
    assert "(default: 30)" in gp and "poisson-1d-sin500" in gp  # defaults and names listed


def test_name_tables_of_the_parser_match_the_library():
    """The parser's plain-data name lists (no torch while building it) are the library's."""
    from sciml.commands import solve, train, train_traversal
    from sciml.operators.registry import MODELS
    from sciml.solvers.gp.problems import PROBLEMS
    from sciml.solvers.poisson_problems import FAMILIES
    from sciml.workflows import traversal_experiments

    assert set(train.MODEL_NAMES) == set(MODELS)
    assert tuple(solve.GP_PROBLEMS) == tuple(PROBLEMS)
    assert tuple(solve.FAMILIES) == tuple(FAMILIES)
    assert tuple(train_traversal.METHODS) == tuple(traversal_experiments.METHODS)
