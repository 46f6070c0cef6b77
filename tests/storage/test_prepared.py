"""Statements run straight on sqlite3 store and read exactly what SQLAlchemy would: the same
text for times, the same JSON, the same booleans; and whatever they cannot run still works
through SQLAlchemy. On PostgreSQL the same calls go through SQLAlchemy (same results)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError, MultipleResultsFound, NoResultFound

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
