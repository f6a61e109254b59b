"""Markdown tables of result rows (one function for every table the package prints).

>>> print(markdown_table([{"m": "LSM", "e": 0.0123}], [("m", "model", ""), ("e", "error", ".3f")]))
| model | error |
|---|---|
| LSM | 0.012 |
"""

from __future__ import annotations

from typing import Any

__all__ = ["markdown_table"]


def markdown_table(rows: list[dict[str, Any]], columns: list[tuple[str, str, str]]) -> str:
    """``columns``: ``(key, header, format)``, e.g. ``("test_l2", "test rel. L2", ".4f")``; a
    missing or ``None`` value prints ``n/a``, a non-number as ``str``."""
    head = "| " + " | ".join(h for _, h, _ in columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    body = []
    for r in rows:
        cells = []
        for key, _, fmt in columns:
            v = r.get(key)
            if v is None:
                cells.append("n/a")
            elif isinstance(v, (int, float)) and not isinstance(v, bool) and fmt:
                cells.append(format(v, fmt))
            else:
                cells.append(str(v))
        body.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, sep, *body])
