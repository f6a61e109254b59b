"""Docstring examples are tests: every ``>>>`` example in the installed ``sciml`` package runs.

Modules are imported under their package names (``sciml.datasets.loaders``, not the file path),
so the examples see the same classes as users do.
"""

import doctest
import importlib
import pkgutil

import pytest

#: the package roots (physics/, solvers/, datasets/ install as sciml subpackages through
#: package-dir, which an editable install does not expose through ``sciml.__path__``)
ROOTS = ("sciml", "sciml.physics", "sciml.solvers", "sciml.datasets")


def _modules() -> list[str]:
    names = set()
    for root in ROOTS:
        pkg = importlib.import_module(root)
        names.add(root)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{root}."):
            names.add(info.name)
    return sorted(names)


def _has_examples(name: str) -> bool:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return False
    with open(spec.origin, encoding="utf-8") as fh:
        return ">>>" in fh.read()


MODULES = [m for m in _modules() if _has_examples(m)]


def test_the_package_has_docstring_examples():
    assert len(MODULES) >= 20, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
