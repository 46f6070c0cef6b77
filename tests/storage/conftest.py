"""What the storage tests share."""

from __future__ import annotations

import pytest


@pytest.fixture
def pg(database_url: str, request: pytest.FixtureRequest) -> str:
    """The database URL, for tests of what only PostgreSQL has (skipped on SQLite)."""
    if not database_url.startswith("postgresql"):
        what = request.module.__name__.rsplit(".", 1)[-1]
        pytest.skip(f"{what}: PostgreSQL only (BUDDYBOT_TEST_DB=postgresql)")
    return database_url
