"""The per-person flood guard: a limit per minute, one warning, and no memory of people
who went quiet."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram.ext import AIORateLimiter

from buddybot.bot.shares import ACTING, GroupShares, OverShare, SharedRateLimiter
from buddybot.clock import FakeClock
from buddybot.handlers.flood import PRUNE_EVERY, WINDOW, FloodGuard
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


def test_a_persons_share_of_a_group_is_refused_at_once_not_queued() -> None:
    """Over their share, a person's next message into the group fails straight away (no
    wait in the limiter); other people and other chats go on."""
    shares = GroupShares(FakeClock(), limit=2)
    limiter = SharedRateLimiter(AIORateLimiter(group_max_rate=1, group_time_period=60), shares)

    async def send(user: int | None, chat: int, endpoint: str = "sendMessage") -> Any:
        ACTING.set(user)

        async def call(*args: Any, **kwargs: Any) -> bool:
            return True

        return await limiter.process_request(call, (), {}, endpoint, {"chat_id": chat}, None)

    async def main() -> list[Any]:
        await limiter.initialize()
        loop = asyncio.get_running_loop()
        out: list[Any] = []
        for user, chat, endpoint in [
            (7, -100, "sendMessage"),
            (7, -100, "editMessageText"),
            (7, -100, "sendMessage"),  # over the share: refused
            (7, -100, "getChatMember"),  # not a message: not counted
            (7, 7, "sendMessage"),  # the private chat: not the group's share
            (8, -200, "sendMessage"),
        ]:
            start = loop.time()
            try:
                await asyncio.create_task(send(user, chat, endpoint))
                out.append(("sent", round(loop.time() - start)))
            except OverShare as exc:
                out.append(("refused", exc.user_id, round(loop.time() - start)))
        await limiter.shutdown()
        return out

    assert run_virtual(main()) == [
        ("sent", 0),
        ("sent", 60),  # the group's own pacing: one a minute here
        ("refused", 7, 0),
        ("sent", 60),
        ("sent", 0),
        ("sent", 0),
    ]
