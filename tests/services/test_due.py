"""The schedule in the database: claimed once, retried with backoff, caught up, paused."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from buddybot.clock import FakeClock
from buddybot.scheduling import due
from buddybot.services import wijken
from buddybot.services.people import Policy
from buddybot.services.refs import ChatRef
from buddybot.storage.db import Database
from buddybot.storage.models import DueItem

LEASE = timedelta(minutes=5)
POLICY = due.RetryPolicy(timedelta(seconds=30), timedelta(minutes=10), max_attempts=3)


def _plan(db: Database, key: str, minutes: int, wijk_id: int | None = None) -> None:
    with db.transaction() as uow:
        due.plan(
            uow,
            kind="notice",
            key=key,
            due_at=uow.now + timedelta(minutes=minutes),
            wijk_id=wijk_id,
        )


def _claim(db: Database, worker: str = "w1", limit: int = 50) -> list[DueItem]:
    with db.transaction() as uow:
        return due.claim(uow, worker=worker, limit=limit, lease=LEASE)


def _status(db: Database, key: str) -> str:
    with db.transaction() as uow:
        row = uow.session.scalar(select(DueItem).where(DueItem.key == key))
        assert row is not None
        return row.status


async def test_only_due_items_are_claimed_in_order_and_only_once(
    db: Database, clock: FakeClock
) -> None:
    _plan(db, "late", 10)
    _plan(db, "b", -1)
    _plan(db, "a", -5)
    _plan(db, "a", -5)  # planning twice keeps one plan
    first = _claim(db)
    assert [c.key for c in first] == ["a", "b"]
    assert _claim(db, "w2") == []
    with db.transaction() as uow:
        for item in first:
            due.finish(uow, item, "w1", due.Status.DONE)
    clock.advance(timedelta(minutes=11))
    assert [c.key for c in _claim(db, "w2")] == ["late"]


async def test_concurrent_claimers_never_share_an_item(db: Database) -> None:
    for i in range(30):
        _plan(db, f"k{i}", -1)
    results = await asyncio.gather(
        *(asyncio.to_thread(_claim, db, f"w{n}", limit=7) for n in range(6))
    )
    keys = [c.key for batch in results for c in batch]
    assert len(keys) == len(set(keys)) == 30


async def test_failed_delivery_is_retried_with_backoff_then_given_up(
    db: Database, clock: FakeClock
) -> None:
    _plan(db, "x", 0)
    (item,) = _claim(db)
    with db.transaction() as uow:
        assert due.retry(uow, item, "w1", POLICY, "boom") == due.Status.PENDING
    assert _claim(db) == []  # not before the backoff
    clock.advance(timedelta(seconds=31))
    (item,) = _claim(db)
    assert item.attempts == 2
    with db.transaction() as uow:
        due.retry(uow, item, "w1", POLICY, "boom")
    clock.advance(timedelta(seconds=61))
    (item,) = _claim(db)
    with db.transaction() as uow:
        assert due.retry(uow, item, "w1", POLICY, "boom") == due.Status.FAILED
    clock.advance(timedelta(hours=1))
    assert _claim(db) == []
    assert _status(db, "x") == "failed"


async def test_a_claim_of_a_dead_worker_expires_and_only_its_holder_can_finish(
    db: Database, clock: FakeClock
) -> None:
    _plan(db, "x", 0)
    (item,) = _claim(db, "dead")
    clock.advance(LEASE + timedelta(seconds=1))
    (again,) = _claim(db, "alive")
    with db.transaction() as uow:
        due.finish(uow, item, "dead", due.Status.DONE)  # too late: not theirs now
    assert _status(db, "x") == "claimed"
    with db.transaction() as uow:
        due.finish(uow, again, "alive", due.Status.DONE)
    assert _status(db, "x") == "done"


async def test_catch_up_after_downtime_takes_everything_overdue(
    db: Database, clock: FakeClock
) -> None:
    for i in range(5):
        _plan(db, f"k{i}", i * 60)
    clock.advance(timedelta(days=1))
    assert len(_claim(db)) == 5


async def test_work_pauses_while_the_bot_is_out_of_the_group(
    db: Database, clock: FakeClock
) -> None:
    with db.transaction() as uow:
        joined = wijken.bot_added(uow, Policy(), ChatRef(-5, "group", "Wijk"), None)
    _plan(db, "w", 1, joined.wijk_id)
    with db.transaction() as uow:
        wijken.bot_removed(uow, -5)
    clock.advance(timedelta(minutes=2))
    assert _claim(db) == []
    with db.transaction() as uow:
        wijken.bot_added(uow, Policy(), ChatRef(-5, "group", "Wijk"), None)
    assert [c.key for c in _claim(db)] == ["w"]
