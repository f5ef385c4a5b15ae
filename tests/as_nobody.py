"""Running a piece of a test as another user (``nobody``), for what only permissions can cause: a
sink the reader cannot write, a transcript it cannot open. Needs root; tests skip otherwise."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root to run a reader as another user (nobody)"
)


@contextmanager
def world_readable_dir() -> Iterator[Path]:
    """A directory outside root's private pytest tree, so another user can reach files in it."""
    path = Path(tempfile.mkdtemp(prefix="claudetop-ro-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        path.chmod(0o755)
        shutil.rmtree(path)


def run_as_nobody(work: Callable[[], str]) -> str:
    """Fork, drop to ``nobody`` (the interpreter is already loaded: root's venv need not be reachable),
    run ``work`` and return what it returned (or ``error ...``), through a pipe."""
    nobody = pwd.getpwnam("nobody")
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.close(rfd)
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            os.write(wfd, work().encode())
            code = 0
        except BaseException as err:
            os.write(wfd, f"error {err!r}".encode())
        finally:
            os._exit(code)
    os.close(wfd)
    with os.fdopen(rfd) as pipe:
        out = pipe.read()
    os.waitpid(pid, 0)
    return out
