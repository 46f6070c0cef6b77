"""Who administers a group, asked of Telegram and kept for a while.

Every lookup costs one call against the group's 20-per-minute budget, so answers are
cached and refreshed when a ``chat_member`` update says the admins changed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram import Bot
from telegram.error import TelegramError

from buddybot.clock import Clock

log = logging.getLogger(__name__)


class AdminCache:
    def __init__(self, clock: Clock, ttl: timedelta) -> None:
        self._clock = clock
        self._ttl = ttl
        self._admins: dict[int, tuple[datetime, dict[int, str]]] = {}

    async def admins(self, bot: Bot, chat_id: int) -> dict[int, str]:
        """Telegram user id -> display name of the group's human admins."""
        now = self._clock.now()
        cached = self._admins.get(chat_id)
        if cached and cached[0] > now:
            return cached[1]
        try:
            members = await bot.get_chat_administrators(chat_id)
        except TelegramError as exc:
            log.warning("could not read admins of chat %s: %s", chat_id, exc)
            return cached[1] if cached else {}
        found = {m.user.id: m.user.full_name for m in members if not m.user.is_bot}
        self._admins[chat_id] = (now + self._ttl, found)
        return found

    async def is_admin(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        return user_id in await self.admins(bot, chat_id)

    async def names(self, bot: Bot, chat_id: int) -> list[str]:
        return sorted((await self.admins(bot, chat_id)).values())

    def forget(self, chat_id: int) -> None:
        self._admins.pop(chat_id, None)

    def moved(self, old_chat_id: int, new_chat_id: int) -> None:
        self._admins.pop(old_chat_id, None)
        self._admins.pop(new_chat_id, None)
