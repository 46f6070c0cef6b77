"""Test databases: a migrated SQLite file per test, or a PostgreSQL database per run.

``BUDDYBOT_TEST_DB=postgresql`` runs the suite on PostgreSQL (``BUDDYBOT_TEST_PG_URL``, default
``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``); without a reachable server those
tests skip and say why.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from buddybot.storage.db import make_engine
from buddybot.storage.migrate import upgrade
from buddybot.storage.models import Base

PG_ADMIN_URL = os.environ.get(
    "BUDDYBOT_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
BACKEND = os.environ.get("BUDDYBOT_TEST_DB", "sqlite").lower()


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def make_sqlite_template(folder: Path) -> Path:
    path = folder / "template.db"
    asyncio.run(_migrate(sqlite_url(path)))
    return path


def copy_sqlite(template: Path, folder: Path) -> str:
    target = folder / "bot.db"
    shutil.copyfile(template, target)
    return sqlite_url(target)


async def _pg_reachable() -> str | None:
    engine = make_engine(PG_ADMIN_URL, connect_args={"timeout": 3})
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any failure means: no PostgreSQL here
        return f"PostgreSQL not reachable at {make_url(PG_ADMIN_URL).render_as_string()}: {exc!r}"
    finally:
        await engine.dispose()


def pg_unreachable_reason() -> str | None:
    return asyncio.run(_pg_reachable())


async def _admin(sql: str) -> None:
    engine = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def create_pg_database(migrate: bool = True) -> str:
    name = f"buddybot_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    if migrate:
        asyncio.run(_migrate(url))
    return url


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


def truncate_pg(url: str) -> None:
    asyncio.run(_truncate(url))
