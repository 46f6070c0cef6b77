"""The one repeating job: claim what is due in the database and deliver it.

Delivery keeps Telegram's pipe full: the wijken of a claimed batch are delivered at the
same time (at most ``tick_concurrency``), each wijk's items one after the other in due
order, and the next batch is claimed while the last wijken of this one are still sending.
The rate limiter, not the tick, decides how fast messages leave.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import Bot
from telegram.error import TelegramError
from telegram.ext import CallbackContext

from buddybot.bot.lanes import Lanes
from buddybot.bot.runtime import Deps, deps_of
from buddybot.scheduling import due
from buddybot.storage.models import DueItem

log = logging.getLogger(__name__)


async def tick_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    await run_tick(context.bot, deps_of(context))


async def run_tick(bot: Bot, deps: Deps) -> int:
    """Deliver everything due now, batch after batch; returns how many items were claimed."""
    retention = deps.settings.processed_retention
    await deps.db.run(lambda uow: due.prune_handled_updates(uow, retention))
    worker, batch, lease = deps.worker, deps.settings.tick_batch, deps.settings.claim_lease
    total = 0
    lanes = Lanes(deps.settings.tick_concurrency)
    try:
        while lanes.error is None:
            items = await deps.db.run(
                lambda uow: due.claim(uow, worker=worker, limit=batch, lease=lease)
            )
            total += len(items)
            for lane, own in _by_wijk(items):
                await lanes.submit(lane, _deliver_all(bot, deps, own))
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
    for hook in deps.tick_hooks:
        try:
            total += await hook(bot, deps)
        except Exception:
            log.exception("tick hook %s failed", getattr(hook, "__name__", hook))
    return total


def _by_wijk(items: list[DueItem]) -> list[tuple[object, list[DueItem]]]:
    """Items per wijk, in the order they were claimed (due order); an item without a wijk
    is a lane of its own."""
    lanes: dict[object, list[DueItem]] = {}
    for item in items:
        key = item.wijk_id if item.wijk_id is not None else ("item", item.id)
        lanes.setdefault(key, []).append(item)
    return list(lanes.items())


async def _deliver_all(bot: Bot, deps: Deps, items: list[DueItem]) -> None:
    for item in items:
        await _deliver(bot, deps, item)


async def _deliver(bot: Bot, deps: Deps, item: DueItem) -> None:
    worker, lease = deps.worker, deps.settings.claim_lease
    still_mine = await deps.db.run(lambda uow: due.renew(uow, item, worker, lease))
    if not still_mine:
        log.warning("claim on %s ran out before delivery; left to its new owner", item.key)
        return
    deliver = deps.deliverers.get(item.kind)
    try:
        if deliver is None:
            raise LookupError(f"no deliverer for kind {item.kind!r}")
        outcome = await deliver(bot, deps, item)
    except TelegramError as exc:
        log.warning("delivery of %s failed: %r", item.key, exc)
        await _retry(deps, item, repr(exc))
        return
    except Exception as exc:
        # A bug in one deliverer must not stop the others; the item is retried with backoff
        # and ends as "failed" after max attempts, with the error kept on the row.
        log.exception("delivery of %s crashed", item.key)
        await _retry(deps, item, repr(exc))
        return
    await deps.db.run(lambda uow: due.finish(uow, item, worker, outcome))


async def _retry(deps: Deps, item: DueItem, error: str) -> None:
    worker, policy = deps.worker, deps.retry
    await deps.db.run(lambda uow: due.retry(uow, item, worker, policy, error))
