"""Worker processes that die with their parent (kept light: no torch, no numpy).

``sciml data generate --workers K`` runs K spawned processes. A ``kill -9`` of the parent must
not leave them computing for nobody, each holding a torch/FEniCSx process image. The pool's
initializer is :func:`guarded_call` from this module: unpickling it imports nothing heavy, so
the parent-death signal is armed within moments of the worker's start, before the worker
imports torch and dolfinx (tens of seconds on a loaded machine).
"""

from __future__ import annotations

import ctypes
import importlib
import os
import signal
import sys
import threading
import time
from typing import Any

__all__ = ["die_with_parent", "guarded_call"]


def die_with_parent(parent: int, *, poll_s: float = 1.0) -> None:
    """Make this process exit as soon as process ``parent`` is gone.

    On Linux the kernel does it: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``. Everywhere, a daemon
    thread also checks every ``poll_s`` seconds that the parent is still ours (a fallback, and
    it covers a parent that died before the ``prctl`` call).
    """
    if sys.platform.startswith("linux"):
        try:
            pass

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no libc prctl
            pass
    if os.getppid() != parent:  # the parent died before the prctl call
        os._exit(1)

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(poll_s)

    threading.Thread(target=watch, name="sciml-parent-watch", daemon=True).start()


def guarded_call(parent: int, target: str, *args: Any) -> Any:
    """:func:`die_with_parent` first, then import and call ``target`` (``"module:function"``).

    Use it as a process pool's ``initializer`` with ``initargs=(os.getpid(), target, ...)``.
    """
    die_with_parent(parent)
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)(*args)
