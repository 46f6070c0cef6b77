"""Invisible formatting characters (bidirectional overrides, zero-width characters) are taken
out of names and titles before they are stored, so nobody can reverse or hide text in what
the group reads."""

from __future__ import annotations

from sqlalchemy import select

from buddybot.storage.models import Announcement, Idea, Meeting, Partner, Person, Poll, Wijk
from tests.support.harness import Harness, World

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "\u202eraaB" is shown as "Baar"
HIDDEN = "\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200b\u200e\u200f\u2060\ufeff\u061c"


async def test_an_idea_title_and_description_are_stored_without_overrides(
    world: World, bot: Harness
) -> None:
    await bot.say(
        world.group, world.anna, f"/idee Speel{RLO}tuin {HIDDEN}opknappen\nMet {RLO}glijbaan"
    )
    card = await bot.last_text(world.group)
    assert "#1 Speeltuin opknappen" in card and RLO not in card
    with bot.db.transaction() as uow:
        idea = uow.session.scalars(select(Idea)).one()
        assert (idea.title, idea.description) == ("Speeltuin opknappen", "Met glijbaan")


async def test_a_name_from_telegram_is_stored_without_overrides(world: World, bot: Harness) -> None:
    eve = await bot.tg.create_user(f"Eve{RLO}nna", last_name=f"{HIDDEN}de Vries", username="eve")
    await bot.tg.add_member(world.group, eve)
    await bot.settle()
    await bot.say(world.group, eve, "/idee Bankje bij de bushalte")
    assert "Van Evenna de Vries" in await bot.last_text(world.group)
    with bot.db.transaction() as uow:
        person = uow.session.scalars(select(Person).where(Person.username == "eve")).one()
        assert (person.first_name, person.last_name) == ("Evenna", "de Vries")


async def test_emoji_sequences_keep_their_joiners(world: World, bot: Harness) -> None:
    flag = "🏳️\u200d🌈"
    await bot.say(world.group, world.anna, f"/idee Feest {flag} op het plein")
    with bot.db.transaction() as uow:
        assert uow.session.scalars(select(Idea.title)).one() == f"Feest {flag} op het plein"


async def test_facilitator_texts_and_the_group_title_are_stored_without_overrides(
    bot: Harness,
) -> None:
    world = await World(bot).build(title=f"Wijk {RLO}Oost")
    group, admin = world.group, world.admin
    await bot.say(group, admin, f"/partner Buurt{RLO}huis | groen | ruim{HIDDEN}te | 06{RLO}123")
    await bot.say(group, admin, f"/bijeenkomst 2026-11-30 19:30 | Plein{RLO} | Start{RLO}avond")
    await bot.say(group, admin, f"/aankondiging morgen 10:00 | Koffie{RLO} in het buurthuis")
    await bot.say(group, admin, f"/stemming Welke{RLO} avond? | dins{RLO}dag | woensdag")
    with bot.db.transaction() as uow:
        s = uow.session
        assert s.scalars(select(Wijk.title)).one() == "Wijk Oost"
        partner = s.scalars(select(Partner)).one()
        assert (partner.name, partner.offer, partner.contact) == ("Buurthuis", "ruimte", "06123")
        meeting = s.scalars(select(Meeting)).one()
        assert (meeting.title, meeting.place) == ("Startavond", "Plein")
        assert s.scalars(select(Announcement.text)).one() == "Koffie in het buurthuis"
        poll = s.scalars(select(Poll)).one()
        assert poll.question == "Welke avond?"
        assert [o["text"] for o in poll.options] == ["dinsdag", "woensdag"]
