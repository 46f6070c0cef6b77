"""Per-person flood limit: one person hammering commands or buttons gets one polite answer,
then is ignored until the minute is over. Other people and chats are not slowed down."""

from __future__ import annotations

from collections import deque
from contextlib import suppress
from datetime import datetime, timedelta

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, TypeHandler

from buddybot.app import BotApp
from buddybot.bot.runtime import deps_of
from buddybot.i18n import supported, t
from handlers.common import Context

WINDOW = timedelta(minutes=1)


class FloodGuard:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: dict[int, deque[datetime]] = {}
        self._warned: dict[int, datetime] = {}

    def allow(self, user_id: int, now: datetime) -> tuple[bool, bool]:
        """(allowed, warn now)."""
        times = self._seen.setdefault(user_id, deque())
        while times and times[0] <= now - WINDOW:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            return True, False
        warned = self._warned.get(user_id)
        if warned is None or warned <= now - WINDOW:
            self._warned[user_id] = now
            return False, True
        return False, False


async def guard(update: object, context: Context) -> None:
    if not isinstance(update, Update) or update.effective_user is None:
        return
    if update.message is None and update.callback_query is None:
        return  # member changes, polls and votes are not flooding
    if update.message is not None and not (update.message.text or "").startswith("/"):
        return  # ordinary talk in the group is not for the bot
    deps = deps_of(context)
    flood: FloodGuard = context.bot_data["flood"]
    allowed, warn = flood.allow(update.effective_user.id, deps.clock.now())
    if allowed:
        return
    if warn:
        lang = supported(update.effective_user.language_code) or deps.policy.default_language
        text = t(lang, "flood.slow_down")
        with suppress(TelegramError):
            if update.callback_query is not None:
                await update.callback_query.answer(str(text), show_alert=True)
            elif update.effective_message is not None:
                await update.effective_message.reply_text(text)
    elif update.callback_query is not None:
        with suppress(TelegramError):
            await update.callback_query.answer()
    raise ApplicationHandlerStop


def register(app: BotApp) -> None:
    deps = app.bot_data["deps"]
    app.bot_data["flood"] = FloodGuard(deps.settings.person_actions_per_minute)
    app.add_handler(TypeHandler(Update, guard), group=-1)
