"""Benchmark databases: a fresh, migrated SQLite file or PostgreSQL database per run."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import asyncpg
from sqlalchemy import text

from buddybot.storage.db import make_engine
from buddybot.storage.migrate import upgrade

PG_BASE = os.environ.get("BUDDYBOT_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1")


def url_for(db: str, name: str) -> str:
    """Where database ``name`` lives: a file in a new temporary folder, or on PostgreSQL."""
    if db == "sqlite":
        return f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='buddybot-bench-')) / name}.db"
    return f"{PG_BASE}/{name}"


async def pg_unreachable() -> str | None:
    """Why PostgreSQL cannot be used for benchmarks, or None when it can."""
    dsn = PG_BASE.replace("postgresql+asyncpg://", "postgresql://") + "/postgres"
    try:
        conn = await asyncpg.connect(dsn, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL at {PG_BASE} not reachable ({exc.__class__.__name__})"
    await conn.close()
    return None


async def fresh(url: str) -> None:
    """An empty, migrated database at ``url`` (PostgreSQL: dropped and created again)."""
    if url.startswith("postgresql"):
        admin = make_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        name = url.rsplit("/", 1)[1]
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()


async def drop(url: str) -> None:
    if url.startswith("postgresql"):
        admin = make_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(
                text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
            )
        await admin.dispose()
    else:
        shutil.rmtree(Path(url.split("///", 1)[1]).parent, ignore_errors=True)
