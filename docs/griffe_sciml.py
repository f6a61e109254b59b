"""A griffe extension: sciml's docstrings (Google style with a few reST habits) as Markdown.

* doctest blocks (``>>>`` lines and their output) become ``pycon`` code blocks, so the
  examples in the docstrings read as code on the API pages;
* reST roles (``:class:`Grid```, ``:func:`~sciml.x.f```) become code spans;
* ``:math:`...``` becomes inline math.

Loaded by the mkdocstrings handler (docs/mkdocs.yml, ``extensions``); changes nothing in
the package.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|mod|attr|obj|data|exc|py:\w+):`~?([^`]+)`")
_MATH = re.compile(r":math:`([^`]+)`")


def _fence_doctests(text: str) -> str:
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith(">>>") and not (out and out[-1].lstrip().startswith("```")):
            indent = line[: len(line) - len(stripped)]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
                i += 1
            if out and out[-1].strip():
                out.append("")
            out.extend([f"{indent}```pycon", *(indent + b for b in block), f"{indent}```"])
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def to_markdown(text: str) -> str:
    """One docstring, reST habits turned into Markdown."""
    text = _MATH.sub(lambda m: f"\\({m.group(1)}\\)", text)
    text = _ROLE.sub(lambda m: f"`{m.group(1)}`", text)
    return _fence_doctests(text)


class SciMLDocstrings(griffe.Extension):
    """Rewrites each docstring once, when griffe has read it."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)
