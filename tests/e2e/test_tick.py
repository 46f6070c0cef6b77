"""The due-work tick: on time, once, after a restart, after downtime, after errors."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from buddybot.scheduling import due
from buddybot.storage.models import DueItem, Wijk
from tests.support.harness import Harness, World


def _plan(bot: Harness, chat_id: int, key: str, text: str, after: timedelta) -> None:
    with bot.db.transaction() as uow:
        wijk = uow.session.scalar(select(Wijk).where(Wijk.tg_chat_id == chat_id))
        assert wijk is not None
        due.plan(
            uow,
            kind="notice",
            key=key,
            due_at=uow.now + after,
            wijk_id=wijk.id,
            payload={"key": "notice.text", "params": {"text": text}},
        )


def _status(bot: Harness, key: str) -> str:
    with bot.db.transaction() as uow:
        item = uow.session.scalar(select(DueItem).where(DueItem.key == key))
        assert item is not None
        return item.status


async def _notices(bot: Harness, chat_id: int) -> list[str]:
    return [t for t in await bot.texts(chat_id) if t.startswith("📣")]


async def test_sent_when_due_and_never_twice(world: World, bot: Harness) -> None:
    _plan(bot, world.group, "n1", "Koffie <om> 10 uur", timedelta(hours=1))
    assert await bot.tick() == 0
    bot.clock.advance(timedelta(hours=1))
    assert await bot.tick() == 1
    assert await _notices(bot, world.group) == ["📣 Koffie <om> 10 uur"]
    assert await bot.tick() == 0
    assert await _notices(bot, world.group) == ["📣 Koffie <om> 10 uur"]
    assert _status(bot, "n1") == "done"


async def test_a_restart_between_planning_and_sending_loses_nothing(
    world: World, bot: Harness
) -> None:
    _plan(bot, world.group, "n1", "Na de herstart", timedelta(minutes=30))
    await bot.restart()
    bot.clock.advance(timedelta(minutes=31))
    await bot.tick()
    await bot.restart()
    await bot.tick()
    assert await _notices(bot, world.group) == ["📣 Na de herstart"]


async def test_catch_up_after_downtime_in_order(world: World, bot: Harness) -> None:
    for i, hours in enumerate([3, 1, 2]):
        _plan(bot, world.group, f"n{i}", f"bericht {hours}", timedelta(hours=hours))
    await bot.stop()
    bot.clock.advance(timedelta(days=1))
    await bot.start()
    assert await bot.tick() == 3
    assert await _notices(bot, world.group) == ["📣 bericht 1", "📣 bericht 2", "📣 bericht 3"]


async def test_telegram_error_is_retried_with_backoff(world: World, bot: Harness) -> None:
    _plan(bot, world.group, "n1", "Volhouden", timedelta(0))
    await bot.tg.inject_fault(kind="server_error", method="sendMessage", chat_id=world.group)
    await bot.tick()
    assert await _notices(bot, world.group) == []
    assert _status(bot, "n1") == "pending"
    await bot.tick()
    assert await _notices(bot, world.group) == []  # waits for the backoff
    bot.clock.advance(timedelta(seconds=31))
    await bot.tick()
    assert await _notices(bot, world.group) == ["📣 Volhouden"]


async def test_a_migrated_group_is_followed_to_its_new_id(world: World, bot: Harness) -> None:
    _plan(bot, world.group, "n1", "Nieuw adres", timedelta(0))
    await bot.stop()
    new_id = await bot.tg.migrate_group(world.group)
    await bot.start(polling=False)  # the bot has not seen the migration yet
    await bot.tick()
    assert await _notices(bot, new_id) == ["📣 Nieuw adres"]
    with bot.db.transaction() as uow:
        wijk = uow.session.scalar(select(Wijk).where(Wijk.tg_chat_id == new_id))
    assert wijk is not None and wijk.active


async def test_a_group_that_removed_the_bot_is_deactivated(world: World, bot: Harness) -> None:
    _plan(bot, world.group, "n1", "Niemand hoort dit", timedelta(0))
    await bot.stop()
    await bot.tg.remove_bot(world.group, by=world.admin)
    await bot.start(polling=False)
    await bot.tick()
    assert _status(bot, "n1") == "skipped"
    with bot.db.transaction() as uow:
        wijk = uow.session.scalar(select(Wijk).where(Wijk.tg_chat_id == world.group))
    assert wijk is not None and not wijk.active
