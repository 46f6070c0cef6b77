"""The due-item tick on its own: fake deliverers and a FakeClock, no Telegram."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from buddybot.clock import FakeClock
from buddybot.scheduling import due, tick
from buddybot.settings import Settings
from buddybot.storage.db import Database
from buddybot.storage.models import DueItem

POLICY = due.RetryPolicy(timedelta(seconds=30), timedelta(minutes=10), max_attempts=3)


class Deliverer:
    """Records what it delivered; fails the first ``failures`` times with ``error``."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.delivered: list[str] = []
        self.failures = failures
        self.error = error or tick.DeliveryFailed("Timed out")

    async def __call__(self, item: DueItem) -> due.Status:
        await asyncio.sleep(0)  # a send takes a while: another tick may run meanwhile
        if self.failures:
            self.failures -= 1
            raise self.error
        self.delivered.append(item.key)
        return due.Status.DONE


async def _tick(db: Database, deliver: Deliverer, worker: str = "w1", batch: int = 200) -> int:
    settings = Settings(_env_file=None, tick_batch=batch)
    return await tick.run(db, settings, {"notice": deliver}, worker=worker, retry=POLICY)


def _plan(db: Database, key: str, minutes: int = 0) -> None:
    with db.transaction() as uow:
        due.plan(uow, kind="notice", key=key, due_at=uow.now + timedelta(minutes=minutes))


def _row(db: Database, key: str) -> DueItem:
    with db.transaction() as uow:
        row = uow.session.scalar(select(DueItem).where(DueItem.key == key))
        assert row is not None
        uow.session.expunge(row)
        return row


async def test_a_due_item_is_delivered_once_when_due(db: Database, clock: FakeClock) -> None:
    deliver = Deliverer()
    _plan(db, "later", minutes=10)
    _plan(db, "now")
    assert await _tick(db, deliver) == 1
    assert await _tick(db, deliver) == 0
    assert deliver.delivered == ["now"]
    assert _row(db, "now").status == due.Status.DONE
    clock.advance(timedelta(minutes=10))
    assert await _tick(db, deliver) == 1
    assert deliver.delivered == ["now", "later"]


async def test_a_failed_delivery_is_tried_again_after_the_backoff(
    db: Database, clock: FakeClock
) -> None:
    deliver = Deliverer(failures=2)
    _plan(db, "n1")
    await _tick(db, deliver)
    row = _row(db, "n1")
    assert (row.status, row.attempts, row.last_error) == (due.Status.PENDING, 1, "Timed out")
    await _tick(db, deliver)
    assert deliver.delivered == []  # waits for the backoff
    clock.advance(timedelta(seconds=30))
    await _tick(db, deliver)  # fails again: the next wait is twice as long
    clock.advance(timedelta(seconds=59))
    await _tick(db, deliver)
    assert deliver.delivered == []
    clock.advance(timedelta(seconds=1))
    await _tick(db, deliver)
    assert deliver.delivered == ["n1"]
    assert _row(db, "n1").status == due.Status.DONE


async def test_a_crashing_deliverer_gives_up_after_max_attempts(
    db: Database, clock: FakeClock
) -> None:
    deliver = Deliverer(failures=99, error=RuntimeError("bug"))
    _plan(db, "n1")
    for _ in range(POLICY.max_attempts):
        await _tick(db, deliver)
        clock.advance(POLICY.cap)
    row = _row(db, "n1")
    assert (row.status, row.last_error) == (due.Status.FAILED, "RuntimeError('bug')")


async def test_an_unknown_kind_is_retried_not_lost(db: Database) -> None:
    with db.transaction() as uow:
        due.plan(uow, kind="mystery", key="m1", due_at=uow.now)
    await _tick(db, Deliverer())
    row = _row(db, "m1")
    assert row.status == due.Status.PENDING and "no deliverer" in str(row.last_error)


async def test_a_claimed_item_is_delivered_by_one_worker_only(
    db: Database, clock: FakeClock
) -> None:
    for i in range(6):
        _plan(db, f"n{i}")
    first, second = Deliverer(), Deliverer()
    await asyncio.gather(_tick(db, first, "w1", batch=2), _tick(db, second, "w2", batch=2))
    assert sorted(first.delivered + second.delivered) == [f"n{i}" for i in range(6)]


async def test_a_claim_held_elsewhere_is_not_delivered(db: Database, clock: FakeClock) -> None:
    _plan(db, "n1")
    with db.transaction() as uow:
        due.claim(uow, worker="elsewhere", limit=10, lease=timedelta(minutes=5))
    deliver = Deliverer()
    assert await _tick(db, deliver) == 0
    clock.advance(timedelta(minutes=5, seconds=1))  # that worker died: its lease ran out
    assert await _tick(db, deliver) == 1
    assert deliver.delivered == ["n1"]
