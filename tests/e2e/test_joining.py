"""The bot joins a group, greets it, leaves, comes back; the group migrates."""

from __future__ import annotations

from sqlalchemy import func, select

from buddybot.storage.models import Membership, Wijk
from tests.support.harness import Harness, World


async def _wijk(bot: Harness, chat_id: int) -> Wijk | None:
    with bot.db.transaction() as uow:
        return uow.session.scalar(select(Wijk).where(Wijk.tg_chat_id == chat_id))


async def test_added_to_a_group_it_registers_the_wijk_and_greets(
    world: World, bot: Harness
) -> None:
    greeting = await bot.last_text(world.group)
    assert "buddy van de wijk" in greeting
    assert "Een wijkkampioen is" in greeting  # the word is explained the first time
    assert "maak mij beheerder" not in greeting  # it already is an admin
    wijk = await _wijk(bot, world.group)
    assert wijk is not None and wijk.active and wijk.language == "nl"


async def test_without_admin_rights_it_asks_for_them(bot: Harness) -> None:
    w = await World(bot).build(title="Westwijk", admin_bot=False)
    assert "maak mij beheerder" in await bot.last_text(w.group)


async def test_english_speaking_admin_gets_an_english_wijk(bot: Harness) -> None:
    w = await World(bot).build(title="Riverside", lang="en")
    assert "neighbourhood buddy" in await bot.last_text(w.group)
    wijk = await _wijk(bot, w.group)
    assert wijk is not None and wijk.language == "en"


async def test_removed_it_goes_quiet_and_keeps_everything_then_comes_back(
    world: World, bot: Harness
) -> None:
    await bot.say(world.group, world.anna, "/wie")
    await bot.tg.remove_bot(world.group, by=world.admin)
    await bot.tg.add_member(world.group, world.bert)  # an update the bot can no longer see
    await bot.settle()
    with bot.db.transaction() as uow:
        wijk = uow.session.scalar(select(Wijk).where(Wijk.tg_chat_id == world.group))
        assert wijk is not None and not wijk.active
        members = uow.session.scalar(
            select(func.count()).select_from(Membership).where(Membership.wijk_id == wijk.id)
        )
    assert members == 2  # Fatima (added the bot) and Anna (spoke)

    before = len(await bot.texts(world.group))
    await bot.tg.add_bot(world.group, by=world.admin)
    await bot.settle()
    assert "Ik ben er weer" in await bot.last_text(world.group)
    assert len(await bot.texts(world.group)) == before + 1
    wijk2 = await _wijk(bot, world.group)
    assert wijk2 is not None and wijk2.active and wijk2.id == wijk.id


async def test_migration_to_supergroup_keeps_the_wijk_and_its_people(
    world: World, bot: Harness
) -> None:
    await bot.say(
        world.group,
        world.admin,
        "/facilitator",
        reply_to=(await bot.tg.send_message(world.group, world.anna, "Ik help graag mee"))[
            "message"
        ]["message_id"],
    )
    before = await _wijk(bot, world.group)
    assert before is not None
    new_id = await bot.tg.migrate_group(world.group)
    update = await bot.say(new_id, world.bert, "/wie")
    reply = await bot.tg.wait_for_message(new_id)
    assert "Anna" in str(reply["text"]), update
    after = await _wijk(bot, new_id)
    assert after is not None and after.id == before.id and after.active
    assert await _wijk(bot, world.group) is None
