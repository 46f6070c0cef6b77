"""Leaving the group ends every role given in the bot, and powers used outside the group
are checked with Telegram where the bot cannot hear of leaves and demotions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from buddybot.fakegram.state import MemberRecord
from buddybot.storage.models import Idea, Involvement, Membership, Person
from tests.support.harness import Harness, World

WEEK = timedelta(days=7)
REPORT = "Wijkfoto van"
NOT_FOR_YOU = "voor facilitators"


async def _appoint(bot: Harness, world: World, user: int) -> None:
    msg = await bot.tg.send_message(world.group, user, "Ik help graag")
    await bot.say(world.group, world.admin, "/facilitator", reply_to=msg["message"]["message_id"])
    assert "nu facilitator" in await bot.last_text(world.group)


def _membership(bot: Harness, user: int) -> tuple[str, bool]:
    with bot.db.transaction() as uow:
        row = uow.session.execute(
            select(Membership.role, Membership.left)
            .join(Person, Person.id == Membership.person_id)
            .where(Person.tg_user_id == user)
        ).one()
    return row.role, row.left


async def _private_report(bot: Harness, user: int) -> str:
    await bot.say(user, user, "/wijkfoto")
    return "\n".join(await bot.texts(user))


def _gone_unseen(bot: Harness, world: World, user: int) -> None:
    """Telegram removes ``user`` and tells the bot nothing (it is no admin, and big groups
    hide the service message)."""
    bot.server.state.chats[world.group].members[user] = MemberRecord(user, "kicked")


async def test_a_removed_facilitator_loses_the_role_and_rejoining_gives_nothing_back(
    world: World, bot: Harness
) -> None:
    await _appoint(bot, world, world.anna)
    await bot.handled(await bot.tg.start_private(world.anna))
    assert REPORT in await _private_report(bot, world.anna)

    await bot.tg.remove_member(world.group, world.anna, kicked=True, by=world.admin)
    await bot.settle()
    assert _membership(bot, world.anna) == ("resident", True)
    await bot.say(world.anna, world.anna, "/wijkfoto")
    assert NOT_FOR_YOU in await bot.last_text(world.anna)

    await bot.tg.add_member(world.group, world.anna, by=world.admin)
    await bot.settle()
    await bot.say(world.group, world.anna, "/taal en")
    assert "alleen een facilitator" in await bot.last_text(world.group)
    assert _membership(bot, world.anna) == ("resident", False)


async def test_leaving_ends_a_championship(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.bert, "/idee Bankjes bij de speeltuin")
    await bot.say(world.group, world.anna, "/kampioen 1")
    await bot.tg.remove_member(world.group, world.anna, by=world.anna)
    await bot.settle()
    with bot.db.transaction() as uow:
        assert uow.session.scalars(select(Involvement.kind)).all().count("champion") == 0
    card = next(m for m in await bot.tg.messages(world.group) if "Bankjes" in str(m.get("text")))
    assert "Anna" not in str(card["text"])


async def test_without_admin_rights_the_leave_message_still_ends_the_role(bot: Harness) -> None:
    world = await World(bot).build(admin_bot=False)
    await _appoint(bot, world, world.anna)
    await bot.handled(await bot.tg.start_private(world.anna))
    assert REPORT in await _private_report(bot, world.anna)
    await bot.tg.remove_member(world.group, world.anna, kicked=True, by=world.admin)
    await bot.settle()
    assert _membership(bot, world.anna) == ("resident", True)


async def test_without_admin_rights_a_private_power_asks_telegram(bot: Harness) -> None:
    """The bot is no admin: it hears of no leave (here not even the service message) and
    of no demotion. Powers used in private are checked with Telegram all the same."""
    world = await World(bot).build(admin_bot=False)
    await _appoint(bot, world, world.anna)
    await bot.tg.promote(world.group, world.bert, by=world.admin)
    await bot.settle()
    await bot.say(world.group, world.bert, "Hallo")  # the bot knows Bert lives here
    for user in (world.anna, world.bert):
        await bot.handled(await bot.tg.start_private(user))
        assert REPORT in await _private_report(bot, user), user

    _gone_unseen(bot, world, world.anna)
    await bot.tg.demote(world.group, world.bert, by=world.admin)
    await bot.settle()
    await bot.say(world.anna, world.anna, "/wijkfoto")
    assert NOT_FOR_YOU in await bot.last_text(world.anna)
    assert _membership(bot, world.anna) == ("resident", True)
    await bot.say(world.bert, world.bert, "/wijkfoto")
    assert NOT_FOR_YOU in await bot.last_text(world.bert)


async def test_the_facilitators_nudge_skips_one_who_left_unseen(bot: Harness) -> None:
    world = await World(bot).build(admin_bot=False)
    await bot.say(world.group, world.bert, "/idee Moestuin op het plein")
    await _appoint(bot, world, world.anna)
    for user in (world.anna, world.admin):
        await bot.handled(await bot.tg.start_private(user))
    _gone_unseen(bot, world, world.anna)
    start = bot.clock.now()
    for weeks in (1, 2, 3):
        bot.clock.set(start + weeks * WEEK)
        await bot.tick()
    assert "ligt al lang stil" in await bot.last_text(world.admin)  # the facilitators' rung
    assert not any("ligt al lang stil" in t for t in await bot.texts(world.anna))


async def _last(bot: Harness, chat: int) -> dict[str, object]:
    return (await bot.tg.messages(chat))[-1]


async def test_without_admin_rights_a_champion_who_left_unseen_has_no_private_powers(
    bot: Harness,
) -> None:
    """The bot is no admin and hears of no leave. A champion removed from the group asks
    for the kit (the helpers' contacts) and answers a helper's news from a private chat:
    Telegram is asked, and both are refused."""
    world = await World(bot).build(admin_bot=False)
    carla = await bot.tg.create_user("Carla")
    await bot.tg.add_member(world.group, carla, by=world.admin)
    await bot.settle()
    for user in (world.anna, carla):
        await bot.handled(await bot.tg.start_private(user))
    await bot.say(world.group, world.bert, "/idee Moestuin op het plein")
    await bot.say(world.group, world.anna, "/kampioen 1")
    await bot.say(world.group, carla, "/meedoen 1")
    await bot.say(world.group, carla, "/bijwerken 1 Ik heb zaden gekocht")
    ask = await _last(bot, world.anna)
    assert "Carla wil nieuws plaatsen over #1" in str(ask["text"])
    with bot.db.transaction() as uow:
        idea_id = uow.session.scalar(select(Idea.id))

    _gone_unseen(bot, world, world.anna)
    answer = await bot.press(
        world.anna, int(str(ask["message_id"])), world.anna, text="✅ Plaats het nieuws"
    )
    assert answer is not None and answer.get("show_alert")
    assert not any(t.startswith("📣 Nieuws over") for t in await bot.texts(world.group))
    await bot.handled(await bot.tg.start_private(world.anna, payload=f"kit_{idea_id}"))
    kit = await bot.last_text(world.anna)
    assert "Je bent wijkkampioen" not in kit and "Carla" not in kit
    assert _membership(bot, world.anna) == ("resident", True)
    # The card in the group no longer names her as its champion.
    await bot.settle()
    card = next(m for m in await bot.tg.messages(world.group) if m["text"].startswith("💡"))
    assert "Anna" not in card["text"], card["text"]
