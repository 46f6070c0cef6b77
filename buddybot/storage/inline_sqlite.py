"""SQLite for the async engine without a thread hop per statement.

aiosqlite runs every statement on a worker thread and wakes the event loop when it is done:
per update that is a dozen round trips between two threads fighting over the GIL, and the
event loop mostly waits (measured in issue 10: about half of an update's time). SQLite on a
local file in WAL mode answers in microseconds, so this dialect calls ``sqlite3`` directly on
the event loop's thread, inside SQLAlchemy's greenlet, and never suspends.

The price: a statement blocks the loop while it runs. That is fine for the short statements
the bot runs, because ``Database`` queues writers on an asyncio lock (no two transactions of
this process ever wait on each other inside SQLite). Another *process* holding the write
lock stalls the loop until it lets go: read-only tools (``buddybot check``, ``export``) start
deferred transactions and never take it; stop the bot before ``buddybot purge`` on SQLite.
PostgreSQL is the database for more than one bot process.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor, ExecutionContext
from sqlalchemy.engine.url import URL
from sqlalchemy.util.concurrency import await_

DRIVER = "buddybot_inline"


class InlineSQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite, declared async so ``create_async_engine`` accepts it."""

    driver = DRIVER
    is_async = True
    supports_statement_cache = True
    has_terminate = False

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        if cls._is_url_file_db(url):
            return pool.AsyncAdaptedQueuePool
        return pool.StaticPool

    def connect(self, *cargs: Any, **cparams: Any) -> DBAPIConnection:
        # All tasks run on the loop's thread; only garbage collection of a lost connection
        # may come from elsewhere.
        cparams.setdefault("check_same_thread", False)
        cparams.setdefault("factory", _Connection)
        return super().connect(*cargs, **cparams)

    # AsyncConnection.execute insists that every statement awaits once; a coroutine that is
    # already done costs a greenlet switch, not a trip through the event loop.
    def do_execute(
        self,
        cursor: DBAPICursor,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None = None,
    ) -> None:
        await_(_done())
        super().do_execute(cursor, statement, parameters, context)  # type: ignore[no-untyped-call]

    def do_execute_no_params(
        self, cursor: DBAPICursor, statement: str, context: ExecutionContext | None = None
    ) -> None:
        await_(_done())
        super().do_execute_no_params(cursor, statement, context)  # type: ignore[no-untyped-call]

    def do_executemany(
        self,
        cursor: DBAPICursor,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None = None,
    ) -> None:
        await_(_done())
        super().do_executemany(cursor, statement, parameters, context)  # type: ignore[no-untyped-call]


async def _done() -> None:
    return None


class _Cursor(sqlite3.Cursor):
    async def _async_soft_close(self) -> None:
        """The async result calls this after a statement. Rows stay in the cursor; they are
        read on this same thread, so there is nothing to fetch ahead."""


class _Connection(sqlite3.Connection):
    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)


registry.register(f"sqlite.{DRIVER}", __name__, "InlineSQLiteDialect")


def inline_url(url: str | URL) -> URL:
    """``sqlite+aiosqlite://…`` (the URL operators write) as this dialect's URL."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        return parsed.set(drivername=f"sqlite+{DRIVER}")
    return parsed
