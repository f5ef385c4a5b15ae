"""Which deferral queue owns a deferred request, and whether that queue is still alive.

Every ``DeferralQueue`` is an owner (a forked child's queue becomes a new one): a random token,
written on each request it queues, and a file ``<token>.lock`` in the ``<sink>-deferral-owners``
directory on which it holds an exclusive ``flock``. Only a request's owner submits, polls and
collects it, so the handles a queue resolves are its own and each batch has a single poller.

An owner is dead once its lock can be taken: its queue was closed or collected, or its process
ended. The kernel releases a ``flock`` when the process that holds it ends, however it ends
(SIGKILL included), and never while the process lives. So a queue can adopt a dead owner's
requests immediately, and can never adopt a live owner's; the adopter then removes the dead
owner's file. A heartbeat would be weaker on both counts: it can be missed while a worker waits on
a slow upload, and it compares clocks across processes.
"""

from __future__ import annotations

import fcntl
import os
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def owners_dir(sink: Path) -> Path:
    return sink.with_name(f"{sink.name}-deferral-owners")


class Owner:
    """This queue's token, and the lock that says the queue is alive."""

    def __init__(self, sink: Path) -> None:
        self._directory = owners_dir(sink)
        self.token = uuid.uuid4().hex
        self._fd = self._publish()
        self._close = weakref.finalize(self, os.close, self._fd)

    def _publish(self) -> int:
        """Create this owner's lock file, locked; returns its descriptor.

        The file becomes visible only once it is locked. A lock file seen unlocked is taken for a
        dead owner's and removed; this owner, still alive, would then be invisible to the others.
        A ``.new`` file that could not be locked or renamed is removed (no one else would)."""
        self._directory.mkdir(mode=0o700, exist_ok=True)
        fresh = self._directory / f"{self.token}.new"
        fd = os.open(fresh, os.O_CREAT | os.O_EXCL | os.O_RDONLY, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: nobody else has it open
            os.rename(fresh, self._directory / f"{self.token}.lock")
        except OSError:
            os.close(fd)
            fresh.unlink(missing_ok=True)
            raise
        return fd

    def keep_visible(self) -> None:
        """Make the lock file again if it was deleted (a temporary-file cleaner removing the
        directory): without it, no queue would ever see this owner die and adopt its requests."""
        if not self._close.alive or os.fstat(self._fd).st_nlink > 0:
            return
        fd = self._publish()
        self._close()
        self._fd = fd
        self._close = weakref.finalize(self, os.close, fd)

    def release(self) -> None:
        """Close this process's descriptor of the lock file (once; GC does the same).

        In the owner's own process this drops the lock: the owner is dead, and another queue adopts
        its requests and removes the file. In a forked child the inherited descriptor shares the
        parent's lock. Closing it leaves the lock held by the parent (``flock`` ends only when every
        descriptor is closed, or on an explicit unlock, which would also drop the parent's lock), and
        the child stops keeping a dead parent's requests looking owned.
        """
        self._close()


@contextmanager
def dead_owners(sink: Path, alive: str) -> Iterator[list[str]]:
    """The tokens of the owners whose lock was free (their queue closed or their process ended),
    other than ``alive``. Their locks are held until the block ends, so no other queue adopts the
    same owner at the same time.

    The files are removed only if the block succeeds. A failed adoption is simply tried again at
    the next look.
    """
    taken: list[tuple[Path, int]] = []
    try:
        for path in owners_dir(sink).glob("*.lock"):
            if path.stem == alive:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:  # another queue has just adopted this owner
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # alive
                os.close(fd)
                continue
            taken.append((path, fd))
        yield [path.stem for path, _ in taken]
        for path, _ in taken:
            path.unlink(missing_ok=True)  # before the lock goes: no one opens it afterwards
    finally:
        for _, fd in taken:
            os.close(fd)
