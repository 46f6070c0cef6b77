"""Each person's share of what the bot posts in a group.

Telegram lets a bot send 20 messages a minute into one group, and what is over waits in
the rate limiter, in order. Without a share per person, one resident asking for thirty
answers in a minute makes everyone else wait minutes behind them. So every message or
edit the bot sends into a group while handling someone's update (commands, replies to the
bot, buttons, and the card edits they start in the background) counts against that
person's share of that group.

The share is enforced before an update is handled, never halfway: the flood guard
(``handlers.flood``) does not handle a person's next command, reply or press in a group
where their share is used up. A send is only counted, never refused, so an update that was
let in always finishes: a saved change is always announced and a card never stays stale.
One update can go over the share by the few messages it sends; the next one is stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any

from telegram.ext import AIORateLimiter, BaseRateLimiter

from buddybot.clock import Clock
from buddybot.domain.minute_window import MinuteWindow

# The Telegram user whose update is being handled (set by the flood guard for every
# update; a task started while handling it, like a card edit, inherits it).
ACTING: ContextVar[int | None] = ContextVar("buddybot_acting", default=None)

# What Telegram counts against a group's 20 a minute.
COUNTED = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendPoll",
        "sendMediaGroup",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
    }
)


class GroupShares:
    """Per person per group: the sends of the last minute, against ``limit``."""

    def __init__(self, clock: Clock, limit: int) -> None:
        self.limit = limit
        self._clock = clock
        self._window: MinuteWindow[tuple[int, int]] = MinuteWindow()

    def used_up(self, user_id: int, chat_id: int) -> bool:
        return self._window.count((user_id, chat_id), self._clock.now()) >= self.limit

    def charge(self, user_id: int, chat_id: int) -> None:
        """Count one send into the group."""
        self._window.add((user_id, chat_id), self._clock.now())

    def first_refusal(self, user_id: int, chat_id: int) -> bool:
        """True once a minute per person and group: when to tell them why."""
        return self._window.warn_once((user_id, chat_id), self._clock.now())


def _group(data: dict[str, Any]) -> int | None:
    chat_id = data.get("chat_id")
    if isinstance(chat_id, str):
        try:
            chat_id = int(chat_id)
        except ValueError:
            return None
    return chat_id if isinstance(chat_id, int) and chat_id < 0 else None


class SharedRateLimiter(BaseRateLimiter[int]):
    """PTB's ``AIORateLimiter`` (Telegram's caps), counting each send into a group against
    the share of the person whose update caused it."""

    def __init__(self, inner: AIORateLimiter, shares: GroupShares) -> None:
        self.inner = inner
        self.shares = shares

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        user_id, chat_id = ACTING.get(), _group(data)
        if user_id is not None and chat_id is not None and endpoint in COUNTED:
            self.shares.charge(user_id, chat_id)
        return await self.inner.process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )
