"""Sending to a wijk's group, surviving the two ways a group can move away."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, Message
from telegram.error import ChatMigrated, Forbidden

from buddybot.bot.runtime import Deps
from buddybot.services import wijken

log = logging.getLogger(__name__)


async def to_group(bot: Bot, deps: Deps, chat_id: int, text: str, **kwargs: Any) -> Message | None:
    """Send to a group. A migrated group is followed to its new id (and the wijk updated);
    a group that removed the bot deactivates its wijk and the message is dropped (None)."""
    try:
        return await bot.send_message(chat_id, text, **kwargs)
    except ChatMigrated as exc:
        new_id = exc.new_chat_id
        await deps.db.run(lambda uow: wijken.migrated(uow, chat_id, new_id))
        await deps.admins.changed(chat_id, new_id)
        return await bot.send_message(new_id, text, **kwargs)
    except Forbidden as exc:
        log.info("bot can no longer write to %s (%s); wijk deactivated", chat_id, exc.message)
        await deps.db.run(lambda uow: wijken.bot_removed(uow, chat_id))
        return None
