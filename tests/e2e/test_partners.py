"""The sociale alliantie: partners, what they offer, and linking them to ideas."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from buddybot.storage.models import IdeaEvent, Partner
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


async def test_a_partner_links_their_own_account_with_the_invitation(
    world: World, bot: Harness
) -> None:
    await _alliance(bot, world)
    saved = await _last(bot, world.group)
    url = saved["reply_markup"]["inline_keyboard"][1][0]["url"]
    payload = url.split("start=")[1]
    joost = await bot.tg.create_user("Joost")
    await bot.handled(await bot.tg.start_private(joost, payload=payload))
    assert "gekoppeld aan Welzijn Oost" in await bot.last_text(joost)
    forged = payload[:-1] + ("0" if payload[-1] != "0" else "1")
    eve = await bot.tg.create_user("Eve")
    await bot.handled(await bot.tg.start_private(eve, payload=forged))
    assert "gekoppeld" not in await bot.last_text(eve)
    with bot.db.transaction() as uow:
        partner = uow.session.scalar(select(Partner).where(Partner.name == "Welzijn Oost"))
    assert partner is not None and partner.person_id is not None


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
