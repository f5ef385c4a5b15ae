"""Fixtures shared by every test layer.

The suite must not read or write the developer's own claudetop state, config or Claude Code
transcripts, so the directories claudetop looks in point at a fresh temporary tree for the
whole session (subprocesses inherit it through the environment).
"""

import atexit
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.pg_server import PostgresServer, PostgresUnavailable

_ISOLATED = Path(tempfile.mkdtemp(prefix="claudetop-tests-"))
atexit.register(shutil.rmtree, _ISOLATED, ignore_errors=True)

for name, sub in {
    "CLAUDETOP_STATE_DIR": "state",
    "XDG_STATE_HOME": "xdg-state",
    "XDG_CONFIG_HOME": "xdg-config",
    "XDG_DATA_HOME": "xdg-data",
    "CLAUDE_CONFIG_DIR": "claude",
}.items():
    path = _ISOLATED / sub
    path.mkdir()
    os.environ[name] = str(path)
os.environ.pop("CLAUDETOP_CONFIG", None)
os.environ.pop("CLAUDETOP_SINK", None)

_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session, installed and started by the fixture itself."""
    try:
        server = PostgresServer()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    server.init()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        server.remove()


@pytest.fixture
def pg_dsn(postgres: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the session's server: each test starts from nothing."""
    name = f"claudetop_t{next(_databases)}"
    with psycopg.connect(postgres.dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}".encode())
    yield postgres.dsn.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres.dsn, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)".encode())
