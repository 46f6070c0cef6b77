"""Updates: redelivery changes nothing, chats run side by side, each in order; errors."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from tests.support.harness import Harness, World


async def test_a_redelivered_update_changes_nothing(world: World, bot: Harness) -> None:
    await bot.handled(await bot.tg.start_private(world.anna))
    update = await bot.say(world.anna, world.anna, "/taal en")
    count = len(await bot.texts(world.anna))
    await bot.redeliver(update)
    assert len(await bot.texts(world.anna)) == count


async def test_each_chat_in_order_while_chats_run_side_by_side(world: World, bot: Harness) -> None:
    await bot.handled(await bot.tg.start_private(world.anna))
    # Ten language switches in a row: the answers come in the order they were asked.
    updates = [
        await bot.tg.send_message(world.anna, world.anna, f"/taal {'en' if i % 2 else 'nl'}")
        for i in range(10)
    ]
    for u in updates:
        await bot.handled(u)
    answers = (await bot.texts(world.anna))[-10:]
    assert answers == [
        "I will speak English with you from now on." if i % 2 else "Ik spreek nu Nederlands met je."
        for i in range(10)
    ]

    # A slow answer in one chat does not hold up another chat.
    await bot.tg.inject_fault(kind="slow", method="sendMessage", chat_id=world.group, delay=2.0)
    slow = await bot.tg.send_message(world.group, world.bert, "/wie")
    await bot.say(world.anna, world.anna, "/wie")
    assert not bot.is_handled(slow), "the private chat waited for the slow group"
    await bot.handled(slow)
    assert "Buddy" in await bot.last_text(world.group)


async def test_an_error_in_a_handler_is_logged_and_answered_politely(
    world: World, bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.tg.inject_fault(
        kind="server_error", method="sendMessage", chat_id=world.group, count=1
    )
    with caplog.at_level(logging.ERROR, logger="buddybot.errors"):
        update = await bot.say(world.group, world.bert, "/hulp")
    assert any("error while handling update" in r.message for r in caplog.records)
    # Ids to find the update again; not what was written, nor by whom by name.
    assert f"update={update['update_id']}" in caplog.text and f"user={world.bert}" in caplog.text
    assert "/hulp" not in caplog.text and "Bert" not in caplog.text
    assert "Traceback" not in await bot.last_text(world.group)
    assert (
        await bot.last_text(world.group)
        == "Sorry, er ging iets mis aan mijn kant. Probeer het straks nog eens."
    )


async def test_a_flood_from_one_person_is_answered_once_and_does_not_slow_others(
    world: World, bot: Harness
) -> None:
    limit = bot.settings.person_actions_per_minute
    updates = [await bot.tg.send_message(world.group, world.bert, "/wie") for _ in range(limit + 5)]
    for u in updates:
        await bot.handled(u)
    texts = await bot.texts(world.group)
    assert sum("Rustig aan" in t for t in texts) == 1
    assert sum(t.startswith("Wijk Oost") for t in texts) == limit
    await bot.say(world.group, world.anna, "/wie")  # someone else is not held back
    assert (await bot.last_text(world.group)).startswith("Wijk Oost")
    bot.clock.advance(timedelta(minutes=1))
    await bot.say(world.group, world.bert, "/wie")
    assert (await bot.last_text(world.group)).startswith("Wijk Oost")
