"""Database outages for fault tests: connections that drop, a server that is away."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from buddybot.services import polls
from buddybot.storage.db import Database, make_engine
from tests.support.dbs import PG_ADMIN_URL


def drop_connections(db: Database) -> None:
    """Cut every connection the bot holds, as a server restart or a network failure does.

    PostgreSQL: an admin connection ends the backends of the bot's database. SQLite has no
    server; the next time the pool hands out a connection it is closed under the pool first,
    which is what a lost connection looks like to SQLAlchemy there."""
    if db.dialect == "postgresql":
        name = db.engine.url.database
        admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
        finally:
            admin.dispose()
        return

    def close_it(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.close()

    for engine in db.engines:
        event.listen(engine, "checkout", close_it, once=True)


def cut_at_commit(db: Database) -> None:
    """The next commit loses its connection just before the server hears it (the server
    rolls the transaction back)."""

    def cut(conn: Any) -> None:
        if db.dialect == "postgresql":
            drop_connections(db)
        else:
            conn.connection.dbapi_connection.close()

    for engine in db.engines:
        event.listen(engine, "commit", cut, once=True)


@contextmanager
def database_away(db: Database) -> Iterator[None]:
    """While the block runs, no connection to the database can be made, and the ones the
    pool held are gone (call ``await db.dispose()`` inside, from async code)."""
    refusals = []
    for engine in db.engines:
        dbapi = engine.dialect.loaded_dbapi

        def refuse(*_: Any, dbapi: Any = dbapi) -> None:
            raise dbapi.OperationalError("the database is away")

        event.listen(engine, "do_connect", refuse)
        refusals.append((engine, refuse))
    try:
        yield
    finally:
        for engine, refuse in refusals:
            event.remove(engine, "do_connect", refuse)


def close_fails_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The database is away just as the next vote closes: in the unit of work that closes it
    (after the command was recorded and the Telegram poll stopped), and for the poll's final
    count that Telegram sends on stopping it."""
    for name in ("close", "counts"):
        real = getattr(polls, name)

        def fail(*args: Any, name: str = name, real: Any = real, **kwargs: Any) -> Any:
            monkeypatch.setattr(polls, name, real)
            raise OperationalError(f"poll {name}", {}, Exception("the database went away"))

        monkeypatch.setattr(polls, name, fail)
