"""The sociale alliantie: partners, what they offer, and linking them to ideas."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from buddybot.clock import FakeClock
from buddybot.storage.models import IdeaEvent, Membership, Partner, PartnerInvite, Person
from tests.support.harness import Harness, World

JSON = dict[str, Any]

ALLIANCE = [
    "Tuincentrum Groenrijk | groen duurzaamheid | Planten, zaden en aarde met korting, "
    "advies over moestuinen en geveltuinen | winkel@groenrijk.nl",
    "Bibliotheek Centrum | cultuur jongeren | Ruimte voor activiteiten, taalcafé, "
    "voorlezen voor kinderen | 010-1234567",
    "Welzijn Oost | ontmoeting zorg ouderen | Opbouwwerkers, een ruimte in het buurthuis, "
    "contact met eenzame ouderen | Sanne",
]


async def _last(bot: Harness, chat: int) -> JSON:
    messages = await bot.tg.messages(chat)
    assert messages
    return messages[-1]


async def _alliance(bot: Harness, w: World) -> None:
    for line in ALLIANCE:
        await bot.say(w.group, w.admin, f"/partner {line}")


async def test_facilitator_builds_the_alliance_and_residents_read_it(
    world: World, bot: Harness
) -> None:
    await _alliance(bot, world)
    added = await _last(bot, world.group)
    assert "Nieuwe partner" in added["text"] and "Welzijn Oost" in added["text"]
    await bot.say(world.group, world.bert, "/alliantie")
    listing = await bot.last_text(world.group)
    assert "Tuincentrum Groenrijk" in listing and "Biedt: Ruimte voor activiteiten" in listing
    await bot.say(world.group, world.bert, "/partner Nep | groen | niets | -")
    assert "alleen een facilitator" in await bot.last_text(world.group)
    # The same name again updates the partner; the remove button takes it out.
    await bot.say(world.group, world.admin, "/partner Welzijn Oost | zorg | Alleen nog koffie | -")
    updated = await _last(bot, world.group)
    assert "Partner bijgewerkt" in updated["text"] and "Alleen nog koffie" in updated["text"]
    await bot.press(world.group, updated["message_id"], world.admin, text="🗑 Verwijderen")
    with bot.db.transaction() as uow:
        names = list(uow.session.scalars(select(Partner.name).order_by(Partner.name)))
    assert names == ["Bibliotheek Centrum", "Tuincentrum Groenrijk"]


async def test_guided_partner_dialogue(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.admin, "/partner")
    for answer in ["Gemeente Groen", "groen spelen", "Bomen en speeltuinen", "-"]:
        question = await _last(bot, world.group)
        await bot.say(world.group, world.admin, answer, reply_to=question["message_id"])
    assert "Gemeente Groen" in await bot.last_text(world.group)


async def test_partners_button_shows_the_best_match_with_its_reason_and_links(
    world: World, bot: Harness
) -> None:
    await _alliance(bot, world)
    await bot.say(world.group, world.anna, "/idee Moestuin op het plein")
    card = await _last(bot, world.group)
    refused = await bot.press(world.group, card["message_id"], world.bert, text="🤝 Partners")
    assert refused is not None and refused.get("show_alert")
    await bot.press(world.group, card["message_id"], world.admin, text="🤝 Partners")
    suggestions = await _last(bot, world.group)
    first = suggestions["text"].split("\n")[1]
    assert first.startswith("• Tuincentrum Groenrijk: zelfde thema: groen")
    assert suggestions["reply_markup"]["inline_keyboard"][0][0]["text"].startswith("🤝 Koppel")
    await bot.press(
        world.group, suggestions["message_id"], world.admin, text="🤝 Koppel Tuincentrum Groenrijk"
    )
    assert "is gekoppeld aan Tuincentrum Groenrijk" in await bot.last_text(world.group)
    cards = [m for m in await bot.tg.messages(world.group) if m["message_id"] == card["message_id"]]
    assert "🤝 Partners: Tuincentrum Groenrijk" in cards[0]["text"]


async def test_link_command_tells_the_partner_account(world: World, bot: Harness) -> None:
    await _alliance(bot, world)
    sanne = await bot.tg.create_user("Sanne")
    await bot.tg.add_member(world.group, sanne)
    hello = await bot.tg.send_message(world.group, sanne, "Hoi, ik ben Sanne van Welzijn Oost")
    await bot.settle()
    await bot.say(
        world.group, world.admin, "/partner koppel Welzijn", reply_to=hello["message"]["message_id"]
    )
    assert "Welzijn Oost is nu gekoppeld" in await bot.last_text(world.group)
    await bot.handled(await bot.tg.start_private(sanne))
    await bot.say(world.group, world.anna, "/idee Koffieochtend voor eenzame ouderen")
    await bot.say(world.group, world.admin, "/koppel 1 Welzijn Oost")
    assert "#1 Koffieochtend voor eenzame ouderen is gekoppeld aan Welzijn Oost" in (
        await bot.last_text(world.group)
    )
    assert "idee in de wijk dat bij jullie past: #1" in await bot.last_text(sanne)
    await bot.say(world.group, world.admin, "/koppel 1 Welzijn Oost")
    assert "is al gekoppeld" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/koppel 1 Onbekend")
    assert "Ik ken geen (één) partner" in await bot.last_text(world.group)
    with bot.db.transaction() as uow:
        kinds = list(uow.session.scalars(select(IdeaEvent.kind).order_by(IdeaEvent.id)))
    assert kinds == ["proposed", "partner"]


async def test_champion_kit_names_matching_partners(world: World, bot: Harness) -> None:
    await _alliance(bot, world)
    await bot.say(world.group, world.anna, "/idee Taalcafé in de bieb")
    await bot.handled(await bot.tg.start_private(world.bert))
    await bot.say(world.group, world.bert, "/kampioen 1")
    kit = await bot.last_text(world.bert)
    assert "Partners die kunnen helpen" in kit and "Bibliotheek Centrum" in kit


async def test_kit_points_to_neighbours_with_the_same_interest_who_agreed(
    world: World, bot: Harness
) -> None:
    await bot.say(world.group, world.anna, "/idee Moestuin op het plein")
    await bot.say(world.group, world.anna, "/idee Geveltuinen in de straat")
    carla = await bot.tg.create_user("Carla", username="carla")
    dirk = await bot.tg.create_user("Dirk")
    for person in (carla, dirk):
        await bot.tg.add_member(world.group, person)
        await bot.say(world.group, person, "/steun 2")
    await bot.handled(await bot.tg.start_private(carla))
    home = await _last(bot, carla)
    await bot.press(carla, home["message_id"], carla, text="📬 Wijkkampioenen mogen mij benaderen")
    await bot.handled(await bot.tg.start_private(world.bert))
    await bot.say(world.group, world.bert, "/kampioen 1")
    kit = await bot.last_text(world.bert)
    assert "Buren met dezelfde interesse" in kit and "Carla (@carla)" in kit
    assert "Dirk" not in kit


async def test_a_very_long_unknown_theme_gets_a_short_refusal(world: World, bot: Harness) -> None:
    """The refusal repeats the unknown words, shortened: the whole of 5,000 characters made
    the answer too long for Telegram, and the facilitator got a general apology instead."""
    junk = "x" * 5000
    await bot.say(world.group, world.admin, f"/partner Buurthuis | {junk} | ruimte | -")
    refused = await bot.last_text(world.group)
    assert refused.startswith("Dit thema ken ik niet: xxx") and "Kies uit: groen" in refused
    assert len(refused) < 400
    await bot.say(world.group, world.admin, "/idee Moestuin op het plein")
    await bot.say(world.group, world.admin, f"/thema 1 groen {junk}")
    assert (await bot.last_text(world.group)).startswith("Dit thema ken ik niet: xxx")
    with bot.db.transaction() as uow:
        assert list(uow.session.scalars(select(Partner.name))) == []
        themed = uow.session.scalar(select(IdeaEvent.id).where(IdeaEvent.kind == "themes"))
    assert themed is None


# -- the partner's invitation (issue 22, item 1) -------------------------------------------

INVITE_BUTTON = "🔗 Uitnodiging voor de partner"
INVITE_LINK = re.compile(r"https://t\.me/\S+\?start=(ptn_[A-Za-z0-9_-]+)")


def _urls(messages: list[JSON]) -> list[str]:
    rows = [r for m in messages for r in (m.get("reply_markup") or {}).get("inline_keyboard", [])]
    return [str(b.get("url")) for row in rows for b in row if b.get("url")]


async def _group_leaks_nothing(bot: Harness, w: World) -> None:
    """No invitation secret anywhere in the group: not in a text, not behind a button."""
    messages = await bot.tg.messages(w.group)
    assert not any("start=" in u for u in _urls(messages)), _urls(messages)
    assert not any("ptn_" in str(m.get("text")) for m in messages)


async def _invite(bot: Harness, w: World, name: str, who: int | None = None) -> JSON | None:
    """Press the invitation button under the partner's card in the group."""
    card = next(m for m in reversed(await bot.tg.messages(w.group)) if name in str(m.get("text")))
    return await bot.press(w.group, card["message_id"], who or w.admin, text=INVITE_BUTTON)


async def _private_link(bot: Harness, user: int) -> str:
    found = INVITE_LINK.search(await bot.last_text(user))
    assert found, await bot.last_text(user)
    return found[1]


def _linked(bot: Harness, name: str) -> int | None:
    with bot.db.transaction() as uow:
        row = uow.session.scalar(select(Partner).where(Partner.name == name))
        assert row is not None
        return row.person_id


def _person(bot: Harness, tg_user_id: int) -> int | None:
    with bot.db.transaction() as uow:
        return uow.session.scalar(select(Person.id).where(Person.tg_user_id == tg_user_id))


async def test_partner_invitation_goes_privately_works_once_and_makes_no_member(
    world: World, bot: Harness
) -> None:
    w = world
    await bot.handled(await bot.tg.start_private(w.admin))
    await _alliance(bot, w)
    await _group_leaks_nothing(bot, w)
    # A resident may not ask for the invitation: refused, nothing made.
    refused = await _invite(bot, w, "Welzijn Oost", who=w.bert)
    assert refused is not None and refused.get("show_alert")
    answer = await _invite(bot, w, "Welzijn Oost")
    assert answer is not None and "privé gestuurd" in str(answer.get("text"))
    payload = await _private_link(bot, w.admin)
    assert "één keer" in await bot.last_text(w.admin)
    await _group_leaks_nothing(bot, w)
    with bot.db.transaction() as uow:
        stored = list(uow.session.scalars(select(PartnerInvite.token_hash)))
    assert len(stored) == 1 and payload[4:] not in stored[0]  # only a hash is stored

    # Someone outside the group opens it: linked, told, and not made a member of the wijk.
    piet = await bot.tg.create_user("Piet", username="welzijn_piet")
    await bot.handled(await bot.tg.start_private(piet, payload=payload))
    assert "gekoppeld aan Welzijn Oost" in await bot.last_text(piet)
    assert _linked(bot, "Welzijn Oost") == _person(bot, piet)
    with bot.db.transaction() as uow:
        members = uow.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.person_id == _person(bot, piet))
        )
    assert members == 0
    told = await bot.last_text(w.admin)
    assert "Piet heeft de uitnodiging geopend" in told and "Welzijn Oost" in told

    # The same link again, by a resident: used once, so refused; the partner stays Piet's.
    await bot.handled(await bot.tg.start_private(w.bert, payload=payload))
    assert "al gebruikt" in await bot.last_text(w.bert)
    assert _linked(bot, "Welzijn Oost") == _person(bot, piet)
    # A made-up or old-style link links nobody.
    for fake in ("p1_0123456789", "ptn_" + "A" * 22):
        await bot.handled(await bot.tg.start_private(w.bert, payload=fake))
        assert _linked(bot, "Welzijn Oost") == _person(bot, piet)
    assert "ken ik niet" in await bot.last_text(w.bert)


async def test_partner_invitation_expires_after_the_setting(
    world: World, bot: Harness, clock: FakeClock
) -> None:
    w = world
    await bot.handled(await bot.tg.start_private(w.admin))
    await _alliance(bot, w)
    await _invite(bot, w, "Bibliotheek Centrum")
    payload = await _private_link(bot, w.admin)
    assert bot.deps is not None
    clock.advance(bot.deps.settings.partner_invite_ttl + timedelta(seconds=1))
    await bot.handled(await bot.tg.start_private(w.anna, payload=payload))
    assert "verlopen" in await bot.last_text(w.anna)
    assert _linked(bot, "Bibliotheek Centrum") is None


async def test_a_linked_partner_is_only_relinked_after_the_facilitator_confirms(
    world: World, bot: Harness
) -> None:
    w = world
    await bot.handled(await bot.tg.start_private(w.admin))
    await _alliance(bot, w)
    await _invite(bot, w, "Tuincentrum Groenrijk")
    first = await _private_link(bot, w.admin)
    await bot.handled(await bot.tg.start_private(w.anna, payload=first))
    assert _linked(bot, "Tuincentrum Groenrijk") == _person(bot, w.anna)
    # Asking again for a linked partner makes nothing yet: a question in the group.
    sent = len(await bot.tg.messages(w.admin))
    await _invite(bot, w, "Tuincentrum Groenrijk")
    question = (await bot.tg.messages(w.group))[-1]
    assert "al gekoppeld" in question["text"]
    assert len(await bot.tg.messages(w.admin)) == sent
    await bot.press(
        w.group, question["message_id"], w.admin, text="🔗 Ja, maak een nieuwe uitnodiging"
    )
    second = await _private_link(bot, w.admin)
    assert second != first
    await _group_leaks_nothing(bot, w)
    await bot.handled(await bot.tg.start_private(w.bert, payload=second))
    assert _linked(bot, "Tuincentrum Groenrijk") == _person(bot, w.bert)


async def test_invitation_for_a_facilitator_without_a_private_chat_stays_out_of_the_group(
    world: World, bot: Harness
) -> None:
    w = world
    await _alliance(bot, w)
    answer = await _invite(bot, w, "Welzijn Oost")
    assert answer is not None
    text = await bot.last_text(w.group)
    assert "nog niet privé schrijven" in text
    await _group_leaks_nothing(bot, w)
    with bot.db.transaction() as uow:
        assert uow.session.scalar(select(func.count()).select_from(PartnerInvite)) == 0


async def test_a_removed_facilitators_partner_invitation_stops_working(
    world: World, bot: Harness
) -> None:
    """Issue 22, items 1 and 5: the invitation an appointed facilitator asked for ends with
    their role; nobody links with it afterwards, and they are told nothing."""
    w = world
    msg = await bot.tg.send_message(w.group, w.anna, "Ik help graag")
    await bot.say(w.group, w.admin, "/facilitator", reply_to=msg["message"]["message_id"])
    await bot.handled(await bot.tg.start_private(w.anna))
    await _alliance(bot, w)
    answer = await _invite(bot, w, "Welzijn Oost", who=w.anna)
    assert answer is not None and "privé gestuurd" in str(answer.get("text"))
    payload = await _private_link(bot, w.anna)

    await bot.tg.remove_member(w.group, w.anna, kicked=True, by=w.admin)
    await bot.settle()
    told_before = len(await bot.texts(w.anna))
    piet = await bot.tg.create_user("Piet")
    await bot.handled(await bot.tg.start_private(piet, payload=payload))
    assert "ken ik niet" in await bot.last_text(piet)
    assert _linked(bot, "Welzijn Oost") is None
    assert len(await bot.texts(w.anna)) == told_before
