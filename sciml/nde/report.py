"""Tables of experiment rows (the papers' columns) with ratios against the unregularized run."""

from __future__ import annotations

from typing import Any

__all__ = ["add_ratios", "markdown_table"]


def add_ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``predict_nfe_ratio``, ``train_time_ratio`` (wall clock), ``train_cpu_ratio`` (process
    CPU time; robust on a shared machine) and ``value_delta`` relative to the ``method == "none"``
    row of the same task (``None`` when that row is missing)."""
    base = {r["task"]: r for r in rows if r["method"] == "none"}
    out = []
    for r in rows:
        b = base.get(r["task"])
        r = dict(r)
        r["predict_nfe_ratio"] = r["predict_nfe"] / b["predict_nfe"] if b else None
        r["train_time_ratio"] = r["train_time_s"] / b["train_time_s"] if b else None
        cpu, cpu0 = r.get("train_cpu_s"), b.get("train_cpu_s") if b else None
        r["train_cpu_ratio"] = cpu / cpu0 if cpu is not None and cpu0 else None
        r["value_delta"] = r["value"] - b["value"] if b else None
        out.append(r)
    return out


def _f(v: Any, fmt: str) -> str:
    return "n/a" if v is None else format(v, fmt)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """Markdown table: task, method, metric, value, train time, predict time, NFEs, ratios."""
    rows = add_ratios(rows)
    head = (
        "| task | method | metric | value | train time (s) | train CPU (s) | predict time (s) "
        "| train NFE/iter | predict NFE | predict NFE / none | train time / none "
        "| train CPU / none |"
    )
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        lines.append(
            f"| {r['task']} | {r['method']} | {r['metric']} | {r['value']:.4g} "
            f"| {r['train_time_s']:.1f} | {_f(r.get('train_cpu_s'), '.1f')} "
            f"| {r['predict_time_s']:.3f} | {r['train_nfe']:.1f} "
            f"| {r['predict_nfe']:.0f} | {_f(r['predict_nfe_ratio'], '.2f')} "
            f"| {_f(r['train_time_ratio'], '.2f')} | {_f(r['train_cpu_ratio'], '.2f')} |"
        )
    return "\n".join(lines)
