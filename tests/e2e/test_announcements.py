"""Scheduled announcements (once, weekly across daylight saving) and the weekly digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from buddybot.storage.models import DueItem
from tests.support.harness import Harness, World

JSON = dict[str, Any]


async def _last(bot: Harness, chat: int) -> JSON:
    messages = await bot.tg.messages(chat)
    assert messages
    return messages[-1]


async def _posts(bot: Harness, chat: int) -> list[str]:
    return [t for t in await bot.texts(chat) if t.startswith("📣 ") and "Ik plaats" not in t]


async def test_one_off_announcement_is_posted_once_on_time(world: World, bot: Harness) -> None:
    bot.clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))  # Wednesday 10:00 local
    await bot.say(world.group, world.admin, "/aankondiging vrijdag 19:00 | Koffie <b>om</b> 7")
    confirm = await bot.last_text(world.group)
    assert "Ik plaats dit op vrijdag 4 december 2026 om 19:00" in confirm
    bot.clock.set(datetime(2026, 12, 4, 17, 59, tzinfo=UTC))
    await bot.tick()
    assert await _posts(bot, world.group) == []
    bot.clock.set(datetime(2026, 12, 4, 18, 0, tzinfo=UTC))
    await bot.tick()
    await bot.restart()
    await bot.tick()
    assert await _posts(bot, world.group) == ["📣 Koffie <b>om</b> 7"]


async def test_weekly_announcement_keeps_its_local_time_across_dst(
    world: World, bot: Harness
) -> None:
    bot.clock.set(datetime(2026, 10, 20, 9, 0, tzinfo=UTC))  # Tuesday, summer time
    await bot.say(world.group, world.admin, "/aankondiging elke vrijdag 19:00 | Borrel")
    assert "elke week, voor het eerst op vrijdag 23 oktober 2026 om 19:00" in (
        await bot.last_text(world.group)
    )
    bot.clock.set(datetime(2026, 10, 23, 17, 0, tzinfo=UTC))  # 19:00 summer time
    await bot.tick()
    assert await _posts(bot, world.group) == ["📣 Borrel"]
    with bot.db.transaction() as uow:
        nxt = uow.session.scalar(select(DueItem.due_at).where(DueItem.key.like("announcement:%:1")))
    assert nxt == datetime(2026, 10, 30, 18, 0, tzinfo=UTC)  # 19:00 winter time
    bot.clock.set(datetime(2026, 10, 30, 17, 30, tzinfo=UTC))
    await bot.tick()
    assert len(await _posts(bot, world.group)) == 1
    bot.clock.set(datetime(2026, 10, 30, 18, 0, tzinfo=UTC))
    await bot.tick()
    assert len(await _posts(bot, world.group)) == 2


async def test_list_and_cancel_pending_announcements(world: World, bot: Harness) -> None:
    bot.clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    await bot.say(world.group, world.admin, "/aankondiging vrijdag 19:00 | Eerste")
    await bot.say(world.group, world.admin, "/announce every saturday 10am | Tweede")
    await bot.say(world.group, world.admin, "/aankondiging")
    listing = await _last(bot, world.group)
    assert "1. vrijdag 4 december 2026 om 19:00: Eerste" in listing["text"]
    assert "(elke week): Tweede" in listing["text"]
    refused = await bot.press(world.group, listing["message_id"], world.anna, text="🗑 Annuleer 1")
    assert refused is not None and refused.get("show_alert")
    toast = await bot.press(world.group, listing["message_id"], world.admin, text="🗑 Annuleer 1")
    assert toast is not None and "Geannuleerd: Eerste" in str(toast["text"])
    bot.clock.set(datetime(2026, 12, 5, 10, 0, tzinfo=UTC))
    await bot.tick()
    assert await _posts(bot, world.group) == ["📣 Tweede"]


async def test_residents_cannot_announce_and_bad_input_is_explained(
    world: World, bot: Harness
) -> None:
    await bot.say(world.group, world.anna, "/aankondiging vrijdag 19:00 | Feest")
    assert "alleen een facilitator" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/aankondiging vrijdag 19:00")
    assert "Schrijf het zo" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/aankondiging gisteren 19:00 | Te laat")
    assert "al voorbij" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/aankondiging")
    assert "geen aankondigingen" in await bot.last_text(world.group)


async def test_weekly_digest_tells_what_happened_and_skips_quiet_weeks(
    world: World, bot: Harness
) -> None:
    # The world was made on Friday 27 November 2026; the digest is on Sundays at 17:00.
    await bot.say(world.group, world.anna, "/idee Moestuin op het plein")
    await bot.say(world.group, world.admin, "/status 1 gekozen")
    await bot.say(
        world.group, world.admin, "/bijeenkomst 2026-12-03 19:30 | Buurthuis | Startavond"
    )
    draft = await _last(bot, world.group)
    await bot.press(world.group, draft["message_id"], world.admin, text="✅ Klopt")
    await bot.say(world.group, world.admin, "/stemming Welke avond? | dinsdag | woensdag")
    bot.clock.set(datetime(2026, 11, 29, 16, 0, tzinfo=UTC))
    await bot.tick()
    digest = await bot.last_text(world.group)
    assert digest.startswith("🗞 Deze week in de wijk")
    assert "#1 Moestuin op het plein" in digest and "#1 Startavond" in digest
    assert "Lopende stemmingen:\n• #1 Welke avond? (tot vrijdag 4 december om 11:00)" in digest
    bot.clock.set(datetime(2026, 12, 13, 16, 0, tzinfo=UTC) + timedelta(minutes=1))
    await bot.tick()  # the weeks of 6 and of 13 December: nothing new, no digest
    digests = [t for t in await bot.texts(world.group) if t.startswith("🗞")]
    assert len(digests) == 1
