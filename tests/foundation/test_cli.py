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
