"""Keeping ``fork()`` out of SQLite, and giving a forked child what the parent's threads held.

A process that forks while one of its threads is inside SQLite gives the child SQLite's internal
locks held by a thread the child does not have: the child's first SQLite call, the application's own
included, then waits for ever. claudetop's background threads (the hook's writer, the policy store)
therefore do their SQLite work inside ``sqlite_work()``, and a fork waits until none is inside it;
a section is one statement or one short transaction, so a fork waits at most that long (a locked
sink: its busy timeout). A child then opens connections of its own and leaves the ones it inherited
to ``leave_inherited``.

Locks of claudetop's own objects have the same problem: one a parent's thread held at the fork stays
held in the child for ever. An object with locks (or threads, or connections) has the child set them
up anew with ``on_fork_in_child``.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import MethodType
from typing import Any

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


def on_fork_in_child(method: Callable[[], None]) -> None:
    """Call ``method``, an object's bound method (one per object), in every forked child for as long as
    its object lives; a child calls them in the order they were registered. The object is referenced
    weakly: ``os.register_at_fork`` cannot unregister, and registering must not keep it from being
    collected. It must be hashable (a class that keeps ``object``'s identity ``__eq__`` is)."""
    if not isinstance(method, MethodType):
        raise TypeError(f"on_fork_in_child takes an object's bound method, not {method!r}")
    _renewed[method.__self__] = method.__func__


_renewed: weakref.WeakKeyDictionary[Any, Callable[[Any], None]] = weakref.WeakKeyDictionary()
"""The objects a child renews, each with its method's function (a bound method would keep it alive)."""


def _hold() -> None:
    _guard.acquire()


def _release() -> None:
    _guard.release()


def _after_fork_in_child() -> None:
    """Every object is renewed even if one fails: a lock left held would hang the child. The last
    failure is raised at the end, for Python to report as it does any after-fork handler's."""
    global _guard
    _guard = threading.RLock()
    failure: Exception | None = None
    for owner, renew in list(_renewed.items()):
        try:
            renew(owner)
        except Exception as err:
            failure = err
    if failure is not None:
        raise failure


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_hold, after_in_parent=_release, after_in_child=_after_fork_in_child)
