"""argparse ``type=`` functions shared by the commands: a bad value is rejected while parsing,
with one line naming the option (``argument --rtol: must be > 0, got '0'``)."""

from __future__ import annotations

import argparse
import math


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
