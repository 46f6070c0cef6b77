"""The prepared path on PostgreSQL keeps what SQLAlchemy's own execution guarantees: one
transaction with the ORM, a connection dropped when a cancel leaves it in an unknown state,
statements prepared again after another process changed the schema."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from buddybot.clock import FakeClock
from buddybot.storage.db import Database
from buddybot.storage.models import IdeaEvent, Wijk
from tests.storage.test_prepared import _idea

PID = select(func.pg_backend_pid())
TITLE = select(Wijk.title).where(Wijk.id == bindparam("w"))
EVENTS = select(func.count()).select_from(IdeaEvent)


async def test_a_cancel_during_begin_loses_no_later_work(
    pg: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled while BEGIN is on the wire (shutdown cancels handlers): the next units of
    work on that pooled connection still commit what they write."""
    db = Database(pg, clock, pool_size=1, max_overflow=0)
    real = asyncpg.Connection.execute
    hang, began = asyncio.Event(), asyncio.Event()
    armed = [False]

    async def execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        result = await real(self, query, *args, **kwargs)
        if armed[0] and query.startswith("BEGIN"):
            armed[0] = False
            began.set()
            await hang.wait()  # the server began; the answer is late
        return result

    monkeypatch.setattr(asyncpg.Connection, "execute", execute)
    try:
        async with db.unit_of_work() as uow:  # one pooled connection, used before
            await uow.core(PID, None)
        armed[0] = True

        async def handle() -> None:
            async with db.unit_of_work(update_id=1):
                pass

        task = asyncio.create_task(handle())
        await began.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for update_id in (2, 3):
            async with db.unit_of_work(update_id=update_id):
                pass
    finally:
        await db.dispose()
    other = Database(pg, clock)
    try:
        async with other.unit_of_work() as uow:
            stored = (await uow.core(text("SELECT update_id FROM processed_update"), None)).all()
    finally:
        await other.dispose()
    assert sorted(row[0] for row in stored) == [2, 3]


async def test_a_column_changed_by_another_process_fails_once_not_forever(
    pg: str, clock: FakeClock
) -> None:
    """A migration run by another replica changes a column's type: the cached server-side
    statement is stale; it may fail once, then it is prepared again."""
    db = Database(pg, clock, pool_size=1, max_overflow=0)
    other = Database(pg, clock)
    try:
        for _ in range(2):
            async with db.unit_of_work() as uow:
                await uow.core(TITLE, {"w": 1})
        assert db._statements.get(TITLE, {"w": 1}) is not None  # the prepared path ran
        async with other.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE wijk ALTER COLUMN title TYPE varchar(300)"))
        failures = []
        for _ in range(3):
            try:
                async with db.unit_of_work() as uow:
                    await uow.core(TITLE, {"w": 1})
            except DBAPIError as exc:
                failures.append(type(exc.orig).__name__)
        assert len(failures) <= 1, failures
    finally:
        async with other.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE wijk ALTER COLUMN title TYPE varchar(255)"))
        await other.dispose()
        await db.dispose()


async def test_orm_flushes_and_prepared_statements_share_one_transaction(
    pg: str, db: Database, clock: FakeClock
) -> None:
    idea_id = await _idea(db, clock)
    add = insert(IdeaEvent).values(
        idea_id=bindparam("i"), actor_id=None, kind=bindparam("k"), detail=bindparam("d"),
        at=bindparam("a"),
    )  # fmt: skip
    params = {"i": idea_id, "k": "core", "d": {}, "a": clock.now()}

    def orm_event(kind: str) -> IdeaEvent:
        return IdeaEvent(idea_id=idea_id, kind=kind, detail={}, at=clock.now())

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.unit_of_work() as uow:
            uow.session.add(orm_event("orm"))
            await uow.core(add, params)  # flushes the ORM first
            uow.session.add(orm_event("orm2"))
            await uow.flush()
            await uow.core(add, params)
            raise Boom
    async with db.unit_of_work() as uow:
        assert (await uow.core(EVENTS, None)).scalar() == 0
        uow.session.add(orm_event("orm"))
        await uow.core(add, params)
        uow.session.add(orm_event("orm2"))
    async with db.unit_of_work() as uow:
        assert (await uow.core(EVENTS, None)).scalar() == 3
