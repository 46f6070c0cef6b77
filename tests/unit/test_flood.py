"""The per-person flood guard: a limit per minute, one warning, and no memory of people
who went quiet."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram.ext import AIORateLimiter

from buddybot.bot.shares import ACTING, GroupShares, SharedRateLimiter
from buddybot.clock import FakeClock
from buddybot.domain.minute_window import PRUNE_EVERY, WINDOW
from buddybot.handlers.flood import FloodGuard
from tests.support.virtual_time import run_virtual

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_over_the_limit_one_warning_then_silence_until_the_minute_is_over() -> None:
    guard = FloodGuard(limit=3)
    answers = [guard.allow(7, T0 + timedelta(seconds=i)) for i in range(6)]
    assert answers == [(True, False)] * 3 + [(False, True), (False, False), (False, False)]
    assert guard.allow(8, T0 + timedelta(seconds=6)) == (True, False)  # others go on
    assert guard.allow(7, T0 + WINDOW + timedelta(seconds=1)) == (True, False)


def test_people_who_went_quiet_are_forgotten() -> None:
    guard = FloodGuard(limit=3)
    for user in range(5 * PRUNE_EVERY):  # a busy city: every resident once
        guard.allow(user, T0)
    assert guard.tracked > PRUNE_EVERY
    later = T0 + WINDOW + timedelta(seconds=1)
    for i in range(PRUNE_EVERY):  # one resident keeps pressing (and gets warned)
        guard.allow(-1, later + timedelta(milliseconds=i))
    assert guard.tracked == 1
    assert guard.allow(-1, later + timedelta(seconds=2)) == (False, False)  # still limited


def test_every_send_into_a_group_counts_against_the_persons_share_and_none_is_refused() -> None:
    """Messages and edits into a group count for the person whose update caused them;
    lookups, private chats and the bot's own work do not. A send over the share still goes
    out (the guard stops the person's next update instead), paced only by Telegram's caps."""
    clock = FakeClock()
    shares = GroupShares(clock, limit=2)
    limiter = SharedRateLimiter(AIORateLimiter(group_max_rate=1, group_time_period=60), shares)

    async def send(user: int | None, chat: int, endpoint: str = "sendMessage") -> Any:
        ACTING.set(user)

        async def call(*args: Any, **kwargs: Any) -> bool:
            return True

        return await limiter.process_request(call, (), {}, endpoint, {"chat_id": chat}, None)

    async def main() -> list[tuple[bool, bool]]:
        await limiter.initialize()
        out: list[tuple[bool, bool]] = []
        for user, chat, endpoint in [
            (7, -100, "getChatMember"),  # not a message: not counted
            (7, 7, "sendMessage"),  # the private chat: not the group's share
            (None, -100, "sendMessage"),  # the bot's own work (a reminder): nobody's share
            (7, -100, "sendMessage"),
            (7, -100, "editMessageText"),  # an edit takes a slot too
            (7, -100, "sendMessage"),  # over the share: sent anyway
            (8, -200, "sendMessage"),
        ]:
            assert await asyncio.create_task(send(user, chat, endpoint)) is True
            out.append((shares.used_up(7, -100), shares.used_up(8, -200)))
        await limiter.shutdown()
        return out

    assert run_virtual(main()) == [(False, False)] * 4 + [(True, False)] * 3
    clock.advance(WINDOW)
    assert not shares.used_up(7, -100)  # a new minute, a new share
