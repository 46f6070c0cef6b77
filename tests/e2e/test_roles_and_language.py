"""Who may steer, and which language the bot speaks where."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from buddybot.storage.models import Person, Wijk
from tests.support.harness import Harness, World


async def _reply_to(bot: Harness, chat: int, user: int, text: str) -> int:
    update = await bot.tg.send_message(chat, user, text)
    return int(update["message"]["message_id"])


async def test_a_resident_cannot_change_the_group_language(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.anna, "/taal en")
    assert "alleen een facilitator" in await bot.last_text(world.group)
    with bot.db.transaction() as uow:
        wijk = uow.session.scalar(select(Wijk).where(Wijk.tg_chat_id == world.group))
    assert wijk is not None and wijk.language == "nl"


async def test_group_admin_switches_the_group_to_english(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.admin, "/language en")
    assert await bot.last_text(world.group) == "I will speak English in this group from now on."
    await bot.say(world.group, world.bert, "/hulp")
    assert "This is what you can do" in await bot.last_text(world.group)


async def test_anonymous_admin_counts_as_admin(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.admin, "/taal en", anonymous_admin=True)
    assert "English" in await bot.last_text(world.group)


async def test_appointed_facilitator_may_steer_but_not_appoint(world: World, bot: Harness) -> None:
    msg = await _reply_to(bot, world.group, world.anna, "Ik wil helpen")
    await bot.say(world.group, world.admin, "/facilitator", reply_to=msg)
    assert await bot.last_text(world.group) == "Anna is nu facilitator van deze wijk."

    await bot.say(world.group, world.anna, "/taal en")
    assert "English" in await bot.last_text(world.group)

    msg = await _reply_to(bot, world.group, world.bert, "Ik ook")
    await bot.say(world.group, world.anna, "/appoint", reply_to=msg)
    assert "only the group's admins" in await bot.last_text(world.group)

    await bot.say(world.group, world.bert, "/who")
    text = await bot.last_text(world.group)
    assert "Anna" in text and "Fatima El Amrani" in text


async def test_resident_trying_to_appoint_is_refused_politely(world: World, bot: Harness) -> None:
    msg = await _reply_to(bot, world.group, world.anna, "hoi")
    await bot.say(world.group, world.bert, "/facilitator", reply_to=msg)
    assert "alleen de beheerders" in await bot.last_text(world.group)
    await bot.say(world.group, world.anna, "/taal en")
    assert "alleen een facilitator" in await bot.last_text(world.group)


async def test_appointing_needs_a_reply_and_a_person(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.admin, "/facilitator")
    assert "Reageer met deze opdracht" in await bot.last_text(world.group)


async def test_people_who_join_later_are_known_in_the_wijk(world: World, bot: Harness) -> None:
    carla = await bot.tg.create_user("Carla")
    await bot.tg.add_member(world.group, carla)
    await bot.settle()
    await bot.handled(await bot.tg.start_private(carla))
    assert "Wijk Oost" in await bot.last_text(carla)
    await bot.tg.remove_member(world.group, carla)
    await bot.settle()
    await bot.say(carla, carla, "/start")
    assert "nog niet mee in een wijkgroep" in await bot.last_text(carla)


async def test_buddy_is_named_and_shown(world: World, bot: Harness) -> None:
    msg = await _reply_to(bot, world.group, world.bert, "Ik ben Bert")
    await bot.say(world.group, world.admin, "/buddy", reply_to=msg)
    assert "Bert is nu de buddy" in await bot.last_text(world.group)
    await bot.say(world.group, world.anna, "/wie")
    assert "Buddy: Bert" in await bot.last_text(world.group)


async def test_private_language_is_personal(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.anna, "/wie")  # the bot has seen Anna in the wijk
    await bot.handled(await bot.tg.start_private(world.anna))
    assert "Wijk Oost" in await bot.last_text(world.anna)
    await bot.say(world.anna, world.anna, "/taal en")
    assert await bot.last_text(world.anna) == "I will speak English with you from now on."
    await bot.say(world.anna, world.anna, "/hulp")
    assert "This is what you can do" in await bot.last_text(world.anna)
    await bot.say(world.group, world.anna, "/hulp")
    assert "Dit kun je doen" in await bot.last_text(world.group)  # the group stays Dutch
    with bot.db.transaction() as uow:
        anna = uow.session.scalar(select(Person).where(Person.tg_user_id == world.anna))
    assert anna is not None and anna.language == "en" and anna.private_ok


async def test_language_buttons_in_private(world: World, bot: Harness) -> None:
    await bot.handled(await bot.tg.start_private(world.bert))
    await bot.say(world.bert, world.bert, "/taal")
    ask = (await bot.tg.messages(world.bert))[-1]
    answer = await bot.press(world.bert, int(ask["message_id"]), world.bert, text="English")
    assert answer is not None
    edited = (await bot.tg.messages(world.bert))[-1]
    assert edited["text"] == "I will speak English with you from now on."


async def test_unknown_language_is_explained(world: World, bot: Harness) -> None:
    await bot.handled(await bot.tg.start_private(world.bert))
    await bot.say(world.bert, world.bert, "/taal klingon")
    assert "Die taal ken ik niet: klingon" in await bot.last_text(world.bert)


async def test_forged_language_button_is_refused(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.admin, "/taal")
    ask = (await bot.tg.messages(world.group))[-1]
    answer = await bot.press(world.group, int(ask["message_id"]), world.anna, data="1:taal:g:xx")
    assert answer is not None and answer.get("show_alert")
    answer = await bot.press(world.group, int(ask["message_id"]), world.anna, data="1:taal:g:en")
    assert answer is not None and "facilitator" in str(answer.get("text"))
    with bot.db.transaction() as uow:
        wijk = uow.session.scalar(select(Wijk).where(Wijk.tg_chat_id == world.group))
    assert wijk is not None and wijk.language == "nl"


async def test_command_menus_are_localized_per_scope(bot: Harness) -> None:
    calls = await bot.tg.calls("setMyCommands")
    menus = {}
    for call in calls:
        params = call["params"]
        scope = params.get("scope", {}).get("type")
        menus[(scope, params.get("language_code"))] = [c["command"] for c in params["commands"]]
    assert "hulp" in menus[("all_private_chats", "nl")]
    assert "help" in menus[("all_private_chats", "en")]
    assert "facilitator" not in menus[("all_group_chats", "nl")]
    assert "facilitator" in menus[("all_chat_administrators", "nl")]
    assert "appoint" in menus[("all_chat_administrators", "en")]


async def test_refusals_in_a_group_use_the_wijk_language(world: World, bot: Harness) -> None:
    sam = await bot.tg.create_user("Sam", language_code="en")
    await bot.tg.add_member(world.group, sam)
    await bot.settle()
    await bot.say(world.group, sam, "/steun abc")
    assert "Welk idee bedoel je?" in await bot.last_text(world.group)


async def test_private_chat_falls_back_to_the_wijk_language(bot: Harness) -> None:
    w = await World(bot).build(title="Riverside", lang="en")
    lina = await bot.tg.create_user("Lina", language_code="tr")
    await bot.tg.add_member(w.group, lina)
    await bot.settle()
    await bot.handled(await bot.tg.start_private(lina))
    assert "Hi Lina!" in await bot.last_text(lina)


async def test_a_demoted_admin_is_no_admin_on_the_other_replicas_either(
    world: World, bot: Harness
) -> None:
    """Telegram tells one replica that the admins changed; the others must not go on
    trusting what they kept (PostgreSQL, where replicas share a database)."""
    if bot.db.dialect != "postgresql":
        pytest.skip("replicas share a PostgreSQL database: run with BUDDYBOT_TEST_DB=postgresql")

    await bot.tg.promote(world.group, world.bert, by=world.admin)
    await bot.settle()
    other = Harness(bot.server, bot.tg, bot.settings, bot.clock)
    await other.start(polling=False)  # a second replica: same database, same Telegram
    try:
        admins = other.deps.admins
        async with asyncio.timeout(10):
            await admins.wait_listening()
        assert await admins.is_admin(other.app.bot, world.group, world.bert)  # now kept
        heard = admins.heard
        await bot.tg.demote(world.group, world.bert, by=world.admin)
        await bot.settle()  # the first replica gets the chat_member update
        async with asyncio.timeout(10):
            await admins.wait_heard(heard + 1)
        assert not await admins.is_admin(other.app.bot, world.group, world.bert)
    finally:
        await other.close()
