"""argparse ``type=`` functions shared by the commands: a bad value is rejected while parsing,
with one line naming the option (``argument --rtol: must be > 0, got '0'``)."""

from __future__ import annotations

import argparse
import math
import re


def _number(text: str, kind: type) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected {'an integer' if kind is int else 'a number'}, got {text!r}"
        ) from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text!r}")
    return value


def nonnegative_int(text: str) -> int:
    """An integer >= 0."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def nonnegative_float(text: str) -> float:
    """A finite number >= 0."""
    value = _number(text, float)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = _number(text, float)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


def int_list(text: str) -> list[int]:
    """A comma list of integers >= 2, e.g. ``32,64,128``."""
    values = []
    for item in text.split(","):
        value = _number(item.strip(), int)
        if value < 2:
            raise argparse.ArgumentTypeError(f"entries must be >= 2, got {item.strip()!r}")
        values.append(value)
    return values


def check_device(text: str) -> str:
    """``text`` if it names a device this machine has (``cpu``, ``cuda``, ``cuda:1``, ``mps``);
    ``ValueError`` naming ``--device`` otherwise (imports torch: called only when given)."""
    import torch

    try:
        dev = torch.device(text)
    except (RuntimeError, TypeError):
        raise ValueError(f"--device: unknown device {text!r} (e.g. cpu, cuda, cuda:1)") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"--device {text!r}: CUDA is not available on this machine (use cpu)")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"--device {text!r}: this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"--device {text!r}: MPS is not available on this machine (use cpu)")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"--device: {text!r} is not supported (cpu, cuda, cuda:N)")
    return text


def describe(doc: str | None) -> str | None:
    r"""A module docstring as ``--help`` text: the first paragraph (the usage line) dropped,
    RST markup made plain (````x```` -> x, :func:`~a.b.f` -> f, :mod:`a.b` -> a.b).

    >>> describe("Title.\n\nReads ``RUN/model.pt`` with :func:`~sciml.io.read_json`.")
    'Reads RUN/model.pt with read_json.'
    """
    if not doc:
        return None
    body = doc.split("\n\n", 1)[1] if "\n\n" in doc else doc

    def role(m: re.Match) -> str:
        target = m.group(1)
        return target.rsplit(".", 1)[-1] if target.startswith("~") else target

    body = re.sub(r":\w+:`([^`]+)`", role, body)
    return body.replace("``", "").strip()


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions kept as written (bullets), and each option's default shown after its help
    text (unless the default is None/False or the text already names it)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            action.option_strings
            and default not in (None, False, argparse.SUPPRESS)
            and "default" not in text
            and not isinstance(action, argparse._HelpAction)
        ):
            text += " (default: %(default)s)"
        return text
