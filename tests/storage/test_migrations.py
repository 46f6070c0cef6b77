"""The schema comes from migrations, on SQLite and on PostgreSQL, and matches the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from buddybot.storage.db import make_engine
from buddybot.storage.migrate import downgrade, is_current, upgrade
from buddybot.storage.models import Base
from tests.support import dbs


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield dbs.sqlite_url(tmp_path / "empty.db")
        return
    with dbs.pg_database(migrate=False) as url:
        yield url


def _tables(conn: object) -> set[str]:
    return set(inspect(conn).get_table_names())  # type: ignore[arg-type]


def _diff(conn: object) -> list[object]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})  # type: ignore[arg-type]
    return list(compare_metadata(ctx, Base.metadata))


def test_upgrade_down_up_and_models_agree(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        assert not is_current(engine)
        upgrade(engine)
        assert is_current(engine)
        with engine.connect() as conn:
            tables = _tables(conn)
            assert {"wijk", "person", "membership", "processed_update", "due_item"} <= tables
            assert _diff(conn) == []

        downgrade(engine, "base")
        with engine.connect() as conn:
            assert _tables(conn) <= {"alembic_version"}

        upgrade(engine)
        with engine.connect() as conn:
            assert _diff(conn) == []
    finally:
        engine.dispose()
