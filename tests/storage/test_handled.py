"""An update is recorded as handled in the same transaction as its work, so a redelivered
update changes nothing; on PostgreSQL the record rides along with the unit of work's first
statement, whatever that statement is."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import pytest
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, InvalidRequestError

from buddybot.clock import FakeClock
from buddybot.storage.db import AlreadyHandled, Database
from buddybot.storage.models import IdeaEvent, ProcessedUpdate, Wijk
from tests.storage.test_prepared import _idea

EVENTS = select(func.count()).select_from(IdeaEvent)
HANDLED = select(ProcessedUpdate.update_id).order_by(ProcessedUpdate.update_id)
ADD = insert(IdeaEvent).values(
    idea_id=bindparam("i"), actor_id=None, kind="x", detail={}, at=bindparam("a")
)
LATEST = select(func.max(IdeaEvent.id).label("n")).cte("latest")
WITH_OWN_CTE = select(LATEST.c.n)
EXPANDING = select(func.count()).select_from(IdeaEvent).where(IdeaEvent.kind.in_(["x", "y"]))


async def _handled(db: Database) -> list[int]:
    async with db.unit_of_work() as uow:
        return [row[0] for row in (await uow.core(HANDLED)).all()]


async def test_a_redelivered_update_changes_nothing(db: Database, clock: FakeClock) -> None:
    idea_id = await _idea(db, clock)
    params = {"i": idea_id, "a": clock.now()}
    async with db.unit_of_work(update_id=5) as uow:
        await uow.core(ADD, params)
    with pytest.raises(AlreadyHandled):
        async with db.unit_of_work(update_id=5) as uow:
            with contextlib.suppress(IntegrityError):  # (a service's own refusal)
                await uow.core(ADD, params)
            await uow.core(ADD, params)
    async with db.unit_of_work() as uow:
        assert (await uow.core(EVENTS)).scalar() == 1
    assert await _handled(db) == [5]


@pytest.mark.parametrize(
    "first", [None, WITH_OWN_CTE, EXPANDING], ids=["no_statement", "own_with", "expanding"]
)
async def test_every_unit_of_work_of_an_update_records_it(
    db: Database, clock: FakeClock, first: object
) -> None:
    await _idea(db, clock)
    for update_id in (6, 7):
        async with db.unit_of_work(update_id=update_id) as uow:
            if first is not None:
                assert (await uow.core(first)).scalar() in (0, None)  # type: ignore[arg-type]
    with pytest.raises(AlreadyHandled):
        async with db.unit_of_work(update_id=6) as uow:
            if first is not None:
                await uow.core(first)  # type: ignore[arg-type]
    assert await _handled(db) == [6, 7]


TITLE = select(Wijk.title).where(Wijk.id == bindparam("w"))


async def test_a_first_statement_refused_before_sending_leaves_the_update_recorded(
    db: Database, clock: FakeClock
) -> None:
    """A first statement that fails before it reaches the database (here a missing value)
    took the update's mark with it on PostgreSQL; the mark must still be written."""
    await _idea(db, clock)
    async with db.unit_of_work(update_id=11) as uow:
        with pytest.raises(InvalidRequestError):
            await uow.core(TITLE, {})
        assert (await uow.core(TITLE, {"w": 1})).scalar() == "Oost"
    with pytest.raises(AlreadyHandled):
        async with db.unit_of_work(update_id=11) as uow:
            await uow.core(TITLE, {"w": 1})
    assert await _handled(db) == [11]


def _wijk(clock: FakeClock) -> Wijk:
    now = clock.now()
    return Wijk(
        tg_chat_id=-77, title="West", language="nl", timezone="Europe/Amsterdam",
        settings={}, profile={}, active=True, created_at=now, updated_at=now,
    )  # fmt: skip


async def test_a_redelivered_update_whose_first_statement_is_the_orms_stops_there(
    db: Database, clock: FakeClock
) -> None:
    """Redelivered, the update's own insert would break a key of its own first; what the
    caller sees is that the update was handled, not an error."""
    async with db.unit_of_work(update_id=12) as uow:
        uow.session.add(_wijk(clock))
    with pytest.raises(AlreadyHandled):
        async with db.unit_of_work(update_id=12) as uow:
            uow.session.add(_wijk(clock))
            await uow.flush()
    assert await _handled(db) == [12]


async def test_a_streamed_first_statement_still_leaves_the_update_recorded(
    pg: str, db: Database
) -> None:
    """A server-side cursor only opens a portal: the mark must not be put on it."""
    async with db.unit_of_work(update_id=41) as uow:
        conn = await uow.session.connection()
        async for _ in await conn.stream(select(Wijk.id)):
            pass
    assert await _handled(db) == [41]


async def test_a_unit_of_work_on_a_lost_connection_leaves_the_next_ones_mark_alone(
    pg: str, clock: FakeClock
) -> None:
    """A lost connection goes back to the pool at once; the next unit of work may get it
    (reconnected) while the first is still leaving. Only the first's mark is dropped."""
    db = Database(pg, clock, pool_size=1, max_overflow=0)
    lost, next_marked, first_left = asyncio.Event(), asyncio.Event(), asyncio.Event()
    pid_of = select(func.pg_backend_pid())

    async def first() -> None:
        try:
            async with db.unit_of_work(update_id=51) as uow:
                pid = (await uow.core(pid_of)).scalar()
                other = await asyncpg.connect(pg.replace("postgresql+asyncpg", "postgresql"))
                await other.execute("SELECT pg_terminate_backend($1)", pid)
                await other.close()
                try:
                    await uow.core(EVENTS)
                except DBAPIError:
                    lost.set()
                    await next_marked.wait()  # (a service's clean-up awaiting something)
                    raise
        finally:
            first_left.set()

    async def second() -> None:
        await lost.wait()
        async with db.unit_of_work(update_id=52):
            next_marked.set()
            await first_left.wait()

    try:
        async with asyncio.timeout(10):
            results = await asyncio.gather(first(), second(), return_exceptions=True)
        assert isinstance(results[0], DBAPIError) and results[1] is None
        assert await _handled(db) == [52]
    finally:
        await db.dispose()


# -- units of work that only read (atomic=False) -------------------------------------------


@pytest.mark.parametrize("first", [None, TITLE], ids=["no_statement", "a_read"])
async def test_a_redelivered_reading_update_is_refused_too(
    db: Database, clock: FakeClock, first: object
) -> None:
    idea_id = await _idea(db, clock)
    for _ in range(2):
        with contextlib.suppress(AlreadyHandled):
            async with db.unit_of_work(update_id=21, atomic=False) as uow:
                if first is not None:
                    assert (await uow.core(TITLE, {"w": 1})).scalar() == "Oost"
                await uow.core(ADD, {"i": idea_id, "a": clock.now()})  # (bookkeeping)
    async with db.unit_of_work() as uow:
        assert (await uow.core(EVENTS)).scalar() == 1
    assert await _handled(db) == [21]


async def test_a_reading_update_on_postgresql_commits_statement_by_statement(
    pg: str, db: Database, clock: FakeClock
) -> None:
    """No BEGIN and COMMIT around it: the mark is stored with the first statement, and
    stays when the update fails later (it only read; a redelivery is refused)."""
    await _idea(db, clock)
    with pytest.raises(RuntimeError):
        async with db.unit_of_work(update_id=22, atomic=False) as uow:
            assert (await uow.core(TITLE, {"w": 1})).scalar() == "Oost"
            assert await _handled(db) == [22]  # (seen from another connection)
            raise RuntimeError("the reply failed")
    assert await _handled(db) == [22]


async def test_after_a_reading_update_the_connection_is_transactional_again(
    pg: str, clock: FakeClock
) -> None:
    """One pooled connection: the unit of work after a reading one is whole or nothing."""
    db = Database(pg, clock, pool_size=1, max_overflow=0)
    try:
        idea_id = await _idea(db, clock)
        async with db.unit_of_work(update_id=23, atomic=False) as uow:
            await uow.core(TITLE, {"w": 1})
        with pytest.raises(RuntimeError):
            async with db.unit_of_work(update_id=24) as uow:
                await uow.core(ADD, {"i": idea_id, "a": clock.now()})
                raise RuntimeError("a later step failed")
        async with db.unit_of_work() as uow:
            assert (await uow.core(EVENTS)).scalar() == 0
        assert await _handled(db) == [23]
    finally:
        await db.dispose()
