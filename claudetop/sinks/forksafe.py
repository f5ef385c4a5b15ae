"""Keeping ``fork()`` out of SQLite.

A process that forks while one of its threads is inside SQLite gives the child SQLite's internal
locks held by a thread the child does not have: the child's first SQLite call, the application's own
included, then waits for ever. claudetop's background threads (the hook's writer, the policy store)
therefore do their SQLite work inside ``sqlite_work()``, and a fork waits until none is inside it;
a section is one statement or one short transaction, so a fork waits at most that long (a locked
sink: its busy timeout). A child then opens connections of its own and leaves the ones it inherited
to ``leave_inherited``.
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


def leave_inherited(*handles: object) -> None:
    """Keep what a forked child inherited open (SQLite connections, sinks, a database session) out of
    its way for good: used, closed or collected, a handle would act on the parent's file or session
    (closing a SQLite connection may checkpoint or delete the parent's WAL; closing a PostgreSQL one
    ends the parent's session). ``None`` (nothing was open) is skipped."""
    _inherited.extend(h for h in handles if h is not None)


_inherited: list[object] = []


def _hold() -> None:
    _guard.acquire()


def _release() -> None:
    _guard.release()


def _renew() -> None:
    global _guard
    _guard = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_hold, after_in_parent=_release, after_in_child=_renew)
