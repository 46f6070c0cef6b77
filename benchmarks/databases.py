"""Benchmark databases: a fresh, migrated SQLite file or PostgreSQL database per run."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from buddybot.storage.db import make_engine
from buddybot.storage.migrate import upgrade

PG_BASE = os.environ.get("BUDDYBOT_BENCH_PG", "postgresql://postgres@127.0.0.1")


def url_for(db: str, name: str) -> str:
    """Where database ``name`` lives: a file in a new temporary folder, or on PostgreSQL."""
    if db == "sqlite":
        return f"sqlite:///{Path(tempfile.mkdtemp(prefix='buddybot-bench-')) / name}.db"
    return f"{PG_BASE}/{name}"


def _admin(url: str) -> Engine:
    """The server's maintenance database, outside transactions (CREATE/DROP DATABASE)."""
    return make_engine(
        url.rsplit("/", 1)[0] + "/postgres",
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )


def pg_unreachable() -> str | None:
    """Why PostgreSQL cannot be used for benchmarks, or None when it can."""
    admin = _admin(PG_BASE + "/postgres")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OSError, DBAPIError) as exc:
        return f"PostgreSQL at {PG_BASE} not reachable ({exc.__class__.__name__})"
    finally:
        admin.dispose()
    return None


def fresh(url: str) -> None:
    """An empty, migrated database at ``url`` (PostgreSQL: dropped and created again)."""
    if url.startswith("postgresql"):
        name = url.rsplit("/", 1)[1]
        admin = _admin(url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def drop(url: str) -> None:
    if url.startswith("postgresql"):
        admin = _admin(url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()
    else:
        shutil.rmtree(Path(url.split("///", 1)[1]).parent, ignore_errors=True)
