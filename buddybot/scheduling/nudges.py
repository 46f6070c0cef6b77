"""The nudge job, run on every tick: claim the quiet ideas that are due, decide what goes
out, send it, record it, and release what could not be sent.

It reaches Telegram only through a ``Sender``, which the bot layer implements. Every
database step is a unit of work of its own; no unit of work waits for a message.
"""

from __future__ import annotations

import logging
from typing import Protocol

from buddybot.bot.lanes import Lanes
from buddybot.services import nudges, wijken
from buddybot.settings import Settings
from buddybot.storage.db import Database, UnitOfWork

log = logging.getLogger(__name__)


class SendFailed(Exception):
    """A nudge did not reach its chat; its ideas are tried again later."""


class Sender(Protocol):
    """How the nudge job talks to Telegram."""

    async def admins(self, tg_chat_id: int) -> list[int]:
        """The Telegram user ids of the group's admins."""
        ...

    async def group(self, wijk: nudges.WijkNudges, items: list[nudges.Item]) -> bool:
        """Post one combined nudge for ``items`` in the wijk's group. False when the group
        can no longer be written to; raises ``SendFailed`` when it should be tried again."""
        ...

    async def private(self, wijk: nudges.WijkNudges, item: nudges.Item) -> None:
        """Send ``item`` privately to each of its recipients (skipping those who blocked
        the bot); raises ``SendFailed`` when it should be tried again."""
        ...


async def run(db: Database, settings: Settings, sender: Sender) -> int:
    """Batch after batch until nothing is due (catch-up); returns the ideas claimed."""
    total = 0
    while True:
        claimed = await batch(db, settings, sender)
        total += claimed
        if claimed < settings.tick_batch:
            return total


async def batch(db: Database, settings: Settings, sender: Sender) -> int:
    """Claim due ideas, decide per wijk, send (wijken at the same time), record."""
    limit, lease = settings.tick_batch, settings.claim_lease

    def claim(uow: UnitOfWork) -> tuple[list[nudges.Claimed], list[int]]:
        claimed = nudges.claim(uow, limit=limit, lease=lease)
        # Only the last rung needs the group's admins; asking Telegram for every wijk
        # would spend the flood budget on calls that change nothing.
        steered = {c.wijk_id for c in claimed if c.for_facilitators}
        chats = [wijk.tg_chat_id for w in steered if (wijk := wijken.by_id(uow, w)) is not None]
        return claimed, chats

    claimed, chats = await db.run(claim)
    if not claimed:
        return 0
    admins = {chat: await sender.admins(chat) for chat in chats}
    work = await db.run(lambda uow: nudges.prepare(uow, claimed, admins))
    lanes = Lanes(settings.tick_concurrency)
    for w in work:
        await lanes.submit(w.wijk_id, send_wijk(db, settings, sender, w))
    await lanes.wait()
    if lanes.error is not None:
        raise lanes.error
    return len(claimed)


async def send_wijk(db: Database, settings: Settings, sender: Sender, w: nudges.WijkNudges) -> None:
    """One wijk's nudges, in order: the group message, then each private one. Each is
    recorded right after it went out, so a bot stopped between two sends sends again at
    most the one it was sending."""
    done: list[nudges.Item] = []
    held_until = w.held_until
    held = {i.idea_id for i in (*w.group, *w.private)}  # what this claim still holds
    lease = settings.claim_lease

    async def still_held(items: list[nudges.Item]) -> list[nudges.Item]:
        # Just before sending: a claim that ran out (this replica stalled) belongs to
        # whoever took it since, and an idea someone acted on needs no nudge. The whole
        # claim is renewed each time, so all its ideas keep sharing one ``held_until``.
        nonlocal held_until, held
        if not items:
            return []
        ids, until = sorted(held), held_until
        held, held_until = await db.run(lambda uow: nudges.hold(uow, ids, until, lease))
        return [i for i in items if i.idea_id in held]

    async def record(items: list[nudges.Item]) -> None:
        await db.run(lambda uow: nudges.sent(uow, items, w.wijk_id))
        done.extend(items)

    try:
        group = await still_held(w.group)
        if group and await sender.group(w, group):
            await record(group)
        for item in w.private:
            if await still_held([item]):
                await sender.private(w, item)
                await record([item])
    except SendFailed as exc:
        log.warning("nudges for wijk %s not sent: %s", w.wijk_id, exc)
        pending = sorted(held - {i.idea_id for i in done})
        retry_base, until = settings.retry_base, held_until
        await db.run(lambda uow: nudges.release(uow, pending, uow.now + retry_base, until))
