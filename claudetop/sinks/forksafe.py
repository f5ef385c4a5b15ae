"""Keeping ``fork()`` out of SQLite.

A process that forks while one of its threads is inside SQLite gives the child SQLite's internal
locks held by a thread the child does not have: the child's first SQLite call, the application's own
included, then waits for ever. claudetop's background threads (the hook's writer, the policy store)
therefore do their SQLite work inside ``sqlite_work()``, and a fork waits until none is inside it;
a section is one statement or one short transaction, so a fork waits at most that long (a locked
sink: its busy timeout).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_guard = threading.RLock()


@contextmanager
def sqlite_work() -> Iterator[None]:
    """Hold off ``fork()`` while the block works in SQLite."""
    guard = _guard
    with guard:
        yield


def _hold() -> None:
    _guard.acquire()


def _release() -> None:
    _guard.release()


def _renew() -> None:
    global _guard
    _guard = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_hold, after_in_parent=_release, after_in_child=_renew)
