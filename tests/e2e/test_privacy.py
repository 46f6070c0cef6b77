"""AVG: see what is stored about you, and be forgotten without a trace."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect, select, text

from buddybot.storage.models import Idea
from tests.support.harness import Harness, World


async def _busy_anna(bot: Harness, w: World) -> None:
    await bot.say(w.group, w.anna, "/idee Moestuin op het plein")
    await bot.say(w.group, w.bert, "/idee Bankjes bij de speeltuin")
    await bot.say(w.group, w.anna, "/steun 2")
    await bot.say(w.group, w.anna, "/kampioen 2")
    await bot.say(w.group, w.anna, "/bijwerken 2 Ik bel de gemeente")
    await bot.say(w.group, w.admin, "/bijeenkomst vrijdag 19:30 | Buurthuis | Startavond")
    draft = (await bot.tg.messages(w.group))[-1]
    await bot.press(w.group, draft["message_id"], w.admin, text="✅ Klopt")
    card = [m for m in await bot.tg.messages(w.group) if m.get("text", "").startswith("📢")][-1]
    await bot.press(w.group, card["message_id"], w.anna, text="✅ Ik kom (0)")
    await bot.say(w.group, w.admin, "/stemming open Welke avond? | dinsdag | woensdag")
    poll = [m for m in await bot.tg.messages(w.group) if m.get("poll")][-1]["poll"]
    await bot.tg.vote(poll["id"], w.anna, [1])
    await bot.settle()


async def test_my_data_lists_everything_in_a_file(world: World, bot: Harness) -> None:
    await _busy_anna(bot, world)
    await bot.handled(await bot.tg.start_private(world.anna))
    await bot.say(world.group, world.anna, "/mijngegevens")
    assert "privégesprek" in await bot.last_text(world.group)
    await bot.say(world.anna, world.anna, "/mijngegevens")
    doc = (await bot.tg.messages(world.anna))[-1]
    data = json.loads(await bot.tg.document(world.anna, doc["message_id"]))
    assert data["person"]["first_name"] == "Anna" and data["person"]["username"] == "anna"
    assert [i["title"] for i in data["ideas_authored"]] == ["Moestuin op het plein"]
    assert {(i["idea"], i["as"]) for i in data["support_help_champion"]} == {
        (2, "supporter"),
        (2, "champion"),
    }
    assert data["meeting_answers"][0]["answer"] == "yes"
    assert data["open_vote_choices"] == [{"question": "Welke avond?", "options": ["woensdag"]}]
    assert any(u["detail"].get("text") == "Ik bel de gemeente" for u in data["actions_on_ideas"])


def _everything(bot: Harness) -> str:
    """Every row of every table as text."""
    with bot.db.transaction() as uow:
        conn = uow.session.connection()
        dump = []
        for name in inspect(conn).get_table_names():
            rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()
            dump += [repr(tuple(r)) for r in rows]
    return "\n".join(dump)


async def test_forget_me_leaves_nothing_personal(world: World, bot: Harness) -> None:
    await _busy_anna(bot, world)
    await bot.handled(await bot.tg.start_private(world.anna))
    await bot.say(world.anna, world.anna, "/vergeetmij")
    ask = (await bot.tg.messages(world.anna))[-1]
    await bot.press(world.anna, ask["message_id"], world.anna, text="Nee")
    assert "niets gewist" in await bot.last_text(world.anna)
    await bot.say(world.anna, world.anna, "/vergeetmij")
    ask = (await bot.tg.messages(world.anna))[-1]
    await bot.press(world.anna, ask["message_id"], world.anna, text="🗑 Ja, vergeet mij")
    assert "Je bent vergeten" in await bot.last_text(world.anna)
    await bot.settle()

    everything = _everything(bot)
    assert str(world.anna) not in everything
    assert "'Anna'" not in everything and "'anna'" not in everything
    # Her idea stays, by "a neighbour"; her support is gone; #2 needs a new champion.
    with bot.db.transaction() as uow:
        idea = uow.session.scalar(select(Idea).where(Idea.number == 1))
    assert idea is not None and idea.author_id is None
    await bot.say(world.group, world.bert, "/toon 1")
    assert "Van een buurtbewoner" in await bot.last_text(world.group)
    texts = await bot.texts(world.group)
    assert any("#2 Bankjes bij de speeltuin zoekt een nieuwe wijkkampioen" in t for t in texts)
    await bot.say(world.group, world.bert, "/toon 2")
    card = await bot.last_text(world.group)
    assert "steun" not in card.split("\n")[3] and "Wijkkampioen: Anna" not in card
    await bot.say(world.group, world.admin, "/sluitstemming 1")
    result = next(t for t in await bot.texts(world.group) if t.startswith("🗳 Uitslag"))
    assert "woensdag: 0" in result


async def test_privacy_command(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.bert, "/privacy")
    assert "bewaart alleen wat nodig is" in await bot.last_text(world.group)


async def test_a_finished_wijk_is_purged_after_two_confirmations(
    world: World, bot: Harness
) -> None:
    await _busy_anna(bot, world)
    await bot.say(world.group, world.anna, "/wijkwissen")
    assert "Alleen een beheerder" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/wijkwissen")
    ask = (await bot.tg.messages(world.group))[-1]
    refused = await bot.press(world.group, ask["message_id"], world.anna, text="⚠️ Ja, wis alles")
    assert refused is not None and refused.get("show_alert")
    await bot.press(world.group, ask["message_id"], world.admin, text="⚠️ Ja, wis alles")
    await bot.press(world.group, ask["message_id"], world.admin, text="🗑 Definitief wissen")
    assert "zijn gewist" in await bot.last_text(world.group)
    everything = _everything(bot)
    assert "Moestuin" not in everything and "Startavond" not in everything
    assert str(world.anna) not in everything


async def test_cli_purge(world: World, bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from buddybot.cli import main

    await bot.say(world.group, world.anna, "/idee Moestuin op het plein")
    monkeypatch.setenv("BUDDYBOT_DATABASE_URL", bot.settings.database_url)
    assert await asyncio.to_thread(main, ["purge", "--wijk", "99", "--yes"]) == 1
    assert await asyncio.to_thread(main, ["purge", "--wijk", "1", "--yes"]) == 0
    assert "Moestuin" not in _everything(bot)
