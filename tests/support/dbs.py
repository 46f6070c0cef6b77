"""Test databases: a migrated SQLite file per test, or a PostgreSQL database per run.

``BUDDYBOT_TEST_DB=postgresql`` runs the suite on PostgreSQL (``BUDDYBOT_TEST_PG_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); without a reachable server those
tests skip and say why.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from buddybot.storage.db import make_engine
from buddybot.storage.migrate import upgrade
from buddybot.storage.models import Base

PG_ADMIN_URL = os.environ.get(
    "BUDDYBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKEND = os.environ.get("BUDDYBOT_TEST_DB", "sqlite").lower()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def migrate_url(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def make_sqlite_template(folder: Path) -> Path:
    path = folder / "template.db"
    migrate_url(sqlite_url(path))
    return path


def copy_sqlite(template: Path, folder: Path) -> str:
    target = folder / "bot.db"
    shutil.copyfile(template, target)
    return sqlite_url(target)


def pg_unreachable_reason() -> str | None:
    engine = make_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any failure means: no PostgreSQL here
        return f"PostgreSQL not reachable at {make_url(PG_ADMIN_URL).render_as_string()}: {exc!r}"
    finally:
        engine.dispose()


def _admin(sql: str) -> None:
    engine = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def create_pg_database(migrate: bool = True) -> str:
    name = f"buddybot_test_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    if migrate:
        migrate_url(url)
    return url


@contextmanager
def pg_database(*, migrate: bool) -> Iterator[str]:
    """A new PostgreSQL database, dropped afterwards; the test skips, saying why, when
    PostgreSQL is not reachable."""
    reason = pg_unreachable_reason()
    if reason:
        pytest.skip(reason)
    url = create_pg_database(migrate)
    try:
        yield url
    finally:
        drop_pg_database(url)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def truncate_pg(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()
