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


async def _plan(db: Database, key: str, minutes: int, wijk_id: int | None = None) -> None:
    async with db.unit_of_work() as uow:
        await due.plan(
            uow,
            kind="notice",
            key=key,
            due_at=uow.now + timedelta(minutes=minutes),
            wijk_id=wijk_id,
        )


async def _claim(db: Database, worker: str = "w1", limit: int = 50) -> list[due.Claimed]:
    async with db.unit_of_work() as uow:
        return await due.claim(uow, worker=worker, limit=limit, lease=LEASE)


async def _status(db: Database, key: str) -> str:
    async with db.unit_of_work() as uow:
        row = await uow.session.scalar(select(DueItem).where(DueItem.key == key))
        assert row is not None
        return row.status


async def test_only_due_items_are_claimed_in_order_and_only_once(
    db: Database, clock: FakeClock
) -> None:
    await _plan(db, "late", 10)
    await _plan(db, "b", -1)
    await _plan(db, "a", -5)
    await _plan(db, "a", -5)  # planning twice keeps one plan
    first = await _claim(db)
    assert [c.key for c in first] == ["a", "b"]
    assert await _claim(db, "w2") == []
    async with db.unit_of_work() as uow:
        for item in first:
            await due.finish(uow, item, "w1", due.Status.DONE)
    clock.advance(timedelta(minutes=11))
    assert [c.key for c in await _claim(db, "w2")] == ["late"]


async def test_concurrent_claimers_never_share_an_item(db: Database) -> None:
    for i in range(30):
        await _plan(db, f"k{i}", -1)
    results = await asyncio.gather(*(_claim(db, f"w{n}", limit=7) for n in range(6)))
    keys = [c.key for batch in results for c in batch]
    assert len(keys) == len(set(keys)) == 30


async def test_failed_delivery_is_retried_with_backoff_then_given_up(
    db: Database, clock: FakeClock
) -> None:
    await _plan(db, "x", 0)
    (item,) = await _claim(db)
    async with db.unit_of_work() as uow:
        assert await due.retry(uow, item, "w1", POLICY, "boom") == due.Status.PENDING
    assert await _claim(db) == []  # not before the backoff
    clock.advance(timedelta(seconds=31))
    (item,) = await _claim(db)
    assert item.attempts == 2
    async with db.unit_of_work() as uow:
        await due.retry(uow, item, "w1", POLICY, "boom")
    clock.advance(timedelta(seconds=61))
    (item,) = await _claim(db)
    async with db.unit_of_work() as uow:
        assert await due.retry(uow, item, "w1", POLICY, "boom") == due.Status.FAILED
    clock.advance(timedelta(hours=1))
    assert await _claim(db) == []
    assert await _status(db, "x") == "failed"


async def test_a_claim_of_a_dead_worker_expires_and_only_its_holder_can_finish(
    db: Database, clock: FakeClock
) -> None:
    await _plan(db, "x", 0)
    (item,) = await _claim(db, "dead")
    clock.advance(LEASE + timedelta(seconds=1))
    (again,) = await _claim(db, "alive")
    async with db.unit_of_work() as uow:
        await due.finish(uow, item, "dead", due.Status.DONE)  # too late: not theirs now
    assert await _status(db, "x") == "claimed"
    async with db.unit_of_work() as uow:
        await due.finish(uow, again, "alive", due.Status.DONE)
    assert await _status(db, "x") == "done"


async def test_catch_up_after_downtime_takes_everything_overdue(
    db: Database, clock: FakeClock
) -> None:
    for i in range(5):
        await _plan(db, f"k{i}", i * 60)
    clock.advance(timedelta(days=1))
    assert len(await _claim(db)) == 5


async def test_work_pauses_while_the_bot_is_out_of_the_group(
    db: Database, clock: FakeClock
) -> None:
    async with db.unit_of_work() as uow:
        joined = await wijken.bot_added(uow, Policy(), ChatRef(-5, "group", "Wijk"), None)
    await _plan(db, "w", 1, joined.wijk_id)
    async with db.unit_of_work() as uow:
        await wijken.bot_removed(uow, -5)
    clock.advance(timedelta(minutes=2))
    assert await _claim(db) == []
    async with db.unit_of_work() as uow:
        await wijken.bot_added(uow, Policy(), ChatRef(-5, "group", "Wijk"), None)
    assert [c.key for c in await _claim(db)] == ["w"]
