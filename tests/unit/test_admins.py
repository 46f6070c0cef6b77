"""The admin cache across replicas: nothing kept while it cannot hear the others is
trusted later, and a change heard while Telegram is being asked is not overwritten."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from buddybot.bot.admins import AdminCache
from buddybot.clock import FakeClock

GROUP, FATIMA = -100, 7


class FakeSubscription:
    def __init__(self) -> None:
        self.lost = asyncio.Event()
        self.silent = False  # the other end vanished without closing the connection

    async def answers(self, within: float) -> bool:
        if self.silent:
            self.lost.set()
        return not self.silent

    async def close(self) -> None:
        self.lost.set()


class FakeNotices:
    """PostgreSQL's NOTIFY between replicas; ``connected`` lets the listener in."""

    shared = True

    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self.on_notice: Any = None
        self.subscriptions: list[FakeSubscription] = []
        self.subscribed = asyncio.Condition()

    async def listen(self, channel: str, on_notice: Any) -> FakeSubscription:
        await self.connected.wait()
        self.on_notice = on_notice
        subscription = FakeSubscription()
        async with self.subscribed:
            self.subscriptions.append(subscription)
            self.subscribed.notify_all()
        return subscription

    async def send(self, channel: str, payload: str) -> None:
        if self.on_notice is not None:
            self.on_notice(payload)


class FakeTelegram:
    id = 99  # the bot's own user id

    def __init__(self) -> None:
        self.admins = [FATIMA]
        self.asked = 0
        self.was_asked = asyncio.Event()
        self.answering: asyncio.Event | None = None  # set: hold the answer until released

    async def get_chat_administrators(self, chat_id: int) -> list[Any]:
        self.asked += 1
        self.was_asked.set()
        admins = list(self.admins)
        if self.answering is not None:
            await self.answering.wait()
        user = SimpleNamespace
        return [SimpleNamespace(user=user(id=u, full_name="Fatima", is_bot=False)) for u in admins]


async def _cache() -> tuple[AdminCache, FakeNotices, FakeTelegram]:
    notices = FakeNotices()
    cache = AdminCache(FakeClock(), timedelta(minutes=10), notices)  # type: ignore[arg-type]
    await cache.start()
    return cache, notices, FakeTelegram()


async def _listening() -> tuple[AdminCache, FakeNotices, FakeTelegram]:
    cache, notices, telegram = await _cache()
    notices.connected.set()
    async with asyncio.timeout(5):
        await cache.wait_listening()
    return cache, notices, telegram


async def test_an_answer_from_before_listening_is_not_trusted_after() -> None:
    cache, notices, telegram = await _cache()
    try:
        assert await cache.is_admin(telegram, GROUP, FATIMA)  # type: ignore[arg-type]
        telegram.admins = []  # removed; the other replica's notice reaches nobody here
        notices.connected.set()
        async with asyncio.timeout(5):
            await cache.wait_listening()
        assert not await cache.is_admin(telegram, GROUP, FATIMA)  # type: ignore[arg-type]
    finally:
        await cache.stop()


async def test_a_change_heard_while_asking_telegram_is_not_overwritten() -> None:
    cache, notices, telegram = await _listening()
    try:
        telegram.answering = asyncio.Event()
        asking = asyncio.create_task(cache.is_admin(telegram, GROUP, FATIMA))  # type: ignore[arg-type]
        await telegram.was_asked.wait()
        telegram.admins = []
        await notices.send("buddybot_admins", str(GROUP))  # another replica saw the change
        telegram.answering.set()
        assert await asking  # the answer Telegram gave before the change
        telegram.answering = None
        assert not await cache.is_admin(telegram, GROUP, FATIMA)  # type: ignore[arg-type]
        assert telegram.asked == 2
    finally:
        await cache.stop()


async def test_once_listening_an_answer_is_kept() -> None:
    cache, _, telegram = await _listening()
    try:
        for _ in range(3):
            assert await cache.is_admin(telegram, GROUP, FATIMA)  # type: ignore[arg-type]
        assert telegram.asked == 1
    finally:
        await cache.stop()


async def test_a_channel_that_silently_stops_answering_is_not_trusted() -> None:
    """The listening connection's other end vanished without closing it: no break is ever
    reported. The regular check finds it, and nothing kept from before is trusted."""
    notices = FakeNotices()
    cache = AdminCache(
        FakeClock(), timedelta(minutes=10), notices,  # type: ignore[arg-type]
        timedelta(0), check=timedelta(0),
    )  # fmt: skip
    telegram = FakeTelegram()
    await cache.start()
    try:
        notices.connected.set()
        async with asyncio.timeout(5):
            await cache.wait_listening()
        assert await cache.is_admin(telegram, GROUP, FATIMA)  # type: ignore[arg-type]
        assert await cache.is_admin(telegram, GROUP, FATIMA)  # type: ignore[arg-type]
        assert telegram.asked == 1
        telegram.admins = []  # removed; the notice from the other replica never arrives
        notices.subscriptions[0].silent = True
        async with asyncio.timeout(5), notices.subscribed:
            await notices.subscribed.wait_for(lambda: len(notices.subscriptions) == 2)
        assert not await cache.is_admin(telegram, GROUP, FATIMA)  # type: ignore[arg-type]
        assert telegram.asked == 2
    finally:
        await cache.stop()


class Failing:
    """This replica's way to the others, down for the first ``down`` notices."""

    shared = True

    def __init__(self, to: FakeNotices, down: int) -> None:
        self._to = to
        self.down = down
        self.tries = 0

    async def send(self, channel: str, payload: str) -> None:
        self.tries += 1
        if self.tries <= self.down:
            raise OSError("connection refused")
        await self._to.send(channel, payload)


async def test_a_change_the_others_could_not_be_told_of_is_told_later() -> None:
    """Telling the other replicas failed: they would let a removed admin act for a whole
    ``ttl``. The notice is sent again until it goes through."""
    other, notices, telegram = await _listening()  # another replica
    channel = Failing(notices, down=2)
    here = AdminCache(FakeClock(), timedelta(minutes=10), channel, timedelta(0))  # type: ignore[arg-type]
    try:
        assert await other.is_admin(telegram, GROUP, FATIMA)  # type: ignore[arg-type]
        telegram.admins = []
        await here.changed(GROUP)  # (a chat_member update reached this replica)
        assert here.unsent == 1 and other.heard == 0
        async with asyncio.timeout(5):
            await here.wait_told()
            await other.wait_heard(1)
        assert here.unsent == 0 and channel.tries == 3
        assert not await other.is_admin(telegram, GROUP, FATIMA)  # type: ignore[arg-type]
    finally:
        await here.stop()
        await other.stop()


async def test_a_change_is_not_told_for_longer_than_the_others_keep_anything() -> None:
    clock = FakeClock()
    channel = Failing(FakeNotices(), down=10**9)
    here = AdminCache(clock, timedelta(minutes=10), channel, timedelta(0))  # type: ignore[arg-type]
    try:
        await here.changed(GROUP)
        assert here.unsent == 1
        clock.advance(timedelta(minutes=10))  # every other replica's list has aged out
        async with asyncio.timeout(5):
            await here.wait_told()
        assert here.unsent == 0
    finally:
        await here.stop()


class PerChat:
    """A channel that refuses the chats in ``down``; a send that goes through waits for
    ``gate`` before it returns."""

    shared = True

    def __init__(self, down: set[str]) -> None:
        self.down = down
        self.gate = asyncio.Event()
        self.sending = asyncio.Event()
        self.told: list[str] = []

    async def send(self, channel: str, payload: str) -> None:
        if payload in self.down:
            raise OSError("connection refused")
        self.told.append(payload)
        self.sending.set()
        await self.gate.wait()


async def test_a_change_that_fails_while_an_older_one_is_told_is_told_too() -> None:
    channel = PerChat({str(GROUP)})
    here = AdminCache(FakeClock(), timedelta(minutes=10), channel, timedelta(0))  # type: ignore[arg-type]
    try:
        await here.changed(GROUP)  # not told
        channel.down = set()
        async with asyncio.timeout(5):
            await channel.sending.wait()  # told late, the answer still on its way
        channel.down = {str(GROUP)}
        await here.changed(GROUP)  # a newer change: not told either
        channel.gate.set()
        assert here.unsent == 1
        channel.down = set()
        async with asyncio.timeout(5):
            await here.wait_told()
        assert channel.told == [str(GROUP), str(GROUP)]
    finally:
        await here.stop()


async def test_a_change_is_told_until_ttl_after_the_latest_change() -> None:
    clock = FakeClock()
    channel = PerChat({str(GROUP)})
    channel.gate.set()
    here = AdminCache(clock, timedelta(minutes=10), channel, timedelta(0))  # type: ignore[arg-type]
    try:
        await here.changed(GROUP)  # not told
        clock.advance(timedelta(minutes=8))
        await here.changed(GROUP)  # again: others may keep a list from minute 5 until 15
        clock.advance(timedelta(minutes=2))
        channel.down = set()
        async with asyncio.timeout(5):
            await here.wait_told()
        assert channel.told == [str(GROUP)]
    finally:
        await here.stop()


async def test_a_change_that_comes_in_while_others_are_told_is_not_taken_for_an_old_one() -> None:
    clock = FakeClock()
    a, b = GROUP, GROUP - 1
    channel = PerChat({str(a), str(b)})
    here = AdminCache(clock, timedelta(minutes=10), channel, timedelta(0))  # type: ignore[arg-type]
    try:
        await here.changed(b)
        clock.advance(timedelta(minutes=1))
        await here.changed(a)  # a at minute 1
        clock.advance(timedelta(minutes=4))
        await here.changed(b)  # b again at minute 5
        clock.advance(timedelta(minutes=6))  # minute 11: a's change is old enough to drop
        channel.down = {str(a)}  # b goes through, slowly
        async with asyncio.timeout(5):
            await channel.sending.wait()
        await here.changed(a)  # a changes again now, and that fails too
        channel.gate.set()
        channel.down = set()
        async with asyncio.timeout(5):
            await here.wait_told()
        assert str(a) in channel.told  # the new change of a was told
    finally:
        await here.stop()
