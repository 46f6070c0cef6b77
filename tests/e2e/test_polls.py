"""Votes: the neighbourhood chooses inside the chat; the bot closes at the deadline."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from buddybot.storage.models import Idea, Poll, PollVote
from tests.support.harness import Harness, World

JSON = dict[str, Any]
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in Amsterdam
DEADLINE = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)  # Friday 20:00 in Amsterdam


@pytest.fixture
async def wijk(world: World, bot: Harness) -> World:
    bot.clock.set(NOW)
    return world


async def _people(bot: Harness, w: World, n: int) -> list[int]:
    ids = [await bot.tg.create_user(f"Buur{i}") for i in range(n)]
    for i in ids:
        await bot.tg.add_member(w.group, i)
        await bot.say(w.group, i, "hoi")  # the bot knows them
    return ids


async def _ideas(bot: Harness, w: World, titles: list[str]) -> None:
    for title in titles:
        await bot.say(w.group, w.anna, f"/idee {title}")


async def _poll_message(bot: Harness, chat: int) -> JSON:
    polls = [m for m in await bot.tg.messages(chat) if m.get("poll")]
    assert polls, await bot.texts(chat)
    return polls[-1]


def _stored(bot: Harness) -> Poll:
    with bot.db.transaction() as uow:
        poll = uow.session.scalar(select(Poll).order_by(Poll.id.desc()))
    assert poll is not None
    return poll


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_vote_over_ideas_closes_at_the_deadline_with_result_and_chart(
    wijk: World, bot: Harness
) -> None:
    await _ideas(bot, wijk, ["Moestuin op het plein", "Speeltuin opknappen", "Buurtbarbecue"])
    voters = await _people(bot, wijk, 4)
    await bot.say(wijk.group, wijk.admin, "/stemming 1 2 3 tot vrijdag 20:00")
    assert "Stemmen kan tot vrijdag 4 december om 20:00" in await bot.last_text(wijk.group)
    message = await _poll_message(bot, wijk.group)
    poll = message["poll"]
    assert [o["text"] for o in poll["options"]] == [
        "#1 Moestuin op het plein", "#2 Speeltuin opknappen", "#3 Buurtbarbecue",
    ]  # fmt: skip
    assert poll["is_anonymous"] is True
    for voter, choice in zip(voters, [0, 0, 0, 1], strict=True):
        await bot.tg.vote(poll["id"], voter, [choice])
    await bot.settle()
    assert _stored(bot).counts == [3, 1, 0]

    await bot.restart()  # votes are kept in the database
    bot.clock.set(DEADLINE)
    await bot.tick()
    assert await bot.tg.calls("stopPoll")
    texts = await bot.texts(wijk.group)
    result = next(t for t in texts if t.startswith("🗳 Uitslag"))
    assert "1. #1 Moestuin op het plein: 3 (75%) 🏆" in result
    assert "2. #2 Speeltuin opknappen: 1 (25%)" in result
    assert "3. #3 Buurtbarbecue: 0 (0%)" in result
    assert "#1 Moestuin op het plein is nu gekozen." in result
    assert "eindtelling" not in result  # Telegram's final count agrees with the bot's
    photo = next(m for m in await bot.tg.messages(wijk.group) if m.get("photo"))
    width, height = _png_size(await bot.tg.document(wijk.group, photo["message_id"]))
    assert width >= 800 and 500 <= height <= 3000
    assert any("heeft gewonnen! Wie wil dit idee trekken" in t for t in texts)
    with bot.db.transaction() as uow:
        idea = uow.session.scalar(select(Idea).where(Idea.number == 1))
    assert idea is not None and idea.status == "selected"
    await bot.tick()
    assert sum(t.startswith("🗳 Uitslag") for t in await bot.texts(wijk.group)) == 1


async def test_open_free_question_with_changed_and_withdrawn_votes(
    wijk: World, bot: Harness
) -> None:
    await bot.say(
        wijk.group,
        wijk.admin,
        "/stemming open meerdere Welke avond past? | dinsdag | woensdag | donderdag"
        " tot zondag 20:00",
    )
    assert "open stemming" in await bot.last_text(wijk.group)
    poll = (await _poll_message(bot, wijk.group))["poll"]
    assert poll["is_anonymous"] is False and poll["allows_multiple_answers"] is True
    await bot.tg.vote(poll["id"], wijk.anna, [0, 1])
    await bot.tg.vote(poll["id"], wijk.bert, [2])
    await bot.tg.vote(poll["id"], wijk.bert, [1])  # changed
    await bot.tg.vote(poll["id"], wijk.admin, [0])
    await bot.tg.vote(poll["id"], wijk.admin, [])  # withdrawn
    await bot.settle()
    with bot.db.transaction() as uow:
        votes = list(uow.session.scalars(select(PollVote).order_by(PollVote.id)))
    assert [v.option_ids for v in votes] == [[0, 1], [1]]
    await bot.say(wijk.group, wijk.admin, "/sluitstemming 1")
    result = next(t for t in await bot.texts(wijk.group) if t.startswith("🗳 Uitslag"))
    assert "1. woensdag: 2 (67%) 🏆" in result and "dinsdag: 1 (33%)" in result


async def test_a_tie_is_named(wijk: World, bot: Harness) -> None:
    await bot.say(wijk.group, wijk.admin, "/stemming Wat eten we? | soep | salade")
    poll = (await _poll_message(bot, wijk.group))["poll"]
    await bot.tg.vote(poll["id"], wijk.anna, [0])
    await bot.tg.vote(poll["id"], wijk.bert, [1])
    await bot.settle()
    await bot.say(wijk.group, wijk.admin, "/closepoll 1")
    result = next(t for t in await bot.texts(wijk.group) if t.startswith("🗳 Uitslag"))
    assert "Gelijkspel tussen: soep, salade." in result


async def test_without_numbers_the_bot_proposes_the_most_supported(
    wijk: World, bot: Harness
) -> None:
    await _ideas(bot, wijk, ["Moestuin", "Speeltuin", "Bankjes"])
    await bot.say(wijk.group, wijk.bert, "/steun 3")
    await bot.say(wijk.group, wijk.admin, "/stemming")
    assert "geen stemming" in await bot.last_text(wijk.group)
    await bot.say(wijk.group, wijk.admin, "/stemming tot vrijdag 20:00")
    proposal = (await bot.tg.messages(wijk.group))[-1]
    assert "Zal ik deze stemming starten?" in proposal["text"]
    assert proposal["text"].index("#3 Bankjes") < proposal["text"].index("#1 Moestuin")
    refused = await bot.press(
        wijk.group, proposal["message_id"], wijk.anna, text="🗳 Start de stemming"
    )
    assert refused is not None and refused.get("show_alert")
    await bot.press(wijk.group, proposal["message_id"], wijk.admin, text="🗳 Start de stemming")
    assert (await _poll_message(bot, wijk.group))["poll"]["options"][0]["text"] == "#3 Bankjes"
    await bot.say(wijk.group, wijk.anna, "/stemming")
    assert "#1 Welk idee moet de wijk als eerste oppakken? · tot vrijdag 4 december om 20:00" in (
        await bot.last_text(wijk.group)
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ("Vraag? | alleen", "minstens 2 keuzes"),
        ("Vraag? | " + " | ".join(f"keuze {i}" for i in range(13)), "maximaal 12 keuzes"),
        ("1 9", "Ik ken geen idee #9"),
        ("1 2", "Ik ken geen idee #2"),  # hidden
        ("1 3 tot gisteren 20:00", "al voorbij"),
        ("Vraag? | ja | " + "n" * 101, "te lang"),
        ("drie vier", "Schrijf de nummers"),
    ],
)
async def test_bad_votes_are_refused_and_nothing_is_sent(
    wijk: World, bot: Harness, args: str, says: str
) -> None:
    await _ideas(bot, wijk, ["Moestuin", "Speeltuin", "Bankjes"])
    await bot.say(wijk.group, wijk.admin, "/verberg 2")
    await bot.say(wijk.group, wijk.admin, f"/stemming {args}")
    assert says in await bot.last_text(wijk.group)
    assert await bot.tg.calls("sendPoll") == []


async def test_residents_cannot_start_or_close_votes(wijk: World, bot: Harness) -> None:
    await bot.say(wijk.group, wijk.anna, "/stemming Vraag? | ja | nee")
    assert "alleen een facilitator" in await bot.last_text(wijk.group)
    await bot.say(wijk.group, wijk.anna, "/sluitstemming 1")
    assert "alleen een facilitator" in await bot.last_text(wijk.group)


async def test_ideas_of_another_wijk_cannot_be_voted_on(bot: Harness) -> None:
    bot.clock.set(NOW)
    east = await World(bot).build(title="Oost")
    west = await World(bot).build(title="West")
    await _ideas(bot, east, ["Moestuin", "Speeltuin"])
    await bot.say(west.group, west.admin, "/stemming 1 2")
    assert "Ik ken geen idee #1" in await bot.last_text(west.group)


async def test_a_deleted_poll_message_or_a_migration_still_gives_a_result(
    wijk: World, bot: Harness
) -> None:
    await bot.say(wijk.group, wijk.admin, "/stemming Wat eten we? | soep | salade")
    poll = (await _poll_message(bot, wijk.group))["poll"]
    await bot.tg.vote(poll["id"], wijk.anna, [1])
    await bot.settle()
    new_id = await bot.tg.migrate_group(wijk.group)
    await bot.settle()
    bot.clock.set(datetime(2026, 12, 9, 10, 0, tzinfo=UTC))  # default deadline: 7 days
    await bot.tick()
    result = next(t for t in await bot.texts(new_id) if t.startswith("🗳 Uitslag"))
    assert "1. salade: 1 (100%) 🏆" in result
    assert "1 van de 1 buur die ik ken stemde (100%)." in result
    assert _stored(bot).status == "closed"


async def test_a_poll_message_deleted_by_an_admin_still_gives_a_result(
    wijk: World, bot: Harness
) -> None:
    await bot.say(wijk.group, wijk.admin, "/stemming Wat eten we? | soep | salade")
    poll = (await _poll_message(bot, wijk.group))["poll"]
    await bot.tg.vote(poll["id"], wijk.anna, [0])
    await bot.settle()
    await bot.tg.inject_fault(
        kind="bad_request", method="stopPoll", description="Bad Request: message to stop not found"
    )
    await bot.say(wijk.group, wijk.admin, "/sluitstemming 1")
    result = next(t for t in await bot.texts(wijk.group) if t.startswith("🗳 Uitslag"))
    assert "1. soep: 1 (100%) 🏆" in result


async def test_bot_removed_before_the_deadline(wijk: World, bot: Harness) -> None:
    await bot.say(wijk.group, wijk.admin, "/stemming Wat eten we? | soep | salade")
    await bot.tg.remove_bot(wijk.group, by=wijk.admin)
    await bot.settle()
    bot.clock.set(datetime(2026, 12, 9, 10, 0, tzinfo=UTC))
    assert await bot.tick() == 0  # paused with the wijk, nothing crashes
    assert _stored(bot).status == "open"


async def test_a_title_with_dollar_signs_closes_with_result_chart_and_champion_call(
    wijk: World, bot: Harness
) -> None:
    """Matplotlib would read ``$x^$`` as (broken) math; the chart draws it as text."""
    await _ideas(bot, wijk, ["Speeltuin $x^$ opknappen", "Bankjes $\\foo$ bij de vijver"])
    await bot.say(wijk.group, wijk.admin, "/stemming 1 2 tot vrijdag 20:00")
    poll = (await _poll_message(bot, wijk.group))["poll"]
    await bot.tg.vote(poll["id"], wijk.anna, [0])
    await bot.settle()
    bot.clock.set(DEADLINE)
    await bot.tick()
    texts = await bot.texts(wijk.group)
    result = next(t for t in texts if t.startswith("🗳 Uitslag"))
    assert "1. #1 Speeltuin $x^$ opknappen: 1 (100%) 🏆" in result
    assert any("heeft gewonnen! Wie wil dit idee trekken" in t for t in texts)
    assert [m for m in await bot.tg.messages(wijk.group) if m.get("photo")]
    assert _stored(bot).status == "closed"


async def test_a_chart_that_fails_blocks_neither_result_nor_champion_call(
    wijk: World, bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from buddybot.handlers import polls as poll_handlers

    def broken(*_: object) -> bytes:
        raise ValueError("the chart broke")

    monkeypatch.setattr(poll_handlers, "_chart", broken)
    await _ideas(bot, wijk, ["Moestuin op het plein", "Bankjes"])
    await bot.say(wijk.group, wijk.admin, "/stemming 1 2 tot vrijdag 20:00")
    poll = (await _poll_message(bot, wijk.group))["poll"]
    await bot.tg.vote(poll["id"], wijk.anna, [0])
    await bot.settle()
    bot.clock.set(DEADLINE)
    await bot.tick()
    texts = await bot.texts(wijk.group)
    assert sum(t.startswith("🗳 Uitslag") for t in texts) == 1
    assert any("heeft gewonnen! Wie wil dit idee trekken" in t for t in texts)
    assert not [m for m in await bot.tg.messages(wijk.group) if m.get("photo")]
    assert not any("Sorry" in t for t in texts)
    with bot.db.transaction() as uow:
        idea = uow.session.scalar(select(Idea).where(Idea.number == 1))
    assert idea is not None and idea.status == "selected"
