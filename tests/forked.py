"""Running a piece of a test in a forked child of the test process, as an application that forks
(multiprocessing, a pre-fork server) would run code after ``fork()``."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any


def in_forked_child(work: Callable[[], bool], timeout_s: int = 10) -> bool:
    """Run ``work`` in a forked child (killed by an alarm if it hangs); whether it returned True."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        signal.alarm(timeout_s)
        ok = False
        try:
            ok = work()
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


@contextmanager
def held_by_another_thread(lock: AbstractContextManager[Any]) -> Iterator[None]:
    """``lock`` held by another thread of this process until the block ends: a fork in the block
    happens while it is held, every time, as it may by chance in an application."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            taken.set()
            done.wait()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        assert taken.wait(5), "the other thread did not get the lock"
        yield
    finally:
        done.set()
        holder.join(5)


def until_held_by_another_thread(lock: Any, timeout_s: float = 10.0) -> None:
    """Return once another thread holds ``lock`` (forksafe's guard: a fork from then on waits for that
    thread's SQLite work); fail after ``timeout_s``. A lock this thread holds does not count."""
    deadline = time.monotonic() + timeout_s
    while lock.acquire(blocking=False):
        lock.release()
        assert time.monotonic() < deadline, f"no other thread took the lock in {timeout_s:g} s"
        time.sleep(0.005)
