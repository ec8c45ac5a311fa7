"""Child processes of ours, forked or started: the guard each runs first, so that none outlives
the gofail-py process that made it, and the wait on a descriptor that works at any fd number.

A shared leaf: it imports nothing of the package."""

from __future__ import annotations

import os
import select
import signal
import sys

from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1
_LIBC: list[Any] = []  # the C library, loaded once, in the parent


def libc() -> Any:
    """The C library (for prctl), loaded once; None off Linux or without ctypes."""
    if not _LIBC:
        try:
            import ctypes

            _LIBC.append(ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None)
        except (ImportError, OSError):  # a Python without ctypes: no such guard
            _LIBC.append(None)
    return _LIBC[0]


def die_with_parent(death_signal: int = signal.SIGKILL) -> Callable[[], None]:
    """Made in the parent, before it forks; run first in the child (after fork, or between fork
    and exec: it only calls prctl, the library was loaded here): ``death_signal`` from the kernel
    when this process dies, even by SIGKILL (Linux). Where the parent died before it was asked
    for, the child ends at once rather than run on as an orphan."""
    parent, loaded = os.getpid(), libc()

    def guard() -> None:
        if loaded is not None:
            loaded.prctl(_PR_SET_PDEATHSIG, death_signal, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return guard


def readable(fd: int, timeout: float) -> bool:
    """Whether fd is readable (or at its end) within timeout seconds. poll, not select: select
    refuses a descriptor numbered 1024 or more, which a caller with many files open hands out."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(max(0, round(timeout * 1000))))
