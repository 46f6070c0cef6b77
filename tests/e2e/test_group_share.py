"""One resident cannot stall a group: with Telegram's real pacing (20 messages a minute
into a group, enforced by fakegram), a person's answers stay within their share and the
rest of the group is answered at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from buddybot.clock import FakeClock
from buddybot.fakegram import FakegramClient, FakegramServer
from tests.support.harness import BOT_USERNAME, TOKEN, Harness, World, local_settings

SHARE = 5
JSON = dict[str, Any]


@pytest.fixture
async def paced(database_url: str, clock: FakeClock) -> AsyncIterator[Harness]:
    """The bot with Telegram's own caps, against a fakegram that answers 429 over them."""
    async with (
        FakegramServer(token=TOKEN, bot_username=BOT_USERNAME, enforce_flood_limits=True) as srv,
        FakegramClient(srv.url) as tg,
    ):
        settings = local_settings(
            srv,
            database_url,
            messages_per_second=30,
            group_messages_per_minute=20,
            person_group_messages_per_minute=SHARE,
        )
        harness = Harness(srv, tg, settings, clock)
        await harness.start()
        try:
            yield harness
        finally:
            await harness.close()


def _answers_to(messages: list[JSON], user: int) -> list[JSON]:
    return [
        m for m in messages if (m.get("reply_to_message") or {}).get("from", {}).get("id") == user
    ]


async def test_a_facilitator_is_answered_at_once_while_a_resident_floods(paced: Harness) -> None:
    bot = paced
    world = await World(bot).build()
    await bot.handled(await bot.tg.start_private(world.bert))
    # Thirty /wie in a few seconds: within the flood limit of 30 a minute per person.
    for _ in range(30):
        await bot.tg.send_message(world.group, world.bert, "/wie")
    loop = asyncio.get_running_loop()
    asked_at = loop.time()
    asked = await bot.tg.send_message(world.group, world.admin, "/wie")
    await bot.handled(asked, limit=10)
    waited = loop.time() - asked_at
    group = await bot.tg.messages(world.group)
    (answer,) = _answers_to(group, world.admin)
    assert "Fatima" in answer["text"]
    assert waited < 5, f"the facilitator waited {waited:.1f} s"

    await bot.settle()
    group = await bot.tg.messages(world.group)
    assert len(_answers_to(group, world.bert)) == SHARE  # nothing of Bert's queued for later
    notes = [t for t in await bot.texts(world.bert) if "laten antwoorden" in t]
    assert len(notes) == 1, notes  # told once, in private
    assert not [c for c in await bot.tg.calls() if c["error_code"] == 429]


async def test_replies_to_questions_and_buttons_count_toward_the_share(paced: Harness) -> None:
    """An answer to the bot's question and a press on a card both make the bot post or
    edit in the group; once the share is used, neither reaches the group."""
    bot = paced
    world = await World(bot).build()
    await bot.say(world.group, world.bert, "/idee Bankjes bij de speeltuin")
    card = (await bot.tg.messages(world.group))[-1]
    support = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    for _ in range(SHARE - 1):
        await bot.say(world.group, world.anna, "/wie")
    await bot.say(world.group, world.anna, "/idee")  # the bot asks for the title: share used
    question = (await bot.tg.messages(world.group))[-1]
    assert "idee" in question["text"].lower()
    before = await bot.tg.messages(world.group)

    await bot.say(world.group, world.anna, "Moestuin op het plein", reply_to=question["message_id"])
    answer = await bot.press(world.group, card["message_id"], world.anna, data=support)
    assert answer is not None and "minuutje" in str(answer.get("text"))
    assert await bot.tg.messages(world.group) == before  # no card, no edit
    # Others keep their own share.
    await bot.say(world.group, world.bert, "/toon 1")
    assert "Bankjes" in await bot.last_text(world.group)
