"""Delivers ``notice`` due items: a planned text for a wijk's group.

The simplest kind of scheduled work; it proves the tick (claim, deliver, retry) end to end.
Features plan their own kinds next to it.
"""

from __future__ import annotations

from telegram import Bot

from buddybot.bot import send
from buddybot.bot.runtime import Deps
from buddybot.i18n import t
from buddybot.scheduling.due import Status
from buddybot.services import wijken
from buddybot.storage.models import DueItem

KIND = "notice"


async def deliver(bot: Bot, deps: Deps, item: DueItem) -> Status:
    if item.wijk_id is None:
        return Status.SKIPPED
    wijk_id = item.wijk_id
    wijk = await deps.db.run(lambda uow: wijken.by_id(uow, wijk_id))
    if wijk is None or not wijk.active:
        return Status.SKIPPED
    chat_id, lang = wijk.tg_chat_id, wijk.language
    key = str(item.payload.get("key", ""))
    if not key.startswith("notice."):
        return Status.SKIPPED
    params = {k: str(v) for k, v in dict(item.payload.get("params", {})).items()}
    sent = await send.to_group(bot, deps, chat_id, t(lang, key, **params))
    return Status.DONE if sent is not None else Status.SKIPPED
