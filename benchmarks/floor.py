"""The floor under every database-backed bot: bare PTB plus the least durable work an update
can do, straight on the driver, with no ORM, no SQLAlchemy and no bot logic.

Per update, before the reply: one transaction that marks the update handled (so a
redelivery changes nothing), reads one row by its key and writes it back. That is what any
bot that keeps its state in the database and handles each update exactly once must do at
least; buddybot does more (who is asking, in which wijk, the idea and its card). The rate
of this bot, next to bare PTB's, is the most a bot on this database and driver can reach
on this machine: a target above it cannot be met by any handler code.

The drivers are the bot's own: sqlite3 on the event loop's thread, as buddybot's inline
SQLite dialect runs it, and asyncpg with a pool as large as the bot's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
from telegram import Update
from telegram.ext import ContextTypes

from benchmarks.bare import BareBot

ROWS = 500  # one row per wijk
Work = Callable[[int], Awaitable[None]]


class FloorBot(BareBot):
    """BareBot whose handler runs ``work(update_id)`` before it replies."""

    def __init__(self, work: Work) -> None:
        super().__init__()
        self._work = work

    async def _reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._work(update.update_id)
        await super()._reply(update, context)


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    return None


class Floor:
    """The database side: ``open`` it on a fresh, migrated database, use ``work``, ``close``."""

    def __init__(self, url: str, pool_size: int) -> None:
        self.url = url
        self.pool_size = pool_size
        self._sqlite: sqlite3.Connection | None = None
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        create = "CREATE TABLE floor_row (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"
        if self.url.startswith("postgresql"):
            dsn = self.url.replace("postgresql+asyncpg://", "postgresql://")
            size = self.pool_size
            # asyncpg's own pool sends a reset query on every release; the bot's SQLAlchemy
            # pool sends nothing after a commit. The floor must not be lower.
            self._pool = await asyncpg.create_pool(
                dsn, min_size=size, max_size=size, reset=_nothing_to_reset
            )
            async with self._pool.acquire() as conn:
                await conn.execute(create)
                await conn.executemany(
                    "INSERT INTO floor_row VALUES ($1, 0)", [(i,) for i in range(ROWS)]
                )
            return
        path = self.url.split("///", 1)[1]
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # As the bot's connection, except that nobody checkpoints the log during the run
        # (the bot copies it back on a thread): the floor must not be lower.
        pragmas = (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "wal_autocheckpoint=0",
        )
        for pragma in pragmas:
            conn.execute(f"PRAGMA {pragma}")
        conn.execute(create)
        conn.executemany("INSERT INTO floor_row VALUES (?, 0)", [(i,) for i in range(ROWS)])
        self._sqlite = conn

    async def forget(self) -> None:
        """Forget the handled updates, to run the same updates again."""
        if self._pool is not None:
            await self._pool.execute("TRUNCATE processed_update")
        elif self._sqlite is not None:
            self._sqlite.execute("DELETE FROM processed_update")

    async def one_statement(self, update_id: int) -> None:
        """PostgreSQL: the same work as a single statement, outside an explicit transaction
        (one round trip instead of five). Only a bot that did each update's whole work in
        one statement, a server-side function per kind of update, could come near this."""
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            await conn.fetchval(
                "WITH mark AS (INSERT INTO processed_update (update_id, handled_at) "
                "VALUES ($1, $2)) UPDATE floor_row SET n = n + 1 WHERE id = $3 RETURNING n",
                update_id,
                datetime.now(UTC),
                update_id % ROWS,
            )

    async def work(self, update_id: int) -> None:
        row = update_id % ROWS
        now = datetime.now(UTC)
        if self._pool is not None:
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "INSERT INTO processed_update (update_id, handled_at) VALUES ($1, $2)",
                    update_id,
                    now,
                )
                n = await conn.fetchval("SELECT n FROM floor_row WHERE id = $1", row)
                await conn.execute("UPDATE floor_row SET n = $1 WHERE id = $2", n + 1, row)
            return
        db = self._sqlite
        assert db is not None
        # Never awaits: the transaction is whole before another task runs (as buddybot's
        # SQLite writers, one at a time).
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "INSERT INTO processed_update (update_id, handled_at) VALUES (?, ?)",
            (update_id, now.isoformat()),
        )
        (n,) = db.execute("SELECT n FROM floor_row WHERE id = ?", (row,)).fetchone()
        db.execute("UPDATE floor_row SET n = ? WHERE id = ?", (n + 1, row))
        db.execute("COMMIT")

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
        if self._sqlite is not None:
            self._sqlite.close()
