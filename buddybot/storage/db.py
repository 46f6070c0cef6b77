"""Engine, sessions and the unit of work: one transaction per update or per piece of work.

The one storage contract. A unit of work is a synchronous SQLAlchemy ``Session`` inside one
transaction, with the moment the work started; services are plain functions that take it.
The bot opens every unit of work the same way, on both databases::

    card = await db.run(lambda uow: ideas.show(uow, caller, 3), update_id=update.update_id)

``Database.run`` runs the whole unit of work in one piece and commits when the work returns,
or rolls back when it raises:

- on PostgreSQL, on one of ``DATABASE_CONCURRENCY`` worker threads, so the event loop goes on
  while a unit of work waits for the server;
- on SQLite, on the event loop's own thread. SQLite has one writer at a time and answers
  from a local file in well under a millisecond; handing each unit of work to a thread cost
  more than the work itself (two busy threads take turns with the GIL; see
  docs/benchmark-log.md). The price: while a unit of work runs, every chat waits, and a
  unit of work that waits for another process's write lock (``buddybot purge``) holds the
  bot for up to ``busy_timeout``. Run several bot processes on PostgreSQL, not SQLite.
Given an ``update_id`` it first records that Telegram update as handled, in the same
transaction: a redelivered update raises ``AlreadyHandled`` before it changes anything twice.

``Database.transaction`` opens the same unit of work on the calling thread, for command-line
tools and tests.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from buddybot.clock import Clock
from buddybot.settings import Settings
from buddybot.storage.models import Base, ProcessedUpdate

T = TypeVar("T")


class AlreadyHandled(Exception):
    """This Telegram update was handled before; nothing may change a second time."""


@dataclass
class UnitOfWork:
    """One transaction: the session that runs in it and the moment the work started."""

    session: Session
    now: datetime


def engine_url(url: str | URL) -> URL:
    """The synchronous driver for a configured URL. Settings name the drivers operators have
    always written (``sqlite+aiosqlite``, ``postgresql+asyncpg``); the bot runs its units of
    work on the standard library's ``sqlite3`` and on psycopg."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, *, read_only: bool = False, **kwargs: Any) -> Engine:
    """An engine for ``url``. On SQLite ``read_only`` starts transactions deferred, so a
    reader in another process (``buddybot check``, an export) never takes the write lock."""
    engine = create_engine(engine_url(url), **kwargs)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine, read_only)
    return engine


def _tune_sqlite(engine: Engine, read_only: bool) -> None:
    """WAL, foreign keys, and transactions that take the write lock when they begin.

    This is SQLAlchemy's documented recipe for SQLite transactions: the driver starts none
    of its own, and the ``begin`` event issues ``BEGIN IMMEDIATE``, so two writers (say, a
    replica's tick and a command-line purge) wait for each other within ``busy_timeout``
    instead of failing on a read-to-write lock upgrade."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    # A write-ahead log that grew in a burst is cut back to 64 MB once it restarts.
    "PRAGMA journal_size_limit=67108864",
)


class Database:
    @classmethod
    def for_settings(cls, settings: Settings, clock: Clock, *, read_only: bool = False) -> Database:
        return cls(
            settings.database_url,
            clock,
            workers=settings.database_concurrency,
            read_only=read_only,
        )

    def __init__(
        self, url: str, clock: Clock, *, workers: int = 4, read_only: bool = False
    ) -> None:
        """``workers``: PostgreSQL units of work run at once (SQLite runs one at a time)."""
        self.url = url
        self.clock = clock
        self._on_loop = make_url(url).get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {} if self._on_loop else {"pool_size": workers, "max_overflow": 2}
        self.engine = make_engine(url, read_only=read_only, **kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._workers = ThreadPoolExecutor(workers, thread_name_prefix="unit-of-work")

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def file(self) -> str | None:
        """The SQLite file, if this is one."""
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return url.database

    @contextmanager
    def transaction(self, update_id: int | None = None) -> Iterator[UnitOfWork]:
        """One unit of work on this thread: commits when the block ends, rolls back when it
        raises. With ``update_id`` it first records the update as handled."""
        with self._sessions.begin() as session:
            uow = UnitOfWork(session, self.clock.now())
            if update_id is not None:
                _mark_handled(uow, update_id)
            yield uow

    async def run(self, work: Callable[[UnitOfWork], T], *, update_id: int | None = None) -> T:
        """Run ``work`` as one unit of work and return what it returns. ``work`` is plain
        synchronous code: no Telegram call, nothing awaited."""

        def unit() -> T:
            with self.transaction(update_id) as uow:
                return work(uow)

        if self._on_loop:
            return unit()
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        return await loop.run_in_executor(self._workers, functools.partial(context.run, unit))

    async def dispose(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._close)

    def _close(self) -> None:
        self._workers.shutdown(wait=True)
        self.engine.dispose()


# Every update runs this first: a Core insert on the table, built once (the ORM's insert of
# the mapped class takes its bulk-insert path, several times the cost on SQLite).
_MARK_HANDLED = insert(Base.metadata.tables[ProcessedUpdate.__tablename__])


def _mark_handled(uow: UnitOfWork, update_id: int) -> None:
    """The update's mark, the unit of work's first statement. A key conflict means it was
    handled before; the whole unit of work rolls back then."""
    try:
        uow.session.execute(_MARK_HANDLED, {"update_id": update_id, "handled_at": uow.now})
    except IntegrityError:
        raise AlreadyHandled(update_id) from None
