"""Engine, sessions and the unit of work: one transaction per update or per piece of work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, event, insert
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql import Executable

from buddybot.clock import Clock
from buddybot.settings import Settings
from buddybot.storage import inline_sqlite
from buddybot.storage.models import ProcessedUpdate

log = logging.getLogger(__name__)


class AlreadyHandled(Exception):
    """This Telegram update was handled before; nothing may change a second time."""


def make_engine(
    url: str, *, own_checkpoints: bool = False, read_only: bool = False, **kwargs: Any
) -> AsyncEngine:
    """``own_checkpoints``: SQLite's WAL is checkpointed by the caller (``Database`` does it
    on a worker thread) instead of inside whichever commit crosses the threshold.
    ``read_only``: SQLite transactions start deferred, so a reader in another process (a
    health check, an export) never takes the write lock the running bot waits for."""
    engine = create_async_engine(inline_sqlite.inline_url(url), **kwargs)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine, own_checkpoints, read_only)
    return engine


def _tune_sqlite(engine: AsyncEngine, own_checkpoints: bool, read_only: bool) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, start transactions (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if own_checkpoints:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        # A WAL that grew in a burst is cut back to this size once it is reset.
        cursor.execute("PRAGMA journal_size_limit=67108864")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: concurrent units of work wait for each
        # other (busy_timeout) instead of failing on a read-to-write lock upgrade.
        # Straight to the driver: this runs once per update, and exec_driver_sql's trip
        # through the engine cost five times the statement.
        conn.connection.driver_connection.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")


class UnitOfWork:
    """A session plus the moment the work started. Commits once, or rolls back."""

    def __init__(self, session: AsyncSession, now: datetime, dialect: str) -> None:
        self.session = session
        self.now = now
        self.dialect = dialect
        self._conn: AsyncConnection | None = None

    async def flush(self) -> None:
        await self.session.flush()

    async def core(
        self, statement: Executable, params: dict[str, Any] | None = None
    ) -> CursorResult[*tuple[Any, ...]]:
        """Run a Core statement on the session's connection, in its transaction, past the
        ORM's execution layer: hot paths use it with statements built once (issue 10: an
        ORM execute or flush costs several times what SQLite takes to run the statement).
        Pending ORM changes are flushed first, as the ORM's own autoflush would.
        """
        session = self.session
        if session.new or session.dirty or session.deleted:
            await session.flush()
        if self._conn is None:
            self._conn = await self.session.connection()
        return await self._conn.execute(statement, params)


class Database:
    @classmethod
    def for_settings(cls, settings: Settings, clock: Clock, *, read_only: bool = False) -> Database:
        kwargs: dict[str, Any] = {"read_only": read_only}
        if settings.database_url.startswith("postgresql"):
            # The pool must cover the updates handled at once, or they queue for a
            # connection (measured in issue 10: 15 connections cost a third of throughput).
            size = settings.database_pool_size
            kwargs.update(pool_size=size, max_overflow=size)
        return cls(settings.database_url, clock, **kwargs)

    def __init__(self, url: str, clock: Clock, **engine_kwargs: Any) -> None:
        self.url = url
        self.clock = clock
        file = _sqlite_file(url)
        read_only = bool(engine_kwargs.get("read_only"))
        self.engine = make_engine(
            url, own_checkpoints=file is not None and not read_only, **engine_kwargs
        )
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time. Queueing writers here, in order, is much cheaper
        # than letting them collide and sleep in SQLite's busy handler.
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None
        # SQLite statements run on the event loop (storage/inline_sqlite.py); the WAL
        # checkpoint, which writes pages back and syncs the file, runs on a thread instead.
        self._wal_file = file
        self._commits = 0
        self._checkpoint: asyncio.Task[None] | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def unit_of_work(self, update_id: int | None = None) -> AsyncIterator[UnitOfWork]:
        """Open a transaction; with ``update_id`` it also records the update as handled,
        in the same transaction, so a redelivered update raises ``AlreadyHandled``."""
        async with AsyncExitStack() as stack:
            if self._write_lock is not None:
                await stack.enter_async_context(self._write_lock)
            session = await stack.enter_async_context(self._sessions())
            await stack.enter_async_context(session.begin())
            uow = UnitOfWork(session, self.clock.now(), self.dialect)
            if update_id is not None:
                try:
                    # A prebuilt Core statement on the connection: this runs for every
                    # update, and the ORM path costs ten times the statement itself.
                    await uow.core(_MARK_HANDLED, {"u": update_id, "h": uow.now})
                except IntegrityError:
                    raise AlreadyHandled(update_id) from None
            yield uow
        self._after_commit()

    def _after_commit(self) -> None:
        if self._wal_file is None:
            return
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY and self._checkpoint is None:
            self._commits = 0
            self._checkpoint = asyncio.create_task(self._checkpoint_quietly(self._wal_file))
            self._checkpoint.add_done_callback(self._checkpoint_done)

    async def _checkpoint_quietly(self, path: str) -> None:
        """Writers go on while it copies. The log only restarts from the top when a
        checkpoint caught up with every commit, which under steady load it never does; once
        the log is long, one pass runs while this process's writers wait (a few ms)."""
        frames = await asyncio.to_thread(_checkpoint_wal, path)
        if frames > CATCH_UP_FRAMES:
            assert self._write_lock is not None
            async with self._write_lock:
                await asyncio.to_thread(_checkpoint_wal, path)

    def _checkpoint_done(self, task: asyncio.Task[None]) -> None:
        self._checkpoint = None
        if not task.cancelled() and task.exception() is not None:
            log.warning("WAL checkpoint failed: %s", task.exception())

    async def dispose(self) -> None:
        if self._checkpoint is not None:
            await asyncio.wait([self._checkpoint])
        await self.engine.dispose()


_MARK_HANDLED = insert(ProcessedUpdate).values(update_id=bindparam("u"), handled_at=bindparam("h"))

# Commits between two checkpoints: a few hundred keeps the WAL at a few MB.
CHECKPOINT_EVERY = 300
# A log longer than this (pages of 4 kB: 16 MB) is caught up with writers waiting.
CATCH_UP_FRAMES = 4000


def _sqlite_file(url: str) -> str | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


def _checkpoint_wal(path: str) -> int:
    """PASSIVE: copy what it can without waiting for anyone. Returns the log's length in
    pages."""
    with contextlib.closing(sqlite3.connect(path, timeout=0)) as conn:
        row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(row[1]) if row else 0
