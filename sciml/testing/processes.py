"""Process helpers for fault tests: find a process's descendants, kill -9, check for orphans.

Linux only (reads ``/proc``); elsewhere :func:`descendants` returns an empty list and the
orphan checks pass vacuously.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

__all__ = ["descendants", "alive", "kill9", "wait_gone"]


def _parents() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return children
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (children, grandchildren, ...)."""
    tree, out, todo = _parents(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def alive(pid: int) -> bool:
    """Whether any thread of ``pid`` still runs (a zombie, dead but not yet reaped, counts as
    gone only once all its threads have ended: until then it may hold files and locks)."""
    tasks = Path(f"/proc/{pid}/task")
    try:
        stats = [(t / "stat").read_text() for t in tasks.iterdir()]
    except OSError:
        return False
    return any(stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X") for stat in stats)


def kill9(pid: int) -> None:
    """``kill -9 pid`` (no error when it is already gone)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def wait_gone(pids: list[int], timeout: float = 15.0) -> list[int]:
    """Wait up to ``timeout`` s for ``pids`` to end; return those still running."""
    end = time.monotonic() + timeout
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < end:
        time.sleep(0.1)
        left = [p for p in left if alive(p)]
    return left
