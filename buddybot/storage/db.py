"""Engine, sessions and the unit of work: one transaction per update or per piece of work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, event, insert
from sqlalchemy.engine import RootTransaction, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql import Executable

from buddybot.clock import Clock
from buddybot.settings import Settings
from buddybot.storage import inline_sqlite
from buddybot.storage.models import Base, ProcessedUpdate
from buddybot.storage.prepared import MARK_INSERT, Rows, Statements

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Base)


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

    def __init__(
        self,
        session: AsyncSession | Callable[[], AsyncSession],
        now: datetime,
        dialect: str,
        conn: AsyncConnection | None = None,
        inline: tuple[sqlite3.Connection, Statements] | None = None,
        adapted: tuple[Any, Statements] | None = None,
    ) -> None:
        # SQLite passes a factory: most updates never touch the ORM, and making and closing
        # a session they don't use cost 4% of an update (issue 10).
        self._session = session if isinstance(session, AsyncSession) else None
        self._factory = None if isinstance(session, AsyncSession) else session
        self.now = now
        self.dialect = dialect
        self._conn = conn  # the session's connection, when the caller already has it
        self._inline = inline  # SQLite on this thread: its driver and prepared statements
        self._adapted = adapted  # PostgreSQL: its asyncpg adapter and prepared statements
        # PostgreSQL: where the update to record as handled waits (the connection's info,
        # which the ORM's statements see too, see _write_pending_mark).
        sync = conn.sync_connection if conn is not None and dialect == "postgresql" else None
        self._marks: dict[Any, Any] = sync.info if sync is not None else {}

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            assert self._factory is not None
            self._session = self._factory()
        return self._session

    @property
    def opened(self) -> AsyncSession | None:
        """The session, if anything has used it."""
        return self._session

    def pending(self) -> bool:
        """Whether the ORM holds changes not yet flushed."""
        s = self._session
        return s is not None and bool(s.new or s.dirty or s.deleted)

    async def flush(self) -> None:
        if self._session is not None:
            await self._session.flush()

    def loaded(self, model: type[M], key: int) -> M | None:
        """The object if this unit of work has loaded it already (no query)."""
        if self._session is None:
            return None
        found = self._session.sync_session.identity_map.get(identity_key(model, key))
        return found if isinstance(found, model) else None

    async def core(self, statement: Executable, params: dict[str, Any] | None = None) -> Rows:
        """Run a Core statement in the unit of work's transaction, past the ORM's execution
        layer: hot paths use it with statements built once (issue 10: an ORM execute or
        flush costs several times what SQLite takes to run the statement). On SQLite the
        statement goes straight to sqlite3 (storage/prepared.py). Pending ORM changes are
        flushed first, as the ORM's own autoflush would."""
        if self.pending():
            await self.session.flush()
        if self._inline is not None:
            raw, statements = self._inline
            prepared = statements.get(statement, params)
            if prepared is not None:
                return prepared.run(raw, params)
        elif self._adapted is not None:
            adapter, statements = self._adapted
            prepared = statements.get(statement, params)
            if prepared is not None:
                # The mark rides along with a read only: a read cannot fail on a key of its
                # own, so a key conflict is always the mark's.
                mark = self._marks.pop(_PENDING, None) if prepared.reads else None
                if mark is None:
                    await self.write_mark()
                try:
                    return await prepared.run_pg(adapter, params, mark or ())
                except DBAPIError as exc:
                    if exc.connection_invalidated and self._conn is not None:
                        await _lost(self._conn, exc)
                    if mark is not None and _is_mark_conflict(exc):
                        raise AlreadyHandled(mark[0]) from None
                    if mark is not None:
                        self._give_back(mark)  # (its statement failed as a whole)
                    raise
                except BaseException as exc:
                    if mark is not None:
                        self._give_back(mark)  # (a value refused before sending)
                    if not isinstance(exc, Exception):
                        # Cancelled with a round trip on the wire: what the server did is
                        # unknown; a cancel during the lazy BEGIN even leaves asyncpg in a
                        # transaction the adapter doesn't know of. SQLAlchemy's own execution
                        # drops the connection then; so does this (synchronously: no await
                        # in a task being cancelled).
                        sync = self._conn.sync_connection if self._conn is not None else None
                        if sync is not None and not sync.invalidated:
                            sync.invalidate()
                    raise
        await self.write_mark()
        if self._conn is None:
            self._conn = await self.session.connection()
        result = await self._conn.execute(statement, params)
        return Rows(result.all() if result.returns_rows else ())

    def _give_back(self, mark: tuple[int, Any]) -> None:
        """A mark whose statement failed is written later, unless the connection is lost
        (it is back in the pool, and the transaction with it)."""
        if self._conn is None or not self._conn.invalidated:
            self._marks[_PENDING] = mark

    async def write_mark(self) -> None:
        """Record the update as handled now, if no statement took it along yet."""
        mark = self._marks.pop(_PENDING, None)
        if mark is None:
            return
        update_id, at = mark
        try:
            await self.core(_MARK_HANDLED, {"u": update_id, "h": at})
        except IntegrityError as exc:
            if _is_mark_conflict(exc):
                raise AlreadyHandled(update_id) from None
            raise


def _is_mark_conflict(exc: BaseException) -> bool:
    """Whether a statement failed because the update it recorded was handled before (by
    the key's name, not the message: the server may speak another language)."""
    if not isinstance(exc, IntegrityError):
        return False
    cause = exc.orig.__cause__ if exc.orig is not None else None
    diag = getattr(exc.orig, "diag", None)  # (psycopg keeps it there)
    name = getattr(cause, "constraint_name", None) or getattr(diag, "constraint_name", None)
    return bool(name == _MARK_KEY)


def _write_pending_mark(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    """Before any statement SQLAlchemy runs (the ORM's, a flush), the update's mark, if no
    prepared statement took it along yet: a redelivered update stops at its first
    statement, whichever that is."""
    if getattr(cursor, "server_side", False):
        return  # (such a cursor only opens a portal: the mark waits for the next statement)
    mark = conn.info.pop(_PENDING, None)
    if mark is not None:
        cursor.execute(_MARK_PG, mark)


async def _lost(conn: AsyncConnection, exc: DBAPIError) -> None:
    """What SQLAlchemy's own execution does when the server is gone: every pooled connection
    made before now is replaced on its next checkout (a restarted server ended them all),
    and this one is never handed out again."""
    sync = conn.sync_connection
    if sync is not None and not sync.invalidated:
        sync.engine.pool._invalidate(sync.connection, exc.orig)
    await conn.invalidate(exc.orig)


class Database:
    @classmethod
    def for_settings(cls, settings: Settings, clock: Clock, *, read_only: bool = False) -> Database:
        kwargs: dict[str, Any] = {"read_only": read_only}
        if settings.database_url.startswith("postgresql"):
            # The pool must cover the transactions run at once, or they queue for a
            # connection (measured in issue 10: 15 connections cost a third of throughput).
            size = max(settings.database_pool_size, settings.database_concurrency)
            kwargs.update(
                pool_size=size, max_overflow=size, concurrency=settings.database_concurrency
            )
        return cls(settings.database_url, clock, **kwargs)

    def __init__(
        self, url: str, clock: Clock, *, concurrency: int | None = None, **engine_kwargs: Any
    ) -> None:
        """``concurrency``: PostgreSQL transactions run at once (None: no limit)."""
        self.url = url
        self.concurrency = concurrency
        self.clock = clock
        file = _sqlite_file(url)
        read_only = bool(engine_kwargs.get("read_only"))
        self.engine = make_engine(
            url, own_checkpoints=file is not None and not read_only, **engine_kwargs
        )
        # SQLite has one writer at a time. Queueing writers here, in order, is much cheaper
        # than letting them collide and sleep in SQLite's busy handler.
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None
        # PostgreSQL: more transactions at once than the server has cores only make each
        # one slower; on 2 cores, 8 at a time handled a fifth more updates than 32 (issue
        # 10). The others wait here, cheaply, before they take a connection.
        self._turns = (
            asyncio.Semaphore(concurrency)
            if concurrency is not None and self._write_lock is None
            else None
        )
        self._turn_timeout = float(engine_kwargs.get("pool_timeout", 30))
        # SQLite statements run on the event loop (storage/inline_sqlite.py); the WAL
        # checkpoint, which writes pages back and syncs the file, runs on a thread instead.
        self._wal_file = file
        self._statements = Statements(self.engine.dialect)
        self._fast_pg = self.engine.dialect.driver == "asyncpg"
        if self._fast_pg:
            event.listen(self.engine.sync_engine, "before_cursor_execute", _write_pending_mark)
        self._held: (
            tuple[AsyncConnection, sqlite3.Connection, async_sessionmaker[AsyncSession]] | None
        ) = None
        handled_at = ProcessedUpdate.__table__.c.handled_at.type
        dialect = self.engine.dialect
        self._bind_time = handled_at.dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)
        self._commits = 0
        self._copier = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wal-checkpoint")
        self._copy: Future[int] | None = None
        self._catch_up_due = False
        self._closed = False
        # SQLite: tasks waiting for the write lock, and the transaction left open for them.
        self._queued = 0
        self._group: _Group | None = None
        self.group_max = GROUP_MAX

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def unit_of_work(
        self, update_id: int | None = None, *, atomic: bool = True
    ) -> AsyncIterator[UnitOfWork]:
        """Open a transaction; with ``update_id`` it also records the update as handled,
        in the same transaction, so a redelivered update raises ``AlreadyHandled``.

        ``atomic=False``: on PostgreSQL each statement commits on its own (the mark with
        the first one), which saves the round trips of ``BEGIN`` and ``COMMIT``: a fifth
        of a /hulp's CPU (issue 10). For a unit of work of one statement, or of reads
        (under READ COMMITTED each statement sees the latest commits anyway) plus
        bookkeeping a later update repairs (a first contact, "last seen"). SQLite ignores
        it."""
        if self._write_lock is None:
            # PostgreSQL: a transaction on a pooled connection; an ORM session joins it only
            # when a service asks for one (most updates use Core statements alone).
            # One turn per task: a unit of work opened inside another (or by a task started
            # inside one) takes none, or the turns could all end up waiting on each other.
            turn = self._turns if self._turns is not None and not _in_turn.get() else None
            if turn is not None:
                # Bounded as a pool checkout is: a turn lost for good fails, not hangs.
                async with asyncio.timeout(self._turn_timeout):
                    await turn.acquire()
            held = _in_turn.set(True)
            try:
                async with self.engine.connect() as conn:
                    adapter: Any = conn.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
                    pg_transaction = await conn.begin()
                    work = UnitOfWork(
                        lambda: AsyncSession(bind=conn, expire_on_commit=False),
                        self.clock.now(),
                        self.dialect,
                        conn,
                        adapted=(adapter, self._statements) if self._fast_pg else None,
                    )
                    info = conn.sync_connection.info  # type: ignore[union-attr]
                    own = None
                    # The adapter's lazy BEGIN is skipped, so SQLAlchemy's COMMIT has
                    # nothing to end. Set back below, before the pool has it back.
                    autocommit = not atomic and self._fast_pg
                    if autocommit:
                        adapter.autocommit = True
                    try:
                        if update_id is not None:
                            own = (update_id, self._bind_time(work.now))  # type: ignore[no-untyped-call]
                            info[_PENDING] = own
                            if not self._fast_pg:  # (only asyncpg's path takes it along)
                                await work.write_mark()
                        yield work
                        await work.write_mark()
                        if work.pending():
                            await work.session.flush()
                        await pg_transaction.commit()
                    except BaseException as exc:
                        if pg_transaction.is_active:  # (a failed flush rolled it back already)
                            await pg_transaction.rollback()
                        if update_id is not None and _is_mark_conflict(exc):
                            raise AlreadyHandled(update_id) from None
                        raise
                    finally:
                        if autocommit:
                            adapter.autocommit = False
                        # (The connection goes back to the pool. A lost one may be another
                        # unit of work's already: only this one's mark is taken.)
                        if own is not None and info.get(_PENDING) is own:
                            del info[_PENDING]
                        if work.opened is not None:
                            await work.opened.close()
            finally:
                if turn is not None:
                    turn.release()
                with contextlib.suppress(ValueError):  # (closed from another context)
                    _in_turn.reset(held)
            return
        # SQLite: one writer at a time anyway, so it keeps one connection instead of a pool
        # checkout and return per update; sessions join its transaction. Units of work that
        # queue up share a COMMIT (see _commit); each has a SAVEPOINT of its own.
        self._queued += 1
        try:
            await self._write_lock.acquire()
        except BaseException:
            self._queued -= 1
            self._settle()  # a transaction left to this task is committed by someone
            raise
        self._queued -= 1
        committed: asyncio.Future[None] | None = None
        try:
            if self._closed:
                raise RuntimeError("the database is closed")
            conn, raw, sessions = await self._writer()
            # Begin, commit, rollback and close are called on the synchronous objects: the
            # inline dialect never awaits for them, and the async wrappers cost a greenlet
            # switch each, and a shielded task for the close (three trips through the loop).
            sync = conn.sync_connection
            assert sync is not None
            group = self._group
            if group is None:
                if self._catch_up_due:
                    await self._catch_up()
                group = self._group = _Group(sync.begin())
            raw.execute("SAVEPOINT uow")
            uow: UnitOfWork | None = None
            try:
                uow = UnitOfWork(
                    sessions, self.clock.now(), self.dialect, conn, (raw, self._statements)
                )
                if update_id is not None:
                    self._mark_sqlite(raw, uow, update_id)
                yield uow
                if uow.opened is not None:
                    await uow.opened.commit()  # flushes, and releases its SAVEPOINT (_writer)
                raw.execute("RELEASE uow")
            except BaseException:
                if uow is not None and uow.opened is not None:
                    # (No trip through the loop: the inline dialect never waits.)
                    with contextlib.suppress(Exception):
                        await uow.opened.rollback()
                self._undo(sync, raw, group)
                raise
            finally:
                if uow is not None and uow.opened is not None:
                    uow.opened.sync_session.close()  # (nothing left open: no I/O)
            committed = asyncio.get_running_loop().create_future()
            group.members.append(committed)
            if self._queued == 0 or len(group.members) >= self.group_max:
                self._commit()
        finally:
            self._write_lock.release()
            if committed is None:
                self._settle()  # (this one failed; the transaction may hold others' work)
        await committed  # (set before this task runs again, unless a later member failed it)

    def _undo(self, sync: Any, raw: sqlite3.Connection, group: _Group) -> None:
        """A unit of work failed: back to its SAVEPOINT. If the transaction itself is gone
        (a refused COMMIT, an error SQLite ends it for), so is the work of the units
        waiting for its COMMIT: they fail too."""
        with contextlib.suppress(sqlite3.Error):
            if sync.get_transaction() is group.root and raw.in_transaction:
                raw.execute("ROLLBACK TO uow")
                raw.execute("RELEASE uow")
                return
        self._group = None
        try:
            self._end(sync, raw, group)
        finally:
            group.fail("rolled back with a unit of work that shared it")

    @staticmethod
    def _end(sync: Any, raw: sqlite3.Connection | None, group: _Group) -> None:
        """Roll back what is left of a transaction, on a connection that may be closed."""
        with contextlib.suppress(Exception):
            if sync is not None and sync.get_transaction() is group.root:
                group.root.rollback()
        with contextlib.suppress(sqlite3.Error):
            if raw is not None and raw.in_transaction:  # SQLite may keep its own open
                raw.rollback()

    def _commit(self) -> None:
        """COMMIT the open SQLite transaction: every unit of work in it is done (or failed,
        if the COMMIT is refused). One COMMIT for the units that queued up while one ran:
        at saturation, writing the log for each cost a twelfth of an update (issue 10)."""
        group, self._group = self._group, None
        if group is None:
            return
        try:
            group.root.commit()
        except Exception as exc:
            held = self._held
            try:
                self._end(
                    held[0].sync_connection if held else None, held[1] if held else None, group
                )
            finally:
                group.fail(f"COMMIT refused: {exc}", exc)
            return
        for member in group.members:
            if not member.done():
                member.set_result(None)
        self._after_commit(len(group.members))

    def _settle(self) -> None:
        """A task stopped waiting for the write lock: if a transaction was left open for it
        and nobody else comes, commit it now."""
        if self._group is not None and self._queued == 0 and not self._write_lock_locked():
            self._commit()

    def _write_lock_locked(self) -> bool:
        return self._write_lock is not None and self._write_lock.locked()

    async def _writer(
        self,
    ) -> tuple[AsyncConnection, sqlite3.Connection, async_sessionmaker[AsyncSession]]:
        if self._held is None or self._held[0].closed or self._held[0].invalidated:
            conn = await self.engine.connect()
            raw = (await conn.get_raw_connection()).driver_connection
            assert isinstance(raw, sqlite3.Connection)
            # A session works in a SAVEPOINT of its own: a failed flush rolls back that,
            # not the transaction other units of work wait to see committed.
            sessions = async_sessionmaker(
                bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
            self._held = conn, raw, sessions
        return self._held

    def _mark_sqlite(self, raw: sqlite3.Connection, uow: UnitOfWork, update_id: int) -> None:
        """The same insert straight to sqlite3 (statements run on this thread, see
        inline_sqlite): SQLAlchemy's execution path took 70 of the 80 µs it cost."""
        try:
            raw.execute(_MARK_SQL, (update_id, self._bind_time(uow.now)))  # type: ignore[no-untyped-call]
        except sqlite3.IntegrityError:
            raise AlreadyHandled(update_id) from None

    def _after_commit(self, units: int = 1) -> None:
        """Every few hundred commits the log is copied back into the database on a thread,
        while writers go on. The log only restarts from the top when a checkpoint caught up
        with every commit, which under steady load it never does: once a copy reports a long
        log, the next unit of work runs one more pass after its commit, still holding the
        write lock, so this process's writers wait for it (a few ms; the event loop goes on
        with everything else). A task waiting for the lock instead could wait for seconds
        behind a flood of updates while the log grew to 150 MB (measured)."""
        path = self._wal_file
        if path is None or self._closed:
            return
        self._commits += units
        copy = self._copy
        if copy is not None:
            if not copy.done():
                return
            self._copy = None
            if copy.exception() is not None:
                log.warning("WAL checkpoint failed: %s", copy.exception())
            elif copy.result() > CATCH_UP_FRAMES // 2:
                # Half: the log grew on while the copy ran and until this commit saw it done.
                self._catch_up_due = True
        if self._commits >= CHECKPOINT_EVERY and not self._catch_up_due:
            self._commits = 0
            # Handed to the thread now, not when the event loop next gets a turn.
            self._copy = self._copier.submit(_checkpoint_wal, path)

    async def _catch_up(self) -> None:
        """Called with the write lock held, outside any transaction."""
        assert self._wal_file is not None
        try:
            await asyncio.wrap_future(self._copier.submit(_checkpoint_wal, self._wal_file))
        except sqlite3.Error as exc:
            log.warning("WAL checkpoint failed: %s", exc)
        self._catch_up_due = False  # (still due if this task was cancelled)

    async def dispose(self) -> None:
        if self._write_lock is not None:
            async with self._write_lock:  # (after the unit of work that runs, if any)
                self._commit()  # (nobody will come for a transaction left open)
                self._closed = True
        self._closed = True
        if self._copy is not None:
            await asyncio.wait([asyncio.wrap_future(self._copy)])
        self._copier.shutdown(wait=False)
        if self._held is not None:
            await self._held[0].close()
            self._held = None
        await self.engine.dispose()


# Set while this task (or the task that started it) holds a PostgreSQL turn.
_in_turn: ContextVar[bool] = ContextVar("in_turn", default=False)

_MARK_HANDLED = insert(ProcessedUpdate).values(update_id=bindparam("u"), handled_at=bindparam("h"))
_MARK_SQL = "INSERT INTO processed_update (update_id, handled_at) VALUES (?, ?)"
# The key a second mark of the same update runs into.
_MARK_KEY = cast(Table, ProcessedUpdate.__table__).primary_key.name
# On PostgreSQL: where a unit of work's connection keeps the mark not written yet, and the
# statement that writes it when SQLAlchemy runs a statement first.
_PENDING = "buddybot_pending_mark"
_MARK_PG = MARK_INSERT.format(1, 2)

# SQLite: units of work that share one COMMIT at most; each waits for the last.
GROUP_MAX = 8


class TransactionLost(Exception):
    """The SQLite transaction this unit of work was done in did not commit."""


class _Group:
    """The open SQLite transaction, and the units of work in it waiting for its COMMIT."""

    def __init__(self, root: RootTransaction) -> None:
        self.root = root
        self.members: list[asyncio.Future[None]] = []

    def fail(self, why: str, cause: BaseException | None = None) -> None:
        for member in self.members:
            if not member.done():
                lost = TransactionLost(why)
                lost.__cause__ = cause
                member.set_exception(lost)


# Units of work between two checkpoints: a few hundred keeps the WAL at a few MB.
CHECKPOINT_EVERY = 300
# The log should not grow past this (pages of 4 kB: 64 MB, the journal_size_limit); a copy
# that finds it at half this length is followed by a catch-up pass with writers waiting.
# The log only restarts after such a pass, so it grows by every copy's worth (about 2,000
# pages for CHECKPOINT_EVERY updates): at 4,000 every copy was followed by a pass, and
# the updates that came in during its 7-9 ms made the p99 (issue 10: 4.4-11.5 -> 3.2-6.5
# ms at 300-400 updates/s).
CATCH_UP_FRAMES = 16_000


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
