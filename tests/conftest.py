from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from buddybot.clock import FakeClock
from buddybot.storage.db import Database
from tests.support import dbs


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dbs.make_sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def _pg_database() -> Iterator[str]:
    with dbs.pg_database(migrate=True) as url:
        yield url


@pytest.fixture
def pg_url(_pg_database: str) -> str:
    """A migrated, empty PostgreSQL database (skips when PostgreSQL is not reachable)."""
    dbs.truncate_pg(_pg_database)
    return _pg_database


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of the backend this run tests (BUDDYBOT_TEST_DB)."""
    if dbs.BACKEND == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    template: Path = request.getfixturevalue("_sqlite_template")
    return dbs.copy_sqlite(template, tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def db(database_url: str, clock: FakeClock) -> AsyncIterator[Database]:
    database = Database(database_url, clock)
    yield database
    await database.dispose()
