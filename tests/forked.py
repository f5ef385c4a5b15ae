"""Running a piece of a test in a forked child of the test process, as an application that forks
(multiprocessing, a pre-fork server) would run code after ``fork()``."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable


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
