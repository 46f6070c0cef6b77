"""Engine, sessions and the unit of work: one transaction per update or per piece of work.

The one storage contract. A unit of work is a synchronous SQLAlchemy ``Session`` inside one
transaction, with the moment the work started; services are plain functions that take it.
The bot opens every unit of work the same way, on both databases::

    card = await db.run(lambda uow: ideas.show(uow, caller, 3), update_id=update.update_id)

``Database.run`` runs the whole unit of work in one piece on the event loop's thread, and
commits when the work returns, or rolls back when it raises. Given an ``update_id`` it first
records that Telegram update as handled, in the same transaction: a redelivered update
raises ``AlreadyHandled`` before it changes anything twice.
A unit of work whose connection was lost runs once more on a fresh connection (see
``Database.run``); ``unavailable`` tells the errors after which an update may be handled
again later (the webhook answers 503 for them, ``bot.redelivery``).

- On PostgreSQL the work runs through ``AsyncSession.run_sync`` on asyncpg: the services'
  code stays synchronous, and SQLAlchemy lets the event loop go on while a statement waits
  for the server. At most ``DATABASE_CONCURRENCY`` units of work hold a connection at once
  (two more in a burst); the others wait for one.
- On SQLite it runs straight on ``sqlite3``: SQLite has one writer at a time and answers
  from a local file in well under a millisecond. The price: while a unit of work runs,
  every chat waits, and one that waits for another process's write lock (``buddybot
  purge``) holds the bot for up to ``busy_timeout``. Run several bot processes on
  PostgreSQL, not SQLite.

Units of work on worker threads measured slower on both databases: busy threads take turns
with the GIL (docs/benchmark-log.md, issue 21).

``Database.transaction`` opens the same unit of work on the calling thread, synchronously
(psycopg on PostgreSQL), for command-line tools and tests.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

from buddybot.clock import Clock
from buddybot.settings import Settings
from buddybot.storage.models import Base, ProcessedUpdate

T = TypeVar("T")

# The updates whose handled mark committed, collected by whoever sets a set here (the
# webhook: an update whose mark committed must not be sent again, it would be ignored).
committed_marks: ContextVar[set[int] | None] = ContextVar("committed_marks", default=None)


log = logging.getLogger(__name__)


class AlreadyHandled(Exception):
    """This Telegram update was handled before; nothing may change a second time."""


@dataclass
class _Attempt:
    """How far one try of a unit of work got: past its work, into the commit."""

    committing: bool = False


@dataclass
class UnitOfWork:
    """One transaction: the session that runs in it and the moment the work started."""

    session: Session
    now: datetime


def engine_url(url: str | URL) -> URL:
    """The synchronous driver for a configured URL (``sqlite3``, psycopg), whichever driver
    the setting names (``sqlite+aiosqlite`` and ``postgresql+asyncpg`` are still accepted)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, *, read_only: bool = False, **kwargs: Any) -> Engine:
    """An engine for ``url``. On SQLite ``read_only`` starts transactions deferred, so a
    reader in another process (``buddybot check``, an export) never takes the write lock.

    ``hide_parameters``: a database error's text (logged, stored in ``due_item.last_error``)
    shows the statement but never the values bound to it, names and message text."""
    engine = create_engine(engine_url(url), **{"hide_parameters": True, **kwargs})
    if engine.dialect.name == "sqlite":
        _create_private(engine.url)
        _tune_sqlite(engine, read_only)
    return engine


def _create_private(url: URL) -> None:
    """A new SQLite file is made readable and writable by its owner only (0600), before
    SQLite would make it readable by everyone (0644 under the usual umask): it holds names
    and activity. SQLite gives its ``-wal`` and ``-shm`` files the database file's mode.
    An existing file keeps the mode its owner gave it."""
    path = url.database
    if not path or path == ":memory:" or path.startswith("file:") or url.query.get("uri"):
        return
    # A folder that does not exist is left for SQLite to report when it connects.
    with suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


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
        """``workers``: PostgreSQL units of work holding a connection at once."""
        self.clock = clock
        postgresql = make_url(url).get_backend_name() == "postgresql"
        pool: dict[str, Any] = {"pool_size": workers, "max_overflow": 2} if postgresql else {}
        self.engine = make_engine(url, read_only=read_only, **pool)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # PostgreSQL only: the bot's units of work (``run``), on asyncpg.
        self._async_engine = (
            create_async_engine(
                engine_url(url).set(drivername="postgresql+asyncpg"),
                hide_parameters=True,
                **pool,
            )
            if postgresql
            else None
        )
        self._async_sessions = (
            async_sessionmaker(self._async_engine, expire_on_commit=False)
            if self._async_engine is not None
            else None
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

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
        synchronous code: no Telegram call, nothing awaited.

        A unit of work whose connection was lost (the server restarted, the network dropped)
        runs once more on a fresh connection. SQLAlchemy says so with
        ``DBAPIError.connection_invalidated``, and has then discarded that connection and
        every other one the pool held from before. Running it again is safe: the lost
        transaction never committed, and if the connection broke during the commit itself,
        an update's mark tells (``AlreadyHandled``); work without an update id is not run
        again then, as it may have committed. Any other error (SQLite's "database is locked"
        after ``busy_timeout``, a disk error, a server that refuses connections) is raised:
        trying again at once would not help, Telegram's redelivery or the next tick does."""
        attempt = _Attempt()
        try:
            result = await self._run_once(work, update_id, attempt, self.clock.now())
        except DBAPIError as exc:
            if not exc.connection_invalidated or (attempt.committing and update_id is None):
                raise
            log.warning("database connection lost; the unit of work runs again on a new one")
            result = await self._run_once(work, update_id, _Attempt(), self.clock.now())
        marks = committed_marks.get()
        if update_id is not None and marks is not None:
            marks.add(update_id)
        return result

    async def _run_once(
        self,
        work: Callable[[UnitOfWork], T],
        update_id: int | None,
        attempt: _Attempt,
        now: datetime,
    ) -> T:
        def in_session(session: Session) -> T:
            uow = UnitOfWork(session, now)
            if update_id is not None:
                _mark_handled(uow, update_id)
            return work(uow)

        # The block's end commits (or rolls back what raised, a refused commit included).
        if self._async_sessions is None:
            with self._sessions.begin() as session:
                result = in_session(session)
                attempt.committing = True
                return result
        async with self._async_sessions.begin() as async_session:
            result = await async_session.run_sync(in_session)
            attempt.committing = True
            return result

    @property
    def engines(self) -> tuple[Engine, ...]:
        """Every engine this database connects through (for the async one, its synchronous
        face, where SQLAlchemy's events are heard)."""
        if self._async_engine is None:
            return (self.engine,)
        return (self.engine, self._async_engine.sync_engine)

    async def dispose(self) -> None:
        """Close every pooled connection. The database stays usable: it connects again when
        it next needs to."""
        if self._async_engine is not None:
            await self._async_engine.dispose()
        self.engine.dispose()


def unavailable(error: BaseException) -> bool:
    """The database could not be reached or could not take the work just now: the unit of
    work did not commit, so the same update may safely be handled again later. A server that
    is down or refuses connections (asyncpg raises the socket's ``OSError`` as it is), a
    connection lost even after ``run``'s second try, no free connection in the pool, SQLite's
    "database is locked" or a disk error (``OperationalError``).

    Any other ``OSError`` or ``TimeoutError`` (a file, a chart, the network to Telegram) is no
    database outage: only one raised from inside asyncpg counts."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(error, OSError) and _raised_in_driver(error)


def _raised_in_driver(error: BaseException) -> bool:
    """Some frame of the error's traceback runs in asyncpg (the one driver that raises the
    socket's errors unwrapped)."""
    tb = error.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module == "asyncpg" or module.startswith("asyncpg."):
            return True
        tb = tb.tb_next
    return False


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
