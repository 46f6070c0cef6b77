"""Per-person flood limit: one person hammering commands or buttons gets one polite answer,
then is ignored until the minute is over. Other people and chats are not slowed down."""

from __future__ import annotations

from collections import deque
from contextlib import suppress
from datetime import datetime, timedelta

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from buddybot.bot.context import BotContext
from buddybot.i18n import supported, t

WINDOW = timedelta(minutes=1)
PRUNE_EVERY = 1000  # calls between two sweeps of people who went quiet


class FloodGuard:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: dict[int, deque[datetime]] = {}
        self._warned: dict[int, datetime] = {}
        self._calls = 0

    @property
    def tracked(self) -> int:
        """People the guard keeps anything about."""
        return len(self._seen.keys() | self._warned.keys())

    def allow(self, user_id: int, now: datetime) -> tuple[bool, bool]:
        """(allowed, warn now)."""
        self._calls += 1
        if self._calls % PRUNE_EVERY == 0:
            self._prune(now)
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

    def _prune(self, now: datetime) -> None:
        """Forget everyone quiet for a whole window: otherwise a city's bot keeps an entry
        for every resident who ever sent a command, for as long as it runs."""
        cutoff = now - WINDOW
        self._seen = {u: times for u, times in self._seen.items() if times and times[-1] > cutoff}
        self._warned = {u: at for u, at in self._warned.items() if at > cutoff}


async def guard(flood: FloodGuard, update: object, context: BotContext) -> None:
    """Runs before every other handler (group -1); stops the update when over the limit."""
    if not isinstance(update, Update) or update.effective_user is None:
        return
    if update.message is None and update.callback_query is None:
        return  # member changes, polls and votes are not flooding
    if update.message is not None and not (update.message.text or "").startswith("/"):
        return  # ordinary talk in the group is not for the bot
    deps = context.deps
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
