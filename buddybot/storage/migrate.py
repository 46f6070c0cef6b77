"""Run Alembic from inside buddybot, on its own (async) engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


# Two replicas starting together must not migrate at the same time (PostgreSQL).
ADVISORY_LOCK = 4242_0001


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), revision))


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: command.downgrade(alembic_config(c), revision))


def _current(conn: Connection) -> set[str]:
    return set(MigrationContext.configure(conn).get_current_heads())


async def is_current(engine: AsyncEngine) -> bool:
    """True when the database is at the newest migration."""
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    async with engine.connect() as conn:
        return await conn.run_sync(_current) == heads
