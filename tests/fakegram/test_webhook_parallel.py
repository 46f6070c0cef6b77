"""Webhook pushes in parallel, as Telegram does: up to ``max_connections`` at once, one at a
time per chat, and an update leaves the queue only after a 2xx answer."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from telegram.ext import Application

from buddybot.fakegram import FakegramClient, FakegramServer

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

AppT = Application  # type: ignore[type-arg]
JSON = dict[str, Any]
LIMIT = 5.0  # seconds to wait for any condition below


@dataclass
class Receiver:
    """A webhook endpoint that can hold requests (``gate``) and fail chosen attempts."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    fail_first: set[int] = field(default_factory=set)  # update ids answered 500 once
    attempts: Counter[int] = field(default_factory=Counter)
    accepted: list[JSON] = field(default_factory=list)  # answered 200, in arrival order
    in_flight: dict[int, int] = field(default_factory=dict)  # update id -> chat id
    max_in_flight: int = 0
    max_per_chat: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, request: web.Request) -> web.Response:
        update: JSON = await request.json()
        update_id = int(update["update_id"])
        chat_id = int(update["message"]["chat"]["id"])
        async with self.changed:
            self.attempts[update_id] += 1
            self.in_flight[update_id] = chat_id
            self.max_in_flight = max(self.max_in_flight, len(self.in_flight))
            same_chat = sum(1 for c in self.in_flight.values() if c == chat_id)
            self.max_per_chat = max(self.max_per_chat, same_chat)
            self.changed.notify_all()
        await self.gate.wait()
        async with self.changed:
            del self.in_flight[update_id]
            failed = update_id in self.fail_first and self.attempts[update_id] == 1
            if not failed:
                self.accepted.append(update)
            self.changed.notify_all()
        return web.Response(status=500 if failed else 200, text="ok")

    async def until(self, what: str, check: Callable[[], bool]) -> None:
        try:
            async with asyncio.timeout(LIMIT), self.changed:
                await self.changed.wait_for(check)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}") from None


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    rec = Receiver()
    hook_app = web.Application()
    hook_app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(hook_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield rec, f"http://127.0.0.1:{port}/hook"
    rec.gate.set()
    await runner.cleanup()


async def groups(app: AppT, tg: FakegramClient, count: int) -> tuple[list[int], int]:
    """``count`` groups with the bot in them; the join updates are taken by long polling."""
    anna = await tg.create_user("Anna")
    chats = [await tg.create_group(f"Wijk {i}", creator=anna) for i in range(count)]
    for chat in chats:
        await tg.add_bot(chat, by=anna)
    updates = await app.bot.get_updates(timeout=0)
    await app.bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return chats, anna


async def post_rounds(tg: FakegramClient, chats: list[int], user: int, rounds: int) -> list[JSON]:
    """``rounds`` messages in every chat, interleaved (round 0 in every chat, then round 1…)."""
    return [
        await tg.send_message(chat, user, f"bericht {r}") for r in range(rounds) for chat in chats
    ]


async def pending_is_empty(server: FakegramServer) -> bool:
    bot = next(iter(server.state.bots.values()))
    return await server.wait_until(lambda: not bot.pending, LIMIT)


async def test_pushes_in_parallel_up_to_max_connections_one_per_chat(
    app: AppT, tg: FakegramClient, server: FakegramServer, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    chats, anna = await groups(app, tg, 6)
    assert await app.bot.set_webhook(url, max_connections=3)
    assert (await app.bot.get_webhook_info()).max_connections == 3
    sent = await post_rounds(tg, chats, anna, 2)

    # Held at the gate: three pushes at once, each for another chat, and no fourth.
    await rec.until("3 parallel pushes", lambda: len(rec.in_flight) == 3)
    assert len(set(rec.in_flight.values())) == 3
    assert await tg.pending_updates() == len(sent)  # nothing acknowledged yet

    rec.gate.set()
    assert await pending_is_empty(server)
    ids = [int(u["update_id"]) for u in sent]
    assert sorted(int(u["update_id"]) for u in rec.accepted) == sorted(ids)
    assert rec.attempts == Counter({i: 1 for i in ids})  # none pushed twice
    assert rec.max_in_flight == 3 and rec.max_per_chat == 1
    for chat in chats:  # each chat's updates in order
        texts = [u["message"]["text"] for u in rec.accepted if u["message"]["chat"]["id"] == chat]
        assert texts == ["bericht 0", "bericht 1"]


async def test_default_is_forty_connections(
    app: AppT, tg: FakegramClient, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    chats, anna = await groups(app, tg, 45)
    assert await app.bot.set_webhook(url)  # PTB sends no max_connections: Telegram's 40
    await post_rounds(tg, chats, anna, 1)
    await rec.until("40 parallel pushes", lambda: len(rec.in_flight) == 40)
    rec.gate.set()
    await rec.until("all 45 accepted", lambda: len(rec.accepted) == 45)
    assert rec.max_in_flight == 40


async def test_a_failed_push_is_retried_and_holds_back_its_chat_only(
    app: AppT, tg: FakegramClient, server: FakegramServer, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    chats, anna = await groups(app, tg, 3)
    rec.gate.set()
    first = await tg.send_message(chats[0], anna, "bericht 0")
    rec.fail_first.add(int(first["update_id"]))
    later = [await tg.send_message(chats[0], anna, "bericht 1")]
    later += [await tg.send_message(chat, anna, "ander") for chat in chats[1:]]
    assert await app.bot.set_webhook(url, max_connections=10)

    assert await pending_is_empty(server)
    ids = [int(u["update_id"]) for u in [first, *later]]
    assert rec.attempts == Counter({ids[0]: 2, **{i: 1 for i in ids[1:]}})
    assert sorted(int(u["update_id"]) for u in rec.accepted) == sorted(ids)  # once each
    in_chat = [u["message"]["text"] for u in rec.accepted if u["message"]["chat"]["id"] == chats[0]]
    assert in_chat == ["bericht 0", "bericht 1"]  # the retry kept its chat in order
    info = await app.bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500"
