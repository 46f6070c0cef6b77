"""The database holds the schedule. Features plan due items; the tick claims and delivers them.

A claim is one conditional UPDATE (with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two
replicas or two overlapping ticks never take the same item. A claim carries a lease: when a
replica dies mid-delivery, the item becomes claimable again once the lease runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, delete, or_, select, update

from buddybot.redact import redact
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import DueItem, ProcessedUpdate
from buddybot.storage.queries import insert_ignore


class Status(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    SKIPPED = "skipped"  # no longer makes sense (e.g. the meeting already started)
    FAILED = "failed"  # gave up after max attempts
    CANCELLED = "cancelled"
    PAUSED = "paused"  # the bot left the wijk; resumes when it comes back


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base: timedelta
    cap: timedelta
    max_attempts: int

    def delay(self, attempts: int) -> timedelta:
        delay: timedelta = self.base * (2 ** max(attempts - 1, 0))
        return min(delay, self.cap)


def plan(
    uow: UnitOfWork,
    *,
    kind: str,
    key: str,
    due_at: datetime,
    wijk_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Plan work; planning the same key twice keeps the first plan."""
    insert_ignore(
        uow.session,
        DueItem,
        {
            "kind": kind,
            "key": key,
            "due_at": due_at,
            "wijk_id": wijk_id,
            "payload": payload or {},
            "status": Status.PENDING.value,
            "attempts": 0,
        },
        ["key"],
    )


def cancel(uow: UnitOfWork, key: str) -> None:
    uow.session.execute(
        update(DueItem)
        .where(DueItem.key == key, DueItem.status.in_([Status.PENDING, Status.PAUSED]))
        .values(status=Status.CANCELLED.value, done_at=uow.now)
    )


def cancel_prefix(uow: UnitOfWork, prefix: str) -> None:
    """Cancel every pending item whose key starts with ``prefix`` (e.g. a moved meeting)."""
    uow.session.execute(
        update(DueItem)
        .where(
            DueItem.key.startswith(prefix, autoescape=True),
            DueItem.status.in_([Status.PENDING, Status.PAUSED]),
        )
        .values(status=Status.CANCELLED.value, done_at=uow.now)
    )


def claim(uow: UnitOfWork, *, worker: str, limit: int, lease: timedelta) -> list[DueItem]:
    now = uow.now
    ready = or_(
        and_(DueItem.status == Status.PENDING, DueItem.due_at <= now),
        and_(DueItem.status == Status.CLAIMED, DueItem.lease_until < now),
    )
    pick = (
        select(DueItem.id)
        .where(ready)
        .order_by(DueItem.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = uow.session.scalars(
        update(DueItem)
        .where(DueItem.id.in_(pick.scalar_subquery()))
        .values(
            status=Status.CLAIMED.value,
            claimed_by=worker,
            lease_until=now + lease,
            attempts=DueItem.attempts + 1,
        )
        .returning(DueItem)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed, key=lambda item: (item.due_at, item.id))


def renew(uow: UnitOfWork, item: DueItem, worker: str, lease: timedelta) -> bool:
    """Extend this worker's claim just before delivering; False when the claim ran out and
    another worker may have taken the item (then this one must not send it)."""
    result = uow.session.execute(
        update(DueItem)
        .where(
            DueItem.id == item.id,
            DueItem.claimed_by == worker,
            DueItem.status == Status.CLAIMED,
            DueItem.attempts == item.attempts,
        )
        .values(lease_until=uow.now + lease)
        .returning(DueItem.id)
    )
    return result.scalar_one_or_none() is not None


def finish(uow: UnitOfWork, item: DueItem, worker: str, status: Status) -> None:
    """Record the outcome; only the worker that holds the claim may do so."""
    uow.session.execute(
        update(DueItem)
        .where(
            DueItem.id == item.id,
            DueItem.claimed_by == worker,
            DueItem.status == Status.CLAIMED,
        )
        .values(status=status.value, done_at=uow.now, lease_until=None)
    )


def retry(uow: UnitOfWork, item: DueItem, worker: str, policy: RetryPolicy, error: str) -> Status:
    """A delivery failed: try again later with backoff, or give up after max attempts.
    ``error`` is kept on the row with the token and the webhook secret masked: the error of
    a failed request can carry its URL."""
    if item.attempts >= policy.max_attempts:
        status, values = Status.FAILED, {"done_at": uow.now}
    else:
        status = Status.PENDING
        values = {"due_at": uow.now + policy.delay(item.attempts)}
    uow.session.execute(
        update(DueItem)
        .where(
            DueItem.id == item.id,
            DueItem.claimed_by == worker,
            DueItem.status == Status.CLAIMED,
        )
        .values(status=status.value, lease_until=None, last_error=redact(error)[:1000], **values)
    )
    return status


def pause_wijk(uow: UnitOfWork, wijk_id: int) -> None:
    uow.session.execute(
        update(DueItem)
        .where(DueItem.wijk_id == wijk_id, DueItem.status == Status.PENDING)
        .values(status=Status.PAUSED.value)
    )


def resume_wijk(uow: UnitOfWork, wijk_id: int) -> None:
    uow.session.execute(
        update(DueItem)
        .where(DueItem.wijk_id == wijk_id, DueItem.status == Status.PAUSED)
        .values(status=Status.PENDING.value)
    )


def prune_handled_updates(uow: UnitOfWork, older_than: timedelta) -> None:
    """Forget handled update ids after a while (Telegram reuses ids after a long pause)."""
    uow.session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.handled_at < uow.now - older_than)
    )
