"""Statements run straight on the driver (sqlite3, or asyncpg under SQLAlchemy's adapter)
store and read exactly what SQLAlchemy would: the same text for times, the same JSON, the
same booleans; they fail as SQLAlchemy would and stay inside the unit of work's transaction;
whatever they cannot run still works through SQLAlchemy."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InvalidRequestError,
    MultipleResultsFound,
    NoResultFound,
)

from buddybot.clock import FakeClock
from buddybot.storage.db import Database
from buddybot.storage.models import Idea, IdeaEvent, Person, Wijk

_PEOPLE = select(Person.id, Person.first_name, Person.private_ok, Person.created_at).where(
    Person.tg_user_id.in_(bindparam("users", expanding=True))
)
_EVENTS = select(IdeaEvent.detail, IdeaEvent.at, IdeaEvent.kind).where(
    IdeaEvent.idea_id == bindparam("idea"), IdeaEvent.kind != "ignored"
)


async def _idea(db: Database, clock: FakeClock) -> int:
    now = clock.now()
    async with db.unit_of_work() as uow:
        wijk = Wijk(
            tg_chat_id=-1, title="Oost", language="nl", timezone="Europe/Amsterdam",
            settings={}, profile={}, active=True, created_at=now, updated_at=now,
        )  # fmt: skip
        uow.session.add(wijk)
        await uow.flush()
        idea = Idea(
            wijk_id=wijk.id, number=1, title="Moestuin", description="", themes=[],
            status="proposed", hidden=False, created_at=now, last_activity_at=now, nudge_level=0,
        )  # fmt: skip
        uow.session.add(idea)
        await uow.flush()
        return idea.id


async def test_written_straight_and_through_sqlalchemy_alike(
    db: Database, clock: FakeClock
) -> None:
    idea_id = await _idea(db, clock)
    at = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)  # no microseconds: the format still has them
    event = {"idea_id": idea_id, "actor_id": None, "kind": "vote", "at": at}
    async with db.unit_of_work() as uow:
        await uow.core(insert(IdeaEvent), {**event, "detail": {"poll": 1, "naam": "é"}})
        await uow.session.execute(insert(IdeaEvent), {**event, "detail": {"poll": 1, "naam": "é"}})
    async with db.unit_of_work() as uow:
        stored = (
            await uow.session.execute(
                text("SELECT detail, at FROM idea_event WHERE kind = 'vote' ORDER BY id")
            )
        ).all()
        assert stored[0] == stored[1]
        rows = (await uow.core(_EVENTS, {"idea": idea_id})).all()
        orm = (await uow.session.execute(_EVENTS, {"idea": idea_id})).all()
    assert [tuple(r) for r in orm] == list(rows)
    assert rows[0] == ({"poll": 1, "naam": "é"}, at, "vote")


async def test_an_expanding_list_goes_through_sqlalchemy(db: Database, clock: FakeClock) -> None:
    now = clock.now() - timedelta(microseconds=clock.now().microsecond)
    async with db.unit_of_work() as uow:
        for user, name in ((1, "Anna"), (2, "Bert"), (3, "Cor")):
            uow.session.add(
                Person(
                    tg_user_id=user,
                    first_name=name,
                    private_ok=user == 2,
                    erased=False,
                    created_at=now,
                    updated_at=now,
                )
            )
    async with db.unit_of_work() as uow:
        rows = (await uow.core(_PEOPLE, {"users": [1, 2]})).all()
        assert sorted((name, ok, at) for _, name, ok, at in rows) == [
            ("Anna", False, now),
            ("Bert", True, now),
        ]
        result = await uow.core(_PEOPLE, {"users": [1, 2]})
        with pytest.raises(MultipleResultsFound):
            result.one_or_none()
        result = await uow.core(_PEOPLE, {"users": [9]})
        assert result.one_or_none() is None
        assert result.scalar() is None
        with pytest.raises(NoResultFound):
            result.one()


async def test_a_statement_sees_what_the_orm_has_not_written_yet(
    db: Database, clock: FakeClock
) -> None:
    now = clock.now()
    async with db.unit_of_work() as uow:
        uow.session.add(
            Person(tg_user_id=5, first_name="Eva", erased=False, created_at=now, updated_at=now)
        )
        found = (await uow.core(_PEOPLE, {"users": [5]})).one()
        names = (await uow.core(select(Person.first_name), None)).scalars()
    assert found[1] == "Eva"
    assert names == ["Eva"]


async def test_a_column_default_is_filled_in_as_sqlalchemy_would(
    db: Database, clock: FakeClock
) -> None:
    idea_id = await _idea(db, clock)
    event = {"idea_id": idea_id, "actor_id": None, "kind": "vote", "at": clock.now()}
    async with db.unit_of_work() as uow:
        await uow.core(insert(IdeaEvent), event)  # no detail: the model's default is {}
        details = (await uow.core(select(IdeaEvent.detail), None)).scalars()
    assert details == [{}]


async def test_a_refused_write_raises_as_sqlalchemy_does(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    person = {"tg_user_id": 7, "first_name": "Eva", "erased": False, "private_ok": False}
    values = {**person, "created_at": now, "updated_at": now}
    async with db.unit_of_work() as uow:
        await uow.core(insert(Person), values)
    with pytest.raises(IntegrityError):
        async with db.unit_of_work() as uow:
            await uow.core(insert(Person), values)
    async with db.unit_of_work() as uow:  # and the next unit of work is fine
        assert (await uow.core(select(Person.first_name), None)).scalars() == ["Eva"]


_EVENT = insert(IdeaEvent).values(
    idea_id=bindparam("idea"), actor_id=None, kind=bindparam("kind"), detail=bindparam("d"),
    at=bindparam("at"),
)  # fmt: skip


async def test_a_prepared_first_statement_is_inside_the_transaction(
    db: Database, clock: FakeClock
) -> None:
    """The prepared path starts the transaction when it runs first (on PostgreSQL the
    adapter sends BEGIN lazily): a unit of work that fails keeps nothing it wrote."""
    idea_id = await _idea(db, clock)
    params = {"idea": idea_id, "kind": "gone", "d": {"a": 1}, "at": clock.now()}
    assert db._statements.get(_EVENT, params) is not None  # this test runs the prepared path

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.unit_of_work() as uow:
            await uow.core(_EVENT, params)
            raise Boom
    async with db.unit_of_work() as uow:
        await uow.core(_EVENT, {**params, "kind": "kept"})
    async with db.unit_of_work() as uow:
        kinds = (await uow.core(select(IdeaEvent.kind), None)).scalars()
    assert kinds == ["kept"]


async def test_a_refused_prepared_write_raises_as_sqlalchemy_does(
    db: Database, clock: FakeClock
) -> None:
    idea_id = await _idea(db, clock)
    params = {"idea": idea_id + 1000, "kind": "x", "d": {}, "at": clock.now()}  # no such idea
    assert db._statements.get(_EVENT, params) is not None
    with pytest.raises(IntegrityError):
        async with db.unit_of_work() as uow:
            await uow.core(_EVENT, params)
    async with db.unit_of_work() as uow:  # and the connection is fine for the next one
        await uow.core(_EVENT, {**params, "idea": idea_id})
        assert (await uow.core(select(IdeaEvent.idea_id), None)).scalars() == [idea_id]


async def test_after_a_server_restart_one_unit_of_work_fails_not_one_per_connection(
    database_url: str, clock: FakeClock
) -> None:
    """The server ends every pooled connection (a restart): the unit of work that meets it
    fails, and the pool replaces all of them, as SQLAlchemy's own execution does, instead
    of failing once more for each connection it still holds."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a server-side connection end: PostgreSQL only (BUDDYBOT_TEST_DB=postgresql)")
    db = Database(database_url, clock, pool_size=3, max_overflow=0)
    pid_of = select(func.pg_backend_pid())
    try:
        pids: set[int] = set()
        all_out = asyncio.Event()

        async def hold() -> None:  # three units of work at once: three pooled connections
            async with db.unit_of_work() as uow:
                pids.add((await uow.core(pid_of, None)).scalar())
                if len(pids) == 3:
                    all_out.set()
                await all_out.wait()

        await asyncio.gather(hold(), hold(), hold())
        assert db._statements.get(pid_of, None) is not None  # the prepared path ran
        other = Database(database_url, clock)
        async with other.unit_of_work() as uow:
            for pid in pids:
                await uow.core(select(func.pg_terminate_backend(bindparam("p"))), {"p": pid})
        await other.dispose()
        failed = 0
        for _ in range(4):
            try:
                async with db.unit_of_work() as uow:
                    assert (await uow.core(pid_of, None)).scalar() not in pids
            except DBAPIError:
                failed += 1
        assert failed == 1
    finally:
        await db.dispose()


async def test_a_missing_parameter_is_refused_as_sqlalchemy_does(
    db: Database, clock: FakeClock
) -> None:
    idea_id = await _idea(db, clock)
    async with db.unit_of_work() as uow:
        with pytest.raises(InvalidRequestError, match="value is required for bind parameter"):
            await uow.core(_EVENT, {"idea": idea_id, "kind": "x", "d": {}})  # no "at"
