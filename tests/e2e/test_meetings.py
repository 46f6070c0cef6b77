"""Meetings: the kick-off evening and everything after it, on a hand-moved clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
from sqlalchemy import func, select

from buddybot.storage.models import DueItem, Meeting
from tests.support.harness import Harness, World
from tests.support.questions import last_question

JSON = dict[str, Any]
# Wednesday 2 December 2026, 10:00 in Amsterdam.
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def wijk(world: World, bot: Harness) -> World:
    bot.clock.set(NOW)
    return world


async def _last(bot: Harness, chat: int) -> JSON:
    messages = await bot.tg.messages(chat)
    assert messages
    return messages[-1]


async def _message(bot: Harness, chat: int, message_id: int) -> JSON:
    for msg in await bot.tg.messages(chat):
        if msg["message_id"] == message_id:
            return msg
    raise AssertionError("message gone")


async def _announce(bot: Harness, w: World, text: str, who: int | None = None) -> JSON:
    """Announce and confirm; returns the meeting card in the group."""
    await bot.say(w.group, who or w.admin, f"/bijeenkomst {text}")
    draft = await _last(bot, w.group)
    assert "Klopt dit?" in draft["text"] or "Is this right?" in draft["text"], draft["text"]
    label = draft["reply_markup"]["inline_keyboard"][0][0]["text"]
    await bot.press(w.group, draft["message_id"], who or w.admin, text=label)
    cards = [m for m in await bot.tg.messages(w.group) if m["text"].startswith("📢")]
    assert cards, await bot.texts(w.group)
    return cards[-1]


async def _count(bot: Harness) -> int:
    with bot.db.transaction() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(Meeting)) or 0)


def _labels(msg: JSON) -> list[str]:
    return [b["text"] for row in msg["reply_markup"]["inline_keyboard"] for b in row]


@pytest.mark.parametrize(
    ("when", "words"),
    [
        ("vrijdag 19:30", "vrijdag 4 december 2026 om 19:30"),
        ("5 december 19:30", "zaterdag 5 december 2026 om 19:30"),
        ("morgen om 8 uur 's avonds", "donderdag 3 december 2026 om 20:00"),
        ("2026-12-05 19:30", "zaterdag 5 december 2026 om 19:30"),
        ("next tuesday 7pm", "dinsdag 8 december 2026 om 19:00"),
    ],
)
async def test_announce_with_the_date_as_people_write_it(
    wijk: World, bot: Harness, when: str, words: str
) -> None:
    await bot.say(wijk.group, wijk.admin, f"/bijeenkomst {when} | Buurthuis | Startavond")
    draft = await _last(bot, wijk.group)
    assert words in draft["text"]
    assert _labels(draft) == ["✅ Klopt", "✏️ Wijzig"]
    assert "📢" not in "\n".join((await bot.texts(wijk.group))[:-1])  # nothing posted yet
    await bot.press(wijk.group, draft["message_id"], wijk.admin, text="✅ Klopt")
    card = await _last(bot, wijk.group)
    assert "Bijeenkomst #1: Startavond" in card["text"] and words in card["text"]
    assert _labels(card) == [
        "✅ Ik kom (0)", "🤔 Misschien (0)", "❌ Kan niet (0)", "📅 In mijn agenda",
    ]  # fmt: skip
    assert card["fakegram"]["pinned"] is True


async def test_english_group(bot: Harness) -> None:
    bot.clock.set(NOW)
    w = await World(bot).build(title="Riverside", lang="en")
    card = await _announce(bot, w, "tomorrow at 8pm | Library | Kick-off")
    assert "Thursday 3 December 2026 at 20:00" in card["text"]
    assert "Meeting #1: Kick-off" in card["text"]
    await bot.press(w.group, card["message_id"], w.anna, text="✅ I'm coming (0)")
    one = await _message(bot, w.group, card["message_id"])
    assert "✅ 1 coming · 🤔 0 maybe · ❌ 0 can't come" in one["text"]


async def test_one_answer_is_said_in_the_singular(wijk: World, bot: Harness) -> None:
    card = await _announce(bot, wijk, "vrijdag 19:30 | Buurthuis | Startavond")
    await bot.press(wijk.group, card["message_id"], wijk.anna, text="✅ Ik kom (0)")
    await bot.press(wijk.group, card["message_id"], wijk.bert, text="❌ Kan niet (0)")
    updated = await _message(bot, wijk.group, card["message_id"])
    assert "✅ 1 komt · 🤔 0 misschien · ❌ 1 kan niet" in updated["text"]


@pytest.mark.parametrize(
    ("when", "says"),
    [
        ("gisteren 19:00", "al voorbij"),
        ("ooit een keer", "begrijp de datum niet"),
        ("vrijdag", "mist een tijd"),
        ("vrijdag 8 uur", "'s ochtends of 's avonds"),
    ],
)
async def test_bad_dates_are_explained_and_nothing_is_stored(
    wijk: World, bot: Harness, when: str, says: str
) -> None:
    await bot.say(wijk.group, wijk.admin, f"/bijeenkomst {when} | Buurthuis | Startavond")
    assert says in await bot.last_text(wijk.group)
    assert await _count(bot) == 0


async def test_residents_cannot_announce(wijk: World, bot: Harness) -> None:
    await bot.say(wijk.group, wijk.anna, "/bijeenkomst vrijdag 19:30 | Buurthuis | Feest")
    assert "alleen een facilitator" in await bot.last_text(wijk.group)
    await bot.say(wijk.group, wijk.anna, "/verzetten 1 zaterdag 19:30")
    assert "alleen een facilitator" in await bot.last_text(wijk.group)
    assert await _count(bot) == 0


async def test_change_throws_the_draft_away(wijk: World, bot: Harness) -> None:
    await bot.say(wijk.group, wijk.admin, "/bijeenkomst vrijdag 19:30 | Buurthuis | Startavond")
    draft = await _last(bot, wijk.group)
    refused = await bot.press(wijk.group, draft["message_id"], wijk.anna, text="✅ Klopt")
    assert refused is not None and refused.get("show_alert")
    await bot.press(wijk.group, draft["message_id"], wijk.admin, text="✏️ Wijzig")
    assert "niets geplaatst" in await bot.last_text(wijk.group)
    assert await _count(bot) == 0


async def test_guided_dialogue_asks_each_field(wijk: World, bot: Harness) -> None:
    await bot.say(wijk.group, wijk.admin, "/bijeenkomst")
    for answer in ["vrijdag 19:30", "Buurthuis De Linde", "Startavond", "-"]:
        question = await _last(bot, wijk.group)
        await bot.say(wijk.group, wijk.admin, answer, reply_to=question["message_id"])
    draft = await _last(bot, wijk.group)
    assert "Startavond" in draft["text"] and "Buurthuis De Linde" in draft["text"]
    assert "vrijdag 4 december 2026 om 19:30" in draft["text"]


async def test_guided_dialogue_refuses_a_bad_date_and_asks_again(wijk: World, bot: Harness) -> None:
    await bot.say(wijk.group, wijk.admin, "/bijeenkomst")
    question = await _last(bot, wijk.group)
    await bot.say(wijk.group, wijk.admin, "ooit", reply_to=question["message_id"])
    assert "begrijp de datum niet" in await bot.last_text(wijk.group)
    await bot.say(wijk.group, wijk.admin, "vrijdag 19:30", reply_to=question["message_id"])
    assert "Waar is het?" in await bot.last_text(wijk.group)


async def test_rsvp_counts_and_changed_answers(wijk: World, bot: Harness) -> None:
    card = await _announce(bot, wijk, "vrijdag 19:30 | Buurthuis | Startavond")
    mid = card["message_id"]
    toast = await bot.press(wijk.group, mid, wijk.anna, text="✅ Ik kom (0)")
    assert toast is not None and "Fijn dat je komt" in str(toast["text"])
    await bot.press(wijk.group, mid, wijk.bert, text="🤔 Misschien (0)")
    await bot.press(wijk.group, mid, wijk.bert, text="✅ Ik kom (1)")
    updated = await _message(bot, wijk.group, mid)
    assert "✅ 2 komen · 🤔 0 misschien · ❌ 0 kunnen niet" in updated["text"]
    assert "Georganiseerd door Fatima El Amrani" in updated["text"]
    assert _labels(updated)[:3] == ["✅ Ik kom (2)", "🤔 Misschien (0)", "❌ Kan niet (0)"]
    await bot.say(wijk.group, wijk.bert, "/bijeenkomsten")
    assert "#1 Startavond" in await bot.last_text(wijk.group)


async def _ics(bot: Harness, chat: int) -> icalendar.Calendar:
    doc = await _last(bot, chat)
    assert doc["document"]["file_name"].endswith(".ics")
    data = await bot.tg.document(chat, doc["message_id"])
    return icalendar.Calendar.from_ical(data)


def _event(cal: icalendar.Calendar) -> Any:
    (event,) = cal.walk("VEVENT")
    return event


async def test_calendar_file_follows_moves_and_cancel(wijk: World, bot: Harness) -> None:
    card = await _announce(bot, wijk, "vrijdag 19:30 | Buurthuis | Startavond")
    await bot.handled(await bot.tg.start_private(wijk.anna))
    await bot.press(wijk.group, card["message_id"], wijk.anna, text="📅 In mijn agenda")
    first = _event(await _ics(bot, wijk.anna))
    start = first.decoded("DTSTART")
    assert (start.hour, start.minute, str(start.tzinfo)) == (19, 30, "Europe/Amsterdam")
    assert int(first["SEQUENCE"]) == 0
    uid = str(first["UID"])

    await bot.say(wijk.group, wijk.admin, "/verzetten 1 zaterdag 20:00")
    await bot.press(wijk.group, card["message_id"], wijk.anna, text="📅 In mijn agenda")
    moved = _event(await _ics(bot, wijk.anna))
    assert str(moved["UID"]) == uid and int(moved["SEQUENCE"]) == 1
    assert moved.decoded("DTSTART").hour == 20

    await bot.say(wijk.group, wijk.admin, "/afzeggen 1 De zaal is dicht")
    await bot.press(wijk.group, card["message_id"], wijk.anna, text="📅 In mijn agenda")
    cal = await _ics(bot, wijk.anna)
    assert str(cal["METHOD"]) == "CANCEL"
    cancelled = _event(cal)
    assert str(cancelled["UID"]) == uid and int(cancelled["SEQUENCE"]) == 2
    assert str(cancelled["STATUS"]) == "CANCELLED"


async def test_calendar_file_in_the_group_when_private_is_not_possible(
    wijk: World, bot: Harness
) -> None:
    card = await _announce(bot, wijk, "vrijdag 19:30 | Buurthuis | Startavond")
    await bot.press(wijk.group, card["message_id"], wijk.bert, text="📅 In mijn agenda")
    assert _event(await _ics(bot, wijk.group))["SUMMARY"] == "Startavond"


async def test_reschedule_and_cancel_tell_everyone_who_answered(wijk: World, bot: Harness) -> None:
    card = await _announce(bot, wijk, "vrijdag 19:30 | Buurthuis | Startavond")
    await bot.handled(await bot.tg.start_private(wijk.anna))
    await bot.press(wijk.group, card["message_id"], wijk.anna, text="✅ Ik kom (0)")
    await bot.press(wijk.group, card["message_id"], wijk.bert, text="🤔 Misschien (0)")
    await bot.say(wijk.group, wijk.admin, "/verzetten 1 zaterdag 20:00")
    assert "is verzet naar zaterdag 5 december 2026 om 20:00" in await bot.last_text(wijk.group)
    told = await bot.last_text(wijk.anna)
    assert "Eerst: vrijdag 4 december 2026 om 19:30" in told
    assert "Nu: zaterdag 5 december 2026 om 20:00" in told
    moved = await _message(bot, wijk.group, card["message_id"])
    assert "Nieuwe tijd" in moved["text"] and "zaterdag 5 december" in moved["text"]

    await bot.say(wijk.group, wijk.admin, "/afzeggen 1 De zaal is dicht")
    assert "gaat niet door: De zaal is dicht" in await bot.last_text(wijk.group)
    assert "gaat niet door" in await bot.last_text(wijk.anna)
    cancelled = await _message(bot, wijk.group, card["message_id"])
    assert "GAAT NIET DOOR" in cancelled["text"] and _labels(cancelled) == ["📅 In mijn agenda"]
    late = await bot.press(wijk.group, card["message_id"], wijk.bert, data="1:rsvp:1:y")
    assert late is not None and late.get("show_alert")


async def _reminders(bot: Harness, chat: int) -> list[str]:
    return [t for t in await bot.texts(chat) if t.startswith("⏰")]


async def test_reminders_at_the_offsets_once_each(wijk: World, bot: Harness) -> None:
    # Friday 4 December 19:30 local = 18:30 UTC.
    card = await _announce(bot, wijk, "vrijdag 19:30 | Buurthuis | Startavond")
    await bot.handled(await bot.tg.start_private(wijk.anna))
    await bot.press(wijk.group, card["message_id"], wijk.anna, text="✅ Ik kom (0)")
    start = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)
    bot.clock.set(start - timedelta(hours=24, minutes=1))
    await bot.tick()
    assert await _reminders(bot, wijk.group) == []
    bot.clock.set(start - timedelta(hours=24))
    await bot.tick()
    await bot.tick()
    (first,) = await _reminders(bot, wijk.group)
    assert "Over 24 uur: Startavond" in first and "✅ 1 komt" in first
    assert "Over 24 uur" in await bot.last_text(wijk.anna)
    await bot.restart()  # nothing is sent twice after a restart either
    bot.clock.set(start - timedelta(hours=2))
    await bot.tick()
    await bot.tick()
    assert len(await _reminders(bot, wijk.group)) == 2


async def test_no_reminder_for_a_cancelled_or_moved_away_time(wijk: World, bot: Harness) -> None:
    await _announce(bot, wijk, "vrijdag 19:30 | Buurthuis | Startavond")
    await _announce(bot, wijk, "zaterdag 19:30 | Buurthuis | Tweede avond")
    await bot.say(wijk.group, wijk.admin, "/afzeggen 1")
    await bot.say(wijk.group, wijk.admin, "/verzetten 2 zondag 19:30")
    bot.clock.set(datetime(2026, 12, 5, 18, 0, tzinfo=UTC))  # old time of #2 minus 30 min
    await bot.tick()
    assert await _reminders(bot, wijk.group) == []
    bot.clock.set(datetime(2026, 12, 6, 16, 30, tzinfo=UTC))  # new time of #2 minus 2 h
    await bot.tick()
    reminders = await _reminders(bot, wijk.group)
    assert len(reminders) == 1 and "Tweede avond" in reminders[0]


async def test_catch_up_skips_reminders_of_a_started_meeting_and_follows_up(
    wijk: World, bot: Harness
) -> None:
    await _announce(bot, wijk, "vrijdag 19:30 | Buurthuis | Startavond")
    await bot.stop()
    bot.clock.set(datetime(2026, 12, 4, 22, 0, tzinfo=UTC))  # after the start and follow-up
    await bot.start()
    await bot.tick()
    assert await _reminders(bot, wijk.group) == []
    follow = await _last(bot, wijk.group)
    assert "Hoe was Startavond?" in follow["text"]
    await bot.press(wijk.group, follow["message_id"], wijk.bert, text="💡 Idee toevoegen")
    question = await _last(bot, wijk.group)
    assert "Bert, wat is je idee?" in question["text"]
    asked = await last_question(bot, wijk.group)  # the reply box is Bert's only
    assert asked.box_for(user_id=wijk.bert) and not asked.box_for(user_id=wijk.anna)
    await bot.say(
        wijk.group, wijk.bert, "Buurtmoestuin\nDat kwam op tafel", reply_to=question["message_id"]
    )
    assert "💡 #1 Buurtmoestuin" in await bot.last_text(wijk.group)


async def test_daylight_saving_keeps_the_local_time(world: World, bot: Harness) -> None:
    bot.clock.set(datetime(2027, 3, 20, 12, 0, tzinfo=UTC))
    card = await _announce(bot, world, "2027-03-29 19:30 | Buurthuis | Voorjaarsavond")
    assert "maandag 29 maart 2027 om 19:30" in card["text"]
    with bot.db.transaction() as uow:
        meeting = uow.session.scalar(select(Meeting))
        assert meeting is not None
        assert meeting.starts_at == datetime(2027, 3, 29, 17, 30, tzinfo=UTC)  # summer time
        reminder = uow.session.scalar(select(DueItem).where(DueItem.key.like("%remind:86400")))
    assert reminder is not None
    # 24 hours before, across the switch on 28 March: 17:30 UTC = 19:30 summer time.
    assert reminder.due_at == datetime(2027, 3, 28, 17, 30, tzinfo=UTC)


async def test_text_for_other_channels_in_private(wijk: World, bot: Harness) -> None:
    await bot.handled(await bot.tg.start_private(wijk.admin))
    await bot.say(wijk.group, wijk.admin, "/bijeenkomst vrijdag 19:30 | Buurthuis | Startavond")
    draft = await _last(bot, wijk.group)
    await bot.press(wijk.group, draft["message_id"], wijk.admin, text="✅ Klopt")
    posted = await _message(bot, wijk.group, draft["message_id"])
    answer = await bot.press(
        wijk.group, posted["message_id"], wijk.admin, text="📋 Tekst voor andere kanalen"
    )
    assert answer is not None
    text = await bot.last_text(wijk.admin)
    assert text.startswith("Bijeenkomst: Startavond")
    assert "Wanneer: vrijdag 4 december 2026 om 19:30" in text and "<" not in text


async def test_pinning_without_rights_is_said_once(bot: Harness) -> None:
    bot.clock.set(NOW)
    w = await World(bot).build(title="Westwijk", admin_bot=False)
    await _announce(bot, w, "vrijdag 19:30 | Buurthuis | Een")
    assert "kon de bijeenkomst niet vastzetten" in await bot.last_text(w.group)
    await _announce(bot, w, "zaterdag 19:30 | Buurthuis | Twee")
    texts = await bot.texts(w.group)
    assert sum("niet vastzetten" in t for t in texts) == 1
