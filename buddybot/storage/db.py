"""Engine, sessions and the unit of work: one transaction per update or per piece of work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from buddybot.clock import Clock
from buddybot.storage import inline_sqlite
from buddybot.storage.models import ProcessedUpdate


class AlreadyHandled(Exception):
    """This Telegram update was handled before; nothing may change a second time."""


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    engine = create_async_engine(inline_sqlite.inline_url(url), **kwargs)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: AsyncEngine) -> None:
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
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: concurrent units of work wait for each
        # other (busy_timeout) instead of failing on a read-to-write lock upgrade.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class UnitOfWork:
    """A session plus the moment the work started. Commits once, or rolls back."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session = session
        self.now = now

    async def flush(self) -> None:
        await self.session.flush()


class Database:
    def __init__(self, url: str, clock: Clock, **engine_kwargs: Any) -> None:
        self.url = url
        self.clock = clock
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time. Queueing writers here, in order, is much cheaper
        # than letting them collide and sleep in SQLite's busy handler.
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None

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
            uow = UnitOfWork(session, self.clock.now())
            if update_id is not None:
                try:
                    # Core, not the ORM: this runs for every update, and flushing an object
                    # costs several times more than the statement itself.
                    await session.execute(
                        insert(ProcessedUpdate).values(update_id=update_id, handled_at=uow.now)
                    )
                except IntegrityError:
                    raise AlreadyHandled(update_id) from None
            yield uow

    async def dispose(self) -> None:
        await self.engine.dispose()
