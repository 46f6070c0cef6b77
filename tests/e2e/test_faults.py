"""Faults: Telegram answering 429/5xx, a database that is briefly away. The bot recovers by
itself; nothing scheduled is lost or sent twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from tests.support.harness import Harness, World
from tests.support.outage import close_fails_once, database_away, drop_connections


async def _notices(bot: Harness, chat: int) -> list[str]:
    return [t for t in await bot.texts(chat) if t.startswith("📣") and "Ik plaats" not in t]


async def test_a_database_that_is_briefly_away(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.admin, "/aankondiging morgen 10:00 | Koffie")
    with database_away(bot.db):  # the pool's connections are gone, no new one can be made
        await bot.db.dispose()
        bot.clock.advance(timedelta(days=1))
        with pytest.raises(OperationalError):
            await bot.tick()  # the job fails this time; the scheduler runs it again
        await bot.say(world.group, world.anna, "/wie")  # a person gets an apology, no traceback
        assert "Sorry, er ging iets mis" in await bot.last_text(world.group)
    await bot.tick()
    await bot.tick()
    assert await _notices(bot, world.group) == ["📣 Koffie"]
    await bot.say(world.group, world.anna, "/wie")
    assert (await bot.last_text(world.group)).startswith("Wijk Oost")


async def test_telegram_flood_answers_are_waited_out(world: World, bot: Harness) -> None:
    await bot.tg.inject_fault(
        kind="retry_after", method="sendMessage", chat_id=world.group, retry_after=1, count=1
    )
    await bot.say(world.group, world.anna, "/wie")  # the rate limiter retries after 429
    assert (await bot.last_text(world.group)).startswith("Wijk Oost")


async def test_a_telegram_timeout_is_retried_and_sent_once(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.admin, "/aankondiging morgen 10:00 | Buurtborrel")
    bot.clock.advance(timedelta(days=1))
    await bot.tg.inject_fault(kind="timeout", method="sendMessage", chat_id=world.group, delay=0.1)
    await bot.tick()
    assert await _notices(bot, world.group) == []
    bot.clock.advance(timedelta(minutes=1))
    await bot.tick()
    await bot.tick()
    assert await _notices(bot, world.group) == ["📣 Buurtborrel"]


async def test_a_vote_result_that_telegram_refused_is_posted_later(
    world: World, bot: Harness
) -> None:
    await bot.say(world.group, world.admin, "/stemming Wat eten we? | soep | salade")
    await bot.tg.inject_fault(kind="server_error", method="sendMessage", chat_id=world.group)
    await bot.say(world.group, world.admin, "/sluitstemming 1")
    results = [t for t in await bot.texts(world.group) if t.startswith("🗳 Uitslag")]
    assert results == []
    bot.clock.advance(timedelta(minutes=1))
    await bot.tick()
    await bot.tick()
    results = [t for t in await bot.texts(world.group) if t.startswith("🗳 Uitslag")]
    assert len(results) == 1


async def test_a_vote_cast_as_the_connection_drops_is_counted(world: World, bot: Harness) -> None:
    """The connection is cut in the middle of a vote: the resident's vote is stored on a fresh
    connection, and the result counts it."""
    await bot.say(world.group, world.admin, "/stemming open Wat eten we? | soep | salade")
    poll = next(m["poll"] for m in await bot.tg.messages(world.group) if m.get("poll"))
    await bot.tg.vote(poll["id"], world.anna, [0])
    await bot.settle()
    drop_connections(bot.db)
    await bot.tg.vote(poll["id"], world.bert, [0])
    await bot.settle()
    await bot.say(world.group, world.admin, "/sluitstemming 1")
    result = next(t for t in await bot.texts(world.group) if t.startswith("🗳 Uitslag"))
    assert "1. soep: 2 (100%) 🏆" in result


async def test_an_anonymous_vote_missed_in_an_outage_counts_from_telegram(
    world: World, bot: Harness
) -> None:
    """Telegram's running totals of an anonymous vote came while the database was away: the
    result uses the final count that stopping the poll returns, and says it differs."""
    await bot.say(world.group, world.admin, "/stemming Wat eten we? | soep | salade")
    poll = next(m["poll"] for m in await bot.tg.messages(world.group) if m.get("poll"))
    await bot.tg.vote(poll["id"], world.anna, [0])
    await bot.tg.vote(poll["id"], world.admin, [1])
    await bot.settle()
    with database_away(bot.db):
        await bot.db.dispose()
        await bot.tg.vote(poll["id"], world.bert, [0])
        await bot.settle()  # handled: it failed, and polling does not bring it again
    await bot.say(world.group, world.admin, "/sluitstemming 1")
    result = next(t for t in await bot.texts(world.group) if t.startswith("🗳 Uitslag"))
    assert "1. soep: 2 (67%) 🏆" in result and "2. salade: 1 (33%)" in result
    assert "Deze uitslag volgt de eindtelling van Telegram" in result


async def test_a_final_count_survives_a_close_that_failed(
    world: World, bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The poll was stopped, then the database failed as the vote closed. The next try's
    stopPoll only answers "already closed"; the result still follows Telegram's final count,
    kept from the first stop."""
    await bot.say(world.group, world.admin, "/stemming Wat eten we? | soep | salade")
    poll = next(m["poll"] for m in await bot.tg.messages(world.group) if m.get("poll"))
    await bot.tg.vote(poll["id"], world.anna, [0])
    await bot.settle()
    with database_away(bot.db):
        await bot.db.dispose()
        await bot.tg.vote(poll["id"], world.bert, [0])
        await bot.settle()
    close_fails_once(monkeypatch)
    await bot.say(world.group, world.admin, "/sluitstemming 1")
    assert "Sorry" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/sluitstemming 1")
    result = next(t for t in await bot.texts(world.group) if t.startswith("🗳 Uitslag"))
    assert "1. soep: 2 (100%) 🏆" in result
    assert "Deze uitslag volgt de eindtelling van Telegram" in result
