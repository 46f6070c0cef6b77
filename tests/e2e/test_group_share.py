"""One resident cannot stall a group: with Telegram's real pacing (20 messages a minute
into a group, enforced by fakegram), a person's answers stay within their share and the
rest of the group is answered at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
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


@pytest.fixture
async def shared(database_url: str, clock: FakeClock) -> AsyncIterator[Harness]:
    """The bot with the share in force but Telegram's pacing off: minutes pass on the
    clock, not in real time."""
    async with (
        FakegramServer(token=TOKEN, bot_username=BOT_USERNAME) as srv,
        FakegramClient(srv.url) as tg,
    ):
        settings = local_settings(srv, database_url, person_group_messages_per_minute=SHARE)
        harness = Harness(srv, tg, settings, clock)
        await harness.start()
        try:
            yield harness
        finally:
            await harness.close()


async def test_those_who_steer_the_group_have_no_share(shared: Harness) -> None:
    """The group's admin and an appointed facilitator run a meeting's worth of commands in
    one minute; each is answered, and a vote closed at the end is announced once, with its
    chart (nothing of it refused halfway and posted again later)."""
    bot = shared
    world = await World(bot).build()
    hello = await bot.tg.send_message(world.group, world.anna, "Hoi!")
    await bot.handled(hello)
    await bot.say(world.group, world.admin, "/facilitator", reply_to=hello["message"]["message_id"])
    for who in (world.admin, world.anna):
        for _ in range(SHARE + 2):
            await bot.say(world.group, who, "/wie")
    group = await bot.tg.messages(world.group)
    assert len(_answers_to(group, world.admin)) >= SHARE + 2
    assert len(_answers_to(group, world.anna)) == SHARE + 2
    for title in ("Moestuin op het plein", "Speeltuin opknappen"):
        await bot.say(world.group, world.admin, f"/idee {title}")
    await bot.say(world.group, world.admin, "/stemming 1 2 tot vrijdag 20:00")
    await bot.say(world.group, world.admin, "/sluitstemming 1")
    await bot.tick()
    texts = await bot.texts(world.group)
    assert len([t for t in texts if t.startswith("🗳 Uitslag")]) == 1, texts
    assert [c for c in await bot.tg.calls() if c["method"] == "sendPhoto" and c["ok"]]


async def test_an_update_let_in_finishes_even_past_the_share(
    shared: Harness, clock: FakeClock
) -> None:
    """Forgetting edits every card that named the person, in one go, however many there
    are: the share stops a person's next update, never the rest of one it let in."""
    bot = shared
    world = await World(bot).build()
    titles = [
        "Moestuin op het plein", "Speeltuin opknappen", "Buurtbarbecue in juni",
        "Bankjes bij de vijver", "Fietsenstalling bij school", "Zwerfvuil prikken",
        "Boekenkastje op de hoek",
    ]  # fmt: skip
    assert len(titles) > SHARE
    for title in titles:
        await bot.say(world.group, world.anna, f"/idee {title}")
        clock.advance(timedelta(minutes=20))  # within the proposals per hour
    cards = [m for m in await bot.tg.messages(world.group) if "Van Anna" in m.get("text", "")]
    assert len(cards) == len(titles)
    await bot.handled(await bot.tg.start_private(world.anna))
    await bot.say(world.anna, world.anna, "/vergeetmij")
    ask = (await bot.tg.messages(world.anna))[-1]
    await bot.press(world.anna, ask["message_id"], world.anna, text="🗑 Ja, vergeet mij")
    await bot.settle()
    now = {m["message_id"]: m["text"] for m in await bot.tg.messages(world.group)}
    assert [now[c["message_id"]] for c in cards if "Anna" in now[c["message_id"]]] == []
