from collections.abc import Iterator

import pytest

from tests.integration.fleet.pg_server import PostgresServer, PostgresUnavailable


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
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
