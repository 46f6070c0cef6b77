"""Due items: claim what is due in the database and deliver it, batch after batch.

It reaches Telegram only through the deliverers handed in (due-item kind -> an async
callable), which the bot layer implements. Each item is delivered at most once per claim:
the claim is renewed just before delivery, and only the worker holding it records the
outcome. A failed delivery is tried again later with backoff (``due.retry``).

Delivery keeps Telegram's pipe full: the wijken of a claimed batch are delivered at the
same time (at most ``tick_concurrency``), each wijk's items one after the other in due
order, and the next batch is claimed while the last wijken of this one are still sending.
The rate limiter, not the tick, decides how fast messages leave.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from buddybot.bot.lanes import Lanes
from buddybot.scheduling import due
from buddybot.settings import Settings
from buddybot.storage.db import Database
from buddybot.storage.models import DueItem

log = logging.getLogger(__name__)

Deliver = Callable[[DueItem], Awaitable[due.Status]]


class DeliveryFailed(Exception):
    """The item did not reach its chat (Telegram refused or could not be reached); it is
    tried again later."""


async def run(
    db: Database,
    settings: Settings,
    deliverers: Mapping[str, Deliver],
    *,
    worker: str,
    retry: due.RetryPolicy,
) -> int:
    """Deliver everything due now, batch after batch; returns how many items were claimed."""
    retention = settings.processed_retention
    await db.run(lambda uow: due.prune_handled_updates(uow, retention))
    batch, lease = settings.tick_batch, settings.claim_lease
    delivery = _Delivery(db, deliverers, worker, lease, retry)
    total = 0
    lanes = Lanes(settings.tick_concurrency)
    try:
        while lanes.error is None:
            items = await db.run(
                lambda uow: due.claim(uow, worker=worker, limit=batch, lease=lease)
            )
            total += len(items)
            for lane, own in _by_wijk(items):
                await lanes.submit(lane, delivery.all(own))
            if len(items) < batch:
                break
    except BaseException as exc:
        if isinstance(exc, asyncio.CancelledError):
            lanes.cancel()
        await lanes.wait()
        raise
    await lanes.wait()
    if lanes.error is not None:
        raise lanes.error
    return total


def _by_wijk(items: list[DueItem]) -> list[tuple[object, list[DueItem]]]:
    """Items per wijk, in the order they were claimed (due order); an item without a wijk
    is a lane of its own."""
    lanes: dict[object, list[DueItem]] = {}
    for item in items:
        key = item.wijk_id if item.wijk_id is not None else ("item", item.id)
        lanes.setdefault(key, []).append(item)
    return list(lanes.items())


@dataclass(frozen=True, slots=True)
class _Delivery:
    db: Database
    deliverers: Mapping[str, Deliver]
    worker: str
    lease: timedelta
    retry: due.RetryPolicy

    async def all(self, items: list[DueItem]) -> None:
        for item in items:
            await self.one(item)

    async def one(self, item: DueItem) -> None:
        worker, lease = self.worker, self.lease
        still_mine = await self.db.run(lambda uow: due.renew(uow, item, worker, lease))
        if not still_mine:
            log.warning("claim on %s ran out before delivery; left to its new owner", item.key)
            return
        deliver = self.deliverers.get(item.kind)
        try:
            if deliver is None:
                raise LookupError(f"no deliverer for kind {item.kind!r}")
            outcome = await deliver(item)
        except DeliveryFailed as exc:
            log.warning("delivery of %s failed: %s", item.key, exc)
            await self._retry(item, str(exc))
            return
        except Exception as exc:
            # A bug in one deliverer must not stop the others; the item is retried with
            # backoff and ends as "failed" after max attempts, with the error kept on the row.
            log.exception("delivery of %s crashed", item.key)
            await self._retry(item, repr(exc))
            return
        await self.db.run(lambda uow: due.finish(uow, item, worker, outcome))

    async def _retry(self, item: DueItem, error: str) -> None:
        worker, policy = self.worker, self.retry
        await self.db.run(lambda uow: due.retry(uow, item, worker, policy, error))
